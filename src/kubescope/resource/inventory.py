"""Nodes and running pods, as the watches deliver them: what to scrape and what may be served.

metrics-server keeps a full Node informer and a metadata-only Pod informer filtered server-side with
``fieldSelector=status.phase=Running``. Here the reflectors decode into slim Structs that declare
only what is read, and the caches below (reflector sinks) keep, per object:

* nodes: name, labels (for ``labelSelector`` and ``--node-selector``), CPU capacity (rates above it
  are refused), addresses, the kubelet port
  from ``status.daemonEndpoints``, the ``metrics.k8s.io/resource-metrics-path`` annotation, the Ready
  condition (a NotReady node's scrape failure is logged quietly, as metrics-server does);
* pods: namespace, name, labels. A pod whose phase is not ``Running`` is dropped even if the API
  server still sends it (a field-selector watch reports a pod that stops matching as DELETED, but
  a server without field-selector support would not).

Both render the metadata part of their Metrics API item when the object changes
(:func:`~kubescope.resource.render.metadata_parts`), so answering a list is a join.
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import Wire
from kubescope.model.quantity import QuantityError, parse_quantity
from kubescope.resource.render import metadata_parts

PATH_ANNOTATION = "metrics.k8s.io/resource-metrics-path"


class _Meta(Wire):
    name: str = ""
    namespace: str = ""
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
    """The fields of a Node that resource-metrics reads."""

    metadata: _Meta = msgspec.field(default_factory=_Meta)
    status: _NodeStatus = msgspec.field(default_factory=_NodeStatus)


class _PodStatus(Wire):
    phase: str = ""


class Pod(Wire):
    """The fields of a Pod that resource-metrics reads (metadata and phase)."""

    metadata: _Meta = msgspec.field(default_factory=_Meta)
    status: _PodStatus = msgspec.field(default_factory=_PodStatus)


class NodeInfo(msgspec.Struct, frozen=True, gc=False):
    name: str
    labels: dict[str, str]
    addresses: tuple[tuple[str, str], ...]
    """``(type, address)`` in the node's order."""
    status_port: int
    metrics_path: str
    ready: bool
    head: bytes
    tail: bytes
    cpu_capacity: int = 0
    """``status.capacity.cpu`` in nano-cores; 0 when absent or unreadable."""


class PodInfo(msgspec.Struct, frozen=True, gc=False):
    namespace: str
    name: str
    labels: dict[str, str]
    head: bytes
    tail: bytes


def node_info(node: Node) -> NodeInfo:
    m = node.metadata
    head, tail = metadata_parts(m.name, "", m.labels)
    ready = False
    for c in node.status.conditions:
        if c.type == "Ready":
            ready = c.status == "True"
            break
    return NodeInfo(
        name=m.name,
        labels=m.labels,
        addresses=tuple((a.type, a.address) for a in node.status.addresses),
        status_port=node.status.daemon_endpoints.kubelet_endpoint.port,
        metrics_path=m.annotations.get(PATH_ANNOTATION, ""),
        ready=ready,
        head=head,
        tail=tail,
        cpu_capacity=_nanocores(node.status.capacity.get("cpu", "")),
    )


def _nanocores(q: str) -> int:
    if not q:
        return 0
    try:
        return max(0, int(parse_quantity(q) * 1_000_000_000))
    except (QuantityError, ValueError, ArithmeticError):
        return 0


class NodeCache:
    """Reflector sink for nodes."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
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
        self.nodes[name] = node_info(obj)
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


class PodCache:
    """Reflector sink for running pods."""

    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], PodInfo] = {}
        self.by_namespace: dict[str, dict[str, PodInfo]] = {}
        self._seen: set[tuple[str, str]] | None = None
        self.synced = False
        self._sorted: list[tuple[str, str]] | None = None
        self.version = 0
        """Bumped on every change: cached answers key on it."""

    def replace_begin(self) -> None:
        self._seen = set()

    def upsert(self, obj: Pod) -> None:
        m = obj.metadata
        key = (m.namespace, m.name)
        if obj.status.phase != "Running":
            self._remove(key)
            return
        head, tail = metadata_parts(m.name, m.namespace, m.labels)
        info = PodInfo(m.namespace, m.name, m.labels, head, tail)
        if key not in self.pods:
            self._sorted = None
        self.pods[key] = info
        self.version += 1
        ns = self.by_namespace.get(m.namespace)
        if ns is None:
            ns = self.by_namespace[m.namespace] = {}
        ns[m.name] = info
        if self._seen is not None:
            self._seen.add(key)

    def delete(self, obj: Pod) -> None:
        self._remove((obj.metadata.namespace, obj.metadata.name))

    def _remove(self, key: tuple[str, str]) -> None:
        if self.pods.pop(key, None) is None:
            return
        self._sorted = None
        self.version += 1
        ns = self.by_namespace.get(key[0])
        if ns is not None:
            ns.pop(key[1], None)
            if not ns:
                del self.by_namespace[key[0]]

    def replace_end(self) -> None:
        seen = self._seen or set()
        for key in [k for k in self.pods if k not in seen]:
            self._remove(key)
        self._seen = None
        self.synced = True

    def sorted_keys(self) -> list[tuple[str, str]]:
        """All pods by namespace, then name (metrics-server's order); cached until the set changes."""
        if self._sorted is None:
            self._sorted = sorted(self.pods)
        return self._sorted

    def namespace_names(self, namespace: str) -> list[str]:
        return sorted(self.by_namespace.get(namespace, ()))
