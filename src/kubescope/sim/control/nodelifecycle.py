"""The node lifecycle controller: a node whose kubelet has not renewed its Lease for the grace
period (40 s, ``--node-monitor-grace-period``; checked every 5 s) is marked lost: the conditions
its kubelet owns go ``Unknown`` (``NodeStatusUnknown``, "Kubelet stopped posting node
status."), it gets the ``unreachable`` taints (``NoSchedule``, and ``NoExecute`` with its time),
and its pods' ``Ready`` condition goes False (``MarkPodsNotReady``); events ``NodeNotReady`` about
the node and each of its pods. When its kubelet reports it Ready again, the taints go; its pods'
readiness is the kubelet's to report again.

As kube-controller-manager's ``monitorNodeHealth`` (``classifyNodes``), each monitor pass compares
the nodes with the ones it knows: ``RegisteredNode`` ("Node n event: Registered Node n in
Controller") about each node new to it (every node on its first pass, as the controller starting),
``RemovingNode`` ("Node n event: Removing Node n from Controller") about each one gone; both
``RecordNodeEvent``'s reference (kind Node, apiVersion v1, the node's uid, no namespace).

Pods are not evicted when the ``NoExecute`` taint's toleration runs out (the taint manager is not
simulated): they stay on the node, not ready, until it comes back.
"""

from __future__ import annotations

from typing import Any

from kubescope.sim.control.cache import NodeCache, NodeRecord, PodCache
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import Controller, ControlPlane
from kubescope.sim.objects import nodes as nodeobj
from kubescope.sim.objects.meta import rfc3339

Obj = dict[str, Any]
LEASES = "leases.coordination.k8s.io"
GRACE = 40.0
MONITOR_EVERY = 5.0


class NodeLifecycleController(Controller):
    name = "node-lifecycle"
    reporting = "node-controller"
    watches = (LEASES,)

    def __init__(self, plane: ControlPlane, nodes: NodeCache, pods: PodCache) -> None:
        super().__init__(plane)
        self.nodes = nodes
        self.pods = pods
        self.seen: dict[str, float] = {}
        """When each node's Lease was last seen renewed (the control plane's clock)."""
        self.lost: dict[str, None] = {}
        self.known: dict[str, NodeRecord] = {}
        """``knownNodeSet``: the nodes the monitor passes have registered."""
        nodes.on_change(self._node_changed)
        self.queue.add_after(("monitor", ""), MONITOR_EVERY)

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        if meta.get("namespace") == "kube-node-lease" and typ != "DELETED":
            self.seen[meta["name"]] = self.now()

    def _node_changed(self, typ: str, old: NodeRecord | None, new: NodeRecord | None) -> None:
        if new is None:
            if old is not None:
                self.seen.pop(old.name, None)
                self.lost.pop(old.name, None)
            return
        if old is None:
            self.seen.setdefault(new.name, self.now())
        if new.ready and new.name in self.lost:
            self.queue.add(("back", new.name))

    def resumed(self, paused: float) -> None:
        for node in self.seen:
            self.seen[node] += paused

    def sync(self, item: tuple[str, str]) -> None:
        what, node = item
        if what == "monitor":
            self._classify()
            now = self.now()
            for n in self.nodes.nodes.values():
                if n.ready and n.name not in self.lost and now - self.seen.get(n.name, now) > GRACE:
                    self._lose(n.name)
            self.queue.add_after(item, MONITOR_EVERY)
        elif what == "back":
            self._back(node)

    def _classify(self) -> None:
        current = self.nodes.nodes
        for name, n in current.items():
            if name not in self.known:
                self.known[name] = n
                self._node_event(n, "RegisteredNode", f"Registered Node {name} in Controller")
        for name in [k for k in self.known if k not in current]:
            self._node_event(self.known.pop(name), "RemovingNode", f"Removing Node {name} from Controller")

    def _node_event(self, n: NodeRecord, reason: str, what: str) -> None:
        """``RecordNodeEvent``: a Normal event about the node, "Node <name> event: <what>"."""
        self.event(ref("Node", "v1", "", n.name, n.uid), "Normal", reason, f"Node {n.name} event: {what}")

    def _lose(self, node: str) -> None:
        now = rfc3339(self.now())

        def lose(o: Obj) -> None:
            for c in (o.get("status") or {}).get("conditions") or ():
                if nodeobj.kubelet_owned(c.get("type", "")) and c.get("status") != "Unknown":
                    status, reason, message = nodeobj.LOST
                    c.update(status=status, reason=reason, message=message, lastTransitionTime=now)
            spec = o.setdefault("spec", {})
            taints = [t for t in spec.get("taints") or () if t.get("key") != nodeobj.UNREACHABLE]
            spec["taints"] = taints + nodeobj.unreachable_taints(now)

        if self.modify("nodes", ("", node), lose) is None:
            return
        self.lost[node] = None
        n = self.nodes.nodes.get(node)
        uid = n.uid if n is not None else ""
        self.event(
            ref("Node", "v1", "", node, uid),
            "Normal",
            "NodeNotReady",
            f"Node {node} status is now: NodeNotReady",
        )
        for p in self.pods.on_node(node):
            if p.ready and self.modify("pods", p.key, lambda o: _not_ready(o, now)) is not None:
                self.event(
                    ref("Pod", "v1", p.ns, p.name, p.uid), "Warning", "NodeNotReady", "Node is not ready"
                )

    def _back(self, node: str) -> None:
        def untaint(o: Obj) -> None:
            spec = o.setdefault("spec", {})
            taints = [t for t in spec.get("taints") or () if t.get("key") != nodeobj.UNREACHABLE]
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)

        self.lost.pop(node, None)
        self.modify("nodes", ("", node), untaint)


def _not_ready(pod: Obj, now: str) -> None:
    """``MarkPodsNotReady``: only the Ready condition, no reason."""
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready" and c.get("status") == "True":
            c["status"] = "False"
            c["lastTransitionTime"] = now
            c.pop("reason", None)
            c.pop("message", None)
