"""The HTTPS server over a real TLS socket: client certificates (front proxy and users), bearer
tokens, 401/403/405/404 bodies, discovery, OpenAPI, health and self metrics.

The TokenReview/SubjectAccessReview endpoint is an injected callable here; the end-to-end tests
run the same server against the simulator's real ones.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from kubescope import web
from kubescope.apiserver.authn import TokenReviewer, UserInfo
from kubescope.apiserver.options import APIServerOptions, AuthOptions, ServingOptions
from kubescope.apiserver.server import AggregatedAPI
from kubescope.resource.api import routes
from kubescope.resource.openapi import OpenAPI
from kubescope.resource.selfmetrics import SelfMetrics
from kubescope.web.tls import TLSOptions
from tests.apiserver.certs import issue, make_ca
from tests.apiserver.test_delegated_auth import FakeAPIServer
from tests.resource.test_metrics_api_answers import make_api

FRONT_CA = make_ca("front-proxy-ca")
CLIENT_CA = make_ca("client-ca")
PROXY = issue(FRONT_CA, "front-proxy-client")
ALICE = issue(CLIENT_CA, "alice", ("devs",))


@dataclass
class Server:
    url: str
    tmp: Path
    api: FakeAPIServer
    metrics: SelfMetrics

    def client_ssl(self, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.tmp / "certs" / "apiserver.crt"))
        if cert is not None:
            ctx.load_cert_chain(*cert)
        return ctx


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    api = FakeAPIServer(
        {"good": UserInfo("carol")},
        {("bob", "nodes"), ("carol", "nodes"), ("alice", "pods"), ("bob", "/metrics"), ("bob", "/apis")},
    )
    (tmp_path / "client-ca.crt").write_bytes(CLIENT_CA.pem)
    (tmp_path / "front-ca.crt").write_bytes(FRONT_CA.pem)
    options = APIServerOptions(
        ServingOptions(
            bind_address="127.0.0.1", secure_port=0, tls=TLSOptions(cert_dir=str(tmp_path / "certs"))
        ),
        AuthOptions(
            client_ca_file=str(tmp_path / "client-ca.crt"),
            requestheader_client_ca_file=str(tmp_path / "front-ca.crt"),
            requestheader_allowed_names=("front-proxy-client",),
        ),
    )
    # the TokenReview/SubjectAccessReview endpoint is the fake's (the review clients are not used)
    kit = AggregatedAPI(options, None)  # type: ignore[arg-type]
    metrics = SelfMetrics(15.0)
    metrics_api = make_api(freshness=metrics.freshness)
    srv = web.Server(
        "t",
        listeners=[kit.listener(routes(metrics_api, OpenAPI()))],
        checks=[
            web.HealthCheck("metric-storage-ready", lambda: None, ("readyz",)),
            web.HealthCheck(
                "metric-collection-timely", lambda: "metric collection didn't finish on time", ("livez",)
            ),
        ],
        collectors=[metrics, *kit.collectors()],
    )
    await srv.bind()
    await kit.prepare()
    kit.auth.authenticator.tokens = TokenReviewer(api.poster())
    kit.auth.authorizer.post = api.poster()
    await srv.start()
    try:
        yield Server(f"https://127.0.0.1:{srv.port('https')}", tmp_path, api, metrics)
    finally:
        await srv.stop()


async def get(
    srv: Server, path: str, *, cert: tuple[str, str] | None = None, method: str = "GET", **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, srv.url + path, ssl=srv.client_ssl(cert), headers=headers) as r,
    ):
        return r.status, CIMultiDict(r.headers), await r.read()


async def test_front_proxy_user_is_authorized_per_resource(server: Server) -> None:
    proxy = PROXY.write(server.tmp, "proxy")
    code, headers, body = await get(
        server, "/apis/metrics.k8s.io/v1beta1/nodes", cert=proxy, **{"X-Remote-User": "bob"}
    )
    assert code == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-cache, private"
    assert [i["metadata"]["name"] for i in json.loads(body)["items"]] == ["b-node", "minikube"]
    code, _, body = await get(
        server, "/apis/metrics.k8s.io/v1beta1/pods", cert=proxy, **{"X-Remote-User": "bob"}
    )
    assert code == 403
    assert json.loads(body)["message"] == (
        'pods.metrics.k8s.io is forbidden: User "bob" cannot list resource "pods" in API group '
        '"metrics.k8s.io" at the cluster scope'
    )
    sar: Any = server.api.posts[-1][1]["spec"]
    assert sar["user"] == "bob" and sar["groups"] == ["system:authenticated"]


async def test_without_credentials_the_request_is_anonymous(server: Server) -> None:
    code, _, body = await get(server, "/apis/metrics.k8s.io/v1/nodes")
    assert code == 403
    assert 'User "system:anonymous" cannot list resource "nodes"' in json.loads(body)["message"]


async def test_bearer_tokens(server: Server) -> None:
    code, _, _ = await get(server, "/apis/metrics.k8s.io/v1/nodes", Authorization="Bearer good")
    assert code == 200
    code, _, body = await get(server, "/apis/metrics.k8s.io/v1/nodes", Authorization="Bearer bad")
    assert code == 401
    assert json.loads(body)["reason"] == "Unauthorized"
    # a rejected token is a 401 even on an always-allowed path, as in k8s.io/apiserver
    code, _, _ = await get(server, "/readyz", Authorization="Bearer bad")
    assert code == 401


async def test_client_certificate_user(server: Server) -> None:
    alice = ALICE.write(server.tmp, "alice")
    code, _, body = await get(server, "/apis/metrics.k8s.io/v1/namespaces/default/pods/web-1", cert=alice)
    assert code == 200
    assert json.loads(body)["kind"] == "PodMetrics"


async def test_certificate_from_an_unknown_ca_fails_the_handshake(server: Server) -> None:
    stranger = issue(make_ca("stranger"), "eve").write(server.tmp, "eve")
    with pytest.raises(aiohttp.ClientError):
        await get(server, "/readyz", cert=stranger)


async def test_health_endpoints_are_open_and_formatted(server: Server) -> None:
    code, headers, body = await get(server, "/readyz")
    assert (code, body) == (200, b"ok")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    _, _, body = await get(server, "/readyz?verbose")
    assert body.decode() == (
        "[+]ping ok\n[+]log ok\n[+]metric-storage-ready ok\n[+]shutdown ok\nreadyz check passed\n"
    )
    code, _, body = await get(server, "/livez")
    assert code == 500
    assert body.decode() == (
        "[+]ping ok\n[+]log ok\n[-]metric-collection-timely failed: reason withheld\nlivez check failed\n"
    )
    code, _, body = await get(server, "/livez?exclude=metric-collection-timely&verbose=1")
    assert code == 200 and body.decode().endswith(
        "[+]metric-collection-timely excluded: ok\nlivez check passed\n"
    )
    # only the exact always-allow paths skip authorization, as in k8s.io/apiserver
    assert (await get(server, "/livez/ping"))[0] == 403
    proxy = PROXY.write(server.tmp, "proxy")
    root = {"X-Remote-User": "root", "X-Remote-Group": "system:masters"}
    code, _, body = await get(server, "/livez/metric-collection-timely", cert=proxy, **root)
    assert (code, body) == (500, b"internal server error: metric collection didn't finish on time\n")
    assert (await get(server, "/healthz/ping", cert=proxy, **root))[0::2] == (200, b"ok")


async def test_discovery_and_openapi(server: Server) -> None:
    proxy = PROXY.write(server.tmp, "proxy")
    bob = {"X-Remote-User": "bob"}
    code, _, body = await get(server, "/apis", cert=proxy, **bob)
    assert code == 200
    assert json.loads(body) == {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": "metrics.k8s.io",
                "versions": [
                    {"groupVersion": "metrics.k8s.io/v1", "version": "v1"},
                    {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"},
                ],
                "preferredVersion": {"groupVersion": "metrics.k8s.io/v1", "version": "v1"},
            }
        ],
    }
    code, headers, body = await get(
        server,
        "/apis",
        cert=proxy,
        Accept="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        **bob,
    )
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = json.loads(body)
    assert doc["items"][0]["versions"][1]["resources"][1]["scope"] == "Namespaced"
    # discovery of the group version is authorized as a non-resource path (bob has only /apis)
    code, _, _ = await get(server, "/apis/metrics.k8s.io/v1beta1", cert=proxy, **bob)
    assert code == 403
    code, _, body = await get(
        server,
        "/apis/metrics.k8s.io/v1beta1",
        cert=proxy,
        **{"X-Remote-User": "root", "X-Remote-Group": "system:masters"},
    )
    assert json.loads(body)["resources"] == [
        {
            "name": "nodes",
            "singularName": "",
            "namespaced": False,
            "kind": "NodeMetrics",
            "verbs": ["get", "list"],
        },
        {
            "name": "pods",
            "singularName": "",
            "namespaced": True,
            "kind": "PodMetrics",
            "verbs": ["get", "list"],
        },
    ]
    root = {"X-Remote-User": "root", "X-Remote-Group": "system:masters"}
    code, headers, body = await get(server, "/openapi/v2", cert=proxy, **root)
    spec = json.loads(body)
    assert spec["info"]["title"] == "Kubernetes metrics-server"
    assert "io.k8s.metrics.pkg.apis.metrics.v1.NodeMetrics" in spec["definitions"]
    assert "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}" in spec["paths"]
    code, _, _ = await get(server, "/openapi/v2", cert=proxy, **{"If-None-Match": headers["ETag"]}, **root)
    assert code == 304
    _, _, index = await get(server, "/openapi/v3", cert=proxy, **root)
    url = json.loads(index)["paths"]["apis/metrics.k8s.io/v1beta1"]["serverRelativeURL"]
    code, headers, body = await get(server, url, cert=proxy, **root)
    assert code == 200 and headers["Cache-Control"] == "public, immutable"
    assert json.loads(body)["components"]["schemas"]["io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics"]


async def test_method_and_path_errors(server: Server) -> None:
    proxy = PROXY.write(server.tmp, "proxy")
    root = {"X-Remote-User": "root", "X-Remote-Group": "system:masters"}
    code, _, body = await get(server, "/apis/metrics.k8s.io/v1/nodes", cert=proxy, method="POST", **root)
    assert code == 405 and json.loads(body)["reason"] == "MethodNotAllowed"
    code, _, body = await get(server, "/apis/metrics.k8s.io/v1/nodes?watch=true", cert=proxy, **root)
    assert code == 405
    code, _, body = await get(server, "/apis/metrics.k8s.io/v1/services", cert=proxy, **root)
    assert code == 404 and json.loads(body)["message"] == "the server could not find the requested resource"
    code, _, body = await get(server, "/apis/metrics.k8s.io/v2/nodes", cert=proxy, **root)
    assert code == 404 and json.loads(body)["reason"] == "NotFound"
    code, _, body = await get(server, "/nothing", cert=proxy, **root)
    assert (code, body) == (404, b"404 page not found\n")


async def test_self_metrics(server: Server) -> None:
    proxy = PROXY.write(server.tmp, "proxy")
    bob = {"X-Remote-User": "bob"}
    await get(server, "/apis/metrics.k8s.io/v1beta1/nodes", cert=proxy, **bob)
    await get(server, "/livez")  # 500: this server's metric-collection-timely check fails
    await get(server, "/apis/metrics.k8s.io/v1beta1", cert=proxy, **bob)  # discovery
    await get(server, "/metrics", cert=proxy, **bob)
    code, _, body = await get(server, "/metrics", cert=proxy, **bob)
    assert code == 200
    text = body.decode()
    # non-resource requests as k8s.io/apiserver counts them: its health endpoints, by path and with no
    # component; not /metrics, nor discovery
    counted = [line for line in text.splitlines() if line.startswith("apiserver_request_total{")]
    assert (
        'apiserver_request_total{code="500",component="",dry_run="",group="",resource="",scope="",'
        'subresource="/livez",verb="GET",version=""} 1'
    ) in counted, counted
    assert len(counted) == 2, counted
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE metrics_server_")}
    assert families == {
        "metrics_server_api_metric_freshness_seconds",
        "metrics_server_kubelet_last_request_time_seconds",
        "metrics_server_kubelet_request_duration_seconds",
        "metrics_server_kubelet_request_total",
        "metrics_server_manager_tick_duration_seconds",
        "metrics_server_storage_points",
    }
    assert "metrics_server_api_metric_freshness_seconds_count 2\n" in text
    assert (
        # label pairs sorted by name, as metrics-server (client_golang) writes them
        'apiserver_request_total{code="200",component="apiserver",dry_run="",group="metrics.k8s.io",'
        'resource="nodes",scope="cluster",subresource="",verb="LIST",version="v1beta1"} 1\n'
    ) in text
    assert "process_resident_memory_bytes" in text
    code, _, _ = await get(server, "/metrics")
    assert code == 403
