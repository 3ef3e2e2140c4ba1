"""The running resource-metrics server: watches, the scrape loop, storage and the HTTPS API.

:class:`ResourceMetricsServer` is a :class:`kubescope.web.Server` with an
:class:`~kubescope.apiserver.server.AggregatedAPI` (delegated authentication and authorization, the
serving certificate, the request pipeline); its lifecycle:

1. the HTTPS listener binds (a taken ``--secure-port`` fails here, exit code 2);
2. the authentication configuration is read (``--client-ca-file`` / ``--requestheader-*`` flags, or
   the ``kube-system/extension-apiserver-authentication`` ConfigMap, then re-read every minute by a
   supervised task) and the serving certificate loaded or self-signed into ``--cert-dir``;
3. the listener serves at once, so discovery answers while the caches fill;
4. supervised tasks: reflectors for nodes and running pods (``fieldSelector=status.phase=Running``),
   and, once both have synced, the scrape loop: a cycle every ``--metric-resolution`` on a fixed
   grid (a late cycle makes the next start at once, missed ones are dropped, like Go's ticker):
   scrape every node, then replace the storage with the result;
5. on SIGTERM: ``/readyz`` fails (``shutdown``), requests are still served for
   ``--shutdown-delay-duration``, then the listener stops, in-flight requests drain, tasks end.

Health checks (metrics-server's): ``ping``, ``log``, ``poststarthook/max-in-flight-filter``
everywhere; ``metric-storage-ready``, ``metric-informer-sync`` and ``shutdown`` on readyz;
``metric-collection-timely`` on livez; ``metadata-informer-sync`` on all three; and a supervised
task that is down, as ``task/<name>`` on readyz.
"""

from __future__ import annotations

import asyncio
import logging
import time

from kubescope import web
from kubescope.apiserver.options import APIServerOptions
from kubescope.apiserver.server import AggregatedAPI
from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from kubescope.kubelet.scraper import Scraper
from kubescope.log import fields
from kubescope.memory import release_free_memory
from kubescope.resource.api import MetricsAPI, routes
from kubescope.resource.inventory import Node, NodeCache, Pod, PodCache
from kubescope.resource.openapi import OpenAPI
from kubescope.resource.selfmetrics import SelfMetrics
from kubescope.resource.settings import Settings
from kubescope.resource.storage import MetricsStorage

logger = logging.getLogger(__name__)


class ResourceMetricsServer:
    def __init__(self, settings: Settings, client: KubeClient) -> None:
        self.settings = settings
        self.client = client
        self.storage = MetricsStorage(settings.resolution_ns)
        self.nodes = NodeCache()
        self.pods = PodCache()
        self.metrics = SelfMetrics(settings.metric_resolution)
        self.metrics.storage_points = lambda: (len(self.storage.node_prev), self.storage.container_points)
        self.metrics.rate_errors = lambda: dict(self.storage.rate_errors)
        self.api = MetricsAPI(
            self.storage,
            self.nodes,
            self.pods,
            node_selector=settings.kubelet.node_selector,
            freshness=self.metrics.freshness,
        )
        self.scraper = Scraper(
            settings.kubelet,
            self.nodes,
            self.metrics,
            resolution=settings.metric_resolution,
            credentials=client.credentials,
            apiserver_credentials=client.credentials,
        )
        self.apiserver = AggregatedAPI(
            APIServerOptions(settings.serving, settings.auth), client, metric_prefix="kubescope_resource"
        )
        self.node_reflector: Reflector[Node] = Reflector(
            client, api_path="/api/v1", resource="nodes", item_type=Node, sink=self.nodes, name="nodes"
        )
        self.pod_reflector: Reflector[Pod] = Reflector(
            client,
            api_path="/api/v1",
            resource="pods",
            item_type=Pod,
            sink=self.pods,
            field_selector="status.phase=Running",
            name="pods",
        )
        self.tick_last_start = 0.0
        self.cycles = 0
        self._was_ready = False
        self._prerender: asyncio.Task[None] | None = None
        self.server = web.Server(
            "resource-metrics",
            listeners=[self.apiserver.listener(routes(self.api, OpenAPI()))],
            tasks=[
                web.Task("reflector/nodes", self.node_reflector.run),
                web.Task("reflector/pods", self.pod_reflector.run),
                web.Task("scrape-loop", self._scrape_loop),
                *self.apiserver.tasks(),
            ],
            checks=[
                *self.apiserver.checks(),
                web.HealthCheck("metric-storage-ready", self._storage_ready, ("readyz",)),
                web.HealthCheck("metric-informer-sync", self._informers_synced, ("readyz",)),
                web.HealthCheck("metric-collection-timely", self._collection_timely, ("livez",)),
                web.HealthCheck("metadata-informer-sync", self._pod_informer_synced),
            ],
            collectors=[self.metrics, *self.apiserver.collectors()],
            shutdown_delay=settings.serving.shutdown_delay,
            on_stop=[self._close],
        )

    @property
    def port(self) -> int:
        return self.server.port("https")

    # -- start-up and shutdown ------------------------------------------------------------------

    async def start(self) -> None:
        """Bind (a taken port fails first), read the authentication configuration, serve, start the tasks."""
        await self.server.bind()
        self.scraper.prepare()
        await self.apiserver.prepare()
        await self.server.start()
        s = self.settings
        logger.info(
            "serving metrics.k8s.io",
            extra=fields(
                address=s.serving.bind_address, port=self.port, resolution=f"{s.metric_resolution:g}s"
            ),
        )

    async def stop(self) -> None:
        await self.server.stop()

    async def _close(self) -> None:
        if self._prerender is not None:
            self._prerender.cancel()
        await self.scraper.close()
        await self.apiserver.close()

    # -- health checks --------------------------------------------------------------------------

    def _storage_ready(self) -> str | None:
        return None if self.storage.ready() else "no metrics to serve"

    def _informers_synced(self) -> str | None:
        if not self.nodes.synced:
            return "cache for node informer has not synced"
        if not self.pods.synced:
            return "cache for pod informer has not synced"
        return None

    def _pod_informer_synced(self) -> str | None:
        return None if self.pods.synced else "1 informers not started yet: [/v1, Resource=pods]"

    def _collection_timely(self) -> str | None:
        last = self.tick_last_start
        limit = 1.5 * self.settings.metric_resolution
        if last and time.time() - last > limit:
            return "metric collection didn't finish on time"
        return None

    # -- the cycle ------------------------------------------------------------------------------

    async def _scrape_loop(self) -> None:
        await self.node_reflector.synced.wait()
        await self.pod_reflector.synced.wait()
        period = self.settings.metric_resolution
        next_at = time.monotonic()
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end the cycle: log it, count it, go on next time
                self.metrics.scrape_error("cycle_exception")
                logger.exception("scrape cycle failed")
            next_at += period
            behind = time.monotonic() - next_at
            if behind > 0:
                # like a Go ticker: at most one tick is pending, the missed ones are dropped
                next_at += (behind // period) * period

    async def _after_cycle(self) -> None:
        await self.api.prerender()
        # a cycle frees what it parsed and the previous generation's parts (tens of MB at 1,000
        # nodes): glibc keeps freed pages below the heap top unless asked. Walking the heap costs
        # a few ms once per resolution.
        release_free_memory()

    async def tick(self) -> None:
        self.tick_last_start = time.time()
        t0 = time.monotonic()
        result = await self.scraper.scrape()
        await self.storage.store_async(
            result.nodes, result.pods, node_of=result.node_of, capacity=result.capacity
        )
        elapsed = time.monotonic() - t0
        if self._prerender is not None and not self._prerender.done():
            self._prerender.cancel()
        self._prerender = asyncio.create_task(self._after_cycle(), name="prerender")
        self.cycles += 1
        m = self.metrics
        m.tick.observe(elapsed)
        m.last_cycle_nodes = result.attempted
        m.last_cycle_scraped = result.scraped
        m.last_cycle_seconds = elapsed
        m.forget_nodes(self.nodes.nodes)
        logger.debug(
            "scrape finished",
            extra=fields(duration=f"{elapsed:.3f}s", nodes=len(result.nodes), pods=len(result.pods)),
        )
        ready = self.storage.ready()
        if ready != self._was_ready:
            self._was_ready = ready
            if ready:
                logger.info("metric storage is ready")
            else:
                logger.info(
                    "metric storage is not ready",
                    extra=fields(
                        node_metrics=self.storage.node_ready(), pod_metrics=self.storage.pod_ready()
                    ),
                )
