"""Custom Resource State (CRS): kube-state-metrics' config-driven metrics for custom resources.

A YAML configuration (``kind: CustomResourceStateMetrics``, KSM's schema) names custom resources by
group/version/kind and says which fields become gauges, state sets or info series. This module is
pure: it parses and validates the configuration (:func:`parse_config`), resolves wildcard versions
and kinds against discovered CRDs (:func:`crd_kinds`, :func:`resolve`) and compiles every resource
into a :class:`CustomResourceSpec`, a :class:`~kubescope.state.family.ResourceSpec` whose families
render untyped objects (:class:`Unstructured`: the JSON object as plain dicts and lists, plus its
typed metadata for the store). Semantics follow KSM v2.20 ``pkg/customresourcestate`` exactly,
including its quirks (see the notes at each step).

Example: with ``{group: myteam.io, version: v1, kind: Foo}``, ``labelsFromPath: {name: [metadata,
name]}`` and a gauge on ``[status, uptime]`` named ``uptime``::

    # HELP kube_customresource_uptime Foo uptime
    # TYPE kube_customresource_uptime gauge
    kube_customresource_uptime{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",name="foo"} 43.21

Labels of a series are sorted by name (KSM sorts them); there are no identity labels. ``Info``
and ``StateSet`` families keep their TYPE in OpenMetrics and are written as ``gauge`` in text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import msgspec
import yaml

from kubescope.errors import ConfigError
from kubescope.model.meta import ObjectMeta
from kubescope.state.family import Family, FamilyOptions, MetricType, ResourceSpec
from kubescope.state.text import esc, gf, sanitize_label_name

DEFAULT_PREFIX = "kube_customresource"
LABEL_GROUP = "customresource_group"
LABEL_VERSION = "customresource_version"
LABEL_KIND = "customresource_kind"
CONFIG_KIND = "CustomResourceStateMetrics"

CRSType = Literal["gauge", "info", "stateset"]
ErrorSink = Callable[[str, str, int], None]
"""``on_error(family_name, message, error_log_v)``: what KSM logs at verbosity ``errorLogV``."""

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


# --- Go value semantics ----------------------------------------------------------------------
# Objects are what Kubernetes' unstructured JSON decoding gives KSM: JSON integers are int64,
# other numbers float64. Python's json gives int and float, so the two line up.


def go_string(v: Any) -> str:
    """``fmt.Sprintf("%v", v)`` of an unstructured value: how KSM turns a field into a label value."""
    if isinstance(v, str):
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "<nil>"
    if isinstance(v, int):
        if _INT64_MIN <= v <= _INT64_MAX:
            return str(v)
        v = float(v)  # Go decodes integers beyond int64 as float64
    if isinstance(v, float):
        if v == 0 and math.copysign(1.0, v) < 0:
            return "-0"
        return gf(v)
    if isinstance(v, dict):
        return "map[" + " ".join(f"{go_string(k)}:{go_string(v[k])}" for k in sorted(v, key=go_string)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_string(x) for x in v) + "]"
    return str(v)


def go_type_name(v: Any) -> str:
    """``%T`` of an unstructured value, as in KSM's error messages."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64" if _INT64_MIN <= v <= _INT64_MAX else "float64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    return type(v).__name__


_P10 = [float(f"1e{i}") for i in range(32)]
_P10_POS32 = [float(f"1e{32 * i}") for i in range(10)]
_P10_NEG32 = [float(f"1e-{32 * i}") for i in range(11)]


def go_pow10(n: int) -> float:
    """Go's ``math.Pow10``, table for table, so products round exactly as in KSM."""
    if 0 <= n <= 308:
        return _P10_POS32[n // 32] * _P10[n % 32]
    if -323 <= n <= 0:
        return _P10_NEG32[-n // 32] / _P10[-n % 32]
    return math.inf if n > 0 else 0.0


def _big_to_float(v: int) -> float:
    """``big.Float.SetInt(v).Float64()``: nearest-even, and infinite instead of an overflow error."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


_DEC_SUFFIX = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BIN_SUFFIX = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_GO_INT = re.compile(r"^[+-]?[0-9]+$")
_MAX_INT64_FACTORS = 18
_NANO_SCALE = 9


def _go_parse_int64(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)``: optional sign, ASCII digits, int64 range."""
    if not _GO_INT.match(s):
        return None
    v = int(s)
    return v if _INT64_MIN <= v <= _INT64_MAX else None


def _scan_quantity(s: str) -> tuple[bool, str, str, str, str] | None:
    """apimachinery's ``parseQuantityString``: (positive, value, num, denom, suffix) or None."""
    positive = True
    pos = 0
    end = len(s)
    if end and s[0] in "+-":
        positive = s[0] != "-"
        pos = 1
    while True:  # leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, s, s[pos:], "", ""
    num = s[pos:i] or "0"
    pos = i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and s[i] in _DIGITS:
            i += 1
        denom = s[pos:i]
        if i >= end:
            return positive, s, num, denom, ""
        pos = i
    value = s[:pos]
    start = pos
    i = pos
    while i < end and s[i] in _SUFFIX_CHARS:
        i += 1
    if i >= end:
        return positive, value, num, denom, s[start:]
    pos = i
    if s[pos] in "+-":
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, value, num, denom, s[start:]
    return None


def quantity_float(s: str) -> float | None:
    """``resource.ParseQuantity(s)`` then ``AsApproximateFloat64()``, bit for bit; None if invalid.

    The float depends on how Go holds the parsed amount (an int64 with a decimal scale, or an
    arbitrary-precision decimal rounded up to nano), so both paths are reproduced: ``"0.3"`` gives
    ``0.30000000000000004`` as in KSM.
    """
    if not s:
        return None
    if s == "0":
        return 0.0
    scanned = _scan_quantity(s)
    if scanned is None:
        return None
    positive, value, num, denom, suffix = scanned
    if suffix in _DEC_SUFFIX:
        base, exponent, binary = 10, _DEC_SUFFIX[suffix], False
    elif suffix in _BIN_SUFFIX:
        base, exponent, binary = 2, _BIN_SUFFIX[suffix], True
    elif len(suffix) > 1 and suffix[0] in "eE":
        parsed = _go_parse_int64(suffix[1:])
        if parsed is None:
            return None
        base, exponent, binary = 10, ((parsed + (1 << 31)) % (1 << 32)) - (1 << 31), False  # int32()
    else:
        return None
    mantissa = 1
    if not binary:
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))
    elif not denom:
        scale = 0
        mantissa = 1 << exponent
        precision = 15 - len(num) - (exponent * 3) // 10 - 1
    else:
        scale = 0
        precision = -1
    if precision >= 0:
        scale -= len(denom)
        if scale >= -_NANO_SCALE:
            digits = _go_parse_int64(num + denom)
            if digits is None:
                return None
            result = digits * mantissa
            if _INT64_MIN <= result <= _INT64_MAX:
                f = float(-result if not positive else result)
                return f if scale == 0 else f * go_pow10(scale)
    # arbitrary precision: inf.Dec of the number, suffix applied, rounded up (away from 0) to nano
    body = value.lstrip("+-")
    ip, _, fp = body.partition(".")
    if not (ip + fp) or not (ip + fp).isascii() or not (ip + fp).isdigit():
        return None
    unscaled = int(ip + fp)
    dscale = len(fp)
    if base == 10:
        dscale -= exponent
    else:
        unscaled <<= exponent
    if unscaled:
        if dscale <= _NANO_SCALE:
            unscaled *= 10 ** (_NANO_SCALE - dscale)
        else:
            q, r = divmod(unscaled, 10 ** (dscale - _NANO_SCALE))
            unscaled = q + (1 if r else 0)
        dscale = _NANO_SCALE
    if binary and unscaled > _INT64_MAX * 10**dscale:
        unscaled, dscale = _INT64_MAX, 0  # BinarySI is capped at 2^63-1
    if not positive:
        unscaled = -unscaled
    f = _big_to_float(unscaled)
    return f if dscale == 0 else f * go_pow10(-dscale)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_RFC3339 = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def rfc3339_unix(s: str) -> int | None:
    """``time.Parse(time.RFC3339, s).Unix()``; None when Go rejects the string.

    Fractional seconds are accepted and dropped (Go accepts them although the layout has none);
    out-of-range fields (month 13, February 30, hour 24, second 60, offset hour 24) are errors.
    """
    m = _RFC3339.match(s)
    if m is None:
        return None
    year, month, day, hour, minute, sec = (int(g) for g in m.groups()[:6])
    tz = m.group(7)
    if not (
        1 <= month <= 12 and 1 <= day <= _days_in(month, year) and hour < 24 and minute < 60 and sec < 60
    ):
        return None
    offset = 0
    if tz != "Z":
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            return None
        offset = (oh * 60 + om) * 60 * (-1 if tz[0] == "-" else 1)
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + sec - offset


_PERCENT = re.compile(r"^[0-9]+%$")
_GO_DECIMAL_FLOAT = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_GO_HEX_FLOAT = re.compile(r"^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$")
_GO_INF = re.compile(r"^[+-]?(?:inf|infinity)$", re.IGNORECASE)


def go_parse_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)`` for decimal, hexadecimal (``0x1p-2``), Inf and NaN forms.

    Digit separators (``_``, only legal after a base prefix in Go) are not supported.
    """
    if _GO_DECIMAL_FLOAT.match(s):
        v = float(s)
        return None if math.isinf(v) else v  # Go: "value out of range"
    if _GO_HEX_FLOAT.match(s):
        try:
            return float.fromhex(s)
        except OverflowError:
            return None
    if _GO_INF.match(s):
        return -math.inf if s[0] == "-" else math.inf
    if s.lower() == "nan":
        return math.nan
    return None


class CRSError(Exception):
    """A path that does not compile or a field that is not a number (message as KSM words it)."""


def to_float(value: Any, nil_is_zero: bool) -> float:
    """KSM's ``toFloat64``: numbers, bools, ``true/yes`` -> 1, ``false/no/unknown`` -> 0, RFC 3339
    times -> unix seconds, quantities (``250m``, ``5Gi``), percentages (``28%`` -> 0.28), then any
    Go float syntax. Raises :class:`CRSError` otherwise.
    """
    if value is None:
        if nil_is_zero:
            return 0.0
        raise CRSError("expected number but found nil value")
    if value is True:
        return 1.0
    if value is False:
        return 0.0
    if isinstance(value, str):
        low = value.lower()
        if low in ("true", "yes"):
            return 1.0
        if low in ("false", "no", "unknown"):
            return 0.0
        t = rfc3339_unix(value)
        if t is not None:
            return float(t)
        q = quantity_float(value)
        if q is not None:
            return q
        if _PERCENT.match(value):
            return float(value[:-1]) / 100
        f = go_parse_float(value)
        if f is None:
            raise CRSError(f'strconv.ParseFloat: parsing "{value}": invalid syntax')
        return f
    if isinstance(value, int):
        return float(value) if _INT64_MIN <= value <= _INT64_MAX else _big_to_float(value)
    if isinstance(value, float):
        return value
    raise CRSError(f"expected number but was {go_string(value)}")


def _to_float_or_none(value: Any) -> float | None:
    try:
        return to_float(value, False)
    except CRSError:
        return None


def _go_parse_bool(s: str) -> bool | None:
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


# --- paths -----------------------------------------------------------------------------------

PathOp = Callable[[Any], Any]


def _list_lookup(part: str) -> PathOp:
    inner = part[1:-1]
    key, eq, val = inner.partition("=")
    if not eq:
        raise CRSError(f"invalid list lookup: {part}")
    num = _to_float_or_none(val)
    boolean = _go_parse_bool(val)

    def op(m: Any) -> Any:
        if not isinstance(m, list):
            return None
        for v in m:
            if not isinstance(v, dict) or key not in v:
                continue
            candidate = v[key]
            if isinstance(candidate, str) and candidate == val:
                return v
            if num is not None:
                c = _to_float_or_none(candidate)
                if c is not None and c == num:
                    return v
            if boolean is not None and isinstance(candidate, bool) and candidate == boolean:
                return v
        return None

    return op


def _field(part: str) -> PathOp:
    kv = part.split("=")
    match = (kv[0], kv[1]) if len(kv) == 2 else None
    index = _go_parse_int64(part)

    def op(m: Any) -> Any:
        if isinstance(m, dict):
            if match is not None:
                v = m.get(match[0])
                if isinstance(v, str) and v == match[1]:
                    return v
            return m.get(part)
        if isinstance(m, list):
            if index is None:
                return None
            i = index + len(m) if index < 0 else index
            return m[i] if 0 <= i < len(m) else None
        return None

    return op


class ValuePath:
    """A compiled path: ``[spec, replicas]``, ``[spec, order, "0"]``, ``[status, conditions,
    "[type=Ready]", status]``, ``[metadata, "name=foo"]``; a missing step yields None."""

    __slots__ = ("_ops", "parts")

    def __init__(self, parts: Sequence[str]) -> None:
        self.parts = tuple(parts)
        self._ops = tuple(
            _list_lookup(p) if p.startswith("[") and p.endswith("]") else _field(p) for p in self.parts
        )

    def get(self, obj: Any) -> Any:
        for op in self._ops:
            if obj is None:
                return None
            obj = op(obj)
        return obj

    def __len__(self) -> int:
        return len(self.parts)

    def __str__(self) -> str:
        return "[" + ",".join(self.parts) + "]"

    def __repr__(self) -> str:
        return f"ValuePath({list(self.parts)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValuePath) and other.parts == self.parts

    def __hash__(self) -> int:
        return hash(self.parts)


def compile_path(parts: Sequence[str]) -> ValuePath:
    """Compile a path; raises :class:`CRSError` for a list lookup without ``key=value``."""
    return ValuePath(parts)


class LabelPaths:
    """Compiled ``labelsFromPath``: ``*``/``prefix_*`` entries copy a whole map (first, in sorted
    order), then single fields override them; names are sanitized (``[^a-zA-Z0-9_]`` -> ``_``)."""

    __slots__ = ("_plain", "_stars", "paths")

    def __init__(self, paths: Mapping[str, ValuePath]) -> None:
        self.paths = dict(paths)
        stars = sorted(k for k in paths if k.startswith("*") or k.endswith("*"))
        self._stars = tuple((k[:-1] if k.endswith("*") else "", paths[k]) for k in stars)
        self._plain = tuple(
            (sanitize_label_name(k), paths[k])
            for k in sorted(paths)
            if not (k.startswith("*") or k.endswith("*"))
        )

    def add(self, obj: Any, out: dict[str, str]) -> None:
        """KSM's ``addPathLabels``."""
        for prefix, path in self._stars:
            m = path.get(obj)
            if isinstance(m, dict):
                for k, v in m.items():
                    out[sanitize_label_name(prefix + k)] = go_string(v)
        for name, path in self._plain:
            v = path.get(obj)
            if v is not None:
                out[name] = go_string(v)

    def __bool__(self) -> bool:
        return bool(self.paths)


# --- compiled metrics ------------------------------------------------------------------------

Labels = dict[str, str]
EachValue = tuple[Labels, float]


def _compare_key(ev: EachValue) -> list[tuple[str, str]]:
    # KSM's compareLabels: key by key, then value, over sorted keys; a prefix sorts first
    return sorted(ev[0].items())


class CompiledEach:
    """One ``each`` block: where to look (``path``) and how to turn what is there into values."""

    type: CRSType

    def __init__(self, path: ValuePath, labels: LabelPaths) -> None:
        self.path = path
        self.labels = labels

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        raise NotImplementedError


class CompiledGauge(CompiledEach):
    type: CRSType = "gauge"

    def __init__(
        self,
        path: ValuePath,
        labels: LabelPaths,
        value_from: ValuePath,
        nil_is_zero: bool,
        label_from_key: str,
    ) -> None:
        super().__init__(path, labels)
        self.value_from = value_from
        self.nil_is_zero = nil_is_zero
        self.label_from_key = label_from_key
        # KSM matches a map key against a one-element valueFrom by its text ("[ready]" -> "ready")
        only = value_from.parts[0] if len(value_from.parts) == 1 else ""
        self._key_is_value = only if only and "," not in only else None

    def _value(self, it: Any) -> tuple[EachValue | None, str | None]:
        got = self.value_from.get(it)
        if got is None:
            if self.nil_is_zero:
                return ({}, 0.0), None
            if it is None:
                return None, "got nil while resolving path"
            return None, None
        try:
            return ({}, to_float(got, self.nil_is_zero)), None
        except CRSError as e:
            return None, f"{self.value_from}: {e}"

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        out: list[EachValue] = []
        errs: list[str] = []
        where = str(self.path)
        if isinstance(v, dict):
            for key, it in v.items():
                ev: EachValue | None
                if self._key_is_value is not None and key == self._key_is_value:
                    try:
                        ev = ({}, to_float(it, self.nil_is_zero))
                    except CRSError as e:
                        errs.append(f"{where}: [{key}]: {e}")
                        continue
                else:
                    # KSM drops this element silently, even when resolving it failed
                    ev, _ = self._value(it)
                    if ev is None:
                        continue
                labels = ev[0]
                if key and self.label_from_key:
                    labels[self.label_from_key] = key
                self.labels.add(it, labels)
                # then again relative to the map itself: these win
                self.labels.add(v, labels)
                out.append(ev)
        elif isinstance(v, list):
            for i, it in enumerate(v):
                ev, err = self._value(it)
                if err is not None:
                    errs.append(f"{where}: [{i}]: {err}")
                    continue
                if ev is None:
                    continue
                self.labels.add(it, ev[0])
                out.append(ev)
        else:
            ev, err = self._value(v)
            if err is not None:
                errs.append(f"{where}: {err}")
            elif ev is not None:
                self.labels.add(v, ev[0])
                out.append(ev)
        return out, errs


class CompiledInfo(CompiledEach):
    type: CRSType = "info"

    def __init__(self, path: ValuePath, labels: LabelPaths, label_from_key: str) -> None:
        super().__init__(path, labels)
        self.label_from_key = label_from_key

    def _of(self, v: Any) -> list[EachValue]:
        if v is None:
            return []
        labels: Labels = {}
        self.labels.add(v, labels)
        return [(labels, 1.0)] if labels else []

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        if isinstance(v, list):
            return [ev for obj in v for ev in self._of(obj)], []
        if not isinstance(v, dict):
            return self._of(v), []
        whole = self._of(v)
        errs = [
            f"{self.path}: labelFromKey ({self.label_from_key}) generated labels conflict with labelsFromPath, "
            "consider renaming it"
            for labels, _ in whole
            if self.label_from_key in labels
        ]
        out: list[EachValue] = []
        for key, it in v.items():
            labels = {}
            if key and self.label_from_key:
                labels[self.label_from_key] = key
            self.labels.add(it, labels)
            if labels:
                out.append((labels, 1.0))
        out.extend(whole)
        return out, errs


class CompiledStateSet(CompiledEach):
    type: CRSType = "stateset"

    def __init__(
        self,
        path: ValuePath,
        labels: LabelPaths,
        value_from: ValuePath,
        label_name: str,
        states: Sequence[str],
    ) -> None:
        super().__init__(path, labels)
        self.value_from = value_from
        self.label_name = label_name
        self.states = tuple(states)
        full = path.parts + value_from.parts if len(value_from) else path.parts
        self._where = "[" + ",".join(full) + "]"

    def _of(self, v: Any) -> tuple[list[EachValue], list[str]]:
        current = self.value_from.get(v)
        if current is None:
            # not set yet (a status field at creation): no series, no error
            return [], []
        if not isinstance(current, str):
            return [], [f"{self._where}: expected value for path to be string, got {go_type_name(current)}"]
        out: list[EachValue] = []
        for state in self.states:
            labels = {self.label_name: state}
            self.labels.add(v, labels)
            out.append((labels, 1.0 if current == state else 0.0))
        return out, []

    def values(self, v: Any) -> tuple[list[EachValue], list[str]]:
        if not isinstance(v, list):
            return self._of(v)
        out: list[EachValue] = []
        errs: list[str] = []
        for obj in v:
            evs, e = self._of(obj)
            if e:
                errs.extend(e)
                continue
            out.extend(evs)
        return out, errs


def scrape_values(each: CompiledEach, obj: Any) -> tuple[list[EachValue], list[str]]:
    """KSM's ``scrapeValuesFor``: the (each-labels, value) pairs found at ``each.path`` of an
    object, sorted by labels, and the problems KSM would log."""
    found, errs = each.values(each.path.get(obj))
    found.sort(key=_compare_key)
    return found, errs


def _label_text(labels: Mapping[str, str]) -> str:
    return ",".join(f'{k}="{esc(labels[k])}"' for k in sorted(labels))


@dataclass(frozen=True, eq=False)
class CompiledFamily:
    """One configured metric of one resource, ready to render objects."""

    name: str
    help: str
    each: CompiledEach
    common_labels: Mapping[str, str]
    labels: LabelPaths
    error_log_v: int = 0

    def base_labels(self, obj: Mapping[str, Any]) -> Labels:
        out = dict(self.common_labels)
        self.labels.add(obj, out)
        return out

    def values(self, obj: Mapping[str, Any]) -> tuple[list[EachValue], list[str]]:
        return scrape_values(self.each, obj)

    def series(self, obj: Mapping[str, Any]) -> tuple[list[EachValue], list[str]]:
        """Every series' full label set (each-labels win over the base labels) and value."""
        found, errs = self.values(obj)
        if found:
            base = self.base_labels(obj)
            for labels, _ in found:
                for k, v in base.items():
                    labels.setdefault(k, v)
        return found, errs

    def render(self, obj: Mapping[str, Any], lp: str, on_error: ErrorSink | None = None) -> str:
        found, errs = self.series(obj)
        if errs and on_error is not None:
            for e in errs:
                on_error(self.name, e, self.error_log_v)
        out = []
        for labels, value in found:
            if labels:
                out.append(f"{lp}{_label_text(labels)}}} {gf(value)}\n")
            else:
                out.append(f"{lp[:-1]} {gf(value)}\n")
        return "".join(out)

    def family(self, on_error: ErrorSink | None = None) -> Family:
        def fn(o: Unstructured, lp: str) -> str:
            return self.render(o.object, lp, on_error)

        t: MetricType = self.each.type
        return Family(self.name, self.help, t, "ALPHA", fn)


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupVersionKind:
    group: str = ""
    version: str = ""
    kind: str = ""

    def __str__(self) -> str:
        return f"{self.group}_{self.version}_{self.kind}"

    @property
    def wildcard(self) -> bool:
        return self.version in ("", "*") or self.kind in ("", "*")


@dataclass(frozen=True)
class EachConfig:
    """``each``: the type and its settings (only the block of the chosen type is used)."""

    type: CRSType
    path: tuple[str, ...] = ()
    labels_from_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    value_from: tuple[str, ...] = ()
    label_from_key: str = ""
    nil_is_zero: bool = False
    states: tuple[str, ...] = ()
    label_name: str = ""


@dataclass(frozen=True)
class MetricConfig:
    name: str
    help: str
    each: EachConfig
    common_labels: Mapping[str, str] = field(default_factory=dict)
    labels_from_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    error_log_v: int = 0


@dataclass(frozen=True)
class ResourceConfig:
    gvk: GroupVersionKind
    metrics: tuple[MetricConfig, ...] = ()
    metric_name_prefix: str | None = None
    """None (absent or null) means ``kube_customresource``; ``""`` means no prefix."""
    resource_plural: str = ""
    common_labels: Mapping[str, str] = field(default_factory=dict)
    labels_from_path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    error_log_v: int = 0
    namespaced: bool = True
    """From the CRD's scope once resolved; KSM lists per namespace either way."""

    @property
    def prefix(self) -> str:
        return DEFAULT_PREFIX if self.metric_name_prefix is None else self.metric_name_prefix

    @property
    def plural(self) -> str:
        """``resourcePlural``, else the kind pluralized (discovery replaces both: :func:`resolve`)."""
        return self.resource_plural or pluralize(self.gvk.kind).lower()

    def full_name(self, metric: str) -> str:
        return f"{self.prefix}_{metric}" if self.prefix else metric


@dataclass(frozen=True)
class CRSConfig:
    resources: tuple[ResourceConfig, ...] = ()
    warnings: tuple[str, ...] = ()
    """Accepted but suspicious settings (KSM logs some of them); log them once at start."""


_IRREGULAR_PLURALS = {"person": "people", "child": "children", "man": "men", "woman": "women"}


def pluralize(kind: str) -> str:
    """The plural KSM falls back to (kubebuilder's, via flect) when no CRD says otherwise."""
    low = kind.lower()
    if not low:
        return kind
    if low in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[low]
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return kind + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return kind[:-1] + "ies"
    return kind + "s"


class _Yaml:
    """Typed reading of a composed YAML tree with goyaml v3's rules (any scalar fills a string,
    null fills nothing, YAML 1.1 words fill booleans, duplicate keys are errors)."""

    _NULL = "tag:yaml.org,2002:null"
    _MERGE = "tag:yaml.org,2002:merge"

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, msg: str) -> ConfigError:
        return ConfigError(f"custom resource state config {self.source}: {where}: {msg}")

    def is_null(self, node: yaml.Node | None) -> bool:
        return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == self._NULL)

    def mapping(self, node: yaml.Node | None, where: str) -> dict[str, yaml.Node]:
        if self.is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(where, f"expected a mapping, got {self._kind(node)}")
        out: dict[str, yaml.Node] = {}
        merged: list[yaml.Node] = []
        for k, v in node.value:
            if k.tag == self._MERGE:
                merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
                continue
            key = self.string(k, where)
            if key in out:
                raise self.fail(where, f'mapping key "{key}" is defined twice; keep one')
            out[key] = v
        # "<<: *anchor" fills the keys not given explicitly; the first merged mapping wins
        for m in merged:
            for key, v in self.mapping(m, where).items():
                out.setdefault(key, v)
        return out

    def string(self, node: yaml.Node | None, where: str) -> str:
        if self.is_null(node):
            return ""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(where, f"expected a string, got {self._kind(node)}")
        return str(node.value)

    def optional_string(self, node: yaml.Node | None, where: str) -> str | None:
        return None if self.is_null(node) else self.string(node, where)

    def strings(self, node: yaml.Node | None, where: str) -> tuple[str, ...]:
        if self.is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(
                where, f"expected a list of strings such as [status, phase], got {self._kind(node)}"
            )
        return tuple(self.string(n, f"{where}[{i}]") for i, n in enumerate(node.value))

    def string_map(self, node: yaml.Node | None, where: str) -> dict[str, str]:
        return {k: self.string(v, f"{where}.{k}") for k, v in self.mapping(node, where).items()}

    def paths_map(self, node: yaml.Node | None, where: str) -> dict[str, tuple[str, ...]]:
        return {k: self.strings(v, f"{where}.{k}") for k, v in self.mapping(node, where).items()}

    def boolean(self, node: yaml.Node | None, where: str) -> bool:
        if self.is_null(node):
            return False
        s = self.string(node, where)
        if s in ("true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"):
            return True
        if s in ("false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF"):
            return False
        raise self.fail(where, f"expected true or false, got {s!r}")

    def integer(self, node: yaml.Node | None, where: str) -> int:
        if self.is_null(node):
            return 0
        s = self.string(node, where).replace("_", "")
        try:
            v = int(s, 0)
        except ValueError:
            raise self.fail(where, f"expected an integer (a klog verbosity such as 5), got {s!r}") from None
        if not -(1 << 31) <= v < (1 << 31):
            raise self.fail(where, f"{v} is out of range for a verbosity")
        return v

    @staticmethod
    def _kind(node: yaml.Node | None) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return f"the scalar {getattr(node, 'value', '')!r}"


def _parse_each(y: _Yaml, node: yaml.Node | None, where: str) -> EachConfig:
    m = y.mapping(node, where)
    raw_type = y.string(m.get("type"), f"{where}.type")
    t = raw_type.lower()
    if t not in ("gauge", "info", "stateset"):
        raise y.fail(f"{where}.type", f"unknown metric type {t!r}; use Gauge, StateSet or Info")
    block_key = {"gauge": "gauge", "info": "info", "stateset": "stateSet"}[t]
    block_node = m.get(block_key)
    bw = f"{where}.{block_key}"
    if y.is_null(block_node):
        raise y.fail(
            where, f"expected each.{block_key} to not be nil: a {raw_type} needs a '{block_key}:' block"
        )
    b = y.mapping(block_node, bw)
    each = EachConfig(
        type=t,  # type: ignore[arg-type]
        path=y.strings(b.get("path"), f"{bw}.path"),
        labels_from_path=y.paths_map(b.get("labelsFromPath"), f"{bw}.labelsFromPath"),
    )
    if t == "gauge":
        return replace(
            each,
            value_from=y.strings(b.get("valueFrom"), f"{bw}.valueFrom"),
            label_from_key=y.string(b.get("labelFromKey"), f"{bw}.labelFromKey"),
            nil_is_zero=y.boolean(b.get("nilIsZero"), f"{bw}.nilIsZero"),
        )
    if t == "info":
        return replace(each, label_from_key=y.string(b.get("labelFromKey"), f"{bw}.labelFromKey"))
    return replace(
        each,
        value_from=y.strings(b.get("valueFrom"), f"{bw}.valueFrom"),
        states=y.strings(b.get("list"), f"{bw}.list"),
        label_name=y.string(b.get("labelName"), f"{bw}.labelName"),
    )


def _parse_resource(y: _Yaml, node: yaml.Node | None, where: str) -> ResourceConfig:
    m = y.mapping(node, where)
    g = y.mapping(m.get("groupVersionKind"), f"{where}.groupVersionKind")
    gvk = GroupVersionKind(
        group=y.string(g.get("group"), f"{where}.groupVersionKind.group"),
        version=y.string(g.get("version"), f"{where}.groupVersionKind.version"),
        kind=y.string(g.get("kind"), f"{where}.groupVersionKind.kind"),
    )
    metrics_node = m.get("metrics")
    if not y.is_null(metrics_node) and not isinstance(metrics_node, yaml.SequenceNode):
        raise y.fail(f"{where}.metrics", "expected a list of metrics")
    metrics = []
    for j, mn in enumerate(metrics_node.value if isinstance(metrics_node, yaml.SequenceNode) else []):
        mw = f"{where}.metrics[{j}]"
        mm = y.mapping(mn, mw)
        metrics.append(
            MetricConfig(
                name=y.string(mm.get("name"), f"{mw}.name"),
                help=y.string(mm.get("help"), f"{mw}.help"),
                each=_parse_each(y, mm.get("each"), f"{mw}.each"),
                common_labels=y.string_map(mm.get("commonLabels"), f"{mw}.commonLabels"),
                labels_from_path=y.paths_map(mm.get("labelsFromPath"), f"{mw}.labelsFromPath"),
                error_log_v=y.integer(mm.get("errorLogV"), f"{mw}.errorLogV"),
            )
        )
    return ResourceConfig(
        gvk=gvk,
        metrics=tuple(metrics),
        metric_name_prefix=y.optional_string(m.get("metricNamePrefix"), f"{where}.metricNamePrefix"),
        resource_plural=y.string(m.get("resourcePlural"), f"{where}.resourcePlural"),
        common_labels=y.string_map(m.get("commonLabels"), f"{where}.commonLabels"),
        labels_from_path=y.paths_map(m.get("labelsFromPath"), f"{where}.labelsFromPath"),
        error_log_v=y.integer(m.get("errorLogV"), f"{where}.errorLogV"),
    )


def _lint(res: ResourceConfig, where: str) -> list[str]:
    out = []
    if not res.gvk.group or res.gvk.group == "*":
        out.append(f"{where}: groupVersionKind.group is required (KSM resolves nothing without it)")
    for j, m in enumerate(res.metrics):
        mw = f"{where}.metrics[{j}]"
        if m.each.type == "info" and not m.name.endswith("_info"):
            out.append(f"{mw}: info metric {res.full_name(m.name)!r} does not have the _info suffix")
        names = [*res.common_labels, *m.common_labels]
        if m.each.label_from_key:
            names.append(m.each.label_from_key)
        if m.each.type == "stateset":
            names.append(m.each.label_name)
        names += [
            sanitize_label_name(k)
            for k in [*res.labels_from_path, *m.labels_from_path, *m.each.labels_from_path]
            if not (k.startswith("*") or k.endswith("*"))
        ]
        for n in names:
            if not _LABEL_NAME.match(n):
                out.append(
                    f"{mw}: label name {n!r} is not a valid Prometheus label name; Prometheus will reject the scrape"
                )
    return out


def parse_config(text: str, source: str = "<inline>") -> CRSConfig:
    """Parse a CRS configuration (KSM's schema); raises :class:`ConfigError` naming the field.

    Only the first YAML document is read and unknown keys are ignored, as in KSM. Every path is
    compiled here, so a bad list lookup fails at start-up rather than at the first object.
    """
    try:
        return _parse(text, source)
    except yaml.YAMLError as e:
        raise ConfigError(
            f"custom resource state config {source}: failed to parse Custom Resource State metrics: {e}"
        ) from None


def _parse(text: str, source: str) -> CRSConfig:
    y = _Yaml(source)
    root = next(iter(yaml.compose_all(text, Loader=yaml.SafeLoader)), None)
    if root is None:
        raise ConfigError(
            f"custom resource state config {source}: the document is empty; "
            f"expected 'kind: {CONFIG_KIND}' and 'spec.resources'"
        )
    top = y.mapping(root, "(document)")
    warnings: list[str] = []
    kind = y.string(top.get("kind"), "kind")
    if kind != CONFIG_KIND:
        warnings.append(f"kind is {kind!r}, expected {CONFIG_KIND!r} (ignored, as KSM does)")
    spec = y.mapping(top.get("spec"), "spec")
    res_node = spec.get("resources")
    if not y.is_null(res_node) and not isinstance(res_node, yaml.SequenceNode):
        raise y.fail("spec.resources", "expected a list of resources")
    resources = []
    for i, rn in enumerate(res_node.value if isinstance(res_node, yaml.SequenceNode) else []):
        where = f"spec.resources[{i}]"
        res = _parse_resource(y, rn, where)
        try:
            compile_families(res)
        except CRSError as e:
            raise y.fail(where, f"failed to create metrics factory for {res.gvk}: {e}") from None
        warnings += _lint(res, where)
        resources.append(res)
    return CRSConfig(resources=tuple(resources), warnings=tuple(warnings))


# --- compiling --------------------------------------------------------------------------------


def _compile_label_paths(paths: Mapping[str, Sequence[str]], where: str) -> LabelPaths:
    out = {}
    for k, v in paths.items():
        try:
            out[k] = compile_path(v)
        except CRSError as e:
            raise CRSError(f"{where}: {k}: {e}") from None
    return LabelPaths(out)


def _compile_each(e: EachConfig) -> CompiledEach:
    block = {"gauge": "gauge", "info": "info", "stateset": "stateSet"}[e.type]
    try:
        path = compile_path(e.path)
    except CRSError as err:
        raise CRSError(f"each.{block}: path: {err}") from None
    labels = _compile_label_paths(e.labels_from_path, f"each.{block}: labelsFromPath")
    if e.type == "info":
        return CompiledInfo(path, labels, e.label_from_key)
    try:
        value_from = compile_path(e.value_from)
    except CRSError as err:
        raise CRSError(f"each.{block}.valueFrom: {err}") from None
    if e.type == "gauge":
        return CompiledGauge(path, labels, value_from, e.nil_is_zero, e.label_from_key)
    return CompiledStateSet(path, labels, value_from, e.label_name, e.states)


def compile_families(res: ResourceConfig) -> list[CompiledFamily]:
    """KSM's ``compile``: the GVK labels are added to the resource's common labels (a metric's own
    common labels and every path label still win over them), resource and metric labels merged."""
    common = dict(res.common_labels)
    common[LABEL_GROUP] = res.gvk.group
    common[LABEL_VERSION] = res.gvk.version
    common[LABEL_KIND] = res.gvk.kind
    out = []
    for m in res.metrics:
        try:
            each = _compile_each(m.each)
            labels = _compile_label_paths({**res.labels_from_path, **m.labels_from_path}, "labelsFromPath")
        except CRSError as e:
            raise CRSError(f"{m.name}: compiling metric: {e}") from None
        out.append(
            CompiledFamily(
                name=res.full_name(m.name),
                help=m.help,
                each=each,
                common_labels={**common, **m.common_labels},
                labels=labels,
                error_log_v=m.error_log_v or res.error_log_v,
            )
        )
    return out


# --- objects and resources -------------------------------------------------------------------


class Unstructured:
    """A custom resource as decoded JSON (``object``), with its metadata typed for the store."""

    __slots__ = ("metadata", "object")

    def __init__(self, obj: dict[str, Any]) -> None:
        self.object = obj
        self.metadata = _metadata(obj.get("metadata"))

    def __repr__(self) -> str:
        return f"Unstructured({self.object!r})"


def _metadata(raw: Any) -> ObjectMeta:
    if not isinstance(raw, dict):
        return ObjectMeta()
    try:
        return msgspec.convert(raw, ObjectMeta)
    except msgspec.ValidationError:
        # keep what the store needs (uid, names) even when another field is odd
        def text(key: str) -> str:
            v = raw.get(key)
            return v if isinstance(v, str) else ""

        return ObjectMeta(
            name=text("name"),
            namespace=text("namespace"),
            uid=text("uid"),
            resource_version=text("resourceVersion"),
        )


def unstructured_dec_hook(type_: type, obj: Any) -> Any:
    """A msgspec ``dec_hook`` that builds :class:`Unstructured` items, for decoders such as
    ``msgspec.json.Decoder(KubeList[Unstructured], dec_hook=unstructured_dec_hook)``."""
    if type_ is Unstructured:
        if not isinstance(obj, dict):
            raise msgspec.ValidationError(
                f"expected a JSON object for a custom resource, got {type(obj).__name__}"
            )
        return Unstructured(obj)
    raise NotImplementedError(f"no decoding for {type_!r}")


def _no_identity(o: Any) -> str:
    return ""


@dataclass(frozen=True)
class CustomResourceSpec(ResourceSpec):
    """A configured custom resource: plugs into the same store and server as built-in resources.

    ``struct`` is :class:`Unstructured` (not a msgspec Struct): decoders need ``dec_hook``.
    ``name`` is KSM's store name for it, ``"<group>/<version>, Resource=<plural>"``.
    """

    config: ResourceConfig | None = None
    compiled: tuple[CompiledFamily, ...] = ()
    dec_hook: Callable[[type, Any], Any] = unstructured_dec_hook

    @property
    def go_type(self) -> str:
        return "*unstructured.Unstructured"

    def decode(self, data: bytes | str) -> Unstructured:
        """Decode one object's JSON (raises ``msgspec.DecodeError`` when it is not an object)."""
        obj: Unstructured = msgspec.json.decode(data, type=Unstructured, dec_hook=self.dec_hook)
        return obj

    @staticmethod
    def from_object(obj: Mapping[str, Any]) -> Unstructured:
        return Unstructured(dict(obj))


def compile_resource(res: ResourceConfig, on_error: ErrorSink | None = None) -> CustomResourceSpec:
    """The :class:`CustomResourceSpec` of a concrete (resolved) resource.

    ``on_error`` receives the per-object problems KSM logs (a path that did not resolve, a value
    that is not a number); rendering itself never raises for them.
    """
    if res.gvk.wildcard:
        raise ConfigError(
            f"custom resource {res.gvk}: version and kind must be concrete to compile; resolve wildcards "
            "against discovered CRDs first (resolve())"
        )
    try:
        compiled = tuple(compile_families(res))
    except CRSError as e:
        raise ConfigError(f"failed to create metrics factory for {res.gvk}: {e}") from None
    families = [c.family(on_error) for c in compiled]

    def factory(opts: FamilyOptions) -> list[Family]:
        return families

    plural = res.plural
    return CustomResourceSpec(
        name=f"{res.gvk.group}/{res.gvk.version}, Resource={plural}",
        group=res.gvk.group,
        version=res.gvk.version,
        kind=res.gvk.kind,
        namespaced=res.namespaced,
        struct=Unstructured,
        identity=_no_identity,
        families=factory,
        default=True,
        plural=plural,
        config=res,
        compiled=compiled,
    )


# --- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscoveredKind:
    """One served version of a CRD."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True


def crd_kinds(crd: Any) -> list[DiscoveredKind]:
    """The served versions of an ``apiextensions.k8s.io/v1`` CustomResourceDefinition, as a dict or
    :class:`Unstructured` (KSM's ``extractGVKPs``): a version whose ``served`` is not ``true``
    cannot be listed and is skipped; a malformed CRD yields nothing."""
    if isinstance(crd, Unstructured):
        crd = crd.object
    if not isinstance(crd, Mapping):
        return []
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return []
    group = spec.get("group")
    names = spec.get("names")
    versions = spec.get("versions")
    if not isinstance(group, str) or not isinstance(names, dict) or not isinstance(versions, list):
        return []
    kind = names.get("kind")
    plural = names.get("plural")
    if not isinstance(kind, str) or not isinstance(plural, str):
        return []
    namespaced = spec.get("scope", "Namespaced") != "Cluster"
    out = []
    for v in versions:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            continue
        if "served" in v and v["served"] is not True:
            continue
        out.append(DiscoveredKind(group, v["name"], kind, plural, namespaced))
    return out


def resolve(
    config: CRSConfig | Iterable[ResourceConfig], kinds: Iterable[DiscoveredKind]
) -> list[ResourceConfig]:
    """Concrete resources for the configured ones, KSM's ``ResolveGVKToGVKPs``: ``*`` (or empty)
    version/kind match every served one of the group, the plural and scope come from the CRD
    (``resourcePlural`` is ignored then, as in KSM), a resource without a CRD resolves to nothing
    (built-in kinds included), and a later entry for the same group/version/plural replaces an
    earlier one."""
    resources = config.resources if isinstance(config, CRSConfig) else tuple(config)
    by_group: dict[str, list[DiscoveredKind]] = {}
    for dk in kinds:
        found = by_group.setdefault(dk.group, [])
        if not any(x.version == dk.version and x.kind == dk.kind for x in found):
            found.append(dk)
    out: dict[tuple[str, str, str], ResourceConfig] = {}
    for res in resources:
        g, v, k = res.gvk.group, res.gvk.version, res.gvk.kind
        if not g or g == "*":
            continue
        any_v = v in ("", "*")
        any_k = k in ("", "*")
        for d in by_group.get(g, []):
            if (any_v or d.version == v) and (any_k or d.kind == k):
                r = replace(
                    res,
                    gvk=GroupVersionKind(g, d.version, d.kind),
                    resource_plural=d.plural,
                    namespaced=d.namespaced,
                )
                out.pop((g, d.version, d.plural), None)
                out[(g, d.version, d.plural)] = r
    return list(out.values())


def specs_for(
    config: CRSConfig, crds: Iterable[Any], on_error: ErrorSink | None = None
) -> list[CustomResourceSpec]:
    """Every resource spec to watch, given the cluster's CRD objects."""
    kinds = [k for crd in crds for k in crd_kinds(crd)]
    return [compile_resource(r, on_error) for r in resolve(config, kinds)]
