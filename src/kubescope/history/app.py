"""The running history server: pod watches, the recording cycle, compaction and the HTTPS API.

:class:`HistoryServer` owns the parts and their lifecycle:

1. the store (opened at start; a schema or permission problem stops the start with its path);
2. delegated authentication (TokenReview), authorization (SubjectAccessReview), client and
   front-proxy CAs from flags, as every aggregated API server does, and the HTTPS listener;
3. reflectors for pods, ReplicaSets and Jobs (owners up to Deployments and CronJobs);
4. once they have synced, a cycle every ``--resolution`` on a fixed grid: one LIST of NodeMetrics
   and one of PodMetrics (or, with ``--source=kubelets``, every node's kubelet scraped and CPU rates
   taken between cycles, :mod:`~kubescope.history.kubelets`, with a node watch), samples appended in
   one transaction, then closed windows compacted, both in a worker thread; a failed LIST (or no
   kubelet answering) is logged and counted and the cycle skipped (a gap);
5. health: ``/livez`` fails when no cycle started for 3 resolutions; ``/readyz`` until the
   watches synced and the store is open.

It is a :class:`kubescope.web.Server` with an :class:`~kubescope.apiserver.server.AggregatedAPI`
(as resource-metrics): the watches and the recording loop are supervised tasks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kubescope import web
from kubescope.apiserver.options import APIServerOptions, AuthOptions, ServingOptions
from kubescope.apiserver.server import AggregatedAPI
from kubescope.errors import DecodeError, KubeError
from kubescope.history.api import HistoryAPI, routes
from kubescope.history.kubelets import KubeletSource
from kubescope.history.pods import Owned, Owners, Pod, PodCatalog
from kubescope.history.promsource import BackendSettings, PromBackend
from kubescope.history.query import Engine
from kubescope.history.recording import Batch, CycleStats, Recorder, node_samples, pod_samples
from kubescope.history.store import HistoryStore, Retention
from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from kubescope.kubelet.nodes import Node
from kubescope.kubelet.settings import KubeletSettings
from kubescope.log import fields
from kubescope.memory import release_free_memory
from kubescope.web.tls import TLSOptions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeSettings:
    bind_address: str = "0.0.0.0"
    secure_port: int = 443
    cert_dir: str = "apiserver.local.config/certificates"
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""
    requestheader_client_ca_file: str = ""
    requestheader_allowed_names: tuple[str, ...] = ()
    always_allow_paths: tuple[str, ...] = ("/healthz", "/readyz", "/livez")
    anonymous: bool = True
    max_requests_inflight: int = 400
    skip_lookup: bool = False
    """Do not read the front proxy's CA from kube-system/extension-apiserver-authentication (as every
    aggregated API server, by default it is read, so the aggregation layer's requests authenticate)."""

    def options(self, *, lookup: bool = True) -> APIServerOptions:
        """As the generic apiserver's options (the ConfigMap is read unless ``--authentication-skip-lookup``
        or there is no Kubernetes API to read it from)."""
        return APIServerOptions(
            ServingOptions(
                bind_address=self.bind_address,
                secure_port=self.secure_port,
                tls=TLSOptions(
                    cert_file=self.tls_cert_file, key_file=self.tls_private_key_file, cert_dir=self.cert_dir
                ),
                max_requests_inflight=self.max_requests_inflight,
            ),
            AuthOptions(
                skip_lookup=self.skip_lookup or not lookup,
                client_ca_file=self.client_ca_file,
                requestheader_client_ca_file=self.requestheader_client_ca_file,
                requestheader_allowed_names=self.requestheader_allowed_names,
                always_allow_paths=self.always_allow_paths,
                anonymous=self.anonymous,
            ),
        )


@dataclass(frozen=True)
class Settings:
    db: str = "history.db"
    resolution: float = 60.0
    retention: Retention = field(default_factory=Retention)
    window: int = 7200
    metrics_api: str = "/apis/metrics.k8s.io/v1beta1"
    record: bool = True
    source: str = "metrics-api"
    """``metrics-api`` (one LIST of NodeMetrics and of PodMetrics per cycle) or ``kubelets``."""
    kubelet: KubeletSettings = field(default_factory=KubeletSettings)
    """How kubelets are reached with ``source="kubelets"`` (resource-metrics' ``--kubelet-*`` flags)."""
    serve: ServeSettings = field(default_factory=ServeSettings)
    backend: BackendSettings | None = None
    """Answer from a Prometheus-compatible query API instead of the store (nothing is recorded)."""


class SelfMetrics:
    def __init__(self, r: CollectorRegistry) -> None:
        self.cycles = Counter(
            "kubescope_history_cycles", "Recording cycles by outcome", ["outcome"], registry=r
        )
        self.samples = Counter("kubescope_history_samples", "Samples written to the store", registry=r)
        self.skipped = Counter(
            "kubescope_history_skipped_samples", "Samples not written, by reason", ["reason"], registry=r
        )
        self.cycle_seconds = Histogram(
            "kubescope_history_cycle_duration_seconds", "Recording cycle duration", registry=r
        )
        self.compaction_seconds = Histogram(
            "kubescope_history_compaction_duration_seconds", "Compaction duration", registry=r
        )
        self.store_bytes = Gauge(
            "kubescope_history_store_bytes", "Size of the store file and its WAL", registry=r
        )
        self.requests = Histogram(
            "kubescope_history_request_duration_seconds", "API request duration by kind and code", ["kind", "code"],
            registry=r,
        )  # fmt: skip

    def request(self, kind: str, code: int, seconds: float) -> None:
        self.requests.labels(kind, str(code)).observe(seconds)


class HistoryServer:
    def __init__(self, settings: Settings, client: KubeClient | None) -> None:
        self.settings = settings
        self.client = client
        self.replicasets = Owners()
        self.jobs = Owners()
        self.catalog = PodCatalog(self.replicasets, self.jobs)
        self.remote = PromBackend(settings.backend, self.catalog) if settings.backend is not None else None
        self.store: HistoryStore | None = None
        self.engine: Engine | None = None
        self.recorder: Recorder | None = None
        if self.remote is None:
            self.store = HistoryStore(settings.db, retention=settings.retention, window=settings.window)
            self.engine = Engine(self.store, resolution=int(settings.resolution))
            self.recorder = Recorder(self.store)
        recording = settings.record and self.store is not None
        self.last_cycle = 0.0
        self.cycles = 0
        self._reflectors: list[Reflector[Any]] = []
        tasks: list[web.Task] = []
        if (recording or self.remote is not None) and client is not None:
            self._reflectors = [
                Reflector(client, api_path="/api/v1", resource="pods", item_type=Pod, sink=self.catalog, name="pods"),
                Reflector(client, api_path="/apis/apps/v1", resource="replicasets", item_type=Owned,
                          sink=self.replicasets, name="replicasets"),
                Reflector(client, api_path="/apis/batch/v1", resource="jobs", item_type=Owned, sink=self.jobs,
                          name="jobs"),
            ]  # fmt: skip
            tasks = [web.Task(f"reflector/{r.name}", r.run) for r in self._reflectors]
            if recording:
                tasks.append(web.Task("recording-loop", self._loop))
        self.apiserver = AggregatedAPI(
            settings.serve.options(lookup=client is not None), client, metric_prefix="kubescope_history"
        )
        self.server = web.Server(
            "history",
            tasks=tasks,
            checks=[
                web.HealthCheck("informer-sync", self._synced, ("readyz",)),
                web.HealthCheck("recording-timely", self._timely, ("livez",)),
            ],
            collectors=self.apiserver.collectors(),
            on_stop=[self._close],
        )
        self.metrics = SelfMetrics(self.server.metrics.registry)
        self.kubelets: KubeletSource | None = None
        if recording and client is not None and settings.source == "kubelets":
            self.kubelets = KubeletSource(
                settings.kubelet, self.server.metrics.registry, resolution=settings.resolution,
                credentials=client.credentials,
            )  # fmt: skip
            nodes: Reflector[Node] = Reflector(
                client,
                api_path="/api/v1",
                resource="nodes",
                item_type=Node,
                sink=self.kubelets.nodes,
                name="nodes",
            )
            self._reflectors.append(nodes)
            self.server.tasks.insert(0, web.Task("reflector/nodes", nodes.run))
        if self.store is not None:
            self.metrics.store_bytes.set_function(self.store.size_bytes)
        self.api = HistoryAPI(self.engine, remote=self.remote, observe=self.metrics.request)
        self.server.listeners.append(self.apiserver.listener(routes(self.api)))

    @property
    def port(self) -> int:
        return self.server.port("https")

    # -- start and stop --------------------------------------------------------------------------

    async def start(self) -> None:
        await self.server.bind()
        if self.kubelets is not None:
            self.kubelets.prepare()
        await self.apiserver.prepare()
        await self.server.start()
        source = self.settings.backend.url if self.settings.backend is not None else self.settings.db
        logger.info(
            "serving history",
            extra=fields(
                port=self.port, source=source, record=self.settings.record and self.store is not None
            ),
        )

    async def stop(self) -> None:
        await self.server.stop()

    async def _close(self) -> None:
        await self.apiserver.close()
        if self.kubelets is not None:
            await self.kubelets.close()
        if self.remote is not None:
            await self.remote.close()
        if self.store is not None:
            self.store.close()

    # -- health ------------------------------------------------------------------------------------

    def _synced(self) -> str | None:
        for r in self._reflectors:
            if not r.synced.is_set():
                return f"cache for {r.name} has not synced"
        return None

    def _timely(self) -> str | None:
        if self.last_cycle and time.time() - self.last_cycle > 3 * self.settings.resolution + 30:
            return "no recording cycle started for 3 resolutions"
        return None

    # -- recording ---------------------------------------------------------------------------------

    async def _loop(self) -> None:
        for r in self._reflectors:
            await r.synced.wait()
        period = self.settings.resolution
        next_at = time.monotonic()
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.last_cycle = time.time()
            try:
                await self.cycle()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end recording: log it, count it, try next time
                self.metrics.cycles.labels("exception").inc()
                logger.exception("recording cycle failed")
            next_at += period
            behind = time.monotonic() - next_at
            if behind > 0:
                next_at += (behind // period + 1) * period

    async def cycle(self) -> CycleStats:
        """One recording cycle (also called by tests)."""
        assert self.client is not None and self.store is not None and self.recorder is not None
        t0 = time.perf_counter()
        stats = CycleStats()
        batch = Batch()
        if self.kubelets is not None:
            result = await self.kubelets.cycle(self.catalog, batch, stats)
            if result.attempted and not result.scraped:
                self.metrics.cycles.labels("scrape_failed").inc()
                logger.warning(
                    "no kubelet answered; this cycle is a gap", extra=fields(nodes=result.attempted)
                )
                return stats
        else:
            base = self.settings.metrics_api
            try:
                nodes, pods = await asyncio.gather(
                    self.client.get(f"{base}/nodes"), self.client.get(f"{base}/pods")
                )
                node_samples(nodes, batch, stats)
                pod_samples(pods, self.catalog, batch, stats)
            except (KubeError, DecodeError) as e:
                self.metrics.cycles.labels("list_failed").inc()
                logger.warning("cannot list the Metrics API; this cycle is a gap", extra=fields(error=str(e)))
                return stats
        for err in stats.errors[:5]:
            logger.warning("bad Metrics API item skipped", extra=fields(error=err))
        now = int(time.time())
        await asyncio.to_thread(self.recorder.write, now, batch, stats)
        # compaction goes block by block: at most half a resolution of it per cycle (a closed
        # window or day is done over the next cycles), so recording never waits for a whole window
        comp = await asyncio.to_thread(self.store.compact, None, self.settings.resolution / 2)
        if comp.blocks:
            self.metrics.compaction_seconds.observe(comp.seconds)
        # a cycle frees its batch (a few objects per sample) and compaction its blocks' arrays:
        # glibc keeps freed pages below the heap top unless asked (a few ms once per resolution)
        release_free_memory()
        self.metrics.samples.inc(stats.samples)
        for reason, n in (
            ("duplicate", stats.duplicates),
            ("stale", stats.stale),
            ("unknown_pod", stats.unknown_pods),
            ("bad_item", stats.bad_items),
            ("no_rate", stats.no_rate),
        ):
            if n:
                self.metrics.skipped.labels(reason).inc(n)
        self.metrics.cycles.labels("ok").inc()
        self.metrics.cycle_seconds.observe(time.perf_counter() - t0)
        self.cycles += 1
        return stats
