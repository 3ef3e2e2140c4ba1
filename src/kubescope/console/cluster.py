"""What the console knows of the cluster's objects, kept in step by watches (one reflector per resource,
:mod:`kubescope.kube.reflector`).

Pods and workloads are many (30,000 and about 18,000 at 1,000 nodes), so each is kept as a compact
record (:mod:`kubescope.console.records`) of what the lists show and sort on; the full object is read
from the API server when its own page is opened. Nodes, namespaces, autoscalers and APIServices are
few and kept as decoded (nodes and namespaces slimmed).

The watches also see changes nobody else keeps: a pod's phase changes and an autoscaler's replica
counts are recorded as they happen (bounded per object), for the detail pages' timelines.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from kubescope.console import wire
from kubescope.console.records import PodRecord, Shared, WorkloadRecord, slim

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W")

WORKLOAD_KINDS = {
    "deployments": ("apps/v1", "Deployment"),
    "statefulsets": ("apps/v1", "StatefulSet"),
    "daemonsets": ("apps/v1", "DaemonSet"),
    "replicasets": ("apps/v1", "ReplicaSet"),
    "jobs": ("batch/v1", "Job"),
    "cronjobs": ("batch/v1", "CronJob"),
}
"""URL (and history API) path name -> (group version, kind)."""
KIND_PATHS = {kind: path for path, (_, kind) in WORKLOAD_KINDS.items()}
PHASE_HISTORY = 32
"""Phase changes remembered per pod (the oldest go first)."""
REPLICA_HISTORY = 4096
"""Replica counts remembered per autoscaler (a change a minute for almost three days)."""


@dataclass(frozen=True, slots=True)
class WorkloadKey:
    kind: str
    namespace: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.namespace}/{KIND_PATHS[self.kind]}/{self.name}"


class Table(Generic[T, R]):
    """A reflector's sink keeping one record per object uid (``convert`` makes the record)."""

    def __init__(
        self, convert: Callable[[T], R], on_change: Callable[[T, R | None, R | None], None] | None = None
    ):
        self.convert = convert
        self.by_uid: dict[str, R] = {}
        self.on_change = on_change
        self.version = 0
        self.synced = False
        self._listed: set[str] | None = None

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, obj: T) -> None:
        uid: str = obj.metadata.uid  # type: ignore[attr-defined]
        rec = self.convert(obj)
        old = self.by_uid.get(uid)
        self.by_uid[uid] = rec
        if self.on_change is not None:
            self.on_change(obj, old, rec)
        if self._listed is not None:
            self._listed.add(uid)
        self.version += 1

    def delete(self, obj: T) -> None:
        uid: str = obj.metadata.uid  # type: ignore[attr-defined]
        old = self.by_uid.pop(uid, None)
        if old is not None and self.on_change is not None:
            self.on_change(obj, old, None)
        self.version += 1

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is not None:
            for uid in [u for u in self.by_uid if u not in listed]:
                del self.by_uid[uid]
        self.synced = True
        self.version += 1

    def values(self) -> Iterable[R]:
        return self.by_uid.values()

    def __len__(self) -> int:
        return len(self.by_uid)


def _keep(obj: T) -> T:
    return obj


def _by_name(p: PodRecord) -> tuple[str, str]:
    return (p.namespace, p.name)


def _workload_record(kind: str, shared: Shared) -> Callable[[wire.Workload], WorkloadRecord]:
    return lambda w: WorkloadRecord(w, kind, shared)


class Cluster:
    """Every table the console fills from watches, and the questions asked across them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.shared = shared = Shared()

        def keep(obj: W) -> W:
            return slim(obj, shared)

        self.pods: Table[wire.Pod, PodRecord] = Table(lambda p: PodRecord(p, shared), self._pod_changed)
        self.nodes: Table[wire.Node, wire.Node] = Table(keep)
        self.namespaces: Table[wire.Namespace, wire.Namespace] = Table(keep)
        self.workloads: dict[str, Table[wire.Workload, WorkloadRecord]] = {
            kind: Table(_workload_record(kind, shared)) for _, kind in WORKLOAD_KINDS.values()
        }
        self.hpas: Table[wire.HPA, wire.HPA] = Table(_keep, self._hpa_changed)
        self.apiservices: Table[wire.APIService, wire.APIService] = Table(_keep)
        self.replicas: dict[str, deque[tuple[float, int, int]]] = {}
        """autoscaler uid -> (time, current, desired) whenever either changed."""
        self._groups: tuple[int, dict[WorkloadKey, list[PodRecord]]] | None = None
        self._ordered: tuple[int, list[PodRecord]] | None = None

    # -- recording changes as they are seen --------------------------------------------------------

    def _pod_changed(self, pod: wire.Pod, old: PodRecord | None, new: PodRecord | None) -> None:
        if old is None or new is None:
            return
        new.changes = old.changes
        if (old.phase, old.status) != (new.phase, new.status):
            if new.changes is None:
                new.changes = []
            new.changes.append((self.clock(), sys.intern(f"{old.status} -> {new.status}")))
            del new.changes[:-PHASE_HISTORY]

    def _hpa_changed(self, hpa: wire.HPA, old: wire.HPA | None, new: wire.HPA | None) -> None:
        if new is None:
            return
        uid = hpa.metadata.uid
        seen = self.replicas.get(uid)
        now = (new.status.current_replicas, new.status.desired_replicas)
        if seen is None:
            seen = self.replicas[uid] = deque(maxlen=REPLICA_HISTORY)
        if not seen or seen[-1][1:] != now:
            seen.append((self.clock(), *now))

    # -- questions -----------------------------------------------------------------------------------

    def synced(self) -> bool:
        return self.pods.synced and self.nodes.synced

    def workload(self, kind: str, namespace: str, name: str) -> WorkloadRecord | None:
        table = self.workloads.get(kind)
        if table is None:
            return None
        for w in table.values():
            if w.name == name and w.namespace == namespace:
                return w
        return None

    def owner_of(self, pod: PodRecord) -> WorkloadKey | None:
        """The workload a pod belongs to: its controller, through ReplicaSets to Deployments and
        through Jobs to CronJobs, as the history API resolves owners."""
        kind, name = pod.owner_kind, pod.owner_name
        if not kind or kind not in KIND_PATHS:
            return None
        if kind in ("ReplicaSet", "Job"):
            parent = self._parent(kind, pod.namespace, name)
            if parent is not None:
                return parent
        return WorkloadKey(kind, pod.namespace, name)

    def _parent(self, kind: str, namespace: str, name: str) -> WorkloadKey | None:
        index = self._owner_index(kind)
        return index.get((namespace, name))

    def _owner_index(self, kind: str) -> dict[tuple[str, str], WorkloadKey]:
        table = self.workloads[kind]
        cached = getattr(table, "_owner_index", None)
        if cached is not None and cached[0] == table.version:
            return cached[1]  # type: ignore[no-any-return]
        out: dict[tuple[str, str], WorkloadKey] = {}
        for w in table.values():
            if w.owner_kind in KIND_PATHS:
                out[(w.namespace, w.name)] = WorkloadKey(w.owner_kind, w.namespace, w.owner_name)
        table._owner_index = (table.version, out)  # type: ignore[attr-defined]
        return out

    def pods_by_workload(self) -> dict[WorkloadKey, list[PodRecord]]:
        """Every workload's pods (recomputed when pods or owners changed)."""
        version = self.pods.version + sum(t.version for t in self.workloads.values())
        if self._groups is not None and self._groups[0] == version:
            return self._groups[1]
        groups: dict[WorkloadKey, list[PodRecord]] = {}
        for p in self.pods.values():
            key = self.owner_of(p)
            if key is not None:
                groups.setdefault(key, []).append(p)
        self._groups = (version, groups)
        return groups

    def pods_in_order(self) -> list[PodRecord]:
        """Every pod by namespace and name, the lists' default order (sorted again when pods
        changed): a list page cuts its rows from it instead of sorting 30,000 keys per request."""
        if self._ordered is None or self._ordered[0] != self.pods.version:
            self._ordered = (self.pods.version, sorted(self.pods.values(), key=_by_name))
        return self._ordered[1]

    def pod(self, namespace: str, name: str) -> PodRecord | None:
        for p in self.pods.values():
            if p.name == name and p.namespace == namespace:
                return p
        return None

    def node(self, name: str) -> wire.Node | None:
        for n in self.nodes.values():
            if n.metadata.name == name:
                return n
        return None

    def hpa(self, namespace: str, name: str) -> wire.HPA | None:
        for h in self.hpas.values():
            if h.metadata.name == name and h.metadata.namespace == namespace:
                return h
        return None

    def apiservice_available(self, group: str) -> tuple[bool, str]:
        """Whether an aggregated group is registered and Available (and why not)."""
        found = [s for s in self.apiservices.values() if s.spec.group == group]
        if not found:
            return False, f"no APIService serves {group}" + (
                "" if self.apiservices.synced else " (not listed yet)"
            )
        for s in found:
            c = wire.condition(s.status.conditions, "Available")
            if c is None or c.status == "True":
                return True, ""
        c = wire.condition(found[0].status.conditions, "Available")
        return (
            False,
            f"APIService {found[0].metadata.name} is not Available: {c.reason if c else ''} {c.message if c else ''}".strip(),
        )
