"""The DaemonSet controller: one pod on every node the template's ``nodeSelector`` admits, made
again when it goes (once the old one is gone), removed from nodes that go, and ``status`` counts.

Pods are pinned to their node as the controller pins them, by a required node affinity on
``metadata.name`` (the scheduler binds them there), and get the tolerations it adds. Taints are
not weighed: a node the selector admits gets a pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubescope.sim.control.cache import NodeCache, NodeRecord, PodCache, PodRecord
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import owner_ref, rfc3339
from kubescope.sim.objects.pods import pod_from_template

Obj = dict[str, Any]
DAEMONSETS = "daemonsets.apps"

TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
"""What the DaemonSet controller adds to its pods (``AddOrUpdateDaemonPodTolerations``)."""


def pinned_node(spec: Obj) -> str:
    """The node a pod's required node affinity names by ``metadata.name`` (a DaemonSet pod's)."""
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or ():
        for f in term.get("matchFields") or ():
            if f.get("key") == "metadata.name" and f.get("operator") == "In" and f.get("values"):
                return str(f["values"][0])
    return ""


@dataclass(slots=True)
class DaemonSetRecord:
    ns: str
    name: str
    uid: str
    generation: int
    selector: dict[str, str]
    """The template's ``nodeSelector``."""
    deleting: bool


class DaemonSetController(Controller):
    name = "daemonset"
    reporting = "daemonset-controller"
    watches = (DAEMONSETS,)

    def __init__(self, plane: ControlPlane, pods: PodCache, nodes: NodeCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.nodes = nodes
        self.sets: dict[Key, DaemonSetRecord] = {}
        self._pinned: dict[Key, str] = {}
        """Pods not yet bound, by the node they are made for."""
        pods.on_change(self._pod_changed)
        pods.on_owned(("DaemonSet",), lambda p: (p.active, p.ready, p.node), self._owner_changed)
        nodes.on_change(self._node_changed)

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta, spec = obj["metadata"], obj.get("spec") or {}
        key = (meta.get("namespace", ""), meta["name"])
        if typ == "DELETED":
            self.sets.pop(key, None)
            return
        tspec = (spec.get("template") or {}).get("spec") or {}
        rec = DaemonSetRecord(
            key[0],
            key[1],
            meta.get("uid", ""),
            int(meta.get("generation") or 1),
            dict(tspec.get("nodeSelector") or {}),
            bool(meta.get("deletionTimestamp")),
        )
        old = self.sets.get(key)
        self.sets[key] = rec
        if typ != LISTED and (old is None or old.generation != rec.generation):
            self.queue.add(key)

    def _pod_changed(self, typ: str, old: PodRecord | None, new: PodRecord | None) -> None:
        if old is not None and (new is None or new.node):
            self._pinned.pop(old.key, None)  # bound or gone: found through its node now

    def _owner_changed(self, kind: str, ns: str, name: str) -> None:
        if (ns, name) in self.sets:
            self.queue.add((ns, name))

    def _node_changed(self, typ: str, old: NodeRecord | None, new: NodeRecord | None) -> None:
        if typ == LISTED:
            return
        if old is None or new is None or old.labels != new.labels:
            for key in self.sets:
                self.queue.add(key)

    def _eligible(self, ds: DaemonSetRecord) -> list[str]:
        return [
            n.name
            for n in self.nodes.nodes.values()
            if all(n.labels.get(k) == v for k, v in ds.selector.items())
        ]

    def _placed(self, ds: DaemonSetRecord) -> dict[str, list[PodRecord]]:
        by_node: dict[str, list[PodRecord]] = {}
        for p in self.pods.owned("DaemonSet", ds.ns, ds.name):
            if p.owner and p.owner[2] == ds.uid:
                by_node.setdefault(p.node or self._pinned.get(p.key, ""), []).append(p)
        return by_node

    def sync(self, key: Key) -> None:
        ds = self.sets.get(key)
        if ds is None or ds.deleting:
            return
        eligible = self._eligible(ds)
        placed = self._placed(ds)
        for node in eligible:
            pods = placed.get(node, [])
            active = [p for p in pods if p.active]
            if not pods or (not active and all(p.finished for p in pods)):
                self._create(ds, node)
            for extra in active[1:]:
                self._delete(ds, extra)
        gone = set(placed) - set(eligible)
        for node in sorted(gone):
            for p in placed[node]:
                if p.active:
                    self._delete(ds, p)
        self._status(ds, eligible)

    def _delete(self, ds: DaemonSetRecord, p: PodRecord) -> None:
        if self.delete("pods", p.key):
            self._event(ds, "SuccessfulDelete", f"Deleted pod: {p.name}")

    def _event(self, ds: DaemonSetRecord, reason: str, note: str) -> None:
        self.event(ref("DaemonSet", "apps/v1", ds.ns, ds.name, ds.uid), "Normal", reason, note)

    def _create(self, ds: DaemonSetRecord, node: str) -> None:
        try:
            obj = self.store.get(DAEMONSETS, ds.ns, ds.name)
        except Exception:
            return
        meta = obj["metadata"]
        pod = pod_from_template(
            (obj.get("spec") or {}).get("template") or {},
            name=f"{ds.name}-{self.names.suffix()}",
            namespace=ds.ns,
            uid=self.names.uid(),
            created=rfc3339(self.now()),
            owner=owner_ref("apps/v1", "DaemonSet", ds.name, ds.uid),
            labels={"pod-template-generation": str(meta.get("generation", 1))},
            generate_name=f"{ds.name}-",
        )
        spec = pod["spec"]
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                    ]
                }
            }
        }
        have = {(t.get("key"), t.get("effect")) for t in spec.get("tolerations") or ()}
        spec["tolerations"] = list(spec.get("tolerations") or ()) + [
            dict(t) for t in TOLERATIONS if (t["key"], t["effect"]) not in have
        ]
        if self.create("pods", pod) is not None:
            self._pinned[(ds.ns, pod["metadata"]["name"])] = node
            self._event(ds, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")

    def _status(self, ds: DaemonSetRecord, eligible: list[str]) -> None:
        placed = self._placed(ds)
        scheduled = [n for n in eligible if any(p.active and p.node for p in placed.get(n, ()))]
        ready = sum(1 for n in eligible if any(p.active and p.ready for p in placed.get(n, ())))

        def status(o: Obj) -> None:
            o.setdefault("status", {}).update(
                desiredNumberScheduled=len(eligible),
                currentNumberScheduled=len(scheduled),
                numberReady=ready,
                numberAvailable=ready,
                numberUnavailable=max(0, len(eligible) - ready),
                updatedNumberScheduled=len(scheduled),
                numberMisscheduled=0,
                observedGeneration=o["metadata"].get("generation", 1),
            )

        self.modify(DAEMONSETS, (ds.ns, ds.name), status)
