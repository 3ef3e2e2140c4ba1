"""Every rule feature against a real Prometheus scraping application metrics, with the simulator as the
Kubernetes API: discovery, naming, association, templates, selectors, answers and their semantics."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubescope.model.quantity import parse_quantity
from tests.custom_metrics.stack import Adapter, AppExporter, counter, scrape_config, start_adapter
from tests.integration.prom import Prometheus, prometheus
from tests.sim.conftest import Api, pod, start_api

pytestmark = [pytest.mark.external, pytest.mark.slow]

T0 = time.monotonic()
REQUESTS = counter(T0, 10.0)

APP_METRICS = """\
# TYPE http_requests_total counter
http_requests_total{{namespace="shop",pod="web-1",verb="GET"}} {r1}
http_requests_total{{namespace="shop",pod="web-2",verb="GET"}} {r2}
http_requests_total{{namespace="shop",pod="web-2",verb="POST"}} {r2}
queue_length{{namespace="shop",pod="web-1"}} 3
queue_length{{namespace="shop",pod="web-2"}} 5.5
queue_length{{namespace="shop",deployment="web"}} 8.5
queue_length{{namespace="shop",service="front"}} 1e6
queue_ignored{{namespace="shop",pod="web-1"}} 1
temperature{{namespace="shop",pod="web-1"}} NaN
temperature{{namespace="shop",pod="web-2"}} 21.25
queue_depth{{namespace="shop",queue="q1"}} 7
queue_depth{{namespace="shop",queue="q2"}} 11
queue_depth{{namespace="other",queue="q1"}} 100
backlog{{queue="jobs",shard="a"}} 4
backlog{{queue="jobs",shard="b"}} 6
lag_seconds{{queue="jobs"}} +Inf
node_load{{node="node-1"}} 0.25
"""

CONFIG = """\
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5s])) by (<<.GroupBy>>)'
- seriesQuery: '{__name__=~"^(queue_.*|temperature)$",namespace!=""}'
  seriesFilters:
  - isNot: "^queue_ignored$"
  resources:
    template: "<<.Resource>>"
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<range $i, $g := .GroupBySlice>><<if $i>>,<<end>><<$g>><<end>>)'
- seriesQuery: 'node_load{node!=""}'
  resources:
    overrides:
      node: {resource: node}
  name: {as: "load"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<index .GroupBySlice 0>>)'
externalRules:
- seriesQuery: 'queue_depth{queue!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
  metricsQuery: >-
    sum(<<.Series>>{namespace="<<index .LabelValuesByName "namespace">>"<<if .LabelValuesByName.queue>>,queue=~"<<.LabelValuesByName.queue>>"<<end>>})
    by (queue)
- seriesQuery: 'backlog{queue!=""}'
  resources: {namespaced: false}
  metricsQuery: '<<.Series>>{<<.LabelMatchers>>}'
  seriesAggregation: sum
- seriesQuery: 'lag_seconds'
  resources: {namespaced: false}
  metricsQuery: '<<.Series>>{<<.LabelMatchers>>}'
  nullAsZero: true
- seriesQuery: '{__name__="queue_depth"}'
  name: {as: "queue_depth_raw"}
  resources:
    overrides:
      namespace: {resource: namespace}
  metricsQuery: '<<.Series>>{<<.LabelMatchers>>}'
"""


def app_metrics() -> str:
    r = REQUESTS()
    return APP_METRICS.format(r1=r, r2=2 * r)


@pytest.fixture(scope="module")
def exporter() -> Iterator[AppExporter]:
    e = AppExporter()
    e.set(app_metrics)
    yield e
    e.close()


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory, exporter: AppExporter) -> Iterator[Prometheus]:
    with prometheus(tmp_path_factory.mktemp("prom"), [scrape_config(exporter.port)]) as p:
        p.wait_scraped("app")
        # rates need two samples in the window
        deadline = time.monotonic() + 30
        while not p.query('rate(http_requests_total{pod="web-1"}[5s]) > 8'):
            assert time.monotonic() < deadline, "no rate after 30s"
            time.sleep(0.5)
        yield p


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Api]:
    sim, api = await start_api(tmp_path)
    for ns in ("shop", "other"):
        await api.ok(
            "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        )
    for name, tier in (("web-1", "front"), ("web-2", "front"), ("db-1", "back")):
        await api.ok("POST", "/api/v1/namespaces/shop/pods", pod(name, "shop", {"tier": tier}))
    try:
        yield api
    finally:
        await api.session.close()
        await sim.stop()


@pytest.fixture
async def adapter(prom: Prometheus, cluster: Api) -> AsyncIterator[Adapter]:
    a = await start_adapter(CONFIG, prom.url, cluster.url)
    try:
        yield a
    finally:
        await a.close()


def values(doc: dict[str, Any]) -> dict[str, float]:
    return {i["describedObject"]["name"]: float(parse_quantity(i["value"])) for i in doc["items"]}


async def test_discovery_lists_every_named_metric_per_resource(adapter: Adapter) -> None:
    code, doc = await adapter.get("/apis/custom.metrics.k8s.io/v1beta1")
    assert code == 200
    names = {(r["name"], r["namespaced"]) for r in doc["resources"]}
    assert ("pods/http_requests_per_second", True) in names
    assert ("namespaces/http_requests_per_second", False) in names
    assert ("pods/queue_length", True) in names
    assert ("deployments.apps/queue_length", True) in names
    assert ("services/queue_length", True) in names
    assert ("nodes/load", False) in names
    assert not any("queue_ignored" in n for n, _ in names), "seriesFilters isNot"
    assert all(r["kind"] == "MetricValueList" and r["verbs"] == ["get"] for r in doc["resources"])
    code, ext = await adapter.get("/apis/external.metrics.k8s.io/v1beta1")
    assert {r["name"] for r in ext["resources"]} == {
        "queue_depth",
        "backlog",
        "lag_seconds",
        "queue_depth_raw",
    }
    code, group = await adapter.get("/apis/custom.metrics.k8s.io")
    assert group["preferredVersion"]["version"] == "v1beta2"


async def test_pods_metric_for_all_pods_of_a_selector_is_a_rate(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/*/http_requests_per_second",
        labelSelector="tier=front",
    )
    assert code == 200, doc
    v = values(doc)
    assert set(v) == {"web-1", "web-2"}
    # web-1 counts 10/s; web-2 two series of 20/s each
    assert 6 < v["web-1"] < 14 and 3 < v["web-2"] / v["web-1"] < 5
    item = doc["items"][0]
    assert item["describedObject"] == {
        "kind": "Pod",
        "namespace": "shop",
        "name": "web-1",
        "apiVersion": "/v1",
    }
    assert item["metric"] == {"name": "http_requests_per_second", "selector": None}
    assert doc["kind"] == "MetricValueList" and doc["apiVersion"] == "custom.metrics.k8s.io/v1beta2"


async def test_metric_label_selector_narrows_the_series(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/web-2/http_requests_per_second",
        metricLabelSelector="verb=POST",
    )
    assert code == 200, doc
    assert 13 < values(doc)["web-2"] < 27
    assert doc["items"][0]["metric"]["selector"] == {"matchLabels": {"verb": "POST"}}
    code, v1 = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-2/http_requests_per_second",
        metricLabelSelector="verb in (GET,POST)",
    )
    assert code == 200
    assert v1["items"][0]["metricName"] == "http_requests_per_second"
    assert v1["items"][0]["selector"] == {
        "matchExpressions": [{"key": "verb", "operator": "In", "values": ["GET", "POST"]}]
    }
    assert 26 < values(v1)["web-2"] < 54


async def test_object_metrics_through_the_resource_template(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/deployments.apps/web/queue_length"
    )
    assert code == 200, doc
    assert doc["items"][0]["value"] == "8500m"
    assert doc["items"][0]["describedObject"] == {
        "kind": "Deployment",
        "namespace": "shop",
        "name": "web",
        "apiVersion": "apps/v1",
    }
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/services/front/queue_length"
    )
    assert code == 200 and doc["items"][0]["value"] == "1M"
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-2/queue_length"
    )
    assert code == 200 and doc["items"][0]["value"] == "5500m"


async def test_namespace_and_cluster_scoped_objects(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/metrics/http_requests_per_second"
    )
    assert code == 200, doc
    assert doc["items"][0]["describedObject"] == {"kind": "Namespace", "name": "shop", "apiVersion": "/v1"}
    assert 40 < values(doc)["shop"] < 60
    code, doc = await adapter.get("/apis/custom.metrics.k8s.io/v1beta1/nodes/node-1/load")
    assert code == 200, doc
    assert doc["items"][0]["value"] == "250m"


async def test_empty_and_nan_results_are_not_found(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/db-1/queue_length"
    )
    assert code == 404
    assert doc["reason"] == "NotFound"
    assert doc["message"].startswith("the server could not find the metric queue_length for pods db-1")
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-1/temperature"
    )
    assert code == 404 and "NaN" in doc["message"]
    code, doc = await adapter.get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/*/temperature")
    assert code == 200 and values(doc) == {"web-2": 21.25}, "the NaN pod is left out, the others answer"
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/*/queue_length", labelSelector="tier=back"
    )
    assert code == 404, "objects exist, none has a value"


async def test_a_selector_matching_no_object_is_an_empty_list(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/*/http_requests_per_second",
        labelSelector="tier=none",
    )
    assert code == 200 and doc["items"] == []


async def test_unknown_metrics_and_bad_selectors(adapter: Adapter) -> None:
    code, doc = await adapter.get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-1/nope")
    assert code == 404 and doc["message"] == "the server could not find the metric nope for pods"
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/*/queue_length", labelSelector="tier in ("
    )
    assert code == 400 and doc["reason"] == "BadRequest"
    code, doc = await adapter.get(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-1/queue_length",
        metricLabelSelector="x>1",
    )
    assert code == 400 and "not supported by Prometheus" in doc["message"]
    code, doc = await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/nope")
    assert code == 404
    code, doc = await adapter.get(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue_depth",
        labelSelector="app.kubernetes.io/name=x",
    )
    assert code == 400 and "not a valid Prometheus label name" in doc["message"]


async def test_external_metric_with_the_hpa_selector(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue_depth", labelSelector="queue=q2"
    )
    assert code == 200, doc
    assert doc["kind"] == "ExternalMetricValueList"
    assert [(i["metricName"], i["metricLabels"], i["value"]) for i in doc["items"]] == [
        ("queue_depth", {"queue": "q2"}, "11")
    ]
    code, doc = await adapter.get(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/other/queue_depth", labelSelector="queue=q1"
    )
    assert doc["items"][0]["value"] == "100", "the HPA's namespace is a matcher"


async def test_several_external_series_need_an_aggregation(adapter: Adapter) -> None:
    code, doc = await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue_depth")
    assert code == 500
    assert "returned 2 series" in doc["message"] and "seriesAggregation" in doc["message"]
    code, doc = await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/anywhere/backlog")
    assert code == 200, doc
    assert [(i["value"], i["metricLabels"]["queue"]) for i in doc["items"]] == [("10", "jobs")]
    assert "shard" not in doc["items"][0]["metricLabels"], "only the labels the series share"


async def test_null_as_zero_answers_zero_for_infinite_values(adapter: Adapter) -> None:
    code, doc = await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/x/lag_seconds")
    assert code == 200 and doc["items"][0]["value"] == "0"


async def test_external_items_carry_every_label_of_a_raw_series(adapter: Adapter) -> None:
    code, doc = await adapter.get(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue_depth_raw", labelSelector="queue=q1"
    )
    assert code == 200, doc
    labels = doc["items"][0]["metricLabels"]
    assert labels["__name__"] == "queue_depth" and labels["queue"] == "q1" and labels["job"] == "app"
