"""Compaction, day close and retention of a :class:`~kubescope.history.store.HistoryStore`.

Everything goes block by block (:data:`~kubescope.history.head.BLOCK` series ids), so the memory a
compaction needs is one block's window (or day), whatever the number of series: at 120,000 series
a two-hour window is 14 million samples, which whole would take a quarter of a gigabyte in numpy
arrays and their sort; a block's is 15,000.

* **A window** (the head rows of the oldest window, once a cycle of a later window arrived): per
  block, the samples become one raw chunk per series and the block's 5-minute and 1-hour rollups
  two summaries; then the window's head rows are deleted. One transaction.
* **A day** (once every window of it is compacted): per block, the day's 5-minute and 1-hour
  summaries become one rollup chunk per series and level (288 and 24 buckets) and one daily
  summary of the block; then the day's window summaries are deleted. One transaction.
* **Retention**: chunks and daily summaries older than their level's retention are deleted, then
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
from kubescope.history.rollup import DAY, FIVE_MIN, HOUR
from kubescope.log import fields

if TYPE_CHECKING:
    from kubescope.history.store import HistoryStore

logger = logging.getLogger(__name__)


@dataclass
class CompactionStats:
    windows: int = 0
    days: int = 0
    samples: int = 0
    series: int = 0
    seconds: float = 0.0
    expired_rows: int = 0


class _Transaction:
    def __init__(self, c: sqlite3.Connection) -> None:
        self.c = c

    def __enter__(self) -> sqlite3.Connection:
        self.c.execute("BEGIN IMMEDIATE")
        return self.c

    def __exit__(self, typ: object, exc: object, tb: object) -> None:
        self.c.execute("COMMIT" if typ is None else "ROLLBACK")


def compact(store: HistoryStore, upto: int | None = None) -> CompactionStats:
    """Compact every closed window (ending at or before ``upto``, default: the newest head row's
    window start), close finished days, then apply retention (the caller holds the write lock)."""
    stats = CompactionStats()
    t0 = time.perf_counter()
    limit = store.latest if upto is None else upto
    c = store.conn()
    while True:
        row = c.execute("SELECT min(t) FROM head").fetchone()
        if not row or row[0] is None:
            break
        w0 = int(row[0]) - int(row[0]) % store.window
        w1 = w0 + store.window
        if w1 > limit:
            break
        _compact_window(store, c, w0, w1, stats)
    _close_days(store, c, stats)
    stats.expired_rows += _expire(store, c, limit)
    stats.seconds = time.perf_counter() - t0
    if stats.windows:
        logger.info(
            "compacted",
            extra=fields(windows=stats.windows, days=stats.days, samples=stats.samples,
                         series=stats.series, seconds=f"{stats.seconds:.2f}"),
        )  # fmt: skip
    return stats


def _compact_window(
    store: HistoryStore, c: sqlite3.Connection, w0: int, w1: int, stats: CompactionStats
) -> None:
    blocks = [
        int(b) for (b,) in c.execute("SELECT DISTINCT block FROM head WHERE t < ? ORDER BY block", (w1,))
    ]
    with _Transaction(c):
        for blk in blocks:
            sid, ts, v = store.head.read(c, "block = ? AND t < ?", (blk, w1), None)
            if not sid.size:
                continue
            order = np.lexsort((ts, sid))
            sid, ts, v = sid[order], ts[order], v[order]
            raw = codec.encode_raw_many(sid, ts, v)
            c.executemany("INSERT OR REPLACE INTO chunk VALUES(0,?,?,?,?,?)", raw)
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
        c.execute("DELETE FROM head WHERE t < ?", (w1,))
        c.execute("DELETE FROM head_map WHERE id NOT IN (SELECT DISTINCT map FROM head)")
        c.execute("INSERT OR REPLACE INTO meta VALUES('compacted', ?)", (str(w1),))
    store.head.reset()
    stats.windows += 1


def _close_days(store: HistoryStore, c: sqlite3.Connection, stats: CompactionStats) -> None:
    until = store.compacted_until()
    first = c.execute("SELECT min(start) FROM summary WHERE level=1").fetchone()
    if not until or not first or first[0] is None:
        return
    d0 = int(first[0]) - int(first[0]) % DAY
    while d0 + DAY <= until:
        d1 = d0 + DAY
        blocks = [
            int(b)
            for (b,) in c.execute(
                "SELECT DISTINCT block FROM summary WHERE level IN (1, 2) AND start >= ? AND start < ? ORDER BY block",
                (d0, d1),
            )
        ]
        with _Transaction(c):
            for blk in blocks:
                parts = {
                    level: [
                        rollup.decode_many(blob, width)
                        for (blob,) in c.execute(
                            "SELECT data FROM summary WHERE level=? AND block=? AND start >= ? AND start < ? "
                            "ORDER BY start",
                            (level, blk, d0, d1),
                        )
                    ]
                    for level, width in ((1, FIVE_MIN), (2, HOUR))
                }
                five = rollup.merge(parts[1], FIVE_MIN)
                hour = rollup.merge(parts[2], HOUR)
                c.executemany(
                    "INSERT OR REPLACE INTO chunk VALUES(1,?,?,?,?,?)", rollup.encode_per_series(five)
                )
                c.executemany(
                    "INSERT OR REPLACE INTO chunk VALUES(2,?,?,?,?,?)", rollup.encode_per_series(hour)
                )
                if len(hour):
                    c.execute(
                        "INSERT OR REPLACE INTO summary(level, start, block, data) VALUES(3, ?, ?, ?)",
                        (d0, blk, rollup.encode_many(rollup.merge([hour], DAY))),
                    )
            c.execute("DELETE FROM summary WHERE level IN (1, 2) AND start < ?", (d1,))
            c.execute("INSERT OR REPLACE INTO meta VALUES('days', ?)", (str(d1),))
        stats.days += 1
        d0 = d1


def _expire(store: HistoryStore, c: sqlite3.Connection, now: int) -> int:
    r = store.retention
    n = 0
    with _Transaction(c):
        for level, keep in ((0, r.raw), (1, r.five_min), (2, r.hour)):
            n += c.execute("DELETE FROM chunk WHERE level=? AND end < ?", (level, now - keep)).rowcount
        n += c.execute("DELETE FROM summary WHERE level=3 AND start < ?", (now - r.hour,)).rowcount
        n += c.execute(
            "DELETE FROM series WHERE last IS NOT NULL AND last < ? AND NOT EXISTS "
            "(SELECT 1 FROM chunk WHERE level IN (0, 1, 2) AND chunk.series = series.id)",
            (now - r.hour,),
        ).rowcount
    return n
