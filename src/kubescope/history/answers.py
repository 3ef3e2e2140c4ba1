"""The JSON answers of the history API (shapes documented in docs/history.md).

Points (``.../metrics/{metric}``)::

    {"metricName": "cpu/usage_rate", "unit": "millicores", "start": T, "end": T, "step": "5m" | null,
     "metricPoints": [{"timestamp": T, "value": 12.5}, ...],
     "intervals": [{"start": T, "end": T}, ...],          # where the answer has data
     "sources": [{"start": T, "end": T, "resolution": "raw" | "5m" | "1h"}, ...],
     "series": [{"namespace", "pod", "uid", "container", "node", "ownerKind", "ownerName"}, ...]}

Aggregations (``.../metrics-aggregated/{aggs}/{metric}``), Oldtimer's ``MetricAggregationResult``
with the same extra fields::

    {"metricName", "unit", "start", "end", "bucketSize": "1h",
     "buckets": [{"timestamp": T, "count": 60, "average": .., "maximum": .., "minimum": ..,
                  "median": .., "percentiles": {"95": ..}}, ...],
     "intervals", "sources", "series"}

A list target (``pod-list``, ``pod-id-list``) answers ``{"items": [{"name" | "uid", ...the above}]}``,
one item per name in the order asked, from one read of the store.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from kubescope.history.query import Engine, Line, bucket_stats, intervals, sample_intervals, scale
from kubescope.history.request import METRICS, NODE_METRICS, BadRequest, Range, Target, parse_metric
from kubescope.history.series import CPU_UNIT, SeriesRow
from kubescope.model.gofmt import go_duration
from kubescope.model.timefmt import format_time


def stamps(ts: np.ndarray) -> list[str]:
    """Unix seconds as ``metav1.Time`` strings, all at once (one ``format_time`` per point cost
    half of a 4,032-point answer); a regular grid is remembered (a page of pods shares one)."""
    if ts.size == 0:
        return []
    if ts.size > 2:
        step = int(ts[1] - ts[0])
        if step > 0 and int(ts[-1] - ts[0]) == step * (ts.size - 1) and (np.diff(ts) == step).all():
            return _grid(int(ts[0]), step, int(ts.size))
    return _stamps(ts)


def _stamps(ts: np.ndarray) -> list[str]:
    text = np.datetime_as_string(np.asarray(ts, np.int64).astype("datetime64[s]"), unit="s")
    return [t + "Z" for t in text.tolist()]


@functools.lru_cache(maxsize=64)
def _grid(first: int, step: int, n: int) -> list[str]:
    return _stamps(first + step * np.arange(n, dtype=np.int64))


def _point_list(metric: str, ts: np.ndarray, vals: np.ndarray) -> list[dict[str, Any]]:
    return [{"timestamp": t, "value": v} for t, v in zip(stamps(ts), scale(metric, vals), strict=True)]


@functools.lru_cache(maxsize=256)
def _duration(seconds: int) -> str:
    return go_duration(seconds * 1_000_000_000)


def _series(members: list[SeriesRow]) -> list[dict[str, str]]:
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    for m in members:
        d = {
            "namespace": m.namespace, "pod": m.pod, "uid": m.uid, "container": m.container, "node": m.node,
            "ownerKind": m.owner_kind, "ownerName": m.owner_name,
        }  # fmt: skip
        seen.setdefault(tuple(d.values()), {k: v for k, v in d.items() if v})
    return list(seen.values())


@functools.lru_cache(maxsize=4096)
def _time(t: int) -> str:
    """``format_time``, remembered: a page of 100 pods repeats the same range and sources."""
    return format_time(t)


def _common(name: str, unit: str, rng: Range, line: Line, gaps: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "metricName": name,
        "unit": unit,
        "start": _time(rng.start),
        "end": _time(rng.end),
        "intervals": [{"start": _time(a), "end": _time(b)} for a, b in gaps],
        "sources": [{"start": _time(a), "end": _time(b), "resolution": r} for a, b, r in line.sources],
        "series": _series(line.members),
    }


def points(engine: Engine, target: Target, metric_name: str, rng: Range) -> dict[str, Any]:
    metric, field, unit = parse_metric(metric_name, target)
    groups, labels = _groups(engine, target, metric, rng)
    lines = engine.lines(target, rng, groups, quantiles=False)
    items = [_points_one(engine, metric_name, metric, field, unit, rng, line) for line in lines]
    return _wrap(target, labels, items)


def _points_one(
    engine: Engine, name: str, metric: str, field: str, unit: str, rng: Range, line: Line
) -> dict[str, Any]:
    if field != "usage":
        return _spec_points(name, metric, field, unit, rng, line)
    if line.buckets is None:
        ts, vals = line.ts, line.values
        gaps = sample_intervals(ts, 2 * line.resolution)
    else:
        b = line.buckets
        ts = b.start
        vals = np.round(b.total / np.maximum(b.count, 1)).astype(np.int64) if len(b) else b.total
        gaps = intervals(ts, b.width)
    out = _common(name, unit, rng, line, gaps)
    out["step"] = _duration(rng.step) if rng.step else None
    out["metricPoints"] = _point_list(metric, ts, vals)
    return out


def _spec_points(name: str, metric: str, field: str, unit: str, rng: Range, line: Line) -> dict[str, Any]:
    """Requests and limits: the members' values (summed per step over members with usage there)."""
    step = rng.step or line.resolution
    values: dict[int, int] = {}
    for m in line.members:
        v = m.request if field == "request" else m.limit
        if v is None:
            continue
        lo = max(rng.start, m.first)
        hi = min(rng.end, m.last if m.last is not None else rng.end)
        for t in range(lo - lo % step, hi + 1, step):
            if rng.start - step < t <= rng.end:
                values[t] = values.get(t, 0) + v
    ts = np.array(sorted(values), np.int64)
    vals = np.array([values[t] for t in ts.tolist()], np.int64)
    out = _common(name, unit, rng, line, intervals(ts, step))
    out["step"] = _duration(step)
    out["metricPoints"] = _point_list(metric, ts, vals)
    return out


def aggregated(
    engine: Engine, target: Target, aggs: list[str], metric_name: str, rng: Range
) -> dict[str, Any]:
    metric, field, unit = parse_metric(metric_name, target)
    if field != "usage":
        raise BadRequest(
            f"{metric_name} is a setting, not a measurement: ask for its points, not aggregations"
        )
    groups, labels = _groups(engine, target, metric, rng)
    lines = engine.lines(target, rng, groups)
    items = []
    for line in lines:
        stats = bucket_stats(line, aggs)
        b = line.buckets
        assert b is not None
        factor = 1000 / CPU_UNIT if metric == "cpu" else 1.0
        buckets = []
        for t, row in zip(stamps(b.start), stats, strict=True):
            out: dict[str, Any] = {"timestamp": t}
            pct: dict[str, float] = {}
            for k, v in row.items():
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                if k == "count":
                    out["count"] = int(v)
                    continue
                val = round(v * factor, 3) if metric == "cpu" else round(v)
                if k in ("50", "90", "95", "99"):
                    pct[k] = val
                else:
                    out[k] = val
            if pct:
                out["percentiles"] = pct
            buckets.append(out)
        item = _common(metric_name, unit, rng, line, intervals(b.start, b.width))
        item["bucketSize"] = _duration(b.width)
        item["buckets"] = buckets
        items.append(item)
    return _wrap(target, labels, items)


def _groups(
    engine: Engine, target: Target, metric: str, rng: Range
) -> tuple[list[list[SeriesRow]], list[str]]:
    members = engine.members(target, metric, rng)
    if not target.listed:
        return [members], []
    by: dict[str, list[SeriesRow]] = {n: [] for n in target.names}
    for m in members:
        k = m.pod if target.scope == "pod" else m.uid
        if k in by:
            by[k].append(m)
    return [by[n] for n in target.names], list(target.names)


def _wrap(target: Target, labels: list[str], items: list[dict[str, Any]]) -> dict[str, Any]:
    if not target.listed:
        return items[0]
    field = "name" if target.scope == "pod" else "uid"
    return {"items": [{field: n, **item} for n, item in zip(labels, items, strict=True)]}


def metric_names(target: Target) -> list[str]:
    return list(NODE_METRICS) if target.scope in ("node", "cluster") else list(METRICS)
