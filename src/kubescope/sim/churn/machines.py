"""What the machines do to the cluster: containers die (``pod_restart``), break until fixed
(``pod_crashloop``), fail their readiness probe (``pod_readiness``), kubelets die and come back
(``node_readiness``), a Job's pod finishes (``job_complete``). Each is told to the machines
(:mod:`kubescope.sim.control.cri`), which the kubelets' side of the control plane learns from, as a
kubelet learns from its container runtime."""

from __future__ import annotations

from collections.abc import Callable

from kubescope.sim.churn.pools import Pools
from kubescope.sim.churn.rates import HAZARDS, RECOVERY
from kubescope.sim.control.cache import PodRecord


class MachineChanges:
    """The machine kinds of change, drawn from :class:`Pools`; each returns whether it did something."""

    def __init__(self, pools: Pools) -> None:
        self.w = pools

    def actions(self) -> dict[str, Callable[[], bool]]:
        return {
            "pod_restart": self._pod_restart,
            "pod_crashloop": self._pod_crashloop,
            "pod_readiness": self._pod_readiness,
            "node_readiness": self._node_readiness,
            "job_complete": self._job_complete,
        }

    def _recovers(self, kind: str, broken: int, cap: int) -> bool:
        """Whether a two-way kind recovers something now: always at its cap, else by the rates."""
        if not broken:
            return False
        if broken >= cap:
            return True
        if self.w.weights is not None:
            return self.w.rng.random() < 0.5
        exposed = len(self.w.healthy) if kind != "node_readiness" else len(self.w.cluster.nodes.nodes)
        back = RECOVERY[kind] * broken
        return self.w.rng.random() * (HAZARDS[kind] * exposed + back) < back

    def _healthy_pod(self, restartable: bool = True) -> PodRecord | None:
        if not self.w.healthy:
            return None
        p = self.w.cluster.pods.get(self.w.healthy.choice(self.w.rng))
        if p is None or (restartable and p.restart_policy == "Never"):
            return None  # a Never pod's container that exits stays terminated (redrawn)
        return p

    def _pod_restart(self) -> bool:
        p = self._healthy_pod()
        if p is None:
            return False
        i = int(self.w.rng.random() * max(1, len(p.containers)))
        code, reason = self.w.rng.choice(((137, "OOMKilled"), (1, "Error"), (2, "Error"), (143, "Error")))
        self.w.machines.crash(p.key, i, code, reason)
        return True

    def _pod_crashloop(self) -> bool:
        if self._recovers(
            "pod_crashloop", len(self.w.crashing), max(1, len(self.w.cluster.pods.pods) // 100)
        ):
            key = self.w.crashing.choice(self.w.rng)
            self.w.crashing.discard(key)
            self.w.machines.fix(key)
            return True
        p = self._healthy_pod()
        if p is None:
            return False
        code, reason = self.w.rng.choice(((1, "Error"), (137, "OOMKilled"), (139, "Error")))
        self.w.crashing.add(p.key)
        self.w.machines.break_container(p.key, 0, code, reason)
        return True

    def _pod_readiness(self) -> bool:
        if self._recovers("pod_readiness", len(self.w.flapped), max(1, len(self.w.cluster.pods.pods) // 50)):
            key = self.w.flapped.choice(self.w.rng)
            self.w.flapped.discard(key)
            self.w.machines.probe(key, failing=False)
            return True
        p = self._healthy_pod(restartable=False)
        if p is None:
            return False
        self.w.flapped.add(p.key)
        self.w.machines.probe(p.key, failing=True)
        return True

    def _node_readiness(self) -> bool:
        nodes = self.w.cluster.nodes.nodes
        if self._recovers("node_readiness", len(self.w.down_nodes), max(1, len(nodes) // 50)):
            name = self.w.down_nodes.choice(self.w.rng)
            self.w.down_nodes.discard(name)
            self.w.machines.kubelet(name, alive=True)
            self.w.refresh(name)
            return True
        up = [n for n in nodes.values() if n.ready and n.schedulable and n.name not in self.w.machines.dead]
        if len(up) <= 1:
            return False
        name = up[int(self.w.rng.random() * len(up))].name
        self.w.down_nodes.add(name)
        self.w.machines.kubelet(name, alive=False)
        self.w.refresh(name)
        return True

    def _job_complete(self) -> bool:
        if not self.w.job_pods:
            return False
        key = self.w.job_pods.choice(self.w.rng)
        self.w.job_pods.discard(key)
        self.w.machines.finish(key, 0)
        return True
