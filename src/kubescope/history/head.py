"""The head: recent samples, one row per recording cycle and block of series, until compaction.

A cycle's samples are split by *block* (``series id // BLOCK``): each block present in the cycle
becomes one row ``(t, block, map, data)``, where ``map`` names the sorted series ids of the block
the row covers and ``data`` holds, per id of the map, the sample's time (int32 offset from ``t``)
and value (int64, -1 for none). A cycle of 120,000 series is ~940 rows of 1.5 KB written in one
transaction (a few milliseconds), and everything that reads the head reads only the blocks it
needs: compaction one block at a time (memory bounded by a block's window, not the cluster's),
a query the blocks of its series.

Why blocks of 128: the memory of compaction and of a day's close grows with a block's samples
(128 series x 1,440 samples a day at a one-minute resolution is 184,000 sketch entries at most),
while the per-row and per-block fixed costs grow with their number (~940 rows a cycle at 120,000
series). 128 keeps both small at every resolution from 15 s to minutes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from kubescope.errors import DecodeError

I64 = np.int64
BLOCK = 128
"""Series ids per block."""


@dataclass
class _Map:
    id: int
    ids: np.ndarray


class Head:
    """Appends and reads head rows (the caller holds the store's write lock and transaction)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.current: dict[int, _Map] = {}
        """The map each block's next row uses (reset when a window is compacted)."""
        self.maps: dict[int, np.ndarray] = {}
        """Every map read or written (id -> sorted ids); maps are small (at most BLOCK ids)."""

    def reset(self) -> None:
        """After a compaction: the next cycle starts maps of the series still alive."""
        self.current.clear()
        self.maps.clear()

    def append(
        self, c: sqlite3.Connection, t: int, sids: np.ndarray, ts: np.ndarray, values: np.ndarray
    ) -> int:
        """Write one cycle (``sids`` sorted, unique); returns the rows written."""
        if sids.size == 0:
            return 0
        blocks = sids // BLOCK
        starts = np.flatnonzero(np.concatenate(([True], blocks[1:] != blocks[:-1])))
        ends = np.append(starts[1:], sids.size)
        offs_all = (ts - t).astype("<i4")
        vals_all = values.astype("<i8")
        rows = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            blk = int(blocks[a])
            part = sids[a:b]
            m = self.current.get(blk)
            pos = None
            if m is not None:
                pos = np.searchsorted(m.ids, part)
                if pos[-1] >= m.ids.size or not (m.ids[np.minimum(pos, m.ids.size - 1)] == part).all():
                    pos = None
            if m is None or pos is None:
                ids = np.union1d(m.ids, part) if m is not None else part.copy()
                cur = c.execute(
                    "INSERT INTO head_map(block, ids) VALUES(?, ?)", (blk, ids.astype("<i8").tobytes())
                )
                m = self.current[blk] = _Map(int(cur.lastrowid or 0), ids)
                self.maps[m.id] = ids
                pos = np.searchsorted(ids, part)
            if pos.size == m.ids.size:
                data = offs_all[a:b].tobytes() + vals_all[a:b].tobytes()
            else:
                offs = np.zeros(m.ids.size, "<i4")
                vals = np.full(m.ids.size, -1, "<i8")
                offs[pos] = offs_all[a:b]
                vals[pos] = vals_all[a:b]
                data = offs.tobytes() + vals.tobytes()
            rows.append((t, blk, m.id, data))
        c.executemany("INSERT INTO head(t, block, map, data) VALUES(?,?,?,?)", rows)
        return len(rows)

    def _load_maps(self, c: sqlite3.Connection, ids: Iterable[int]) -> None:
        missing = sorted({i for i in ids if i not in self.maps})
        for k in range(0, len(missing), 500):
            part = missing[k : k + 500]
            q = ",".join("?" * len(part))
            for mid, blob in c.execute(f"SELECT id, ids FROM head_map WHERE id IN ({q})", part):  # noqa: S608
                self.maps[int(mid)] = np.frombuffer(blob, "<i8")

    def matrices(
        self, c: sqlite3.Connection, where: str, params: tuple[object, ...]
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """The rows matching ``where``, one matrix per series map (its rows decoded together):
        ``(ids, times, offsets, values)``: the map's sorted series ids (n), the rows' cycle times
        (r), every sample's time offset from its row's (r x n, int32) and value (r x n, int64;
        -1 where the series has no sample in that cycle)."""
        rows = c.execute(f"SELECT t, map, data FROM head WHERE {where}", params).fetchall()  # noqa: S608
        if not rows:
            return
        # columns by zip, rows of a map by numpy: no Python step per row (a block's day is ~1,400)
        ts, mids, datas = zip(*rows, strict=True)
        self._load_maps(c, set(mids))
        times = np.array(ts, I64)
        by_row = np.array(mids, I64)
        for mid in dict.fromkeys(mids):
            ids = self.maps.get(mid)
            if ids is None:
                raise DecodeError(f"{self.path}: head rows name a missing series map {mid}")
            n = ids.size
            if (by_row == mid).all():
                sel, data = None, datas
            else:
                sel = np.flatnonzero(by_row == mid)
                data = tuple(datas[k] for k in sel.tolist())
            if set(map(len, data)) != {12 * n}:
                raise DecodeError(f"{self.path}: a head row of map {mid} is not {12 * n} bytes")
            raw = np.frombuffer(b"".join(data), np.uint8).reshape(len(data), 12 * n)
            offs = raw[:, : 4 * n].copy().view("<i4")
            vals = raw[:, 4 * n :].copy().view("<i8")
            yield ids, times if sel is None else times[sel], offs, vals

    def read(
        self, c: sqlite3.Connection, where: str, params: tuple[object, ...], want: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples ``(sid, ts, value)`` of the rows matching ``where`` (of the ids in ``want``, all
        when None), unsorted. Rows of one map are decoded together (one numpy pass per map)."""
        parts_s: list[np.ndarray] = []
        parts_t: list[np.ndarray] = []
        parts_v: list[np.ndarray] = []
        for ids, times, offs, vals in self.matrices(c, where, params):
            if want is not None:
                cols = np.flatnonzero(np.isin(ids, want))
                offs, vals, sel = offs[:, cols], vals[:, cols], ids[cols]
            else:
                sel = ids
            keep = vals >= 0
            parts_s.append(np.broadcast_to(sel, vals.shape)[keep])
            parts_t.append((offs.astype(I64) + times[:, None])[keep])
            parts_v.append(vals[keep])
        if not parts_s:
            z = np.zeros(0, I64)
            return z, z, z
        return np.concatenate(parts_s), np.concatenate(parts_t), np.concatenate(parts_v)
