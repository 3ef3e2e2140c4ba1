"""The records the console keeps of watched objects, and what they share.

Pods (30,000 at 1,000 nodes) and workloads (about 18,000 there: every Deployment's ReplicaSets, Jobs,
CronJobs...) are kept as compact records with ``__slots__`` of what the lists show and sort on, their
strings interned and their repeated values (label sets, pod templates, small tuples) shared through
:class:`Shared`; the full object is read from the API server when its own page is opened. Nodes and
namespaces (few) are kept as decoded, less what no page reads (:func:`slim`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from kubescope.console import wire
from kubescope.console.units import bytes_of, millicores_of

TT = TypeVar("TT", bound=tuple[object, ...])
W = TypeVar("W")
Template = tuple[tuple[str, tuple[str, ...]], ...]
"""A pod template's containers: (name, (resource, request, resource, request...)) each."""

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

    def __init__(self) -> None:
        self._tuples: tuple[dict[tuple[object, ...], tuple[object, ...]], ...] = ({}, {})
        self._maps: dict[tuple[str, ...], dict[str, str]] = {}

    def labels(self, labels: dict[str, str]) -> dict[str, str]:
        """The labels of a node, namespace or workload, their strings interned."""
        intern = sys.intern
        return {intern(k): intern(v) for k, v in labels.items()}

    def mapping(self, values: dict[str, str]) -> dict[str, str]:
        """One dict per distinct small mapping (nodes' capacity and allocatable: most nodes of a
        pool alike), never to be changed by its holders; bounded like :meth:`same`."""
        intern = sys.intern
        key = tuple(intern(x) for kv in values.items() for x in kv)
        got = self._maps.get(key)
        if got is None:
            if len(self._maps) >= SAME_CACHE:
                self._maps.clear()
            got = self._maps[key] = dict(zip(key[::2], key[1::2], strict=True))
        return got

    def flat_labels(self, labels: dict[str, str]) -> tuple[str, ...]:
        """A pod's labels as ``(key, value, key, value...)``, interned and shared."""
        intern = sys.intern
        return self.same(tuple(intern(x) for kv in labels.items() for x in kv), 1)

    def template(self, spec: wire.PodSpec) -> Template:
        """A pod template as a workload's page shows it: ``((container, (resource, request, ...)),
        ...)``, strings interned, one tuple per distinct template (a Deployment's and its
        ReplicaSets' are alike): about 200 bytes for one container, against 1.2 KB of Structs."""
        intern = sys.intern
        return self.same(
            tuple(
                (
                    intern(c.name),
                    self.same(tuple(intern(x) for kv in c.resources.requests.items() for x in kv), 1),
                )
                for c in spec.containers
            ),
            1,
        )

    def same(self, value: TT, cache: int = 0) -> TT:
        """One object per distinct tuple (``cache`` 0: small values, 1: label sets and templates). Each cache is
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
    """A node or namespace as kept: its labels and the strings many objects repeat shared, what no
    page reads dropped (owners' uids, conditions' heartbeats: they change on every update, so nothing
    could be shared with them). A node costs about 2 KB instead of 6. (Its resourceVersion stays: the
    reflector reads it after the sink took the object.)"""
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
    if isinstance(obj, wire.Node):
        st = obj.status
        st.capacity = shared.mapping(st.capacity)
        st.allocatable = shared.mapping(st.allocatable)
        for c in st.conditions:
            c.type, c.status, c.reason, c.message = (
                sys.intern(c.type),
                sys.intern(c.status),
                sys.intern(c.reason),
                sys.intern(c.message),
            )
            c.last_heartbeat_time = c.last_probe_time = c.last_update_time = None
        info = st.node_info
        info.kubelet_version, info.os_image, info.architecture = (
            sys.intern(info.kubelet_version),
            sys.intern(info.os_image),
            sys.intern(info.architecture),
        )
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


def workload_ready(w: wire.Workload, kind: str) -> str:
    """The READY column of ``kubectl get`` for the kind (Jobs and CronJobs: what runs)."""
    s = w.status
    if kind == "DaemonSet":
        return f"{s.number_ready}/{s.desired_number_scheduled}"
    if kind == "Job":
        return f"{s.succeeded} done, {s.active if isinstance(s.active, int) else 0} active"
    if kind == "CronJob":
        return f"{len(s.active) if isinstance(s.active, list) else 0} active"
    want = w.spec.replicas if w.spec.replicas is not None else 1
    return f"{s.ready_replicas}/{want}"


class WorkloadRecord:
    """One workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) as the pages need
    it: about 350 bytes with its own strings (name, uid), where the decoded object kept whole cost
    1-1.5 KB (metadata, status and spec Structs, a labels dict, owner references, a datetime) and
    its pod template as many again. The template (a CronJob's: its Jobs') is kept as
    :meth:`Shared.template` makes it."""

    __slots__ = (
        "created",
        "kind",
        "label_pairs",
        "name",
        "namespace",
        "owner_kind",
        "owner_name",
        "ready",
        "template",
        "uid",
    )  # fmt: skip

    def __init__(self, w: wire.Workload, kind: str, shared: Shared) -> None:
        m = w.metadata
        intern = sys.intern
        self.kind = intern(kind)
        self.uid = m.uid
        self.name = intern(m.name)  # a Deployment's name is its ReplicaSets' (and their pods') owner name
        self.namespace = intern(m.namespace)
        self.created = _ts(m.creation_timestamp)
        self.label_pairs = shared.flat_labels(m.labels)
        owner = next((o for o in m.owner_references if o.controller), None)
        self.owner_kind = intern(owner.kind) if owner else ""
        self.owner_name = intern(owner.name) if owner else ""
        spec = w.spec
        template = spec.template.spec
        if not template.containers and spec.job_template is not None:
            template = spec.job_template.spec.template.spec
        self.template = shared.template(template)
        self.ready = intern(workload_ready(w, kind))

    @property
    def labels(self) -> dict[str, str]:
        pairs = self.label_pairs
        return dict(zip(pairs[::2], pairs[1::2], strict=True))

    @property
    def containers(self) -> list[wire.Container]:
        """The pod template's containers (names and requests), made when a page asks."""
        return [
            wire.Container(
                name=name, resources=wire.Resources(requests=dict(zip(rs[::2], rs[1::2], strict=True)))
            )
            for name, rs in self.template
        ]
