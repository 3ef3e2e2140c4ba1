"""Churn: the world around the cluster, a seeded stream of what its users and its machines do.

The world changes only what users and the environment change; the control plane
(:mod:`kubescope.sim.control`) reacts, as a cluster's controllers and kubelets do. A change is one
of these kinds:

==================  ================================================================================
``pod_restart``     a container process dies (its kubelet restarts it)
``pod_crashloop``   a container breaks: it dies at every start (CrashLoopBackOff) until fixed, or
                    is fixed
``pod_readiness``   a pod's readiness probe starts failing, or passes again
``node_readiness``  a node's kubelet dies (the node is lost 40 s later) or comes back
``rollout``         a user rolls a Deployment out (a new template: ``restartedAt``)
``scale``           a user scales a Deployment up or down by one, within its HPA's bounds; the
                    direction keeps the total where it started
``job_complete``    a Job's pod finishes its work (exit 0)
``cronjob_run``     a user runs a CronJob (``kubectl create job --from=cronjob/NAME``; at most
                    two unfinished runs each)
``hpa_status``      an HPA's reported metrics move, and its replica counts follow its target (for
                    HPAs the HPA controller does not manage: their metrics APIs are not served)
``lease_renew``     a kubelet renews its node's Lease early
``configmap``       a user edits an application ConfigMap
``object_churn``    a user creates a ConfigMap or Secret (the oldest such goes beyond
                    60), now and then a namespace (at most 2 at once)
==================  ================================================================================

**How often** (``realistic``, the default). What users and machines do happens in real time at a
real cluster's rate per object: a container dies about once a week, one in a few hundred
crash-loops for hours, a Deployment rolls out every few days, a node is lost once a month
(:data:`HAZARDS`; the next event is drawn from their sum times how many objects each can happen
to, as a Poisson process). Whatever the write rate leaves over goes to status heartbeats (a
simulated HPA's status, a kubelet renewing its Lease early): writes that move no pod. So most pods
run for days and a few crash-loop whatever the rate. ``lively`` (``weights``) draws every change
from fixed shares instead, so every kind happens within seconds (tests, stress).

**Deterministic for a seed.** The world draws every choice, name and uid from
``random.Random(seed)``, reads the cluster once at start in name order and then follows it through
the control plane's caches; with the same store, clock and calls, two worlds make the same changes.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import random
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

from kubescope.sim import defaults
from kubescope.sim.control.cache import NodeRecord, PodRecord
from kubescope.sim.control.cri import Machines
from kubescope.sim.control.plane import Cluster
from kubescope.sim.errors import NotFound
from kubescope.sim.objects.meta import object_meta, rfc3339
from kubescope.sim.objects.names import Names
from kubescope.sim.objects.workloads import job_from_cronjob

Obj = dict[str, Any]
Key = tuple[str, str]
K = TypeVar("K", bound=Hashable)

HOUR = 3600.0
HAZARDS: dict[str, float] = {
    "pod_restart": 1 / (7 * 24 * HOUR),
    "pod_crashloop": 1 / (400 * 24 * HOUR),
    "pod_readiness": 1 / (3 * 24 * HOUR),
    "node_readiness": 1 / (30 * 24 * HOUR),
    "rollout": 1 / (3 * 24 * HOUR),
    "scale": 1 / (2 * 24 * HOUR),
    "job_complete": 1 / 300,
    "cronjob_run": 1 / HOUR,
    "configmap": 1 / (7 * 24 * HOUR),
    "object_churn": 1 / (12 * HOUR),
}
"""Per second, per object a kind can happen to (healthy pods, Ready nodes, Deployments, running
Job pods, CronJobs, application ConfigMaps, namespaces)."""
HEARTBEATS: dict[str, float] = {"hpa_status": 1 / 15, "lease_renew": 1 / 10}
"""The status writes that fill the rest of the rate, in proportion to their real period per HPA
(a sync every 15 s) and per node (a Lease renewed every 10 s)."""
KINDS = (*HAZARDS, *HEARTBEATS)
RECOVERY: dict[str, float] = {
    "pod_crashloop": 1 / (4 * HOUR),
    "pod_readiness": 1 / 120,
    "node_readiness": 1 / 180,
}
"""Per second, per object in the state a kind left it in (crash-looping, failing its probe, down):
the steady shares are hazard / recovery (about 0.4 % of pods crash-looping, 0.05 % not ready)."""

WEIGHTS: dict[str, int] = {
    "node_readiness": 1,
    "pod_readiness": 8,
    "pod_restart": 5,
    "pod_crashloop": 3,
    "rollout": 4,
    "scale": 6,
    "job_complete": 8,
    "cronjob_run": 8,
    "hpa_status": 8,
    "lease_renew": 4,
    "configmap": 5,
    "object_churn": 5,
}
"""Fixed shares for a lively cluster (``--churn-mix lively``, ``weights=WEIGHTS``): every kind
happens often; rollouts and scaling, which move many pods each, a little less."""

OBJECTS_KEPT = 60
"""Namespaced objects of ``object_churn`` alive at once; beyond, each creation deletes the oldest."""
NAMESPACES_KEPT = 2
CRON_RUNNING = 2
"""Unfinished runs a CronJob may have before another is skipped."""
WORLD = "world"
REDRAWS = 8
"""Draws of a change before giving up (a drawn kind may find nothing to act on)."""


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


class World:
    """See the module docstring."""

    def __init__(self, cluster: Cluster, seed: int, *, weights: dict[str, int] | None = None) -> None:
        unknown = set(weights or ()) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown churn kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        self.cluster = cluster
        self.store = cluster.plane.store
        self.machines: Machines = cluster.machines
        self.writes = cluster.plane.writes
        self.counts = cluster.plane.counts
        self.clock = cluster.plane.clock
        self.rng = random.Random(seed)
        self.names = Names(f"{seed}/world")
        self.weights = {k: w for k, w in (weights or {}).items() if w > 0} if weights is not None else None
        self._actions: dict[str, Callable[[], bool]] = {k: getattr(self, f"_{k}") for k in KINDS}
        self._next_event: float | None = None
        """When the next user or machine event is due (realistic mix)."""
        self._counter = itertools.count(1)
        self.healthy: IndexedSet[Key] = IndexedSet()
        self.job_pods: IndexedSet[Key] = IndexedSet()
        self.flapped: IndexedSet[Key] = IndexedSet()
        self.crashing: IndexedSet[Key] = IndexedSet()
        self.down_nodes: IndexedSet[str] = IndexedSet()
        self.deployments: list[Key] = []
        self.cronjobs: list[Key] = []
        self.hpas: list[Key] = []
        self._hpa_target: dict[Key, Key] = {}
        self._hpa_of: dict[Key, Key] = {}
        """A Deployment's HPA."""
        self._bounds: dict[Key, tuple[int, int]] = {}
        self.configmaps: list[Key] = []
        self._namespaces: list[str] = []
        self._made_objects: collections.deque[tuple[str, Key]] = collections.deque()
        self._made_namespaces: collections.deque[str] = collections.deque()
        self._scale_net = 0
        self._nodes: IndexedSet[str] = IndexedSet()
        cluster.pods.on_change(self._pod_changed)
        cluster.nodes.on_change(self._node_changed)

    # -- what it can act on -------------------------------------------------------------------

    def index(self) -> None:
        """Read what users act on (sorted: the same whatever the store's order); pods and nodes
        are followed through the control plane's caches."""
        for key in self._keys("namespaces"):
            self._namespaces.append(key[1])
        for o in self._objects("deployments.apps"):
            if not (o.get("spec") or {}).get("paused"):
                self.deployments.append(_key(o))
        for o in self._objects("cronjobs.batch"):
            if not (o.get("spec") or {}).get("suspend"):
                self.cronjobs.append(_key(o))
        for o in self._objects("horizontalpodautoscalers.autoscaling"):
            key, spec = _key(o), o.get("spec") or {}
            self.hpas.append(key)
            ref = spec.get("scaleTargetRef") or {}
            target = (key[0], ref.get("name", ""))
            if ref.get("kind") == "Deployment":
                self._hpa_target[key] = target
                self._hpa_of[target] = key
                low = int(spec.get("minReplicas") or 1)
                self._bounds[target] = (low, max(low, int(spec.get("maxReplicas") or low)))
        for o in self._objects("configmaps"):
            if "app" in (o["metadata"].get("labels") or {}):
                self.configmaps.append(_key(o))
        for key in sorted(self.machines.broken):
            self.crashing.add(key)
        for p in sorted(self.cluster.pods.pods.values(), key=lambda p: p.key):
            self._pod_changed("", None, p)
        for name in sorted(self.cluster.nodes.nodes):
            self._nodes.add(name)

    def _node_changed(self, typ: str, old: NodeRecord | None, new: NodeRecord | None) -> None:
        if new is None and old is not None:
            self._nodes.discard(old.name)
        elif new is not None:
            self._nodes.add(new.name)

    def _keys(self, res: str) -> list[Key]:
        return sorted(self.store.keys(res))

    def _objects(self, res: str) -> Iterator[Obj]:
        for ns, name in self._keys(res):
            with contextlib.suppress(NotFound):  # deleted meanwhile
                yield self.store.get(res, ns, name)

    def _pod_changed(self, typ: str, old: PodRecord | None, new: PodRecord | None) -> None:
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

    # -- drawing ------------------------------------------------------------------------------

    def _rates(self) -> list[tuple[str, float]]:
        """Each user and machine kind's rate now: per-object hazards times what they can happen to."""
        pods = len(self.healthy)
        nodes = len(self.cluster.nodes.nodes) - len(self.machines.dead)
        return [
            ("pod_restart", HAZARDS["pod_restart"] * pods),
            (
                "pod_crashloop",
                HAZARDS["pod_crashloop"] * pods + RECOVERY["pod_crashloop"] * len(self.crashing),
            ),
            (
                "pod_readiness",
                HAZARDS["pod_readiness"] * pods + RECOVERY["pod_readiness"] * len(self.flapped),
            ),
            (
                "node_readiness",
                HAZARDS["node_readiness"] * nodes + RECOVERY["node_readiness"] * len(self.down_nodes),
            ),
            ("rollout", HAZARDS["rollout"] * len(self.deployments)),
            ("scale", HAZARDS["scale"] * len(self.deployments)),
            ("job_complete", HAZARDS["job_complete"] * len(self.job_pods)),
            ("cronjob_run", HAZARDS["cronjob_run"] * len(self.cronjobs)),
            ("configmap", HAZARDS["configmap"] * len(self.configmaps)),
            ("object_churn", HAZARDS["object_churn"] * len(self._namespaces)),
        ]

    def natural_rate(self) -> float:
        """User and machine events per second, in real time."""
        return sum(r for _, r in self._rates())

    def _pick(self, table: list[tuple[str, float]]) -> str:
        total = sum(w for _, w in table)
        if total <= 0:
            return ""
        x = self.rng.random() * total
        for kind, w in table:
            x -= w
            if x < 0:
                return kind
        return table[-1][0]

    def change(self) -> str:
        """Make one change; returns its kind, or "" when nothing could be done. Lively: a kind drawn
        by its share (redrawn when it finds nothing to act on, :data:`REDRAWS` times at most). Realistic: the next
        user or machine event if it is due, else a heartbeat."""
        if self.weights is not None:
            return self._try(list(self.weights.items()))
        now = self.clock()
        if self._next_event is None:
            self._next_event = now + self._gap()
        if now >= self._next_event:
            self._next_event = now + self._gap()
            kind = self._try(self._rates())
            if kind:
                return kind
        return self._try(self._heartbeats())

    def _try(self, table: list[tuple[str, float]]) -> str:
        for _ in range(REDRAWS):
            kind = self._pick(table)
            if not kind:
                return ""
            if self._actions[kind]():
                self.counts[kind] += 1
                return kind
            self.counts["skipped"] += 1
        return ""

    def _gap(self) -> float:
        """Seconds to the next user or machine event (exponential: a Poisson process)."""
        rate = self.natural_rate()
        return self.rng.expovariate(rate) if rate > 0 else 3600.0

    def _heartbeats(self) -> list[tuple[str, float]]:
        hpas = max(0, len(self.hpas) - self.cluster.hpas_managed())
        nodes = len(self._nodes) - len(self.machines.dead)
        return [
            ("hpa_status", HEARTBEATS["hpa_status"] * hpas),
            ("lease_renew", HEARTBEATS["lease_renew"] * nodes),
        ]

    def _recovers(self, kind: str, broken: int, cap: int) -> bool:
        """Whether a two-way kind recovers something now: always at its cap, else by the rates."""
        if not broken:
            return False
        if broken >= cap:
            return True
        if self.weights is not None:
            return self.rng.random() < 0.5
        exposed = len(self.healthy) if kind != "node_readiness" else len(self.cluster.nodes.nodes)
        back = RECOVERY[kind] * broken
        return self.rng.random() * (HAZARDS[kind] * exposed + back) < back

    def _now(self) -> float:
        return self.clock()

    # -- the machines -------------------------------------------------------------------------

    def _healthy_pod(self, restartable: bool = True) -> PodRecord | None:
        if not self.healthy:
            return None
        p = self.cluster.pods.get(self.healthy.choice(self.rng))
        if p is None or (restartable and p.restart_policy == "Never"):
            return None  # a Never pod's container that exits stays terminated (redrawn)
        return p

    def _pod_restart(self) -> bool:
        p = self._healthy_pod()
        if p is None:
            return False
        i = int(self.rng.random() * max(1, len(p.containers)))
        code, reason = self.rng.choice(((137, "OOMKilled"), (1, "Error"), (2, "Error"), (143, "Error")))
        self.machines.crash(p.key, i, code, reason)
        return True

    def _pod_crashloop(self) -> bool:
        if self._recovers("pod_crashloop", len(self.crashing), max(1, len(self.cluster.pods.pods) // 100)):
            key = self.crashing.choice(self.rng)
            self.crashing.discard(key)
            self.machines.fix(key)
            return True
        p = self._healthy_pod()
        if p is None:
            return False
        code, reason = self.rng.choice(((1, "Error"), (137, "OOMKilled"), (139, "Error")))
        self.crashing.add(p.key)
        self.machines.break_container(p.key, 0, code, reason)
        return True

    def _pod_readiness(self) -> bool:
        if self._recovers("pod_readiness", len(self.flapped), max(1, len(self.cluster.pods.pods) // 50)):
            key = self.flapped.choice(self.rng)
            self.flapped.discard(key)
            self.machines.probe(key, failing=False)
            return True
        p = self._healthy_pod(restartable=False)
        if p is None:
            return False
        self.flapped.add(p.key)
        self.machines.probe(p.key, failing=True)
        return True

    def _node_readiness(self) -> bool:
        nodes = self.cluster.nodes.nodes
        if self._recovers("node_readiness", len(self.down_nodes), max(1, len(nodes) // 50)):
            name = self.down_nodes.choice(self.rng)
            self.down_nodes.discard(name)
            self.machines.kubelet(name, alive=True)
            self._refresh(name)
            return True
        up = [n for n in nodes.values() if n.ready and n.schedulable and n.name not in self.machines.dead]
        if len(up) <= 1:
            return False
        name = up[int(self.rng.random() * len(up))].name
        self.down_nodes.add(name)
        self.machines.kubelet(name, alive=False)
        self._refresh(name)
        return True

    def _refresh(self, node: str) -> None:
        """A node's kubelet died or came back: what can happen to its pods changed with it."""
        for p in self.cluster.pods.on_node(node):
            self._pod_changed("", p, p)

    def _job_complete(self) -> bool:
        if not self.job_pods:
            return False
        key = self.job_pods.choice(self.rng)
        self.job_pods.discard(key)
        self.machines.finish(key, 0)
        return True

    # -- users --------------------------------------------------------------------------------

    def _idle_deployment(self, rolling_ok: bool = False) -> Obj | None:
        """A Deployment that is not rolling out (a few draws, not a scan: most are idle); with
        ``rolling_ok`` any (users scale whenever they like)."""
        keys = self.deployments
        for _ in range(8):
            if not keys:
                return None
            i = int(self.rng.random() * len(keys))
            try:
                d = self.store.get("deployments.apps", *keys[i])
            except Exception:
                keys[i] = keys[-1]
                keys.pop()
                continue
            spec, st = d.get("spec") or {}, d.get("status") or {}
            want = int(spec.get("replicas", 1))
            if rolling_ok or (
                st.get("observedGeneration") == d["metadata"].get("generation")
                and int(st.get("updatedReplicas", 0)) == int(st.get("replicas", 0)) == want
            ):
                return d
        return None

    def _rollout(self) -> bool:
        d = self._idle_deployment()
        if d is None:
            return False
        now = rfc3339(self._now())

        def restart(o: Obj) -> None:
            tmeta = o.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {})
            tmeta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = now

        return self.writes.modify("deployments.apps", _key(d), restart, WORLD) is not None

    def _scale(self) -> bool:
        up = self._scale_net < 0 or (self._scale_net == 0 and self.rng.random() < 0.5)
        d = self._idle_deployment(rolling_ok=True)
        if d is None:
            return False
        key = _key(d)
        if self.cluster.autoscaled("deployments.apps", key):
            return False  # its HPA, through the HPA controller, sets its replicas (redrawn)
        hpa = self._hpa_of.get(key)
        replicas = int((d.get("spec") or {}).get("replicas", 1))
        low, high = self._bounds.get(key, (1, 1 << 30))
        # an autoscaled Deployment stays within its HPA's bounds (redrawn otherwise)
        if (up and replicas >= high) or (not up and replicas <= max(1, low)):
            return False
        delta = 1 if up else -1
        if (
            self.writes.modify("deployments.apps", key, lambda o: _set_replicas(o, replicas + delta), WORLD)
            is None
        ):
            return False
        self._scale_net += delta
        if hpa is not None:
            self._hpa_write(hpa, replicas + delta)
        return True

    def _cronjob_run(self) -> bool:
        if not self.cronjobs:
            return False
        key = self.cronjobs[int(self.rng.random() * len(self.cronjobs))]
        if self.cluster.cronjobs.active_runs(key) >= CRON_RUNNING:
            return False  # the runs outpace the jobs: this one waits
        try:
            cj = self.store.get("cronjobs.batch", *key)
        except Exception:
            self.cronjobs.remove(key)
            return False
        now_t = self._now()
        minute = int(now_t) // 60
        while self.store.exists("jobs.batch", key[0], f"{key[1]}-{minute}"):
            minute += 1
        job = job_from_cronjob(
            cj, name=f"{key[1]}-{minute}", uid=self.names.uid(), created=rfc3339(now_t), manual=True
        )
        defaults.apply_defaults("jobs.batch", job, lambda: "")
        return self.writes.create("jobs.batch", job, WORLD) is not None

    def _lease_renew(self) -> bool:
        if not self._nodes:
            return False
        name = self._nodes.choice(self.rng)
        return name not in self.machines.dead and self.cluster.kubelets.renew(name)

    def _hpa_status(self) -> bool:
        if not self.hpas:
            return False
        key = self.hpas[int(self.rng.random() * len(self.hpas))]
        if self.cluster.hpa_managed(key):
            return False  # its controller writes its status (redrawn)
        replicas = None
        target = self._hpa_target.get(key)
        if target is not None:
            try:
                replicas = int(
                    (self.store.get("deployments.apps", *target).get("spec") or {}).get("replicas", 1)
                )
            except Exception:
                replicas = None
        return self._hpa_write(key, replicas, scaled=False)

    def _hpa_write(self, key: Key, replicas: int | None, scaled: bool = True) -> bool:
        """The simulated HPA status: its current metrics move; its replica counts follow its
        target (``lastScaleTime`` when it scaled)."""
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

        return self.writes.modify("horizontalpodautoscalers.autoscaling", key, move, WORLD) is not None

    def _configmap(self) -> bool:
        if not self.configmaps:
            return False
        key = self.configmaps[int(self.rng.random() * len(self.configmaps))]
        n = next(self._counter)
        if (
            self.writes.modify(
                "configmaps",
                key,
                lambda o: o.setdefault("data", {}).update({"churn-revision": str(n)}),
                WORLD,
            )
            is None
        ):
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
        now = rfc3339(self._now())
        kind = self.rng.choice(("configmaps", "secrets"))
        meta = object_meta(f"churn-{n}", ns, uid=self.names.uid(), created=now)
        obj: Obj
        if kind == "configmaps":
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"n": str(n)}}
        else:
            obj = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": meta,
                "data": {"n": "Y2h1cm4="},
            }
        if self.writes.create(kind, obj, WORLD) is None:
            return False
        self._made_objects.append((kind, (obj["metadata"]["namespace"], obj["metadata"]["name"])))
        while len(self._made_objects) > OBJECTS_KEPT:
            res, key = self._made_objects.popleft()
            self.writes.delete(res, key, WORLD)
        return True

    def _namespace_churn(self) -> bool:
        if len(self._made_namespaces) >= NAMESPACES_KEPT or (
            self._made_namespaces and self.rng.random() < 0.5
        ):
            name = self._made_namespaces.popleft()
            self._made_objects = collections.deque(o for o in self._made_objects if o[1][0] != name)
            if name in self._namespaces:
                self._namespaces.remove(name)
            # the namespace controller empties it first (each deletion is a write of its own)
            self.writes.delete("serviceaccounts", (name, "default"), WORLD)
            return self.writes.delete("namespaces", ("", name), WORLD)
        name = f"churn-{self.names.suffix(8)}"
        now = rfc3339(self._now())
        ns: Obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": object_meta(
                name, uid=self.names.uid(), created=now, labels={"kubernetes.io/metadata.name": name}
            ),
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        if self.writes.create("namespaces", ns, WORLD) is None:
            return False
        self._made_namespaces.append(name)
        sa = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": object_meta("default", name, uid=self.names.uid(), created=now),
        }
        self.writes.create("serviceaccounts", sa, WORLD)
        return True


def _key(o: Obj) -> Key:
    return (o["metadata"].get("namespace", ""), o["metadata"]["name"])


def _set_replicas(o: Obj, replicas: int) -> None:
    o.setdefault("spec", {})["replicas"] = replicas
