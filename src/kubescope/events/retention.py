"""Retention: events last seen longer ago than ``max_age`` go, then the oldest until the archive
is under ``max_bytes``; older versions and objects no event refers to go with them.

Deletions run in chunks of 5,000 events per transaction (writers wait at most one chunk). SQLite
gives the freed pages back to the file system (``auto_vacuum=INCREMENTAL``), so the size check is
exact there. PostgreSQL files do not shrink (freed rows are reused after VACUUM): the size bound is
kept by deleting again only once the tables grow past the size they had at the last deletion, so
the archive settles near the bound instead of emptying itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kubescope.events.store import EventStore
from kubescope.log import fields

logger = logging.getLogger(__name__)

CHUNK = 5000


@dataclass(frozen=True)
class Retention:
    max_age: float = 30 * 86400.0
    """``--retention``: seconds; events last seen longer ago are deleted. 0: keep forever."""
    max_bytes: int = 0
    """``--retention-size``: bytes the archive may take; 0: no bound."""


@dataclass
class RetentionStats:
    deleted_age: int = 0
    deleted_size: int = 0
    runs: int = 0
    last_size: int = 0
    _size_at_delete: int = 0


def _delete_oldest(store: EventStore, cutoff: int | None, limit: int) -> int:
    """Delete up to ``limit`` of the oldest events (all last seen before ``cutoff`` if given)."""
    with store.backend.write() as cur:
        cond = "WHERE t < ?" if cutoff is not None else ""
        args = [cutoff] if cutoff is not None else []
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id BIGINT PRIMARY KEY)")
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS doomed_objects (id BIGINT PRIMARY KEY)")
        cur.execute("DELETE FROM doomed")
        cur.execute(f"INSERT INTO doomed SELECT id FROM events {cond} ORDER BY t LIMIT {int(limit)}", args)  # noqa: S608
        # the objects they refer to may be left without events: checked by _drop_orphans
        cur.execute(
            "INSERT INTO doomed_objects SELECT obj FROM events WHERE id IN (SELECT id FROM doomed) "
            "UNION SELECT rel FROM events WHERE id IN (SELECT id FROM doomed) AND rel IS NOT NULL "
            "ON CONFLICT DO NOTHING"
        )
        cur.execute("DELETE FROM versions WHERE event IN (SELECT id FROM doomed)")
        cur.execute("DELETE FROM events WHERE id IN (SELECT id FROM doomed)")
        n = cur.execute("SELECT COUNT(*) FROM doomed").fetchone()[0]
        cur.execute("DELETE FROM doomed")
    return int(n)


def _drop_orphans(store: EventStore) -> None:
    with store.backend.write() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS doomed_objects (id BIGINT PRIMARY KEY)")
        cur.execute(
            "DELETE FROM objects WHERE id IN (SELECT id FROM doomed_objects) "
            "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.obj = objects.id) "
            "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.rel = objects.id)"
        )
        cur.execute("DELETE FROM doomed_objects")
    store.interner.forget()  # ids of deleted objects may be cached


def apply(store: EventStore, r: Retention, stats: RetentionStats, now: float | None = None) -> None:
    """One retention pass (runs in a worker thread)."""
    now = time.time() if now is None else now
    deleted = 0
    if r.max_age:
        cutoff = int((now - r.max_age) * 1_000_000)
        while (n := _delete_oldest(store, cutoff, CHUNK)) > 0:
            stats.deleted_age += n
            deleted += n
    if r.max_bytes:
        exact = store.dialect == "sqlite"  # freed pages go back to the file: measure again
        for _ in range(5 if exact else 1):
            size = store.size_bytes()
            if size <= r.max_bytes or not (exact or size > stats._size_at_delete):
                break
            events, _ = store.counts()
            excess = max(1, int(events * (size - r.max_bytes * 0.95) / size))
            while excess > 0 and (n := _delete_oldest(store, None, min(CHUNK, excess))) > 0:
                stats.deleted_size += n
                deleted += n
                excess -= n
            stats._size_at_delete = size
            if exact:
                _drop_orphans(store)
                store.backend.vacuum()
    if deleted:
        _drop_orphans(store)
        store.backend.vacuum()
        logger.info("retention deleted events", extra=fields(events=deleted, size=store.size_bytes()))
    stats.last_size = store.size_bytes()
    stats.runs += 1
    store.backend.optimize()
