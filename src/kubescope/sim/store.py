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
    delete(res, namespace, name, grace_period=None) -> dict   # pods: graceful when kubelets run
    get(res, namespace, name) -> dict      # a fresh dict; raises NotFound
    modify(res, namespace, name, fn) -> dict   # read-modify-write in one change
    bulk_create(items) -> int              # fast start-up path
    keys(res) -> list[(namespace, name)]
    subscribe(fn) -> unsubscribe           # fn(event_type, res, obj) after each change
    add_hook(res, fn) -> remove            # fn(event_type, obj) after each change of res only
    resource_version: int

``add_hook`` is the in-process watch the simulator's own controllers are driven by: called
synchronously after the change is recorded and fanned out, with the object as stored (shared
between the hooks of a change: read it, do not change it). A hook that writes makes a change of
its own, recorded after this one; controllers only take note and do their work later.

``res`` is the resource key: ``pods``, ``nodes``, ``deployments.apps``, ``leases.coordination.k8s.io``.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import collections
import contextlib
import copy
import datetime as dt
import itertools
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from kubescope.apiserver.selectors import FieldSelector, LabelSelector
from kubescope.model.timefmt import parse_time
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

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        list_meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        self.list_meta = dict(list_meta or {})
        """``metadata`` of the Status (an expired continue carries a fresh token there)."""


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


def now_rfc3339(clock: Callable[[], float] = time.time) -> str:
    return dt.datetime.fromtimestamp(int(clock()), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """One change, as the watch cache keeps it: the new bytes and what selectors need of the old ones."""

    rv: int
    type: str
    res: str
    namespace: str
    key: tuple[str, str]
    raw: bytes
    labels: dict[str, str]
    fields: dict[str, str]
    old: Entry | None


@dataclass
class Snapshot:
    """A list's frozen view: the sorted keys in range and a copy of the table (both C-level copies,
    ~6 ms for 150,000 pods; entries are immutable, so sharing them is safe)."""

    rv: int
    keys: list[tuple[str, str]]
    table: dict[tuple[str, str], Entry]
    created: float


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: encoded items and the list metadata kube-apiserver would send."""

    rv: int
    items: list[bytes]
    continue_token: str = ""
    remaining: int | None = None


class Watcher:
    """One open watch: a queue of event lines for a resource, filtered by namespace and selectors.

    Selector transitions follow kube-apiserver's watch cache: an object that starts matching arrives
    as ADDED, one that stops matching as DELETED (carrying its previous content at the event's
    resourceVersion). Queue items are ``(type, payload)``; types starting with ``_`` are markers the
    HTTP layer turns into lines of its own (initial-events-end bookmarks, malformed lines).
    """

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
        self.queue: collections.deque[tuple[str, bytes, bytes]] = collections.deque()
        """``(type, object bytes, event line or b"")``: the line is encoded once for all watchers."""
        self.wake = asyncio.Event()
        self.closed = False
        self.close_reason = ""
        self.max_queue = max_queue

    def matches(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        if self.labels is not None and not self.labels.matches(labels):
            return False
        return self.fields is None or self.fields.matches(fields)

    def offer(self, ev: Event, lines: dict[str, bytes] | None = None) -> None:
        """Queue ``ev`` if it concerns this watch; ``lines`` shares encoded lines between watchers."""
        if self.closed or (self.namespace and ev.namespace != self.namespace):
            return
        if ev.type == "DELETED":
            if self.matches(ev.labels, ev.fields):
                self.push("DELETED", ev.raw, _line(lines, "DELETED", ev.raw))
            return
        now = self.matches(ev.labels, ev.fields)
        before = ev.old is not None and self.matches(ev.old.labels, ev.old.fields)
        if now:
            typ = "MODIFIED" if before else "ADDED"
            self.push(typ, ev.raw, _line(lines, typ, ev.raw))
        elif before:
            assert ev.old is not None
            raw = with_resource_version(ev.old.raw, ev.rv)
            self.push("DELETED", raw, event_line("DELETED", raw))

    def push(self, typ: str, raw: bytes, line: bytes = b"") -> None:
        self.queue.append((typ, raw, line))
        if len(self.queue) > self.max_queue:
            self.close("watcher too slow")
        self.wake.set()

    def close(self, reason: str = "") -> None:
        self.closed = True
        self.close_reason = reason
        self.wake.set()


def with_resource_version(raw: bytes, rv: int) -> bytes:
    obj = _dec.decode(raw)
    obj["metadata"]["resourceVersion"] = str(rv)
    return _enc.encode(obj)


_NO_LABELS: dict[str, str] = {}
_intern = sys.intern


def event_line(typ: str, raw: bytes) -> bytes:
    return b'{"type":"' + typ.encode() + b'","object":' + raw + b"}\n"


def _line(lines: dict[str, bytes] | None, typ: str, raw: bytes) -> bytes:
    if lines is None:
        return b""
    line = lines.get(typ)
    if line is None:
        line = lines[typ] = event_line(typ, raw)
    return line


def _matches(e: Entry, labels: LabelSelector | None, flds: FieldSelector | None) -> bool:
    if labels is not None and not labels.matches(e.labels):
        return False
    return flds is None or flds.matches(e.fields)


class ObjectStore:
    """See the module docstring."""

    def __init__(
        self,
        registry: Registry | None = None,
        history: int = 100_000,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry or Registry()
        self.clock = clock
        """The time the store stamps by (creation, deletion): the simulator's clock, which the
        control plane's timers follow too (tests pass one they move)."""
        self.objects: dict[str, dict[tuple[str, str], Entry]] = {}
        self.resource_version = 1
        self.history: collections.deque[Event] = collections.deque()
        self.history_size = max(1, history)
        self.history_floor = 1
        """Watches may start from any resourceVersion >= this; older ones get 410 Gone."""
        self.watchers: dict[str, set[Watcher]] = {}
        """Watchers by resource, except those reached through a trigger index (below)."""
        self._closed_reason: str | None = None
        self._index: dict[str, dict[str, set[tuple[str, str]]]] = {r: {} for r in TRIGGERS}
        self._trigger_watchers: dict[str, dict[str, set[Watcher]]] = {r: {} for r in TRIGGERS}
        self._subscribers: list[Callable[[str, str, Obj], None]] = []
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self._snap_ids = itertools.count(1)
        self._rv_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.registry_version = 1
        """Bumped when the served resources change (CRDs): discovery and OpenAPI caches key on it."""
        self._hooks: dict[str, list[Callable[[str, Obj], None]]] = {}
        """In-process watchers per resource (:meth:`add_hook`)."""
        self.graceful_pods = False
        """Whether a deleted pod bound to a node is terminated gracefully (``deletionTimestamp`` and
        ``deletionGracePeriodSeconds`` set, removed when its kubelet deletes it again with a grace
        period of 0), as kube-apiserver does. Off unless something plays the kubelets' part (the
        simulator's control plane turns it on): without it such pods would stay Terminating."""

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
        # msgspec's result keeps its growth buffer (~1.5x the length): an exact copy costs a
        # microsecond and saves a quarter of the store's memory
        raw = bytes(memoryview(_enc.encode(obj)))
        # what selectors read, lean: interned strings (label keys, values and field values repeat
        # across thousands of objects), no empty field values (a missing one reads as ""), one
        # shared empty label map
        labels = meta.get("labels")
        lab = {_intern(str(k)): _intern(str(v)) for k, v in labels.items()} if labels else _NO_LABELS
        flds = {k: _intern(v) for k, v in t.field_values(obj).items() if v}
        return Entry(raw, rv, lab, flds, str(meta.get("uid", "")))

    def _record(
        self, typ: str, res: str, ns: str, key: tuple[str, str], entry: Entry, old: Entry | None
    ) -> None:
        ev = Event(entry.rv, typ, res, ns, key, entry.raw, entry.labels, entry.fields, old)
        if len(self.history) >= self.history_size:
            self.history_floor = self.history.popleft().rv
        self.history.append(ev)
        watchers = self.watchers.get(res)
        by_value = self._trigger_watchers.get(res)
        if by_value:
            # kube-apiserver's trigger functions: a pod event reaches only the watchers of its node
            field = TRIGGERS[res]
            targets = set(by_value.get(entry.fields.get(field, ""), ()))
            if old is not None:
                targets |= by_value.get(old.fields.get(field, ""), set())
            if watchers:
                targets |= watchers
            watchers = targets
        if watchers:
            lines: dict[str, bytes] = {}
            for w in list(watchers):
                w.offer(ev, lines)
        if self._rv_waiters:
            self._wake_rv_waiters()
        if self._subscribers:
            obj = _dec.decode(entry.raw)
            for fn in list(self._subscribers):
                fn(typ, res, obj)
        hooks = self._hooks.get(res)
        if hooks:
            # last, so that writes a hook makes come after every consumer saw this change
            obj = _dec.decode(entry.raw)
            for hook in list(hooks):
                hook(typ, obj)

    def _reindex(self, res: str, key: tuple[str, str], old: Entry | None, new: Entry | None) -> None:
        field = TRIGGERS.get(res)
        if field is None:
            return
        index = self._index[res]
        before = old.fields.get(field, "") if old is not None else None
        after = new.fields.get(field, "") if new is not None else None
        if before == after:
            return
        if before is not None:
            keys = index.get(before)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[before]
        if after is not None:
            index.setdefault(after, set()).add(key)

    def _prepare_new(self, t: ResourceType, obj: Obj) -> tuple[str, str]:
        if not isinstance(obj, dict):
            raise BadRequest("the body of the request was in an unknown format")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            # kube-apiserver appends 5 characters from its own alphabet (no vowels, no look-alikes)
            name = meta["generateName"] + "".join(random.choices(_NAME_ALPHABET, k=5))
            meta["name"] = name
        if not name:
            raise Invalid(
                f'{t.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
                {
                    "kind": t.kind,
                    "group": t.group,
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                },
            )
        ns = meta.get("namespace") or "" if t.namespaced else ""
        if t.namespaced and not ns:
            ns = "default"
            meta["namespace"] = ns
        if not t.namespaced:
            meta.pop("namespace", None)
        obj["apiVersion"] = obj.get("apiVersion") or t.api_version
        obj["kind"] = obj.get("kind") or t.kind
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
        meta["uid"] = meta.get("uid") or str(uuid.uuid4())
        if not meta.get("creationTimestamp"):
            meta["creationTimestamp"] = now_rfc3339(self.clock)
        meta["generation"] = meta.get("generation") or 1
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        entry = self._entry(t, obj, self._next_rv())
        table[(ns, name)] = entry
        self._reindex(res, (ns, name), None, entry)
        keys = self._sorted.get(res)
        if keys is not None:
            bisect.insort(keys, (ns, name))
        self._record("ADDED", res, ns, (ns, name), entry, None)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    def bulk_create(self, items: Iterable[tuple[str, Obj]]) -> int:
        """Load objects without watch fan-out (nobody watches yet): the start-up path."""
        n = 0
        for res, obj in items:
            t = self.type_of(res)
            ns, name = self._prepare_new(t, obj)
            meta = obj["metadata"]
            meta["uid"] = meta.get("uid") or str(uuid.uuid4())
            meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339(self.clock)
            meta["generation"] = meta.get("generation") or 1
            entry = self._entry(t, obj, self._next_rv())
            table = self._table(res)
            self._reindex(res, (ns, name), table.get((ns, name)), entry)
            table[(ns, name)] = entry
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

    def _conflict(self, t: ResourceType, name: str) -> Conflict:
        return Conflict(
            f'Operation cannot be fulfilled on {qualified(t)} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again",
            {"name": name, "group": t.group, "kind": t.plural},
        )

    def update(self, res: str, obj: Obj, *, subresource: str = "") -> Obj:
        """Replace an object (PUT). ``subresource="status"`` changes only ``.status``; a PUT of the
        main resource keeps the stored status of kinds that have a status subresource."""
        t = self.type_of(res)
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict) or not meta.get("name"):
            raise BadRequest("metadata.name is required for an update")
        ns = str(meta.get("namespace") or "") if t.namespaced else ""
        name = str(meta["name"])
        old_entry = self._current(t, res, ns, name)
        want_rv = meta.get("resourceVersion")
        if want_rv and str(want_rv) != str(old_entry.rv):
            raise self._conflict(t, name)
        old = _dec.decode(old_entry.raw)
        new = self._merge_update(t, old, obj, subresource)
        return self._commit(t, res, ns, name, old, new, old_entry)

    def _commit(
        self, t: ResourceType, res: str, ns: str, name: str, old: Obj, new: Obj, old_entry: Entry
    ) -> Obj:
        new["metadata"]["resourceVersion"] = str(old_entry.rv)
        if new == old:
            # kube-apiserver short-circuits no-op updates: same resourceVersion, no event
            return old
        nm = new["metadata"]
        if (
            nm.get("deletionTimestamp")
            and not nm.get("finalizers")
            and not nm.get("deletionGracePeriodSeconds")
        ):
            # the last finalizer is gone: the deletion that was waiting for it happens now (a pod
            # terminating gracefully waits for its kubelet's final delete instead)
            return self._remove(t, res, ns, name, new, old_entry)
        entry = self._entry(t, new, self._next_rv())
        self.objects[res][(ns, name)] = entry
        self._reindex(res, (ns, name), old_entry, entry)
        self._record("MODIFIED", res, ns, (ns, name), entry, old_entry)
        # ``new`` is what was encoded (hooks got their own copy): a fresh dict for the caller
        # without decoding the bytes again
        return new

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
        new["apiVersion"] = new.get("apiVersion") or t.api_version
        new["kind"] = new.get("kind") or t.kind
        om, nm = old["metadata"], new["metadata"]
        for k in ("uid", "creationTimestamp", "namespace", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if k in om:
                nm[k] = om[k]
            else:
                nm.pop(k, None)
        if has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        gen = int(om.get("generation") or 1)
        nm["generation"] = gen + 1 if _spec(new) != _spec(old) else gen
        return new

    def update_status(self, res: str, obj: Obj) -> Obj:
        return self.update(res, obj, subresource="status")

    def modify(
        self, res: str, namespace: str, name: str, fn: Callable[[Obj], None], *, subresource: str = ""
    ) -> Obj:
        """Read-modify-write: ``fn`` mutates a fresh copy; one MODIFIED event if anything changed.

        The simulator's own writers (kubelets, churn, controllers) may change spec and status
        together here; ``generation`` still follows spec changes."""
        t = self.type_of(res)
        ns = namespace if t.namespaced else ""
        old_entry = self._current(t, res, ns, name)
        old = _dec.decode(old_entry.raw)
        cur = _dec.decode(old_entry.raw)
        fn(cur)
        if subresource:
            cur["metadata"]["resourceVersion"] = str(old_entry.rv)
            return self.update(res, cur, subresource=subresource)
        om, cm = old["metadata"], cur["metadata"]
        for k in ("uid", "creationTimestamp", "name", "namespace"):
            if k in om:
                cm[k] = om[k]
        if _spec(cur) != _spec(old):
            cm["generation"] = int(om.get("generation") or 1) + 1
        return self._commit(t, res, ns, name, old, cur, old_entry)

    def delete(
        self,
        res: str,
        namespace: str,
        name: str,
        *,
        uid: str = "",
        resource_version: str = "",
        grace_period: int | None = None,
    ) -> Obj:
        """Delete now, or mark for deletion (``deletionTimestamp``) while finalizers remain or, for
        a pod, while its kubelet terminates it (:attr:`graceful_pods`).

        ``uid``/``resource_version`` are DeleteOptions preconditions (409 Conflict when stale);
        ``grace_period`` is DeleteOptions' ``gracePeriodSeconds`` (None: the pod's own
        ``terminationGracePeriodSeconds``)."""
        t = self.type_of(res)
        ns = namespace if t.namespaced else ""
        old_entry = self._current(t, res, ns, name)
        if uid and uid != old_entry.uid:
            raise Conflict(
                f'Operation cannot be fulfilled on {qualified(t)} "{name}": Precondition failed: '
                f"UID in precondition: {uid}, UID in object meta: {old_entry.uid}",
                {"name": name, "group": t.group, "kind": t.plural},
            )
        if resource_version and resource_version != str(old_entry.rv):
            raise Conflict(
                f'Operation cannot be fulfilled on {qualified(t)} "{name}": Precondition failed: '
                f"ResourceVersion in precondition: {resource_version}, ResourceVersion in object meta: "
                f"{old_entry.rv}",
                {"name": name, "group": t.group, "kind": t.plural},
            )
        obj = _dec.decode(old_entry.raw)
        meta = obj["metadata"]
        if res == "pods" and self.graceful_pods:
            period = _pod_grace_period(obj, grace_period)
            if period > 0 or meta.get("deletionGracePeriodSeconds"):
                marked = _graceful(obj, period, self.clock())
                if marked is None:
                    return obj  # type: ignore[no-any-return]  # pending: only a shorter period counts
                if marked:
                    return self._mark(t, res, ns, name, obj, old_entry)
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return obj  # type: ignore[no-any-return]
            meta["deletionTimestamp"] = now_rfc3339(self.clock)
            meta["deletionGracePeriodSeconds"] = 0
            return self._mark(t, res, ns, name, obj, old_entry)
        if res == "namespaces":
            for r, table in list(self.objects.items()):
                rt = self.registry.by_key.get(r)
                if rt is not None and rt.namespaced:
                    for key in [k for k in table if k[0] == name]:
                        with contextlib.suppress(NotFound):
                            self._force_delete(rt, r, key[0], key[1])
        return self._remove(t, res, ns, name, obj, old_entry)

    def _mark(self, t: ResourceType, res: str, ns: str, name: str, obj: Obj, old_entry: Entry) -> Obj:
        """Store a deletion in progress (one MODIFIED event)."""
        entry = self._entry(t, obj, self._next_rv())
        self.objects[res][(ns, name)] = entry
        self._reindex(res, (ns, name), old_entry, entry)
        self._record("MODIFIED", res, ns, (ns, name), entry, old_entry)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    def _force_delete(self, t: ResourceType, res: str, ns: str, name: str) -> None:
        """The namespace controller's cleanup: finalizers do not hold back a namespace's deletion."""
        e = self._current(t, res, ns, name)
        self._remove(t, res, ns, name, _dec.decode(e.raw), e)

    def _remove(self, t: ResourceType, res: str, ns: str, name: str, obj: Obj, old_entry: Entry) -> Obj:
        entry = self._entry(t, obj, self._next_rv())  # a DELETED event carries the deletion's resourceVersion
        del self.objects[res][(ns, name)]
        self._reindex(res, (ns, name), old_entry, None)
        keys = self._sorted.get(res)
        if keys is not None:
            i = bisect.bisect_left(keys, (ns, name))
            if i < len(keys) and keys[i] == (ns, name):
                del keys[i]
        self._record("DELETED", res, ns, (ns, name), entry, old_entry)
        return _dec.decode(entry.raw)  # type: ignore[no-any-return]

    # -- reads ----------------------------------------------------------------------------

    def get(self, res: str, namespace: str, name: str) -> Obj:
        t = self.type_of(res)
        return _dec.decode(self._current(t, res, namespace, name).raw)  # type: ignore[no-any-return]

    def get_raw(self, res: str, namespace: str, name: str) -> bytes:
        t = self.type_of(res)
        return self._current(t, res, namespace, name).raw

    def exists(self, res: str, namespace: str, name: str) -> bool:
        return (namespace, name) in self.objects.get(res, {})

    def keys(self, res: str) -> list[tuple[str, str]]:
        return list(self.objects.get(res, {}))

    def count(self, res: str) -> int:
        return len(self.objects.get(res, {}))

    def iter_objects(self, res: str) -> Iterator[Obj]:
        for e in list(self.objects.get(res, {}).values()):
            yield _dec.decode(e.raw)

    def subscribe(self, fn: Callable[[str, str, Obj], None]) -> Callable[[], None]:
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def add_hook(self, res: str, fn: Callable[[str, Obj], None]) -> Callable[[], None]:
        """Call ``fn(event_type, object)`` after each change of ``res`` only (the server's own
        controllers: CRDs, APIServices, the control plane); unlike :meth:`subscribe`, other
        resources cost nothing. Returns the function that removes the hook."""
        hooks = self._hooks.setdefault(res, [])
        hooks.append(fn)

        def remove() -> None:
            if fn in hooks:
                hooks.remove(fn)

        return remove

    def sorted_keys(self, res: str) -> list[tuple[str, str]]:
        keys = self._sorted.get(res)
        if keys is None:
            keys = sorted(self.objects.get(res, {}))
            self._sorted[res] = keys
        return keys

    def matching(
        self, res: str, namespace: str, labels: LabelSelector | None, flds: FieldSelector | None
    ) -> list[Entry]:
        """Current entries of ``res`` in ``namespace`` ("" = all) that match the selectors."""
        table = self.objects.get(res, {})
        keys = self._triggered(res, flds)
        if keys is not None:
            found = (table[k] for k in sorted(keys) if not namespace or k[0] == namespace)
            return [e for e in found if _matches(e, labels, flds)]
        return [
            e
            for (ons, _), e in table.items()
            if (not namespace or ons == namespace) and _matches(e, labels, flds)
        ]

    def _triggered(self, res: str, flds: FieldSelector | None) -> set[tuple[str, str]] | None:
        """The keys a field selector's equality on ``res``'s trigger field narrows to, if it has one."""
        value = trigger_value(res, flds)
        if value is None:
            return None
        return self._index[res].get(value, set())

    # -- lists: pages and snapshots ---------------------------------------------------------

    def snapshot(
        self,
        res: str,
        namespace: str,
        start: tuple[str, str] | None = None,
        narrowed: set[tuple[str, str]] | None = None,
    ) -> tuple[str, Snapshot]:
        """Freeze the entries of ``res`` (sorted by namespace/name, from ``start`` on) for a paginated list."""
        self._expire_snapshots()
        table = self.objects.get(res, {})
        if narrowed is not None:
            picked = sorted(
                k for k in narrowed if (not namespace or k[0] == namespace) and (start is None or k > start)
            )
            snap = Snapshot(self.resource_version, picked, {k: table[k] for k in picked}, time.monotonic())
            sid = str(next(self._snap_ids))
            self.snapshots[sid] = snap
            return sid, snap
        keys = self.sorted_keys(res)
        lo, hi = 0, len(keys)
        if namespace:
            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
        if start is not None:
            lo = max(lo, bisect.bisect_right(keys, start))
        snap = Snapshot(self.resource_version, keys[lo:hi], dict(table), time.monotonic())
        sid = str(next(self._snap_ids))
        self.snapshots[sid] = snap
        return sid, snap

    def _expire_snapshots(self) -> None:
        now = time.monotonic()
        for sid in [s for s, sn in self.snapshots.items() if now - sn.created > SNAPSHOT_TTL]:
            del self.snapshots[sid]

    def list_page(
        self,
        res: str,
        namespace: str,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        limit: int = 0,
        token: str = "",
        resource_version: str = "",
        match: str = "",
    ) -> Page:
        """A LIST as etcd + kube-apiserver answer it.

        Every page of a paginated list reflects the resourceVersion of its first page (the snapshot
        taken then); a continue token whose snapshot is gone gets 410 Expired carrying a token
        that continues at the latest state, as kube-apiserver does after etcd compaction.
        ``resourceVersionMatch=Exact`` is served from the history when the version is still in it.
        """
        if limit < 0:
            raise BadRequest("limit must be non-negative")
        # the ListOptions rules (resourceVersionMatch with a version, not with continue...) are the
        # API's: kubescope.sim.validation answers them with kube-apiserver's 422
        if token and resource_version not in ("", "0"):
            raise BadRequest("specifying resource version is not allowed when using continue")
        rv_n = parse_resource_version(resource_version) if resource_version else 0
        if rv_n > self.resource_version:
            raise TooLargeResourceVersion(rv_n, self.resource_version)
        if token:
            c = decode_continue(token)
            start = _start_key(str(c.get("start", "")))
            if c.get("rv") == -1:
                sid, snap = self.snapshot(res, namespace, start, self._triggered(res, fields))
                offset = 0
            else:
                found = self.snapshots.get(str(c.get("sid", "")))
                if found is None or found.rv != c.get("rv"):
                    raise Expired(
                        INCONSISTENT_CONTINUE,
                        list_meta={"continue": encode_continue(-1, "", 0, start or ("", ""))},
                    )
                sid, snap, offset = str(c["sid"]), found, int(c.get("off", 0))
        elif match == "Exact" and rv_n != self.resource_version:
            sid = self._snapshot_at(res, namespace, rv_n)
            snap, offset = self.snapshots[sid], 0
        else:
            sid, snap = self.snapshot(res, namespace, narrowed=self._triggered(res, fields))
            offset = 0
        keys, table = snap.keys, snap.table
        out: list[bytes] = []
        i, n = offset, len(keys)
        last_key: tuple[str, str] = ("", "")
        unfiltered = labels is None and fields is None
        while i < n and (not limit or len(out) < limit):
            key = keys[i]
            e = table[key]
            i += 1
            if unfiltered or _matches(e, labels, fields):
                out.append(e.raw)
                last_key = key
        more = False
        if limit and i < n:
            more = unfiltered or any(
                _matches(table[k], labels, fields) for k in itertools.islice(keys, i, None)
            )
        if not more:
            self.snapshots.pop(sid, None)
            return Page(snap.rv, out)
        remaining = n - i if labels is None and fields is None else None
        return Page(snap.rv, out, encode_continue(snap.rv, sid, i, last_key), remaining)

    def _snapshot_at(self, res: str, namespace: str, rv: int) -> str:
        """The entries of ``res`` as they were at ``rv``, rebuilt by undoing later history."""
        if rv < self.history_floor:
            raise Expired(f"too old resource version: {rv} ({self.history_floor})")
        state = dict(self.objects.get(res, {}))
        for ev in reversed(self.history):
            if ev.rv <= rv:
                break
            if ev.res != res:
                continue
            if ev.old is None:
                state.pop(ev.key, None)
            else:
                state[ev.key] = ev.old
        keys = sorted(k for k in state if not namespace or k[0] == namespace)
        sid = str(next(self._snap_ids))
        self.snapshots[sid] = Snapshot(rv, keys, state, time.monotonic())
        return sid

    # -- watch support ----------------------------------------------------------------------

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

    async def wait_for_rv(self, rv: int, timeout: float) -> bool:
        """Wait until the store reaches ``rv`` (kube-apiserver blocks up to 3 s on a too-new version)."""
        if rv <= self.resource_version:
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._rv_waiters.append((rv, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
        finally:
            self._rv_waiters = [(r, f) for r, f in self._rv_waiters if f is not fut]
        return True

    def _wake_rv_waiters(self) -> None:
        keep = []
        for rv, fut in self._rv_waiters:
            if rv <= self.resource_version:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((rv, fut))
        self._rv_waiters = keep

    def add_watcher(self, w: Watcher) -> None:
        if self._closed_reason is not None:
            w.close(self._closed_reason)
        value = trigger_value(w.res, w.fields)
        if value is not None:
            self._trigger_watchers[w.res].setdefault(value, set()).add(w)
        else:
            self.watchers.setdefault(w.res, set()).add(w)

    def remove_watcher(self, w: Watcher) -> None:
        value = trigger_value(w.res, w.fields)
        if value is not None:
            ws = self._trigger_watchers[w.res].get(value)
            if ws is not None:
                ws.discard(w)
                if not ws:
                    del self._trigger_watchers[w.res][value]
        else:
            self.watchers.get(w.res, set()).discard(w)

    def all_watchers(self) -> list[Watcher]:
        out = [w for ws in self.watchers.values() for w in ws]
        out += [w for by_value in self._trigger_watchers.values() for ws in by_value.values() for w in ws]
        return out

    def close_watchers(self, reason: str = "", *, for_good: bool = False) -> int:
        """Close every open watch; ``for_good`` (shutting down) also closes watches opened later at
        once, so a client re-watching on a kept-alive connection cannot hold the shutdown."""
        if for_good:
            self._closed_reason = reason or "shutting down"
        ws = self.all_watchers()
        for w in ws:
            w.close(reason)
        return len(ws)

    def watcher_count(self) -> int:
        return len(self.all_watchers())


def _pod_grace_period(pod: Obj, requested: int | None) -> int:
    """kube-apiserver's pod ``CheckGracefulDelete``: the requested period, else the pod's own; 0
    (at once) for a pod no node runs and for a finished one; a negative one counts as 1."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    period = int(requested if requested is not None else spec.get("terminationGracePeriodSeconds") or 0)
    if not spec.get("nodeName") or status.get("phase") in ("Failed", "Succeeded"):
        period = 0
    return 1 if period < 0 else period


def _graceful(obj: Obj, period: int, now: float) -> bool | None:
    """apiserver's ``BeforeDelete`` for a graceful kind: mark ``obj`` for deletion in ``period``
    seconds (True), or, when it is being deleted already, only shorten the period (True), leave it
    pending (None) or, at a period of 0, let the deletion happen now (False)."""
    meta = obj["metadata"]
    stamp, current = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if stamp:
        if not current:
            return False
        if period >= int(current):
            return None
        if period == 0:
            return False
        at = dt.datetime.fromtimestamp(parse_time(stamp), dt.UTC)
        at += dt.timedelta(seconds=period - int(current))
    else:
        at = dt.datetime.fromtimestamp(int(now), dt.UTC) + dt.timedelta(seconds=period)
        if int(meta.get("generation") or 0) > 0:
            # controllers of an object being deleted must stop acting on it: generation says so
            meta["generation"] = int(meta["generation"]) + 1
    meta["deletionTimestamp"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    meta["deletionGracePeriodSeconds"] = period
    return True


TRIGGERS = {"pods": "spec.nodeName"}
"""Indexed fields (kube-apiserver's trigger functions): lists and watches selecting one value of them
touch only the matching objects and reach only the matching watchers."""


def trigger_value(res: str, flds: FieldSelector | None) -> str | None:
    """The value an equality term of ``flds`` requires of ``res``'s trigger field, if any."""
    field = TRIGGERS.get(res)
    if field is None or flds is None:
        return None
    for term in flds.terms:
        if term.field == field and term.equal:
            return term.value
    return None


def _spec(o: Obj) -> Obj:
    """What ``generation`` tracks: everything but metadata and status (spec, data, rules, ...)."""
    return {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def parse_resource_version(rv: str) -> int:
    try:
        n = int(rv)
    except ValueError:
        n = -1
    if n < 0:
        raise BadRequest(
            f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: parsing "{rv}": invalid syntax'
        )
    return n


class TooLargeResourceVersion(SimError):
    """apimachinery's ``NewTooLargeResourceVersionError``: 504 Timeout, retry after a second."""

    code, reason = 504, "Timeout"

    def __init__(self, wanted: int, current: int) -> None:
        super().__init__(
            f"Too large resource version: {wanted}, current: {current}",
            {
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            },
        )


INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def encode_continue(rv: int, sid: str, offset: int, last_key: tuple[str, str]) -> str:
    """kube-apiserver's token (base64 JSON with ``v``, ``rv``, ``start``) plus our snapshot id."""
    token: dict[str, Any] = {
        "v": "meta.k8s.io/v1",
        "rv": rv,
        "start": f"{last_key[0]}/{last_key[1]}\x00",
    }
    if sid:
        token["sid"] = sid
        token["off"] = offset
    return base64.urlsafe_b64encode(_enc.encode(token)).decode().rstrip("=")


def decode_continue(token: str) -> dict[str, Any]:
    try:
        pad = "=" * (-len(token) % 4)
        d = _dec.decode(base64.urlsafe_b64decode(token + pad))
    except (ValueError, msgspec.DecodeError) as e:
        raise BadRequest(f"continue key is not valid: {e}") from e
    if not isinstance(d, dict):
        raise BadRequest("continue key is not valid: not an object")
    if d.get("v") != "meta.k8s.io/v1":
        raise BadRequest("continue key is not valid: server does not recognize this encoded key")
    return d


def _start_key(start: str) -> tuple[str, str] | None:
    """The ``start`` of a token ("namespace/name\\x00") as a sort key to continue after."""
    start = start.rstrip("\x00")
    if not start:
        return None
    ns, _, name = start.partition("/")
    return (ns, name)
