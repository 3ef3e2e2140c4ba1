"""Small clusters built from JSON, for the console's pure parts."""

from __future__ import annotations

from typing import Any

import msgspec

from kubescope.console import wire
from kubescope.console.cluster import Cluster
from kubescope.console.usage import Usage, pod_key


def pod(
    ns: str,
    name: str,
    *,
    node: str = "n1",
    labels: dict[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    phase: str = "Running",
    restarts: int = 0,
    cpu: str = "100m",
    memory: str = "128Mi",
    created: str = "2026-01-01T00:00:00Z",
) -> wire.Pod:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "uid": f"uid-{ns}-{name}",
        "labels": labels or {},
        "creationTimestamp": created,
    }
    if owner:
        meta["ownerReferences"] = [
            {"kind": owner[0], "name": owner[1], "controller": True, "apiVersion": "apps/v1", "uid": "x"}
        ]
    return msgspec.convert(
        {
            "metadata": meta,
            "spec": {
                "nodeName": node,
                "containers": [{"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
            },
            "status": {
                "phase": phase,
                "containerStatuses": [{"name": "app", "ready": True, "restartCount": restarts}],
            },
        },
        wire.Pod,
    )


def workload(
    kind: str, ns: str, name: str, owner: tuple[str, str] | None = None, replicas: int = 1
) -> wire.Workload:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": f"uid-{kind}-{ns}-{name}"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return msgspec.convert(
        {"metadata": meta, "spec": {"replicas": replicas}, "status": {"readyReplicas": replicas}},
        wire.Workload,
    )


def node(name: str, ready: bool = True) -> wire.Node:
    return msgspec.convert(
        {
            "metadata": {"name": name, "uid": f"uid-node-{name}", "labels": {"kubernetes.io/hostname": name}},
            "status": {
                "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        },
        wire.Node,
    )


def namespace(name: str) -> wire.Namespace:
    return msgspec.convert(
        {"metadata": {"name": name, "uid": f"uid-ns-{name}"}, "status": {"phase": "Active"}}, wire.Namespace
    )


def filled(
    pods: list[wire.Pod], usage: dict[str, tuple[float, float]], nodes: list[wire.Node] = ()
) -> tuple[Cluster, Usage]:  # type: ignore[assignment]
    c = Cluster()
    for table, objs in ((c.pods, pods), (c.nodes, nodes)):
        table.replace_begin()
        for o in objs:
            table.upsert(o)
        table.replace_end()
    u = Usage(None, interval=15)  # type: ignore[arg-type]
    for t in (0.0, 15.0):
        u.pods.write(t, {pod_key(*k.split("/")): v for k, v in usage.items()})
    return c, u
