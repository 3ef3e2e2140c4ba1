"""The simulator's object store: kube-apiserver + etcd semantics, in memory, lean.

Every object is kept as its encoded JSON (``Entry.raw``) plus the little the API needs without
decoding it (labels, field-selector values, uid), so a 150,000-pod cluster costs bytes, not dicts,
and a LIST page is a join. One global, increasing resourceVersion orders every change; each change
is recorded once in a bounded history (the watch cache) and fanned out to the watchers of its
resource. Paginated lists read from a snapshot taken at the first page, so all pages of one list
reflect its resourceVersion, as etcd guarantees.

The interface other simulator parts use (scenario loading, churn, kubelets)::

    create(res, obj) -> dict               # fills uid, resourceVersion, creationTimestamp, generation
    update(res, obj) -> dict               # full replace (resourceVersion checked when given)
    update_status(res, obj) -> dict        # only .status changes
    delete(res, namespace, name) -> dict
    get(res, namespace, name) -> dict      # a fresh dict; raises NotFound
    modify(res, namespace, name, fn) -> dict   # read-modify-write in one change
    bulk_create(items) -> int              # fast start-up path
    keys(res) -> list[(namespace, name)]
    subscribe(fn) -> unsubscribe           # fn(event_type, res, obj) after each change
    resource_version: int

``res`` is the resource key: ``pods``, ``nodes``, ``deployments.apps``, ``leases.coordination.k8s.io``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import copy
import datetime as dt
import itertools
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kubescope.apiserver.selectors import FieldSelector, LabelSelector
from kubescope.sim.resources import Registry, ResourceType

Obj = dict[str, Any]
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

SNAPSHOT_TTL = 300.0
"""Seconds a paginated list's snapshot lives (etcd's default compaction interval is 5 minutes)."""


class SimError(Exception):
    """An API error with kube-apiserver's Status fields."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


class NotFound(SimError):
    code, reason = 404, "NotFound"


class AlreadyExists(SimError):
    code, reason = 409, "AlreadyExists"


class Conflict(SimError):
    code, reason = 409, "Conflict"


class Invalid(SimError):
    code, reason = 422, "Invalid"


class BadRequest(SimError):
    code, reason = 400, "BadRequest"


class Expired(SimError):
    code, reason = 410, "Expired"


class MethodNotAllowed(SimError):
    code, reason = 405, "MethodNotAllowed"


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def qualified(t: ResourceType) -> str:
    """``pods`` / ``deployments.apps``, as kube-apiserver names a resource in messages."""
    return f"{t.plural}.{t.group}" if t.group else t.plural


@dataclass(slots=True)
class Entry:
    raw: bytes
    rv: int
    labels: dict[str, str]
    fields: dict[str, str]
    uid: str


@dataclass(slots=True)
class Event:
    rv: int
    type: str
    res: str
    namespace: str
    raw: bytes
    labels: dict[str, str]
    fields: dict[str, str]
    old_labels: dict[str, str] | None
    old_fields: dict[str, str] | None


@dataclass
class Snapshot:
    rv: int
    entries: list[tuple[tuple[str, str], Entry]]
    created: float


class Watcher:
    """One open watch: a queue of events for a resource, filtered by namespace and selectors."""

    def __init__(
        self,
        res: str,
        namespace: str,
        labels: LabelSelector | None,
        fields: FieldSelector | None,
        max_queue: int = 200_000,
    ) -> None:
        self.res = res
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self.wake = asyncio.Event()
        self.closed = False
        self.close_reason = ""
        self.max_queue = max_queue
        self.sent_rv = 0

    def _match(self, labels: Mapping[str, str] | None, fields: Mapping[str, str] | None) -> bool:
        if labels is None or fields is None:
            return False
        if self.labels is not None and not self.labels.matches(labels):
            return False
        return self.fields is None or self.fields.matches(fields)

    def offer(self, ev: Event) -> None:
        if self.closed or (self.namespace and ev.namespace != self.namespace):
            return
        now = self._match(ev.labels, ev.fields)
        if ev.type == "ADDED":
            typ = "ADDED" if now else ""
        elif ev.type == "DELETED":
            typ = "DELETED" if now else ""
        else:
            before = self._match(ev.old_labels, ev.old_fields)
            if before and now:
                typ = "MODIFIED"
            elif now:
                typ = "ADDED"
            elif before:
                typ = "DELETED"
            else:
                typ = ""
        if not typ:
            return
        self.queue.append((typ, ev.raw))
        self.sent_rv = ev.rv
        if len(self.queue) > self.max_queue:
            self.close("watcher too slow")
        self.wake.set()

    def close(self, reason: str = "") -> None:
        self.closed = True
        self.close_reason = reason
        self.wake.set()


def event_line(typ: str, raw: bytes) -> bytes:
    return b'{"type":"' + typ.encode() + b'","object":' + raw + b"}\n"


class ObjectStore:
    """See the module docstring."""

    def __init__(self, registry: Registry | None = None, history: int = 100_000) -> None:
        self.registry = registry or Registry()
        self.objects: dict[str, dict[tuple[str, str], Entry]] = {}
        self.resource_version = 1
        self.history: collections.deque[Event] = collections.deque()
        self.history_size = history
        self.history_floor = 1
        """Watches may start from any resourceVersion >= this; older ones get 410 Gone."""
        self.watchers: dict[str, set[Watcher]] = {}
        self._subscribers: list[Callable[[str, str, Obj], None]] = []
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self._snap_ids = itertools.count(1)
        self.registry_version = 1

    # -- types ----------------------------------------------------------------------------

    def type_of(self, res: str) -> ResourceType:
        t = self.registry.by_key.get(res)
        if t is None:
            raise NotFound(f"the server could not find the requested resource ({res})")
        return t

    def _table(self, res: str) -> dict[tuple[str, str], Entry]:
        return self.objects.setdefault(res, {})

    # -- writes ---------------------------------------------------------------------------

    def _next_rv(self) -> int:
        self.resource_version += 1
        return self.resource_version

    def _entry(self, t: ResourceType, obj: Obj, rv: int) -> Entry:
        meta = obj["metadata"]
        meta["resourceVersion"] = str(rv)
        raw = _enc.encode(obj)
        return Entry(raw, rv, dict(meta.get("labels") or {}), t.field_values(obj), str(meta.get("uid", "")))

    def _record(self, typ: str, res: str, ns: str, entry: Entry, old: Entry | None) -> None:
        ev = Event(
            entry.rv,
            typ,
            res,
            ns,
            entry.raw,
            entry.labels,
            entry.fields,
            old.labels if old else None,
            old.fields if old else None,
        )
        if len(self.history) >= self.history_size:
            self.history_floor = self.history.popleft().rv
        self.history.append(ev)
        for w in list(self.watchers.get(res, ())):
            w.offer(ev)
        if self._subscribers:
            obj = _dec.decode(entry.raw)
            for fn in list(self._subscribers):
                fn(typ, res, obj)

    def _prepare_new(self, t: ResourceType, obj: Obj) -> tuple[str, str]:
        if not isinstance(obj, dict):
            raise BadRequest("the body of the request was in an unknown format")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
            meta["name"] = name
        if not name:
            raise Invalid(
                f'{t.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
                {"kind": t.kind, "group": t.group},
            )
        ns = meta.get("namespace") or "" if t.namespaced else ""
        if t.namespaced and not ns:
            ns = "default"
            meta["namespace"] = ns
        if not t.namespaced:
            meta.pop("namespace", None)
        obj.setdefault("apiVersion", t.api_version)
        obj.setdefault("kind", t.kind)
        return str(ns), str(name)

    def create(self, res: str, obj: Obj) -> Obj:
        t = self.type_of(res)
        ns, name = self._prepare_new(t, obj)
        table = self._table(res)
        if (ns, name) in table:
            raise AlreadyExists(
                f'{qualified(t)} "{name}" already exists', {"name": name, "group": t.group, "kind": t.plural}
            )
        meta = obj["metadata"]
        meta.setdefault("uid", str(uuid.uuid4()))
        if not meta.get("creationTimestamp"):
            meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = meta.get("generation") or 1
        meta.pop("deletionTimestamp", None)
        entry = self._entry(t, obj, self._next_rv())
        table[(ns, name)] = entry
        self._sorted.pop(res, None)
        self._record("ADDED", res, ns, entry, None)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    def bulk_create(self, items: Iterable[tuple[str, Obj]]) -> int:
        """Load objects without watch fan-out (nobody watches yet): the start-up path."""
        n = 0
        for res, obj in items:
            t = self.type_of(res)
            ns, name = self._prepare_new(t, obj)
            meta = obj["metadata"]
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            meta["generation"] = meta.get("generation") or 1
            self._table(res)[(ns, name)] = self._entry(t, obj, self._next_rv())
            n += 1
        self._sorted.clear()
        # nothing of the bulk load is in the history: watches must start from here
        self.history_floor = self.resource_version
        return n

    def _current(self, t: ResourceType, res: str, ns: str, name: str) -> Entry:
        e = self.objects.get(res, {}).get((ns if t.namespaced else "", name))
        if e is None:
            raise NotFound(
                f'{qualified(t)} "{name}" not found', {"name": name, "group": t.group, "kind": t.plural}
            )
        return e

    def update(self, res: str, obj: Obj, *, subresource: str = "") -> Obj:
        """Replace an object (PUT). ``subresource="status"`` changes only ``.status``."""
        t = self.type_of(res)
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict) or not meta.get("name"):
            raise BadRequest("metadata.name is required for an update")
        ns = str(meta.get("namespace") or "") if t.namespaced else ""
        name = str(meta["name"])
        old_entry = self._current(t, res, ns, name)
        want_rv = meta.get("resourceVersion")
        if want_rv and str(want_rv) != str(old_entry.rv):
            raise Conflict(
                f'Operation cannot be fulfilled on {qualified(t)} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                {"name": name, "group": t.group, "kind": t.plural},
            )
        old = _dec.decode(old_entry.raw)
        new = self._merge_update(t, old, obj, subresource)
        if new == old:
            # kube-apiserver short-circuits no-op updates: same resourceVersion, no event
            return old  # type: ignore[no-any-return]
        entry = self._entry(t, new, self._next_rv())
        self.objects[res][(ns, name)] = entry
        self._record("MODIFIED", res, ns, entry, old_entry)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    def _merge_update(self, t: ResourceType, old: Obj, obj: Obj, subresource: str) -> Obj:
        has_status = "status" in t.subresources
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        new = copy.deepcopy(obj)
        new.setdefault("apiVersion", t.api_version)
        new.setdefault("kind", t.kind)
        om, nm = old["metadata"], new["metadata"]
        for k in ("uid", "creationTimestamp", "namespace"):
            if k in om:
                nm[k] = om[k]
        nm.pop("resourceVersion", None)
        if has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

        # generation follows spec changes (everything but metadata and status, for kinds without spec)
        def body(o: Obj) -> Obj:
            return {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}

        gen = int(om.get("generation") or 1)
        nm["generation"] = gen + 1 if body(new) != body(old) else gen
        return new

    def update_status(self, res: str, obj: Obj) -> Obj:
        return self.update(res, obj, subresource="status")

    def modify(
        self, res: str, namespace: str, name: str, fn: Callable[[Obj], None], *, subresource: str = ""
    ) -> Obj:
        """Read-modify-write: ``fn`` mutates a fresh copy; one MODIFIED event if anything changed."""
        t = self.type_of(res)
        old_entry = self._current(t, res, namespace, name)
        old = _dec.decode(old_entry.raw)
        cur = _dec.decode(old_entry.raw)
        fn(cur)
        cur["metadata"]["resourceVersion"] = str(old_entry.rv)
        if subresource:
            return self.update(res, cur, subresource=subresource)
        if cur == old:
            return old  # type: ignore[no-any-return]
        # modify() is the simulator's own writer: it may change status and spec together
        om = old["metadata"]
        cm = cur["metadata"]
        for k in ("uid", "creationTimestamp"):
            if k in om:
                cm[k] = om[k]
        spec_changed = {k: v for k, v in cur.items() if k not in ("metadata", "status")} != {
            k: v for k, v in old.items() if k not in ("metadata", "status")
        }
        if spec_changed:
            cm["generation"] = int(om.get("generation") or 1) + 1
        entry = self._entry(t, cur, self._next_rv())
        self.objects[res][(namespace if t.namespaced else "", name)] = entry
        self._record("MODIFIED", res, namespace, entry, old_entry)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    def delete(self, res: str, namespace: str, name: str) -> Obj:
        t = self.type_of(res)
        ns = namespace if t.namespaced else ""
        old_entry = self._current(t, res, ns, name)
        if res == "namespaces":
            for r, table in list(self.objects.items()):
                if self.registry.by_key.get(r) is not None and self.registry.by_key[r].namespaced:
                    for key in [k for k in table if k[0] == name]:
                        self.delete(r, key[0], key[1])
        obj = _dec.decode(old_entry.raw)
        entry = self._entry(t, obj, self._next_rv())  # a DELETED event carries the deletion's resourceVersion
        del self.objects[res][(ns, name)]
        self._sorted.pop(res, None)
        self._record("DELETED", res, ns, entry, old_entry)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    # -- reads ----------------------------------------------------------------------------

    def get(self, res: str, namespace: str, name: str) -> Obj:
        t = self.type_of(res)
        return _dec.decode(self._current(t, res, namespace, name).raw)  # type: ignore[no-any-return]

    def get_raw(self, res: str, namespace: str, name: str) -> bytes:
        t = self.type_of(res)
        return self._current(t, res, namespace, name).raw

    def keys(self, res: str) -> list[tuple[str, str]]:
        return list(self.objects.get(res, {}))

    def count(self, res: str) -> int:
        return len(self.objects.get(res, {}))

    def iter_objects(self, res: str) -> Iterator[Obj]:
        for e in list(self.objects.get(res, {}).values()):
            yield _dec.decode(e.raw)

    def subscribe(self, fn: Callable[[str, str, Obj], None]) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def sorted_keys(self, res: str) -> list[tuple[str, str]]:
        keys = self._sorted.get(res)
        if keys is None:
            keys = sorted(self.objects.get(res, {}))
            self._sorted[res] = keys
        return keys

    # -- list pages and snapshots ---------------------------------------------------------

    def snapshot(self, res: str, namespace: str) -> tuple[str, Snapshot]:
        """Freeze the current entries of ``res`` (sorted by namespace/name) for a paginated list."""
        self._expire_snapshots()
        table = self.objects.get(res, {})
        keys = self.sorted_keys(res)
        if namespace:
            import bisect

            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
            keys = keys[lo:hi]
        snap = Snapshot(self.resource_version, [(k, table[k]) for k in keys], time.monotonic())
        sid = str(next(self._snap_ids))
        self.snapshots[sid] = snap
        return sid, snap

    def _expire_snapshots(self) -> None:
        now = time.monotonic()
        for sid in [s for s, sn in self.snapshots.items() if now - sn.created > SNAPSHOT_TTL]:
            del self.snapshots[sid]

    def history_since(self, rv: int) -> list[Event] | None:
        """Events after ``rv`` still in the history; None when ``rv`` is older than what is kept."""
        if rv < self.history_floor:
            return None
        if rv >= self.resource_version:
            return []
        out = []
        for ev in reversed(self.history):
            if ev.rv <= rv:
                break
            out.append(ev)
        out.reverse()
        return out

    def oldest_rv(self) -> int:
        return self.history_floor

    def add_watcher(self, w: Watcher) -> None:
        self.watchers.setdefault(w.res, set()).add(w)

    def remove_watcher(self, w: Watcher) -> None:
        self.watchers.get(w.res, set()).discard(w)

    def close_watchers(self, reason: str = "") -> int:
        n = 0
        for ws in self.watchers.values():
            for w in list(ws):
                w.close(reason)
                n += 1
        return n

    def watcher_count(self) -> int:
        return sum(len(ws) for ws in self.watchers.values())


def encode_continue(rv: int, sid: str, offset: int, last_key: tuple[str, str]) -> str:
    token = {
        "v": "meta.k8s.io/v1",
        "rv": rv,
        "start": f"{last_key[0]}/{last_key[1]}\x00",
        "sid": sid,
        "off": offset,
    }
    return base64.urlsafe_b64encode(_enc.encode(token)).decode().rstrip("=")


def decode_continue(token: str) -> dict[str, Any]:
    try:
        pad = "=" * (-len(token) % 4)
        d = _dec.decode(base64.urlsafe_b64decode(token + pad))
        if not isinstance(d, dict) or d.get("v") != "meta.k8s.io/v1":
            raise ValueError("bad version")
        return d
    except (ValueError, msgspec.DecodeError) as e:
        raise BadRequest(f"continue key is not valid: {e}") from e


@dataclass
class Stats:
    requests: int = 0
    watches_opened: int = 0
    lists: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
