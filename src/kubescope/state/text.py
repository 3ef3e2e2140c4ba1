"""Primitives for writing exposition text exactly as kube-state-metrics does.

Everything here is pure and fast: family modules call these per object change, never per scrape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from math import floor

from kubescope.model.gofmt import go_float

gf = go_float
"""Format a sample value (Go ``'g'`` shortest, with KSM's special cases)."""

_INVALID_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9_]")
_ALL_CAP = re.compile(r"([a-z0-9])([A-Z])")


def esc(v: str) -> str:
    """Escape a label value: only backslash, newline and double quote, as KSM does."""
    if "\\" in v or '"' in v or "\n" in v:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return v


def escape_help(h: str) -> str:
    """Escape HELP text: backslash and newline."""
    return h.replace("\\", "\\\\").replace("\n", "\\n")


_GO_ZERO_YEAR = 1


def ts(t: datetime | None) -> int | None:
    """Unix seconds of a timestamp (Go ``Time.Unix()``), or None when unset.

    A time without an offset is read as UTC (the API always sends UTC).
    """
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() // 1)


GO_ZERO_TIME_TEXT = "-6.21355968e+10"
"""``float64(time.Time{}.Unix())`` as KSM prints it: a timestamp the API left unset."""


@lru_cache(maxsize=8192)
def unix_text(d: datetime | None) -> str:
    """The sample text of a timestamp's unix seconds (Go ``Time.Unix()``, floored); an unset one is
    Go's zero time. Memoised: one object repeats the same few timestamps across its conditions and
    containers, and the objects of one rollout share them."""
    if d is None:
        return GO_ZERO_TIME_TEXT
    v = floor(d.timestamp())
    if 1_000_000_000 <= v < 10_000_000_000:  # every date from 2001 to 2286: Go prints d.ddde+09
        s = str(v).rstrip("0")
        return f"{s[0]}.{s[1:]}e+09" if len(s) > 1 else f"{s}e+09"
    return gf(v)


def is_go_zero(t: datetime | None) -> bool:
    """Unset or ``0001-01-01T00:00:00Z``: what KSM's ``Time.IsZero()`` checks treat as absent."""
    return t is None or (
        t.year == _GO_ZERO_YEAR
        and t.month == 1
        and t.day == 1
        and t.hour == 0
        and t.minute == 0
        and t.second == 0
    )


@lru_cache(maxsize=4096)
def sanitize_label_name(s: str) -> str:
    """``SanitizeLabelName``: every char outside ``[a-zA-Z0-9_]`` becomes ``_`` (case kept)."""
    return _INVALID_LABEL_CHAR.sub("_", s)


def to_snake_case(s: str) -> str:
    return _ALL_CAP.sub(r"\1_\2", s).lower()


def label_name(prefix: str, key: str) -> str:
    """The Prometheus label name KSM derives from a Kubernetes label/annotation key."""
    return prefix + "_" + to_snake_case(sanitize_label_name(key))


def map_to_prometheus_labels(prefix: str, data: Mapping[str, str]) -> list[tuple[str, str]]:
    """KSM's ``mapToPrometheusLabels``: sorted keys, sanitized names, ``_conflictN`` suffixes."""
    names: list[str] = []
    values: list[str] = []
    used: dict[str, int] = {}
    conflicts: dict[str, int] = {}

    def next_free(base: str, count: int) -> tuple[str, int]:
        while True:
            count += 1
            candidate = f"{base}_conflict{count}"
            if candidate not in used:
                return candidate, count

    for k in sorted(data):
        base = label_name(prefix, k)
        name = base
        if base in conflicts:
            name, conflicts[base] = next_free(base, conflicts[base])
        elif name in used:
            idx = used.pop(name)
            renamed, count = next_free(base, 0)
            names[idx] = renamed
            used[renamed] = idx
            name, conflicts[base] = next_free(base, count)
        used[name] = len(names)
        names.append(name)
        values.append(data[k])
    return list(zip(names, values, strict=True))


def labels_text(pairs: Iterable[tuple[str, str]]) -> str:
    """``,k1="v1",k2="v2"`` (leading comma) for appending after identity labels."""
    return "".join(f',{k}="{esc(v)}"' for k, v in pairs)


_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def _is_qualified_name(s: str) -> bool:
    """apimachinery's IsQualifiedName: optional DNS-subdomain prefix, '/', a name of <= 63 chars."""
    prefix, sep, name = s.rpartition("/")
    if sep and (
        not prefix or len(prefix) > 253 or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", prefix)
    ):
        return False
    return 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


def is_extended_resource(name: str) -> bool:
    """``isExtendedResourceName``: a domain-prefixed, non-native resource such as nvidia.com/gpu."""
    native = "/" not in name or "kubernetes.io/" in name
    if native or name.startswith("requests."):
        return False
    return _is_qualified_name("requests." + name)


@lru_cache(maxsize=1024)
def resource_units(name: str, *, node: bool) -> tuple[str, ...]:
    """The ``unit`` labels KSM reports a resource under in node capacity/allocatable (``node``) and
    in pod container requests/limits; none: the resource gets no series.

    KSM's checks after the fixed names are independent, so ``hugepages-x.io/y`` (a huge page and
    an extended resource) gets a ``byte`` and an ``integer`` series. ``pods`` counts only on nodes.
    """
    if name == "cpu":
        return ("core",)
    if name in ("memory", "storage", "ephemeral-storage"):
        return ("byte",)
    if name == "pods":
        return ("integer",) if node else ()
    units = []
    if name.startswith("hugepages-"):
        units.append("byte")
    if name.startswith("attachable-volumes-"):
        units.append("byte")
    if is_extended_resource(name):
        units.append("integer")
    return tuple(units)


def scaled_int_or_percent(v: int | str | None, total: int, round_up: bool) -> int | None:
    """apimachinery's ``GetScaledValueFromIntOrPercent``; None where Go returns an error."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if not v.endswith("%"):
        return None
    try:
        pct = int(v[:-1])
    except ValueError:
        return None
    x = pct * total
    if round_up:
        return -((-x) // 100)
    return x // 100
