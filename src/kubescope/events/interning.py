"""Strings and objects stored once, referred to by id: resolved for a whole batch at a time.

A batch's unknown strings are inserted with one ``executemany`` (``ON CONFLICT DO NOTHING``: another
recorder may have added them) and their ids read back with one ``SELECT … IN``, then its unknown
objects the same way: a few round trips per batch whatever its size, where one per new object made
PostgreSQL ingest round-trip bound. The caches are bounded (``STRINGS_LIMIT``, ``OBJECTS_LIMIT``) and
dropped by the store when a transaction fails, so no id of a rolled-back row survives.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable

from kubescope.events.backends import Cursor
from kubescope.events.model import Record, Ref

STRINGS_LIMIT = 50_000
"""Strings cached before the cache is cleared: namespaces, reasons, nodes, ... (a few thousand in a
large cluster; ~150 bytes each)."""
OBJECTS_LIMIT = 10_000
"""Objects cached (~300 bytes each): past it the older half is dropped. An object's events come
close together (a pod starting, crash-looping), so the recent ones are what the next batches need;
the bound keeps the recorder's memory the same whatever the size of the archive or cluster."""
CHUNK = 500

ObjectKey = tuple[int, str, int, bytes]
"""(namespace id, name, kind id, uid bytes)"""


def uid_bytes(uid: str) -> bytes:
    """A canonical UUID as its 16 bytes; any other uid as 0xff + UTF-8 (never 16 bytes long)."""
    if len(uid) == 36 and uid[8] == uid[13] == uid[18] == uid[23] == "-":
        h = uid.replace("-", "")
        try:
            b = bytes.fromhex(h)
        except ValueError:
            b = b""
        if len(b) == 16 and b.hex() == h:  # canonical: lower-case, so it reads back the same
            return b
    raw = b"\xff" + uid.encode()
    return raw + b"\xff" if len(raw) == 16 else raw


_object_uid_bytes = functools.lru_cache(maxsize=4096)(uid_bytes)
"""An object's uid comes back with each of its events (an event's own uid once: not cached, where a
cache of 65,536 of them held ~13 MiB)."""


def _uuid_text(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uid_text(b: bytes) -> str:
    b = bytes(b)
    if len(b) == 16:
        return _uuid_text(b)
    return b[1:].rstrip(b"\xff").decode()


def _texts(r: Record) -> Iterable[str]:
    yield from (r.namespace, r.reason, r.type, r.action, r.controller, r.instance)
    yield from (r.source_component, r.source_host, r.regarding.field_path or "")
    for ref in (r.regarding, r.related):
        if ref is not None:
            yield from (ref.namespace or "", ref.kind or "", ref.api_version or "")


_TYPED_ROW = "(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BYTEA))"
"""PostgreSQL types a VALUES list from its first row (parameters alone would be text)."""


class Interner:
    def __init__(self, dialect: str = "sqlite") -> None:
        self.dialect = dialect
        self.strings: dict[str, int] = {}
        self.objects: dict[ObjectKey, int] = {}

    def forget(self) -> None:
        self.strings.clear()
        self.objects.clear()

    def string(self, text: str) -> int | None:
        """The id of a resolved string; None for ``""`` (stored as NULL)."""
        return self.strings[text] if text else None

    def key(self, ref: Ref) -> ObjectKey:
        s = self.strings
        return (
            s[ref.namespace] if ref.namespace else 0,
            ref.name or "",
            s[ref.kind] if ref.kind else 0,
            _object_uid_bytes(ref.uid or ""),
        )

    def object(self, ref: Ref) -> int:
        return self.objects[self.key(ref)]

    def resolve(self, cur: Cursor, records: Iterable[Record]) -> None:
        """Make every string and object of ``records`` known (inserting what is new)."""
        records = list(records)
        if len(self.strings) > STRINGS_LIMIT:
            self.strings.clear()
            self.objects.clear()  # keyed on string ids: only meaningful with them
        elif len(self.objects) > OBJECTS_LIMIT:
            for k in list(itertools.islice(self.objects, len(self.objects) // 2)):
                del self.objects[k]  # the oldest half (dicts keep insertion order)
        texts = {t for r in records for t in _texts(r) if t and t not in self.strings}
        if texts:
            new = sorted(texts)
            cur.executemany("INSERT INTO strings (s) VALUES (?) ON CONFLICT DO NOTHING", [(t,) for t in new])  # type: ignore[attr-defined]
            for i in range(0, len(new), CHUNK):
                part = new[i : i + CHUNK]
                sql = f"SELECT id, s FROM strings WHERE s IN ({', '.join('?' * len(part))})"  # noqa: S608
                for sid, text in cur.execute(sql, part).fetchall():
                    self.strings[text] = int(sid)
        wanted: dict[ObjectKey, int] = {}
        for r in records:
            for ref in (r.regarding, r.related):
                if ref is not None:
                    k = self.key(ref)
                    if k not in self.objects:
                        wanted[k] = self.string(ref.api_version or "") or 0
        if not wanted:
            return
        keys = sorted(wanted)
        cur.executemany(  # type: ignore[attr-defined]
            "INSERT INTO objects (ns, name, kind, uid, api) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(*k, wanted[k]) for k in keys],
        )
        first = _TYPED_ROW if self.dialect == "postgresql" else "(?, ?, ?, ?)"
        for i in range(0, len(keys), CHUNK):
            some = keys[i : i + CHUNK]
            rows = ", ".join([first] + ["(?, ?, ?, ?)"] * (len(some) - 1))
            # a join on the VALUES, not a row-value IN, which SQLite answers by scanning every object
            sql = (
                f"SELECT o.id, o.ns, o.name, o.kind, o.uid FROM (VALUES {rows}) AS v JOIN objects o "  # noqa: S608
                "ON o.name = v.column2 AND o.ns = v.column1 AND o.kind = v.column3 AND o.uid = v.column4"
            )
            args = [x for k in some for x in k]
            for oid, ns, name, kind, uid in cur.execute(sql, args).fetchall():
                self.objects[(int(ns), name, int(kind), bytes(uid))] = int(oid)
