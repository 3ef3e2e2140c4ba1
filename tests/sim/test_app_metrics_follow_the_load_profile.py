"""Application metrics: pods of annotated Deployments serve request counters and queue depth driven by a
load profile, found by a real Prometheus through HTTP service discovery with Kubernetes' pod labels."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import pytest

from kubescope.sim.appmetrics import (
    ANNOTATION,
    AppMetrics,
    LoadProfile,
    ProfileError,
    parse_profile,
    scrape_config,
)
from tests.integration.prom import prometheus
from tests.sim.conftest import pod, start_api


def deployment(name: str, ns: str, profile: str, app: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "annotations": {ANNOTATION: profile}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}},
                              "spec": {"containers": [{"name": "app", "image": "app"}]}}},
    }  # fmt: skip


def test_profiles_parse_and_shape_the_load() -> None:
    p = parse_profile("shape=square,min=20,max=240,period=4m,capacity=40")
    assert p == LoadProfile(shape="square", min=20, max=240, period=240, capacity=40)
    assert p.load(0) == 240 and p.load(119) == 240 and p.load(120) == 20 and p.load(250) == 240
    s = parse_profile("shape=sine,min=0,max=100,period=100s")
    assert s.load(0) == 50 and math.isclose(s.load(25), 100)
    st = parse_profile("shape=steps,values=1/2/3,step=10s")
    assert [st.load(t) for t in (0, 10, 20, 30)] == [1, 2, 3, 1]
    assert parse_profile("rps=7").load(123) == 7
    for bad in ("shape=wave", "rps", "period=-1s", "shape=steps", "foo=1", "rps=x"):
        with pytest.raises(ProfileError):
            parse_profile(bad)


def _pod(name: str, ready: bool = True) -> dict[str, Any]:
    p = pod(name, "shop", {"app": "web"})
    p["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    return p


def test_load_is_shared_by_ready_pods_and_backlog_grows_beyond_capacity() -> None:
    now = [0.0]
    pods = [_pod("a"), _pod("b"), _pod("c", ready=False)]
    m = AppMetrics(
        lambda: pods, lambda: [deployment("web", "shop", "rps=100,capacity=40")], clock=lambda: now[0]
    )
    m.address = "127.0.0.1:1"
    assert [t["labels"]["__meta_kubernetes_pod_name"] for t in m.targets()] == ["a", "b"]
    now[0] = 10.0
    text = m.pod_metrics("shop", "a") or ""
    assert 'http_requests_total{code="200",method="GET"} 398.000' in text  # 40/s (capacity) * 10 s * 99.5%
    assert "app_queue_depth 100.000" in text  # (100 - 80) * 10 s / 2 pods
    buckets = [
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("http_request_duration_seconds_bucket")
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 400.0, "cumulative, +Inf is every request"
    assert "http_request_duration_seconds_count 400.000" in text
    assert m.pod_metrics("shop", "c") is None
    pods.append(_pod("d"))
    m.dirty = True
    now[0] = 20.0
    m.refresh()
    assert "app_queue_depth 133.333" in (m.pod_metrics("shop", "d") or ""), "400 waiting, shared by 3 pods"
    now[0] = 40.0
    text = m.pod_metrics("shop", "d") or ""
    assert "app_queue_depth 0.000" in text, "three pods serve 120/s: the backlog drains at 20/s"
    assert m.truth()["apps"]["shop/web"]["ready_pods"] == 3


async def test_every_simulator_serves_app_metrics(tmp_path: Path) -> None:
    from tests.integration.prom import free_port

    port = free_port()
    sim, api = await start_api(tmp_path, app_metrics_port=port)
    try:
        truth = await api.ok("GET", "/_sim/appmetrics")
        assert truth["targets_url"] == f"http://127.0.0.1:{port}/targets" and truth["apps"] == {}
    finally:
        await api.session.close()
        await sim.stop()


@pytest.mark.external
async def test_prometheus_finds_and_scrapes_the_pods(tmp_path: Path) -> None:
    sim, api = await start_api(tmp_path)
    try:
        await api.ok(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        )
        await api.ok(
            "POST",
            "/apis/apps/v1/namespaces/shop/deployments",
            deployment("web", "shop", "rps=30,capacity=100"),
        )
        await api.ok("POST", "/api/v1/namespaces/shop/pods", _pod("web-1"))
        truth = await api.ok("GET", "/_sim/appmetrics")
        (tmp_path / "p").mkdir()
        with prometheus(tmp_path / "p", [scrape_config(truth["targets_url"])]) as p:
            # Prometheus' helpers block: run them in a thread so this loop keeps serving the pods
            await asyncio.to_thread(p.wait_scraped, "kubernetes-pods")
            await api.ok("POST", "/api/v1/namespaces/shop/pods", _pod("web-2"))
            deadline = time.monotonic() + 30
            while True:
                r = await asyncio.to_thread(
                    p.query, "sum by (namespace, pod) (rate(http_requests_total[3s]))"
                )
                pods = {x["metric"]["pod"]: float(x["value"][1]) for x in r}
                if set(pods) == {"web-1", "web-2"} and all(10 < v < 20 for v in pods.values()):
                    break
                assert time.monotonic() < deadline, pods
                await asyncio.sleep(0.5)
            assert {x["metric"]["namespace"] for x in r} == {"shop"}
            up = await asyncio.to_thread(p.query, 'up{job="kubernetes-pods"}')
            assert {x["metric"]["app"] for x in up} == {"web"}
        code, _, _ = await api.raw("GET", "/_sim/appmetrics")
        assert code == 200
        async with api.session.get(truth["targets_url"].replace("/targets", "/pods/shop/nope/metrics")) as r:
            assert r.status == 404
    finally:
        await api.session.close()
        await sim.stop()
