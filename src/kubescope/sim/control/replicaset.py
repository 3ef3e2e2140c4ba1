"""The ReplicaSet controller (and the ReplicationController manager, the same loop): keep
``spec.replicas`` pods, and report them in ``status``.

Pods that are terminating or finished do not count (``FilterActivePods``): a deleted pod is
replaced at once, while it terminates. Surplus pods go in kube's order of preference: not yet
scheduled, then pending, then not ready, then the newest. Status: ``replicas`` (active pods),
``fullyLabeledReplicas``, ``readyReplicas``, ``availableReplicas`` (``minReadySeconds`` 0),
``observedGeneration``; zero counts are left out, as the API's ``omitempty`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubescope.sim.control.cache import PodCache, PodRecord
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import controller_of, owner_ref, rfc3339
from kubescope.sim.objects.pods import pod_from_template

Obj = dict[str, Any]

KINDS = {
    "replicasets.apps": ("ReplicaSet", "apps/v1"),
    "replicationcontrollers": ("ReplicationController", "v1"),
}
REPORTING = {"replicasets.apps": "replicaset-controller", "replicationcontrollers": "replication-controller"}
"""The component their events name."""
BURST = 500
"""Pods created or deleted per sync at most (kube's ``burstReplicas``)."""


@dataclass(slots=True)
class ReplicaSetRecord:
    res: str
    ns: str
    name: str
    uid: str
    replicas: int
    generation: int
    deleting: bool
    deployment: str
    """The owning Deployment's name, or ""."""


class ReplicaSetController(Controller):
    name = "replicaset"
    watches = tuple(KINDS)

    def __init__(self, plane: ControlPlane, pods: PodCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.sets: dict[tuple[str, Key], ReplicaSetRecord] = {}
        pods.on_owned(
            ("ReplicaSet", "ReplicationController"), lambda p: (p.active, p.ready), self._owner_changed
        )

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta, spec = obj["metadata"], obj.get("spec") or {}
        key = (meta.get("namespace", ""), meta["name"])
        if typ == "DELETED":
            self.sets.pop((res, key), None)
            return
        parent = controller_of(meta)
        rec = ReplicaSetRecord(
            res,
            key[0],
            key[1],
            meta.get("uid", ""),
            int(spec.get("replicas", 1)),
            int(meta.get("generation") or 1),
            bool(meta.get("deletionTimestamp")),
            parent["name"] if parent and parent.get("kind") == "Deployment" else "",
        )
        old = self.sets.get((res, key))
        self.sets[(res, key)] = rec
        if typ == LISTED:
            return
        if old is None or (old.replicas, old.generation, old.uid) != (rec.replicas, rec.generation, rec.uid):
            self.queue.add((res, key))

    def _owner_changed(self, kind: str, ns: str, name: str) -> None:
        res = "replicasets.apps" if kind == "ReplicaSet" else "replicationcontrollers"
        if (res, (ns, name)) in self.sets:
            self.queue.add((res, (ns, name)))

    def sync(self, item: tuple[str, Key]) -> None:
        res, key = item
        rs = self.sets.get(item)
        if rs is None or rs.deleting:
            return
        kind, _ = KINDS[res]
        active = [p for p in self.pods.owned(kind, *key) if p.active and p.owner and p.owner[2] == rs.uid]
        diff = rs.replicas - len(active)
        if diff > 0:
            self._create(rs, min(diff, BURST))
        elif diff < 0:
            # among equals the newest goes first (the cache keeps pods in the order they came)
            ranked = sorted(range(len(active)), key=lambda i: (*_deletion_rank(active[i]), -i))
            for p in [active[i] for i in ranked[: min(-diff, BURST)]]:
                if self.delete("pods", p.key):
                    self._event(rs, "SuccessfulDelete", f"Deleted pod: {p.name}")
        self._status(rs)

    def _event(self, rs: ReplicaSetRecord, reason: str, note: str) -> None:
        kind, api = KINDS[rs.res]
        self.recorder(REPORTING[rs.res]).emit(ref(kind, api, rs.ns, rs.name, rs.uid), "Normal", reason, note)

    def _create(self, rs: ReplicaSetRecord, n: int) -> None:
        try:
            obj = self.store.get(rs.res, rs.ns, rs.name)
        except Exception:  # gone meanwhile
            return
        kind, api = KINDS[rs.res]
        template = (obj.get("spec") or {}).get("template") or {}
        created = rfc3339(self.now())
        for _ in range(n):
            name = f"{rs.name}-{self.names.suffix()}"
            pod = pod_from_template(
                template,
                name=name,
                namespace=rs.ns,
                uid=self.names.uid(),
                created=created,
                owner=owner_ref(api, kind, rs.name, rs.uid),
                generate_name=f"{rs.name}-",
            )
            if self.create("pods", pod) is not None:
                self._event(rs, "SuccessfulCreate", f"Created pod: {name}")

    def _status(self, rs: ReplicaSetRecord) -> None:
        kind, _ = KINDS[rs.res]
        active = [
            p for p in self.pods.owned(kind, rs.ns, rs.name) if p.active and p.owner and p.owner[2] == rs.uid
        ]
        ready = sum(1 for p in active if p.ready)
        total = len(active)

        def status(o: Obj) -> None:
            st = o.setdefault("status", {})
            st["replicas"] = total
            for field, value in (
                ("fullyLabeledReplicas", total),
                ("readyReplicas", ready),
                ("availableReplicas", ready),
            ):
                if value:
                    st[field] = value
                else:
                    st.pop(field, None)
            st["observedGeneration"] = o["metadata"].get("generation", 1)

        self.modify(rs.res, (rs.ns, rs.name), status)


def _deletion_rank(p: PodRecord) -> tuple[int, int, int]:
    """Which surplus pods go first (kube's ``ActivePodsWithRanks``, simplified): unscheduled,
    then pending, then not ready."""
    return (0 if not p.node else 1, 0 if p.phase == "Pending" else 1, 1 if p.ready else 0)
