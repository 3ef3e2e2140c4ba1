"""Answering series and aggregation questions from the store.

**Two kinds of target.** A *stream* (a node, a pod or a container, by name or UID) is one line of
samples; a pod name reused by a new pod (a StatefulSet's ``web-0`` after a rollout) continues the
same line. Its buckets are the distribution of its samples: average, extremes, exact percentiles
over raw samples, sketch percentiles (within 1 %) over rollups. A *sum* (the cluster = its nodes,
a namespace or a workload = its pods, across restarts and rollouts) is first made one line of
totals at the data's resolution (one minute raw, 5 minutes or 1 hour from rollups: per slot, the
sum of each member's mean), and its buckets are the distribution of those totals.

**Where data comes from.** Days already closed are answered from rollup chunks (1-hour ones when
the bucket is a multiple of an hour, 5-minute ones when a multiple of 5 minutes); the open day
and anything finer from raw samples (chunks and head). A bucket that would need raw samples older
than their retention is a :class:`~kubescope.history.request.BadRequest` naming the retention, not
silently empty.

**Gaps are gaps.** Buckets without data are left out, never interpolated, and every answer lists
the ``intervals`` that hold data: consecutive buckets (or raw samples no further apart than twice
the recording resolution) form one interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from kubescope.history import rollup, sketch
from kubescope.history.request import QUANTILES, BadRequest, Range, Target
from kubescope.history.rollup import Rollup
from kubescope.history.series import CPU_UNIT, SeriesRow
from kubescope.history.store import DAY, FIVE_MIN, HOUR, HistoryStore

I64 = np.int64


@dataclass
class Line:
    """One target's data over a range: bucketed (``buckets``) or raw (``ts``/``values``)."""

    members: list[SeriesRow]
    ts: np.ndarray
    values: np.ndarray
    buckets: Rollup | None
    exact: np.ndarray
    """Per bucket of ``buckets``: True when built from raw samples (percentiles are exact)."""
    resolution: int
    sources: list[tuple[int, int, str]]


def _fmt_level(level: int) -> str:
    return {0: "raw", 1: "5m", 2: "1h"}[level]


class Engine:
    """Questions over a :class:`HistoryStore`; every method reads, none writes."""

    def __init__(self, store: HistoryStore, *, resolution: int = 60, clock: object = time.time) -> None:
        self.store = store
        self.resolution = resolution
        self.clock = clock

    def now(self) -> int:
        return int(self.clock())  # type: ignore[operator]

    # -- members -----------------------------------------------------------------------------

    def members(self, target: Target, metric: str, rng: Range) -> list[SeriesRow]:
        kind = "container" if target.container else ("node" if target.scope in ("node", "cluster") else "pod")
        where = ["kind = ?", "metric = ?", "first <= ?", "(last IS NULL OR last >= ?)"]
        params: list[object] = [kind, metric, rng.end, rng.start - 2 * self.store.window]
        if target.container:
            where.append("container = ?")
            params.append(target.container)
        if target.scope == "namespace":
            where.append("namespace = ?")
            params.append(target.namespace)
        elif target.scope == "node":
            where.append("node = ?")
            params.append(target.names[0])
        elif target.scope == "pod":
            where.append("namespace = ?")
            params.append(target.namespace)
            where.append(f"pod IN ({','.join('?' * len(target.names))})")
            params.extend(target.names)
        elif target.scope == "pod-id":
            where.append(f"uid IN ({','.join('?' * len(target.names))})")
            params.extend(target.names)
        elif target.scope == "workload":
            where += ["namespace = ?", "owner_kind = ?", "owner_name = ?"]
            params += [target.namespace, target.owner_kind, target.names[0]]
        return self.store.select_series(" AND ".join(where), tuple(params))

    # -- reading ------------------------------------------------------------------------------

    def _plan(self, rng: Range) -> tuple[int, int]:
        """``(level, split)``: rollup level for ``[start, split)`` (0: none), raw for ``[split, end]``."""
        now = self.now()
        ret = self.store.retention
        days = self.store.days_until()
        level = 0
        if rng.step is not None and rng.step % HOUR == 0:
            level = 2
        elif rng.step is not None and rng.step % FIVE_MIN == 0:
            level = 1
        split = min(max(rng.start, days), rng.end + 1) if level else rng.start
        raw_from = now - ret.raw
        if split < raw_from and rng.end >= raw_from - self.store.window:
            need = (
                "a step or bucket"
                if rng.step is None
                else f"a bucket that is a multiple of {'1h' if level else '5m'}"
            )
            raise BadRequest(
                f"raw samples are kept for {ret.raw // 3600}h (since {raw_from}); for data from {rng.start} ask with {need}"
            )
        if level == 1 and rng.start < now - ret.five_min:
            raise BadRequest(
                f"5-minute rollups are kept for {ret.five_min // DAY}d; for data before {now - ret.five_min} "
                "use a bucket that is a multiple of 1h"
            )
        return level, split

    def line(self, target: Target, metric: str, rng: Range, members: list[SeriesRow] | None = None) -> Line:
        members = self.members(target, metric, rng) if members is None else members
        return self.lines(target, rng, [members])[0]

    def lines(
        self, target: Target, rng: Range, groups: list[list[SeriesRow]], *, quantiles: bool = True
    ) -> list[Line]:
        """One line per group of members, from one read of all their data (a ``pod-list`` page
        costs one pass over the head and one chunk query, not one per pod). Without
        ``quantiles`` (points), rollups are read without their sketches."""
        sids = np.array(sorted({m.id for g in groups for m in g}), I64)
        level, split = self._plan(rng)
        sources: list[tuple[int, int, str]] = []
        old: Rollup | None = None
        if level and split > rng.start and sids.size:
            width = FIVE_MIN if level == 1 else HOUR
            old = self.store.rollups(level, sids, rng.start - rng.start % width, split, sketches=quantiles)
            sources.append((rng.start, split, _fmt_level(level)))
        if sids.size:
            s, ts, v = self.store.raw_samples(sids, split, rng.end)
        else:
            s = ts = v = np.zeros(0, I64)
        if split <= rng.end:
            sources.append((split, rng.end, "raw"))
        if len(groups) == 1:
            return [self._build(target, rng, groups[0], old, s, ts, v, sources, quantiles)]
        # several groups (a pod-list page): rows split by group with one stable sort (each group's
        # rows stay in (series, time) order), not a scan of every sample per group
        group_of = np.full(int(sids.max()) + 1 if sids.size else 1, len(groups), I64)
        for k, members in enumerate(groups):
            group_of[[m.id for m in members]] = k
        raw_at, (s, ts, v) = _by_group(group_of[s], len(groups), s, ts, v)
        olds: list[Rollup | None] = [None] * len(groups)
        if old is not None:
            b_at, cols = _by_group(group_of[old.sid], len(groups), old.sid, old.start, old.count, old.total,
                                   old.low, old.high)  # fmt: skip
            k_at, sk = _by_group(group_of[old.sk_sid], len(groups), old.sk_sid, old.sk_start, old.sk_idx,
                                 old.sk_count)  # fmt: skip
            for k in range(len(groups)):
                (a0, a1), (k0, k1) = b_at[k], k_at[k]
                olds[k] = Rollup(old.width, *(c[a0:a1] for c in cols), *(c[k0:k1] for c in sk))
        out: list[Line] = []
        for k, members in enumerate(groups):
            a0, a1 = raw_at[k]
            out.append(
                self._build(target, rng, members, olds[k], s[a0:a1], ts[a0:a1], v[a0:a1], sources, quantiles)
            )
        return out

    def _build(
        self, target: Target, rng: Range, members: list[SeriesRow], old: Rollup | None,
        s: np.ndarray, ts: np.ndarray, v: np.ndarray, sources: list[tuple[int, int, str]], quantiles: bool = True,
    ) -> Line:  # fmt: skip
        if rng.step is None:
            order = np.argsort(ts, kind="stable")
            return Line(members, ts[order], v[order], None, np.zeros(0, bool), self.resolution, sources)
        if _is_sum(target):
            totals = [_totals_from_samples(s, ts, v, self.resolution)]
            if old is not None:
                totals.append(_totals_from_rollup(old, self.resolution))
            tts = np.concatenate([t for t, _ in totals])
            tv = np.concatenate([x for _, x in totals])
            order = np.argsort(tts, kind="stable")
            tts, tv = tts[order], tv[order]
            b = rollup.from_samples(np.zeros(tts.size, I64), tts, tv, rng.step, sketches=quantiles)
            return Line(members, tts, tv, b, np.ones(len(b), bool), self.resolution, sources)
        # a stream: the samples of all members are one line
        order = np.argsort(ts, kind="stable")
        ts, v = ts[order], v[order]
        fresh = rollup.from_samples(np.zeros(ts.size, I64), ts, v, rng.step, sketches=quantiles)
        if old is None or not len(old):
            return Line(members, ts, v, fresh, np.ones(len(fresh), bool), self.resolution, sources)
        older = rollup.merge([_as_one(old)], rng.step)
        b = rollup.merge([fresh, older], rng.step)
        exact = ~np.isin(b.start, older.start)
        return Line(members, ts, v, b, exact, self.resolution, sources)


def _by_group(group: np.ndarray, n: int, *cols: np.ndarray) -> tuple[list[tuple[int, int]], list[np.ndarray]]:
    """``cols`` reordered by ``group`` (stable) and each group's ``(first, end)`` rows (groups
    ``0 .. n-1``; rows of group ``n``, no group, are dropped)."""
    order = np.argsort(group, kind="stable")
    ends = np.cumsum(np.bincount(group, minlength=n + 1))
    starts = np.concatenate(([0], ends[:-1]))
    return list(zip(starts[:n].tolist(), ends[:n].tolist(), strict=True)), [c[order] for c in cols]


def _is_sum(target: Target) -> bool:
    return target.scope in ("cluster", "namespace", "workload")


def _as_one(r: Rollup) -> Rollup:
    """Every series' buckets as one series' (for streams made of several pods)."""
    return Rollup(
        r.width, np.zeros_like(r.sid), r.start, r.count, r.total, r.low, r.high,
        np.zeros_like(r.sk_sid), r.sk_start, r.sk_idx, r.sk_count,
    )  # fmt: skip


def _totals_from_samples(
    s: np.ndarray, ts: np.ndarray, v: np.ndarray, res: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot of ``res`` seconds, the members' total (see :func:`_sum_by_start`)."""
    if s.size == 0:
        return s, s
    per = rollup.from_samples(s, ts - ts % res, v, res, sketches=False)  # one bucket per (series, slot)
    return _sum_by_start(per.start, per.total, per.count, 1)


def _totals_from_rollup(r: Rollup, res: int) -> tuple[np.ndarray, np.ndarray]:
    if not len(r):
        return r.start, r.start.astype(np.float64)
    return _sum_by_start(r.start, r.total, r.count, max(1, r.width // res))


def _sum_by_start(
    start: np.ndarray, total: np.ndarray, count: np.ndarray, expected: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot: the members' totals over the samples a slot holds (``expected``, or more if a
    member has more): the time average of the sum. A pod present for half an hour of a rollout
    adds half its mean; a slot the recorder missed part of reads low (its interval shows it)."""
    order = np.argsort(start, kind="stable")
    start, total, count = start[order], total[order], count[order]
    bounds = np.flatnonzero(np.concatenate(([True], start[1:] != start[:-1])))
    sums = np.add.reduceat(total.astype(np.float64), bounds)
    most = np.maximum(np.maximum.reduceat(count, bounds), expected)
    return start[bounds], np.round(sums / most).astype(I64)


# -- turning lines into answers ----------------------------------------------------------------


def scale(metric: str, values: np.ndarray) -> list[float] | list[int]:
    """Stored units to the API's: CPU micro-cores to millicores (3 decimals), memory bytes (integers)."""
    v = values.astype(np.float64)
    if metric == "cpu":
        out: list[float] = np.round(v * (1000 / CPU_UNIT), 3).tolist()
        return out
    ints: list[int] = np.rint(v).astype(np.int64).tolist()
    return ints


def intervals(starts: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Runs of consecutive buckets (or samples at most ``width`` apart) as ``(start, end)``."""
    if starts.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(starts) > width)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.append(breaks, starts.size - 1)
    return [
        (int(starts[a]), int(starts[b]) + width) for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True)
    ]


def sample_intervals(ts: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Runs of samples no more than ``gap`` seconds apart, as (first, last) sample times."""
    if ts.size == 0:
        return []
    ts = np.sort(ts)
    breaks = np.flatnonzero(np.diff(ts) > gap)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.append(breaks, ts.size - 1)
    return [(int(ts[a]), int(ts[b])) for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True)]


def bucket_stats(line: Line, wanted: list[str]) -> list[dict[str, float | None]]:
    """Per bucket of ``line``: the ``wanted`` fields (average, minimum, maximum, median, count,
    and percentile names ``50``/``90``/``95``/``99``), in stored units."""
    b = line.buckets
    if b is None or not len(b):
        return []
    qs = [q for q in ("50", "90", "95", "99") if q in wanted]
    need_q = qs + (["50"] if "median" in wanted and "50" not in qs else [])
    per_q: dict[str, np.ndarray] = {}
    if need_q:
        starts = b.start
        approx = sketch.grouped_quantiles(
            np.searchsorted(starts, b.sk_start),
            b.sk_idx,
            b.sk_count,
            starts.size,
            [QUANTILES[q] for q in need_q],
        )
        for k, q in enumerate(need_q):
            per_q[q] = approx[:, k].copy()
        if line.exact.any():
            # buckets built from raw samples (or sums): exact, interpolated quantiles
            tb = line.ts - line.ts % b.width
            order = np.argsort(tb, kind="stable")
            tb_sorted, vals_sorted = tb[order], line.values[order]
            for i in np.flatnonzero(line.exact).tolist():
                lo, hi = np.searchsorted(tb_sorted, [b.start[i], b.start[i] + 1])
                xs = vals_sorted[lo:hi]
                if xs.size:
                    for q in need_q:
                        per_q[q][i] = np.quantile(xs.astype(np.float64), QUANTILES[q])
    out: list[dict[str, float | None]] = []
    for i in range(len(b)):
        row: dict[str, float | None] = {}
        if "count" in wanted:
            row["count"] = int(b.count[i])
        if "average" in wanted:
            row["average"] = float(b.total[i]) / float(b.count[i])
        if "minimum" in wanted:
            row["minimum"] = float(b.low[i])
        if "maximum" in wanted:
            row["maximum"] = float(b.high[i])
        if "median" in wanted:
            row["median"] = float(per_q["50"][i])
        for q in qs:
            row[q] = float(per_q[q][i])
        out.append(row)
    return out
