"""The Metrics API's items (``metrics.k8s.io``, served by kubescope resource-metrics or
metrics-server) as their readers decode them: the fields they use, nothing more.

One definition for every reader (the console's usage bars, the history recorder's cycles): a
field the API adds or a reader starts to need is added here once.
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import Wire


class Usage(Wire):
    cpu: str = ""
    memory: str = ""


class ContainerMetrics(Wire):
    name: str = ""
    usage: Usage = msgspec.field(default_factory=Usage)


class MetricsMeta(Wire):
    """Name and namespace: all a reader needs of a metrics item's metadata (its timestamps and
    labels are skipped while decoding)."""

    name: str = ""
    namespace: str = ""


class NodeMetrics(Wire):
    metadata: MetricsMeta = msgspec.field(default_factory=MetricsMeta)
    timestamp: str = ""
    usage: Usage = msgspec.field(default_factory=Usage)


class PodMetrics(Wire):
    metadata: MetricsMeta = msgspec.field(default_factory=MetricsMeta)
    timestamp: str = ""
    containers: list[ContainerMetrics] = msgspec.field(default_factory=list)


class NodeMetricsList(Wire):
    items: list[NodeMetrics] = msgspec.field(default_factory=list)


class PodMetricsList(Wire):
    items: list[PodMetrics] = msgspec.field(default_factory=list)
