"""The running ``kubescope custom-metrics`` server, declared on the web core.

Start-up, in order (any failure exits before serving, naming the cause):

1. the configuration (``--config`` or config-gen's default) compiled into rules: a bad rule is exit 2;
2. Kubernetes and Prometheus clients; the delegated authentication configuration (flags or the
   ``extension-apiserver-authentication`` ConfigMap) and the serving certificate;
3. the HTTPS listener (``--secure-port``) with the aggregated-API request pipeline (front proxy,
   client certificates, TokenReview, SubjectAccessReview, max in flight) in front of the metrics
   APIs, ``/healthz``, ``/livez``, ``/readyz`` and ``/metrics``;
4. supervised tasks: ``series-discovery`` (every ``--metrics-relist-interval``), ``auth-config``
   (the ConfigMap re-read every minute), ``upstream-discovery`` (with ``--upstream-external-metrics``).

``/readyz`` passes once the first series discovery has run (``series-discovery``), so the aggregator
does not route requests to a new replica before it knows its metrics. It passes even when that
discovery failed (Prometheus down): an unready adapter makes its APIServices unavailable, which breaks
API discovery for every client of the cluster (namespace deletion, ``kubectl api-resources``), while
a ready one answers each request with the error; the failure is logged and counted
(``kubescope_custom_metrics_discovery_errors_total``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web as aioweb

from kubescope import web
from kubescope.apiserver.options import APIServerOptions
from kubescope.apiserver.server import AggregatedAPI
from kubescope.custom_metrics.api import MetricsAPI
from kubescope.custom_metrics.cache import AnswerCache
from kubescope.custom_metrics.cluster import load_mapper, metadata_lister, object_lister
from kubescope.custom_metrics.config import MetricsConfig
from kubescope.custom_metrics.mapper import EMPTY_MAPPER
from kubescope.custom_metrics.naming import MetricNamer, namer_from_rule
from kubescope.custom_metrics.promclient import PrometheusClient
from kubescope.custom_metrics.registry import Registry
from kubescope.custom_metrics.relist import Relister
from kubescope.custom_metrics.resourcemetrics import ResourceMetrics
from kubescope.custom_metrics.selfmetrics import SelfMetrics
from kubescope.custom_metrics.service import MetricsService
from kubescope.custom_metrics.settings import AdapterSettings
from kubescope.custom_metrics.upstream import Upstream
from kubescope.errors import ConfigError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.log import fields

logger = logging.getLogger(__name__)

JSON = "application/json"


@dataclass(frozen=True)
class Settings:
    adapter: AdapterSettings
    apiserver: APIServerOptions
    kube: KubeSettings


@dataclass(frozen=True)
class Rules:
    custom: Sequence[MetricNamer]
    external: Sequence[MetricNamer]
    config: MetricsConfig


def compile_rules(cfg: MetricsConfig) -> Rules:
    """Every rule compiled (ConfigError naming the rule and field on the first bad one)."""
    return Rules(
        [namer_from_rule(r) for r in cfg.rules], [namer_from_rule(r) for r in cfg.external_rules], cfg
    )


class CustomMetricsServer:
    def __init__(self, settings: Settings, rules: Rules, kube: KubeClient) -> None:
        self.settings = settings
        self.rules = rules
        self.kube = kube
        self.lister_kube = kube
        self.prom: PrometheusClient | None = None
        self.upstream: Upstream | None = None
        self.apiserver = AggregatedAPI(settings.apiserver, kube, metric_prefix="kubescope_custom_metrics")
        self.server: web.Server | None = None

    async def build(self) -> web.Server:
        a = self.settings.adapter
        if a.lister_kubeconfig:
            self.lister_kube = await KubeClient.connect(KubeSettings(kubeconfig=a.lister_kubeconfig))
        self.prom = prom = await PrometheusClient.connect(a.prometheus)
        server = web.Server(
            "custom-metrics",
            tasks=self.apiserver.tasks(),
            checks=self.apiserver.checks(),
            collectors=self.apiserver.collectors(),
            shutdown_delay=self.settings.apiserver.serving.shutdown_delay,
            on_stop=[self.close],
        )
        metrics = SelfMetrics(server.metrics.registry)
        if a.upstream.url:
            self.upstream = Upstream(a.upstream)
        cache: AnswerCache[object] = AnswerCache(
            a.cache_ttl, a.cache_max_stale, max_entries=a.cache_max_entries
        )
        metrics.entries_source = lambda: len(cache)
        service = MetricsService(
            querier=prom,
            list_objects=object_lister(self.lister_kube),
            cache=cache,
            metrics=metrics,
            registry=Registry(EMPTY_MAPPER),
            query_timeout=a.prometheus.query_timeout,
            forward_external=self.upstream.forward if self.upstream is not None else None,
        )

        def publish(reg: Registry) -> None:
            service.registry = reg

        upstream = self.upstream
        relister = Relister(
            lambda sels, start: prom.series(sels, start=start),
            lambda: load_mapper(self.lister_kube),
            self.rules.custom,
            self.rules.external,
            metrics,
            relist_interval=a.relist_interval,
            max_age=a.max_age,
            mapper_interval=a.discovery_interval,
            on_registry=publish,
            upstream_names=(lambda: upstream.names) if upstream is not None else (lambda: ()),
        )
        resource = None
        rr = self.rules.config.resource_rules
        if a.resource_metrics:
            if rr is None:
                raise ConfigError("--resource-metrics: the configuration has no resourceRules")
            resource = ResourceMetrics(
                rr, prom.query, metadata_lister(self.lister_kube), lambda: relister.mapper or EMPTY_MAPPER,
                AnswerCache(a.cache_ttl, a.cache_max_stale, max_entries=a.cache_max_entries),
            )  # fmt: skip
        elif rr is not None:
            logger.info(
                "the configuration has resourceRules; metrics.k8s.io is served with --resource-metrics"
            )
        api = MetricsAPI(
            service,
            custom=bool(self.rules.custom),
            external=bool(self.rules.external) or upstream is not None,
            resource=resource,
        )

        async def handle(request: aioweb.Request) -> aioweb.Response:
            if request.method not in ("GET", "HEAD"):
                raise aioweb.HTTPMethodNotAllowed(request.method, ["GET"])
            t0 = time.perf_counter()
            (code, body), group, rule = await api.handle(request.path, request.query)
            metrics.requests.labels(group, rule, str(code)).inc()
            metrics.request_seconds.labels(group, rule).observe(time.perf_counter() - t0)
            ctype = JSON if body[:1] == b"{" else "text/plain; charset=utf-8"
            return aioweb.Response(status=code, body=body, headers={"Content-Type": ctype})

        server.listeners.append(
            self.apiserver.listener(
                [aioweb.route("*", "/apis", handle), aioweb.route("*", "/apis/{tail:.*}", handle)]
            )
        )
        server.tasks.append(web.Task("series-discovery", relister.run))
        if upstream is not None:
            server.tasks.append(web.Task("upstream-discovery", upstream.run))
        server.health.add(
            "series-discovery",
            lambda: None if relister.attempted.is_set() else "first series discovery running",
            "readyz",
        )
        self.server = server
        logger.info(
            "custom-metrics configured",
            extra=fields(rules=len(self.rules.custom), external_rules=len(self.rules.external),
                         prometheus=a.prometheus.url, resource_metrics=resource is not None),
        )  # fmt: skip
        return server

    async def start(self) -> web.Server:
        """Build, bind (a taken port fails first), read the authentication configuration, serve."""
        server = await self.build()
        await server.bind()
        await self.apiserver.prepare()
        await server.start()
        return server

    async def close(self) -> None:
        if self.prom is not None:
            await self.prom.close()
        if self.upstream is not None:
            await self.upstream.close()
        await self.apiserver.close()
        if self.lister_kube is not self.kube:
            await self.lister_kube.close()
