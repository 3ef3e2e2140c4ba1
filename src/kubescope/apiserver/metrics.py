"""The generic apiserver's request metrics, as a self-metrics collector:
``apiserver_request_total{code,component,dry_run,group,resource,scope,subresource,verb,version}``
and ``apiserver_request_duration_seconds`` with kube-apiserver's buckets. Counted as plain
numbers by the pipeline (:meth:`RequestMetrics.observe`), turned into families when scraped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from kubescope.web import Histogram

DURATION_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0,
    15.0, 20.0, 30.0, 45.0, 60.0,
)  # fmt: skip
LABELS = ("component", "verb", "group", "version", "resource", "subresource", "scope")


@dataclass(eq=False)
class RequestMetrics:
    requests: dict[tuple[str, ...], int] = field(default_factory=dict)
    durations: dict[tuple[str, ...], Histogram] = field(default_factory=dict)

    def observe(self, labels: tuple[str, ...], code: int, seconds: float) -> None:
        """``labels``: component, verb, group, version, resource, subresource, scope (the pipeline's
        observer)."""
        key = (*labels, str(code))
        self.requests[key] = self.requests.get(key, 0) + 1
        h = self.durations.get(labels)
        if h is None:
            h = self.durations[labels] = Histogram(DURATION_BUCKETS)
        h.observe(seconds)

    def collect(self) -> Iterable[Metric]:
        names = ["code", "dry_run", *LABELS]
        total = CounterMetricFamily(
            "apiserver_request",
            "[ALPHA] Counter of apiserver requests broken out for each verb, dry run value, group, version, "
            "resource, scope, component, and HTTP response code.",
            labels=names,
        )
        for key in sorted(self.requests):
            *labels, code = key
            total.add_metric([code, "", *labels], self.requests[key])
        duration = HistogramMetricFamily(
            "apiserver_request_duration_seconds",
            "[ALPHA] Response latency distribution in seconds for each verb, dry run value, group, version, "
            "resource, subresource, scope and component.",
            labels=["dry_run", *LABELS],
        )
        for key in sorted(self.durations):
            self.durations[key].add_to(duration, ["", *key])
        return [total, duration]
