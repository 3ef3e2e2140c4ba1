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

from collections.abc import Callable

from kubescope.sim.churn.machines import MachineChanges
from kubescope.sim.churn.pools import Pools
from kubescope.sim.churn.rates import HAZARDS, HEARTBEATS, KINDS, RECOVERY, REDRAWS
from kubescope.sim.churn.users import UserChanges
from kubescope.sim.control.plane import Cluster


class World(Pools):
    """See the module docstring: the pools (:class:`Pools`), the changes the machines and the users
    make (:mod:`.machines`, :mod:`.users`), and the draw of the next one."""

    def __init__(self, cluster: Cluster, seed: int, *, weights: dict[str, int] | None = None) -> None:
        unknown = set(weights or ()) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown churn kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        super().__init__(cluster, seed, weights=weights)
        self._actions: dict[str, Callable[[], bool]] = {
            **MachineChanges(self).actions(),
            **UserChanges(self).actions(),
        }
        assert set(self._actions) == set(KINDS)
        self._next_event: float | None = None
        """When the next user or machine event is due (realistic mix)."""

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
            ("object_churn", HAZARDS["object_churn"] * len(self.namespaces)),
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
        nodes = len(self.node_names) - len(self.machines.dead)
        return [
            ("hpa_status", HEARTBEATS["hpa_status"] * hpas),
            ("lease_renew", HEARTBEATS["lease_renew"] * nodes),
        ]
