"""Self metrics of ``kubescope custom-metrics`` (``/metrics``).

* ``kubescope_custom_metrics_requests_total`` and ``..._request_duration_seconds`` by API group, rule
  (``rules[2]``, ``externalRules[0]``, ``upstream``, or empty for discovery and unknown metrics) and code;
* ``..._prometheus_query_duration_seconds`` by rule and ``..._prometheus_query_errors_total`` by rule
  and kind (``timeout``, ``transport``, ``http``, ``bad_data``, ``execution``...);
* ``..._cache_requests_total`` by outcome (``hit``, ``miss``, ``coalesced``, ``stale``), the age of
  stale answers served (``..._stale_answer_age_seconds``) and entries held;
* ``..._discovery_*``: duration and result of the last series discovery, series and metrics found;
* ``..._no_data_total`` by rule and reason (``empty``, ``nan``): answers turned into NotFound.

Rendered by ``prometheus_client`` from a private registry (plus the process collector).
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest

P = "kubescope_custom_metrics_"
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class SelfMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Metrics in ``registry`` (the web core's server registry), or in a private one with the
        process collector."""
        if registry is None:
            registry = CollectorRegistry(auto_describe=True)
            ProcessCollector(registry=registry)
        r = self.registry = registry
        self.requests = Counter(P + "requests", "API requests served.", ["group", "rule", "code"], registry=r)
        self.request_seconds = Histogram(
            P + "request_duration_seconds", "API request latency.", ["group", "rule"], buckets=REQUEST_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.query_seconds = Histogram(
            P + "prometheus_query_duration_seconds", "Prometheus query latency.", ["rule"],
            buckets=REQUEST_BUCKETS, registry=r,
        )  # fmt: skip
        self.query_errors = Counter(
            P + "prometheus_query_errors", "Failed Prometheus queries.", ["rule", "kind"], registry=r
        )
        self.cache = Counter(
            P + "cache_requests", "Answer cache lookups by outcome.", ["outcome"], registry=r
        )
        self.stale_age = Histogram(
            P + "stale_answer_age_seconds", "Age of stale answers served while the backend failed.",
            buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 120), registry=r,
        )  # fmt: skip
        self.cache_entries = Gauge(P + "cache_entries", "Answers held in the cache.", registry=r)
        self.no_data = Counter(
            P + "no_data", "Answers without data turned into NotFound.", ["rule", "reason"], registry=r
        )
        self.discovery_seconds = Gauge(
            P + "discovery_duration_seconds", "Duration of the last series discovery.", registry=r
        )
        self.discovery_success = Gauge(
            P + "discovery_last_success_timestamp_seconds",
            "When series discovery last succeeded.",
            registry=r,
        )
        self.discovery_errors = Counter(P + "discovery_errors", "Failed series discoveries.", registry=r)
        self.series = Gauge(
            P + "discovered_series", "Distinct series shapes found by the last discovery.", registry=r
        )
        self.metrics = Gauge(P + "discovered_metrics", "Metrics served, by API group.", ["group"], registry=r)
        self.upstream_errors = Counter(
            P + "upstream_errors", "Failed requests to --upstream-external-metrics.", ["kind"], registry=r
        )
        self.entries_source: Callable[[], int] | None = None

    def render(self) -> bytes:
        if self.entries_source is not None:
            self.cache_entries.set(self.entries_source())
        return generate_latest(self.registry)
