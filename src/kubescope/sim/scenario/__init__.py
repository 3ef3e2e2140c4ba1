"""Realistic clusters from a seed: every object kind kubescope exports, with production-like ratios.

:func:`generate` yields ``(resource_key, object)`` pairs (``"pods"``, ``"deployments.apps"``, ...)
ready for :meth:`ObjectStore.bulk_create`, as full JSON objects the way kube-apiserver returns them
(camelCase, RFC 3339 times, status filled in). Everything is deterministic for a given
:class:`ScenarioConfig` (seed and start time included), so tests can rely on counts and names.

Shape for ``nodes=N, pods_per_node=M`` (``N*M`` pods in all):

* 1-3 control-plane nodes (tainted), workers spread over 3 zones, ~2 % NotReady, a few cordoned;
* three DaemonSets (kube-proxy, a CNI agent, a node exporter): one pod per node;
* the remaining pods split ~72 % Deployments (ReplicaSets with the pod-template-hash label, an old
  scaled-down ReplicaSet for some), ~14 % StatefulSets (PVCs bound to PVs), ~8 % Jobs (CronJobs own
  some), the rest standalone or unschedulable (Pending);
* Services with EndpointSlices and Endpoints for the Deployments and StatefulSets, ConfigMaps,
  Secrets, ServiceAccounts, HPAs, PDBs, ResourceQuotas, LimitRanges, Ingresses, NetworkPolicies,
  Leases (one per node), CSRs, RBAC and admission objects, StorageClasses, VolumeAttachments, Events.

Pod statuses mix Running (some restarted, some not ready), Pending (ContainerCreating,
ImagePullBackOff, unschedulable), CrashLoopBackOff, Succeeded (job pods) and Failed (Evicted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.scenario.cluster import cluster_objects
from kubescope.sim.scenario.gen import Gen, ScenarioConfig
from kubescope.sim.scenario.nodes import node_objects
from kubescope.sim.scenario.workloads import workload_objects

__all__ = ["ScenarioConfig", "generate"]

Obj = dict[str, Any]


def generate(cfg: ScenarioConfig) -> Iterator[tuple[str, Obj]]:
    """Every object of the cluster, cluster-scoped and namespaces first, then workloads."""
    g = Gen(cfg)
    yield from cluster_objects(g)
    yield from node_objects(g)
    yield from workload_objects(g)
