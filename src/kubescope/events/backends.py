"""The two databases behind one small interface: SQLite (the default: one file, WAL, no server) and
PostgreSQL (``--database postgresql://…``, psycopg 3), for clusters that outgrow one machine and for
several recorders writing one archive.

Each :class:`Backend` gives a writer connection used by one thread at a time (the store's lock)
and reader connections for queries. Writers are serialized by the database: SQLite's write lock
(``BEGIN IMMEDIATE``, waiting up to ``busy_timeout``) and, in PostgreSQL, a transaction-level
advisory lock taken first, so the set operations of two recorders' batches never interleave.
SQL is written with ``?`` placeholders; the PostgreSQL backend turns them into ``%s``.

psycopg 3 was chosen over asyncpg because the store runs in worker threads with one interface
for both databases (a synchronous driver fits; asyncpg is asyncio-only), and COPY into the staging
table makes a batch cheap: measured by benchmarks/events.py (ingest_per_s_postgresql).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from kubescope.errors import ConfigError
from kubescope.events import schema

ADVISORY_LOCK = 0x6B_75_62_65_65_76
"""The PostgreSQL advisory lock id a write transaction holds ("kubeev")."""


class StoreUnavailable(Exception):
    """The database cannot be reached or written now (a server down, a locked or full disk): the
    batch is kept and retried."""


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class Backend(Protocol):
    dialect: str

    def write(self) -> contextlib.AbstractContextManager[Cursor]:
        """A write transaction (committed on exit, rolled back on an exception)."""

    def read(self) -> contextlib.AbstractContextManager[Cursor]:
        """A cursor for queries."""

    def stage(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> None:
        """Put a batch's rows into the (emptied) staging table, inside the write transaction."""

    def size_bytes(self) -> int:
        """Bytes the archive takes (SQLite: pages in use; PostgreSQL: the tables and indexes)."""

    def vacuum(self) -> None:
        """Make the space of deleted rows reusable (after retention)."""

    def optimize(self) -> None:
        """Refresh the query planner's statistics."""

    def close(self) -> None: ...


def _unavailable(e: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"{type(e).__name__}: {e}".strip())


class SQLiteBackend:
    dialect = "sqlite"

    def __init__(self, path: str, *, busy_timeout: float = 5.0, read_only: bool = False) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        if read_only:
            if not os.path.exists(path):
                raise ConfigError(f"--database={path}: no such archive")
            self._writer = None
            return
        try:
            self._writer = self._connect()
            self._writer.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._writer.execute("PRAGMA journal_mode=WAL")
            with self._tx(self._writer) as cur:
                for stmt in schema.sqlite_ddl():
                    cur.execute(stmt)
                cur.execute(
                    "INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', ?)", (schema.SCHEMA_VERSION,)
                )
                got = cur.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()[0]
            self._writer.execute(schema.sqlite_stage())
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"--database={path}: cannot open the archive: {e}") from None
        if got != schema.SCHEMA_VERSION:
            raise ConfigError(
                f"--database={path}: archive schema {got}, this kubescope writes {schema.SCHEMA_VERSION}"
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a kill -9 of the process
        conn.execute("PRAGMA cache_size=-4000")  # 4 MiB per connection (a few threads): RSS stays bounded
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    @contextlib.contextmanager
    def _tx(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    @contextlib.contextmanager
    def write(self) -> Iterator[Cursor]:
        if self._writer is None:
            raise ConfigError(f"{self.path}: opened read-only")
        with self._lock:
            try:
                with self._tx(self._writer) as cur:
                    yield cur
            except sqlite3.OperationalError as e:  # locked, busy, disk full, I/O error
                raise _unavailable(e) from None

    @contextlib.contextmanager
    def read(self) -> Iterator[Cursor]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        cur = conn.cursor()
        cur.execute("BEGIN")  # one snapshot for the whole answer
        try:
            yield cur
        finally:
            cur.execute("COMMIT")

    def stage(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> None:
        cur.execute("DELETE FROM stage")
        marks = ", ".join("?" * len(schema.STAGE_COLUMNS))
        cur.executemany(f"INSERT INTO stage VALUES ({marks})", rows)  # type: ignore[attr-defined]  # noqa: S608

    def size_bytes(self) -> int:
        with self.read() as cur:
            pages = cur.execute("PRAGMA page_count").fetchone()[0]
            free = cur.execute("PRAGMA freelist_count").fetchone()[0]
            size = cur.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def vacuum(self) -> None:
        """Give freed pages back to the file system (after retention deleted events)."""
        if self._writer is not None:
            with self._lock:
                self._writer.execute("PRAGMA incremental_vacuum")
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def optimize(self) -> None:
        """Refresh the planner's statistics where they are stale (``PRAGMA optimize``)."""
        if self._writer is not None:
            with self._lock:
                self._writer.execute("PRAGMA optimize")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        for conn in self._readers:  # each reader thread's (sqlite3 allows closing from another)
            _close(conn)
        self._readers.clear()


class _PGCursor:
    """psycopg's cursor with ``?`` placeholders."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.cur.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self.cur.executemany(sql.replace("?", "%s"), params)

    def fetchall(self) -> list[Any]:
        return list(self.cur.fetchall())

    def fetchone(self) -> Any:
        return self.cur.fetchone()

    @property
    def rowcount(self) -> int:
        return int(self.cur.rowcount)


class PostgresBackend:
    dialect = "postgresql"

    def __init__(self, dsn: str, *, readers: int = 4, connect_timeout: float = 5.0) -> None:
        import psycopg

        self.psycopg = psycopg
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._writer: Any = None
        self._readers: queue.LifoQueue[Any] = queue.LifoQueue()
        self._reader_slots = threading.Semaphore(readers)
        try:
            conn = self._connect()
        except StoreUnavailable as e:
            raise ConfigError(f"--database: cannot connect to PostgreSQL: {e}") from None
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,)
            )  # two recorders creating at once
            for stmt in schema.postgres_ddl():
                conn.execute(stmt)
            conn.execute(
                "INSERT INTO meta (k, v) VALUES ('schema', %s) ON CONFLICT DO NOTHING",
                (schema.SCHEMA_VERSION,),
            )
            got = conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()[0]
        if got != schema.SCHEMA_VERSION:
            raise ConfigError(
                f"--database: archive schema {got}, this kubescope writes {schema.SCHEMA_VERSION}"
            )
        self._writer = conn

    def _connect(self) -> Any:
        try:
            conn = self.psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=max(1, int(self.connect_timeout))
            )
        except self.psycopg.Error as e:
            raise _unavailable(e) from None
        conn.execute(schema.postgres_stage())
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                if self._writer is None or self._writer.closed or self._writer.broken:
                    if self._writer is not None:
                        _close(self._writer)
                    self._writer = None
                    self._writer = self._connect()
                conn = self._writer
                with conn.transaction():
                    cur = conn.cursor()
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
                    yield _PGCursor(cur)
            except self.psycopg.OperationalError as e:
                raise _unavailable(e) from None

    @contextlib.contextmanager
    def read(self) -> Iterator[Cursor]:
        with self._reader_slots:
            conn = self._pooled()
            try:
                if conn is None:
                    conn = self._connect()
                with conn.transaction():
                    yield _PGCursor(conn.cursor())
            except self.psycopg.OperationalError as e:
                if conn is not None:
                    _close(conn)
                conn = None
                raise _unavailable(e) from None
            finally:
                if conn is not None and not conn.closed:
                    self._readers.put(conn)

    def _pooled(self) -> Any:
        """A pooled reader that still answers (a restarted server ended the others), or None."""
        while True:
            try:
                conn = self._readers.get_nowait()
            except queue.Empty:
                return None
            if conn.closed or conn.broken:
                _close(conn)
                continue
            try:
                conn.execute("SELECT 1")
            except self.psycopg.Error:
                with contextlib.suppress(Exception):
                    conn.close()
                continue
            return conn

    def stage(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> None:
        pg = cur.cur  # type: ignore[attr-defined]
        pg.execute("DELETE FROM stage")
        with pg.copy(f"COPY stage ({', '.join(schema.STAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def size_bytes(self) -> int:
        with self.read() as cur:
            cur.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
                "AND c.relname IN ('strings', 'objects', 'events', 'versions', 'checkpoints', 'meta')"
            )
            return int(cur.fetchone()[0])

    def vacuum(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.execute("VACUUM events")
                self._writer.execute("VACUUM versions")

    def optimize(self) -> None:
        pass  # autovacuum's ANALYZE keeps PostgreSQL's statistics

    def close(self) -> None:
        for conn in [self._writer, *self._drain()]:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _drain(self) -> list[Any]:
        out = []
        while True:
            try:
                out.append(self._readers.get_nowait())
            except queue.Empty:
                return out


def _close(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()


def open_backend(database: str, *, read_only: bool = False) -> SQLiteBackend | PostgresBackend:
    """``postgresql://…`` (or ``postgres://…``) opens PostgreSQL; anything else is a SQLite file path."""
    if database.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(database)
    if not database:
        raise ConfigError("--database: empty; give a file path or a postgresql:// URL")
    return SQLiteBackend(database, read_only=read_only)
