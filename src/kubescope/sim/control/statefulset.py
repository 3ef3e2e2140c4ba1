"""The StatefulSet controller: one pod per ordinal, ``<name>-<ordinal>``, kept, replaced when it
goes, and reported in ``status``.

A pod that was deleted is made again under the same name once the old one is gone (its identity
is its name: a terminating pod holds it). With ``podManagementPolicy: OrderedReady`` ordinals are
created one at a time, each once every lower one is running and ready, and removed from the
highest down; ``Parallel`` does them all at once. A pod gets the claims of the volume claim
templates by name (``<template>-<name>-<ordinal>``); claims themselves are not created (a
scaled-up ordinal mounts a claim that does not exist), nor are revisions rolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubescope.sim.control.cache import PodCache, PodRecord
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import owner_ref, rfc3339
from kubescope.sim.objects.pods import pod_from_template

Obj = dict[str, Any]
STATEFULSETS = "statefulsets.apps"


@dataclass(slots=True)
class StatefulSetRecord:
    ns: str
    name: str
    uid: str
    replicas: int
    start: int
    ordered: bool
    generation: int
    deleting: bool


class StatefulSetController(Controller):
    name = "statefulset"
    reporting = "statefulset-controller"
    watches = (STATEFULSETS,)

    def __init__(self, plane: ControlPlane, pods: PodCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.sets: dict[Key, StatefulSetRecord] = {}
        pods.on_owned(("StatefulSet",), lambda p: (p.active, p.ready, p.running), self._owner_changed)

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta, spec = obj["metadata"], obj.get("spec") or {}
        key = (meta.get("namespace", ""), meta["name"])
        if typ == "DELETED":
            self.sets.pop(key, None)
            return
        rec = StatefulSetRecord(
            key[0],
            key[1],
            meta.get("uid", ""),
            int(spec.get("replicas", 1)),
            int((spec.get("ordinals") or {}).get("start", 0)),
            spec.get("podManagementPolicy", "OrderedReady") != "Parallel",
            int(meta.get("generation") or 1),
            bool(meta.get("deletionTimestamp")),
        )
        old = self.sets.get(key)
        self.sets[key] = rec
        if typ != LISTED and (
            old is None or (old.replicas, old.generation) != (rec.replicas, rec.generation)
        ):
            self.queue.add(key)

    def _owner_changed(self, kind: str, ns: str, name: str) -> None:
        if (ns, name) in self.sets:
            self.queue.add((ns, name))

    def sync(self, key: Key) -> None:
        sts = self.sets.get(key)
        if sts is None or sts.deleting:
            return
        pods = {p.name: p for p in self.pods.owned("StatefulSet", *key) if p.owner and p.owner[2] == sts.uid}
        wanted = range(sts.start, sts.start + sts.replicas)
        healthy_below = True
        for i in wanted:
            p = pods.get(f"{sts.name}-{i}")
            if p is None:
                if sts.ordered and not healthy_below:
                    break
                self._create(sts, i)
                if sts.ordered:
                    break  # one at a time: the next once this one runs and is ready
                continue
            healthy_below = healthy_below and p.active and p.ready and p.running
        extra = sorted(
            (p for p in pods.values() if _ordinal(sts, p) not in wanted and p.active),
            key=lambda p: -_ordinal(sts, p),
        )
        all_ready = all(p.ready for p in pods.values() if _ordinal(sts, p) in wanted)
        for p in extra[:1] if sts.ordered else extra:
            if sts.ordered and not all_ready:
                break
            if self.delete("pods", p.key):
                self._event(
                    sts, f"delete Pod {p.name} in StatefulSet {sts.name} successful", "SuccessfulDelete"
                )
        self._status(sts)

    def _event(self, sts: StatefulSetRecord, note: str, reason: str) -> None:
        self.event(ref("StatefulSet", "apps/v1", sts.ns, sts.name, sts.uid), "Normal", reason, note)

    def _create(self, sts: StatefulSetRecord, ordinal: int) -> None:
        try:
            obj = self.store.get(STATEFULSETS, sts.ns, sts.name)
        except Exception:
            return
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        name = f"{sts.name}-{ordinal}"
        revision = status.get("updateRevision") or status.get("currentRevision") or f"{sts.name}-0"
        pod = pod_from_template(
            spec.get("template") or {},
            name=name,
            namespace=sts.ns,
            uid=self.names.uid(),
            created=rfc3339(self.now()),
            owner=owner_ref("apps/v1", "StatefulSet", sts.name, sts.uid),
            labels={
                "controller-revision-hash": revision,
                "statefulset.kubernetes.io/pod-name": name,
                "apps.kubernetes.io/pod-index": str(ordinal),
            },
        )
        pspec = pod["spec"]
        pspec["hostname"] = name
        if spec.get("serviceName"):
            pspec["subdomain"] = spec["serviceName"]
        volumes = pspec["volumes"] = list(pspec.get("volumes") or ())
        have = {v.get("name") for v in volumes}
        for vct in spec.get("volumeClaimTemplates") or ():
            claim = (vct.get("metadata") or {}).get("name", "")
            if claim and claim not in have:
                volumes.append({"name": claim, "persistentVolumeClaim": {"claimName": f"{claim}-{name}"}})
        if self.create("pods", pod) is not None:
            self._event(sts, f"create Pod {name} in StatefulSet {sts.name} successful", "SuccessfulCreate")

    def _status(self, sts: StatefulSetRecord) -> None:
        pods = [
            p for p in self.pods.owned("StatefulSet", sts.ns, sts.name) if p.owner and p.owner[2] == sts.uid
        ]
        created = [p for p in pods if not p.deleting]
        ready = sum(1 for p in created if p.ready)

        def status(o: Obj) -> None:
            st = o.setdefault("status", {})
            st.update(
                replicas=len(created),
                readyReplicas=ready,
                availableReplicas=ready,
                currentReplicas=len(created),
                updatedReplicas=len(created),
                observedGeneration=o["metadata"].get("generation", 1),
            )

        self.modify(STATEFULSETS, (sts.ns, sts.name), status)


def _ordinal(sts: StatefulSetRecord, p: PodRecord) -> int:
    tail = p.name[len(sts.name) + 1 :]
    return int(tail) if tail.isdigit() else -1
