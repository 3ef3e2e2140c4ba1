"""Compaction, day close and retention of a :class:`~kubescope.history.store.HistoryStore`.

Everything goes block by block (:data:`~kubescope.history.head.BLOCK` series ids), one short
transaction per block, so the memory compaction needs is one block's window (or day) whatever the
number of series (at 120,000 series a two-hour window is 14 million samples, a block's 15,000),
and a recording cycle waits at most for one block's transaction, never for a whole window. A time
``budget`` makes :func:`compact` stop between blocks and go on at its next call: a recorder calls it
after each cycle with a share of its resolution.

* **A window** (the head rows of the oldest window, once a cycle of a later window arrived): per
  block, the samples become one raw chunk per series and the block's 5-minute and 1-hour rollups
  two summaries, and the block's head rows go. When no block has rows of the window left, the
  store's ``compacted`` mark moves past it.
* **A day** (once every window of it is compacted): per block, the day's 5-minute and 1-hour
  summaries become one rollup chunk per series and level (288 and 24 buckets) and a daily summary
  of the block, and the day's raw window chunks one raw day chunk per series (re-encoded whole:
  fewer, larger rows compress better). A block is done when its daily summary exists; when every
  block is, the day's window summaries go and the ``days`` mark moves past the day.

A crash between two blocks leaves each block either done or not: the next call carries on. Until
the marks move, readers use what is there (head rows or raw chunks; window summaries).

**Retention**: chunks and daily summaries older than their level's retention are deleted, then
series with no chunk left that ended before the longest retention.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kubescope.history import codec, rollup
from kubescope.history.head import BLOCK
from kubescope.history.rollup import DAY, FIVE_MIN, HOUR
from kubescope.log import fields

if TYPE_CHECKING:
    from kubescope.history.store import HistoryStore

logger = logging.getLogger(__name__)

I64 = np.int64


@dataclass
class CompactionStats:
    windows: int = 0
    days: int = 0
    blocks: int = 0
    samples: int = 0
    series: int = 0
    seconds: float = 0.0
    expired_rows: int = 0
    more: bool = False
    """Stopped by the budget: call again."""


class _Transaction:
    def __init__(self, c: sqlite3.Connection) -> None:
        self.c = c

    def __enter__(self) -> sqlite3.Connection:
        self.c.execute("BEGIN IMMEDIATE")
        return self.c

    def __exit__(self, typ: object, exc: object, tb: object) -> None:
        self.c.execute("COMMIT" if typ is None else "ROLLBACK")


def compact(store: HistoryStore, upto: int | None = None, budget: float | None = None) -> CompactionStats:
    """Compact closed windows (ending at or before ``upto``, default: the newest head row's
    window start), close finished days, apply retention; stop between blocks once ``budget``
    seconds have passed (``more`` says so). The caller holds the store's write lock."""
    stats = CompactionStats()
    t0 = time.perf_counter()
    deadline = None if budget is None else t0 + budget
    limit = store.latest if upto is None else upto
    c = store.conn()
    done = _windows(store, c, limit, deadline, stats) and _days(store, c, deadline, stats)
    stats.more = not done
    if done and (stats.windows or stats.days or upto is not None):
        stats.expired_rows += _expire(store, c, limit)
    stats.seconds = time.perf_counter() - t0
    if stats.windows or stats.days:
        logger.info(
            "compacted",
            extra=fields(windows=stats.windows, days=stats.days, blocks=stats.blocks, samples=stats.samples,
                         series=stats.series, seconds=f"{stats.seconds:.2f}"),
        )  # fmt: skip
    return stats


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


# -- windows -----------------------------------------------------------------------------------


def _windows(
    store: HistoryStore, c: sqlite3.Connection, limit: int, deadline: float | None, stats: CompactionStats
) -> bool:
    while True:
        row = c.execute("SELECT min(t) FROM head").fetchone()
        if not row or row[0] is None:
            return True
        w0 = int(row[0]) - int(row[0]) % store.window
        w1 = w0 + store.window
        if w1 > limit:
            return True
        blocks = [
            int(b) for (b,) in c.execute("SELECT DISTINCT block FROM head WHERE t < ? ORDER BY block", (w1,))
        ]
        for blk in blocks:
            if stats.blocks and _late(deadline):  # at least one block a call
                return False
            _window_block(store, c, w0, w1, blk, stats)
        with _Transaction(c):
            c.execute("DELETE FROM head_map WHERE id NOT IN (SELECT DISTINCT map FROM head)")
            c.execute("INSERT OR REPLACE INTO meta VALUES('compacted', ?)", (str(w1),))
        store.head.reset()
        stats.windows += 1


def _window_block(
    store: HistoryStore, c: sqlite3.Connection, w0: int, w1: int, blk: int, stats: CompactionStats
) -> None:
    with _Transaction(c):
        sid, ts, v = store.head.read(c, "block = ? AND t < ?", (blk, w1), None)
        if sid.size:
            order = np.lexsort((ts, sid))
            sid, ts, v = sid[order], ts[order], v[order]
            raw = codec.encode_raw_many(sid, ts, v)
            c.executemany(
                "INSERT OR REPLACE INTO chunk(level, series, start, end, n, span, data) VALUES(0,?,?,?,?,?,?)",
                [(s, a, b, n, w0, blob) for s, a, b, n, blob in raw],
            )
            five = rollup.from_samples(sid, ts, v, FIVE_MIN)
            hour = rollup.merge([five], HOUR)
            c.executemany(
                "INSERT OR REPLACE INTO summary(level, start, block, data) VALUES(?,?,?,?)",
                [(1, w0, blk, rollup.encode_many(five)), (2, w0, blk, rollup.encode_many(hour))],
            )
            c.executemany(
                "UPDATE series SET last = max(coalesce(last, 0), ?) WHERE id = ?", [(r[2], r[0]) for r in raw]
            )
            stats.samples += int(sid.size)
            stats.series += len(raw)
        c.execute("DELETE FROM head WHERE block = ? AND t < ?", (blk, w1))
    stats.blocks += 1


# -- days --------------------------------------------------------------------------------------


def _days(store: HistoryStore, c: sqlite3.Connection, deadline: float | None, stats: CompactionStats) -> bool:
    until = store.compacted_until()
    while True:
        first = c.execute("SELECT min(start) FROM summary WHERE level=1").fetchone()
        if not until or not first or first[0] is None:
            return True
        d0 = int(first[0]) - int(first[0]) % DAY
        d1 = d0 + DAY
        if d1 > until:
            return True
        pending = [
            int(b)
            for (b,) in c.execute(
                "SELECT DISTINCT block FROM summary s WHERE level IN (1, 2) AND start >= ? AND start < ? "
                "AND NOT EXISTS (SELECT 1 FROM summary d WHERE d.level = 3 AND d.block = s.block AND d.start = ?) "
                "ORDER BY block",
                (d0, d1, d0),
            )
        ]
        for blk in pending:
            if stats.blocks and _late(deadline):
                return False
            _day_block(c, d0, d1, blk)
            stats.blocks += 1
        with _Transaction(c):
            c.execute("DELETE FROM summary WHERE level IN (1, 2) AND start < ?", (d1,))
            c.execute("INSERT OR REPLACE INTO meta VALUES('days', ?)", (str(d1),))
        stats.days += 1


def _day_block(c: sqlite3.Connection, d0: int, d1: int, blk: int) -> None:
    with _Transaction(c):
        parts = {
            level: [
                rollup.decode_many(blob, width)
                for (blob,) in c.execute(
                    "SELECT data FROM summary WHERE level=? AND block=? AND start >= ? AND start < ? ORDER BY start",
                    (level, blk, d0, d1),
                )
            ]
            for level, width in ((1, FIVE_MIN), (2, HOUR))
        }
        five = rollup.merge(parts[1], FIVE_MIN)
        hour = rollup.merge(parts[2], HOUR)
        sql = "INSERT OR REPLACE INTO chunk(level, series, start, end, n, span, data) VALUES(?,?,?,?,?,?,?)"
        for level, r in ((1, five), (2, hour)):
            c.executemany(
                sql, [(level, s, a, b, n, d0, blob) for s, a, b, n, blob in rollup.encode_per_series(r)]
            )
        day = rollup.merge([hour], DAY)
        c.execute(
            "INSERT OR REPLACE INTO summary(level, start, block, data) VALUES(3, ?, ?, ?)",
            (d0, blk, rollup.encode_many(day)),
        )
        _raw_day(c, d0, d1, blk, sql)


def _raw_day(c: sqlite3.Connection, d0: int, d1: int, blk: int, sql: str) -> None:
    """The block's raw window chunks of the day, re-encoded as one chunk per series."""
    rows = c.execute(
        "SELECT id, series, data FROM chunk WHERE level = 0 AND series >= ? AND series < ? "
        "AND span >= ? AND span < ? ORDER BY series, start",
        (blk * BLOCK, (blk + 1) * BLOCK, d0, d1),
    ).fetchall()
    if not rows:
        return
    sids: list[np.ndarray] = []
    tss: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for _, s, blob in rows:
        ts, v = codec.decode_raw(blob)
        sids.append(np.full(ts.size, s, I64))
        tss.append(ts)
        vals.append(v)
    sid, ts, v = np.concatenate(sids), np.concatenate(tss), np.concatenate(vals)
    order = np.lexsort((ts, sid))
    raw = codec.encode_raw_many(sid[order], ts[order], v[order])
    c.executemany(sql, [(3, s, a, b, n, d0, blob) for s, a, b, n, blob in raw])
    c.executemany("DELETE FROM chunk WHERE id = ?", [(r[0],) for r in rows])


# -- retention ---------------------------------------------------------------------------------


def _expire(store: HistoryStore, c: sqlite3.Connection, now: int) -> int:
    r = store.retention
    n = 0
    with _Transaction(c):
        for level, keep in ((0, r.raw), (3, r.raw), (1, r.five_min), (2, r.hour)):
            n += c.execute("DELETE FROM chunk WHERE level=? AND end < ?", (level, now - keep)).rowcount
        n += c.execute("DELETE FROM summary WHERE level=3 AND start < ?", (now - r.hour,)).rowcount
        n += c.execute(
            "DELETE FROM series WHERE last IS NOT NULL AND last < ? AND NOT EXISTS "
            "(SELECT 1 FROM chunk WHERE level IN (0, 1, 2, 3) AND chunk.series = series.id)",
            (now - r.hour,),
        ).rowcount
    return n
