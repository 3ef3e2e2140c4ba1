"""The two questions asked of the whole cluster at once: recommendations and idle workloads.

Both read the all-series summaries (one row per block of series and closed day, one per compacted
window of the open day) plus the head, never a row per series, reduced block by block straight to
their groups (:func:`~kubescope.history.window.group_totals`): recommendations for 3,000 workloads
over 14 days cost 14 daily rows and one head read per block, then one vectorised quantile
computation over every (workload, container) group (:func:`~kubescope.history.sketch.grouped_quantiles`).

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
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from kubescope.history import sketch, window
from kubescope.history.series import CPU_UNIT
from kubescope.history.store import DAY, HistoryStore
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


class _Member(NamedTuple):
    """What the questions read of a series' catalog row (a tuple: 60,000 of them are made per
    question at 1,000 x 30, where a frozen dataclass costs five times as much)."""

    id: int
    last: int | None
    metric: str
    namespace: str
    owner_kind: str
    owner_name: str
    container: str
    uid: str
    first: int
    request: int | None
    limit: int | None


_MEMBER_COLUMNS = "id, last, metric, namespace, owner_kind, owner_name, container, uid, first, request, lim"


def _members(store: HistoryStore, kind: str, namespace: str, start: int) -> list[_Member]:
    """The series of pods alive at ``start`` or since, by id: compacted samples since then (``last``,
    set at compaction), none compacted yet, or samples in the head (a window starting after the last
    compaction would otherwise find no series at all)."""
    where = "kind = ? AND owner_kind != ''"
    params: list[object] = [kind]
    if namespace:
        where += " AND namespace = ?"
        params.append(namespace)
    in_head = set(store.head_series().tolist())
    rows = store.conn().execute(f"SELECT {_MEMBER_COLUMNS} FROM series WHERE {where} ORDER BY id", params)  # noqa: S608
    return [m for m in map(_Member._make, rows) if m.last is None or m.last >= start or m.id in in_head]


def cpu_quantity(micro: float) -> str:
    return format_decimal_si(max(0, math.ceil(micro / 1000)), -3)


def mem_quantity(b: float) -> str:
    kib = max(0, math.ceil(b / 1024))
    return format_binary_si(kib * 1024)


def recommendations(store: HistoryStore, opts: RecommendOptions, now: int) -> dict[str, Any]:
    start = now - opts.window
    members = _members(store, "container", opts.namespace, start)
    groups: dict[tuple[str, str, str, str], int] = {}
    specs: dict[tuple[int, str], _Member] = {}
    of_member: list[int] = []
    for m in members:
        g = groups.setdefault((m.namespace, m.owner_kind, m.owner_name, m.container), len(groups))
        specs[(g, m.metric)] = m  # the newest pod's requests and limits (ids grow with time)
        of_member.append(g)
    n = len(groups)
    # one group per container group and metric: CPU ones 0..n-1, memory ones n..2n-1
    group_of = np.full(max((m.id for m in members), default=0) + 1, -1, I64)
    for m, g in zip(members, of_member, strict=True):
        group_of[m.id] = g if m.metric == "cpu" else n + g
    got = window.group_totals(store, start, now, group_of, 2 * n, sketches=True)
    covered = got.covered
    cut = int(np.searchsorted(got.sk_group, n))  # entries are sorted by group
    result: dict[str, np.ndarray] = {
        "cpu_q": sketch.grouped_quantiles(
            got.sk_group[:cut], got.sk_idx[:cut], got.sk_count[:cut], n, [0.5, opts.cpu_percentile, 0.95]
        ),
        "memory_q": sketch.grouped_quantiles(
            got.sk_group[cut:] - n, got.sk_idx[cut:], got.sk_count[cut:], n, [0.9]
        ),
        "cpu_count": got.count[:n], "cpu_max": got.high[:n],
        "memory_count": got.count[n:], "memory_max": got.high[n:],
    }  # fmt: skip
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
    span = {"start": format_time(covered), "end": format_time(now)}
    for (ns, kind, name), recs in sorted(by_workload.items()):
        items.append(
            {
                "namespace": ns,
                "kind": kind,
                "name": name,
                "window": dict(span),
                "status": {"recommendation": {"containerRecommendations": [r["rec"] for r in recs]}},
                "containers": [r["detail"] for r in recs],
            }
        )
    return {
        "kind": "RecommendationList",
        "window": span,
        "options": {"cpuPercentile": opts.cpu_percentile, "margin": opts.margin},
        "items": items,
    }


def idle(store: HistoryStore, opts: IdleOptions, now: int) -> dict[str, Any]:
    start = now - opts.duration
    members = [m for m in _members(store, "pod", opts.namespace, start) if m.metric == "cpu"]
    # one group per pod CPU series
    group_of = np.full(max((m.id for m in members), default=0) + 1, -1, I64)
    for k, m in enumerate(members):
        group_of[m.id] = k
    got = window.group_totals(store, start, now, group_of, len(members), totals=True)
    seen_k = np.flatnonzero(got.count > 0).tolist()
    high = dict(zip((members[k].id for k in seen_k), got.high[seen_k].tolist(), strict=True))
    total = dict(zip((members[k].id for k in seen_k), got.total[seen_k].tolist(), strict=True))
    count = dict(zip((members[k].id for k in seen_k), got.count[seen_k].tolist(), strict=True))
    workloads: dict[tuple[str, str, str], list[_Member]] = {}
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
