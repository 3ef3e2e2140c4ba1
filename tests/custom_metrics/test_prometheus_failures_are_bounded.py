"""Prometheus down, slow, failing or answering garbage: clear errors, counted; cached answers cover an
outage for a bounded time, and discovery keeps the last series."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubescope.custom_metrics.answers import Sample
from kubescope.custom_metrics.promclient import PrometheusClient, PrometheusError, PrometheusSettings
from tests.custom_metrics.stack import AppExporter, scrape_config, start_adapter
from tests.integration.prom import prometheus
from tests.sim.conftest import Api, pod, start_api

CONFIG = """\
rules:
- seriesQuery: 'queue_length{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'queue_length{namespace!="",pod!=""}'
  name: {as: slow_queue}
  resources: {overrides: {namespace: {resource: namespace}}}
  queryTimeout: 200ms
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
"""


class FakePrometheus:
    """Answers the series endpoint normally and queries as the test scripts them."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 0.0
        self.seen: list[dict[str, str]] = []
        self.methods: list[str] = []
        app = web.Application()
        app.router.add_route("*", "/prefix/api/v1/series", self.series)
        app.router.add_route("*", "/prefix/api/v1/query", self.query)
        self.runner = web.AppRunner(app)

    async def start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/prefix"

    async def series(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "success", "data": [{"__name__": "queue_length", "namespace": "shop", "pod": "web-1"}]}
        )

    async def query(self, request: web.Request) -> web.Response:
        params = dict(request.query) if request.method == "GET" else dict(await request.post())
        self.seen.append({k: str(v) for k, v in params.items()})
        self.methods.append(request.method)
        await asyncio.sleep(self.delay)
        if self.mode == "500":
            return web.Response(status=500, text="boom")
        if self.mode == "garbage":
            return web.Response(text="<html>not json")
        if self.mode == "error":
            return web.json_response(
                {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}, status=400
            )
        if self.mode == "matrix":
            return web.json_response({"status": "success", "data": {"resultType": "matrix", "result": []}})
        return web.json_response(
            {"status": "success", "data": {"resultType": "vector",
                                           "result": [{"metric": {"pod": "web-1"}, "value": [time.time(), "4"]}]}}
        )  # fmt: skip


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Api]:
    sim, api = await start_api(tmp_path)
    await api.ok(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    )
    await api.ok("POST", "/api/v1/namespaces/shop/pods", pod("web-1", "shop"))
    try:
        yield api
    finally:
        await api.session.close()
        await sim.stop()


POD_PATH = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-1/queue_length"


async def test_failing_answers_are_500s_naming_the_cause(cluster: Api) -> None:
    fake = FakePrometheus()
    url = await fake.start()
    a = await start_adapter(CONFIG, url, cluster.url, ttl=0)
    try:
        code, doc = await a.get(POD_PATH)
        assert code == 200 and doc["items"][0]["value"] == "4"
        assert fake.seen[-1]["timeout"] == "3000ms" and "time" in fake.seen[-1]
        expectations: dict[str, str] = {
            "500": "unknown response code 500",
            "garbage": "not the Prometheus API's JSON",
            "error": "bad_data: parse error at char 3",
            "matrix": "not an instant vector",
        }
        for mode, text in expectations.items():
            fake.mode = mode
            code, doc = await a.get(POD_PATH)
            assert code == 500, (mode, doc)
            assert doc["reason"] == "InternalError" and text in doc["message"], (mode, doc)
        # the answer would come after 1 s (the same event loop: the client's 0.2 s timer always fires
        # first); the message names the timeout the request ran under, the rule's queryTimeout and
        # not the 3 s default, which would have waited for the answer and served it
        fake.mode, fake.delay = "ok", 1.0
        code, doc = await a.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/slow_queue")
        assert code == 500 and "no answer within 0.2s" in doc["message"], "the rule's queryTimeout bounds the request"
        assert fake.seen[-1]["timeout"] == "200ms"
        text = a.metrics.render().decode()
        assert (
            'kubescope_custom_metrics_prometheus_query_errors_total{kind="timeout",rule="externalRules[0] (line 9)"} 1.0'
            in text
        )
    finally:
        await a.close()
        await fake.runner.cleanup()


async def test_post_verb_sends_a_form(cluster: Api) -> None:
    fake = FakePrometheus()
    url = await fake.start()
    client = await PrometheusClient.connect(
        PrometheusSettings(url=url, verb="POST", headers=(("X-Scope-OrgID", "t1"),))
    )
    try:
        kind, samples = await client.query("up")
        assert kind == "vector" and samples[0].value == 4.0
        assert fake.seen[-1]["query"] == "up"
    finally:
        await client.close()
        await fake.runner.cleanup()


@pytest.mark.external
async def test_an_outage_is_covered_by_stale_answers_for_a_bounded_time(cluster: Api, tmp_path: Path) -> None:
    exporter = AppExporter()
    exporter.set('queue_length{namespace="shop",pod="web-1"} 2\n')
    clock = [1000.0]
    try:
        (tmp_path / "p").mkdir()
        with prometheus(tmp_path / "p", [scrape_config(exporter.port)]) as p:
            p.wait_scraped("app")
            a = await start_adapter(CONFIG, p.url, cluster.url, ttl=15, max_stale=30, clock=lambda: clock[0])
            try:
                code, doc = await a.get(POD_PATH)
                assert code == 200 and doc["items"][0]["value"] == "2"
                p.proc.terminate()
                p.proc.wait(10)
                clock[0] += 10
                code, doc = await a.get(POD_PATH)
                assert code == 200, "fresh from the cache"
                clock[0] += 15
                code, doc = await a.get(POD_PATH)
                assert code == 200 and doc["items"][0]["value"] == "2", "stale, 25 s old"
                text = a.metrics.render().decode()
                assert 'kubescope_custom_metrics_cache_requests_total{outcome="stale"} 1.0' in text
                assert "kubescope_custom_metrics_stale_answer_age_seconds_count 1.0" in text
                clock[0] += 6
                code, doc = await a.get(POD_PATH)
                assert code == 500 and "unable to fetch metrics" in doc["message"], (
                    "31 s old: no longer served"
                )
                code, doc = await a.get(
                    "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/*/queue_length"
                )
                assert code == 500, "nothing cached for this key"
                # discovery fails but keeps what it knew
                await a.relister.relist()
                assert a.relister.last_error
                code, doc = await a.get("/apis/custom.metrics.k8s.io/v1beta1")
                assert [r["name"] for r in doc["resources"]] == [
                    "namespaces/queue_length",
                    "pods/queue_length",
                ]
            finally:
                await a.close()
    finally:
        exporter.close()


async def test_prometheus_not_listening_is_a_transport_error() -> None:
    # a port held bound but not listening: refused, and no other process can take it meanwhile
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        client = await PrometheusClient.connect(PrometheusSettings(url=f"http://127.0.0.1:{port}"))
        try:
            with pytest.raises(PrometheusError) as e:
                await client.query("up")
            assert e.value.kind == "transport"
        finally:
            await client.close()


def _json(body: bytes) -> Any:
    return json.loads(body)


async def test_tls_ca_client_certificate_token_file_and_headers(tmp_path: Path) -> None:
    import ssl

    from tests.apiserver.certs import issue, make_ca

    ca = make_ca("prom-ca")
    server = issue(ca, "prometheus", client=False, ips=("127.0.0.1",))
    client_cert = issue(ca, "adapter")
    scert, skey = server.write(tmp_path, "server")
    ccert, ckey = client_cert.write(tmp_path, "client")
    (tmp_path / "ca.crt").write_bytes(ca.pem)
    token = tmp_path / "token"
    token.write_text("first\n")
    seen: list[dict[str, str]] = []

    async def query(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        seen.append({"auth": request.headers.get("Authorization", ""), "org": request.headers.get("X-Scope-OrgID", ""),
                     "peer": str(bool(peer))})  # fmt: skip
        return web.json_response({"status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}})

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp_path / "ca.crt"))
    ctx.load_cert_chain(scert, skey)
    ctx.verify_mode = ssl.CERT_REQUIRED
    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = PrometheusSettings(
        url=f"https://127.0.0.1:{port}", ca_file=str(tmp_path / "ca.crt"), client_cert_file=ccert,
        client_key_file=ckey, token_file=str(token), headers=(("X-Scope-OrgID", "tenant-a"),),
    )  # fmt: skip
    client = await PrometheusClient.connect(settings)
    try:
        assert await client.query("x") == ("scalar", [Sample({}, 2.0, 1.0)])
        assert seen[-1] == {"auth": "Bearer first", "org": "tenant-a", "peer": "True"}
        token.write_text("second")
        import os

        os.utime(token, (time.time() + 5, time.time() + 5))
        await client.query("x")
        assert seen[-1]["auth"] == "Bearer second", "a rotated token is picked up"
    finally:
        await client.close()
        await runner.cleanup()
    with pytest.raises(Exception, match="prometheus-ca-file"):
        await PrometheusClient.connect(PrometheusSettings(url="https://x", ca_file=str(tmp_path / "missing")))


async def test_long_queries_are_posted_even_with_get(cluster: Api) -> None:
    fake = FakePrometheus()
    url = await fake.start()
    client = await PrometheusClient.connect(PrometheusSettings(url=url, verb="GET"))
    try:
        names = "|".join(f"pod-{i:05d}" for i in range(2000))
        await client.query(f'sum(x{{pod=~"{names}"}}) by (pod)')
        assert fake.seen[-1]["query"].startswith("sum(x{") and len(fake.seen[-1]["query"]) > 8000
        assert fake.methods[-1] == "POST"
        await client.query("up")
        assert fake.methods[-1] == "GET"
    finally:
        await client.close()
        await fake.runner.cleanup()


async def test_auth_config_kubeconfig_gives_tls_and_token(tmp_path: Path) -> None:
    """--prometheus-auth-config: a kubeconfig's CA and credentials are used for Prometheus (its server
    field is not: --prometheus-url is)."""
    import base64
    import ssl

    import yaml

    from tests.apiserver.certs import issue, make_ca

    ca = make_ca("prom-ca")
    scert, skey = issue(ca, "prometheus", client=False, ips=("127.0.0.1",)).write(tmp_path, "server")
    seen: list[str] = []

    async def query(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}})

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(scert, skey)
    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    kubeconfig = tmp_path / "prom.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "p",
        "clusters": [{"name": "p", "cluster": {"server": "https://unused.example:1",
                      "certificate-authority-data": base64.b64encode(ca.pem).decode()}}],
        "users": [{"name": "p", "user": {"token": "from-kubeconfig"}}],
        "contexts": [{"name": "p", "context": {"cluster": "p", "user": "p"}}],
    }))  # fmt: skip
    client = await PrometheusClient.connect(
        PrometheusSettings(url=f"https://127.0.0.1:{port}", auth_config=str(kubeconfig))
    )
    try:
        assert (await client.query("x"))[0] == "scalar"
        assert seen == ["Bearer from-kubeconfig"]
    finally:
        await client.close()
        await runner.cleanup()
