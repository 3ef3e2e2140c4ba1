"""What a series is: a node's, a pod's or a container's CPU or memory, with what it belongs to.

Units are integers so chunks compress losslessly: CPU in micro-cores (a millionth of a core; the
Metrics API's nano-cores divided by 1,000), memory in bytes. Pods and containers are identified by
the pod's UID, not its name: a StatefulSet's ``web-0`` recreated after a rollout is another pod with
the same name, and both stay addressable (by name, their history is one line across the change).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("node", "pod", "container")
METRICS = ("cpu", "memory")
CPU_UNIT = 1_000_000
"""Stored CPU values per core."""

OWNER_KINDS = {
    "deployments": "Deployment",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "replicasets": "ReplicaSet",
    "replicationcontrollers": "ReplicationController",
}
"""Path segment -> owner kind, for the workloads a pod is attributed to."""


@dataclass(frozen=True, slots=True)
class SeriesKey:
    kind: str
    metric: str
    ident: str
    """Node name for nodes, pod UID for pods and containers."""
    container: str = ""


@dataclass(frozen=True, slots=True)
class PodInfo:
    """What the pod watch tells about a pod (kept with each of its series)."""

    namespace: str
    name: str
    uid: str
    node: str = ""
    owner_kind: str = ""
    owner_name: str = ""
    requests: tuple[tuple[str, int | None, int | None, int | None, int | None], ...] = ()
    """Per container: (name, CPU request and limit in micro-cores, memory request and limit in bytes)."""

    def container_resources(self, name: str) -> tuple[int | None, int | None, int | None, int | None]:
        for c, *rest in self.requests:
            if c == name:
                return rest[0], rest[1], rest[2], rest[3]
        return None, None, None, None

    def pod_resources(self) -> tuple[int | None, int | None, int | None, int | None]:
        """A pod's request or limit is its containers' sum, unset if any container leaves it unset."""
        out: list[int | None] = []
        for k in range(4):
            vals: list[int | None] = [r[k + 1] for r in self.requests]  # type: ignore[misc]
            known = [v for v in vals if v is not None]
            out.append(sum(known) if vals and len(known) == len(vals) else None)
        return out[0], out[1], out[2], out[3]


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """A series as the catalog stores it."""

    id: int
    kind: str
    metric: str
    namespace: str
    pod: str
    uid: str
    container: str
    node: str
    owner_kind: str
    owner_name: str
    request: int | None
    limit: int | None
    first: int
    last: int | None


def series_values(sid: int, key: SeriesKey, pod: PodInfo | None, first: int) -> tuple[object, ...]:
    """A new series' row as the catalog stores it (the fields of :class:`SeriesRow`, in order): a
    plain tuple, as many as the cluster has series wait in it for their first write."""
    if key.kind == "node":
        return (sid, "node", key.metric, "", "", "", "", key.ident, "", "", None, None, first, None)
    assert pod is not None
    res = pod.container_resources(key.container) if key.kind == "container" else pod.pod_resources()
    request, limit = (res[0], res[1]) if key.metric == "cpu" else (res[2], res[3])
    return (
        sid, key.kind, key.metric, pod.namespace, pod.name, pod.uid, key.container, pod.node,
        pod.owner_kind, pod.owner_name, request, limit, first, None,
    )  # fmt: skip
