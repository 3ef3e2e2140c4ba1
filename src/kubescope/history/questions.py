"""The two questions asked of the whole cluster at once: recommendations and idle workloads.

Both read the all-series summaries (one row per closed day, one per compacted window of the open
day) plus the head, never a row per series: recommendations for 3,000 workloads over 14 days cost
14 daily rows, a few window rows and one head pass, then one vectorised quantile computation over
every (workload, container) group (:func:`~kubescope.history.sketch.grouped_quantiles`).

**Recommendations** (per workload and container, in the shape of a VerticalPodAutoscaler's
``status.recommendation``; VPA's recommender defaults where it has them):

* CPU: ``target`` = the ``cpuPercentile`` (default 90, VPA's target percentile) of the container's
  samples across all the workload's pods, ``lowerBound`` = the 50th, ``upperBound`` = the 95th,
  each plus ``margin`` (default 15 %, VPA's ``--recommendation-margin-fraction``);
* memory: ``target`` and ``upperBound`` = the peak plus the margin (KRR's simple strategy: memory
  is not compressible, a percentile below the peak means an OOM kill), ``lowerBound`` = the 90th
  percentile plus the margin;
* rounded up: CPU to the millicore, memory to the KiB (4 KiB pages are finer than anyone sets);
* with the window used (whole days for the closed ones), the samples counted and the container's
  current requests and limits.

**Idle**: workloads whose every pod's CPU stayed under ``cpuThreshold`` (default 5 millicores) for
the whole ``duration`` (default 7 days): the workload's first sample is at least ``duration`` old
and the highest CPU sample of any of its pods since then is below the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from kubescope.history import rollup, sketch
from kubescope.history.rollup import Rollup
from kubescope.history.series import CPU_UNIT, SeriesRow
from kubescope.history.store import DAY, HOUR, HistoryStore
from kubescope.model.quantity import format_binary_si, format_decimal_si
from kubescope.model.timefmt import format_time

I64 = np.int64


@dataclass(frozen=True, slots=True)
class RecommendOptions:
    window: int = 14 * DAY
    cpu_percentile: float = 0.9
    margin: float = 0.15
    namespace: str = ""


@dataclass(frozen=True, slots=True)
class IdleOptions:
    duration: int = 7 * DAY
    cpu_threshold: float = 5.0
    """Millicores."""
    namespace: str = ""


def window_blocks(store: HistoryStore, start: int, now: int) -> tuple[Iterator[Rollup], list[int]]:
    """Every series' rollup over ``[start, now]``, one block of series at a time (memory bounded
    by a block, whatever the cluster): closed days from daily summaries (whole days), the rest from
    window summaries and the head; one bucket per series. The list gets the start actually covered
    once the blocks are read."""
    days = store.days_until()
    compacted = store.compacted_until()
    day0 = start - start % DAY
    covered = [start]

    def each() -> Iterator[Rollup]:
        for blk in store.blocks():
            parts: list[Rollup] = [r for _, r in store.summaries(3, day0, days, blk)]
            if parts:
                covered[0] = day0
            parts += [r for _, r in store.summaries(2, max(days, start - start % HOUR), now + 1, blk)]
            s, ts, v = store.head_samples(max(start, compacted), now, block=blk)
            parts.append(rollup.from_samples(s, ts, v, DAY))
            merged = rollup.merge(parts, 1 << 40)
            if len(merged):
                yield merged

    return each(), covered


class _Sketches:
    """(group, sketch index, count) entries of many blocks, merged as they come (bounded memory:
    one entry per distinct group and index, plus the blocks not merged yet)."""

    LIMIT = 400_000

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self.pending = 0

    def add(self, group: np.ndarray, idx: np.ndarray, count: np.ndarray) -> None:
        self.keys.append(group * _IDX_SPAN + (idx - sketch.ZERO))
        self.counts.append(count)
        self.pending += group.size
        if self.pending > self.LIMIT:
            self._merge()

    def _merge(self) -> None:
        if len(self.keys) > 1:
            keys, inv = np.unique(np.concatenate(self.keys), return_inverse=True)
            counts = np.bincount(inv, weights=np.concatenate(self.counts)).astype(I64)
            self.keys, self.counts = [keys], [counts]
        self.pending = 0

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._merge()
        if not self.keys:
            z = np.zeros(0, I64)
            return z, z, z
        keys, counts = self.keys[0], self.counts[0]
        return keys // _IDX_SPAN, keys % _IDX_SPAN + sketch.ZERO, counts


_IDX_SPAN = 1 << 13
"""Sketch indices of int64 values are below 2,200 (1 % buckets up to 2**63)."""


def _members(store: HistoryStore, kind: str, namespace: str, start: int) -> list[SeriesRow]:
    where = "kind = ? AND owner_kind != '' AND (last IS NULL OR last >= ?)"
    params: list[object] = [kind, start]
    if namespace:
        where += " AND namespace = ?"
        params.append(namespace)
    return store.select_series(where, tuple(params))


def cpu_quantity(micro: float) -> str:
    return format_decimal_si(max(0, math.ceil(micro / 1000)), -3)


def mem_quantity(b: float) -> str:
    kib = max(0, math.ceil(b / 1024))
    return format_binary_si(kib * 1024)


def recommendations(store: HistoryStore, opts: RecommendOptions, now: int) -> dict[str, Any]:
    start = now - opts.window
    members = _members(store, "container", opts.namespace, start)
    blocks, covered_box = window_blocks(store, start, now)
    groups: dict[tuple[str, str, str, str], int] = {}
    specs: dict[tuple[int, str], SeriesRow] = {}
    top = max((m.id for m in members), default=0) + 1
    gmap = {metric: np.full(top, -1, I64) for metric in ("cpu", "memory")}
    for m in members:
        g = groups.setdefault((m.namespace, m.owner_kind, m.owner_name, m.container), len(groups))
        gmap[m.metric][m.id] = g
        specs[(g, m.metric)] = m  # the newest pod's requests and limits (ids grow with time)
    n = len(groups)
    count = {metric: np.zeros(n, I64) for metric in gmap}
    high = {metric: np.full(n, -1, I64) for metric in gmap}
    sketches = {metric: _Sketches() for metric in gmap}
    for data in blocks:
        for metric, table in gmap.items():
            inb = data.sid < top
            inb[inb] = table[data.sid[inb]] >= 0
            if not inb.any():
                continue
            g_rows = table[data.sid[inb]]
            np.add.at(count[metric], g_rows, data.count[inb])
            np.maximum.at(high[metric], g_rows, data.high[inb])
            sk = data.sk_sid < top
            sk[sk] = table[data.sk_sid[sk]] >= 0
            sketches[metric].add(table[data.sk_sid[sk]], data.sk_idx[sk], data.sk_count[sk])
    covered = covered_box[0]
    result: dict[str, np.ndarray] = {}
    for metric in gmap:
        qs = [0.5, opts.cpu_percentile, 0.95] if metric == "cpu" else [0.9]
        result[metric + "_q"] = sketch.grouped_quantiles(*sketches[metric].entries(), n, qs)
        result[metric + "_count"] = count[metric]
        result[metric + "_max"] = high[metric]
    items = []
    k = 1 + opts.margin
    by_workload: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for (ns, kind, name, container), g in groups.items():
        cpu_n, mem_n = int(result["cpu_count"][g]), int(result["memory_count"][g])
        if cpu_n == 0 and mem_n == 0:
            continue
        rec: dict[str, Any] = {"containerName": container}
        target: dict[str, str] = {}
        lower: dict[str, str] = {}
        upper: dict[str, str] = {}
        if cpu_n:
            p50, pt, p95 = result["cpu_q"][g].tolist()
            target["cpu"], lower["cpu"], upper["cpu"] = (cpu_quantity(x * k) for x in (pt, p50, p95))
        if mem_n:
            (p90,) = result["memory_q"][g].tolist()
            peak = float(result["memory_max"][g])
            target["memory"], lower["memory"], upper["memory"] = (
                mem_quantity(x * k) for x in (peak, p90, peak)
            )
        rec.update(target=target, lowerBound=lower, upperBound=upper, uncappedTarget=dict(target))
        cur: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
        for metric, fmt in (("cpu", cpu_quantity), ("memory", mem_quantity)):
            spec = specs.get((g, metric))
            if spec is not None and spec.request is not None:
                cur["requests"][metric] = fmt(spec.request)
            if spec is not None and spec.limit is not None:
                cur["limits"][metric] = fmt(spec.limit)
        detail = {"containerName": container, "samples": {"cpu": cpu_n, "memory": mem_n}, "current": cur}
        by_workload.setdefault((ns, kind, name), []).append({"rec": rec, "detail": detail})
    for (ns, kind, name), recs in sorted(by_workload.items()):
        items.append(
            {
                "namespace": ns,
                "kind": kind,
                "name": name,
                "window": {"start": format_time(covered), "end": format_time(now)},
                "status": {"recommendation": {"containerRecommendations": [r["rec"] for r in recs]}},
                "containers": [r["detail"] for r in recs],
            }
        )
    return {
        "kind": "RecommendationList",
        "window": {"start": format_time(covered), "end": format_time(now)},
        "options": {"cpuPercentile": opts.cpu_percentile, "margin": opts.margin},
        "items": items,
    }


def idle(store: HistoryStore, opts: IdleOptions, now: int) -> dict[str, Any]:
    start = now - opts.duration
    members = [m for m in _members(store, "pod", opts.namespace, start) if m.metric == "cpu"]
    ids = {m.id for m in members}
    high: dict[int, int] = {}
    total: dict[int, int] = {}
    count: dict[int, int] = {}
    blocks, _ = window_blocks(store, start, now)
    for data in blocks:
        for sid, h, t, c in zip(
            data.sid.tolist(), data.high.tolist(), data.total.tolist(), data.count.tolist(), strict=True
        ):
            if sid in ids:
                high[sid], total[sid], count[sid] = h, t, c
    workloads: dict[tuple[str, str, str], list[SeriesRow]] = {}
    for m in members:
        workloads.setdefault((m.namespace, m.owner_kind, m.owner_name), []).append(m)
    threshold = opts.cpu_threshold * CPU_UNIT / 1000
    items = []
    for (ns, kind, name), pods in sorted(workloads.items()):
        seen = [p for p in pods if p.id in count]
        if not seen or min(p.first for p in pods) > start:
            continue
        peak = max(high[p.id] for p in seen)
        if peak >= threshold:
            continue
        n = sum(count[p.id] for p in seen)
        avg = sum(total[p.id] for p in seen) / n
        items.append(
            {
                "namespace": ns, "kind": kind, "name": name,
                "pods": len({p.uid for p in seen}),
                "since": format_time(min(p.first for p in pods)),
                "cpu": {"maximum": round(peak * 1000 / CPU_UNIT, 3), "average": round(avg * 1000 / CPU_UNIT, 3)},
                "samples": n,
            }
        )  # fmt: skip
    return {
        "kind": "IdleList",
        "window": {"start": format_time(start), "end": format_time(now)},
        "options": {"cpuThreshold": opts.cpu_threshold, "duration": opts.duration},
        "items": items,
    }
