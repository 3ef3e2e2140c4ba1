"""Self metrics of ``kubescope resource-metrics`` (``/metrics``): metrics-server's families, then ours.

metrics-server's (``metrics_server_*``, the set its e2e test pins):

* ``api_metric_freshness_seconds``: histogram of ``now - timestamp`` of every item served;
* ``kubelet_last_request_time_seconds{node}``, ``kubelet_request_duration_seconds{node}``,
  ``kubelet_request_total{success}``;
* ``manager_tick_duration_seconds``: a whole cycle, buckets around the resolution;
* ``storage_points{type="node|container"}``: points that have a prev (servable).

The generic apiserver's ``apiserver_request_total`` and ``apiserver_request_duration_seconds``
(by verb, group, version, resource, scope, code), then ``kubescope_resource_*`` (errors by reason,
lines parsed, pods dropped, rate errors, delegated auth traffic) and the process collector.

Histograms and counters are plain Python numbers updated on the hot paths and rendered here as
text; a per-node series disappears with its node (metrics-server keeps them forever).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest

from kubescope.model.gofmt import go_float

DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
APISERVER_DURATION_BUCKETS = (
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0,
    15.0, 20.0, 30.0, 45.0, 60.0,
)  # fmt: skip


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


class Histogram:
    __slots__ = ("buckets", "count", "counts", "sum")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, v: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, v)] += 1
        self.sum += v
        self.count += 1

    def observe_ages(self, now: float, times: list[float], total: float) -> None:
        """Observe ``now - t`` for every ``t`` of ``times`` (ascending, summing to ``total``) in
        O(buckets x log n): a value is within bucket ``le`` exactly when ``t >= now - le``."""
        n = len(times)
        if not n:
            return
        below = 0
        for i, le in enumerate(self.buckets):
            within = n - bisect.bisect_left(times, now - le)
            self.counts[i] += within - below
            below = within
        self.counts[-1] += n - below
        self.sum += n * now - total
        self.count += n

    def lines(self, name: str, labels: str) -> Iterable[str]:
        sep = "," if labels else ""
        acc = 0
        for le, c in zip(self.buckets, self.counts, strict=False):
            acc += c
            yield f'{name}_bucket{{{labels}{sep}le="{go_float(le)}"}} {acc}\n'
        yield f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}\n'
        brace = f"{{{labels}}}" if labels else ""
        yield f"{name}_sum{brace} {go_float(self.sum)}\n"
        yield f"{name}_count{brace} {self.count}\n"


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass
class NodeRequests:
    duration: Histogram = field(default_factory=lambda: Histogram(DEF_BUCKETS))
    last_request: float = 0.0


@dataclass
class SelfMetrics:
    """Every counter the pipeline and the server update; rendered by :meth:`render`."""

    resolution_s: float
    freshness: Histogram = field(default_factory=lambda: Histogram(FRESHNESS_BUCKETS))
    nodes: dict[str, NodeRequests] = field(default_factory=dict)
    kubelet_ok: int = 0
    kubelet_failed: int = 0
    tick: Histogram = field(init=False)
    storage_points: Callable[[], tuple[int, int]] = lambda: (0, 0)
    requests: dict[tuple[str, ...], int] = field(default_factory=dict)
    request_durations: dict[tuple[str, ...], Histogram] = field(default_factory=dict)
    scrape_errors: dict[str, int] = field(default_factory=dict)
    lines_parsed: int = 0
    bytes_read: int = 0
    dropped_pods: int = 0
    duplicate_points: int = 0
    rate_errors: Callable[[], dict[tuple[str, str], int]] = dict
    bad_samples: dict[str, int] = field(default_factory=dict)
    auth: Callable[[], dict[str, int]] = dict
    last_cycle_nodes: int = 0
    last_cycle_scraped: int = 0
    last_cycle_seconds: float = 0.0
    _process: CollectorRegistry = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tick = Histogram(buckets_for_scrape_duration(self.resolution_s))
        self._process = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self._process)

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

    def request(self, labels: tuple[str, ...], code: int, seconds: float) -> None:
        """``labels``: verb, group, version, resource, subresource, scope."""
        key = (*labels, str(code))
        self.requests[key] = self.requests.get(key, 0) + 1
        h = self.request_durations.get(labels)
        if h is None:
            h = self.request_durations[labels] = Histogram(APISERVER_DURATION_BUCKETS)
        h.observe(seconds)

    # -- exposition -------------------------------------------------------------------------------

    def render(self) -> bytes:
        out: list[str] = []
        w = out.append

        def head(name: str, typ: str, text: str) -> None:
            w(f"# HELP {name} [ALPHA] {text}\n# TYPE {name} {typ}\n")

        head("metrics_server_api_metric_freshness_seconds", "histogram", "Freshness of metrics exported")
        out.extend(self.freshness.lines("metrics_server_api_metric_freshness_seconds", ""))
        names = sorted(self.nodes)
        head(
            "metrics_server_kubelet_last_request_time_seconds",
            "gauge",
            "Time of last request performed to Kubelet API since unix epoch in seconds",
        )
        for n in names:
            w(f'metrics_server_kubelet_last_request_time_seconds{{node="{_escape(n)}"}} '
              f"{go_float(self.nodes[n].last_request)}\n")  # fmt: skip
        head(
            "metrics_server_kubelet_request_duration_seconds",
            "histogram",
            "Duration of requests to Kubelet API in seconds",
        )
        for n in names:
            out.extend(
                self.nodes[n].duration.lines(
                    "metrics_server_kubelet_request_duration_seconds", f'node="{_escape(n)}"'
                )
            )
        head("metrics_server_kubelet_request_total", "counter", "Number of requests sent to Kubelet API")
        w(f'metrics_server_kubelet_request_total{{success="false"}} {self.kubelet_failed}\n')
        w(f'metrics_server_kubelet_request_total{{success="true"}} {self.kubelet_ok}\n')
        head(
            "metrics_server_manager_tick_duration_seconds",
            "histogram",
            "The total time spent collecting and storing metrics in seconds.",
        )
        out.extend(self.tick.lines("metrics_server_manager_tick_duration_seconds", ""))
        node_points, container_points = self.storage_points()
        head("metrics_server_storage_points", "gauge", "Number of metrics points stored.")
        w(f'metrics_server_storage_points{{type="container"}} {container_points}\n')
        w(f'metrics_server_storage_points{{type="node"}} {node_points}\n')

        label_names = ("verb", "group", "version", "resource", "subresource", "scope")
        head(
            "apiserver_request_total",
            "counter",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, "
            "resource, scope, component, and HTTP response code.",
        )
        for req_key in sorted(self.requests):
            *req_labels, code = req_key
            pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(label_names, req_labels, strict=True))
            w(f'apiserver_request_total{{code="{code}",component="apiserver",dry_run="",{pairs}}} '
              f"{self.requests[req_key]}\n")  # fmt: skip
        head(
            "apiserver_request_duration_seconds",
            "histogram",
            "Response latency distribution in seconds for each verb, dry run value, group, version, "
            "resource, subresource, scope and component.",
        )
        for dur_labels in sorted(self.request_durations):
            pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(label_names, dur_labels, strict=True))
            out.extend(
                self.request_durations[dur_labels].lines(
                    "apiserver_request_duration_seconds", f'component="apiserver",dry_run="",{pairs}'
                )
            )

        def plain(name: str, typ: str, text: str, value: float | int) -> None:
            w(f"# HELP {name} {text}\n# TYPE {name} {typ}\n{name} {go_float(value)}\n")

        w(
            "# HELP kubescope_resource_kubelet_scrape_errors_total Failed kubelet scrapes by reason "
            "(connect, timeout, http_<code>, parse, too_large, no_address).\n"
            "# TYPE kubescope_resource_kubelet_scrape_errors_total counter\n"
        )
        for reason in sorted(self.scrape_errors):
            w(
                f'kubescope_resource_kubelet_scrape_errors_total{{reason="{reason}"}} '
                f"{self.scrape_errors[reason]}\n"
            )
        plain(
            "kubescope_resource_kubelet_lines_parsed_total", "counter",
            "Lines of kubelet /metrics/resource responses parsed.", self.lines_parsed,
        )  # fmt: skip
        plain(
            "kubescope_resource_kubelet_bytes_read_total", "counter",
            "Bytes of kubelet /metrics/resource responses read.", self.bytes_read,
        )  # fmt: skip
        plain(
            "kubescope_resource_pods_dropped_total", "counter",
            "Pods left out of a scrape because a container had no or a zero CPU or memory value.",
            self.dropped_pods,
        )  # fmt: skip
        plain(
            "kubescope_resource_duplicate_points_total", "counter",
            "Node or pod points reported by more than one kubelet in a cycle (the first was kept).",
            self.duplicate_points,
        )  # fmt: skip
        w(
            "# HELP kubescope_resource_rate_errors_total CPU rates not served, by reason: the start time "
            "or the cumulative CPU decreased (as metrics-server), or the rate is above the node's "
            "capacity (ours).\n# TYPE kubescope_resource_rate_errors_total counter\n"
        )
        for (what, reason), count in sorted(self.rate_errors().items()):
            w(f'kubescope_resource_rate_errors_total{{reason="{reason}",type="{what}"}} {count}\n')
        w(
            "# HELP kubescope_resource_kubelet_bad_samples_total Kubelet samples not used as sent: "
            "a series repeated in one response (duplicate: the later one is kept, as metrics-server "
            "does), CPU or memory values that are NaN, negative or out of range (they count as "
            "missing and drop their node or pod).\n"
            "# TYPE kubescope_resource_kubelet_bad_samples_total counter\n"
        )
        for reason in sorted(self.bad_samples):
            w(
                f'kubescope_resource_kubelet_bad_samples_total{{reason="{reason}"}} {self.bad_samples[reason]}\n'
            )
        plain(
            "kubescope_resource_last_cycle_nodes", "gauge",
            "Nodes the last cycle tried to scrape.", self.last_cycle_nodes,
        )  # fmt: skip
        plain(
            "kubescope_resource_last_cycle_scraped_nodes", "gauge",
            "Nodes the last cycle scraped successfully.", self.last_cycle_scraped,
        )  # fmt: skip
        plain(
            "kubescope_resource_last_cycle_seconds", "gauge",
            "Duration of the last scrape-and-store cycle.", self.last_cycle_seconds,
        )  # fmt: skip
        w(
            "# HELP kubescope_resource_delegated_auth_requests_total TokenReview and SubjectAccessReview "
            "requests sent, and answers served from cache.\n"
            "# TYPE kubescope_resource_delegated_auth_requests_total counter\n"
        )
        for auth_key, count in sorted(self.auth().items()):
            kind, _, result = auth_key.partition(":")
            w(
                f'kubescope_resource_delegated_auth_requests_total{{kind="{kind}",result="{result}"}} '
                f"{count}\n"
            )
        return "".join(out).encode() + generate_latest(self._process)
