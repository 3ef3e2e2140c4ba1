"""The scheduler: a new pod without a node is bound to one (``spec.nodeName`` and the
``PodScheduled`` condition, as the binding subresource writes them).

A pod pinned by a required node affinity on ``metadata.name`` (a DaemonSet's) goes to that node;
any other goes to the less loaded of two Ready, schedulable nodes drawn at random (spreading,
cheaply; resources are not weighed). With no node to go to, the pod is marked unschedulable and
tried again with a growing back-off (1 s doubling to 5 min), as the scheduling queue does. Pods
for another ``schedulerName`` are left alone, and so are the pods of the generated cluster that
were unschedulable at start.
"""

from __future__ import annotations

from typing import Any

from kubescope.sim.control.cache import NodeCache, NodeRecord, PodCache, PodRecord
from kubescope.sim.control.daemonset import pinned_node
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, EventSink, Key
from kubescope.sim.objects import pods as podobj
from kubescope.sim.objects.meta import rfc3339

Obj = dict[str, Any]
MAX_BACKOFF = 300.0
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


class Scheduler(Controller):
    name = "scheduler"

    def __init__(self, plane: ControlPlane, pods: PodCache, nodes: NodeCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.nodes = nodes
        self.schedulable: dict[str, None] = {}
        """Ready, schedulable nodes (in the order they became so)."""
        self._pool: list[str] = []
        self._backoff: dict[Key, float] = {}
        self._instance = ""
        pods.on_change(self._pod_changed)
        nodes.on_change(self._node_changed)

    def _node_changed(self, typ: str, old: NodeRecord | None, new: NodeRecord | None) -> None:
        name = (new or old).name  # type: ignore[union-attr]
        if new is not None and new.ready and new.schedulable:
            self.schedulable[name] = None
        else:
            self.schedulable.pop(name, None)
        self._pool = []

    def _pod_changed(self, typ: str, old: PodRecord | None, new: PodRecord | None) -> None:
        if typ == LISTED:
            return
        if new is None:
            if old is not None:
                self._backoff.pop(old.key, None)
            return
        if (
            old is None
            and not new.node
            and not new.deleting
            and not new.unschedulable
            and new.phase == "Pending"
        ):
            self.queue.add(new.key)

    def sync(self, key: Key) -> None:
        p = self.pods.get(key)
        if p is None or p.node or p.deleting:
            return
        try:
            obj = self.store.get("pods", *key)
        except Exception:
            return
        spec = obj.get("spec") or {}
        if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        pinned = pinned_node(spec)
        node = pinned if pinned in self.nodes.nodes else "" if pinned else self._pick()
        now = rfc3339(self.now())
        if not node:
            self._unschedulable(key, now, obj)
            return
        self._backoff.pop(key, None)

        def bind(o: Obj) -> None:
            o.setdefault("spec", {})["nodeName"] = node
            podobj.set_condition(o.setdefault("status", {}), podobj.scheduled(now))

        if self.modify("pods", key, bind) is not None:
            self._events().emit(
                obj,
                "Normal",
                "Scheduled",
                f"Successfully assigned {key[0]}/{key[1]} to {node}",
                action="Binding",
            )

    def _events(self) -> EventSink:
        """The scheduler's recorder: events.k8s.io's, as kube-scheduler's (``default-scheduler``,
        its instance named after the control-plane node it runs on)."""
        if not self._instance:
            cp = next((n.name for n in self.nodes.nodes.values() if CONTROL_PLANE in n.labels), "")
            self._instance = f"default-scheduler-{cp or 'kubescope'}"
        return self.recorder("default-scheduler", self._instance, series=True)

    def _pick(self) -> str:
        """The less loaded of two Ready, schedulable nodes drawn at random."""
        if not self._pool:
            self._pool = list(self.schedulable)
        pool = self._pool
        if not pool:
            return ""
        r = self.names.rng.random
        a, b = pool[int(r() * len(pool))], pool[int(r() * len(pool))]
        return a if len(self.pods.by_node.get(a, ())) <= len(self.pods.by_node.get(b, ())) else b

    def _unschedulable(self, key: Key, now: str, obj: Obj) -> None:
        n = len(self.nodes.nodes)
        message = f"0/{n} nodes are available: {n} node(s) were unschedulable or not ready."
        delay = min(MAX_BACKOFF, self._backoff.get(key, 0.5) * 2)
        self._backoff[key] = delay

        def mark(o: Obj) -> None:
            podobj.set_condition(o.setdefault("status", {}), podobj.unschedulable(now, message))

        self.modify("pods", key, mark)
        self._events().emit(obj, "Warning", "FailedScheduling", message, action="Scheduling")
        self.queue.add_after(key, delay)
