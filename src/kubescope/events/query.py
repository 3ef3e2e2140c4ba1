"""Reading the archive: one SQL statement per page, in the order of the time axis.

A selector on the regarding object first finds the object's ids (``objects_key``: name first,
so a name finds its objects with or without a namespace), then its
events through ``events_obj (obj, t)``: an object's whole history costs one index range, however
large the archive. A namespace's range goes through ``events_ns (ns, t)``, all namespaces through
``events_t``. Strings are compared by id (an unknown string matches nothing); ``""`` is NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubescope.events.backends import Cursor
from kubescope.events.model import Record, Ref
from kubescope.events.selection import Query
from kubescope.events.store import EventStore, uid_bytes, uid_text

_SELECT = """
SELECT e.uid, e.rv, e.ns, e.name, e.t, e.reason, e.type, e.action, e.ctrl, e.inst, e.note, e.etime, e.scount,
       e.slast, e.src, e.srchost, e.first, e.last, e.dcount, e.created, e.obj_rv, e.fpath, e.extra,
       o.ns, o.name, o.kind, o.uid, o.api, r.ns, r.name, r.kind, r.uid, r.api
FROM events e JOIN objects o ON o.id = e.obj LEFT JOIN objects r ON r.id = e.rel
"""
_STRING_COLS = {"reason": "e.reason", "type": "e.type", "reportingController": "e.ctrl"}
_OBJECT_COLS = {"regarding.kind": "kind", "regarding.namespace": "ns"}
_NOTHING = ["1 = 0"]


class _Where:
    def __init__(self, store: EventStore, cur: Cursor) -> None:
        self.store = store
        self.cur = cur
        self.sql: list[str] = []
        self.args: list[Any] = []

    def string(self, col: str, value: str, equal: bool) -> bool:
        """``col`` (a string id) equals / differs from ``value``; False if nothing can match."""
        if not value:
            self.sql.append(f"{col} IS {'' if equal else 'NOT '}NULL")
            return True
        sid = self.store.string_id(self.cur, value)
        if sid is None:
            return not equal
        self.sql.append(f"({col} = ?)" if equal else f"({col} IS NULL OR {col} <> ?)")
        self.args.append(sid)
        return True


def _where(store: EventStore, cur: Cursor, q: Query) -> tuple[list[str], list[Any]]:
    w = _Where(store, cur)
    # with an object to look for, its index (events_obj) leads: ``+e.ns`` keeps the planner, which
    # has no statistics on a young archive, from scanning the namespace's events instead
    by_object = any(
        t.equal and t.field.startswith("regarding.") and t.field != "regarding.namespace" for t in q.terms
    )
    ns_col = "+e.ns" if by_object else "e.ns"
    if q.namespace and not w.string(ns_col, q.namespace, True):
        return _NOTHING, []
    obj_sql: list[str] = []
    obj_args: list[Any] = []
    for t in q.terms:
        f = t.field
        if f in _STRING_COLS:
            if not w.string(_STRING_COLS[f], t.value, t.equal):
                return _NOTHING, []
        elif f == "metadata.namespace":
            if not w.string("e.ns", t.value, t.equal):
                return _NOTHING, []
        elif f == "metadata.name":
            head, dot, tail = t.value.rpartition(".")
            cond = "(e.name = ? OR (e.name = ? AND o.name = ?))"
            w.sql.append(cond if t.equal else f"NOT {cond}")
            w.args += [t.value, dot + tail, head]
        elif t.equal:  # regarding.*: find the objects first
            if f in _OBJECT_COLS:
                sid = store.string_id(cur, t.value) if t.value else 0
                if sid is None:
                    return _NOTHING, []
                obj_sql.append(f"{_OBJECT_COLS[f]} = ?")
                obj_args.append(sid)
            elif f == "regarding.name":
                obj_sql.append("name = ?")
                obj_args.append(t.value)
            else:
                obj_sql.append("uid = ?")
                obj_args.append(uid_bytes(t.value))
        else:
            col = {"regarding.name": "o.name", "regarding.uid": "o.uid"}.get(f)
            if col is not None:
                w.sql.append(f"{col} <> ?")
                w.args.append(t.value if f == "regarding.name" else uid_bytes(t.value))
            else:
                sid = store.string_id(cur, t.value) if t.value else 0
                if sid is not None:
                    w.sql.append(f"o.{_OBJECT_COLS[f]} <> ?")
                    w.args.append(sid)
    if obj_sql:
        w.sql.insert(0, f"e.obj IN (SELECT id FROM objects WHERE {' AND '.join(obj_sql)})")  # noqa: S608
        w.args[:0] = obj_args
    if q.since is not None:
        w.sql.append("e.t >= ?")
        w.args.append(q.since)
    if q.until is not None:
        w.sql.append("e.t <= ?")
        w.args.append(q.until)
    if q.after is not None:
        t0, u0 = q.after
        w.sql.append("(e.t > ? OR (e.t = ? AND e.uid > ?))")
        w.args += [t0, t0, uid_bytes(u0)]
    return w.sql, w.args


def search(store: EventStore, q: Query, limit: int = 0) -> list[Record]:
    """The archived events ``q`` asks for, oldest first, at most ``limit`` (0: all)."""
    with store.backend.read() as cur:
        where, args = _where(store, cur, q)
        # with a namespace or an object the filter's index finds the rows and they are sorted after
        # (``+e.t``: not the time index, which would scan the whole archive in time order)
        selective = bool(q.namespace) or any(t.equal and t.field.startswith("regarding.") for t in q.terms)
        order = " ORDER BY +e.t, e.uid" if selective else " ORDER BY e.t, e.uid"
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + order
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = cur.execute(sql, args).fetchall()
        return _records(store, cur, rows)


def get(store: EventStore, namespace: str, name: str) -> Record | None:
    from kubescope.apiserver.selectors import FieldTerm

    q = Query(namespace=namespace, terms=(FieldTerm("metadata.name", name, True),))
    found = search(store, q, limit=1)
    return found[0] if found else None


def versions(store: EventStore, uid: str) -> list[tuple[int, int, int, str]]:
    """Every stored version of an event, oldest first: (resourceVersion, last seen µs, count, note)."""
    with store.backend.read() as cur:
        row = cur.execute(
            "SELECT id, rv, t, COALESCE(scount, dcount, 1), note FROM events WHERE uid = ?", (uid_bytes(uid),)
        ).fetchone()
        if row is None:
            return []
        eid, rv, t, count, note = row
        older = cur.execute(
            "SELECT rv, t, count, note FROM versions WHERE event = ? ORDER BY rv", (eid,)
        ).fetchall()
    out = [(int(v), int(tt), int(c), n if n is not None else note) for v, tt, c, n in older]
    return [*out, (int(rv), int(t), int(count), note)]


def _records(store: EventStore, cur: Cursor, rows: Sequence[Any]) -> list[Record]:
    ids: list[int | None] = []
    for r in rows:
        ids += [
            r[2],
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[14],
            r[15],
            r[21],
            r[23],
            r[25],
            r[27],
            r[28],
            r[30],
            r[32],
        ]
    s = store.strings_of(cur, ids)

    def text(i: int | None) -> str:
        return s.get(i, "") if i else ""

    out = []
    for r in rows:
        regarding = Ref(
            kind=text(r[25]) or None, namespace=text(r[23]) or None, name=r[24] or None,
            uid=uid_text(r[26]) or None, api_version=text(r[27]) or None,
            resource_version=r[20], field_path=text(r[21]) or None,
        )  # fmt: skip
        related = None
        if r[29] is not None:
            related = Ref(
                kind=text(r[30]) or None, namespace=text(r[28]) or None, name=r[29] or None,
                uid=uid_text(r[31]) or None, api_version=text(r[32]) or None,
            )  # fmt: skip
        name = r[3]
        if name.startswith("."):
            name = (regarding.name or "") + name
        t = int(r[4])
        ts = t // 1_000_000
        rec = Record(
            uid=uid_text(r[0]), rv=int(r[1]), namespace=text(r[2]), name=name, regarding=regarding,
            related=related, reason=text(r[5]), action=text(r[7]), note=r[10], type=text(r[6]),
            controller=text(r[8]), instance=text(r[9]), event_time=None if r[11] is None else t - r[11],
            series_count=r[12], series_last=None if r[13] is None else t, source_component=text(r[14]),
            source_host=text(r[15]), first_ts=None if r[16] is None else ts - r[16],
            last_ts=None if r[17] is None else ts - r[17], deprecated_count=r[18],
            created=None if r[19] is None else ts - r[19], extra=r[22],
        )  # fmt: skip
        out.append(rec)
    return out
