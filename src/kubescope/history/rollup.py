"""Rollups: per series and bucket, count, sum, min, max and a percentile sketch, computed in bulk.

Everything here works on flat numpy columns for many series at once (a compaction window holds
every series of the cluster), never on one series in a Python loop: bucketing is a lexsort and a
few ``reduceat`` calls. Rollups merge exactly: coarser buckets from finer ones (5 minutes into an
hour, hours into a day) give the same counts, sums, minima, maxima and sketches as rolling the raw
samples up directly, which is what lets a 14-day question read 14 daily rows instead of 20,160
samples per series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kubescope.errors import DecodeError
from kubescope.history import codec, sketch

I64 = np.int64
FIVE_MIN = 300
HOUR = 3600
DAY = 86400
"""The widths rollups are kept at (and the daily summaries')."""


@dataclass(slots=True)
class Rollup:
    """Buckets of many series: rows sorted by (series, start); sketch entries by (series, start, idx)."""

    width: int
    sid: np.ndarray
    start: np.ndarray
    count: np.ndarray
    total: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sk_sid: np.ndarray
    sk_start: np.ndarray
    sk_idx: np.ndarray
    sk_count: np.ndarray

    def __len__(self) -> int:
        return int(self.sid.size)

    @classmethod
    def empty(cls, width: int) -> Rollup:
        z = np.zeros(0, I64)
        return cls(width, z, z, z, z, z, z, z, z, z, z)

    def take(self, mask: np.ndarray, sk_mask: np.ndarray) -> Rollup:
        return Rollup(
            self.width, self.sid[mask], self.start[mask], self.count[mask], self.total[mask],
            self.low[mask], self.high[mask], self.sk_sid[sk_mask], self.sk_start[sk_mask],
            self.sk_idx[sk_mask], self.sk_count[sk_mask],
        )  # fmt: skip


def _runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For columns already sorted by ``keys``: the order is identity; returns run starts."""
    n = keys[0].size
    if n == 0:
        return np.zeros(0, I64), np.zeros(0, I64)
    change = np.zeros(n, bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    return starts, np.append(starts[1:], n)


def from_samples(
    sid: np.ndarray, ts: np.ndarray, values: np.ndarray, width: int, *, sketches: bool = True
) -> Rollup:
    """Roll samples (any order) up into buckets of ``width`` seconds aligned to the epoch; without
    ``sketches`` (points and sums need only count, total and extremes) no sketch entries."""
    if sid.size == 0:
        return Rollup.empty(width)
    start = ts - ts % width
    idx = sketch.index(values) if sketches else None
    order = _bucket_order(sid, start, width, idx)
    sid, start, values = sid[order], start[order], values[order]
    rs, _ = _runs(sid, start)
    count = np.diff(np.append(rs, sid.size))
    total = np.add.reduceat(values, rs)
    low = np.minimum.reduceat(values, rs)
    high = np.maximum.reduceat(values, rs)
    if idx is None:  # no sketches
        z = np.zeros(0, I64)
        return Rollup(width, sid[rs], start[rs], count.astype(I64), total.astype(I64), low, high, z, z, z, z)
    idx = idx[order]  # sorted within each bucket: runs of (sid, start, idx) are the sketch entries
    ks, ke = _runs(sid, start, idx)
    return Rollup(
        width, sid[rs], start[rs], count.astype(I64), total.astype(I64), low, high,
        sid[ks], start[ks], idx[ks], (ke - ks).astype(I64),
    )  # fmt: skip


def _bucket_order(sid: np.ndarray, start: np.ndarray, width: int, idx: np.ndarray | None) -> np.ndarray:
    """The order of samples by (series, bucket start[, sketch index]): one stable argsort of the
    three packed into an int64 where they fit (5x faster than a lexsort of the columns, and samples
    arrive sorted by series and time, runs that a stable sort merges cheaply), a lexsort otherwise."""
    s0, b0 = int(sid.min()), int(start.min()) // width
    n_buckets = int(start.max()) // width - b0 + 1
    i0, n_idx = (int(idx.min()), int(idx.max()) - int(idx.min()) + 1) if idx is not None else (0, 1)
    if (int(sid.max()) - s0 + 1) * n_buckets * n_idx >= 1 << 62:
        return np.lexsort((idx, start, sid) if idx is not None else (start, sid))
    key = ((sid - s0) * n_buckets + (start // width - b0)) * n_idx
    if idx is not None:
        key += idx - i0
    out: np.ndarray = np.argsort(key, kind="stable")
    return out


def merge(parts: list[Rollup], width: int) -> Rollup:
    """Rollups (same or finer widths dividing ``width``) merged into buckets of ``width``."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Rollup.empty(width)
    sid = np.concatenate([p.sid for p in parts])
    start = np.concatenate([p.start for p in parts])
    start = start - start % width
    count = np.concatenate([p.count for p in parts])
    total = np.concatenate([p.total for p in parts])
    low = np.concatenate([p.low for p in parts])
    high = np.concatenate([p.high for p in parts])
    order = np.lexsort((start, sid))
    sid, start, count, total, low, high = (a[order] for a in (sid, start, count, total, low, high))
    rs, _ = _runs(sid, start)
    if rs.size == 0:
        return Rollup.empty(width)
    s_sid = np.concatenate([p.sk_sid for p in parts])
    s_start = np.concatenate([p.sk_start for p in parts])
    s_start = s_start - s_start % width
    s_idx = np.concatenate([p.sk_idx for p in parts])
    s_cnt = np.concatenate([p.sk_count for p in parts])
    order = np.lexsort((s_idx, s_start, s_sid))
    s_sid, s_start, s_idx, s_cnt = s_sid[order], s_start[order], s_idx[order], s_cnt[order]
    ks, _ = _runs(s_sid, s_start, s_idx)
    return Rollup(
        width, sid[rs], start[rs], np.add.reduceat(count, rs), np.add.reduceat(total, rs),
        np.minimum.reduceat(low, rs), np.maximum.reduceat(high, rs),
        s_sid[ks], s_start[ks], s_idx[ks], np.add.reduceat(s_cnt, ks) if ks.size else s_cnt[:0],
    )  # fmt: skip


def split(r: Rollup) -> dict[int, Rollup]:
    """One rollup per series."""
    out: dict[int, Rollup] = {}
    if not len(r):
        return out
    rs, re_ = _runs(r.sid)
    ks, ke = _runs(r.sk_sid)
    sk_bounds = {int(r.sk_sid[a]): (a, b) for a, b in zip(ks.tolist(), ke.tolist(), strict=True)}
    for a, b in zip(rs.tolist(), re_.tolist(), strict=True):
        s = int(r.sid[a])
        ka, kb = sk_bounds.get(s, (0, 0))
        out[s] = Rollup(
            r.width, r.sid[a:b], r.start[a:b], r.count[a:b], r.total[a:b], r.low[a:b], r.high[a:b],
            r.sk_sid[ka:kb], r.sk_start[ka:kb], r.sk_idx[ka:kb], r.sk_count[ka:kb],
        )  # fmt: skip
    return out


def _keys(sid: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    out: np.ndarray = sid * (1 << 32) + start // width
    return out


def encode_per_series(r: Rollup) -> list[tuple[int, int, int, int, bytes]]:
    """One chunk per series: ``(sid, first bucket start, last bucket end, buckets, blob)``."""
    if not len(r):
        return []
    starts, ends = _runs(r.sid)
    sids = r.sid[starts]
    # sketch entries: per series, and each names its bucket by position within the chunk
    row = np.searchsorted(_keys(r.sid, r.start, r.width), _keys(r.sk_sid, r.sk_start, r.width))
    k_starts = np.searchsorted(r.sk_sid, sids, side="left")
    k_ends = np.searchsorted(r.sk_sid, sids, side="right")
    seg_of_entry = np.searchsorted(starts, row, side="right") - 1
    pos = row - starts[seg_of_entry]
    buckets = codec.Table(
        (
            codec.Column(r.start // r.width, 1), codec.Column(r.count, 1), codec.Column(r.total, 1),
            codec.Column(r.low, 1), codec.Column(r.high, 1),
        ),
        starts, ends,
    )  # fmt: skip
    entries = codec.Table(
        (codec.Column(pos, 1), codec.Column(r.sk_idx, 1), codec.Column(r.sk_count, 0)), k_starts, k_ends
    )
    blobs = codec.encode_segments([buckets, entries])
    return list(
        zip(
            sids.tolist(), r.start[starts].tolist(), (r.start[ends - 1] + r.width).tolist(),
            (ends - starts).tolist(), blobs, strict=True,
        )
    )  # fmt: skip


def encode(r: Rollup) -> bytes:
    """One series' buckets as a chunk blob (the series id is the row's, not stored)."""
    return encode_per_series(r)[0][4]


def decode(blob: bytes, sid: int, width: int, *, sketches: bool = True) -> Rollup:
    """One series' chunk; without ``sketches`` its buckets only (no percentiles asked)."""
    if not sketches:
        ((start, count, total, low, high),) = codec.decode_segment(blob, (5, 3), tables=1)
        z = np.zeros(0, I64)
        return Rollup(
            width, np.full(start.size, sid, I64), start * width, count, total, low, high, z, z, z, z
        )
    (start, count, total, low, high), (pos, sk_idx, sk_count) = codec.decode_segment(blob, (5, 3))
    start = start * width
    if pos.size and (pos.min() < 0 or pos.max() >= start.size):
        raise DecodeError("corrupt rollup chunk: a sketch entry names no bucket")
    return Rollup(
        width, np.full(start.size, sid, I64), start, count, total, low, high,
        np.full(sk_idx.size, sid, I64), start[pos], sk_idx, sk_count,
    )  # fmt: skip


def encode_many(r: Rollup) -> bytes:
    """Buckets of many series in one blob (the all-series hour and day summaries)."""
    one = np.zeros(1, I64)
    buckets = codec.Table(
        (
            codec.Column(r.sid, 1), codec.Column(r.start // r.width, 1), codec.Column(r.count, 0),
            codec.Column(r.total, 0), codec.Column(r.low, 0), codec.Column(r.high, 0),
        ),
        one, np.array([len(r)], I64),
    )  # fmt: skip
    entries = codec.Table(
        (
            codec.Column(r.sk_sid, 1), codec.Column(r.sk_start // r.width, 1), codec.Column(r.sk_idx, 1),
            codec.Column(r.sk_count, 0),
        ),
        one, np.array([r.sk_sid.size], I64),
    )  # fmt: skip
    return codec.encode_segments([buckets, entries])[0]


TOTALS_ONLY = frozenset({"start", "low", "sk_start"})
"""What group totals do not read of a summary (:mod:`.window`)."""


_MANY_COLUMNS = (
    ("sid", "start", "count", "total", "low", "high"),
    ("sk_sid", "sk_start", "sk_idx", "sk_count"),
)


def _not_read(skip: frozenset[str]) -> frozenset[tuple[int, int]]:
    return frozenset(
        (k, j) for k, names in enumerate(_MANY_COLUMNS) for j, name in enumerate(names) if name in skip
    )


def decode_many(blob: bytes, width: int, *, skip: frozenset[str] = frozenset()) -> Rollup:
    """A summary blob; the fields named in ``skip`` are left empty (not decoded)."""
    return _many(width, codec.decode_segment(blob, (6, 4), skip=_not_read(skip)))


def decode_many_joined(blobs: list[bytes], width: int, *, skip: frozenset[str] = frozenset()) -> Rollup:
    """Several summary blobs as one rollup, their rows one after another (neither sorted nor
    merged: for totals, which do not care), decoded together (:func:`.codec.decode_joined`)."""
    return _many(width, codec.decode_joined(blobs, (6, 4), skip=_not_read(skip)))


def _many(width: int, tables: list[list[np.ndarray]]) -> Rollup:
    (sid, start, count, total, low, high), (sk_sid, sk_start, sk_idx, sk_count) = tables
    return Rollup(
        width, sid, start * width, count, total, low, high, sk_sid, sk_start * width, sk_idx, sk_count
    )
