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

from kubescope.kubelet import nodes
from kubescope.kubelet.nodes import PATH_ANNOTATION, Node, NodeTarget, node_target
from kubescope.model.meta import Wire
from kubescope.resource.render import metadata_parts

__all__ = ["PATH_ANNOTATION", "Node", "NodeCache", "NodeInfo", "Pod", "PodCache", "PodInfo", "node_info"]


class _Meta(Wire):
    name: str = ""
    namespace: str = ""
    resource_version: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class _PodStatus(Wire):
    phase: str = ""


class Pod(Wire):
    """The fields of a Pod that resource-metrics reads (metadata and phase)."""

    metadata: _Meta = msgspec.field(default_factory=_Meta)
    status: _PodStatus = msgspec.field(default_factory=_PodStatus)


class NodeInfo(NodeTarget, frozen=True, gc=False):
    """A scrape target and the metadata part of its NodeMetrics item."""

    head: bytes
    tail: bytes


class PodInfo(msgspec.Struct, frozen=True, gc=False):
    namespace: str
    name: str
    labels: dict[str, str]
    head: bytes
    tail: bytes


def node_info(node: Node) -> NodeInfo:
    t = node_target(node)
    head, tail = metadata_parts(t.name, "", t.labels)
    return NodeInfo(**msgspec.structs.asdict(t), head=head, tail=tail)


class NodeCache(nodes.NodeCache[NodeInfo]):
    """Reflector sink for nodes (what to scrape, and the NodeMetrics items' metadata)."""

    def __init__(self) -> None:
        super().__init__(node_info)


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
