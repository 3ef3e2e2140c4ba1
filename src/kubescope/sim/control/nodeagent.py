"""The kubelets' side of their nodes: each running kubelet renews its node's Lease every 10 s
(``renewTime``; a quarter of the 40 s lease) and reports its node's status every 5 minutes
(``lastHeartbeatTime`` of its conditions: ``nodeStatusReportFrequency``). A kubelet that dies
(:meth:`~kubescope.sim.control.cri.Machines.kubelet`) stops both; the node lifecycle controller
notices. One that comes back reports its node Ready at once and renews its Lease.

At start, the kubelets of Ready nodes run; those of the others do not. A node created later gets
a running kubelet (and a Lease).
"""

from __future__ import annotations

from typing import Any

from kubescope.sim.control.cache import NodeCache, NodeRecord
from kubescope.sim.control.cri import Machines
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane
from kubescope.sim.objects import nodes as nodeobj
from kubescope.sim.objects.meta import object_meta, owner_ref, rfc3339, rfc3339_micro

Obj = dict[str, Any]
LEASES = "leases.coordination.k8s.io"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40
RENEW_EVERY = 10.0
STATUS_EVERY = 300.0


class NodeAgent(Controller):
    name = "kubelet-node"

    def __init__(self, plane: ControlPlane, nodes: NodeCache, machines: Machines) -> None:
        super().__init__(plane)
        self.nodes = nodes
        self.machines = machines
        self._epoch: dict[str, int] = {}
        """Bumped when a kubelet (re)starts: timers of an earlier run are dropped."""
        self._index = 0
        nodes.on_change(self._node_changed)
        machines.on_node(self._kubelet_changed)

    def alive(self, node: str) -> bool:
        return node in self.nodes.nodes and node not in self.machines.dead

    def _node_changed(self, typ: str, old: NodeRecord | None, new: NodeRecord | None) -> None:
        if new is None:
            if old is not None:
                self._epoch.pop(old.name, None)
            return
        if old is not None:
            return
        if typ == LISTED:
            if not new.ready:
                self.machines.dead[new.name] = None
                return
            # spread the kubelets' renewals over the period, deterministically
            self._index += 1
            offset = (self._index * 0.618034) % 1.0
            self._start(new.name, first_lease=offset * RENEW_EVERY, first_status=offset * STATUS_EVERY)
            return
        self.queue.add(("up", new.name, 0))

    def _kubelet_changed(self, node: str) -> None:
        if node in self.machines.dead:
            self._epoch[node] = self._epoch.get(node, 0) + 1  # its timers stop at their next turn
        elif node in self.nodes.nodes:
            self.queue.add(("up", node, 0))

    def _start(self, node: str, first_lease: float, first_status: float) -> None:
        epoch = self._epoch[node] = self._epoch.get(node, 0) + 1
        self.queue.add_after(("lease", node, epoch), first_lease)
        self.queue.add_after(("status", node, epoch), first_status)

    def sync(self, item: tuple[str, str, int]) -> None:
        what, node, epoch = item
        if not self.alive(node):
            return
        if what == "up":
            about = ref("Node", "v1", "", node, node)
            kubelet = self.recorder("kubelet", node)
            kubelet.emit(about, "Normal", "Starting", "Starting kubelet.")
            was_ready = (n := self.nodes.get(node)) is not None and n.ready
            self._report(node, back=True)
            if not was_ready:
                kubelet.emit(about, "Normal", "NodeReady", f"Node {node} status is now: NodeReady")
            self._renew(node)
            self._start(node, RENEW_EVERY, STATUS_EVERY)
            return
        if epoch != self._epoch.get(node):
            return  # a timer of an earlier run of this kubelet
        if what == "lease":
            self._renew(node)
            self.queue.add_after(item, RENEW_EVERY)
        else:
            self._report(node, back=False)
            self.queue.add_after(item, STATUS_EVERY)

    def renew(self, node: str) -> bool:
        """Renew a running kubelet's Lease now (besides its own period)."""
        if not self.alive(node):
            return False
        self._renew(node)
        return True

    def _renew(self, node: str) -> None:
        stamp = rfc3339_micro(self.now())

        def renew(o: Obj) -> None:
            spec = o.setdefault("spec", {})
            spec["renewTime"] = stamp
            spec["holderIdentity"] = node

        if self.writes.modify(LEASES, (LEASE_NAMESPACE, node), renew, "kubelet-lease") is None:
            self._create_lease(node, stamp)

    def _create_lease(self, node: str, stamp: str) -> None:
        try:
            uid = self.store.get("nodes", "", node)["metadata"].get("uid", "")
        except Exception:
            return
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": object_meta(
                node,
                LEASE_NAMESPACE,
                uid=self.names.uid(),
                created=rfc3339(self.now()),
                owner=owner_ref("v1", "Node", node, uid),
            ),
            "spec": {"holderIdentity": node, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": stamp},
        }
        self.writes.create(LEASES, lease, "kubelet-lease")

    def _report(self, node: str, *, back: bool) -> None:
        """Post the node's status: its conditions' heartbeat, and after a restart their healthy
        values (a transition now for those that change)."""
        now = rfc3339(self.now())

        def report(o: Obj) -> None:
            for c in o.setdefault("status", {}).setdefault("conditions", []):
                typ = c.get("type", "")
                if not nodeobj.kubelet_owned(typ):
                    continue
                if back and typ in nodeobj.HEALTHY:
                    healthy = nodeobj.condition(typ, now, now)
                    if c.get("status") == healthy["status"]:
                        del healthy["lastTransitionTime"]
                    c.update(healthy)
                else:
                    c["lastHeartbeatTime"] = now

        self.writes.modify("nodes", ("", node), report, "kubelet-status")
