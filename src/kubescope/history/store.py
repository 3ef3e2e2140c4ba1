"""The embedded store: one SQLite file (WAL), a time-ordered head and compressed per-series chunks.

Tables::

    series    id, kind, metric, namespace, pod, uid, container, node, owner, request, limit, first, last
    head_map  id, ids                   the series of a run of head rows (sorted int64 ids)
    head      id, t, map, data          one row per recording cycle: per series of its map, the
                                        sample's time (int32 offset from t) and value (int64, -1 = none)
    chunk     level, series, start, end, n, data   (WITHOUT ROWID, primary key level, series, start)
              level 0: raw samples of one window (codec.encode_raw)
              level 1: 5-minute rollups of one day (rollup.encode_per_series: 288 buckets)
              level 2: 1-hour rollups of one day (24 buckets)
    summary   level, start, data        every series' rollups of one window at 5 minutes (level 1)
                                        and 1 hour (level 2), until its day closes; of one day (level 3)
    meta      key, value

**Writing.** A cycle is one INSERT of one head row, in one transaction: 120,000 samples cost one
row and a few milliseconds, which is what makes 50,000 samples/s on one core easy where a row per
sample tops out near 225,000 rows/s and then has to be read back sample by sample. A crash loses at
most the cycle being written; WAL with ``synchronous=NORMAL`` survives a killed process (the WAL
is in the page cache) and a power cut may lose the last commits, never the file.

**Compaction.** When a cycle of a new window (default two hours, Prometheus' block) arrives, the
closed window's head rows are read, split per series and written as one raw chunk per series (120
samples at a one-minute resolution: ~1.8 bytes per sample on the simulator's noisy usage), plus
the window's 5-minute and 1-hour rollups of every series as two all-series summaries, and the head
rows are deleted: one transaction, so a crash leaves either the head rows or the chunks. When a day
closes, its summaries become one 5-minute and one 1-hour rollup chunk per series (a whole day per
row, so the fixed cost of a row is spread over 288 buckets) and one all-series daily summary; until
then, questions about the open day are answered from raw samples (kept at least 26 hours). Samples belong to the window of
the cycle that recorded them (a sample taken at 09:59:40 and recorded at 10:00:05 is in the
10:00 window), so no sample is ever split or counted twice; rollups merge by bucket time.

**Retention** (``Retention``): raw 48 h, 5-minute 14 d, 1-hour and daily summaries 90 d, hourly
summaries 48 h; expired rows are deleted after each compaction.

Connections are per thread (:meth:`HistoryStore.conn`); writes take :attr:`HistoryStore.lock`.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kubescope.errors import ConfigError, DecodeError
from kubescope.history import codec, rollup
from kubescope.history.rollup import Rollup
from kubescope.history.series import PodInfo, SeriesKey, SeriesRow, series_row
from kubescope.log import fields

logger = logging.getLogger(__name__)

I64 = np.int64
HOUR = 3600
DAY = 86400
FIVE_MIN = 300
SCHEMA_VERSION = "1"

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
CREATE TABLE IF NOT EXISTS head_map(id INTEGER PRIMARY KEY, ids BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS head(id INTEGER PRIMARY KEY, t INTEGER NOT NULL, map INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS head_t ON head(t);
CREATE TABLE IF NOT EXISTS chunk(level INTEGER NOT NULL, series INTEGER NOT NULL, start INTEGER NOT NULL,
  end INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(level, series, start)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunk_end ON chunk(level, end);
CREATE TABLE IF NOT EXISTS summary(level INTEGER NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(level, start)) WITHOUT ROWID;
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


@dataclass
class CompactionStats:
    windows: int = 0
    days: int = 0
    samples: int = 0
    series: int = 0
    seconds: float = 0.0
    expired_rows: int = 0


@dataclass
class _HeadMap:
    id: int
    ids: np.ndarray
    index: dict[int, int] = field(default_factory=dict)


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
        self.pods: dict[int, str] = {}
        self._next_id = 1
        self._map: _HeadMap | None = None
        self._pending: list[SeriesRow] = []
        self._head_end = 0
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
                c.execute("PRAGMA cache_size=-16384")
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
        new: list[SeriesRow] = []
        for key, pod in keys:
            sid = self.keys.get(key)
            if sid is None:
                sid = self._next_id
                self._next_id += 1
                self.keys[key] = sid
                new.append(series_row(sid, key, pod, first))
            out.append(sid)
        self._pending.extend(new)
        return out

    def _flush_series(self, c: sqlite3.Connection) -> None:
        if self._pending:
            c.executemany(
                f"INSERT OR REPLACE INTO series({_SERIES_COLS}) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (r.id, r.kind, r.metric, r.namespace, r.pod, r.uid, r.container, r.node, r.owner_kind,
                     r.owner_name, r.request, r.limit, r.first, r.last)
                    for r in self._pending
                ],
            )  # fmt: skip
            self._pending = []

    def select_series(self, where: str, params: tuple[object, ...]) -> list[SeriesRow]:
        sql = f"SELECT {_SERIES_COLS} FROM series WHERE {where} ORDER BY id"  # noqa: S608 (where: our constant)
        return [_row(r) for r in self.conn().execute(sql, params)]

    # -- the head --------------------------------------------------------------------------

    def append(self, t: int, sids: np.ndarray, ts: np.ndarray, values: np.ndarray) -> None:
        """One recording cycle at time ``t``: samples (series id, Unix seconds, value), one transaction."""
        sids = np.asarray(sids, I64)
        order = np.argsort(sids, kind="stable")
        sids, ts, values = sids[order], np.asarray(ts, I64)[order], np.asarray(values, I64)[order]
        with self.lock:
            c = self.conn()
            c.execute("BEGIN IMMEDIATE")
            try:
                self._flush_series(c)
                m = self._map
                if m is None or (sids.size and not np.isin(sids, m.ids, assume_unique=False).all()):
                    ids = np.unique(np.concatenate([m.ids, sids])) if m is not None else np.unique(sids)
                    cur = c.execute("INSERT INTO head_map(ids) VALUES(?)", (ids.astype("<i8").tobytes(),))
                    m = self._map = _HeadMap(int(cur.lastrowid or 0), ids)
                pos = np.searchsorted(m.ids, sids)
                offs = np.zeros(m.ids.size, "<i4")
                vals = np.full(m.ids.size, -1, "<i8")
                offs[pos] = ts - t
                vals[pos] = values
                c.execute(
                    "INSERT INTO head(t, map, data) VALUES(?,?,?)",
                    (int(t), m.id, offs.tobytes() + vals.tobytes()),
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            self.latest = max(self.latest, int(t))
            if not self._head_end:
                self._head_end = int(t) - int(t) % self.window + self.window

    def _maps(self, c: sqlite3.Connection, ids: Iterable[int]) -> dict[int, np.ndarray]:
        want = sorted(set(ids))
        out: dict[int, np.ndarray] = {}
        if self._map is not None and self._map.id in want:
            out[self._map.id] = self._map.ids
        rest = [i for i in want if i not in out]
        for k in range(0, len(rest), 500):
            part = rest[k : k + 500]
            q = ",".join("?" * len(part))
            for mid, blob in c.execute(f"SELECT id, ids FROM head_map WHERE id IN ({q})", part):  # noqa: S608
                out[int(mid)] = np.frombuffer(blob, "<i8")
        return out

    def head_samples(
        self, t_lo: int, t_hi: int | None, sids: np.ndarray | None = None, *, by_row_time: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Head samples ``(sid, ts, value)`` of ``sids`` (all when None), sorted by (sid, ts).

        With ``by_row_time`` the bounds select head rows by their cycle time ``[t_lo, t_hi)``;
        otherwise samples by their own time ``[t_lo, t_hi]`` (rows up to a window early or late).
        """
        c = self.conn()
        want = None if sids is None else np.unique(np.asarray(sids, I64))
        if by_row_time:
            rows = c.execute(
                "SELECT t, map, data FROM head WHERE t >= ? AND t < ? ORDER BY t",
                (t_lo, 1 << 62 if t_hi is None else t_hi),
            ).fetchall()
        else:
            hi = t_hi + self.window if t_hi is not None else 1 << 62
            rows = c.execute(
                "SELECT t, map, data FROM head WHERE t >= ? AND t <= ? ORDER BY t", (t_lo - self.window, hi)
            ).fetchall()
        maps = self._maps(c, (r[1] for r in rows))
        parts_s: list[np.ndarray] = []
        parts_t: list[np.ndarray] = []
        parts_v: list[np.ndarray] = []
        for t, mid, data in rows:
            ids = maps.get(int(mid))
            if ids is None:
                raise DecodeError(f"{self.path}: head row at {t} names a missing series map {mid}")
            n = ids.size
            if len(data) != 12 * n:
                raise DecodeError(f"{self.path}: head row at {t} has {len(data)} bytes for {n} series")
            offs = np.frombuffer(data, "<i4", count=n)
            vals = np.frombuffer(data, "<i8", count=n, offset=4 * n)
            if want is not None:
                pos = np.searchsorted(ids, want)
                pos = pos[pos < n]
                pos = pos[ids[pos] == want[: pos.size]] if pos.size else pos
                keep = pos[vals[pos] >= 0]
            else:
                keep = np.flatnonzero(vals >= 0)
            parts_s.append(ids[keep])
            parts_t.append(offs[keep].astype(I64) + int(t))
            parts_v.append(vals[keep])
        if not parts_s:
            z = np.zeros(0, I64)
            return z, z, z
        s, ts, v = np.concatenate(parts_s), np.concatenate(parts_t), np.concatenate(parts_v)
        if not by_row_time:
            lo = ts >= t_lo
            if t_hi is not None:
                lo &= ts <= t_hi
            s, ts, v = s[lo], ts[lo], v[lo]
        order = np.lexsort((ts, s))
        return s[order], ts[order], v[order]

    # -- compaction ------------------------------------------------------------------------

    def compacted_until(self) -> int:
        row = self.conn().execute("SELECT value FROM meta WHERE key='compacted'").fetchone()
        return int(row[0]) if row else 0

    def days_until(self) -> int:
        row = self.conn().execute("SELECT value FROM meta WHERE key='days'").fetchone()
        return int(row[0]) if row else 0

    def compact(self, upto: int | None = None) -> CompactionStats:
        """Compact every closed window (ending at or before ``upto``, default: the newest head
        row's window start), close finished days, then apply retention."""
        stats = CompactionStats()
        t0 = time.perf_counter()
        limit = self.latest if upto is None else upto
        if self._head_end and limit < self._head_end:
            return stats  # the oldest head window is still open: nothing to do (the common case)
        with self.lock:
            c = self.conn()
            while True:
                row = c.execute("SELECT min(t) FROM head").fetchone()
                if not row or row[0] is None:
                    break
                w0 = int(row[0]) - int(row[0]) % self.window
                w1 = w0 + self.window
                if w1 > limit:
                    break
                self._compact_window(c, w0, w1, stats)
            self._close_days(c, stats)
            stats.expired_rows += self._expire(c, limit)
            row = c.execute("SELECT min(t) FROM head").fetchone()
            self._head_end = (
                int(row[0]) - int(row[0]) % self.window + self.window if row and row[0] is not None else 0
            )
        stats.seconds = time.perf_counter() - t0
        if stats.windows:
            logger.info(
                "compacted",
                extra=fields(windows=stats.windows, days=stats.days, samples=stats.samples,
                             series=stats.series, seconds=f"{stats.seconds:.2f}"),
            )  # fmt: skip
        return stats

    def _compact_window(self, c: sqlite3.Connection, w0: int, w1: int, stats: CompactionStats) -> None:
        sid, ts, v = self.head_samples(0, w1, by_row_time=True)
        c.execute("BEGIN IMMEDIATE")
        try:
            if sid.size:
                self._write_window(c, w0, sid, ts, v)
                stats.samples += int(sid.size)
                stats.series += int(np.unique(sid).size)
            c.execute("DELETE FROM head WHERE t < ?", (w1,))
            c.execute("DELETE FROM head_map WHERE id NOT IN (SELECT DISTINCT map FROM head)")
            c.execute("INSERT OR REPLACE INTO meta VALUES('compacted', ?)", (str(w1),))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        self._map = None  # the next cycle starts a map of the series still alive
        stats.windows += 1

    def _write_window(
        self, c: sqlite3.Connection, w0: int, sid: np.ndarray, ts: np.ndarray, v: np.ndarray
    ) -> None:
        raw = codec.encode_raw_many(sid, ts, v)
        c.executemany("INSERT OR REPLACE INTO chunk VALUES(0,?,?,?,?,?)", raw)
        five = rollup.from_samples(sid, ts, v, FIVE_MIN)
        c.execute("INSERT OR REPLACE INTO summary VALUES(1, ?, ?)", (w0, rollup.encode_many(five)))
        hour = rollup.merge([five], HOUR)
        c.execute("INSERT OR REPLACE INTO summary VALUES(2, ?, ?)", (w0, rollup.encode_many(hour)))
        last_rows = [(r[2], r[0]) for r in raw]
        c.executemany("UPDATE series SET last = max(coalesce(last, 0), ?) WHERE id = ?", last_rows)

    def _close_days(self, c: sqlite3.Connection, stats: CompactionStats) -> None:
        """Each finished day: its windows' all-series rollups become one 5-minute and one 1-hour
        chunk per series (288 and 24 buckets) and one all-series daily summary."""
        until = self.compacted_until()
        first = c.execute("SELECT min(start) FROM summary WHERE level=1").fetchone()
        if not until or not first or first[0] is None:
            return
        d0 = int(first[0]) - int(first[0]) % DAY
        while d0 + DAY <= until:
            d1 = d0 + DAY
            parts = {
                level: [rollup.decode_many(blob, width) for (blob,) in c.execute(
                    "SELECT data FROM summary WHERE level=? AND start >= ? AND start < ? ORDER BY start",
                    (level, d0, d1),
                )]
                for level, width in ((1, FIVE_MIN), (2, HOUR))
            }  # fmt: skip
            five = rollup.merge(parts[1], FIVE_MIN)
            hour = rollup.merge(parts[2], HOUR)
            c.execute("BEGIN IMMEDIATE")
            try:
                c.executemany(
                    "INSERT OR REPLACE INTO chunk VALUES(1,?,?,?,?,?)", rollup.encode_per_series(five)
                )
                c.executemany(
                    "INSERT OR REPLACE INTO chunk VALUES(2,?,?,?,?,?)", rollup.encode_per_series(hour)
                )
                if len(hour):
                    c.execute(
                        "INSERT OR REPLACE INTO summary VALUES(3, ?, ?)",
                        (d0, rollup.encode_many(rollup.merge([hour], DAY))),
                    )
                c.execute("DELETE FROM summary WHERE level IN (1, 2) AND start < ?", (d1,))
                c.execute("INSERT OR REPLACE INTO meta VALUES('days', ?)", (str(d1),))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
            stats.days += 1
            d0 = d1

    def _expire(self, c: sqlite3.Connection, now: int) -> int:
        r = self.retention
        n = 0
        c.execute("BEGIN IMMEDIATE")
        try:
            for level, keep in ((0, r.raw), (1, r.five_min), (2, r.hour)):
                n += c.execute("DELETE FROM chunk WHERE level=? AND end < ?", (level, now - keep)).rowcount
            n += c.execute("DELETE FROM summary WHERE level=3 AND start < ?", (now - r.hour,)).rowcount
            n += c.execute(
                "DELETE FROM series WHERE last IS NOT NULL AND last < ? AND id NOT IN (SELECT series FROM chunk)",
                (now - r.hour,),
            ).rowcount
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return n

    # -- reading ---------------------------------------------------------------------------

    def raw_samples(self, sids: np.ndarray, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples of ``sids`` in ``[t0, t1]`` from raw chunks and the head, sorted by (sid, ts)."""
        c = self.conn()
        parts_s: list[np.ndarray] = []
        parts_t: list[np.ndarray] = []
        parts_v: list[np.ndarray] = []
        for sid, blob in self._chunks(c, 0, sids, t0, t1):
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
            for s, blob in self._chunks(c, level, sids, t0, t1)
        ]
        merged = rollup.merge(parts, width)
        if not len(merged):
            return merged
        keep = (merged.start >= t0) & (merged.start < t1)
        sk_keep = (merged.sk_start >= t0) & (merged.sk_start < t1)
        return merged.take(keep, sk_keep)

    def _chunks(
        self, c: sqlite3.Connection, level: int, sids: np.ndarray, t0: int, t1: int
    ) -> Iterator[tuple[int, bytes]]:
        ids = [int(s) for s in np.unique(sids)]
        for k in range(0, len(ids), 500):
            part = ids[k : k + 500]
            q = ",".join("?" * len(part))
            yield from c.execute(
                f"SELECT series, data FROM chunk WHERE level=? AND series IN ({q}) AND start <= ? AND end >= ? "  # noqa: S608
                "ORDER BY series, start",
                (level, *part, t1, t0),
            )

    def summaries(self, level: int, t0: int, t1: int) -> list[tuple[int, Rollup]]:
        """All-series summaries (level 2: hours, 3: days) starting in ``[t0, t1)``."""
        width = HOUR if level == 2 else DAY
        rows = (
            self.conn()
            .execute(
                "SELECT start, data FROM summary WHERE level=? AND start >= ? AND start < ? ORDER BY start",
                (level, t0, t1),
            )
            .fetchall()
        )
        return [(int(s), rollup.decode_many(blob, width)) for s, blob in rows]

    def last_samples(self) -> dict[int, int]:
        """Newest sample time per series (head and the newest raw chunks): duplicates are skipped
        after a restart."""
        out: dict[int, int] = {}
        c = self.conn()
        for s, end in c.execute("SELECT series, max(end) FROM chunk WHERE level=0 GROUP BY series"):
            out[int(s)] = int(end)
        if self.latest:
            s, ts, _ = self.head_samples(0, None, by_row_time=True)
            ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1] if s.size else s
            for a, b in zip(s[ends].tolist(), ts[ends].tolist(), strict=True):
                out[a] = max(out.get(a, 0), b)
        return out

    def size_bytes(self) -> int:
        p = Path(self.path)
        return sum(q.stat().st_size for q in (p, Path(self.path + "-wal")) if q.exists())
