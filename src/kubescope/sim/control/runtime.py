"""The controller runtime: work queues, timers, counted writes, and the control plane that drives
its controllers from the store's in-process watch.

A controller here is what kube-controller-manager runs: it watches resources (the store calls
:meth:`Controller.observe` after every change of them, synchronously: it takes note in its cache
and queues the keys that need work), and :meth:`Controller.sync` reconciles one key later, when
the control plane drains the queues. Writes go through :class:`Writes`, which counts them (the
simulator's rate is writes) and treats an object that vanished or changed under the writer as
the normal race it is. Work for later is queued with :meth:`WorkQueue.add_after` on the control
plane's clock, which stops while the cluster is paused.

The drain is deterministic: controllers in registration order, keys in the order they were
queued, timers in the order they fall due; each component draws from its own seeded
:class:`~kubescope.sim.objects.names.Names`. So the same store, seed and clock give the same
writes.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol, TypeVar

from kubescope.log import fields
from kubescope.sim.errors import NotFound
from kubescope.sim.objects.names import Names

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str]
"""(namespace, name); namespace is "" for cluster-scoped objects."""


class Store(Protocol):
    """The part of :class:`~kubescope.sim.store.ObjectStore` the control plane uses."""

    graceful_pods: bool

    def create(self, res: str, obj: Obj) -> Obj: ...
    def delete(self, res: str, namespace: str, name: str, *, grace_period: int | None = None) -> Obj: ...
    def get(self, res: str, namespace: str, name: str) -> Obj: ...
    def modify(self, res: str, namespace: str, name: str, fn: Callable[[Obj], None]) -> Obj: ...
    def keys(self, res: str) -> list[tuple[str, str]]: ...
    def exists(self, res: str, namespace: str, name: str) -> bool: ...
    def add_hook(self, res: str, fn: Callable[[str, Obj], None]) -> Callable[[], None]: ...
    def matching(self, res: str, namespace: str, labels: Any, flds: Any) -> list[Any]: ...


class EventSink(Protocol):
    """One component's event recorder (:class:`kubescope.sim.control.events.Reporter`)."""

    def emit(
        self,
        regarding: Obj,
        typ: str,
        reason: str,
        note: str,
        *,
        action: str = "",
        field_path: str = "",
        related: Obj | None = None,
    ) -> None: ...


class _NoEvents:
    def emit(self, regarding: Obj, typ: str, reason: str, note: str, **how: Any) -> None:
        pass


NO_EVENTS: EventSink = _NoEvents()
"""Where events go when nothing records them."""


class Events(Protocol):
    """The cluster's recorders (:class:`kubescope.sim.control.events.EventRecorder`)."""

    def reporter(self, component: str, instance: str = "", *, series: bool = False) -> EventSink: ...


class WorkQueue:
    """Keys waiting for a sync, each once, in the order they came (client-go's workqueue without
    its rate limiter: a sync that fails is retried after a second, see :class:`ControlPlane`)."""

    __slots__ = ("_keys", "_plane", "owner")

    def __init__(self, plane: ControlPlane, owner: Controller) -> None:
        self._keys: dict[Hashable, None] = {}
        self._plane = plane
        self.owner = owner

    def add(self, key: Hashable) -> None:
        self._keys[key] = None

    def add_after(self, key: Hashable, delay: float) -> None:
        """Queue ``key`` once ``delay`` seconds of the control plane's clock have passed."""
        self._plane.timers.add(self._plane.now() + max(0.0, delay), self, key)

    def add_at(self, key: Hashable, when: float) -> None:
        self._plane.timers.add(when, self, key)

    def pop(self) -> Hashable:
        key = next(iter(self._keys))
        del self._keys[key]
        return key

    def __len__(self) -> int:
        return len(self._keys)


class Timers:
    """Keys to queue at a time: a heap ordered by (time, order added)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, WorkQueue, Hashable]] = []
        self._seq = itertools.count()

    def add(self, when: float, queue: WorkQueue, key: Hashable) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), queue, key))

    def due(self, now: float) -> int:
        """Queue every key whose time has come; returns how many."""
        n = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, queue, key = heapq.heappop(heap)
            queue.add(key)
            n += 1
        return n

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def shift(self, seconds: float) -> None:
        """Move every timer later (the cluster was paused this long)."""
        self._heap = [(t + seconds, s, q, k) for t, s, q, k in self._heap]

    def __len__(self) -> int:
        return len(self._heap)


class Writes:
    """Store writes, counted as the simulator's rate counts them: each create, delete and each
    update that changed something is one resourceVersion and one watch event (``writes``); an
    update that changed nothing is not (``unchanged``); an object gone or changed under the writer
    is ``lost`` and logged (rarely), never an error: the cluster moved on."""

    def __init__(self, store: Store, counts: collections.Counter[str]) -> None:
        self.store = store
        self.counts = counts

    def modify(self, res: str, key: Key, fn: Callable[[Obj], None], who: str) -> Obj | None:
        seen: list[object] = []

        def change(o: Obj) -> None:
            seen.append(o["metadata"].get("resourceVersion"))
            fn(o)

        try:
            out = self.store.modify(res, key[0], key[1], change)
        except Exception as e:  # gone or refused: the world moved on without us
            self._lost(res, key, e, who)
            return None
        # the store keeps a no-op update's version and sends no event (kube-apiserver's short-circuit)
        if seen and seen[0] is not None and out["metadata"].get("resourceVersion") == seen[0]:
            self.counts["unchanged"] += 1
        else:
            self._wrote(who)
        return out

    def create(self, res: str, obj: Obj, who: str) -> Obj | None:
        try:
            out = self.store.create(res, obj)
        except Exception as e:
            meta = obj.get("metadata") or {}
            self._lost(res, (str(meta.get("namespace", "")), str(meta.get("name", ""))), e, who)
            return None
        self._wrote(who)
        return out

    def delete(self, res: str, key: Key, who: str, grace_period: int | None = None) -> bool:
        try:
            self.store.delete(res, key[0], key[1], grace_period=grace_period)
        except Exception as e:
            self._lost(res, key, e, who)
            return False
        self._wrote(who)
        return True

    def _wrote(self, who: str) -> None:
        self.counts["writes"] += 1
        self.counts[who] += 1

    def _lost(self, res: str, key: Key, e: Exception, who: str) -> None:
        self.counts["lost"] += 1
        n = self.counts["lost"]
        if n <= 10 or n % 1000 == 0:
            logger.info(
                "object changed or gone under its writer",
                extra=fields(writer=who, resource=res, namespace=key[0], name=key[1], error=repr(e)[:200]),
            )


class Controller:
    """One control loop. Subclasses set :attr:`name` and :attr:`watches` and implement
    :meth:`observe` (note the change, queue keys; no writes) and :meth:`sync` (reconcile one key;
    read the caches or the store, write through :attr:`writes`)."""

    name = "controller"
    watches: tuple[str, ...] = ()
    """Resource keys whose changes :meth:`observe` receives, in this order."""
    reporting = ""
    """The component its events name (``deployment-controller``...); :attr:`name` if empty."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.store = plane.store
        self.writes = plane.writes
        self.queue = WorkQueue(plane, self)
        self.names = Names(f"{plane.seed}/{self.name}")

    def now(self) -> float:
        return self.plane.now()

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        """Take note of a change of one of :attr:`watches` (called inside the store's write)."""

    def sync(self, key: Any) -> None:
        """Reconcile ``key``."""

    def modify(self, res: str, key: Key, fn: Callable[[Obj], None]) -> Obj | None:
        return self.writes.modify(res, key, fn, self.name)

    def create(self, res: str, obj: Obj) -> Obj | None:
        return self.writes.create(res, obj, self.name)

    def delete(self, res: str, key: Key, grace_period: int | None = None) -> bool:
        return self.writes.delete(res, key, self.name, grace_period)

    def event(self, regarding: Obj, typ: str, reason: str, note: str, **how: Any) -> None:
        """Record an event about ``regarding`` (an object, or a reference) as this controller's
        component (``how``: ``action``, ``field_path``, ``related``), through the cluster's recorder."""
        self.recorder().emit(regarding, typ, reason, note, **how)

    def recorder(self, component: str = "", instance: str = "", *, series: bool = False) -> EventSink:
        """The recorder of a component (this controller's :attr:`reporting` unless named; an instance
        such as a kubelet's node; ``series``: the events.k8s.io recorder)."""
        events = self.plane.events
        if events is None:
            return NO_EVENTS
        return events.reporter(component or self.reporting or self.name, instance, series=series)

    def resumed(self, paused: float) -> None:
        """The cluster was paused for ``paused`` seconds: move times kept outside the timers."""


LISTED = "LISTED"
"""The event type of an object found at start (:meth:`ControlPlane.load`), not changed since."""

C = TypeVar("C", bound="Controller")

MAX_ROUNDS = 50
"""Drain rounds before the rest waits for the next drain (a loop of controllers writing in
reaction to each other would otherwise never end)."""


class ControlPlane:
    """The controllers of a cluster, driven by the store's changes and by their timers.

    :meth:`add` registers a controller (and hooks the store for its :attr:`Controller.watches`);
    :meth:`tick` queues what fell due and :meth:`drain` runs the syncs until every queue is empty.
    Whoever drives the cluster (:class:`kubescope.sim.live.LiveCluster`) calls both."""

    def __init__(self, store: Store, seed: int, clock: Callable[[], float]) -> None:
        self.store = store
        self.seed = seed
        self.clock = clock
        self.counts: collections.Counter[str] = collections.Counter()
        """Writes by component plus ``writes``, ``unchanged``, ``lost``, ``errors``, ``syncs``."""
        self.writes = Writes(store, self.counts)
        self.timers = Timers()
        self.controllers: list[Controller] = []
        self._by_name: dict[str, Controller] = {}
        self._observers: dict[str, list[Callable[[str, str, Obj], None]]] = {}
        self._unhook: list[Callable[[], None]] = []
        self.stopped = False
        self.events: Events | None = None
        """Where controllers' events go (:meth:`Controller.event`); set by whoever assembles the
        cluster (:class:`kubescope.sim.control.plane.Cluster`)."""

    def now(self) -> float:
        return self.clock()

    def add(self, controller: C) -> C:
        if controller.name in self._by_name:
            raise ValueError(f"controller {controller.name!r} registered twice")
        self.controllers.append(controller)
        self._by_name[controller.name] = controller
        for res in controller.watches:
            self.watch(res, controller.observe)
        return controller

    def get(self, name: str) -> Controller:
        return self._by_name[name]

    def watch(self, res: str, fn: Callable[[str, str, Obj], None]) -> None:
        """Call ``fn(type, res, object)`` after each change of ``res`` (caches and controllers, in
        the order they were added)."""
        observers = self._observers.get(res)
        if observers is None:
            observers = self._observers[res] = []

            def hook(typ: str, obj: Obj, res: str = res, observers: list[Any] = observers) -> None:
                if self.stopped:
                    return
                for observe in observers:
                    observe(typ, res, obj)

            self._unhook.append(self.store.add_hook(res, hook))
        observers.append(fn)

    def tick(self, max_writes: float | None = None) -> int:
        """Queue the keys whose timers fell due, then drain; returns the syncs made."""
        self.timers.due(self.now())
        return self.drain(max_writes)

    def drain(self, max_writes: float | None = None) -> int:
        """Sync queued keys until every queue is empty, or, with ``max_writes``, until that many
        writes were made (the rest stays queued: the API server's rate is shared, as a client's
        QPS limit shares it)."""
        syncs = 0
        limit = self.counts["writes"] + max_writes if max_writes is not None else None
        for _ in range(MAX_ROUNDS):
            busy = False
            for c in self.controllers:
                q = c.queue
                while len(q):
                    if limit is not None and self.counts["writes"] >= limit:
                        self.counts["syncs"] += syncs
                        return syncs
                    busy = True
                    key = q.pop()
                    syncs += 1
                    try:
                        c.sync(key)
                    except Exception as e:  # one bad sync must not stop the others
                        self.counts["errors"] += 1
                        if self.counts["errors"] <= 10 or self.counts["errors"] % 1000 == 0:
                            logger.exception(
                                "controller sync failed", extra=fields(controller=c.name, key=repr(key)[:200])
                            )
                        q.add_after(key, 1.0)
                        del e
            if not busy:
                break
        self.counts["syncs"] += syncs
        return syncs

    def pending(self) -> int:
        return sum(len(c.queue) for c in self.controllers)

    def resumed(self, paused: float) -> None:
        self.timers.shift(paused)
        for c in self.controllers:
            c.resumed(paused)

    def stop(self) -> None:
        """Stop observing the store (the controllers' state stays as it is)."""
        self.stopped = True
        for unhook in self._unhook:
            unhook()
        self._unhook.clear()

    def load(self, resources: Iterable[str]) -> None:
        """Show every controller the objects that exist (as :data:`LISTED` events, sorted by key) before changes
        arrive: informers start with a list. Controllers take note; they do not act on what they
        find (the generated cluster is taken as their last state)."""
        for res in resources:
            observers = self._observers.get(res)
            if not observers:
                continue
            for ns, name in sorted(self.store.keys(res)):
                try:
                    obj = self.store.get(res, ns, name)
                except NotFound:  # deleted meanwhile: nothing to note
                    continue
                for fn in observers:
                    fn(LISTED, res, obj)
