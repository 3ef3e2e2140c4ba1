"""Cluster churn: a seeded stream of the changes a busy cluster makes, written into the ObjectStore.

:class:`ChurnEngine` writes ``rate`` times per second (as an asyncio task, :meth:`ChurnEngine.run`;
every create, update and delete counts, the controllers' status writes included: what watchers
receive, one event each) or makes ``n`` changes on demand (:meth:`ChurnEngine.step`, for tests and
benchmarks). A change is one of these kinds, drawn with fixed weights (:data:`WEIGHTS`), and costs
one write or more (3.3 to 5 on average); the counter of each kind is in :meth:`ChurnEngine.stats`:

==================  ================================================================================
``lease_renew``     a Ready node's kubelet renews its Lease (``spec.renewTime``)
``node_heartbeat``  a Ready node's conditions get a new ``lastHeartbeatTime``
``node_readiness``  a node stops posting status (Ready=Unknown, ``unreachable`` taints, its pods
                    marked not ready as the node lifecycle controller does) or comes back
``pod_readiness``   a healthy pod fails its readiness probe, or a flapped pod passes it again
``pod_restart``     a container restarts: ``restartCount`` + 1, ``lastState.terminated``, a new
                    ``startedAt`` and container ID
``pod_crashloop``   a container enters CrashLoopBackOff (waiting, not ready) or starts again
``rollout``         a Deployment rollout starts (template annotation, revision + 1, a new
                    ReplicaSet; the oldest empty one is deleted) or moves one pod forward (a new
                    pod in the new ReplicaSet, an old one deleted)
``scale``           a Deployment scales up or down by one (pods created on the least loaded of two
                    Ready nodes, or deleted), within its HPA's bounds; the direction keeps the
                    total where it started
``job_complete``    a running Job's pod succeeds: the Job completes, its CronJob notes it
``cronjob_run``     a CronJob starts a Job (and its pod); finished Jobs beyond the CronJob's
                    history limits are deleted with their pods
``hpa_status``      an HPA's current metrics move (and its replica counts follow its target)
``configmap``       an application ConfigMap's data changes
``object_churn``    a namespaced object (ConfigMap, Secret, Event) is created and the oldest such
                    object deleted once there are enough; now and then a whole namespace comes or goes
==================  ================================================================================

New pods are created Pending (ContainerCreating) and start running, ready, a few changes later
(``pod_start`` in the counters; their writes count towards the rate as any other). Whatever a change does to pods is
followed by what the controllers would write, once per :meth:`ChurnEngine.flush` (after every batch
of the task, and at the end of :meth:`step`): ReplicaSet, Deployment, StatefulSet, DaemonSet and
Job status counts from their pods, the EndpointSlices and Endpoints of the Services that select
them (a deleted pod leaves them, a pod that is not ready moves to not-ready).

**Deterministic for a seed.** The engine indexes the store once, in sorted order, and draws every
choice, name, uid, pod IP and container ID from ``random.Random(seed)``; with the same store
contents, the same clock and the same calls, two engines write exactly the same objects. It keeps
a slim index (a few strings per pod), not the objects: every change is a read-modify-write of the
current object, and an object that something else deleted or changed meanwhile is dropped from
the index (``lost`` in the counters), never resurrected. The task (:meth:`ChurnEngine.run`) draws
the same changes in the same order, but its clock is the wall clock and its batches (when the
controllers catch up) follow the time each tick took: same kinds and targets, not the same bytes.

Measured (``benchmarks/churn.py``, 1,000 nodes x 30 pods, the project's 2-core VM): see
docs/simulate.md, "Churn".
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import functools
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from kubescope.errors import ConfigError
from kubescope.log import fields

if TYPE_CHECKING:
    from kubescope.sim.server import Simulator

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[str, str]
"""(namespace, name); namespace is "" for cluster-scoped objects."""
K = TypeVar("K", bound=Hashable)


class Store(Protocol):
    """The part of :class:`~kubescope.sim.store.ObjectStore` the engine writes through."""

    def create(self, res: str, obj: Obj) -> Obj: ...
    def delete(self, res: str, namespace: str, name: str) -> Obj: ...
    def get(self, res: str, namespace: str, name: str) -> Obj: ...
    def modify(self, res: str, namespace: str, name: str, fn: Callable[[Obj], None]) -> Obj: ...
    def keys(self, res: str) -> list[tuple[str, str]]: ...


WEIGHTS: dict[str, int] = {
    "lease_renew": 16,
    "node_heartbeat": 4,
    "node_readiness": 1,
    "pod_readiness": 18,
    "pod_restart": 10,
    "pod_crashloop": 5,
    "rollout": 12,
    "scale": 8,
    "job_complete": 4,
    "cronjob_run": 4,
    "hpa_status": 8,
    "configmap": 5,
    "object_churn": 5,
}
"""Relative frequency of each kind of change. Leases and pod status dominate, as in a real
cluster's watch traffic; node outages are rare."""

PODS = "pods"
NODES = "nodes"
LEASES = "leases.coordination.k8s.io"
DEPLOYMENTS = "deployments.apps"
REPLICASETS = "replicasets.apps"
STATEFULSETS = "statefulsets.apps"
DAEMONSETS = "daemonsets.apps"
JOBS = "jobs.batch"
CRONJOBS = "cronjobs.batch"
HPAS = "horizontalpodautoscalers.autoscaling"
SERVICES = "services"
SLICES = "endpointslices.discovery.k8s.io"
ENDPOINTS = "endpoints"
CONFIGMAPS = "configmaps"
SECRETS = "secrets"
EVENTS = "events"
NAMESPACES = "namespaces"

_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
"""The alphabet of generated name suffixes (kube's utilrand)."""
_HEX = "0123456789abcdef"
_NOT_READY_TAINTS = ("node.kubernetes.io/unreachable",)
_OBJECTS_KEPT = 60
"""Namespaced objects of ``object_churn`` alive at once; beyond, each creation deletes the oldest."""
_NAMESPACES_KEPT = 2
_CRON_RUNNING = 2
"""Unfinished Jobs a CronJob may have before its next run is skipped."""
_START_DELAY = 3
"""Changes between a pod's creation and its start (ContainerCreating -> Running)."""
_WINDOW = 10.0
"""Seconds over which :meth:`ChurnEngine.achieved` measures the task's write rate."""


@functools.lru_cache(maxsize=4)
def _rfc3339_second(s: int) -> str:
    return datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(t: float) -> str:
    """Seconds precision; consecutive changes mostly share a second, so the text is cached
    (formatting costs ~15 µs, a few per change)."""
    return _rfc3339_second(int(t))


def rfc3339_micro(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class IndexedSet(Generic[K]):
    """An insertion-ordered set with O(1) add, discard and uniform choice (swap-remove): the
    candidate pools the engine draws from. Order depends only on the operations, so draws are
    reproducible (a ``set`` of strings is ordered by a per-process hash)."""

    __slots__ = ("_items", "_pos")

    def __init__(self) -> None:
        self._items: list[K] = []
        self._pos: dict[K, int] = {}

    def add(self, k: K) -> None:
        if k not in self._pos:
            self._pos[k] = len(self._items)
            self._items.append(k)

    def discard(self, k: K) -> None:
        i = self._pos.pop(k, None)
        if i is None:
            return
        last = self._items.pop()
        if i < len(self._items):
            self._items[i] = last
            self._pos[last] = i

    def choice(self, rng: random.Random) -> K:
        return self._items[int(rng.random() * len(self._items))]

    def __contains__(self, k: object) -> bool:
        return k in self._pos

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))


# -- the index -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Pod:
    ns: str
    name: str
    uid: str
    node: str
    owner: tuple[str, str, str] | None
    """The controller: (resource, namespace, name)."""
    ip: str
    mode: str
    """healthy | flapped | crashing | held (its node is out) | pending (created, not started) |
    other (anything the scenario made that churn leaves alone: pending, crashlooping, finished)."""
    containers: tuple[str, ...]
    ready: bool
    services: tuple[Key, ...] = ()
    start_due: int = 0
    restartable: bool = True
    """``restartPolicy`` is not Never: its containers may restart (a Never pod's cannot)."""


@dataclass(slots=True)
class _Owner:
    res: str
    ns: str
    name: str
    uid: str
    pods: dict[Key, None] = field(default_factory=dict)
    parent: Key | None = None
    """A ReplicaSet's Deployment, a Job's CronJob."""


@dataclass(slots=True)
class _Deployment:
    ns: str
    name: str
    uid: str
    replica_sets: list[Key]
    """Oldest first; the last one is the current."""
    selector: dict[str, str]
    template: Obj
    revision: int
    paused: bool
    max_unavailable: str
    hpa: Key | None = None
    bounds: tuple[int, int] = (1, 1 << 30)
    """Replicas it may scale between: its HPA's ``minReplicas`` and ``maxReplicas``."""
    rollout: _Rollout | None = None


@dataclass(slots=True)
class _Rollout:
    old: Key
    new: Key


@dataclass(slots=True)
class _Job:
    ns: str
    name: str
    cron: Key | None
    active: bool
    """Running, with all its pods healthy: churn may complete it."""
    done: bool
    """Complete or Failed: a CronJob's history may delete it."""
    failed: bool = False
    """Failed: kept under the CronJob's ``failedJobsHistoryLimit``, not its successful one."""


@dataclass(slots=True)
class _CronJob:
    ns: str
    name: str
    uid: str
    template: Obj
    jobs: list[Key]
    keep_succeeded: int
    keep_failed: int


@dataclass(slots=True)
class _Node:
    name: str
    zone: str
    ip: str
    ready: bool
    schedulable: bool
    pods: dict[Key, None] = field(default_factory=dict)
    held: list[Key] = field(default_factory=list)


@dataclass(slots=True)
class _Service:
    ns: str
    name: str
    selector: tuple[tuple[str, str], ...]
    slices: list[str]
    endpoints: bool
    pods: dict[Key, None] = field(default_factory=dict)
    order: int = 0
    """Position in the index (name order)."""


def _is_true(conds: list[Obj] | None, typ: str) -> bool:
    return any(c.get("type") == typ and c.get("status") == "True" for c in conds or ())


def _qos(containers: list[Obj]) -> str:
    """The pod's QoS class from its containers' resources (kubelet's GetPodQOS, simplified to cpu
    and memory, which is all the generated pods use)."""
    reqs = [c.get("resources") or {} for c in containers]
    if all(not (r.get("requests") or r.get("limits")) for r in reqs):
        return "BestEffort"
    for r in reqs:
        lim, req = r.get("limits") or {}, r.get("requests") or {}
        for k in ("cpu", "memory"):
            if not lim.get(k) or req.get(k, lim[k]) != lim[k]:
                return "Burstable"
    return "Guaranteed"


class ChurnEngine:
    """See the module docstring."""

    def __init__(
        self,
        store: Store,
        seed: int,
        rate: float,
        *,
        clock: Callable[[], float] = time.time,
        weights: dict[str, int] | None = None,
    ) -> None:
        if not rate >= 0:
            raise ValueError(f"churn rate {rate} must be >= 0 (writes per second)")
        self.store = store
        self.seed = seed
        self.rate = float(rate)
        self.clock = clock
        self.rng = random.Random(seed)
        w = dict(WEIGHTS if weights is None else weights)
        unknown = set(w) - set(WEIGHTS)
        if unknown:
            raise ValueError(f"unknown churn kinds {sorted(unknown)}; known: {', '.join(WEIGHTS)}")
        self._kinds = [k for k in WEIGHTS if w.get(k, 0) > 0]
        self._cum = list(itertools.accumulate(w[k] for k in self._kinds))
        self._actions: dict[str, Callable[[], bool]] = {k: getattr(self, f"_{k}") for k in WEIGHTS}
        self.counts: collections.Counter[str] = collections.Counter()
        """Changes by kind, plus ``writes`` (store writes that changed something: one
        resourceVersion and one watch event each), ``unchanged`` (updates that changed nothing,
        which the store drops), ``lost`` (objects gone or changed under us), ``skipped`` (a drawn
        kind had nothing to act on), ``pod_start``, ``owner_sync`` and ``service_sync``
        (controller writes), ``behind`` (writes the task dropped because it could not keep up),
        ``errors`` (changes that failed unexpectedly; logged)."""
        self.steps = 0
        self._ip_seq = 0
        self._counter = itertools.count(1)
        # the index
        self.pods: dict[Key, _Pod] = {}
        self.owners: dict[tuple[str, str, str], _Owner] = {}
        self.deployments: dict[Key, _Deployment] = {}
        self.jobs: dict[Key, _Job] = {}
        self.cronjobs: dict[Key, _CronJob] = {}
        self.nodes: dict[str, _Node] = {}
        self.services: dict[Key, _Service] = {}
        self._services_by_label: dict[tuple[str, str, str], list[_Service]] = {}
        """Services by (namespace, key, value) of their selector's first pair: a pod's candidates
        are found through its labels (a scan of the namespace's Services per pod made indexing
        1,000 nodes x 30 pods take seconds)."""
        self.healthy: IndexedSet[Key] = IndexedSet()
        self.flapped: IndexedSet[Key] = IndexedSet()
        self.crashing: IndexedSet[Key] = IndexedSet()
        self.active_jobs: IndexedSet[Key] = IndexedSet()
        self.ready_nodes: IndexedSet[str] = IndexedSet()
        self.down_nodes: IndexedSet[str] = IndexedSet()
        self._schedulable: list[str] = []
        self._node_order: list[str] = []
        self._cursors: dict[str, int] = {}
        self.hpas: list[Key] = []
        self._hpa_target: dict[Key, Key] = {}
        self.configmaps: list[Key] = []
        self._namespaces: list[str] = []
        self._made_objects: collections.deque[tuple[str, Key]] = collections.deque()
        self._made_namespaces: collections.deque[str] = collections.deque()
        self._pending: collections.deque[Key] = collections.deque()
        self._scale_net = 0
        self._dirty_owners: dict[tuple[str, str, str], None] = {}
        self._dirty_services: dict[Key, None] = {}
        self._task: asyncio.Task[None] | None = None
        self._task_stopped = False
        self._window: collections.deque[tuple[float, int]] = collections.deque()
        """(loop time, writes) after each tick of the task: the achieved rate."""
        self._indexed = False
        self._rs_by_parent: dict[Key, list[str]] = {}
        self._dep_keys: list[Key] = []
        """Deployments churn may roll out or scale (not paused, with a ReplicaSet)."""
        self.rolling: IndexedSet[Key] = IndexedSet()
        self._cron_keys: list[Key] = []

    # -- indexing ----------------------------------------------------------------------------

    def _objects(self, res: str) -> Iterator[Obj]:
        for ns, name in sorted(self.store.keys(res)):
            obj = self._get(res, (ns, name))
            if obj is not None:
                yield obj

    def _get(self, res: str, key: Key) -> Obj | None:
        try:
            return self.store.get(res, key[0], key[1])
        except Exception:  # deleted between keys() and get(): nothing to index
            return None

    def index(self) -> None:
        """Read the store once (sorted, so the index is the same whatever the store's order)."""
        for o in self._objects(NODES):
            self._index_node(o)
        for o in self._objects(NAMESPACES):
            self._namespaces.append(o["metadata"]["name"])
        for o in self._objects(SERVICES):
            self._index_service(o)
        for o in self._objects(SLICES):
            meta = o["metadata"]
            svc = self.services.get(
                (meta.get("namespace", ""), (meta.get("labels") or {}).get("kubernetes.io/service-name", ""))
            )
            if svc is not None:
                svc.slices.append(meta["name"])
        for ns, name in sorted(self.store.keys(ENDPOINTS)):
            svc = self.services.get((ns, name))
            if svc is not None:
                svc.endpoints = True
        for res in (REPLICASETS, STATEFULSETS, DAEMONSETS, JOBS, "replicationcontrollers"):
            for o in self._objects(res):
                self._index_owner(res, o)
        for o in self._objects(DEPLOYMENTS):
            self._index_deployment(o)
        self._dep_keys = [k for k, d in self.deployments.items() if d.replica_sets and not d.paused]
        self._rs_by_parent.clear()
        for o in self._objects(CRONJOBS):
            self._index_cronjob(o)
        self._cron_keys = list(self.cronjobs)
        for o in self._objects(JOBS):
            self._index_job(o)
        for o in self._objects(PODS):
            self._index_pod(o)
        for o in self._objects(HPAS):
            meta, spec = o["metadata"], o.get("spec") or {}
            ref = spec.get("scaleTargetRef") or {}
            key = (meta.get("namespace", ""), meta["name"])
            self.hpas.append(key)
            target = (key[0], ref.get("name", ""))
            if ref.get("kind") == "Deployment" and target in self.deployments:
                self._hpa_target[key] = target
                d = self.deployments[target]
                d.hpa = key
                low = int(spec.get("minReplicas") or 1)
                d.bounds = (low, max(low, int(spec.get("maxReplicas") or low)))
        for o in self._objects(CONFIGMAPS):
            meta = o["metadata"]
            if "app" in (meta.get("labels") or {}):
                self.configmaps.append((meta.get("namespace", ""), meta["name"]))
        self._indexed = True
        add_hook = getattr(self.store, "add_hook", None)
        if callable(add_hook):
            # pods deleted by others (kubectl, a test) leave the index, their owners' counts and
            # their Services' endpoints, as the controllers would see it
            add_hook(PODS, self._on_pod_event)
        logger.info(
            "churn indexed the cluster",
            extra=fields(
                pods=len(self.pods),
                healthy=len(self.healthy),
                nodes=len(self.nodes),
                deployments=len(self.deployments),
                services=len(self.services),
            ),
        )

    def _index_node(self, o: Obj) -> None:
        meta, spec, status = o["metadata"], o.get("spec") or {}, o.get("status") or {}
        labels = meta.get("labels") or {}
        ip = next((a["address"] for a in status.get("addresses") or () if a.get("type") == "InternalIP"), "")
        ready = _is_true(status.get("conditions"), "Ready")
        no_schedule = any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or ())
        n = _Node(
            meta["name"],
            labels.get("topology.kubernetes.io/zone", ""),
            ip,
            ready,
            not spec.get("unschedulable") and not no_schedule,
        )
        self.nodes[n.name] = n
        self._node_order.append(n.name)
        if ready:
            self.ready_nodes.add(n.name)
            if n.schedulable:
                self._schedulable.append(n.name)

    def _index_service(self, o: Obj) -> None:
        meta, spec = o["metadata"], o.get("spec") or {}
        sel = spec.get("selector")
        if not sel:
            return
        svc = _Service(
            meta.get("namespace", ""),
            meta["name"],
            tuple(sorted(sel.items())),
            [],
            False,
            order=len(self.services),
        )
        self.services[(svc.ns, svc.name)] = svc
        k, v = svc.selector[0]
        self._services_by_label.setdefault((svc.ns, k, v), []).append(svc)

    def _index_owner(self, res: str, o: Obj) -> None:
        meta = o["metadata"]
        parent = next(
            (r for r in meta.get("ownerReferences") or () if r.get("controller")),
            None,
        )
        ns = meta.get("namespace", "")
        ow = _Owner(
            res, ns, meta["name"], meta.get("uid", ""), parent=(ns, parent["name"]) if parent else None
        )
        self.owners[(res, ns, meta["name"])] = ow
        if res == REPLICASETS and ow.parent is not None:
            self._rs_by_parent.setdefault(ow.parent, []).append(ow.name)

    def _index_deployment(self, o: Obj) -> None:
        meta, spec = o["metadata"], o.get("spec") or {}
        key = (meta.get("namespace", ""), meta["name"])
        revisions: dict[str, int] = {}
        for name in self._rs_by_parent.get(key, ()):
            rs = self._get(REPLICASETS, (key[0], name))
            if rs is None:
                continue
            ann = rs["metadata"].get("annotations") or {}
            revisions[name] = int(ann.get("deployment.kubernetes.io/revision", "0") or 0)
        ordered = sorted(revisions, key=lambda n: (revisions[n], n))
        strategy = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        self.deployments[key] = _Deployment(
            key[0],
            key[1],
            meta.get("uid", ""),
            [(key[0], n) for n in ordered],
            dict((spec.get("selector") or {}).get("matchLabels") or {}),
            spec.get("template") or {},
            int((meta.get("annotations") or {}).get("deployment.kubernetes.io/revision", "1") or 1),
            bool(spec.get("paused")),
            str(strategy.get("maxUnavailable", "25%")),
        )

    def _index_cronjob(self, o: Obj) -> None:
        meta, spec = o["metadata"], o.get("spec") or {}
        key = (meta.get("namespace", ""), meta["name"])
        if spec.get("suspend"):
            return
        self.cronjobs[key] = _CronJob(
            key[0],
            key[1],
            meta.get("uid", ""),
            ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {},
            [],
            int(spec.get("successfulJobsHistoryLimit", 3)),
            int(spec.get("failedJobsHistoryLimit", 1)),
        )

    def _index_job(self, o: Obj) -> None:
        meta, status = o["metadata"], o.get("status") or {}
        key = (meta.get("namespace", ""), meta["name"])
        cron = next(
            (
                (key[0], r["name"])
                for r in meta.get("ownerReferences") or ()
                if r.get("kind") == "CronJob" and r.get("controller")
            ),
            None,
        )
        if cron is not None and cron in self.cronjobs:
            self.cronjobs[cron].jobs.append(key)
        finished = {
            c.get("type")
            for c in status.get("conditions") or ()
            if c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        }
        done = bool(finished)
        self.jobs[key] = _Job(
            key[0], key[1], cron, not done and bool(status.get("active")), done, "Failed" in finished
        )

    def _index_pod(self, o: Obj) -> None:
        meta, spec, status = o["metadata"], o.get("spec") or {}, o.get("status") or {}
        key = (meta.get("namespace", ""), meta["name"])
        ref = next((r for r in meta.get("ownerReferences") or () if r.get("controller")), None)
        owner: tuple[str, str, str] | None = None
        if ref is not None:
            res = {
                "ReplicaSet": REPLICASETS,
                "StatefulSet": STATEFULSETS,
                "DaemonSet": DAEMONSETS,
                "Job": JOBS,
                "ReplicationController": "replicationcontrollers",
            }.get(ref.get("kind", ""))
            if res is not None and (res, key[0], ref.get("name", "")) in self.owners:
                owner = (res, key[0], ref["name"])
        cstats = status.get("containerStatuses") or []
        phase = status.get("phase", "")
        ready = _is_true(status.get("conditions"), "Ready")
        all_running = bool(cstats) and all("running" in (c.get("state") or {}) for c in cstats)
        healthy = phase == "Running" and ready and all_running and not meta.get("deletionTimestamp")
        p = _Pod(
            key[0],
            key[1],
            meta.get("uid", ""),
            spec.get("nodeName", ""),
            owner,
            status.get("podIP", ""),
            "healthy" if healthy else "other",
            tuple(c.get("name", "") for c in spec.get("containers") or ()),
            ready,
            restartable=spec.get("restartPolicy", "Always") != "Never",
        )
        p.services = self._selecting(key[0], meta.get("labels") or {})
        self._add_pod(p)
        if owner is not None and owner[0] == JOBS:
            job = self.jobs.get((key[0], owner[2]))
            if job is not None and job.active and not healthy:
                job.active = False

    def _selecting(self, ns: str, labels: dict[str, str]) -> tuple[Key, ...]:
        """The Services of ``ns`` whose selector matches ``labels``, in index order."""
        found: list[_Service] = []
        for k, v in labels.items():
            for s in self._services_by_label.get((ns, k, v), ()):
                if all(labels.get(sk) == sv for sk, sv in s.selector):
                    found.append(s)
        if len(found) > 1:
            found.sort(key=lambda s: s.order)
        return tuple((s.ns, s.name) for s in found)

    def _add_pod(self, p: _Pod) -> None:
        key = (p.ns, p.name)
        self.pods[key] = p
        if p.mode == "healthy":
            self.healthy.add(key)
        node = self.nodes.get(p.node)
        if node is not None:
            node.pods[key] = None
        if p.owner is not None:
            ow = self.owners.get(p.owner)
            if ow is not None:
                ow.pods[key] = None
                if ow.res == JOBS:
                    job = self.jobs.get((ow.ns, ow.name))
                    if job is not None and job.active and p.mode == "healthy":
                        self.active_jobs.add((ow.ns, ow.name))
        for s in p.services:
            svc = self.services.get(s)
            if svc is not None:
                svc.pods[key] = None

    def _forget_pod(self, key: Key) -> _Pod | None:
        p = self.pods.pop(key, None)
        if p is None:
            return None
        self.healthy.discard(key)
        self.flapped.discard(key)
        self.crashing.discard(key)
        node = self.nodes.get(p.node)
        if node is not None:
            node.pods.pop(key, None)
        if p.owner is not None:
            ow = self.owners.get(p.owner)
            if ow is not None:
                ow.pods.pop(key, None)
            self._dirty_owner(p.owner)
        for s in p.services:
            svc = self.services.get(s)
            if svc is not None:
                svc.pods.pop(key, None)
            self._dirty_services[s] = None
        return p

    def _on_pod_event(self, typ: str, obj: Obj) -> None:
        if typ != "DELETED" or self._task_stopped:
            return
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        p = self.pods.get(key)
        if p is not None and p.uid == meta.get("uid"):
            self._forget_pod(key)
            self.counts["pod_deleted_elsewhere"] += 1

    def _set_mode(self, p: _Pod, mode: str) -> None:
        key = (p.ns, p.name)
        for m, pool in (("healthy", self.healthy), ("flapped", self.flapped), ("crashing", self.crashing)):
            if p.mode == m:
                pool.discard(key)
            if mode == m:
                pool.add(key)
        p.mode = mode

    def _pod_changed(self, p: _Pod) -> None:
        if p.owner is not None:
            self._dirty_owner(p.owner)
        for s in p.services:
            self._dirty_services[s] = None

    def _dirty_owner(self, owner: tuple[str, str, str]) -> None:
        self._dirty_owners[owner] = None

    # -- store access ------------------------------------------------------------------------

    def _modify(self, res: str, key: Key, fn: Callable[[Obj], None]) -> Obj | None:
        seen: list[object] = []

        def change(o: Obj) -> None:
            seen.append(o["metadata"].get("resourceVersion"))
            fn(o)

        try:
            out = self.store.modify(res, key[0], key[1], change)
        except Exception as e:  # gone or refused: the world moved on without us
            self._lost(res, key, e)
            return None
        # the store keeps a no-op update's version and sends no event (kube-apiserver's
        # short-circuit): that is no write, and the rate counts writes
        if seen and seen[0] is not None and out["metadata"].get("resourceVersion") == seen[0]:
            self.counts["unchanged"] += 1
        else:
            self.counts["writes"] += 1
        return out

    def _create(self, res: str, obj: Obj) -> bool:
        try:
            self.store.create(res, obj)
        except Exception as e:
            meta = obj.get("metadata") or {}
            self._lost(res, (meta.get("namespace", ""), meta.get("name", "")), e)
            return False
        self.counts["writes"] += 1
        return True

    def _delete(self, res: str, key: Key) -> bool:
        try:
            self.store.delete(res, key[0], key[1])
        except Exception as e:
            self._lost(res, key, e)
            return False
        self.counts["writes"] += 1
        return True

    def _lost(self, res: str, key: Key, e: Exception) -> None:
        self.counts["lost"] += 1
        if res == PODS:
            self._forget_pod(key)
        if self.counts["lost"] <= 10 or self.counts["lost"] % 1000 == 0:
            logger.info(
                "churn target changed under it; dropped from the index",
                extra=fields(resource=res, namespace=key[0], name=key[1], error=repr(e)[:200]),
            )

    # -- driving -----------------------------------------------------------------------------

    def step(self, n: int = 1) -> int:
        """Make ``n`` changes now, then let the controllers catch up; returns the changes made."""
        made = self._changes(n)
        self.flush()
        return made

    def _changes(self, n: int) -> int:
        if not self._indexed:
            self.index()
        made = 0
        total = self._cum[-1] if self._cum else 0
        for _ in range(n):
            self.steps += 1
            self._start_due()
            if not total:
                continue
            for _attempt in range(4):
                kind = self._kinds[bisect.bisect_right(self._cum, self.rng.random() * total)]
                if self._actions[kind]():
                    self.counts[kind] += 1
                    made += 1
                    break
                self.counts["skipped"] += 1
        return made

    def flush(self) -> None:
        """What the controllers write after pods changed: owner status counts, then endpoints."""
        while self._dirty_owners:
            owners, self._dirty_owners = self._dirty_owners, {}
            for o in owners:
                self._sync_owner(o)
        services, self._dirty_services = self._dirty_services, {}
        for s in services:
            self._sync_service(s)

    async def run(self, tick: float = 0.05, batch: int = 100) -> None:
        """Write at ``rate`` writes per second until cancelled.

        The rate counts store writes (each one resourceVersion, one watch event), controller
        writes included, not changes: a change costs one write to a dozen (3.3 to 5 on average
        with the default weights), so each tick makes as many changes as its budget of writes allows,
        in batches of at most ``batch`` changes with the API server served in between, and
        carries what a batch over- or under-spent to the next tick: the long-run write rate is
        exact. A tick that finds more than one second's worth of budget (the loop was starved, or
        the rate is beyond what the engine can write) drops the excess and counts it as
        ``behind``: churn must not turn into a burst that starves the API server. A change that
        fails with an unexpected error is logged and counted (``errors``); churn goes on."""
        loop = asyncio.get_running_loop()
        if not self._indexed:
            self.index()
        last = loop.time()
        budget = 0.0
        per_change = 3.5
        """Writes per change, estimated as churn goes (the first batch of a tick is sized by it)."""
        self._window.append((last, self.counts["writes"]))
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            budget += self.rate * (now - last)
            last = now
            cap = max(1.0, self.rate)
            if budget > cap:
                self.counts["behind"] += int(budget - cap)
                budget = cap
            # (a rate set to 0 meanwhile stops the tick at once: a pause is exact)
            while budget >= 1 and self.rate > 0:
                before = self.counts["writes"]
                n = max(1, min(batch, int(budget / per_change)))
                made = 0
                try:
                    made = self._changes(n)
                    self.flush()
                except Exception as e:  # a bug in one change must not stop the churn
                    self.counts["errors"] += 1
                    if self.counts["errors"] <= 10 or self.counts["errors"] % 1000 == 0:
                        logger.exception("churn change failed", extra=fields(error=repr(e)[:200]))
                spent = self.counts["writes"] - before
                if made and spent:
                    per_change += (spent / made - per_change) * 0.2
                # a batch that wrote nothing (nothing to change) still costs one, so this ends
                budget -= max(1, spent)
                if budget >= 1:
                    await asyncio.sleep(0)
            if self.rate <= 0:
                budget = 0.0
            t = loop.time()
            self._window.append((t, self.counts["writes"]))
            while len(self._window) > 2 and self._window[1][0] <= t - _WINDOW:
                self._window.popleft()

    def set_rate(self, rate: float) -> None:
        """Change the rate of the running task; 0 pauses it: no write after this returns."""
        if not rate >= 0:  # also refuses NaN
            raise ValueError(f"churn rate {rate} must be >= 0 (writes per second)")
        self.rate = float(rate)

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="churn")
        return self._task

    async def stop(self) -> None:
        self._task_stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def achieved(self) -> float:
        """Writes per second of the running task over the last ``_WINDOW`` seconds (0 before
        its first tick)."""
        if len(self._window) < 2:
            return 0.0
        (t0, w0), (t1, w1) = self._window[0], self._window[-1]
        return (w1 - w0) / (t1 - t0) if t1 > t0 else 0.0

    def stats(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rate": self.rate,
            "achieved": round(self.achieved(), 1),
            "steps": self.steps,
            "changes": sum(self.counts[k] for k in WEIGHTS),
            "writes": self.counts["writes"],
            "counts": dict(sorted(self.counts.items())),
            "pods": len(self.pods),
            "healthy": len(self.healthy),
            "flapped": len(self.flapped),
            "crashing": len(self.crashing),
            "down_nodes": len(self.down_nodes),
        }

    # -- names and ids -----------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock()

    def _suffix(self, n: int = 5) -> str:
        r = self.rng.random
        return "".join(_SUFFIX[int(r() * len(_SUFFIX))] for _ in range(n))

    def _hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def _uid(self) -> str:
        h = self._hex(32)
        # a version-4 UUID, as kube-apiserver's: the version and variant nibbles fixed
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"

    def _pod_ip(self) -> str:
        self._ip_seq += 1
        s = self._ip_seq
        return f"10.{128 + (s >> 16) % 64}.{(s >> 8) & 255}.{s & 255}"

    # -- nodes -------------------------------------------------------------------------------

    def _next_ready(self, cursor: str) -> str | None:
        """The next Ready node in name order after ``cursor``'s last: kubelets renew on a period,
        so every node gets its turn."""
        order = self._node_order
        for _ in range(len(order)):
            i = self._cursors.get(cursor, 0)
            self._cursors[cursor] = (i + 1) % len(order)
            name = order[i]
            if name in self.ready_nodes:
                return name
        return None

    def _lease_renew(self) -> bool:
        name = self._next_ready("lease")
        if name is None:
            return False
        stamp = rfc3339_micro(self._now())

        def renew(o: Obj) -> None:
            o.setdefault("spec", {})["renewTime"] = stamp

        return self._modify(LEASES, ("kube-node-lease", name), renew) is not None

    def _node_heartbeat(self) -> bool:
        name = self._next_ready("heartbeat")
        if name is None:
            return False
        stamp = rfc3339(self._now())

        def beat(o: Obj) -> None:
            for c in (o.get("status") or {}).get("conditions") or ():
                c["lastHeartbeatTime"] = stamp

        return self._modify(NODES, ("", name), beat) is not None

    def _node_readiness(self) -> bool:
        cap = max(1, len(self.nodes) // 50)
        if self.down_nodes and (len(self.down_nodes) >= cap or self.rng.random() < 0.5):
            return self._node_up(self.down_nodes.choice(self.rng))
        candidates = [n for n in self._schedulable if n in self.ready_nodes]
        if not candidates or len(self.ready_nodes) <= 1:
            return False
        return self._node_down(candidates[int(self.rng.random() * len(candidates))])

    def _node_down(self, name: str) -> bool:
        now = rfc3339(self._now())

        def down(o: Obj) -> None:
            status = o.setdefault("status", {})
            for c in status.get("conditions") or ():
                c["status"] = "Unknown"
                c["reason"] = "NodeStatusUnknown"
                c["message"] = "Kubelet stopped posting node status."
                c["lastTransitionTime"] = now
            taints = [
                t for t in (o.get("spec") or {}).get("taints") or () if t.get("key") not in _NOT_READY_TAINTS
            ]
            taints.append({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"})
            taints.append({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": now})
            o.setdefault("spec", {})["taints"] = taints

        if self._modify(NODES, ("", name), down) is None:
            return False
        node = self.nodes[name]
        node.ready = False
        self.ready_nodes.discard(name)
        self.down_nodes.add(name)
        # the node lifecycle controller marks the node's pods not ready
        for key in list(node.pods):
            p = self.pods.get(key)
            if p is None or p.mode != "healthy":
                continue
            if self._write_ready(p, False, node_lost=True):
                self._set_mode(p, "held")
                node.held.append(key)
        return True

    def _node_up(self, name: str) -> bool:
        now = rfc3339(self._now())
        good = {
            "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
            "MemoryPressure": (
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            "NetworkUnavailable": ("False", "RouteCreated", "RouteController created a route"),
        }

        def up(o: Obj) -> None:
            for c in (o.get("status") or {}).get("conditions") or ():
                st, reason, msg = good.get(c.get("type", ""), ("False", "", ""))
                c.update(status=st, reason=reason, message=msg, lastTransitionTime=now, lastHeartbeatTime=now)
            spec = o.setdefault("spec", {})
            taints = [t for t in spec.get("taints") or () if t.get("key") not in _NOT_READY_TAINTS]
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)

        if self._modify(NODES, ("", name), up) is None:
            return False
        node = self.nodes[name]
        node.ready = True
        self.down_nodes.discard(name)
        self.ready_nodes.add(name)
        held, node.held = node.held, []
        for key in held:
            p = self.pods.get(key)
            if p is not None and p.mode == "held" and self._write_ready(p, True):
                self._set_mode(p, "healthy")
        return True

    def _place(self) -> str | None:
        """The less loaded of two random Ready, schedulable nodes (the scheduler's spreading, cheaply)."""
        nodes = self._schedulable
        if not nodes:
            return None
        best: _Node | None = None
        for _ in range(2):
            for _try in range(4):
                n = self.nodes[nodes[int(self.rng.random() * len(nodes))]]
                if n.ready:
                    break
            else:
                continue
            if best is None or len(n.pods) < len(best.pods):
                best = n
        return best.name if best is not None else None

    # -- pod status --------------------------------------------------------------------------

    def _write_ready(self, p: _Pod, ready: bool, node_lost: bool = False) -> bool:
        """Pass or fail the pod's readiness. ``node_lost``: the node lifecycle controller's
        MarkPodsNotReady, which flips only the pod's Ready condition."""
        now = rfc3339(self._now())
        flag = "True" if ready else "False"
        types = ("Ready",) if node_lost else ("Ready", "ContainersReady")

        def set_ready(o: Obj) -> None:
            status = o.setdefault("status", {})
            cstats = status.get("containerStatuses") or []
            names = " ".join(c.get("name", "") for c in cstats)
            for c in status.get("conditions") or ():
                if c.get("type") in types and c.get("status") != flag:
                    c["status"] = flag
                    c["lastTransitionTime"] = now
                    c.pop("reason", None)
                    c.pop("message", None)
                    if not ready and not node_lost:
                        c["reason"] = "ContainersNotReady"
                        c["message"] = f"containers with unready status: [{names}]"
            if not node_lost:
                for c in cstats:
                    c["ready"] = ready and "running" in (c.get("state") or {})

        if self._modify(PODS, (p.ns, p.name), set_ready) is None:
            return False
        p.ready = ready
        self._pod_changed(p)
        return True

    def _pod_readiness(self) -> bool:
        cap = max(1, len(self.pods) // 50)
        if self.flapped and (len(self.flapped) >= cap or self.rng.random() < 0.5):
            p = self.pods[self.flapped.choice(self.rng)]
            if self._write_ready(p, True):
                self._set_mode(p, "healthy")
                return True
            return False
        if not self.healthy:
            return False
        p = self.pods[self.healthy.choice(self.rng)]
        if self._write_ready(p, False):
            self._set_mode(p, "flapped")
            return True
        return False

    def _terminated(self, c: Obj, now: str, exit_code: int, reason: str) -> Obj:
        running = (c.get("state") or {}).get("running") or {}
        t: Obj = {
            "exitCode": exit_code,
            "reason": reason,
            "startedAt": running.get("startedAt", now),
            "finishedAt": now,
        }
        if c.get("containerID"):
            t["containerID"] = c["containerID"]
        return {"terminated": t}

    def _pod_restart(self) -> bool:
        if not self.healthy:
            return False
        p = self.pods[self.healthy.choice(self.rng)]
        if not p.restartable:
            return False  # a Never pod's container that exits stays terminated (redrawn)
        i = int(self.rng.random() * max(1, len(p.containers)))
        now = rfc3339(self._now())
        exit_code, reason = self.rng.choice(((137, "OOMKilled"), (1, "Error"), (2, "Error"), (143, "Error")))
        cid = f"containerd://{self._hex(64)}"

        def restart(o: Obj) -> None:
            cstats = (o.get("status") or {}).get("containerStatuses") or []
            if i >= len(cstats):
                return
            c = cstats[i]
            c["lastState"] = self._terminated(c, now, exit_code, reason)
            c["state"] = {"running": {"startedAt": now}}
            c["restartCount"] = int(c.get("restartCount", 0)) + 1
            c["containerID"] = cid
            c["started"] = True

        # readiness and the pod's IP stay: owners' counts and endpoints have nothing to follow
        return self._modify(PODS, (p.ns, p.name), restart) is not None

    def _pod_crashloop(self) -> bool:
        cap = max(1, len(self.pods) // 100)
        now = rfc3339(self._now())
        if self.crashing and (len(self.crashing) >= cap or self.rng.random() < 0.5):
            p = self.pods[self.crashing.choice(self.rng)]
            cid = f"containerd://{self._hex(64)}"

            def recover(o: Obj) -> None:
                status = o.setdefault("status", {})
                for c in status.get("containerStatuses") or ():
                    if "waiting" in (c.get("state") or {}):
                        c["state"] = {"running": {"startedAt": now}}
                        c["restartCount"] = int(c.get("restartCount", 0)) + 1
                        c["containerID"] = cid
                        c["started"] = True
                    c["ready"] = True
                for c in status.get("conditions") or ():
                    if c.get("type") in ("Ready", "ContainersReady") and c.get("status") != "True":
                        c.update(status="True", lastTransitionTime=now)
                        c.pop("reason", None)
                        c.pop("message", None)

            if self._modify(PODS, (p.ns, p.name), recover) is None:
                return False
            p.ready = True
            self._set_mode(p, "healthy")
            self._pod_changed(p)
            return True
        if not self.healthy:
            return False
        p = self.pods[self.healthy.choice(self.rng)]
        if not p.restartable:
            return False
        exit_code, reason = self.rng.choice(((1, "Error"), (137, "OOMKilled"), (139, "Error")))

        def crash(o: Obj) -> None:
            status = o.setdefault("status", {})
            cstats = status.get("containerStatuses") or []
            if not cstats:
                return
            c = cstats[0]
            c["lastState"] = self._terminated(c, now, exit_code, reason)
            c["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 10s restarting failed container={c.get('name', '')} "
                    f"pod={p.name}_{p.ns}({p.uid})",
                }
            }
            c["restartCount"] = int(c.get("restartCount", 0)) + 1
            c["ready"] = False
            c["started"] = False
            for cond in status.get("conditions") or ():
                if cond.get("type") in ("Ready", "ContainersReady") and cond.get("status") == "True":
                    cond.update(
                        status="False",
                        lastTransitionTime=now,
                        reason="ContainersNotReady",
                        message=f"containers with unready status: [{c.get('name', '')}]",
                    )

        if self._modify(PODS, (p.ns, p.name), crash) is None:
            return False
        p.ready = False
        self._set_mode(p, "crashing")
        self._pod_changed(p)
        return True

    # -- pod creation and deletion -----------------------------------------------------------

    def _new_pod(
        self,
        ns: str,
        name: str,
        labels: dict[str, str],
        owner: tuple[str, str, str],
        owner_kind: str,
        owner_api: str,
        template_spec: Obj,
        restart_policy: str = "Always",
    ) -> bool:
        node = self._place()
        if node is None:
            return False
        ow = self.owners.get(owner)
        if ow is None:
            return False
        now_t = self._now()
        now = rfc3339(now_t)
        uid = self._uid()
        containers = list(template_spec.get("containers") or ())
        spec: Obj = {
            "restartPolicy": restart_policy,
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "enableServiceLinks": True,
            "priority": 0,
            "preemptionPolicy": "PreemptLowerPriority",
            **{k: v for k, v in template_spec.items() if k != "restartPolicy"},
            "nodeName": node,
        }
        if restart_policy == "Never":
            spec["restartPolicy"] = "Never"
        host_ip = self.nodes[node].ip
        unready = " ".join(c.get("name", "") for c in containers)
        obj: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "generateName": name[: name.rfind("-") + 1],
                "namespace": ns,
                "uid": uid,
                "creationTimestamp": now,
                "labels": dict(labels),
                "ownerReferences": [
                    {
                        "apiVersion": owner_api,
                        "kind": owner_kind,
                        "name": owner[2],
                        "uid": ow.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": spec,
            "status": {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodReadyToStartContainers",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": now,
                    },
                    {
                        "type": "Initialized",
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": now,
                    },
                    {
                        "type": "Ready",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": now,
                        "reason": "ContainersNotReady",
                        "message": f"containers with unready status: [{unready}]",
                    },
                    {
                        "type": "ContainersReady",
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": now,
                        "reason": "ContainersNotReady",
                        "message": f"containers with unready status: [{unready}]",
                    },
                    {
                        "type": "PodScheduled",
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": now,
                    },
                ],
                "hostIP": host_ip,
                "hostIPs": [{"ip": host_ip}] if host_ip else [],
                "startTime": now,
                "qosClass": _qos(containers),
                "containerStatuses": [
                    {
                        "name": c.get("name", ""),
                        "state": {"waiting": {"reason": "ContainerCreating"}},
                        "lastState": {},
                        "ready": False,
                        "restartCount": 0,
                        "image": c.get("image", ""),
                        "imageID": "",
                        "started": False,
                    }
                    for c in containers
                ],
            },
        }
        if not self._create(PODS, obj):
            return False
        p = _Pod(
            ns,
            name,
            uid,
            node,
            owner,
            "",
            "pending",
            tuple(c.get("name", "") for c in containers),
            False,
            restartable=restart_policy != "Never",
        )
        p.services = self._selecting(ns, labels)
        p.start_due = self.steps + _START_DELAY
        self._add_pod(p)
        self._pending.append((ns, name))
        self._pod_changed(p)
        return True

    def _start_due(self) -> None:
        while self._pending:
            key = self._pending[0]
            p = self.pods.get(key)
            if p is not None and p.start_due > self.steps:
                return
            self._pending.popleft()
            if p is None or p.mode != "pending":
                continue
            self._start_pod(p)

    def _start_pod(self, p: _Pod) -> None:
        now = rfc3339(self._now())
        ip = self._pod_ip()

        def start(o: Obj) -> None:
            status = o.setdefault("status", {})
            status["phase"] = "Running"
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
            for c in status.get("conditions") or ():
                if c.get("status") != "True":
                    c.update(status="True", lastTransitionTime=now)
                    c.pop("reason", None)
                    c.pop("message", None)
            for c in status.get("containerStatuses") or ():
                image = c.get("image", "")
                c["state"] = {"running": {"startedAt": now}}
                c["ready"] = True
                c["started"] = True
                c["containerID"] = f"containerd://{self._hex(64)}"
                c["imageID"] = f"{image.rsplit(':', 1)[0]}@sha256:{self._hex(64)}"

        if self._modify(PODS, (p.ns, p.name), start) is None:
            return
        self.counts["pod_start"] += 1
        p.ip = ip
        p.ready = True
        node = self.nodes.get(p.node)
        # started on a node that went down since: the lifecycle controller holds it
        if node is not None and not node.ready and self._write_ready(p, False, node_lost=True):
            self._set_mode(p, "held")
            node.held.append((p.ns, p.name))
            return
        self._set_mode(p, "healthy")
        self._pod_changed(p)
        if p.owner is not None and p.owner[0] == JOBS:
            job = self.jobs.get((p.owner[1], p.owner[2]))
            if job is not None and job.active:
                self.active_jobs.add((job.ns, job.name))

    def _delete_pod(self, key: Key) -> bool:
        # forget first: the store's hook then finds nothing of ours to forget
        p = self._forget_pod(key)
        if not self._delete(PODS, key):
            return False
        return p is not None

    # -- deployments -------------------------------------------------------------------------

    def _rs_pods(self, rs: Key) -> dict[Key, None]:
        ow = self.owners.get((REPLICASETS, rs[0], rs[1]))
        return ow.pods if ow is not None else {}

    def _idle_deployment(self) -> _Deployment | None:
        """A random deployment with no rollout under way (a few draws, not a scan: the pool is
        large and mostly idle)."""
        keys = self._dep_keys
        for _ in range(8):
            if not keys:
                return None
            i = int(self.rng.random() * len(keys))
            d = self.deployments.get(keys[i])
            if d is None:
                keys[i] = keys[-1]
                keys.pop()
                continue
            if d.rollout is None:
                return d
        return None

    def _rollout(self) -> bool:
        cap = max(1, len(self.deployments) // 40)
        if self.rolling and (len(self.rolling) >= cap or self.rng.random() < 0.7):
            return self._rollout_step(self.deployments[self.rolling.choice(self.rng)])
        d = self._idle_deployment()
        return d is not None and self._rollout_start(d)

    def _rollout_start(self, d: _Deployment) -> bool:
        cur = d.replica_sets[-1]
        now_t = self._now()
        now = rfc3339(now_t)
        revision = d.revision + 1
        pth = self._hex(10)
        rs_name = f"{d.name}-{pth}"
        if (cur[0], rs_name) in d.replica_sets:
            return False
        template = _deep(d.template)
        tmeta = template.setdefault("metadata", {})
        tmeta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = now

        def bump(o: Obj) -> None:
            o["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(revision)
            o.setdefault("spec", {})["template"] = _deep(template)
            for c in (o.get("status") or {}).get("conditions") or ():
                if c.get("type") == "Progressing":
                    c.update(
                        status="True",
                        reason="ReplicaSetUpdated",
                        message=f'ReplicaSet "{rs_name}" is progressing.',
                        lastUpdateTime=now,
                    )

        if self._modify(DEPLOYMENTS, (d.ns, d.name), bump) is None:
            self._forget_deployment(d)
            return False
        d.template = template
        d.revision = revision
        # the deployment controller keeps revisionHistoryLimit old sets; we keep one old set, so
        # the number of ReplicaSets stays where the scenario put it
        while len(d.replica_sets) >= 2:
            old = d.replica_sets[0]
            if self._rs_pods(old):
                break
            if self._delete(REPLICASETS, old):
                self.owners.pop((REPLICASETS, old[0], old[1]), None)
            d.replica_sets.pop(0)
        rs_uid = self._uid()
        labels = dict((template.get("metadata") or {}).get("labels") or {}, **{"pod-template-hash": pth})
        rs_template = _deep(template)
        rs_template.setdefault("metadata", {})["labels"] = dict(labels)
        replicas = len(self._rs_pods(cur))
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": d.ns,
                "uid": rs_uid,
                "creationTimestamp": now,
                "generation": 1,
                "labels": dict(labels),
                "annotations": {
                    "deployment.kubernetes.io/revision": str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas + max(1, replicas // 4)),
                },
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": d.name,
                        "uid": d.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": dict(d.selector, **{"pod-template-hash": pth})},
                "template": rs_template,
            },
            "status": {"replicas": 0, "observedGeneration": 1},
        }
        if not self._create(REPLICASETS, rs):
            return False
        new = (d.ns, rs_name)
        self.owners[(REPLICASETS, d.ns, rs_name)] = _Owner(
            REPLICASETS, d.ns, rs_name, rs_uid, parent=(d.ns, d.name)
        )
        d.replica_sets.append(new)
        d.rollout = _Rollout(cur, new)
        self.rolling.add((d.ns, d.name))
        # the template changed (generation + 1): the controller observes it at once
        self._dirty_owner((DEPLOYMENTS, d.ns, d.name))
        if not self._rs_pods(cur):
            self._rollout_finish(d)
        return True

    def _set_rs_replicas(self, rs: Key, delta: int) -> None:
        def scale(o: Obj) -> None:
            spec = o.setdefault("spec", {})
            spec["replicas"] = max(0, int(spec.get("replicas", 0)) + delta)

        self._modify(REPLICASETS, rs, scale)
        self._dirty_owner((REPLICASETS, rs[0], rs[1]))

    def _rollout_step(self, d: _Deployment) -> bool:
        ro = d.rollout
        if ro is None:
            return False
        old_pods = self._rs_pods(ro.old)
        if not old_pods:
            self._rollout_finish(d)
            return True
        new_rs = self.owners.get((REPLICASETS, ro.new[0], ro.new[1]))
        if new_rs is None:
            d.rollout = None
            self.rolling.discard((d.ns, d.name))
            return False
        template = d.template.get("spec") or {}
        labels = dict(
            (d.template.get("metadata") or {}).get("labels") or {},
            **{"pod-template-hash": ro.new[1][len(d.name) + 1 :]},
        )
        if not self._new_pod(
            d.ns,
            f"{ro.new[1]}-{self._suffix()}",
            labels,
            (REPLICASETS, d.ns, ro.new[1]),
            "ReplicaSet",
            "apps/v1",
            template,
        ):
            return False
        self._set_rs_replicas(ro.new, 1)
        # old pods go not-ready ones first, as the controller's ranking does
        victim = next((k for k in old_pods if self.pods[k].mode != "healthy"), None) or next(iter(old_pods))
        if self._delete_pod(victim):
            self._set_rs_replicas(ro.old, -1)
        if not self._rs_pods(ro.old):
            self._rollout_finish(d)
        return True

    def _rollout_finish(self, d: _Deployment) -> None:
        ro = d.rollout
        d.rollout = None
        self.rolling.discard((d.ns, d.name))
        if ro is None:
            return
        now = rfc3339(self._now())

        def done(o: Obj) -> None:
            for c in (o.get("status") or {}).get("conditions") or ():
                if c.get("type") == "Progressing":
                    c.update(
                        status="True",
                        reason="NewReplicaSetAvailable",
                        message=f'ReplicaSet "{ro.new[1]}" has successfully progressed.',
                        lastUpdateTime=now,
                    )

        self._modify(DEPLOYMENTS, (d.ns, d.name), done)
        self._dirty_owner((DEPLOYMENTS, d.ns, d.name))

    def _scale(self) -> bool:
        up = self._scale_net < 0 or (self._scale_net == 0 and self.rng.random() < 0.5)
        d = self._idle_deployment()
        if d is None:
            return False
        cur = d.replica_sets[-1]
        pods = self._rs_pods(cur)
        if not up and len(pods) <= 1:
            return False
        # an autoscaled Deployment stays within its HPA's bounds (redrawn otherwise)
        total = sum(len(self._rs_pods(rs)) for rs in d.replica_sets)
        at_bound = total >= d.bounds[1] if up else total <= d.bounds[0]
        if at_bound:
            return False
        delta = 1 if up else -1
        if up:
            labels = dict(
                (d.template.get("metadata") or {}).get("labels") or {},
                **{"pod-template-hash": cur[1][len(d.name) + 1 :]},
            )
            if not self._new_pod(
                d.ns,
                f"{cur[1]}-{self._suffix()}",
                labels,
                (REPLICASETS, d.ns, cur[1]),
                "ReplicaSet",
                "apps/v1",
                d.template.get("spec") or {},
            ):
                return False
        else:
            victim = next((k for k in pods if self.pods[k].mode != "healthy"), None) or next(iter(pods))
            if not self._delete_pod(victim):
                return False

        def scale(o: Obj) -> None:
            spec = o.setdefault("spec", {})
            spec["replicas"] = max(0, int(spec.get("replicas", 1)) + delta)

        if self._modify(DEPLOYMENTS, (d.ns, d.name), scale) is None:
            self._forget_deployment(d)
        self._set_rs_replicas(cur, delta)
        self._scale_net += delta
        if d.hpa is not None:
            self._hpa_write(d.hpa, scaled=True)
        return True

    def _forget_deployment(self, d: _Deployment) -> None:
        self.deployments.pop((d.ns, d.name), None)
        self.rolling.discard((d.ns, d.name))

    # -- jobs --------------------------------------------------------------------------------

    def _job_complete(self) -> bool:
        if not self.active_jobs:
            return False
        key = self.active_jobs.choice(self.rng)
        job = self.jobs[key]
        ow = self.owners.get((JOBS, key[0], key[1]))
        pods = [self.pods[k] for k in (ow.pods if ow else ()) if k in self.pods]
        if not pods or any(p.mode != "healthy" for p in pods):
            self.active_jobs.discard(key)
            return False
        now = rfc3339(self._now())
        for p in pods:

            def succeed(o: Obj) -> None:
                status = o.setdefault("status", {})
                status["phase"] = "Succeeded"
                for c in status.get("conditions") or ():
                    if c.get("type") in ("Ready", "ContainersReady"):
                        c.update(status="False", reason="PodCompleted", lastTransitionTime=now)
                        c.pop("message", None)
                    elif c.get("type") == "PodReadyToStartContainers":
                        c.update(status="False", lastTransitionTime=now)
                for c in status.get("containerStatuses") or ():
                    c["lastState"] = c.get("lastState") or {}
                    c["state"] = self._terminated(c, now, 0, "Completed")
                    c["ready"] = False
                    c["started"] = False

            if self._modify(PODS, (p.ns, p.name), succeed) is None:
                return False
            p.ready = False
            self._set_mode(p, "other")
            self._pod_changed(p)

        def complete(o: Obj) -> None:
            status = o.setdefault("status", {})
            status.update(ready=0, succeeded=len(pods), terminating=0, completionTime=now)
            status["uncountedTerminatedPods"] = {}
            conds = [
                c
                for c in status.get("conditions") or ()
                if c.get("type") not in ("SuccessCriteriaMet", "Complete")
            ]
            for typ in ("SuccessCriteriaMet", "Complete"):
                conds.append({"type": typ, "status": "True", "lastProbeTime": now, "lastTransitionTime": now})
            status["conditions"] = conds
            status.pop("active", None)

        self.active_jobs.discard(key)
        job.active = False
        job.done = True
        if self._modify(JOBS, key, complete) is None:
            return False
        if job.cron is not None:
            cname = key[1]

            def noted(o: Obj) -> None:
                status = o.setdefault("status", {})
                active = [r for r in status.get("active") or () if r.get("name") != cname]
                if active:
                    status["active"] = active
                else:
                    status.pop("active", None)
                status["lastSuccessfulTime"] = now

            self._modify(CRONJOBS, job.cron, noted)
            # the CronJob controller cleans up its history when a Job finishes, not at the next run
            cj = self.cronjobs.get(job.cron)
            if cj is not None:
                self._prune_jobs(cj)
        return True

    def _cronjob_run(self) -> bool:
        keys = self._cron_keys
        if not keys:
            return False
        cj = self.cronjobs[keys[int(self.rng.random() * len(keys))]]
        if sum(1 for k in cj.jobs if k in self.jobs and not self.jobs[k].done) >= _CRON_RUNNING:
            return False  # the schedule outpaces the jobs: the next run waits (concurrencyPolicy Forbid)
        now_t = self._now()
        now = rfc3339(now_t)
        minute = int(now_t) // 60
        name = f"{cj.name}-{minute}"
        while (cj.ns, name) in self.jobs:
            minute += 1
            name = f"{cj.name}-{minute}"
        uid = self._uid()
        tspec = cj.template.get("spec") or {}
        labels = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
        job: Obj = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": cj.ns,
                "uid": uid,
                "creationTimestamp": now,
                "generation": 1,
                "labels": dict(labels),
                "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": now},
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": cj.name,
                        "uid": cj.uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "parallelism": 1,
                "completions": 1,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "suspend": False,
                "manualSelector": False,
                "podReplacementPolicy": "TerminatingOrFailed",
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                "template": {"metadata": {"labels": dict(labels)}, "spec": _deep(tspec)},
            },
            "status": {
                "startTime": now,
                "active": 1,
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
            },
        }
        if not self._create(JOBS, job):
            return False
        key = (cj.ns, name)
        self.jobs[key] = _Job(cj.ns, name, (cj.ns, cj.name), True, False)
        self.owners[(JOBS, cj.ns, name)] = _Owner(JOBS, cj.ns, name, uid, parent=(cj.ns, cj.name))
        cj.jobs.append(key)
        self._new_pod(
            cj.ns, f"{name}-{self._suffix()}", labels, (JOBS, cj.ns, name), "Job", "batch/v1", tspec, "Never"
        )
        ref = {"apiVersion": "batch/v1", "kind": "Job", "name": name, "namespace": cj.ns, "uid": uid}

        def scheduled(o: Obj) -> None:
            status = o.setdefault("status", {})
            status["active"] = [*(status.get("active") or ()), ref]
            status["lastScheduleTime"] = now

        self._modify(CRONJOBS, (cj.ns, cj.name), scheduled)
        self._prune_jobs(cj)
        return True

    def _prune_jobs(self, cj: _CronJob) -> None:
        """The CronJob controller's history: the oldest finished Jobs beyond
        ``successfulJobsHistoryLimit`` (Complete) and ``failedJobsHistoryLimit`` (Failed) go."""
        doomed: list[Key] = []
        for failed, keep in ((False, cj.keep_succeeded), (True, cj.keep_failed)):
            finished = [
                k for k in cj.jobs if k in self.jobs and self.jobs[k].done and self.jobs[k].failed == failed
            ]
            doomed += finished[: max(0, len(finished) - keep)]
        for key in doomed:
            ow = self.owners.pop((JOBS, key[0], key[1]), None)
            for pk in list(ow.pods if ow else ()):
                self._delete_pod(pk)
            self._delete(JOBS, key)
            self.jobs.pop(key, None)
            self.active_jobs.discard(key)
            cj.jobs.remove(key)

    # -- autoscalers, config, objects ----------------------------------------------------------

    def _hpa_status(self) -> bool:
        if not self.hpas:
            return False
        return self._hpa_write(self.hpas[int(self.rng.random() * len(self.hpas))], scaled=False)

    def _hpa_write(self, key: Key, scaled: bool) -> bool:
        target = self._hpa_target.get(key)
        replicas: int | None = None
        if target is not None and target in self.deployments:
            d = self.deployments[target]
            replicas = sum(len(self._rs_pods(rs)) for rs in d.replica_sets)
        step = int(self.rng.random() * 21) - 10
        mem = 100 + int(self.rng.random() * 500)
        now = rfc3339(self._now())

        def move(o: Obj) -> None:
            status = o.setdefault("status", {})
            for m in status.get("currentMetrics") or ():
                res = m.get("resource") or {}
                cur = res.get("current")
                if res.get("name") == "cpu" and cur is not None:
                    util = min(300, max(1, int(cur.get("averageUtilization", 50)) + step))
                    cur["averageUtilization"] = util
                    cur["averageValue"] = f"{util * 2}m"
                elif res.get("name") == "memory" and cur is not None:
                    cur["averageValue"] = f"{mem}Mi"
            if replicas is not None:
                if scaled:
                    status["lastScaleTime"] = now
                status["currentReplicas"] = replicas
                status["desiredReplicas"] = replicas

        return self._modify(HPAS, key, move) is not None

    def _configmap(self) -> bool:
        if not self.configmaps:
            return False
        key = self.configmaps[int(self.rng.random() * len(self.configmaps))]
        n = next(self._counter)

        def edit(o: Obj) -> None:
            data = o.setdefault("data", {})
            data["churn-revision"] = str(n)

        if self._modify(CONFIGMAPS, key, edit) is None:
            self.configmaps.remove(key)
            return False
        return True

    def _object_churn(self) -> bool:
        if self.rng.random() < 0.05:
            return self._namespace_churn()
        app_ns = [
            n for n in self._namespaces if not n.startswith("kube-") and n != "default"
        ] or self._namespaces
        if not app_ns:
            return False
        ns = app_ns[int(self.rng.random() * len(app_ns))]
        n = next(self._counter)
        now_t = self._now()
        now = rfc3339(now_t)
        kind = self.rng.choice((CONFIGMAPS, SECRETS, EVENTS))
        meta: Obj = {"namespace": ns, "uid": self._uid(), "creationTimestamp": now}
        obj: Obj
        if kind == CONFIGMAPS:
            meta["name"] = f"churn-{n}"
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"n": str(n)}}
        elif kind == SECRETS:
            meta["name"] = f"churn-{n}"
            obj = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": meta,
                "data": {"n": "Y2h1cm4="},
            }
        else:
            p = self.pods[self.healthy.choice(self.rng)] if self.healthy else None
            meta["name"] = f"{p.name if p else 'churn'}.{self._hex(16)}"
            reason, typ, msg = self.rng.choice(
                (
                    ("Pulled", "Normal", "Container image already present on machine"),
                    ("Started", "Normal", "Started container"),
                    ("BackOff", "Warning", "Back-off restarting failed container"),
                    (
                        "Unhealthy",
                        "Warning",
                        "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    ),
                )
            )
            obj = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": meta,
                "involvedObject": {
                    "kind": "Pod",
                    "namespace": p.ns if p else ns,
                    "name": p.name if p else "churn",
                    "uid": p.uid if p else "",
                    "apiVersion": "v1",
                },
                "reason": reason,
                "message": msg,
                "type": typ,
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": "kubelet", "host": p.node if p else ""},
                "reportingComponent": "kubelet",
                "reportingInstance": p.node if p else "",
            }
            if p is not None:
                meta["namespace"] = p.ns
        if not self._create(kind, obj):
            return False
        self._made_objects.append((kind, (meta["namespace"], meta["name"])))
        while len(self._made_objects) > _OBJECTS_KEPT:
            res, key = self._made_objects.popleft()
            self._delete(res, key)
        return True

    def _namespace_churn(self) -> bool:
        if len(self._made_namespaces) >= _NAMESPACES_KEPT or (
            self._made_namespaces and self.rng.random() < 0.5
        ):
            name = self._made_namespaces.popleft()
            self._made_objects = collections.deque(o for o in self._made_objects if o[1][0] != name)
            if name in self._namespaces:
                self._namespaces.remove(name)
            # the namespace controller empties it first (each deletion is a write of its own)
            self._delete("serviceaccounts", (name, "default"))
            return self._delete(NAMESPACES, ("", name))
        name = f"churn-{self._suffix(8)}"
        now = rfc3339(self._now())
        ns: Obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": self._uid(),
                "creationTimestamp": now,
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        if not self._create(NAMESPACES, ns):
            return False
        self._made_namespaces.append(name)
        self._create(
            "serviceaccounts",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": "default",
                    "namespace": name,
                    "uid": self._uid(),
                    "creationTimestamp": now,
                },
            },
        )
        return True

    # -- controllers -------------------------------------------------------------------------

    def _sync_owner(self, key: tuple[str, str, str]) -> None:
        res, ns, name = key
        if res == DEPLOYMENTS:
            self._sync_deployment((ns, name))
            return
        ow = self.owners.get(key)
        if ow is None:
            return
        pods = [self.pods[k] for k in ow.pods if k in self.pods]
        total = len(pods)
        ready = sum(1 for p in pods if p.ready)
        running = sum(1 for p in pods if p.mode != "other")
        fn: Callable[[Obj], None]
        if res == REPLICASETS:

            def fn(o: Obj) -> None:
                o.setdefault("status", {}).update(
                    replicas=total,
                    fullyLabeledReplicas=total,
                    readyReplicas=ready,
                    availableReplicas=ready,
                    observedGeneration=o["metadata"].get("generation", 1),
                )
                for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
                    if not o["status"][k]:
                        del o["status"][k]

            if ow.parent is not None:
                self._dirty_owners[(DEPLOYMENTS, ow.parent[0], ow.parent[1])] = None
        elif res == STATEFULSETS:

            def fn(o: Obj) -> None:
                o.setdefault("status", {}).update(
                    replicas=total,
                    readyReplicas=ready,
                    availableReplicas=ready,
                    currentReplicas=total,
                    updatedReplicas=total,
                )

        elif res == DAEMONSETS:

            def fn(o: Obj) -> None:
                st = o.setdefault("status", {})
                desired = int(st.get("desiredNumberScheduled", total))
                st.update(
                    currentNumberScheduled=total,
                    numberReady=ready,
                    numberAvailable=ready,
                    numberUnavailable=max(0, desired - ready),
                )

        elif res == JOBS:
            job = self.jobs.get((ns, name))
            if job is None or job.done:
                return

            def fn(o: Obj) -> None:
                o.setdefault("status", {}).update(active=running, ready=ready)

        else:
            return
        if self._modify(res, (ns, name), fn) is not None:
            self.counts["owner_sync"] += 1

    def _sync_deployment(self, key: Key) -> None:
        d = self.deployments.get(key)
        if d is None:
            return
        total = ready = updated = 0
        for rs in d.replica_sets:
            for k in self._rs_pods(rs):
                p = self.pods.get(k)
                if p is None:
                    continue
                total += 1
                ready += p.ready
                if rs == d.replica_sets[-1]:
                    updated += 1
        now = rfc3339(self._now())
        max_unavailable = d.max_unavailable

        def fn(o: Obj) -> None:
            spec, st = o.get("spec") or {}, o.setdefault("status", {})
            want = int(spec.get("replicas", 1))
            if max_unavailable.endswith("%"):
                allowed = want * int(max_unavailable[:-1] or 0) // 100
            else:
                allowed = int(max_unavailable or 0)
            st.update(
                observedGeneration=o["metadata"].get("generation", 1),
                replicas=total,
                updatedReplicas=updated,
                readyReplicas=ready,
                availableReplicas=ready,
                unavailableReplicas=max(0, want - ready),
            )
            for k in ("readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas"):
                if not st[k]:
                    del st[k]
            available = ready >= want - allowed
            for c in st.get("conditions") or ():
                if c.get("type") == "Available" and (c.get("status") == "True") != available:
                    c.update(
                        status="True" if available else "False",
                        reason="MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                        message="Deployment has minimum availability."
                        if available
                        else "Deployment does not have minimum availability.",
                        lastUpdateTime=now,
                        lastTransitionTime=now,
                    )

        if self._modify(DEPLOYMENTS, key, fn) is not None:
            self.counts["owner_sync"] += 1
        else:
            self._forget_deployment(d)

    def _sync_service(self, key: Key) -> None:
        svc = self.services.get(key)
        if svc is None:
            return
        pods = sorted(
            (self.pods[k] for k in svc.pods if k in self.pods and self.pods[k].ip), key=lambda p: p.name
        )
        ready_flags = [p.ready for p in pods]
        if svc.slices:
            endpoints = [
                {
                    "addresses": [p.ip],
                    "conditions": {"ready": r, "serving": r, "terminating": False},
                    "targetRef": {"kind": "Pod", "namespace": p.ns, "name": p.name, "uid": p.uid},
                    "nodeName": p.node,
                    **(
                        {"zone": self.nodes[p.node].zone}
                        if p.node in self.nodes and self.nodes[p.node].zone
                        else {}
                    ),
                }
                for p, r in zip(pods, ready_flags, strict=True)
            ]

            def slice_fn(o: Obj) -> None:
                o["endpoints"] = endpoints

            # one slice holds them all (the scenario makes one per Service); extra slices are emptied
            for i, name in enumerate(svc.slices):
                if i == 0:
                    self._modify(SLICES, (svc.ns, name), slice_fn)
                else:
                    self._modify(SLICES, (svc.ns, name), lambda o: o.__setitem__("endpoints", []))
        if svc.endpoints:
            addrs: list[Obj] = []
            not_ready: list[Obj] = []
            for p, r in zip(pods, ready_flags, strict=True):
                a = {
                    "ip": p.ip,
                    "nodeName": p.node,
                    "targetRef": {"kind": "Pod", "namespace": p.ns, "name": p.name, "uid": p.uid},
                }
                (addrs if r else not_ready).append(a)

            def ep_fn(o: Obj) -> None:
                subsets = o.get("subsets") or []
                ports = subsets[0].get("ports") if subsets else None
                subset: Obj = {}
                if addrs:
                    subset["addresses"] = addrs
                if not_ready:
                    subset["notReadyAddresses"] = not_ready
                if subset:
                    subset["ports"] = ports or [{"name": "http", "port": 8080, "protocol": "TCP"}]
                o["subsets"] = [subset] if subset else []

            self._modify(ENDPOINTS, key, ep_fn)
        self.counts["service_sync"] += 1


def _deep(o: Obj) -> Obj:
    """A deep copy of JSON-shaped data (cheaper than ``copy.deepcopy`` for dicts and lists only)."""
    return {
        k: _deep(v) if isinstance(v, dict) else _deep_list(v) if isinstance(v, list) else v
        for k, v in o.items()
    }


def _deep_list(o: list[Any]) -> list[Any]:
    return [_deep(v) if isinstance(v, dict) else _deep_list(v) if isinstance(v, list) else v for v in o]


async def start_for_simulator(sim: Simulator) -> Callable[[], Awaitable[None]] | None:
    """The simulator's plug-in hook: churn at ``--churn-rate`` with ``--seed`` against its store,
    its counters at ``GET /_sim/churn``; ``POST /_sim/churn {"rate": R}`` changes the rate (0
    pauses) and answers the counters."""
    s = sim.settings
    if s.churn_rate <= 0:
        return None
    engine = ChurnEngine(sim.store, s.seed, s.churn_rate)
    engine.index()

    async def stats() -> dict[str, Any]:
        return engine.stats()

    async def control(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or set(body) - {"rate"}:
            raise ConfigError('expected a JSON object {"rate": writes per second}')
        if "rate" in body:
            rate = body["rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate >= 0:
                raise ConfigError(f"churn rate {rate!r}: expected a number >= 0 (writes per second)")
            engine.set_rate(rate)
            logger.info("churn rate changed", extra=fields(rate=engine.rate))
        return engine.stats()

    sim.api.add_control("churn", stats, control)
    engine.start()
    logger.info("churn started", extra=fields(rate=s.churn_rate, seed=s.seed))
    return engine.stop
