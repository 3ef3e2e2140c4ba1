"""kube-aggregator and the node proxy: backends reached over HTTPS with the right certificates and
identity headers, availability conditions, and the kubelet behind /nodes/<n>/proxy."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubescope.sim.pki import CA
from tests.sim.conftest import Api


class Backend:
    """An HTTPS server on loopback that records each request's headers and client certificate."""

    def __init__(self, tmp: Path, name: str, client_ca_pem: bytes | None) -> None:
        self.ca = CA.create(f"{name}-ca")
        pair = self.ca.issue(name, server=True, ips=("127.0.0.1",))
        (tmp / f"{name}.crt").write_bytes(pair.cert_pem)
        (tmp / f"{name}.key").write_bytes(pair.key_pem)
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(str(tmp / f"{name}.crt"), str(tmp / f"{name}.key"))
        if client_ca_pem is not None:
            self.ctx.load_verify_locations(cadata=client_ca_pem.decode())
            self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.seen: list[dict[str, Any]] = []
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = dict(x[0] for x in (peer or {}).get("subject", ()))
        self.seen.append(
            {
                "path": request.path_qs,
                "method": request.method,
                "headers": list(request.headers.items()),
                "cn": subject.get("commonName", ""),
                "body": (await request.read()).decode(),
            }
        )
        if request.path.startswith("/apis/") and request.path.count("/") == 3:
            return web.json_response(
                {"kind": "APIResourceList", "groupVersion": request.path[6:], "resources": []}
            )
        return web.json_response(
            {"kind": "Thing", "path": request.path}, status=200, headers={"X-Backend": "yes"}
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port, ssl_context=self.ctx, reuse_address=True)
        await site.start()
        if not self.port:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def backend(tls_api: Api, tmp_path: Path) -> AsyncIterator[Backend]:
    assert tls_api.sim.pki is not None
    b = Backend(tmp_path, "metrics", tls_api.sim.pki.front_proxy_ca.pem)
    await b.start()
    try:
        yield b
    finally:
        await b.stop()


async def register(api: Api, b: Backend, *, ca_bundle: bool = True) -> None:
    await api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "monitoring"}})
    await api.ok(
        "POST",
        "/api/v1/namespaces/monitoring/services",
        {
            "metadata": {"name": "metrics"},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 4443}]},
        },
    )
    await api.ok(
        "POST",
        "/api/v1/namespaces/monitoring/endpoints",
        {
            "metadata": {"name": "metrics"},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": b.port}]}],
        },
    )
    spec: dict[str, Any] = {
        "group": "example.io",
        "version": "v1beta1",
        "service": {"namespace": "monitoring", "name": "metrics", "port": 443},
        "groupPriorityMinimum": 100,
        "versionPriority": 100,
    }
    if ca_bundle:
        spec["caBundle"] = base64.b64encode(b.ca.pem).decode()
    else:
        spec["insecureSkipTLSVerify"] = True
    await api.ok(
        "POST",
        "/apis/apiregistration.k8s.io/v1/apiservices",
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.example.io"},
            "spec": spec,
        },
    )


async def available(api: Api, want: str, within: float = 5.0, reason: str = "") -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        o = await api.ok("GET", "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.example.io")
        conds = {c["type"]: c for c in (o.get("status") or {}).get("conditions", [])}
        cond = conds.get("Available", {})
        if cond.get("status") == want and (not reason or cond.get("reason") == reason):
            return conds["Available"]
        if time.monotonic() > deadline:
            raise AssertionError(f"Available never became {want}: {o.get('status')}")
        await asyncio.sleep(0.05)


async def test_requests_reach_the_backend_with_front_proxy_identity(tls_api: Api, backend: Backend) -> None:
    await register(tls_api, backend)
    code, raw, headers = await tls_api.raw("GET", "/apis/example.io/v1beta1/namespaces/x/things?limit=3")
    assert code == 200 and headers["X-Backend"] == "yes"
    assert json.loads(raw) == {"kind": "Thing", "path": "/apis/example.io/v1beta1/namespaces/x/things"}
    req = next(s for s in backend.seen if "things" in s["path"])
    assert req["cn"] == "front-proxy-client"
    assert req["path"] == "/apis/example.io/v1beta1/namespaces/x/things?limit=3"
    hdrs = req["headers"]
    assert ("X-Remote-User", "kubescope-admin") in hdrs
    assert [v for k, v in hdrs if k == "X-Remote-Group"] == ["system:masters", "system:authenticated"]
    assert not any(k.lower() == "authorization" for k, _ in hdrs)
    # the simulator authorizes first, as kube-apiserver's handler chain does
    code, _, _ = await tls_api.raw("GET", "/apis/example.io/v1beta1/things", token="alice-token")
    assert code == 403


async def test_post_bodies_are_forwarded(tls_api: Api, backend: Backend) -> None:
    await register(tls_api, backend)
    await tls_api.ok("POST", "/apis/example.io/v1beta1/things", {"x": 1})
    req = next(s for s in backend.seen if s["method"] == "POST")
    assert json.loads(req["body"]) == {"x": 1}


async def test_discovery_lists_the_group_and_availability_follows_the_backend(
    tls_api: Api, backend: Backend
) -> None:
    await register(tls_api, backend)
    groups = {g["name"]: g for g in (await tls_api.ok("GET", "/apis"))["groups"]}
    assert groups["example.io"]["preferredVersion"]["version"] == "v1beta1"
    cond = await available(tls_api, "True")
    assert (cond["reason"], cond["message"]) == ("Passed", "all checks passed")
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    _, raw, _ = await tls_api.raw("GET", "/apis", headers={"Accept": accept})
    item = next(i for i in json.loads(raw)["items"] if i["metadata"]["name"] == "example.io")
    assert item["versions"] == [{"version": "v1beta1", "resources": [], "freshness": "Current"}]
    probe = next(s for s in backend.seen if s["path"] == "/apis/example.io/v1beta1")
    assert ("X-Remote-User", "system:kube-aggregator") in probe["headers"]
    await backend.stop()
    cond = await available(tls_api, "False")
    assert cond["reason"] == "FailedDiscoveryCheck"
    assert cond["message"].startswith(
        f"failing or missing response from https://127.0.0.1:{backend.port}/apis/example.io/v1beta1"
    )
    code, doc = await tls_api.call("GET", "/apis/example.io/v1beta1/things")
    assert code == 503 and doc["reason"] == "ServiceUnavailable"
    await backend.start()  # same port
    await available(tls_api, "True")


async def test_missing_endpoints_and_wrong_ca(tls_api: Api, backend: Backend, tmp_path: Path) -> None:
    other = Backend(tmp_path, "impostor", tls_api.sim.pki.front_proxy_ca.pem)  # type: ignore[union-attr]
    await other.start()
    try:
        await register(tls_api, other)
        # the APIService trusts `other.ca`; now point the endpoint at a server with another CA
        ep = await tls_api.ok("GET", "/api/v1/namespaces/monitoring/endpoints/metrics")
        ep["subsets"][0]["ports"][0]["port"] = backend.port
        await tls_api.ok("PUT", "/api/v1/namespaces/monitoring/endpoints/metrics", ep)
        cond = await available(tls_api, "False")
        assert cond["reason"] == "FailedDiscoveryCheck" and "CERTIFICATE_VERIFY_FAILED" in cond["message"]
        await tls_api.ok("DELETE", "/api/v1/namespaces/monitoring/endpoints/metrics")
        cond = await available(tls_api, "False", reason="EndpointsNotFound")
        assert (cond["reason"], cond["message"]) == (
            "EndpointsNotFound",
            'cannot find endpoints for service/metrics in "monitoring"',
        )
    finally:
        await other.stop()


async def test_insecure_skip_tls_verify(tls_api: Api, backend: Backend) -> None:
    await register(tls_api, backend, ca_bundle=False)
    await available(tls_api, "True")


async def test_node_proxy_reaches_the_kubelet_with_the_apiserver_client_certificate(
    tls_api: Api, tmp_path: Path
) -> None:
    pki = tls_api.sim.pki
    assert pki is not None
    kubelet = Backend(tmp_path, "kubelet", pki.ca.pem)
    await kubelet.start()
    try:
        node = {
            "metadata": {"name": "n1"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port}},
            },
        }
        await tls_api.ok("POST", "/api/v1/nodes", node)
        code, raw, _ = await tls_api.raw("GET", "/api/v1/nodes/n1/proxy/metrics/resource?x=1")
        assert code == 200 and json.loads(raw)["path"] == "/metrics/resource"
        seen = kubelet.seen[-1]
        assert seen["cn"] == "kube-apiserver-kubelet-client" and seen["path"] == "/metrics/resource?x=1"
        code, doc = await tls_api.call("GET", "/api/v1/nodes/missing/proxy/metrics")
        assert (code, doc["message"]) == (404, 'nodes "missing" not found')
    finally:
        await kubelet.stop()
    code, doc = await tls_api.call("GET", "/api/v1/nodes/n1/proxy/metrics")
    assert code == 503 and doc["message"].startswith("error trying to reach service")
