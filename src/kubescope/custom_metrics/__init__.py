"""``kubescope custom-metrics``: custom.metrics.k8s.io and external.metrics.k8s.io from Prometheus.

A drop-in for prometheus-adapter: its configuration file (``rules``, ``externalRules``,
``resourceRules``) and flags are accepted unchanged. The pure core (config, Go templates, naming,
query building, answers) is tested without a network; I/O sits in the Prometheus client, the
discovery loop and the server.
"""
