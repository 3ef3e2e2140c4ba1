"""``kubescope resource-metrics``: a metrics-server compatible pipeline serving ``metrics.k8s.io``.

kubelet ``/metrics/resource`` -> :mod:`.parser` (streaming, five families) -> :mod:`.storage` (two
points per node and container, metrics-server's CPU-rate rules) -> :mod:`.api` (NodeMetrics and
PodMetrics in v1beta1 and v1, served as an aggregated API server by :mod:`kubescope.apiserver`).
"""
