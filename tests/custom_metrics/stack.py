"""A test stack for the adapter's core: an application exporter, a real Prometheus scraping it, an
in-process simulator as the Kubernetes API, and the adapter's service wired to all three.

The exporter is a stdlib HTTP server in a thread (Prometheus must reach it while the test's event loop
waits); tests change what it exposes with :meth:`AppExporter.set`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kubescope.custom_metrics.api import MetricsAPI
from kubescope.custom_metrics.cache import AnswerCache
from kubescope.custom_metrics.cluster import load_mapper, metadata_lister, object_lister
from kubescope.custom_metrics.config import parse_config
from kubescope.custom_metrics.mapper import EMPTY_MAPPER
from kubescope.custom_metrics.naming import namer_from_rule
from kubescope.custom_metrics.promclient import PrometheusClient, PrometheusSettings
from kubescope.custom_metrics.registry import Registry
from kubescope.custom_metrics.relist import Relister
from kubescope.custom_metrics.resourcemetrics import ResourceMetrics
from kubescope.custom_metrics.selfmetrics import SelfMetrics
from kubescope.custom_metrics.service import MetricsService
from kubescope.custom_metrics.upstream import Upstream
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings

Lines = Callable[[], str]


class AppExporter:
    """Serves ``/metrics`` from a function the test sets (re-evaluated at every scrape)."""

    def __init__(self) -> None:
        self.text: Lines = lambda: ""
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.text().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, text: str | Lines) -> None:
        self.text = (lambda: text) if isinstance(text, str) else text

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def scrape_config(port: int) -> dict[str, Any]:
    return {
        "job_name": "app",
        "honor_labels": True,
        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
    }


def counter(start: float, per_second: float) -> Callable[[], float]:
    return lambda: (time.monotonic() - start) * per_second


@dataclass
class Adapter:
    api: MetricsAPI
    service: MetricsService
    relister: Relister
    prom: PrometheusClient
    kube: KubeClient
    metrics: SelfMetrics

    async def get(self, path: str, **query: str) -> tuple[int, Any]:
        import json

        (code, body), _, _ = await self.api.handle(path, query)
        try:
            return code, json.loads(body)
        except ValueError:
            return code, body

    async def close(self) -> None:
        await self.prom.close()
        await self.kube.close()


async def start_adapter(
    config_yaml: str,
    prom_url: str,
    kube_url: str,
    *,
    ttl: float = 0.0,
    max_stale: float = 30.0,
    query_timeout: float = 3.0,
    clock: Callable[[], float] = time.monotonic,
    upstream: Upstream | None = None,
    resource_metrics: bool = False,
) -> Adapter:
    cfg = parse_config(config_yaml, "test-config.yaml")
    custom = [namer_from_rule(r) for r in cfg.rules]
    external = [namer_from_rule(r) for r in cfg.external_rules]
    prom = await PrometheusClient.connect(PrometheusSettings(url=prom_url, query_timeout=query_timeout))
    kube = await KubeClient.connect(KubeSettings(apiserver=kube_url))
    metrics = SelfMetrics()
    service = MetricsService(
        querier=prom,
        list_objects=object_lister(kube),
        cache=AnswerCache(ttl, max_stale, clock=clock),
        metrics=metrics,
        registry=Registry(EMPTY_MAPPER),
        query_timeout=query_timeout,
        forward_external=upstream.forward if upstream is not None else None,
    )

    def publish(reg: Registry) -> None:
        service.registry = reg

    relister = Relister(
        lambda sels, start: prom.series(sels, start=start),
        lambda: load_mapper(kube),
        custom,
        external,
        metrics,
        relist_interval=60.0,
        max_age=600.0,
        mapper_interval=600.0,
        on_registry=publish,
        upstream_names=(lambda: upstream.names) if upstream is not None else (lambda: ()),
    )
    await relister.relist()
    resource = None
    if resource_metrics:
        assert cfg.resource_rules is not None
        resource = ResourceMetrics(
            cfg.resource_rules,
            prom.query,
            metadata_lister(kube),
            lambda: relister.mapper or EMPTY_MAPPER,
            AnswerCache(ttl, max_stale, clock=clock),
        )
    return Adapter(MetricsAPI(service, resource=resource), service, relister, prom, kube, metrics)


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p
