"""--upstream-external-metrics: names this adapter does not serve go to another adapter (its answer and
status returned as they are), its names join discovery, and a dead upstream is a 503."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from kubescope.custom_metrics.settings import UpstreamSettings
from kubescope.custom_metrics.upstream import Upstream
from tests.custom_metrics.stack import start_adapter
from tests.sim.conftest import Api, start_api

CONFIG = """\
externalRules:
- seriesQuery: 'queue_length{queue!=""}'
  resources: {namespaced: false}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
"""


class FakeKeda:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        app = web.Application()
        app.router.add_get("/apis/external.metrics.k8s.io/v1beta1", self.discovery)
        app.router.add_get("/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}", self.metric)
        self.runner = web.AppRunner(app)

    async def start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "external.metrics.k8s.io/v1beta1",
                                  "resources": [{"name": "externalmetrics", "namespaced": True, "kind": "ExternalMetricValueList", "verbs": ["get"]}]})  # fmt: skip

    async def metric(self, request: web.Request) -> web.Response:
        self.seen.append(
            (request.match_info["ns"], request.match_info["metric"], request.query.get("labelSelector", ""))
        )
        if request.match_info["metric"] == "missing":
            return web.json_response({"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404,
                                      "message": "scaledObject name is not specified"}, status=404)  # fmt: skip
        return web.json_response({"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1",
                                  "metadata": {}, "items": [{"metricName": "s0-prometheus", "metricLabels": None,
                                  "timestamp": "2026-01-01T00:00:00Z", "value": "9334m"}]})  # fmt: skip


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Api]:
    sim, api = await start_api(tmp_path)
    try:
        yield api
    finally:
        await api.session.close()
        await sim.stop()


async def test_unknown_names_are_forwarded_and_discovery_is_merged(cluster: Api) -> None:
    from tests.custom_metrics.test_prometheus_failures_are_bounded import FakePrometheus

    keda = FakeKeda()
    upstream = Upstream(UpstreamSettings(url=await keda.start(), timeout=2.0))
    prom = FakePrometheus()
    a = await start_adapter(CONFIG, await prom.start(), cluster.url, upstream=upstream)
    try:
        await upstream.refresh_names()
        await a.relister.relist()
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1")
        assert {r["name"] for r in doc["resources"]} == {"queue_length", "externalmetrics"}
        code, doc = await a.get(
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/s0-prometheus",
            labelSelector="scaledobject.keda.sh/name=worker",
        )
        assert code == 200 and doc["items"][0]["value"] == "9334m"
        assert keda.seen[-1] == ("apps", "s0-prometheus", "scaledobject.keda.sh/name=worker")
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/missing")
        assert code == 404 and doc["message"] == "scaledObject name is not specified"
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/queue_length")
        assert code == 200 and len(keda.seen) == 2, "served here, not forwarded"
        await keda.runner.cleanup()
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/s0-prometheus")
        assert code == 503 and doc["reason"] == "ServiceUnavailable"
        await a.relister.relist()
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1")
        assert "externalmetrics" in {r["name"] for r in doc["resources"]}, "the last names are kept"
    finally:
        await upstream.close()
        await a.close()
        await prom.runner.cleanup()


async def test_without_upstream_unknown_names_are_not_found(cluster: Api) -> None:
    from tests.custom_metrics.test_prometheus_failures_are_bounded import FakePrometheus

    prom = FakePrometheus()
    a = await start_adapter(CONFIG, await prom.start(), cluster.url)
    try:
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/other")
        assert (
            code == 404 and doc["message"] == "the server could not find the metric other for namespace apps"
        )
    finally:
        await a.close()
        await prom.runner.cleanup()
