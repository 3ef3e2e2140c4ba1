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

The store proper is here (tables, writes, reads, the trigger index, hooks); around it: what a write
stores (:mod:`.strategy`), the errors it answers with (:mod:`.errors`), what it keeps of an object
and of a change (:mod:`.entries`), the history and the watches (:mod:`.watchcache`), LISTs
(:mod:`.lists`) and paginated lists' snapshots and continue tokens (:mod:`.pages`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from kubescope.apiserver.selectors import FieldSelector, LabelSelector
from kubescope.sim.entries import TRIGGERS, Entry, Event, selected, trigger_value
from kubescope.sim.errors import (
    BadRequest,
    NotFound,
    already_exists,
    modified,
    not_found,
    precondition_failed,
)
from kubescope.sim.lists import Lists
from kubescope.sim.pages import Page, Snapshots
from kubescope.sim.resources import Registry, ResourceType
from kubescope.sim.strategy import (
    before_delete,
    now_rfc3339,
    pod_grace_period,
    prepare_create,
    prepare_update,
    spec_of,
)
from kubescope.sim.watchcache import WatchCache, Watcher

Obj = dict[str, Any]
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()
_NO_LABELS: dict[str, str] = {}
_intern = sys.intern


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
        self.watch = WatchCache(history)
        """The history of changes and the open watches (:mod:`kubescope.sim.watchcache`)."""
        self._index: dict[str, dict[str, set[tuple[str, str]]]] = {r: {} for r in TRIGGERS}
        self._subscribers: list[Callable[[str, str, Obj], None]] = []
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        self.snapshots = Snapshots()
        """Paginated lists in progress (:mod:`kubescope.sim.pages`)."""
        self.lists = Lists(self)
        """The LISTs (:mod:`kubescope.sim.lists`)."""
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
        self.watch.record(Event(entry.rv, typ, res, ns, key, entry.raw, entry.labels, entry.fields, old))
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

    def create(self, res: str, obj: Obj) -> Obj:
        t = self.type_of(res)
        ns, name = prepare_create(t, obj)
        table = self._table(res)
        if (ns, name) in table:
            raise already_exists(t, name)
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
            ns, name = prepare_create(t, obj)
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
        self.watch.floor = self.resource_version
        return n

    def _current(self, t: ResourceType, res: str, ns: str, name: str) -> Entry:
        e = self.objects.get(res, {}).get((ns if t.namespaced else "", name))
        if e is None:
            raise not_found(t, name)
        return e

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
            raise modified(t, name)
        old = _dec.decode(old_entry.raw)
        new = prepare_update(t, old, obj, subresource)
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
        if spec_of(cur) != spec_of(old):
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
            raise precondition_failed(
                t, name, f"UID in precondition: {uid}, UID in object meta: {old_entry.uid}"
            )
        if resource_version and resource_version != str(old_entry.rv):
            raise precondition_failed(
                t,
                name,
                f"ResourceVersion in precondition: {resource_version}, ResourceVersion in object meta: "
                f"{old_entry.rv}",
            )
        obj = _dec.decode(old_entry.raw)
        meta = obj["metadata"]
        if res == "pods" and self.graceful_pods:
            period = pod_grace_period(obj, grace_period)
            if period > 0 or meta.get("deletionGracePeriodSeconds"):
                marked = before_delete(obj, period, self.clock())
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
        keys = self.triggered(res, flds)
        if keys is not None:
            found = (table[k] for k in sorted(keys) if not namespace or k[0] == namespace)
            return [e for e in found if selected(e, labels, flds)]
        return [
            e
            for (ons, _), e in table.items()
            if (not namespace or ons == namespace) and selected(e, labels, flds)
        ]

    def triggered(self, res: str, flds: FieldSelector | None) -> set[tuple[str, str]] | None:
        """The keys a field selector's equality on ``res``'s trigger field narrows to, if it has one."""
        value = trigger_value(res, flds)
        if value is None:
            return None
        return self._index[res].get(value, set())

    # -- lists: pages and snapshots (kubescope.sim.lists) -------------------------------------

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
        """A LIST as etcd + kube-apiserver answer it (:meth:`kubescope.sim.lists.Lists.list_page`)."""
        return self.lists.list_page(
            res,
            namespace,
            labels=labels,
            fields=fields,
            limit=limit,
            token=token,
            resource_version=resource_version,
            match=match,
        )

    # -- watch support ----------------------------------------------------------------------

    @property
    def history_floor(self) -> int:
        """Watches may start from any resourceVersion >= this; older ones get 410 Gone."""
        return self.watch.floor

    def history_since(self, rv: int) -> list[Event] | None:
        """Events after ``rv`` still in the history; None when ``rv`` is older than what is kept."""
        return self.watch.since(rv, self.resource_version)

    def oldest_rv(self) -> int:
        return self.watch.floor

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
        self.watch.add_watcher(w)

    def remove_watcher(self, w: Watcher) -> None:
        self.watch.remove_watcher(w)

    def all_watchers(self) -> list[Watcher]:
        return self.watch.all_watchers()

    def close_watchers(self, reason: str = "", *, for_good: bool = False) -> int:
        """Close every open watch; ``for_good`` (shutting down) also closes watches opened later at
        once, so a client re-watching on a kept-alive connection cannot hold the shutdown."""
        return self.watch.close_watchers(reason, for_good=for_good)

    def watcher_count(self) -> int:
        return self.watch.watcher_count()
