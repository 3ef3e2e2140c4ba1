"""The event archive: batches of event versions written exactly once, with their stream's checkpoint.

:meth:`EventStore.write` takes a batch of :class:`~kubescope.events.model.Record` (in the order the
watch delivered them) and, in one transaction:

1. interns the batch's strings and objects (cached in memory; the caches are dropped when a
   transaction fails, so no id of a rolled-back row survives);
2. stages the batch (one row per (uid, resourceVersion)) and asks which versions are already
   stored (a replay after a restart or a 410, a second recorder of an HA pair);
3. applies it with set operations: a superseded newest version moves to ``versions``, the
   batch's newest version per uid replaces it, older ones go to ``versions``; all idempotent on
   (uid, rv), so a replay changes nothing;
4. moves the stream's checkpoint forward.

A failure leaves nothing of the batch: the caller keeps it and retries. Everything here runs in
a worker thread (the recorder's writer, the API's queries).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubescope.events import schema
from kubescope.events.backends import Backend, Cursor, StoreUnavailable, open_backend
from kubescope.events.interning import STRINGS_LIMIT, Interner, uid_bytes, uid_text
from kubescope.events.model import Record


@dataclass(slots=True)
class WriteResult:
    stored: list[Record] = field(default_factory=list)
    """Versions new to the archive."""
    duplicates: int = 0
    """Versions already stored (replays), changed nothing."""
    occurrences: list[tuple[Record, int]] = field(default_factory=list)
    """(record, how many occurrences it adds): the count's growth over the stored newest version."""
    seconds: float = 0.0


class EventStore:
    """See the module docstring. ``database``: a SQLite file path or a ``postgresql://`` URL."""

    def __init__(self, database: str, *, read_only: bool = False) -> None:
        self.database = database
        self.backend: Backend = open_backend(database, read_only=read_only)
        self.interner = Interner(self.backend.dialect)
        self._strings_by_id: dict[int, str] = {}

    @property
    def dialect(self) -> str:
        return self.backend.dialect

    def close(self) -> None:
        self.backend.close()

    # -- writing -----------------------------------------------------------------------------------

    def write(self, records: Sequence[Record], stream: str = "", rv: int | None = None) -> WriteResult:
        """Store ``records`` and, when ``stream`` and ``rv`` are given, move the stream's
        checkpoint to ``rv``; raises :class:`StoreUnavailable` (nothing written) when the database
        cannot take it now."""
        t0 = time.perf_counter()
        batch: dict[tuple[str, int], Record] = {}
        for r in records:
            batch.setdefault((r.uid, r.rv), r)  # a relist may deliver a version twice
        top: dict[str, int] = {}
        for uid, v in batch:
            if v > top.get(uid, 0):
                top[uid] = v
        result = WriteResult()
        try:
            with self.backend.write() as cur:
                if batch:
                    self.interner.resolve(cur, batch.values())
                rows = [self._row(r, top[r.uid] == r.rv) for r in batch.values()]
                if rows:
                    self.backend.stage(cur, rows)
                    by_bytes = {uid_bytes(u): u for u in top}
                    seen = {
                        (by_bytes[bytes(u)], v): (newest, count, bool(old))
                        for u, v, newest, count, old in cur.execute(schema.SEEN).fetchall()
                    }
                    self._classify(batch, seen, result)
                    if result.stored:
                        for stmt in self._statements(batch, seen, top):
                            cur.execute(stmt)
                if stream and rv is not None:
                    cur.execute(schema.CHECKPOINT, (stream, rv, int(time.time())))
        except BaseException:
            self._forget()
            raise
        result.seconds = time.perf_counter() - t0
        return result

    @staticmethod
    def _statements(
        batch: dict[tuple[str, int], Record],
        seen: dict[tuple[str, int], tuple[int | None, int | None, bool]],
        top: dict[str, int],
    ) -> list[str]:
        """The write's statements that can change something (most batches are new events only)."""
        superseding = older = False
        for key, (newest, _, _) in seen.items():
            uid, rv = key
            if newest is not None and top[uid] > newest:
                superseding = True
            if rv < top[uid] or (newest is not None and rv < newest):
                older = True
        out = [schema.NOTES_PINNED, schema.SUPERSEDED] if superseding else []
        out.append(schema.UPSERT)
        if older:
            out.append(schema.OLDER)
        return out

    @staticmethod
    def _classify(
        batch: dict[tuple[str, int], Record],
        seen: dict[tuple[str, int], tuple[int | None, int | None, bool]],
        result: WriteResult,
    ) -> None:
        counts: dict[str, tuple[int, int]] = {}  # uid -> (newest rv, its count) as stored so far
        for key in sorted(batch, key=lambda k: k[1]):
            r = batch[key]
            newest, count, old = seen[key]
            if newest == r.rv or old:
                result.duplicates += 1
                continue
            result.stored.append(r)
            prev = counts.get(r.uid)
            if prev is None:
                prev = (newest, count or 0) if newest is not None else (0, 0)
            if r.rv > prev[0]:
                result.occurrences.append((r, max(0, r.count - prev[1]) if prev[0] else r.count))
                counts[r.uid] = (r.rv, r.count)

    def _row(self, r: Record, top: bool) -> tuple[Any, ...]:
        """The staged row of a version (see :mod:`.schema` for the encodings)."""
        s = self.interner.string
        reg = r.regarding
        name = r.name
        if reg.name and name.startswith(reg.name + ".") and len(name) > len(reg.name) + 1:
            name = name[len(reg.name) :]  # ".<suffix>": names start with a letter or digit
        t = r.seen
        ts = t // 1_000_000
        return (
            uid_bytes(r.uid), r.rv, s(r.namespace), name, self.interner.object(reg),
            self.interner.object(r.related) if r.related is not None else None, t,
            s(r.reason), s(r.type), s(r.action), s(r.controller), s(r.instance), r.note,
            None if r.event_time is None else t - r.event_time, r.series_count,
            None if r.series_last is None else 1, s(r.source_component), s(r.source_host),
            None if r.first_ts is None else ts - r.first_ts, None if r.last_ts is None else ts - r.last_ts,
            r.deprecated_count, None if r.created is None else ts - r.created,
            reg.resource_version or None, s(reg.field_path or ""), r.extra, int(top),
        )  # fmt: skip

    def _forget(self) -> None:
        self.interner.forget()

    # -- checkpoints ---------------------------------------------------------------------------------

    def checkpoint(self, stream: str) -> int | None:
        """The last resourceVersion of ``stream`` whose events are all stored, if any."""
        with self.backend.read() as cur:
            row = cur.execute("SELECT rv FROM checkpoints WHERE stream = ?", (stream,)).fetchone()
        return None if row is None else int(row[0])

    def checkpoints(self) -> dict[str, tuple[int, int]]:
        with self.backend.read() as cur:
            return {
                s: (int(rv), int(u))
                for s, rv, u in cur.execute("SELECT stream, rv, updated FROM checkpoints").fetchall()
            }

    # -- reading helpers shared by queries and retention --------------------------------------------

    def strings_of(self, cur: Cursor, ids: Iterable[int | None]) -> dict[int, str]:
        """id -> text for ``ids`` (cached: strings never change)."""
        want = {i for i in ids if i is not None and i not in self._strings_by_id}
        if want:
            if len(self._strings_by_id) >= STRINGS_LIMIT:
                self._strings_by_id.clear()
            wanted = sorted(want)
            for chunk in range(0, len(wanted), 500):
                part = wanted[chunk : chunk + 500]
                marks = ", ".join("?" * len(part))
                sql = f"SELECT id, s FROM strings WHERE id IN ({marks})"  # noqa: S608
                for sid, text in cur.execute(sql, part).fetchall():
                    self._strings_by_id[int(sid)] = text
        return self._strings_by_id

    def string_id(self, cur: Cursor, text: str) -> int | None:
        row = cur.execute("SELECT id FROM strings WHERE s = ?", (text,)).fetchone()
        return None if row is None else int(row[0])

    def counts(self) -> tuple[int, int]:
        """(events, older versions) stored."""
        with self.backend.read() as cur:
            e = int(cur.execute("SELECT COUNT(*) FROM events").fetchone()[0])
            v = int(cur.execute("SELECT COUNT(*) FROM versions").fetchone()[0])
        return e, v

    def size_bytes(self) -> int:
        return self.backend.size_bytes()

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` if the database cannot be read now."""
        with self.backend.read() as cur, contextlib.suppress(IndexError):
            cur.execute("SELECT 1").fetchone()


__all__ = ["EventStore", "StoreUnavailable", "WriteResult", "uid_bytes", "uid_text"]
