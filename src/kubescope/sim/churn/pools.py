"""What the world can act on: the pools it draws from (healthy pods, running Job pods, crash-looping
and flapping pods, lost nodes, Deployments, CronJobs, HPAs, application ConfigMaps, namespaces), read
once at start in name order and then followed through the control plane's caches, with the seeded
random stream every draw comes from."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Hashable, Iterator
from typing import Any, Generic, TypeVar

from kubescope.sim.control.cache import NodeRecord, PodRecord
from kubescope.sim.control.cri import Machines
from kubescope.sim.control.plane import Cluster
from kubescope.sim.errors import NotFound
from kubescope.sim.objects.names import Names

Obj = dict[str, Any]
Key = tuple[str, str]
K = TypeVar("K", bound=Hashable)


class IndexedSet(Generic[K]):
    """An insertion-ordered set with O(1) add, discard and uniform choice (swap-remove): the
    candidate pools the world draws from. Order depends only on the operations, so draws are
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


class Pools:
    """The cluster as the world sees it, and the random stream it draws from."""

    def __init__(self, cluster: Cluster, seed: int, *, weights: dict[str, int] | None = None) -> None:
        self.cluster = cluster
        self.store = cluster.plane.store
        self.machines: Machines = cluster.machines
        self.writes = cluster.plane.writes
        self.counts = cluster.plane.counts
        self.clock = cluster.plane.clock
        self.rng = random.Random(seed)
        self.names = Names(f"{seed}/world")
        self.weights = {k: w for k, w in (weights or {}).items() if w > 0} if weights is not None else None
        self.healthy: IndexedSet[Key] = IndexedSet()
        self.job_pods: IndexedSet[Key] = IndexedSet()
        self.flapped: IndexedSet[Key] = IndexedSet()
        self.crashing: IndexedSet[Key] = IndexedSet()
        self.down_nodes: IndexedSet[str] = IndexedSet()
        self.deployments: list[Key] = []
        self.cronjobs: list[Key] = []
        self.hpas: list[Key] = []
        self.hpa_target: dict[Key, Key] = {}
        self.hpa_of: dict[Key, Key] = {}
        """A Deployment's HPA."""
        self.bounds: dict[Key, tuple[int, int]] = {}
        self.configmaps: list[Key] = []
        self.namespaces: list[str] = []
        self.node_names: IndexedSet[str] = IndexedSet()
        """Every node (a kubelet renews its Lease)."""
        cluster.pods.on_change(self.pod_changed)
        cluster.nodes.on_change(self.node_changed)

    def index(self) -> None:
        """Read what users act on (sorted: the same whatever the store's order); pods and nodes
        are followed through the control plane's caches."""
        for key in self._keys("namespaces"):
            self.namespaces.append(key[1])
        for o in self._objects("deployments.apps"):
            if not (o.get("spec") or {}).get("paused"):
                self.deployments.append(key_of(o))
        for o in self._objects("cronjobs.batch"):
            if not (o.get("spec") or {}).get("suspend"):
                self.cronjobs.append(key_of(o))
        for o in self._objects("horizontalpodautoscalers.autoscaling"):
            key, spec = key_of(o), o.get("spec") or {}
            self.hpas.append(key)
            ref = spec.get("scaleTargetRef") or {}
            target = (key[0], ref.get("name", ""))
            if ref.get("kind") == "Deployment":
                self.hpa_target[key] = target
                self.hpa_of[target] = key
                low = int(spec.get("minReplicas") or 1)
                self.bounds[target] = (low, max(low, int(spec.get("maxReplicas") or low)))
        for o in self._objects("configmaps"):
            if "app" in (o["metadata"].get("labels") or {}):
                self.configmaps.append(key_of(o))
        for key in sorted(self.machines.broken):
            self.crashing.add(key)
        for p in sorted(self.cluster.pods.pods.values(), key=lambda p: p.key):
            self.pod_changed("", None, p)
        for name in sorted(self.cluster.nodes.nodes):
            self.node_names.add(name)

    def node_changed(self, typ: str, old: NodeRecord | None, new: NodeRecord | None) -> None:
        if new is None and old is not None:
            self.node_names.discard(old.name)
        elif new is not None:
            self.node_names.add(new.name)

    def _keys(self, res: str) -> list[Key]:
        return sorted(self.store.keys(res))

    def _objects(self, res: str) -> Iterator[Obj]:
        for ns, name in self._keys(res):
            with contextlib.suppress(NotFound):  # deleted meanwhile
                yield self.store.get(res, ns, name)

    def pod_changed(self, typ: str, old: PodRecord | None, new: PodRecord | None) -> None:
        p = new or old
        assert p is not None
        healthy = (
            new is not None
            and new.phase == "Running"
            and new.ready
            and new.running
            and new.active
            and new.node not in self.machines.dead
            and new.key not in self.machines.broken
            and new.key not in self.machines.failing
        )
        if healthy:
            self.healthy.add(p.key)
            if p.owner is not None and p.owner[0] == "Job":
                self.job_pods.add(p.key)
        else:
            self.healthy.discard(p.key)
            self.job_pods.discard(p.key)
        if new is None:
            self.flapped.discard(p.key)
            self.crashing.discard(p.key)

    def refresh(self, node: str) -> None:
        """A node's kubelet died or came back: what can happen to its pods changed with it."""
        for p in self.cluster.pods.on_node(node):
            self.pod_changed("", p, p)

    def now(self) -> float:
        return self.clock()


def key_of(o: Obj) -> Key:
    return (o["metadata"].get("namespace", ""), o["metadata"]["name"])
