"""The garbage collector, for the owners the simulator's objects have: when an object goes, what
names it as owner (with its uid) goes too, in the background (``propagationPolicy: Background``,
the default of ``kubectl delete``): a Deployment's ReplicaSets, a ReplicaSet's, StatefulSet's,
DaemonSet's, Job's or ReplicationController's pods, a CronJob's Jobs, a Service's
EndpointSlices. And the pod garbage collector's rule for nodes: the pods of a node that is gone
are deleted at once (they cannot terminate on it).
"""

from __future__ import annotations

from typing import Any

from kubescope.sim.control.cache import PodCache
from kubescope.sim.control.runtime import Controller, ControlPlane, Key
from kubescope.sim.objects.meta import controller_of

Obj = dict[str, Any]

OWNERS = {
    "deployments.apps": "Deployment",
    "replicasets.apps": "ReplicaSet",
    "statefulsets.apps": "StatefulSet",
    "daemonsets.apps": "DaemonSet",
    "jobs.batch": "Job",
    "cronjobs.batch": "CronJob",
    "replicationcontrollers": "ReplicationController",
    "services": "Service",
}
"""Resources whose deletion takes dependents with it, and their kind in owner references."""
DEPENDENTS = ("replicasets.apps", "jobs.batch", "endpointslices.discovery.k8s.io")
"""Resources (besides pods, found through the pod cache) whose owners are followed here."""


class GarbageCollector(Controller):
    name = "garbage-collector"
    watches = tuple(dict.fromkeys((*OWNERS, *DEPENDENTS, "nodes")))

    def __init__(self, plane: ControlPlane, pods: PodCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.children: dict[tuple[str, str, str], dict[tuple[str, Key], str]] = {}
        """(owner kind, namespace, owner name) -> (resource, key) of its dependents -> owner uid."""
        self._child_owner: dict[tuple[str, Key], tuple[str, str, str, str]] = {}

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if res in DEPENDENTS:
            self._note_child(typ, res, key, meta)
        if typ != "DELETED":
            return
        if res == "nodes":
            self.queue.add(("node", key[1], ""))
        elif res in OWNERS:
            self.queue.add((OWNERS[res], key, meta.get("uid", "")))

    def _note_child(self, typ: str, res: str, key: Key, meta: Obj) -> None:
        ref = controller_of(meta) if typ != "DELETED" else None
        now = (
            (str(ref.get("kind", "")), key[0], str(ref.get("name", "")), str(ref.get("uid", "")))
            if ref
            else None
        )
        before = self._child_owner.get((res, key))
        if before == now:
            return  # the usual change: the same owner
        if before is not None:
            del self._child_owner[(res, key)]
            self.children.get(before[:3], {}).pop((res, key), None)
        if now is not None:
            self.children.setdefault(now[:3], {})[(res, key)] = now[3]
            self._child_owner[(res, key)] = now

    def sync(self, item: tuple[str, Any, str]) -> None:
        kind, where, uid = item
        if kind == "node":
            for p in self.pods.on_node(where):
                self.delete("pods", p.key, grace_period=0)
            return
        ns, name = where
        for p in self.pods.owned(kind, ns, name):
            if p.owner and p.owner[2] == uid and not p.deleting:
                self.delete("pods", p.key)
        owned = self.children.get((kind, ns, name), {})
        for (res, key), owner_uid in list(owned.items()):
            if owner_uid == uid:
                self.delete(res, key)
