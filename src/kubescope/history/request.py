"""A history request, parsed and checked: what it addresses, which metric, which range and step.

Everything a client can get wrong is found here and reported as :class:`BadRequest` (HTTP 400)
with a message naming the parameter and the fix, before any data is read: an unknown metric or
aggregation, a reversed or unparseable range, a bucket that is not a duration, too many points.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from kubescope.history.series import OWNER_KINDS
from kubescope.model.timefmt import parse_time

METRICS = {
    "cpu/usage_rate": ("cpu", "usage", "millicores"),
    "memory/usage": ("memory", "usage", "bytes"),
    "memory/working_set": ("memory", "usage", "bytes"),
    "cpu/request": ("cpu", "request", "millicores"),
    "cpu/limit": ("cpu", "limit", "millicores"),
    "memory/request": ("memory", "request", "bytes"),
    "memory/limit": ("memory", "limit", "bytes"),
}
"""Heapster's metric names: ``memory/usage`` is the working set, as the Metrics API reports it (and
the dashboard's metrics-scraper stores it under that name)."""
NODE_METRICS = ("cpu/usage_rate", "memory/usage", "memory/working_set")

AGGREGATIONS = {
    "avg": "average", "average": "average", "min": "minimum", "max": "maximum", "median": "median",
    "count": "count", "p50": "50", "50-perc": "50", "p90": "90", "90-perc": "90", "p95": "95",
    "95-perc": "95", "p99": "99", "99-perc": "99",
}  # fmt: skip
"""Path names (ours and Oldtimer's) -> the bucket field they fill (percentiles under ``percentiles``)."""
QUANTILES = {"50": 0.5, "90": 0.9, "95": 0.95, "99": 0.99}

MAX_POINTS = 11_000
"""Buckets or points in one answer, as Prometheus limits ``query_range``."""
DEFAULT_RANGE = 3600

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


class BadRequest(Exception):
    """The request cannot be answered as asked; the message says what to change (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a path addresses."""

    scope: str
    """``cluster``, ``namespace``, ``node``, ``pod`` (by name), ``pod-id`` or ``workload``."""
    namespace: str = ""
    names: tuple[str, ...] = ()
    """Pod names, UIDs, a node or a workload name (several for ``pod-list``/``pod-id-list``)."""
    owner_kind: str = ""
    container: str = ""
    listed: bool = False
    """Addressed as a list (``pod-list``, ``pod-id-list``): answered with ``items``."""

    def describe(self) -> str:
        what = {"cluster": "the cluster", "namespace": f"namespace {self.namespace}"}.get(self.scope)
        if what is None:
            names = ",".join(self.names)
            kind = self.owner_kind or self.scope
            what = f"{kind} {self.namespace + '/' if self.namespace else ''}{names}"
        return what + (f" container {self.container}" if self.container else "")


@dataclass(frozen=True, slots=True)
class Range:
    start: int
    end: int
    step: int | None
    """Bucket (aggregations) or step (points) in seconds; None: raw points."""


def parse_duration(text: str, what: str) -> int:
    m = _DURATION.match(text.strip())
    if not m:
        raise BadRequest(
            f"{what}={text!r} is not a duration: write a number with a unit (ms, s, m, h, d, w), e.g. 5m"
        )
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 1 or seconds != int(seconds):
        raise BadRequest(f"{what}={text!r}: durations are whole seconds, at least 1s")
    return int(seconds)


def parse_instant(text: str, what: str, now: float) -> int:
    t = text.strip()
    if not t:
        raise BadRequest(f"{what} is empty: give an RFC 3339 time, Unix seconds or now-<duration>")
    if t == "now":
        return int(now)
    if t.startswith("now-"):
        return int(now) - parse_duration(t[4:], what)
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return int(float(t))
    try:
        return int(parse_time(t))
    except ValueError as e:
        raise BadRequest(
            f"{what}={text!r} is not a time: give RFC 3339 (2025-01-02T15:04:05Z), Unix seconds or now-1h"
        ) from e


def parse_range(query: dict[str, str], *, step_key: str, now: float | None = None) -> Range:
    now = time.time() if now is None else now
    end = parse_instant(query["end"], "end", now) if "end" in query else int(now)
    start = parse_instant(query["start"], "start", now) if "start" in query else end - DEFAULT_RANGE
    if end <= start:
        raise BadRequest(f"end ({end}) is not after start ({start}): the range is reversed or empty")
    step = parse_duration(query[step_key], step_key) if query.get(step_key) else None
    if step is not None and (end - start) // step > MAX_POINTS:
        raise BadRequest(
            f"{step_key}={query[step_key]} over {end - start}s gives {(end - start) // step} points, more than "
            f"{MAX_POINTS}: use a larger {step_key} or a shorter range"
        )
    return Range(start, end, step)


def parse_metric(name: str, target: Target) -> tuple[str, str, str]:
    got = METRICS.get(name)
    if got is None:
        raise BadRequest(f"unknown metric {name!r}: the metrics are {', '.join(METRICS)}")
    if target.scope in ("node", "cluster") and name not in NODE_METRICS:
        raise BadRequest(
            f"metric {name!r} is not kept for {target.describe()}: it has {', '.join(NODE_METRICS)}"
        )
    return got


def parse_aggregations(text: str) -> list[str]:
    out: list[str] = []
    for a in text.split(","):
        a = a.strip()
        if a not in AGGREGATIONS:
            raise BadRequest(
                f"unknown aggregation {a!r}: use {', '.join(k for k in AGGREGATIONS if '-' not in k)}"
            )
        if AGGREGATIONS[a] not in out:
            out.append(AGGREGATIONS[a])
    return out


def parse_target(parts: list[str]) -> tuple[Target, list[str]]:
    """The target named by the path segments before ``metrics``/``metrics-aggregated``.

    Returns the target and the segments that remain (the metrics part)."""

    def split_names(s: str) -> tuple[str, ...]:
        names = tuple(n for n in s.split(",") if n)
        if not names:
            raise BadRequest("an empty name list")
        return names

    p = list(parts)
    container = ""
    if len(p) >= 2 and p[0] == "namespaces":
        ns = p[1]
        p = p[2:]
        if len(p) >= 2 and p[0] in ("pods", "pod-list"):
            t = Target("pod", ns, split_names(p[1]), listed=p[0] == "pod-list")
            p = p[2:]
        elif len(p) >= 2 and p[0] in OWNER_KINDS:
            t = Target("workload", ns, (p[1],), owner_kind=OWNER_KINDS[p[0]])
            p = p[2:]
        else:
            t = Target("namespace", ns)
    elif len(p) >= 2 and p[0] == "nodes":
        t = Target("node", "", (p[1],))
        p = p[2:]
    elif len(p) >= 2 and p[0] in ("pod-id", "pod-id-list"):
        t = Target("pod-id", "", split_names(p[1]), listed=p[0] == "pod-id-list")
        p = p[2:]
    else:
        t = Target("cluster")
    if len(p) >= 2 and p[0] == "containers":
        if t.scope not in ("pod", "pod-id", "workload"):
            raise BadRequest(f"containers are addressed under a pod or a workload, not under {t.describe()}")
        container = p[1]
        p = p[2:]
        t = Target(t.scope, t.namespace, t.names, t.owner_kind, container, t.listed)
    return t, p
