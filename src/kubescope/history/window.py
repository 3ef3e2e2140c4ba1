"""Group totals over a window: what the whole-cluster questions (recommendations, idle) read.

A question about every workload reads every container's (or pod's) series over up to 14 days, but
needs per *group* of series (a workload's container, a pod) only the samples counted, their sum,
the highest and, for percentiles, the merged sketch. So each block of series is read once (its
daily and hourly summaries, then its head samples) and reduced straight to its groups:

* counts, sums and maxima with ``ufunc.at`` over the group of each summary row and head sample;
* sketch entries with one ``bincount`` over (the block's groups) x (the block's bucket indices),
  the head samples' bucket indices computed in the same pass.

No per-series rollup is built, merged or sorted (that was three quarters of the time: a lexsort
of every head sample, then one of every block's rollup rows), and only the columns the question
reads are touched. Sums, counts, maxima and sketch counts add exactly, so the totals are those of
merging every series' rollups first and then its group's (``tests/history/test_window_totals.py``
checks them against that, series by series).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kubescope.history import rollup, sketch
from kubescope.history.head import BLOCK
from kubescope.history.rollup import DAY, HOUR, Rollup
from kubescope.history.store import LAG, HistoryStore

I64 = np.int64


@dataclass(slots=True)
class GroupTotals:
    """Per group (index ``0..ngroups-1``): its series' samples over the window."""

    count: np.ndarray
    total: np.ndarray
    """All zeros unless asked for (``totals=True``)."""
    high: np.ndarray
    """-1 for a group without samples."""
    sk_group: np.ndarray
    """The merged sketches as entries (group, bucket index, count), sorted by group and index;
    empty unless asked for (``sketches=True``)."""
    sk_idx: np.ndarray
    sk_count: np.ndarray
    covered: int
    """Where the data read starts: whole days when closed days were read from daily summaries."""


_IDX_SPAN = 1 << 13
"""Sketch indices of int64 values are below 2,200 (1 % buckets up to 2**63)."""


class _Sketches:
    """(group, sketch index, count) entries of many blocks, merged as they come. Memory stays
    bounded by the distinct (group, index) pairs: pending entries are merged once they outnumber
    :attr:`LIMIT` or the merged ones, whichever is more (so each entry is sorted O(log) times)."""

    LIMIT = 400_000

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self.pending = 0
        self.merged = 0

    def add(self, group: np.ndarray, idx: np.ndarray, count: np.ndarray) -> None:
        self.keys.append(group * _IDX_SPAN + (idx - sketch.ZERO))
        self.counts.append(count)
        self.pending += group.size
        if self.pending > max(self.LIMIT, self.merged):
            self._merge()

    def _merge(self) -> None:
        if self.pending:
            keys, inv = np.unique(np.concatenate(self.keys), return_inverse=True)
            counts = np.zeros(keys.size, I64)
            np.add.at(counts, inv, np.concatenate(self.counts))
            self.keys, self.counts = [keys], [counts]
        self.pending = 0
        self.merged = self.keys[0].size if self.keys else 0

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._merge()
        if not self.keys:
            z = np.zeros(0, I64)
            return z, z, z
        keys, counts = self.keys[0], self.counts[0]
        return keys // _IDX_SPAN, keys % _IDX_SPAN + sketch.ZERO, counts


class _Block:
    """One block's summary rows and head samples, reduced to the groups they belong to. Head
    samples stay in their rows' matrices (cycles x series): per-series counts, maxima and sums are
    column reductions, and no sample is gathered by series."""

    def __init__(
        self, group_of: np.ndarray, parts: list[Rollup], heads: list[tuple[np.ndarray, ...]]
    ) -> None:
        sids = [p.sid for p in parts if len(p)] + [h[0] for h in heads]
        self.parts = parts
        self.heads: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if not sids:
            self.groups = np.zeros(0, I64)
            return
        # the block's groups, densely numbered: every lookup below is into ~BLOCK entries (ids
        # outside the members' range, as a damaged file could hold, are no member's)
        lo = max(0, min(int(s.min()) for s in sids))
        hi = min(group_of.size - 1, max(int(s.max()) for s in sids))
        g = group_of[lo : hi + 1] if lo <= hi else np.zeros(0, I64)
        self.groups = np.unique(g[g >= 0])
        # one entry more, -1, for every id out of range
        self.local = np.full(g.size + 1, -1, I64)
        self.local[:-1][g >= 0] = np.searchsorted(self.groups, g[g >= 0])
        self.lo = lo
        for ids_, keep, vals in heads:
            loc = self.of(ids_)
            cols = np.flatnonzero(loc >= 0)
            if cols.size < loc.size:
                loc, keep, vals = loc[cols], keep[:, cols], vals[:, cols]
            if loc.size:
                self.heads.append((loc, keep, vals))

    def of(self, sid: np.ndarray) -> np.ndarray:
        """The local group of each id, -1 for none (ids below the range wrap to huge unsigned)."""
        pos = np.minimum((sid - self.lo).view(np.uint64), self.local.size - 1)
        out: np.ndarray = self.local[pos]
        return out

    def add_to(self, count: np.ndarray, total: np.ndarray | None, high: np.ndarray) -> None:
        n = self.groups.size
        c = np.zeros(n, I64)
        t = np.zeros(n, I64)
        h = np.full(n, -1, I64)
        for p in self.parts:
            loc = self.of(p.sid)
            keep = loc >= 0
            loc = loc[keep]
            np.add.at(c, loc, p.count[keep])
            np.maximum.at(h, loc, p.high[keep])
            if total is not None:
                np.add.at(t, loc, p.total[keep])
        for loc, keep, vals in self.heads:
            every = bool(keep.all())
            np.add.at(c, loc, keep.sum(axis=0))
            np.maximum.at(h, loc, (vals if every else np.where(keep, vals, -1)).max(axis=0))
            if total is not None:
                np.add.at(t, loc, (vals if every else np.where(keep, vals, 0)).sum(axis=0))
        count[self.groups] += c
        np.maximum(high[self.groups], h, out=h)
        high[self.groups] = h
        if total is not None:
            total[self.groups] += t

    def sketch_entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The block's sketch entries merged per (group, index): bincounts, no sort."""
        locs: list[np.ndarray] = []
        idxs: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for p in self.parts:
            loc = self.of(p.sk_sid)
            keep = loc >= 0
            locs.append(loc[keep])
            idxs.append(p.sk_idx[keep])
            weights.append(p.sk_count[keep].astype(np.float64))
        head_idx = [sketch.index(vals) for _, _, vals in self.heads]
        bounds = [(int(i.min()), int(i.max())) for i in idxs + head_idx if i.size]
        if not bounds:
            z = np.zeros(0, I64)
            return z, z, z
        ilo = min(b[0] for b in bounds)
        width = max(b[1] for b in bounds) - ilo + 1
        size = self.groups.size * width
        hist = np.zeros(size)
        if locs:
            loc, idx = np.concatenate(locs), np.concatenate(idxs)
            # counts are far below 2**53: float64 weights add them exactly
            hist += np.bincount(loc * width + (idx - ilo), weights=np.concatenate(weights), minlength=size)
        for (loc, keep, _), idx in zip(self.heads, head_idx, strict=True):
            key = idx + (loc * width - ilo)  # (cycles x series): each column its group's row
            hist += np.bincount(key.ravel() if keep.all() else key[keep], minlength=size)
        nz = np.flatnonzero(hist)
        return self.groups[nz // width], nz % width + ilo, hist[nz].astype(I64)


def group_totals(
    store: HistoryStore,
    start: int,
    now: int,
    group_of: np.ndarray,
    ngroups: int,
    *,
    sketches: bool = False,
    totals: bool = False,
) -> GroupTotals:
    """Totals over ``[start, now]`` of the series ``sid`` with ``group_of[sid] >= 0``, per group.

    Closed days come from daily summaries (whole days: ``covered`` then starts at the first day's
    midnight), the open day from its compacted windows' hourly summaries and the head; memory is
    bounded by one block of series, plus the merged sketches."""
    days = store.days_until()
    compacted = store.compacted_until()
    day0 = start - start % DAY
    closed_days = (
        store.conn()
        .execute("SELECT 1 FROM summary WHERE level = 3 AND start >= ? AND start < ? LIMIT 1", (day0, days))
        .fetchone()
    )
    covered = day0 if closed_days else start
    count = np.zeros(ngroups, I64)
    total = np.zeros(ngroups, I64)
    high = np.full(ngroups, -1, I64)
    merged = _Sketches()
    members = np.flatnonzero(group_of >= 0)
    for blk in np.unique(members // BLOCK).tolist():
        skip = rollup.TOTALS_ONLY if totals else rollup.TOTALS_ONLY | {"total"}
        daily = store.summaries_joined(3, day0, days, blk, skip=skip)
        hourly = store.summaries_joined(2, max(days, start - start % HOUR), now + 1, blk, skip=skip)
        b = _Block(group_of, [daily, hourly], list(_head(store, blk, max(start, compacted), now)))
        if not b.groups.size:
            continue
        b.add_to(count, total if totals else None, high)
        if sketches:
            merged.add(*b.sketch_entries())
    sk_group, sk_idx, sk_count = merged.entries()
    return GroupTotals(count, total, high, sk_group, sk_idx, sk_count, covered)


def _head(store: HistoryStore, blk: int, t_lo: int, t_hi: int) -> Iterator[tuple[np.ndarray, ...]]:
    """A block's head matrices ``(ids, keep, values)``: ``keep`` marks the samples taken in
    ``[t_lo, t_hi]`` (rows are selected by cycle time, :data:`~.store.LAG` around the bounds)."""
    where = "block = ? AND t >= ? AND t <= ?"
    for ids, times, offs, vals in store.head.matrices(store.conn(), where, (blk, t_lo - LAG, t_hi + LAG)):
        keep = vals >= 0
        keep &= offs >= (t_lo - times)[:, None]
        keep &= offs <= (t_hi - times)[:, None]
        yield ids, keep, vals
