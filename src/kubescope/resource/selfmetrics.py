"""Self metrics of ``kubescope resource-metrics`` (``/metrics``): metrics-server's families, then ours.

metrics-server's (``metrics_server_*``, the set its e2e test pins):

* ``api_metric_freshness_seconds``: histogram of ``now - timestamp`` of every item served;
* ``kubelet_last_request_time_seconds{node}``, ``kubelet_request_duration_seconds{node}``,
  ``kubelet_request_total{success}``;
* ``manager_tick_duration_seconds``: a whole cycle, buckets around the resolution;
* ``storage_points{type="node|container"}``: points that have a prev (servable).

Then ``kubescope_resource_*`` (errors by reason, lines parsed, pods dropped, rate errors, bad
samples, the last cycle). The generic apiserver's request metrics, the delegated-auth counters,
the supervisor's and the process metrics come from the serving core and the apiserver package.

Histograms and counters are plain Python numbers updated on the hot paths and turned into metric
families only when scraped (:meth:`SelfMetrics.collect`, a collector of the server's self
metrics); a per-node series disappears with its node (metrics-server keeps them forever).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from kubescope.web import Histogram
from kubescope.web.selfmetrics import render

DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

__all__ = ["FRESHNESS_BUCKETS", "Histogram", "SelfMetrics", "buckets_for_scrape_duration"]


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    out = []
    v = start
    for _ in range(count):
        out.append(v)
        v *= factor
    return tuple(out)


FRESHNESS_BUCKETS = exponential_buckets(1, 1.364, 20)


def buckets_for_scrape_duration(resolution_s: float) -> tuple[float, ...]:
    """metrics-server's ``BucketsForScrapeDuration``: the default buckets plus a few around the
    resolution, so slow cycles stand out."""
    buckets = list(DEF_BUCKETS)
    top = buckets[-1]
    if resolution_s > top:
        buckets += [top + (resolution_s - top) / 2, resolution_s, resolution_s * 1.5, resolution_s * 2.0]
    elif resolution_s < top:
        i = 0
        for i, b in enumerate(buckets):  # noqa: B007 - i is used after the loop
            if b > resolution_s:
                break
        b = buckets[i]
        if b - resolution_s < buckets[0] or (i > 0 and resolution_s - buckets[i - 1] < buckets[0]):
            return tuple(buckets)
        buckets = [*buckets[:i], resolution_s, *buckets[i:]]
    return tuple(buckets)


@dataclass
class NodeRequests:
    duration: Histogram = field(default_factory=lambda: Histogram(DEF_BUCKETS))
    last_request: float = 0.0


@dataclass(eq=False)
class SelfMetrics:
    """Every counter the scraper and the server update; a collector of the server's self metrics."""

    resolution_s: float
    freshness: Histogram = field(default_factory=lambda: Histogram(FRESHNESS_BUCKETS))
    nodes: dict[str, NodeRequests] = field(default_factory=dict)
    kubelet_ok: int = 0
    kubelet_failed: int = 0
    tick: Histogram = field(init=False)
    storage_points: Callable[[], tuple[int, int]] = lambda: (0, 0)
    scrape_errors: dict[str, int] = field(default_factory=dict)
    lines_parsed: int = 0
    bytes_read: int = 0
    dropped_pods: int = 0
    duplicate_points: int = 0
    rate_errors: Callable[[], dict[tuple[str, str], int]] = dict
    bad_samples: dict[str, int] = field(default_factory=dict)
    last_cycle_nodes: int = 0
    last_cycle_scraped: int = 0
    last_cycle_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.tick = Histogram(buckets_for_scrape_duration(self.resolution_s))

    # -- updates from the scraper -----------------------------------------------------------------

    def kubelet_request(self, node: str, seconds: float, ok: bool, now: float) -> None:
        n = self.nodes.get(node)
        if n is None:
            n = self.nodes[node] = NodeRequests()
        n.duration.observe(seconds)
        n.last_request = float(int(now))
        if ok:
            self.kubelet_ok += 1
        else:
            self.kubelet_failed += 1

    def scrape_error(self, reason: str) -> None:
        self.scrape_errors[reason] = self.scrape_errors.get(reason, 0) + 1

    def forget_nodes(self, keep: Iterable[str]) -> None:
        keep_set = set(keep)
        for name in [n for n in self.nodes if n not in keep_set]:
            del self.nodes[name]

    # -- exposition -------------------------------------------------------------------------------

    def render(self) -> bytes:
        """These families alone as text (the server's ``/metrics`` adds the others)."""
        return render(self.collect())

    def collect(self) -> Iterable[Metric]:
        yield self.freshness.family(
            "metrics_server_api_metric_freshness_seconds", "[ALPHA] Freshness of metrics exported"
        )
        names = sorted(self.nodes)
        last = GaugeMetricFamily(
            "metrics_server_kubelet_last_request_time_seconds",
            "[ALPHA] Time of last request performed to Kubelet API since unix epoch in seconds",
            labels=["node"],
        )
        durations = HistogramMetricFamily(
            "metrics_server_kubelet_request_duration_seconds",
            "[ALPHA] Duration of requests to Kubelet API in seconds",
            labels=["node"],
        )
        for n in names:
            last.add_metric([n], self.nodes[n].last_request)
            self.nodes[n].duration.add_to(durations, [n])
        yield from (last, durations)
        total = CounterMetricFamily(
            "metrics_server_kubelet_request",
            "[ALPHA] Number of requests sent to Kubelet API",
            labels=["success"],
        )
        total.add_metric(["false"], self.kubelet_failed)
        total.add_metric(["true"], self.kubelet_ok)
        yield total
        yield self.tick.family(
            "metrics_server_manager_tick_duration_seconds",
            "[ALPHA] The total time spent collecting and storing metrics in seconds.",
        )
        node_points, container_points = self.storage_points()
        points = GaugeMetricFamily(
            "metrics_server_storage_points", "[ALPHA] Number of metrics points stored.", labels=["type"]
        )
        points.add_metric(["container"], container_points)
        points.add_metric(["node"], node_points)
        yield points

        errors = CounterMetricFamily(
            "kubescope_resource_kubelet_scrape_errors",
            "Failed kubelet scrapes by reason (connect, timeout, http_<code>, parse, too_large, no_address).",
            labels=["reason"],
        )
        for reason in sorted(self.scrape_errors):
            errors.add_metric([reason], self.scrape_errors[reason])
        yield errors
        yield CounterMetricFamily(
            "kubescope_resource_kubelet_lines_parsed",
            "Lines of kubelet /metrics/resource responses parsed.",
            value=self.lines_parsed,
        )
        yield CounterMetricFamily(
            "kubescope_resource_kubelet_bytes_read",
            "Bytes of kubelet /metrics/resource responses read.",
            value=self.bytes_read,
        )
        yield CounterMetricFamily(
            "kubescope_resource_pods_dropped",
            "Pods left out of a scrape because a container had no or a zero CPU or memory value.",
            value=self.dropped_pods,
        )
        yield CounterMetricFamily(
            "kubescope_resource_duplicate_points",
            "Node or pod points reported by more than one kubelet in a cycle (the first was kept).",
            value=self.duplicate_points,
        )
        rates = CounterMetricFamily(
            "kubescope_resource_rate_errors",
            "CPU rates not served, by reason: the start time or the cumulative CPU decreased (as "
            "metrics-server), or the rate is above the node's capacity (ours).",
            labels=["reason", "type"],
        )
        for (what, reason), count in sorted(self.rate_errors().items()):
            rates.add_metric([reason, what], count)
        yield rates
        bad = CounterMetricFamily(
            "kubescope_resource_kubelet_bad_samples",
            "Kubelet samples not used as sent: a series repeated in one response (duplicate: the later one "
            "is kept, as metrics-server does), CPU or memory values that are NaN, negative or out of range "
            "(they count as missing and drop their node or pod).",
            labels=["reason"],
        )
        for reason in sorted(self.bad_samples):
            bad.add_metric([reason], self.bad_samples[reason])
        yield bad
        yield GaugeMetricFamily(
            "kubescope_resource_last_cycle_nodes",
            "Nodes the last cycle tried to scrape.",
            value=self.last_cycle_nodes,
        )
        yield GaugeMetricFamily(
            "kubescope_resource_last_cycle_scraped_nodes",
            "Nodes the last cycle scraped successfully.",
            value=self.last_cycle_scraped,
        )
        yield GaugeMetricFamily(
            "kubescope_resource_last_cycle_seconds",
            "Duration of the last scrape-and-store cycle.",
            value=self.last_cycle_seconds,
        )
