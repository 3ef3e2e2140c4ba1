"""Building blocks for resource-metrics tests: watched objects and a storage that has seen two scrapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubescope.kubelet.parser import ZERO_TIME_NS, MetricsPoint
from kubescope.resource.inventory import Node, NodeCache, Pod, PodCache
from kubescope.resource.storage import MetricsStorage

S = 1_000_000_000
T0 = 1_769_539_700 * S  # 2026-01-27T18:48:20Z


def node(name: str, labels: Mapping[str, str] | None = None, *, port: int = 0, ip: str = "127.0.0.1",
         annotations: Mapping[str, str] | None = None, ready: bool = True, cpu: str = "") -> Node:  # fmt: skip
    return Node(
        metadata={"name": name, "labels": dict(labels or {}), "annotations": dict(annotations or {})},  # type: ignore[arg-type]
        status={  # type: ignore[arg-type]
            "capacity": {"cpu": cpu} if cpu else {},
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    )


def pod(namespace: str, name: str, labels: Mapping[str, str] | None = None, phase: str = "Running") -> Pod:
    return Pod(
        metadata={"name": name, "namespace": namespace, "labels": dict(labels or {})},  # type: ignore[arg-type]
        status={"phase": phase},  # type: ignore[arg-type]
    )


def decode_structs(nodes: Sequence[Node], pods: Sequence[Pod]) -> tuple[list[Node], list[Pod]]:
    """Round-trip through msgspec so nested dicts become Structs, as the reflector delivers them."""
    import msgspec

    return (
        [msgspec.convert(msgspec.to_builtins(n), Node) for n in nodes],
        [msgspec.convert(msgspec.to_builtins(p), Pod) for p in pods],
    )


def caches(nodes: Sequence[Node], pods: Sequence[Pod]) -> tuple[NodeCache, PodCache]:
    nc, pc = NodeCache(), PodCache()
    ns, ps = decode_structs(nodes, pods)
    nc.replace_begin()
    for n in ns:
        nc.upsert(n)
    nc.replace_end()
    pc.replace_begin()
    for p in ps:
        pc.upsert(p)
    pc.replace_end()
    return nc, pc


def two_scrapes(
    nodes: Mapping[str, tuple[int, int]],
    pods: Mapping[tuple[str, str], Mapping[str, tuple[int, int]]],
    window_s: float = 15.0,
    resolution_s: int = 15,
) -> MetricsStorage:
    """A storage after two scrapes ``window_s`` apart: values are (nano-cores, bytes) to come out."""
    st = MetricsStorage(resolution_s * S)
    w = int(window_s * S)
    first_n = {n: MetricsPoint(ZERO_TIME_NS, T0, 1_000 * S, mem) for n, (cpu, mem) in nodes.items()}
    first_p = {
        k: {c: MetricsPoint(T0 - 3600 * S, T0, 100 * S, mem) for c, (cpu, mem) in cs.items()}
        for k, cs in pods.items()
    }
    st.store(first_n, first_p)
    second_n = {
        n: MetricsPoint(ZERO_TIME_NS, T0 + w, 1_000 * S + cpu * w // S, mem)
        for n, (cpu, mem) in nodes.items()
    }
    second_p = {
        k: {
            c: MetricsPoint(T0 - 3600 * S, T0 + w, 100 * S + cpu * w // S, mem)
            for c, (cpu, mem) in cs.items()
        }
        for k, cs in pods.items()
    }
    st.store(second_n, second_p)
    return st
