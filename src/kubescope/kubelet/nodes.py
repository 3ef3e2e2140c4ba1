"""Nodes as a kubelet scraper sees them: where each kubelet listens and how it is doing.

A node watch decodes into the slim :class:`Node` (only what is read) and a :class:`NodeCache` keeps,
per node, a :class:`NodeTarget`: name, labels (for ``--node-selector``), addresses in the node's
order (the scraper picks by ``--kubelet-preferred-address-types``), the kubelet port from
``status.daemonEndpoints.kubeletEndpoint.Port``, the ``metrics.k8s.io/resource-metrics-path``
annotation, the Ready condition (a NotReady node's failure is logged quietly, as metrics-server
does) and the CPU capacity (rates above it are refused). A product that renders more per node
(resource-metrics' Metrics API item) extends :class:`NodeTarget` and hands its own builder to the
cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import msgspec

from kubescope.model.meta import Wire
from kubescope.model.quantity import QuantityError, parse_quantity

PATH_ANNOTATION = "metrics.k8s.io/resource-metrics-path"


class NodeMeta(Wire):
    name: str = ""
    resource_version: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class NodeAddress(Wire):
    type: str = ""
    address: str = ""


class _Endpoint(Wire):
    port: int = msgspec.field(default=0, name="Port")  # DaemonEndpoint spells it with a capital P


class _DaemonEndpoints(Wire):
    kubelet_endpoint: _Endpoint = msgspec.field(default_factory=_Endpoint)


class _NodeCondition(Wire):
    type: str = ""
    status: str = ""


class _NodeStatus(Wire):
    capacity: dict[str, str] = msgspec.field(default_factory=dict)
    addresses: list[NodeAddress] = msgspec.field(default_factory=list)
    daemon_endpoints: _DaemonEndpoints = msgspec.field(default_factory=_DaemonEndpoints)
    conditions: list[_NodeCondition] = msgspec.field(default_factory=list)


class Node(Wire):
    """The fields of a Node that a kubelet scraper reads."""

    metadata: NodeMeta = msgspec.field(default_factory=NodeMeta)
    status: _NodeStatus = msgspec.field(default_factory=_NodeStatus)


class NodeTarget(msgspec.Struct, frozen=True, gc=False):
    name: str
    labels: dict[str, str]
    addresses: tuple[tuple[str, str], ...]
    """``(type, address)`` in the node's order."""
    status_port: int
    """``status.daemonEndpoints.kubeletEndpoint.Port``; 0 when absent."""
    metrics_path: str
    ready: bool
    cpu_capacity: int
    """``status.capacity.cpu`` in nano-cores; 0 when absent or unreadable."""


def node_target(node: Node) -> NodeTarget:
    m = node.metadata
    ready = False
    for c in node.status.conditions:
        if c.type == "Ready":
            ready = c.status == "True"
            break
    return NodeTarget(
        name=m.name,
        labels=m.labels,
        addresses=tuple((a.type, a.address) for a in node.status.addresses),
        status_port=node.status.daemon_endpoints.kubelet_endpoint.port,
        metrics_path=m.annotations.get(PATH_ANNOTATION, ""),
        ready=ready,
        cpu_capacity=_nanocores(node.status.capacity.get("cpu", "")),
    )


def _nanocores(q: str) -> int:
    if not q:
        return 0
    try:
        return max(0, int(parse_quantity(q) * 1_000_000_000))
    except (QuantityError, ValueError, ArithmeticError):
        return 0


T = TypeVar("T", bound=NodeTarget)


class NodeCache(Generic[T]):
    """Reflector sink for nodes: ``nodes`` maps each name to what ``build`` made of its Node."""

    def __init__(self, build: Callable[[Node], T]) -> None:
        self.build = build
        self.nodes: dict[str, T] = {}
        self._seen: set[str] | None = None
        self.synced = False
        self._sorted: list[str] | None = None
        self.version = 0
        """Bumped on every change: cached answers key on it."""

    def replace_begin(self) -> None:
        self._seen = set()

    def upsert(self, obj: Node) -> None:
        name = obj.metadata.name
        if name not in self.nodes:
            self._sorted = None
        self.nodes[name] = self.build(obj)
        self.version += 1
        if self._seen is not None:
            self._seen.add(name)

    def delete(self, obj: Node) -> None:
        if self.nodes.pop(obj.metadata.name, None) is not None:
            self._sorted = None
            self.version += 1

    def replace_end(self) -> None:
        seen = self._seen or set()
        for name in [n for n in self.nodes if n not in seen]:
            del self.nodes[name]
            self._sorted = None
            self.version += 1
        self._seen = None
        self.synced = True

    def sorted_names(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.nodes)
        return self._sorted
