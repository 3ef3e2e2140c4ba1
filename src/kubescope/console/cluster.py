"""What the console knows of the cluster's objects, kept in step by watches (one reflector per resource,
:mod:`kubescope.kube.reflector`).

Pods are many (30,000 at 1,000 nodes), so each is kept as a compact :class:`PodRecord` of what the lists
show and sort on: requests and limits summed over its containers, restarts, a display status, its
controller; the full object is read from the API server when its own page is opened. Nodes,
namespaces, workloads, autoscalers and APIServices are few and kept as decoded.

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

import msgspec

from kubescope.console import wire
from kubescope.console.units import bytes_of, millicores_of

T = TypeVar("T")
R = TypeVar("R")
TT = TypeVar("TT", bound=tuple[object, ...])
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
SAME_CACHE = 16384
"""Distinct tuples :class:`Shared` remembers per kind before it starts again."""


def _ts(t: object) -> float | None:
    ts = getattr(t, "timestamp", None)
    return ts() if callable(ts) else None


def _sum(values: Iterable[float | None]) -> float | None:
    """The sum when every container sets the resource (else unbounded/unknown: None)."""
    total = 0.0
    for v in values:
        if v is None:
            return None
        total += v
    return total


def requests_limits(containers: list[wire.Container]) -> tuple[float | None, ...]:
    """(cpu request, cpu limit, memory request, memory limit) summed over containers."""
    if not containers:
        return (None, None, None, None)
    rs = [c.resources for c in containers]
    return (
        _sum(millicores_of(r.requests.get("cpu", "")) for r in rs),
        _sum(millicores_of(r.limits.get("cpu", "")) for r in rs),
        _sum(bytes_of(r.requests.get("memory", "")) for r in rs),
        _sum(bytes_of(r.limits.get("memory", "")) for r in rs),
    )


class Shared:
    """Identical values kept once: strings interned, label sets and small tuples shared.

    Long-lived records hold only shared values and their own few unique strings (name, uid), so
    they cost a few hundred bytes each and leave the allocator few arenas pinned by stragglers among
    the decoded objects a list frees. A pod's labels are a flat tuple of interned strings (136
    bytes for five labels, against 360 for a dict of them), shared when another pod has the same.
    """

    def __init__(self, in_use: Callable[[], Iterable[wire.TemplateSpec]] = tuple) -> None:
        self.in_use = in_use
        """The templates the workloads hold now."""
        self._tuples: tuple[dict[tuple[object, ...], tuple[object, ...]], ...] = ({}, {})
        self._templates: dict[bytes, wire.TemplateSpec] = {}
        self._sweep_at = 1024

    def labels(self, labels: dict[str, str]) -> dict[str, str]:
        """The labels of a node, namespace or workload, their strings interned."""
        intern = sys.intern
        return {intern(k): intern(v) for k, v in labels.items()}

    def flat_labels(self, labels: dict[str, str]) -> tuple[str, ...]:
        """A pod's labels as ``(key, value, key, value...)``, interned and shared."""
        intern = sys.intern
        return self.same(tuple(intern(x) for kv in labels.items() for x in kv), 1)

    def template(self, template: wire.TemplateSpec) -> wire.TemplateSpec:
        """One object per distinct pod template (a Deployment's and its ReplicaSets' are alike), with
        what a workload's page shows of it: its containers' names and requests."""
        intern = sys.intern
        template = wire.TemplateSpec(spec=wire.PodSpec(containers=[
            wire.Container(name=intern(c.name), resources=wire.Resources(
                requests={intern(k): intern(v) for k, v in c.resources.requests.items()}))
            for c in template.spec.containers
        ]))  # fmt: skip
        key = msgspec.json.encode(template)
        got = self._templates.get(key)
        if got is None:
            if len(self._templates) >= self._sweep_at:
                self._sweep()
            got = self._templates[key] = template
        return got

    def _sweep(self) -> None:
        """Forget the templates no workload has any more, once the cache has doubled (Structs
        without GC cannot be weakly referenced: ``in_use`` names the live ones)."""
        live = {id(t) for t in self.in_use()}
        for key in [k for k, v in self._templates.items() if id(v) not in live]:
            del self._templates[key]
        self._sweep_at = max(1024, 2 * len(self._templates))

    def same(self, value: TT, cache: int = 0) -> TT:
        """One object per distinct tuple (``cache`` 0: small values, 1: label sets). Each cache is
        bounded: once it holds 16,384 tuples it starts again (the records keep theirs)."""
        seen = self._tuples[cache]
        got = seen.get(value)
        if got is not None:
            return got  # type: ignore[return-value]
        if len(seen) >= SAME_CACHE:
            seen.clear()
        seen[value] = value
        return value


def slim(obj: W, shared: Shared) -> W:
    """A watched object (node, namespace, workload...) as kept: its labels, pod template and the
    strings many objects repeat shared, what no page reads (owners' uids) dropped. (Its
    resourceVersion stays: the reflector reads it after the sink took the object.)"""
    m = obj.metadata  # type: ignore[attr-defined]
    m.namespace = sys.intern(m.namespace)
    m.labels = shared.labels(m.labels)
    for o in m.owner_references:
        o.api_version, o.kind, o.name, o.uid = (
            sys.intern(o.api_version),
            sys.intern(o.kind),
            sys.intern(o.name),
            "",
        )
    if isinstance(obj, wire.Workload):
        obj.spec.template = shared.template(obj.spec.template)
    return obj


def pod_status(pod: wire.Pod) -> str:
    """The STATUS column of ``kubectl get pods`` (a waiting or terminated reason, else the phase)."""
    if pod.metadata.deletion_timestamp is not None:
        return "Terminating"
    reason = pod.status.reason or pod.status.phase or "Unknown"
    for cs in pod.status.container_statuses:
        if cs.state.waiting is not None and cs.state.waiting.reason:
            reason = cs.state.waiting.reason
        elif cs.state.terminated is not None and cs.state.terminated.reason:
            reason = cs.state.terminated.reason
    return reason


class PodRecord:
    """One pod as the lists need it."""

    __slots__ = (
        "changes",
        "containers",
        "cpu_lim",
        "cpu_req",
        "created",
        "label_pairs",
        "mem_lim",
        "mem_req",
        "name",
        "namespace",
        "node",
        "owner_kind",
        "owner_name",
        "phase",
        "ready",
        "restarts",
        "status",
        "uid",
    )  # fmt: skip

    def __init__(self, pod: wire.Pod, shared: Shared) -> None:
        m = pod.metadata
        intern = sys.intern
        self.uid = m.uid
        self.namespace = intern(m.namespace)
        self.name = m.name
        self.label_pairs = shared.flat_labels(m.labels)
        self.created = _ts(m.creation_timestamp) or 0.0
        self.node = intern(pod.spec.node_name)
        self.phase = intern(pod.status.phase)
        self.status = intern(pod_status(pod))
        statuses = pod.status.container_statuses
        self.ready = shared.same((sum(1 for c in statuses if c.ready), len(pod.spec.containers)))
        self.restarts = sum(c.restart_count for c in statuses)
        self.containers = len(pod.spec.containers)
        owner = next((o for o in m.owner_references if o.controller), None)
        self.owner_kind = intern(owner.kind) if owner else ""
        self.owner_name = intern(owner.name) if owner else ""
        self.cpu_req, self.cpu_lim, self.mem_req, self.mem_lim = shared.same(
            requests_limits(pod.spec.containers)
        )
        self.changes: list[tuple[float, str]] | None = None

    @property
    def labels(self) -> dict[str, str]:
        pairs = self.label_pairs
        return dict(zip(pairs[::2], pairs[1::2], strict=True))


@dataclass(frozen=True)
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


class Cluster:
    """Every table the console fills from watches, and the questions asked across them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.shared = shared = Shared(self._templates)

        def keep(obj: W) -> W:
            return slim(obj, shared)

        self.pods: Table[wire.Pod, PodRecord] = Table(lambda p: PodRecord(p, shared), self._pod_changed)
        self.nodes: Table[wire.Node, wire.Node] = Table(keep)
        self.namespaces: Table[wire.Namespace, wire.Namespace] = Table(keep)
        self.workloads: dict[str, Table[wire.Workload, wire.Workload]] = {
            kind: Table(keep) for _, kind in WORKLOAD_KINDS.values()
        }
        self.hpas: Table[wire.HPA, wire.HPA] = Table(_keep, self._hpa_changed)
        self.apiservices: Table[wire.APIService, wire.APIService] = Table(_keep)
        self.replicas: dict[str, deque[tuple[float, int, int]]] = {}
        """autoscaler uid -> (time, current, desired) whenever either changed."""
        self._groups: tuple[int, dict[WorkloadKey, list[PodRecord]]] | None = None

    def _templates(self) -> Iterable[wire.TemplateSpec]:
        for table in self.workloads.values():
            for w in table.values():
                yield w.spec.template

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

    def workload(self, kind: str, namespace: str, name: str) -> wire.Workload | None:
        table = self.workloads.get(kind)
        if table is None:
            return None
        for w in table.values():
            if w.metadata.name == name and w.metadata.namespace == namespace:
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
            ref = next((o for o in w.metadata.owner_references if o.controller), None)
            if ref is not None and ref.kind in KIND_PATHS:
                out[(w.metadata.namespace, w.metadata.name)] = WorkloadKey(
                    ref.kind, w.metadata.namespace, ref.name
                )
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
