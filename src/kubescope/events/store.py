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
from kubescope.events.model import Record, Ref

CACHE_LIMIT = 200_000
"""Entries of each intern cache before it is cleared (bounds memory whatever the cluster's size)."""


def uid_bytes(uid: str) -> bytes:
    """A canonical UUID as its 16 bytes; any other uid as 0xff + UTF-8 (never 16 bytes long)."""
    if len(uid) == 36 and uid[8] == uid[13] == uid[18] == uid[23] == "-":
        try:
            b = bytes.fromhex(uid.replace("-", ""))
        except ValueError:
            b = b""
        if len(b) == 16 and uid == _uuid_text(b):
            return b
    raw = b"\xff" + uid.encode()
    return raw + b"\xff" if len(raw) == 16 else raw


def _uuid_text(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uid_text(b: bytes) -> str:
    b = bytes(b)
    if len(b) == 16:
        return _uuid_text(b)
    return b[1:].rstrip(b"\xff").decode()


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
        self._strings: dict[str, int] = {}
        self._strings_by_id: dict[int, str] = {}
        self._objects: dict[tuple[int, str, int, bytes], int] = {}

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
                rows = [self._row(cur, r, top[r.uid] == r.rv) for r in batch.values()] if batch else []
                if rows:
                    self.backend.stage(cur, rows)
                    seen = {
                        (uid_text(u), v): (newest, count, bool(old))
                        for u, v, newest, count, old in cur.execute(schema.SEEN).fetchall()
                    }
                    self._classify(batch, seen, result)
                    if result.stored:
                        for stmt in (schema.NOTES_PINNED, schema.SUPERSEDED, schema.UPSERT, schema.OLDER):
                            cur.execute(stmt)
                if stream and rv is not None:
                    cur.execute(schema.CHECKPOINT, (stream, rv, int(time.time())))
        except BaseException:
            self._forget()
            raise
        result.seconds = time.perf_counter() - t0
        return result

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

    def _row(self, cur: Cursor, r: Record, top: bool) -> tuple[Any, ...]:
        s = self._string
        reg = r.regarding
        obj = self._object(cur, reg, r.namespace)
        rel = self._object(cur, r.related, r.namespace) if r.related is not None else None
        name = r.name
        if reg.name and name.startswith(reg.name + ".") and len(name) > len(reg.name) + 1:
            name = name[len(reg.name) :]  # ".<suffix>": names start with a letter or digit
        return (
            uid_bytes(r.uid), r.rv, s(cur, r.namespace), name, obj, rel, r.seen,
            s(cur, r.reason), s(cur, r.type), s(cur, r.action), s(cur, r.controller), s(cur, r.instance),
            r.note, r.event_time, r.series_count, r.series_last, s(cur, r.source_component),
            s(cur, r.source_host), r.first_ts, r.last_ts, r.deprecated_count, r.created,
            reg.resource_version or None, reg.field_path or None, r.extra, int(top),
        )  # fmt: skip

    def _string(self, cur: Cursor, text: str) -> int | None:
        if not text:
            return None
        got = self._strings.get(text)
        if got is not None:
            return got
        cur.execute("INSERT INTO strings (s) VALUES (?) ON CONFLICT DO NOTHING", (text,))
        sid = int(cur.execute("SELECT id FROM strings WHERE s = ?", (text,)).fetchone()[0])
        if len(self._strings) >= CACHE_LIMIT:
            self._strings.clear()
        self._strings[text] = sid
        return sid

    def _object(self, cur: Cursor, ref: Ref, event_ns: str) -> int:
        ns = self._string(cur, ref.namespace or "") or 0
        kind = self._string(cur, ref.kind or "") or 0
        name = ref.name or ""
        uid = uid_bytes(ref.uid or "")
        key = (ns, name, kind, uid)
        got = self._objects.get(key)
        if got is not None:
            return got
        api = self._string(cur, ref.api_version or "") or 0
        cur.execute(
            "INSERT INTO objects (ns, name, kind, uid, api) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (ns, name, kind, uid, api),
        )
        oid = int(
            cur.execute(
                "SELECT id FROM objects WHERE ns = ? AND name = ? AND kind = ? AND uid = ?", key
            ).fetchone()[0]
        )
        if len(self._objects) >= CACHE_LIMIT:
            self._objects.clear()
        self._objects[key] = oid
        return oid

    def _forget(self) -> None:
        self._strings.clear()
        self._objects.clear()

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
            if len(self._strings_by_id) >= CACHE_LIMIT:
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
