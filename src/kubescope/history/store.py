"""The embedded store: one SQLite file (WAL), a time-ordered head and compressed per-series chunks.

Tables::

    series    id, kind, metric, namespace, pod, uid, container, node, owner, request, limit, first, last
    head_map  id, block, ids            the series of a block a run of head rows covers (sorted ids)
    head      id, t, block, map, data   one row per recording cycle and block (:mod:`.head`)
    chunk     level, series, start, end, n, span, data   (unique level, series, start)
              level 0: raw samples of one window (codec.encode_raw), ``span`` the window's start
              level 3: raw samples of one closed day (the day's window chunks, re-encoded whole:
                       ~20 % smaller, and one row a day), ``span`` the day's start
              level 1: 5-minute rollups of one day (rollup.encode_per_series: 288 buckets)
              level 2: 1-hour rollups of one day (24 buckets)
    summary   level, start, block, data  a block's rollups of one window at 5 minutes (level 1)
                                        and 1 hour (level 2), until its day closes; of one day (level 3)
    meta      key, value

**Writing.** A cycle is one transaction of a few head rows per thousand series: 120,000 samples
cost ~940 rows and a few milliseconds, which is what makes 50,000 samples/s on one core easy where
a row per sample tops out near 225,000 rows/s and then has to be read back sample by sample. A
crash loses at most the cycle being written; WAL with ``synchronous=NORMAL`` survives a killed
process (the WAL is in the page cache) and a power cut may lose the last commits, never the file.

**Compaction** (:mod:`.compaction`). When a cycle of a new window (default two hours, Prometheus'
block) arrives, the closed window is compacted block by block (memory bounded by one block's
window): per series one raw chunk (120 samples at a one-minute resolution), per block the
window's 5-minute and 1-hour rollups as two summaries; the head rows go in the same transaction,
so a crash leaves either the head rows or the chunks. When a day closes, each block's summaries
become one 5-minute and one 1-hour rollup chunk per series (a whole day per row, so the fixed
cost of a row is spread over 288 buckets) and one daily summary; until then, questions about the
open day are answered from raw samples (kept at least 26 hours). Samples belong to the window of
the cycle that recorded them (a sample taken at 09:59:40 and recorded at 10:00:05 is in the
10:00 window), so no sample is ever split or counted twice; rollups merge by bucket time.

**Retention** (``Retention``): raw 48 h, 5-minute 14 d, 1-hour and daily summaries 90 d;
expired rows are deleted after each compaction.

Connections are per thread (:meth:`HistoryStore.conn`); writes take :attr:`HistoryStore.lock`.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kubescope.errors import ConfigError
from kubescope.history import codec, compaction, rollup
from kubescope.history.head import BLOCK, Head
from kubescope.history.rollup import DAY, FIVE_MIN, HOUR, Rollup
from kubescope.history.series import PodInfo, SeriesKey, SeriesRow, series_values

logger = logging.getLogger(__name__)

I64 = np.int64
CACHE_KIB = 4096
"""SQLite's page cache per connection: 4 MiB (its 16 MiB were a tenth of the RSS at 120,000 series;
the kernel's page cache holds the file anyway, and no question reads more than a few MiB of it)."""
LAG = 600
RAW_LEVELS = (0, 3)
"""Chunk levels of raw samples: a window's, a closed day's."""
"""How far a sample's time may be from the cycle that records it (seconds, either way): the
recorder skips samples further off (a source that stopped refreshing), so a query reads the head
rows of its range and this much around it, not the whole head."""
SCHEMA_VERSION = "3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, metric TEXT NOT NULL,
  namespace TEXT NOT NULL, pod TEXT NOT NULL, uid TEXT NOT NULL, container TEXT NOT NULL,
  node TEXT NOT NULL, owner_kind TEXT NOT NULL, owner_name TEXT NOT NULL,
  request INTEGER, lim INTEGER, first INTEGER NOT NULL, last INTEGER);
CREATE INDEX IF NOT EXISTS series_pod ON series(namespace, pod);
CREATE INDEX IF NOT EXISTS series_uid ON series(uid);
CREATE INDEX IF NOT EXISTS series_owner ON series(namespace, owner_kind, owner_name);
CREATE INDEX IF NOT EXISTS series_node ON series(kind, node);
CREATE TABLE IF NOT EXISTS head_map(id INTEGER PRIMARY KEY, block INTEGER NOT NULL, ids BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS head(id INTEGER PRIMARY KEY, t INTEGER NOT NULL, block INTEGER NOT NULL,
  map INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS head_block ON head(block, t);
CREATE INDEX IF NOT EXISTS head_t ON head(t);
CREATE TABLE IF NOT EXISTS chunk(id INTEGER PRIMARY KEY, level INTEGER NOT NULL, series INTEGER NOT NULL,
  start INTEGER NOT NULL, end INTEGER NOT NULL, n INTEGER NOT NULL, span INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS chunk_key ON chunk(level, series, start);
CREATE INDEX IF NOT EXISTS chunk_end ON chunk(level, end);
CREATE TABLE IF NOT EXISTS summary(id INTEGER PRIMARY KEY, level INTEGER NOT NULL, start INTEGER NOT NULL,
  block INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS summary_key ON summary(level, block, start);
CREATE INDEX IF NOT EXISTS summary_start ON summary(level, start);
"""

_SERIES_COLS = "id, kind, metric, namespace, pod, uid, container, node, owner_kind, owner_name, request, lim, first, last"


@dataclass(frozen=True, slots=True)
class Retention:
    raw: int = 2 * DAY
    five_min: int = 14 * DAY
    hour: int = 90 * DAY

    def __post_init__(self) -> None:
        if not (DAY + 2 * HOUR <= self.raw <= self.five_min <= self.hour):
            raise ConfigError(
                "retention must satisfy 26h <= raw <= 5-minute <= 1-hour (raw samples answer for the day "
                "not yet rolled up) "
                f"(got raw {self.raw}s, 5-minute {self.five_min}s, 1-hour {self.hour}s)"
            )


CompactionStats = compaction.CompactionStats


def _row(r: tuple[object, ...]) -> SeriesRow:
    return SeriesRow(*r)  # type: ignore[arg-type]


class HistoryStore:
    """The SQLite file: series catalog, head, compaction, retention and the reads queries need."""

    def __init__(
        self,
        path: str | Path,
        *,
        retention: Retention | None = None,
        window: int = 2 * HOUR,
        read_only: bool = False,
    ) -> None:
        if window <= 0 or (HOUR % window and window % HOUR):
            raise ConfigError(f"the compaction window must divide or be a multiple of 1h, not {window}s")
        if DAY % window:
            raise ConfigError(f"the compaction window must divide a day, not {window}s")
        self.path = str(path)
        self.retention = retention or Retention()
        self.window = window
        self.read_only = read_only
        self.lock = threading.RLock()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        conn = self.conn()
        if not read_only:
            with self.lock:
                conn.executescript(_SCHEMA)
                got = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if got is None:
                    conn.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
                elif got[0] != SCHEMA_VERSION:
                    raise ConfigError(
                        f"{self.path}: store schema {got[0]}, this kubescope reads {SCHEMA_VERSION}"
                    )
                conn.commit()
        self.keys: dict[SeriesKey, int] = {}
        self._next_id = 1
        self.head = Head(self.path)
        self._pending: list[tuple[int, SeriesKey, PodInfo | None, int]] = []
        """New series until the next append writes them (their rows are made then, one at a time)."""
        self._head_end = 0
        self._more = True
        """Compaction work may be left from an earlier call (or run)."""
        """End of the oldest head row's window (0: unknown or empty head)."""
        self.latest = 0
        """Time of the newest head row."""
        self._load()

    # -- connections ------------------------------------------------------------------------

    def conn(self) -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if c is None:
            uri = f"file:{self.path}" + ("?mode=ro" if self.read_only else "")
            try:
                c = sqlite3.connect(
                    uri, uri=True, timeout=30.0, check_same_thread=False, isolation_level=None
                )
                if not self.read_only:
                    c.execute("PRAGMA journal_mode=WAL")
                c.execute("PRAGMA synchronous=NORMAL")
                c.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
                c.execute("PRAGMA temp_store=MEMORY")
                c.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as e:
                raise ConfigError(f"{self.path}: cannot open the history store: {e}") from e
            self._local.conn = c
            with self._conns_lock:
                self._conns.append(c)
        return c

    def close(self) -> None:
        with self._conns_lock:
            for c in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    c.close()
            self._conns.clear()
        self._local = threading.local()

    def _load(self) -> None:
        c = self.conn()
        for sid, kind, metric, uid, container, node in c.execute(
            "SELECT id, kind, metric, uid, container, node FROM series"
        ):
            ident = node if kind == "node" else uid
            self.keys[SeriesKey(kind, metric, ident, container)] = sid
            self._next_id = max(self._next_id, sid + 1)
        row = c.execute("SELECT max(t) FROM head").fetchone()
        self.latest = int(row[0]) if row and row[0] is not None else 0
        if not self.latest:
            row = c.execute("SELECT value FROM meta WHERE key='compacted'").fetchone()
            self.latest = int(row[0]) if row else 0

    # -- series ---------------------------------------------------------------------------

    def series_ids(self, keys: Iterable[tuple[SeriesKey, PodInfo | None]], first: int) -> list[int]:
        """The id of each series, registering new ones (written with the next :meth:`append`)."""
        out: list[int] = []
        pending = self._pending
        for key, pod in keys:
            sid = self.keys.get(key)
            if sid is None:
                sid = self._next_id
                self._next_id += 1
                self.keys[key] = sid
                pending.append((sid, key, pod, first))
            out.append(sid)
        return out

    def _flush_series(self, c: sqlite3.Connection) -> None:
        if self._pending:
            c.executemany(
                f"INSERT OR REPLACE INTO series({_SERIES_COLS}) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (series_values(*new) for new in self._pending),
            )
            self._pending = []

    def select_series(self, where: str, params: tuple[object, ...]) -> list[SeriesRow]:
        sql = f"SELECT {_SERIES_COLS} FROM series WHERE {where} ORDER BY id"  # noqa: S608 (where: our constant)
        return [_row(r) for r in self.conn().execute(sql, params)]

    def head_series(self) -> np.ndarray:
        """Every series with samples in the head (the union of its rows' series maps; maps no row
        uses any more are deleted when their window is compacted). A series' ``last`` is its newest
        *compacted* sample: these are the series newer than that."""
        blobs = [np.frombuffer(b, "<i8") for (b,) in self.conn().execute("SELECT ids FROM head_map")]
        return np.unique(np.concatenate(blobs)).astype(I64) if blobs else np.zeros(0, I64)

    # -- the head --------------------------------------------------------------------------

    def append(self, t: int, sids: np.ndarray, ts: np.ndarray, values: np.ndarray) -> None:
        """One recording cycle at time ``t``: samples (series id, Unix seconds, value), one
        transaction. Sample times must be within :data:`LAG` of ``t``."""
        sids = np.asarray(sids, I64)
        if sids.size and int(np.abs(np.asarray(ts, I64) - t).max()) > LAG:
            raise ValueError(f"a sample is more than {LAG}s away from its cycle at {t}")
        if self.latest and t < self.latest - self.latest % self.window:
            # an earlier window may be compacted (or being compacted) already: its rollups would be
            # written again over the first ones
            raise ValueError(
                f"a cycle at {t} is in an earlier window than the newest one recorded ({self.latest}): "
                "did the clock go back?"
            )
        order = np.argsort(sids, kind="stable")
        sids, ts, values = sids[order], np.asarray(ts, I64)[order], np.asarray(values, I64)[order]
        with self.lock:
            c = self.conn()
            c.execute("BEGIN IMMEDIATE")
            try:
                self._flush_series(c)
                self.head.append(c, int(t), sids, ts, values)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                self.head.reset()  # maps written in the rolled-back transaction are gone
                raise
            self.latest = max(self.latest, int(t))
            if not self._head_end:
                self._head_end = int(t) - int(t) % self.window + self.window

    def head_samples(
        self, t_lo: int, t_hi: int | None, sids: np.ndarray | None = None, *, block: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Head samples ``(sid, ts, value)`` of ``sids`` (or of a ``block``, or all) taken in
        ``[t_lo, t_hi]``, sorted by (sid, ts). Rows are selected by cycle time, up to :data:`LAG`
        around the bounds (a sample is recorded after it was taken)."""
        c = self.conn()
        lo = t_lo - LAG
        hi = t_hi + LAG if t_hi is not None else 1 << 62
        if block is not None:
            s, ts, v = self.head.read(c, "block = ? AND t >= ? AND t <= ?", (block, lo, hi), None)
        elif sids is None:
            s, ts, v = self.head.read(c, "t >= ? AND t <= ?", (lo, hi), None)
        else:
            want = np.unique(np.asarray(sids, I64))
            blocks = np.unique(want // BLOCK).tolist()
            parts = [
                self.head.read(
                    c, f"block IN ({','.join('?' * len(part))}) AND t >= ? AND t <= ?", (*part, lo, hi), want
                )
                for part in (blocks[k : k + 500] for k in range(0, len(blocks), 500))
            ]
            if not parts:
                z = np.zeros(0, I64)
                return z, z, z
            s = np.concatenate([p[0] for p in parts])
            ts = np.concatenate([p[1] for p in parts])
            v = np.concatenate([p[2] for p in parts])
        keep = ts >= t_lo
        if t_hi is not None:
            keep &= ts <= t_hi
        s, ts, v = s[keep], ts[keep], v[keep]
        order = np.lexsort((ts, s))
        return s[order], ts[order], v[order]

    # -- compaction ------------------------------------------------------------------------

    def compacted_until(self) -> int:
        row = self.conn().execute("SELECT value FROM meta WHERE key='compacted'").fetchone()
        return int(row[0]) if row else 0

    def days_until(self) -> int:
        row = self.conn().execute("SELECT value FROM meta WHERE key='days'").fetchone()
        return int(row[0]) if row else 0

    def compact(self, upto: int | None = None, budget: float | None = None) -> CompactionStats:
        """Compact every closed window, close finished days, apply retention
        (:func:`.compaction.compact`), for at most ``budget`` seconds (then ``more`` is set and the
        next call goes on); nothing to do while the oldest head window is open."""
        limit = self.latest if upto is None else upto
        if self._head_end and limit < self._head_end and not self._more:
            return CompactionStats()  # the common case: one call per cycle
        with self.lock:
            stats = compaction.compact(self, upto, budget)
            self._more = stats.more
            row = self.conn().execute("SELECT min(t) FROM head").fetchone()
            self._head_end = (
                int(row[0]) - int(row[0]) % self.window + self.window if row and row[0] is not None else 0
            )
        return stats

    # -- reading ---------------------------------------------------------------------------

    def raw_samples(self, sids: np.ndarray, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``sids`` in ``[t0, t1]`` from raw chunks and the head, sorted by (sid, ts)."""
        c = self.conn()
        parts_s: list[np.ndarray] = []
        parts_t: list[np.ndarray] = []
        parts_v: list[np.ndarray] = []
        for sid, blob in self._chunks(c, RAW_LEVELS, sids, t0, t1):
            cts, cv = codec.decode_raw(blob)
            parts_s.append(np.full(cts.size, sid, I64))
            parts_t.append(cts)
            parts_v.append(cv)
        hs, ht, hv = self.head_samples(t0, t1, sids)
        parts_s.append(hs)
        parts_t.append(ht)
        parts_v.append(hv)
        s, ts, v = np.concatenate(parts_s), np.concatenate(parts_t), np.concatenate(parts_v)
        keep = (ts >= t0) & (ts <= t1)
        s, ts, v = s[keep], ts[keep], v[keep]
        order = np.lexsort((ts, s))
        return s[order], ts[order], v[order]

    def rollups(self, level: int, sids: np.ndarray, t0: int, t1: int, *, sketches: bool = True) -> Rollup:
        """Level 1 (5-minute) or 2 (1-hour) buckets of ``sids`` starting in ``[t0, t1)``, from the
        chunks of closed days (up to :meth:`days_until`); without ``sketches``, no sketch entries."""
        width = FIVE_MIN if level == 1 else HOUR
        c = self.conn()
        parts = [
            rollup.decode(blob, s, width, sketches=sketches)
            for s, blob in self._chunks(c, (level,), sids, t0, t1)
        ]
        merged = rollup.merge(parts, width)
        if not len(merged):
            return merged
        keep = (merged.start >= t0) & (merged.start < t1)
        sk_keep = (merged.sk_start >= t0) & (merged.sk_start < t1)
        return merged.take(keep, sk_keep)

    def _chunks(
        self, c: sqlite3.Connection, levels: tuple[int, ...], sids: np.ndarray, t0: int, t1: int
    ) -> Iterator[tuple[int, bytes]]:
        ids = [int(s) for s in np.unique(sids)]
        lv = ",".join(str(int(x)) for x in levels)
        for k in range(0, len(ids), 500):
            part = ids[k : k + 500]
            q = ",".join("?" * len(part))
            yield from c.execute(
                f"SELECT series, data FROM chunk WHERE level IN ({lv}) AND series IN ({q}) "  # noqa: S608
                "AND start <= ? AND end >= ? ORDER BY series, start",
                (*part, t1, t0),
            )

    def blocks(self) -> range:
        """Every block that may hold a series (ids are given in order from 1)."""
        return range((self._next_id - 1) // BLOCK + 1)

    def summaries(
        self, level: int, t0: int, t1: int, block: int, *, skip: frozenset[str] = frozenset()
    ) -> list[tuple[int, Rollup]]:
        """A block's summaries (level 2: hours of a window, 3: a day) starting in ``[t0, t1)``;
        the :class:`~.rollup.Rollup` fields in ``skip`` are not decoded."""
        width = HOUR if level == 2 else DAY
        rows = (
            self.conn()
            .execute(
                "SELECT start, data FROM summary WHERE level=? AND block=? AND start >= ? AND start < ? "
                "ORDER BY start",
                (level, block, t0, t1),
            )
            .fetchall()
        )
        return [(int(s), rollup.decode_many(blob, width, skip=skip)) for s, blob in rows]

    def summaries_joined(self, level: int, t0: int, t1: int, block: int, *, skip: frozenset[str]) -> Rollup:
        """:meth:`summaries` as one rollup of all their rows (neither sorted nor merged), decoded
        together; the fields in ``skip`` are not decoded."""
        rows = self.conn().execute(
            "SELECT data FROM summary WHERE level=? AND block=? AND start >= ? AND start < ? ORDER BY start",
            (level, block, t0, t1),
        )
        return rollup.decode_many_joined([blob for (blob,) in rows], HOUR if level == 2 else DAY, skip=skip)

    def last_samples(self) -> dict[int, int]:
        """Newest sample time per series (head and the newest raw chunks): duplicates are skipped
        after a restart."""
        out: dict[int, int] = {}
        c = self.conn()
        for s, end in c.execute("SELECT series, max(end) FROM chunk WHERE level IN (0, 3) GROUP BY series"):
            out[int(s)] = int(end)
        if self.latest:
            for blk in self.blocks():
                s, ts, _ = self.head.read(c, "block = ?", (blk,), None)
                if not s.size:
                    continue
                order = np.lexsort((ts, s))
                s, ts = s[order], ts[order]
                ends = np.append(np.flatnonzero(s[1:] != s[:-1]), s.size - 1)
                for a, b in zip(s[ends].tolist(), ts[ends].tolist(), strict=True):
                    out[a] = max(out.get(a, 0), b)
        return out

    def size_bytes(self) -> int:
        p = Path(self.path)
        return sum(q.stat().st_size for q in (p, Path(self.path + "-wal")) if q.exists())


__all__ = ["BLOCK", "DAY", "FIVE_MIN", "HOUR", "LAG", "CompactionStats", "HistoryStore", "Retention"]
