"""Every background task of resource-metrics is supervised: killed, it makes /readyz fail naming it
(metrics-server's checks stay as they were); restarted, it does its job again. The start-up says
where the server serves and when it is ready."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubescope.kube.client import KubeClient
from kubescope.resource import settings as rs
from kubescope.resource.app import ResourceMetricsServer
from tests.apiserver.certs import make_ca
from tests.resource.fakecluster import Container, FakeCluster, FakePod


@pytest.fixture
async def cluster() -> AsyncIterator[FakeCluster]:
    c = await FakeCluster().start()
    c.configmap = {
        "client-ca-file": make_ca("kubernetes").pem.decode(),
        "requestheader-client-ca-file": make_ca("front-proxy-ca").pem.decode(),
        "requestheader-allowed-names": '["front-proxy-client"]',
        "requestheader-username-headers": '["X-Remote-User"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
    }
    c.tokens = {"admin": ("admin", ["system:masters"])}
    await c.add_node("node-a", 0.5)
    c.add_pod(FakePod("default", "web", "node-a", [Container("app", 0.25, 100 << 20)]))
    try:
        yield c
    finally:
        await c.stop()


@pytest.fixture
async def server(cluster: FakeCluster, tmp_path: Path) -> AsyncIterator[ResourceMetricsServer]:
    kc = tmp_path / "kubeconfig"
    kc.write_text(cluster.kubeconfig("admin"))
    p = argparse.ArgumentParser()
    rs.configure(p)
    args = p.parse_args(
        [
            f"--kubeconfig={kc}", "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={tmp_path / 'certs'}",
            "--kubelet-preferred-address-types=InternalIP", "--kubelet-use-node-status-port",
            "--deprecated-kubelet-completely-insecure", "--metric-resolution=1s", "--kubelet-request-timeout=500ms",
            "--testing-allow-short-metric-resolution",
        ]
    )  # fmt: skip
    settings = rs.from_args(args)
    client = await KubeClient.connect(settings.kube)
    srv = ResourceMetricsServer(settings, client)
    srv.apiserver.auth.refresh_interval = 0.05
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()
        await client.close()
        gc.collect()


async def get(srv: ResourceMetricsServer, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(
            f"https://127.0.0.1:{srv.port}{path}", ssl=False, headers={"Authorization": "Bearer admin"}
        ) as r,
    ):
        return r.status, await r.text()


async def eventually(cond: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_each_task_killed_fails_readiness_then_restarts(
    server: ResourceMetricsServer, cluster: FakeCluster
) -> None:
    async def ready() -> bool:
        return (await get(server, "/readyz"))[0] == 200

    await eventually(ready, "two cycles stored")
    sup = server.server.supervisor
    await eventually(lambda: _true("announce-ready" not in sup.states), "ready announced")
    assert sorted(sup.states) == [
        "auth-config-refresh",
        "reflector/nodes",
        "reflector/pods",
        "scrape-loop",
        "tls-reload",
    ]
    healthy = (await get(server, "/readyz?verbose"))[1]
    assert healthy == (
        "[+]ping ok\n[+]log ok\n[+]poststarthook/max-in-flight-filter ok\n[+]metric-storage-ready ok\n"
        "[+]metric-informer-sync ok\n[+]metadata-informer-sync ok\n[+]shutdown ok\nreadyz check passed\n"
    )
    for name in sorted(sup.states):
        sup.kill(name, RuntimeError(f"{name} crashed"), hold=True)
        code, body = await get(server, "/readyz?verbose")
        assert code == 500 and f"[-]task/{name} failed: reason withheld\n" in body, (name, body)
        assert (await get(server, "/livez"))[0] == 200  # restarted, not fatal: the pod is not restarted
        sup.restart_now(name)
        await eventually(ready, f"{name} restarted")
        assert sup.states[name].restarts == 1

    # the restarted tasks work: a new pod is listed, scraped and served; the ConfigMap is read again
    cluster.add_pod(FakePod("default", "late", "node-a", [Container("app", 0.5, 1 << 20)]))
    reads = cluster.configmap_reads

    async def served() -> bool:
        code, body = await get(server, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/late")
        return code == 200 and '"name":"late"' in body.replace(" ", "")

    await eventually(served, "a pod added after the restarts is served")
    await eventually(lambda: _true(cluster.configmap_reads > reads), "the ConfigMap is read again")


async def _true(v: bool) -> bool:
    return v


@pytest.fixture
def progress(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, "kubescope.progress")
    return caplog


async def test_start_up_says_where_it_serves_and_when_it_is_ready(
    progress: pytest.LogCaptureFixture, server: ResourceMetricsServer
) -> None:
    sup = server.server.supervisor
    await eventually(lambda: _true("announce-ready" not in sup.states), "ready")
    records = progress.get_records("setup") + progress.records
    lines = [(r.getMessage(), getattr(r, "fields", {})) for r in records if r.name == "kubescope.progress"]
    assert ("serving", {"server": "resource-metrics", "https": f"https://127.0.0.1:{server.port}"}) in lines
    assert [m for m, _ in lines if m == "ready"] == ["ready"]
