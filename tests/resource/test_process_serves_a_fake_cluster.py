"""``kubescope resource-metrics`` as a subprocess against a scripted API server and kubelets:
start-up, readiness after two cycles, exact CPU rates, running pods only, pruning, a kubelet
answering garbage, delegated authentication and authorization, self metrics, graceful shutdown,
and the start-up failure when the authentication ConfigMap cannot be read."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubescope.model.quantity import parse_quantity
from kubescope.resource.settings import parse_duration
from tests.apiserver.certs import make_ca
from tests.childserver import START_TIMEOUT, started_port
from tests.resource.fakecluster import Container, FakeCluster, FakePod

pytestmark = pytest.mark.slow

ADMIN = "admin-token"


@dataclass
class Running:
    cluster: FakeCluster
    proc: asyncio.subprocess.Process
    url: str
    log: Path

    async def get(self, path: str, token: str | None = ADMIN) -> tuple[int, Any]:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as s, s.get(self.url + path, ssl=ctx, headers=headers) as r:
            raw = await r.read()
            ctype = r.headers.get("Content-Type", "")
            return r.status, json.loads(raw) if ctype.startswith("application/json") else raw.decode()

    async def wait(self, what: str, cond: Any, timeout: float = START_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = await cond()
            except (aiohttp.ClientError, OSError) as e:  # not listening yet
                last = e
            if last and not isinstance(last, Exception):
                return last
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.2)
        raise AssertionError(f"{what}: not reached, last={last!r}\n{self.log.read_text()[-3000:]}")


async def start(cluster: FakeCluster, tmp: Path, *extra: str) -> Running:
    kc = tmp / "kubeconfig"
    kc.write_text(cluster.kubeconfig("resource-metrics-sa"))
    log = tmp / "resource-metrics.log"
    argv = [
        sys.executable, "-m", "kubescope", "resource-metrics",
        f"--kubeconfig={kc}", "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={tmp / 'certs'}",
        "--kubelet-preferred-address-types=InternalIP", "--kubelet-use-node-status-port",
        "--deprecated-kubelet-completely-insecure", "--metric-resolution=1s", "--kubelet-request-timeout=500ms",
        "--testing-allow-short-metric-resolution", "--log-level=info", *extra,
    ]  # fmt: skip
    with log.open("wb") as f:
        proc = await asyncio.create_subprocess_exec(*argv, stdout=f, stderr=f, env={**os.environ})
    # the port it chose (0: no port picked here that another process could take first)
    return Running(cluster, proc, f"https://127.0.0.1:{await started_port(proc, log)}", log)


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    c = await FakeCluster().start()
    front = make_ca("front-proxy-ca")
    c.configmap = {
        "client-ca-file": make_ca("kubernetes").pem.decode(),
        "requestheader-client-ca-file": front.pem.decode(),
        "requestheader-allowed-names": '["front-proxy-client"]',
        "requestheader-username-headers": '["X-Remote-User"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
    }
    c.tokens = {ADMIN: ("admin", ["system:masters"]), "viewer-token": ("viewer", [])}
    c.allowed = {("viewer", "nodes")}
    await c.add_node("node-a", 0.5, {"zone": "a"})
    await c.add_node("node-b", 1.25, {"zone": "b"})
    c.add_pod(FakePod("default", "web", "node-a", [Container("app", 0.25, 100 << 20), Container("proxy", 0.01, 20 << 20)],
                      {"app": "web"}))  # fmt: skip
    c.add_pod(FakePod("default", "db", "node-b", [Container("db", 0.75, 1 << 30)], {"app": "db"}))
    c.add_pod(FakePod("kube-system", "dns", "node-b", [Container("coredns", 0.003, 12 << 20)]))
    c.add_pod(FakePod("default", "job", "node-a", [Container("main", 0.1, 1 << 20)], phase="Pending"))
    try:
        yield c
    finally:
        await c.stop()


@pytest.fixture
async def server(cluster: FakeCluster, tmp_path: Path) -> AsyncIterator[Running]:
    # a shutdown delay no loaded machine outlasts before the test's readyz probe (1 s did, in a full
    # run: the probe found the listener closed); a second SIGTERM ends it (tests/web: by itself)
    r = await start(cluster, tmp_path, "--shutdown-delay-duration=300s")
    try:
        yield r
    finally:
        if r.proc.returncode is None:
            r.proc.kill()
            await r.proc.wait()


def cores(q: str) -> float:
    return float(parse_quantity(q))


async def test_serves_exact_rates_after_two_cycles(server: Running) -> None:
    async def ready() -> bool:
        code, _ = await server.get("/readyz", token=None)
        return code == 200

    async def both_nodes() -> Any:
        # a scrape that timed out on a loaded machine drops its node until the next one succeeds
        code, nodes = await server.get("/apis/metrics.k8s.io/v1/nodes")
        return code == 200 and [n["metadata"]["name"] for n in nodes["items"]] == ["node-a", "node-b"] and nodes

    async def three_pods() -> Any:
        _, pods = await server.get("/apis/metrics.k8s.io/v1beta1/pods")
        return len(pods["items"]) == 3 and pods

    await server.wait("readyz", ready)
    nodes = await server.wait("both nodes", both_nodes)
    assert [cores(n["usage"]["cpu"]) for n in nodes["items"]] == pytest.approx([0.5, 1.25], rel=1e-6)
    assert nodes["items"][0]["usage"]["memory"] == "2Gi"
    assert nodes["items"][1]["metadata"]["labels"] == {"zone": "b"}
    pods = await server.wait("three pods", three_pods)
    got = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods["items"]}
    assert list(got) == [("default", "db"), ("default", "web"), ("kube-system", "dns")]  # no Pending pod
    web = got[("default", "web")]
    assert [c["name"] for c in web["containers"]] == ["app", "proxy"]
    assert cores(web["containers"][0]["usage"]["cpu"]) == pytest.approx(0.25, rel=1e-6)
    assert web["containers"][0]["usage"]["memory"] == "100Mi"
    # the window is the real distance between two samples its kubelet served (about one resolution
    # on a quiet machine; how long, a loaded one decides; a sample served after its scrape timed out
    # is not used)
    samples = server.cluster.sampled["node-a"]
    window = parse_duration(web["window"], "window")
    gaps = [(b - a) / 1000 for a, b in itertools.combinations(samples, 2)]
    assert any(window == pytest.approx(gap, abs=1e-6) for gap in gaps), (window, samples)
    code, status = await server.get("/apis/metrics.k8s.io/v1/namespaces/default/pods/job")
    assert (code, status["message"]) == (404, 'pods "job" not found')


async def test_pods_follow_the_watch_and_the_kubelets(server: Running) -> None:
    cluster = server.cluster

    async def listed() -> list[str]:
        code, pods = await server.get("/apis/metrics.k8s.io/v1/namespaces/default/pods")
        return [p["metadata"]["name"] for p in pods["items"]] if code == 200 else []

    await server.wait("pods listed", lambda: _eq(listed, ["db", "web"]))
    cluster.set_phase("default", "web", "Succeeded")  # gone from the watch at once
    await server.wait("pod left", lambda: _eq(listed, ["db"]))
    cluster.set_phase("default", "job", "Running")  # starts: values after its second point
    await server.wait("pod joined", lambda: _eq(listed, ["db", "job"]))
    # a kubelet answering garbage fails only its node; its pods vanish with the next cycle
    cluster.kubelet_bodies["node-b"] = b"<html>oops</html>\n"
    await server.wait("node-b pruned", lambda: _eq(listed, ["job"]))
    code, metrics = await server.get("/metrics")
    assert code == 200
    assert 'kubescope_resource_kubelet_scrape_errors_total{reason="parse"}' in metrics
    assert 'metrics_server_kubelet_request_total{success="true"}' in metrics
    assert 'metrics_server_storage_points{type="node"} 1' in metrics
    assert "failed to scrape node" in server.log.read_text()


async def _eq(get: Any, want: list[str]) -> bool:
    return bool(await get() == want)


async def test_delegated_auth_and_graceful_shutdown(server: Running) -> None:
    async def ready() -> bool:
        return (await server.get("/readyz", token=None))[0] == 200

    await server.wait("readyz", ready)
    assert (await server.get("/apis/metrics.k8s.io/v1/nodes", token="viewer-token"))[0] == 200
    code, st = await server.get("/apis/metrics.k8s.io/v1/pods", token="viewer-token")
    assert code == 403
    assert st["message"] == (
        'pods.metrics.k8s.io is forbidden: User "viewer" cannot list resource "pods" in API group '
        '"metrics.k8s.io" at the cluster scope'
    )
    assert (await server.get("/apis/metrics.k8s.io/v1/nodes", token="stolen"))[0] == 401
    code, st = await server.get("/apis/metrics.k8s.io/v1/nodes", token=None)
    assert code == 403 and 'User "system:anonymous"' in st["message"]
    review = server.cluster.reviews[-1]
    assert review["user"] == "system:anonymous" and review["groups"] == ["system:unauthenticated"]
    # SIGTERM: readyz fails during the shutdown delay; a second one ends it, the process exits cleanly
    server.proc.send_signal(signal.SIGTERM)
    code, text = await server.get("/readyz?verbose", token=None)
    assert code == 500 and "[-]shutdown failed: reason withheld" in text
    server.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.proc.wait(), START_TIMEOUT) == 0
    assert "second signal: stopping without waiting" in server.log.read_text()


async def test_start_up_fails_clearly_without_the_authentication_configmap(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    cluster.configmap = None
    r = await start(cluster, tmp_path)
    assert await asyncio.wait_for(r.proc.wait(), START_TIMEOUT) == 1
    out = r.log.read_text()
    assert "unable to load configmap kube-system/extension-apiserver-authentication" in out
    assert "--authentication-tolerate-lookup-failure" in out
    r2 = await start(cluster, tmp_path, "--authentication-tolerate-lookup-failure")
    try:

        async def up() -> bool:
            return (await r2.get("/livez", token=None))[0] == 200

        await r2.wait("livez", up)
    finally:
        r2.proc.kill()
        await r2.proc.wait()


async def test_scrapes_through_the_api_servers_node_proxy(cluster: FakeCluster, tmp_path: Path) -> None:
    r = await start(cluster, tmp_path, "--kubelet-request-via-apiserver")
    try:

        async def nodes() -> list[str]:
            code, body = await r.get("/apis/metrics.k8s.io/v1/nodes")
            return [n["metadata"]["name"] for n in body["items"]] if code == 200 else []

        await r.wait("nodes via the proxy", lambda: _eq(nodes, ["node-a", "node-b"]))
    finally:
        r.proc.kill()
        await r.proc.wait()
    assert cluster.kubelet_requests == {}  # no direct kubelet connection
    assert {(n, p) for n, p, _ in cluster.proxy_requests} == {
        ("node-a", "/metrics/resource"),
        ("node-b", "/metrics/resource"),
    }
    assert {a for _, _, a in cluster.proxy_requests} == {"Bearer resource-metrics-sa"}


async def test_unusable_kubelet_certificate_flag_stops_start_up(cluster: FakeCluster, tmp_path: Path) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text(cluster.kubeconfig("resource-metrics-sa"))
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("this is not a certificate\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubescope", "resource-metrics", f"--kubeconfig={kc}",
        "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={tmp_path / 'certs'}",
        f"--kubelet-certificate-authority={bad}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), START_TIMEOUT)
    assert proc.returncode == 1
    assert f"--kubelet-certificate-authority={bad}" in out.decode()
