"""Recording straight from the kubelets (``--source=kubelets``): no Metrics API needed.

Each cycle, resource-metrics' scraper (:mod:`kubescope.kubelet.scraper`: nodes from a watch, the
address of the first type in ``--kubelet-preferred-address-types``, ``--kubelet-port`` or the node's
``status.daemonEndpoints.kubeletEndpoint.Port``, ``GET /metrics/resource``, bounded concurrency and
a per-node timeout) brings every node's cumulative CPU counters and working sets. A CPU value is the
rate between this cycle's point and the previous cycle's point of the same node or container,
metrics-server's rule (:func:`~kubescope.kubelet.rates.resource_usage`): over the real window between
the kubelet's two timestamps, none when the counter went backwards, the container restarted
between the two (its start time is after the previous point) or the rate is above twice the node's
capacity (a counter glitch). Such samples are left out and counted (``no_rate``), as are first
points (no previous one yet). Memory is the last working set. A pod's values are its containers'
sums, and only when every container has a rate (as ``kubectl top pod`` shows a pod). Samples carry
the kubelet's own timestamp, in seconds.

Points of nodes and containers that were not in this cycle's answers are forgotten, as
metrics-server's storage forgets them: a node that failed one cycle starts again with a first point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter

from kubescope.history.pods import PodCatalog
from kubescope.history.recording import Batch, CycleStats
from kubescope.history.series import SeriesKey
from kubescope.kube.credentials import Credentials
from kubescope.kubelet.nodes import NodeCache, NodeTarget, node_target
from kubescope.kubelet.parser import MetricsPoint, PodKey
from kubescope.kubelet.rates import RateError, Usage, check_capacity, resource_usage
from kubescope.kubelet.scraper import CycleResult, Scraper
from kubescope.kubelet.settings import KubeletSettings

NS_PER_S = 1_000_000_000
NANO_TO_STORED = 1_000
"""Nano-cores per stored CPU unit (micro-cores, :data:`~kubescope.history.series.CPU_UNIT`)."""


@dataclass(eq=False)
class ScrapeMetrics:
    """The scraper's counters (:class:`~kubescope.kubelet.scraper.ScrapeMetrics`) as history's self
    metrics: requests by success, failures by reason; the rest as plain totals."""

    registry: CollectorRegistry
    bytes_read: int = 0
    lines_parsed: int = 0
    dropped_pods: int = 0
    duplicate_points: int = 0
    bad_samples: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "kubescope_history_kubelet_requests",
            "Kubelet scrapes by success",
            ["success"],
            registry=self.registry,
        )
        self.errors = Counter(
            "kubescope_history_kubelet_scrape_errors", "Failed kubelet scrapes by reason", ["reason"],
            registry=self.registry,
        )  # fmt: skip

    def kubelet_request(self, node: str, seconds: float, ok: bool, now: float) -> None:
        self.requests.labels("true" if ok else "false").inc()

    def scrape_error(self, reason: str) -> None:
        self.errors.labels(reason).inc()


def _rate(last: MetricsPoint, prev: MetricsPoint | None, capacity: int) -> Usage | None:
    if prev is None or last.ts <= prev.ts or last.start > prev.ts:
        return None  # a first point, an old one, or a container started since the previous point
    try:
        u = resource_usage(last, prev)
        check_capacity(u.cpu, capacity)
    except RateError:
        return None
    return u


class KubeletRates:
    """The previous cycle's points, and this cycle's samples from them (pure: no I/O)."""

    def __init__(self) -> None:
        self.node_prev: dict[str, MetricsPoint] = {}
        self.pod_prev: dict[PodKey, dict[str, MetricsPoint]] = {}

    def samples(self, result: CycleResult, catalog: PodCatalog, batch: Batch, stats: CycleStats) -> None:
        for name, last in result.nodes.items():
            u = _rate(last, self.node_prev.get(name), result.capacity.get(name, 0))
            if u is None:
                stats.no_rate += 2
                continue
            ts = u.ts // NS_PER_S
            batch.add(SeriesKey("node", "cpu", name), None, ts, round(u.cpu / NANO_TO_STORED))
            batch.add(SeriesKey("node", "memory", name), None, ts, u.mem)
            stats.nodes += 1
        for key, containers in result.pods.items():
            pod = catalog.lookup(*key)
            if pod is None:
                stats.unknown_pods += 1
                continue
            prev = self.pod_prev.get(key, {})
            capacity = result.capacity.get(result.node_of.get(key, ""), 0)
            usage = [(c, _rate(p, prev.get(c), capacity)) for c, p in containers.items()]
            if not usage or any(u is None for _, u in usage):
                stats.no_rate += 2 * len(usage) + 2
                continue
            ts = min(u.ts for _, u in usage if u is not None) // NS_PER_S
            cpu_sum = mem_sum = 0
            for c, u in usage:
                assert u is not None
                cpu = round(u.cpu / NANO_TO_STORED)
                batch.add(SeriesKey("container", "cpu", pod.uid, c), pod, u.ts // NS_PER_S, cpu)
                batch.add(SeriesKey("container", "memory", pod.uid, c), pod, u.ts // NS_PER_S, u.mem)
                cpu_sum += cpu
                mem_sum += u.mem
            batch.add(SeriesKey("pod", "cpu", pod.uid), pod, ts, cpu_sum)
            batch.add(SeriesKey("pod", "memory", pod.uid), pod, ts, mem_sum)
            stats.pods += 1
        self.node_prev = dict(result.nodes)
        self.pod_prev = dict(result.pods)


class KubeletSource:
    """Nodes from a watch (the sink :attr:`nodes`), scraped every cycle, rates between cycles."""

    def __init__(
        self, settings: KubeletSettings, registry: CollectorRegistry, *, resolution: float,
        credentials: Credentials | None,
    ) -> None:  # fmt: skip
        self.nodes: NodeCache[NodeTarget] = NodeCache(node_target)
        self.metrics = ScrapeMetrics(registry)
        self.scraper = Scraper(
            settings, self.nodes, self.metrics, resolution=resolution, credentials=credentials,
            apiserver_credentials=credentials,
        )  # fmt: skip
        self.rates = KubeletRates()

    def prepare(self) -> None:
        """Build the kubelets' TLS context now: a bad ``--kubelet-*`` file stops the start."""
        self.scraper.prepare()

    async def cycle(self, catalog: PodCatalog, batch: Batch, stats: CycleStats) -> CycleResult:
        result = await self.scraper.scrape()
        self.rates.samples(result, catalog, batch, stats)
        return result

    async def close(self) -> None:
        await self.scraper.close()
