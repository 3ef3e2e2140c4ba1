"""What the recorder knows of pods: specs from a watch, owners resolved up to the workload.

A pod's controller is followed up one level where Kubernetes' controllers nest: a ReplicaSet owned
by a Deployment gives the Deployment, a Job owned by a CronJob gives the CronJob (from watches of
ReplicaSets and Jobs, metadata only). StatefulSets, DaemonSets, ReplicationControllers, bare
ReplicaSets and Jobs are owners themselves; a pod without a controller has none. The Metrics API
names pods by namespace and name only; this catalog gives the UID (and so the series) a name
stands for now.
"""

from __future__ import annotations

import dataclasses

import msgspec

from kubescope.history.series import CPU_UNIT, PodInfo
from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, parse_quantity


class Resources(Wire):
    requests: dict[str, str] = msgspec.field(default_factory=dict)
    limits: dict[str, str] = msgspec.field(default_factory=dict)


class Container(Wire):
    name: str = ""
    resources: Resources = msgspec.field(default_factory=Resources)


class PodSpec(Wire):
    node_name: str = ""
    containers: list[Container] = msgspec.field(default_factory=list)
    init_containers: list[Container] = msgspec.field(default_factory=list)


class Pod(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)


class Owned(Wire):
    """A ReplicaSet or a Job: only its owner matters here."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


def _controller(meta: ObjectMeta) -> tuple[str, str]:
    for ref in meta.owner_references:
        if ref.controller:
            return ref.kind, ref.name
    return "", ""


def _quantity(values: dict[str, str], key: str, scale: int) -> int | None:
    s = values.get(key)
    if s is None:
        return None
    try:
        return int(parse_quantity(s) * scale)
    except (QuantityError, ValueError, ZeroDivisionError):
        return None


class Owners:
    """Sink for ReplicaSets or Jobs: ``(namespace, name) -> (owner kind, owner name)``."""

    def __init__(self) -> None:
        self.owners: dict[tuple[str, str], tuple[str, str]] = {}
        self._listed: set[tuple[str, str]] | None = None

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, obj: Owned) -> None:
        key = (obj.metadata.namespace, obj.metadata.name)
        self.owners[key] = _controller(obj.metadata)
        if self._listed is not None:
            self._listed.add(key)

    def delete(self, obj: Owned) -> None:
        self.owners.pop((obj.metadata.namespace, obj.metadata.name), None)

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is not None:
            for k in [k for k in self.owners if k not in listed]:
                del self.owners[k]


NESTED = {"ReplicaSet": "Deployment", "Job": "CronJob"}


class PodCatalog:
    """Sink for pods: the latest :class:`PodInfo` of each pod, by name and by UID."""

    def __init__(self, replicasets: Owners | None = None, jobs: Owners | None = None) -> None:
        self.replicasets = replicasets or Owners()
        self.jobs = jobs or Owners()
        self.by_name: dict[tuple[str, str], PodInfo] = {}
        self.by_uid: dict[str, PodInfo] = {}
        self._listed: set[str] | None = None

    def owner(self, namespace: str, kind: str, name: str) -> tuple[str, str]:
        """The workload a controller ``kind/name`` stands for."""
        if kind in NESTED:
            table = self.replicasets if kind == "ReplicaSet" else self.jobs
            up_kind, up_name = table.owners.get((namespace, name), ("", ""))
            if up_kind == NESTED[kind]:
                return up_kind, up_name
        return kind, name

    def info(self, pod: Pod) -> PodInfo:
        meta = pod.metadata
        kind, name = _controller(meta)
        if kind:
            kind, name = self.owner(meta.namespace, kind, name)
        resources = tuple(
            (
                c.name,
                _quantity(c.resources.requests, "cpu", CPU_UNIT),
                _quantity(c.resources.limits, "cpu", CPU_UNIT),
                _quantity(c.resources.requests, "memory", 1),
                _quantity(c.resources.limits, "memory", 1),
            )
            for c in pod.spec.containers
        )
        return PodInfo(meta.namespace, meta.name, meta.uid, pod.spec.node_name, kind, name, resources)

    def lookup(self, namespace: str, name: str) -> PodInfo | None:
        """The pod now called ``namespace/name``, its owner resolved with what is known now (a
        ReplicaSet seen after its pods still leads to its Deployment)."""
        info = self.by_name.get((namespace, name))
        if info is not None and info.owner_kind in NESTED:
            kind, owner = self.owner(namespace, info.owner_kind, info.owner_name)
            if kind != info.owner_kind:
                info = dataclasses.replace(info, owner_kind=kind, owner_name=owner)
                self.by_uid[info.uid] = info
                self.by_name[(namespace, name)] = info
        return info

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, pod: Pod) -> None:
        info = self.info(pod)
        self.by_uid[info.uid] = info
        self.by_name[(info.namespace, info.name)] = info
        if self._listed is not None:
            self._listed.add(info.uid)

    def delete(self, pod: Pod) -> None:
        info = self.by_uid.pop(pod.metadata.uid, None)
        key = (pod.metadata.namespace, pod.metadata.name)
        if info is not None and self.by_name.get(key) is info:
            del self.by_name[key]

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is None:
            return
        for uid in [u for u in self.by_uid if u not in listed]:
            info = self.by_uid.pop(uid)
            if self.by_name.get((info.namespace, info.name)) is info:
                del self.by_name[(info.namespace, info.name)]
