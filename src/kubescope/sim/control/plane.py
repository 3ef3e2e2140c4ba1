"""A cluster's control plane and kubelets, assembled: the shared caches, the machines under the
kubelets, and every controller, in the order their queues are drained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kubescope.sim.control.cache import NodeCache, PodCache
from kubescope.sim.control.cri import Machines
from kubescope.sim.control.cronjob import CronJobController
from kubescope.sim.control.daemonset import DaemonSetController
from kubescope.sim.control.deployment import DeploymentController
from kubescope.sim.control.endpoints import EndpointsController
from kubescope.sim.control.events import EventRecorder
from kubescope.sim.control.events.ttl import EVENT_TTL, EventTTL
from kubescope.sim.control.gc import GarbageCollector
from kubescope.sim.control.hpa.controller import SYNC_PERIOD, HPAController
from kubescope.sim.control.job import JobController
from kubescope.sim.control.nodeagent import NodeAgent
from kubescope.sim.control.nodelifecycle import NodeLifecycleController
from kubescope.sim.control.podagent import PodAgent
from kubescope.sim.control.replicaset import ReplicaSetController
from kubescope.sim.control.runtime import ControlPlane, Store
from kubescope.sim.control.scheduler import Scheduler
from kubescope.sim.control.statefulset import StatefulSetController

if TYPE_CHECKING:
    from kubescope.sim.control.hpa.metrics import MetricsClient

LOAD_ORDER = (
    "nodes",
    "leases.coordination.k8s.io",
    "services",
    "endpointslices.discovery.k8s.io",
    "endpoints",
    "deployments.apps",
    "replicasets.apps",
    "replicationcontrollers",
    "statefulsets.apps",
    "daemonsets.apps",
    "cronjobs.batch",
    "jobs.batch",
    "pods",
    "apiservices.apiregistration.k8s.io",
    "horizontalpodautoscalers.autoscaling",
    "events",
)
"""What the controllers are shown at start, owners before what they own."""


class Cluster:
    """``plane`` drives the controllers; ``pods`` and ``nodes`` are the shared caches; ``machines``
    is where the world makes containers and kubelets fail (:mod:`.cri`)."""

    def __init__(
        self,
        store: Store,
        seed: int,
        clock: Callable[[], float],
        *,
        metrics: MetricsClient | None = None,
        hpa_period: float = SYNC_PERIOD,
        event_ttl: float = EVENT_TTL,
    ) -> None:
        """``metrics``: the HPA controller's client of the metrics APIs (None: it manages no HPA);
        ``event_ttl``: how long an Event lasts after its last write (kube-apiserver's
        ``--event-ttl``)."""
        self.store = store
        plane = self.plane = ControlPlane(store, seed, clock)
        self.pods = PodCache(plane)
        self.nodes = NodeCache(plane)
        self.machines = Machines()
        self.events = plane.events = plane.add(EventRecorder(plane))
        plane.add(GarbageCollector(plane, self.pods))
        self.hpa = plane.add(HPAController(plane, metrics, period=hpa_period))
        self.deployments = plane.add(DeploymentController(plane, self.pods))
        plane.add(ReplicaSetController(plane, self.pods))
        plane.add(StatefulSetController(plane, self.pods))
        plane.add(DaemonSetController(plane, self.pods, self.nodes))
        plane.add(JobController(plane, self.pods))
        self.cronjobs = plane.add(CronJobController(plane))
        plane.add(Scheduler(plane, self.pods, self.nodes))
        plane.add(PodAgent(plane, self.pods, self.nodes, self.machines))
        self.kubelets = plane.add(NodeAgent(plane, self.nodes, self.machines))
        plane.add(NodeLifecycleController(plane, self.nodes, self.pods))
        plane.add(EndpointsController(plane, self.pods, self.nodes))
        plane.add(EventTTL(plane, event_ttl))

    def hpa_managed(self, key: tuple[str, str]) -> bool:
        """Whether the HPA controller manages this HPA (its target exists, its metrics APIs are
        served)."""
        return self.hpa.managed(key)

    def autoscaled(self, res: str, key: tuple[str, str]) -> bool:
        """Whether an HPA the HPA controller manages sets this object's replicas."""
        return (res, key) in self.hpa.scaled

    def hpas_managed(self) -> int:
        """How many HPAs the HPA controller manages."""
        return len(self.hpa.managed_keys)

    def start(self) -> None:
        """Show the controllers the cluster as it is, and take the kubelets' part in pod
        deletion (graceful termination) from now on."""
        self.plane.load(LOAD_ORDER)
        self.store.graceful_pods = True

    def stop(self) -> None:
        self.plane.stop()
        self.store.graceful_pods = False

    async def close(self) -> None:
        """Stop, and close what reads the metrics APIs."""
        self.stop()
        await self.hpa.close()
