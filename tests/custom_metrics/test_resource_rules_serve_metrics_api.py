"""--resource-metrics: metrics.k8s.io from Prometheus with kube-prometheus' resourceRules, answered as
metrics-server answers (kubectl top's paths, selectors, sorting, 404 wording)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubescope.custom_metrics.resourcemetrics import cpu_quantity, memory_quantity
from kubescope.model.quantity import parse_quantity
from tests.custom_metrics.stack import Adapter, AppExporter, counter, scrape_config, start_adapter
from tests.custom_metrics.test_config_reads_prometheus_adapter_files import RESOURCE_RULES
from tests.integration.prom import Prometheus, prometheus
from tests.sim.conftest import pod, start_api

pytestmark = [pytest.mark.external, pytest.mark.slow]

CPU = counter(time.monotonic(), 0.25)  # a quarter of a core


def cadvisor() -> str:
    c = CPU()
    return f"""\
container_cpu_usage_seconds_total{{namespace="shop",pod="web-1",container="app"}} {c}
container_cpu_usage_seconds_total{{namespace="shop",pod="web-1",container="sidecar"}} {c / 5}
container_cpu_usage_seconds_total{{namespace="shop",pod="web-1",container=""}} {c * 9}
container_memory_working_set_bytes{{namespace="shop",pod="web-1",container="app"}} 209715200
container_memory_working_set_bytes{{namespace="shop",pod="web-1",container="sidecar"}} 1000.5
container_memory_working_set_bytes{{namespace="shop",pod="web-1",container="init"}} 2048
container_memory_working_set_bytes{{namespace="shop",pod="db-1",container="db"}} 1048576
node_cpu_usage_seconds_total{{node="node-1"}} {c * 4}
node_memory_working_set_bytes{{node="node-1"}} 4294967296
"""


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    e = AppExporter()
    e.set(cadvisor)
    with prometheus(tmp_path_factory.mktemp("prom"), [scrape_config(e.port)]) as p:
        p.wait_scraped("app")
        deadline = time.monotonic() + 30
        while not p.query("irate(node_cpu_usage_seconds_total[4m]) > 0"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        yield p
    e.close()


@pytest.fixture
async def adapter(tmp_path: Path, prom: Prometheus) -> AsyncIterator[Adapter]:
    sim, api = await start_api(tmp_path)
    await api.ok(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    )
    await api.ok(
        "POST",
        "/api/v1/nodes",
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "labels": {"zone": "a"}}},
    )
    await api.ok("POST", "/api/v1/namespaces/shop/pods", pod("web-1", "shop", {"app": "web"}))
    await api.ok("POST", "/api/v1/namespaces/shop/pods", pod("db-1", "shop", {"app": "db"}))
    await api.ok(
        "POST", "/api/v1/namespaces/shop/pods", pod("done-1", "shop", {"app": "web"}, phase="Succeeded")
    )
    a = await start_adapter(RESOURCE_RULES, prom.url, api.url, resource_metrics=True)
    try:
        yield a
    finally:
        await a.close()
        await api.session.close()
        await sim.stop()


def test_quantities() -> None:
    assert cpu_quantity(0.25) == "250m" and cpu_quantity(2) == "2" and cpu_quantity(0.0000001) == "0"
    assert memory_quantity(209715200) == "200Mi" and memory_quantity(1000) == "1k"
    assert memory_quantity(1000.5) == "1000500m" and memory_quantity(4294967296) == "4Gi"


async def test_pods_of_a_namespace(adapter: Adapter) -> None:
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods")
    assert code == 200, doc
    assert doc["kind"] == "PodMetricsList" and doc["apiVersion"] == "metrics.k8s.io/v1beta1"
    # db-1 has memory but no CPU: left out, as prometheus-adapter leaves it out; done-1 is not Running
    assert [i["metadata"]["name"] for i in doc["items"]] == ["web-1"]
    web = doc["items"][0]
    assert web["window"] == "5m0s" and web["metadata"]["labels"] == {"app": "web"}
    assert [c["name"] for c in web["containers"]] == ["app", "init", "sidecar"], 'container!="" in the rules'
    app = web["containers"][0]["usage"]
    assert 0.2 < float(parse_quantity(app["cpu"])) < 0.3 and app["memory"] == "200Mi"
    assert web["containers"][1]["usage"] == {"cpu": "0", "memory": "2Ki"}, "a container without CPU gets 0"
    assert web["containers"][2]["usage"]["memory"] == "1000500m"
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/db-1")
    assert code == 404 and doc["message"] == 'podmetrics.metrics.k8s.io "shop/db-1" not found'


async def test_nodes_selectors_and_gets(adapter: Adapter) -> None:
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1/nodes", labelSelector="zone=a")
    assert code == 200 and doc["kind"] == "NodeMetricsList"
    usage = doc["items"][0]["usage"]
    assert 0.8 < float(parse_quantity(usage["cpu"])) < 1.2 and usage["memory"] == "4Gi"
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1/nodes", labelSelector="zone=b")
    assert code == 200 and doc["items"] == []
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/nodes/node-1")
    assert code == 200 and doc["kind"] == "NodeMetrics" and doc["metadata"]["name"] == "node-1"
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/nodes/node-9")
    assert code == 404 and doc["message"] == 'nodes "node-9" not found'
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-1")
    assert code == 200 and doc["kind"] == "PodMetrics"
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/done-1")
    assert code == 404 and doc["message"] == 'pods "done-1" not found'
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/pods", labelSelector="app=web")
    assert [i["metadata"]["name"] for i in doc["items"]] == ["web-1"]
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1/pods", labelSelector="app in (")
    assert code == 400
    code, doc = await adapter.get("/apis/metrics.k8s.io/v1beta1")
    assert [r["name"] for r in doc["resources"]] == ["nodes", "pods"]
    code, doc = await adapter.get("/apis")
    assert {g["name"] for g in doc["groups"]} == {
        "custom.metrics.k8s.io",
        "external.metrics.k8s.io",
        "metrics.k8s.io",
    }
