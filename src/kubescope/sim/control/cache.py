"""Shared informer caches: the few fields of pods and nodes the controllers, the kubelets and the
world read, kept from the store's changes (a few strings per pod, not the object), with the
indexes they look things up by (a pod's owner, a node's pods) and change handlers.

A cache is registered with the control plane before the controllers, so a controller observing
a change finds the cache already up to date.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from kubescope.sim.control.runtime import LISTED, ControlPlane, Key

Obj = dict[str, Any]
_intern = sys.intern
Owner = tuple[str, str, str]
"""A controller reference: (kind, name, uid)."""


def is_true(conds: Iterable[Obj] | None, typ: str) -> bool:
    return any(c.get("type") == typ and c.get("status") == "True" for c in conds or ())


@dataclass(slots=True)
class PodRecord:
    ns: str
    name: str
    uid: str
    node: str
    owner: Owner | None
    phase: str
    ready: bool
    """The Ready condition is True."""
    ip: str
    deleting: bool
    """``deletionTimestamp`` is set: Terminating."""
    restart_policy: str
    containers: tuple[str, ...]
    running: bool
    """Every container is running."""
    unschedulable: bool
    """The scheduler said it fits nowhere (``PodScheduled`` False)."""
    waiting: str
    """The reason the first waiting container gives (``CrashLoopBackOff``...), or ""."""

    @property
    def key(self) -> Key:
        return (self.ns, self.name)

    @property
    def finished(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    @property
    def active(self) -> bool:
        """Counted by its controller: neither finished nor terminating."""
        return not self.deleting and not self.finished


def pod_record(o: Obj) -> PodRecord:
    meta, spec, status = o["metadata"], o.get("spec") or {}, o.get("status") or {}
    ref = next((r for r in meta.get("ownerReferences") or () if r.get("controller")), None)
    conds = status.get("conditions") or ()
    cstats = status.get("containerStatuses") or ()
    return PodRecord(
        _intern(meta.get("namespace", "")),
        meta["name"],
        meta.get("uid", ""),
        _intern(spec.get("nodeName") or ""),
        (_intern(ref.get("kind", "")), ref.get("name", ""), ref.get("uid", "")) if ref else None,
        _intern(status.get("phase", "")),
        is_true(conds, "Ready"),
        status.get("podIP", ""),
        bool(meta.get("deletionTimestamp")),
        _intern(spec.get("restartPolicy") or "Always"),
        tuple(_intern(c.get("name", "")) for c in spec.get("containers") or ()),
        bool(cstats) and all("running" in (c.get("state") or {}) for c in cstats),
        any(c.get("type") == "PodScheduled" and c.get("status") == "False" for c in conds),
        next(
            (_intern(w.get("reason", "")) for c in cstats if (w := (c.get("state") or {}).get("waiting"))), ""
        ),
    )


PodHandler = Callable[[str, PodRecord | None, PodRecord | None], None]
"""``fn(event type, old, new)``: old None for a new pod, new None for a deleted one; the type is
:data:`~kubescope.sim.control.runtime.LISTED` for what existed at start (take note, do not act)."""


class PodCache:
    """Every pod, slim, by key; by controller ``(kind, namespace, name)`` and by node."""

    def __init__(self, plane: ControlPlane) -> None:
        self.pods: dict[Key, PodRecord] = {}
        self.by_owner: dict[tuple[str, str, str], dict[Key, None]] = {}
        self.by_node: dict[str, dict[Key, None]] = {}
        self._handlers: list[PodHandler] = []
        plane.watch("pods", self._observe)

    def on_change(self, fn: PodHandler) -> None:
        """Call ``fn(type, old, new)`` after each pod change (see :data:`PodHandler`)."""
        self._handlers.append(fn)

    def on_owned(
        self,
        kinds: tuple[str, ...],
        view: Callable[[PodRecord], Hashable],
        fn: Callable[[str, str, str], None],
    ) -> None:
        """Call ``fn(kind, namespace, owner name)`` when a pod a controller of one of ``kinds`` owns
        comes, goes, or changes what ``view`` shows of it (what the owner counts); not for what
        existed at start."""

        def handler(typ: str, old: PodRecord | None, new: PodRecord | None) -> None:
            p = new or old
            if typ == LISTED or p is None or p.owner is None or p.owner[0] not in kinds:
                return
            if old is not None and new is not None and view(old) == view(new):
                return
            fn(p.owner[0], p.ns, p.owner[1])

        self._handlers.append(handler)

    def get(self, key: Key) -> PodRecord | None:
        return self.pods.get(key)

    def owned(self, kind: str, ns: str, name: str) -> list[PodRecord]:
        keys = self.by_owner.get((kind, ns, name))
        return [self.pods[k] for k in keys] if keys else []

    def on_node(self, node: str) -> list[PodRecord]:
        keys = self.by_node.get(node)
        return [self.pods[k] for k in keys] if keys else []

    def _observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        old = self.pods.get(key)
        new = None if typ == "DELETED" else pod_record(obj)
        if old is not None:
            self._unindex(old)
        if new is None:
            self.pods.pop(key, None)
        else:
            self.pods[key] = new
            self._index(new)
        for fn in self._handlers:
            fn(typ, old, new)

    def _index(self, p: PodRecord) -> None:
        if p.owner is not None:
            self.by_owner.setdefault((p.owner[0], p.ns, p.owner[1]), {})[p.key] = None
        if p.node:
            self.by_node.setdefault(p.node, {})[p.key] = None

    def _unindex(self, p: PodRecord) -> None:
        if p.owner is not None:
            _discard(self.by_owner, (p.owner[0], p.ns, p.owner[1]), p.key)
        if p.node:
            _discard(self.by_node, p.node, p.key)


def _discard(index: dict[Any, dict[Key, None]], at: Any, key: Key) -> None:
    keys = index.get(at)
    if keys is not None:
        keys.pop(key, None)
        if not keys:
            del index[at]


@dataclass(slots=True)
class NodeRecord:
    name: str
    ready: bool
    """The Ready condition is True."""
    schedulable: bool
    """Not cordoned, no NoSchedule or NoExecute taint."""
    zone: str
    ip: str
    labels: dict[str, str]
    uid: str = ""


def node_record(o: Obj) -> NodeRecord:
    meta, spec, status = o["metadata"], o.get("spec") or {}, o.get("status") or {}
    labels = meta.get("labels") or {}
    taints = spec.get("taints") or ()
    return NodeRecord(
        meta["name"],
        is_true(status.get("conditions"), "Ready"),
        not spec.get("unschedulable")
        and not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in taints),
        labels.get("topology.kubernetes.io/zone", ""),
        next((a["address"] for a in status.get("addresses") or () if a.get("type") == "InternalIP"), ""),
        labels,
        str(meta.get("uid", "")),
    )


NodeHandler = Callable[[str, NodeRecord | None, NodeRecord | None], None]


class NodeCache:
    """Every node, slim, in name order of arrival."""

    def __init__(self, plane: ControlPlane) -> None:
        self.nodes: dict[str, NodeRecord] = {}
        self._handlers: list[NodeHandler] = []
        plane.watch("nodes", self._observe)

    def on_change(self, fn: NodeHandler) -> None:
        self._handlers.append(fn)

    def get(self, name: str) -> NodeRecord | None:
        return self.nodes.get(name)

    def _observe(self, typ: str, res: str, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        old = self.nodes.get(name)
        new = None if typ == "DELETED" else node_record(obj)
        if new is None:
            self.nodes.pop(name, None)
        else:
            self.nodes[name] = new
        for fn in self._handlers:
            fn(typ, old, new)
