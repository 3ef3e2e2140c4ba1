"""End to end, as in a cluster: the simulator's pods serve application metrics, a real Prometheus
scrapes them through its Kubernetes-style relabelling, ``kubescope custom-metrics`` serves them
through the simulator's aggregation layer (registered with ``deploy/custom-metrics/``), and the
simulator's HPA controller (kube-controller-manager's algorithm, its service account) scales the
Deployment up with the requests per second and back down, its status showing the adapter's values
and ``kubectl get hpa`` its targets."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import pytest

from kubescope.model.quantity import parse_quantity
from tests.custom_metrics.simcluster import CustomMetricsOnSimulator

pytestmark = [pytest.mark.slow, pytest.mark.kubectl, pytest.mark.external]

NS = "shop"
TARGET = 30  # requests per second per pod

# the demo's rule, over a 10 s window (Prometheus scrapes every second here)
CONFIG = """\
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[10s])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'app_queue_depth{namespace!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
# a broker's queue (the test's exporter): there whether or not the consumers run
- seriesQuery: 'queue_messages_ready{namespace!="",queue!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
"""


def deployment(load: str | None, name: str = "web", replicas: int = 1) -> dict[str, object]:
    labels = {"app": name}
    annotations = {"sim.kubescope.io/app-metrics": load} if load is not None else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": f"shop/{name}:1.0",
                                         "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
            },
        },
    }  # fmt: skip


HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": NS},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 6,
        "metrics": [
            {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                      "target": {"type": "AverageValue", "averageValue": str(TARGET)}}},
            {"type": "External", "external": {"metric": {"name": "app_queue_depth",
                                                         "selector": {"matchLabels": {"namespace": NS}}},
                                              "target": {"type": "AverageValue", "averageValue": "1k"}}},
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CustomMetricsOnSimulator]:
    tmp = tmp_path_factory.mktemp("cm-hpa")
    with CustomMetricsOnSimulator(
        tmp,
        nodes=3,
        sim_args=("--controllers", "--hpa-sync-period=1"),
        config=CONFIG,
        app_metrics=True,
    ) as e:
        e.kubectl("create", "namespace", NS)
        e.kubectl("apply", "-f", "-", stdin=json.dumps(deployment("shape=constant,rps=150,capacity=200")))
        e.wait("the adapter discovers the application's series", lambda: "pods/http_requests_per_second" in e.kubectl(
            "get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2"), timeout=120)  # fmt: skip
        e.kubectl("apply", "-f", "-", stdin=json.dumps(HPA))
        yield e


def _hpa(e: CustomMetricsOnSimulator) -> dict[str, object]:
    return json.loads(e.kubectl("get", "hpa", "web", "-n", NS, "-o", "json"))  # type: ignore[no-any-return]


def _replicas(e: CustomMetricsOnSimulator, name: str = "web") -> int:
    return int(json.loads(e.kubectl("get", "deploy", name, "-n", NS, "-o", "json"))["spec"]["replicas"])


def test_hpa_scales_up_with_requests_per_second_then_down(env: CustomMetricsOnSimulator) -> None:
    e = env
    # 150 requests/s against 30 per pod: kube's ceil(1 * 150 / 30) = 5 (then 5 stays: 30 per pod)
    e.wait("scaled up to 5", lambda: _replicas(e) == 5, timeout=180)
    hpa = _hpa(e)
    status = hpa["status"]
    assert isinstance(status, dict)
    pods_metric = status["currentMetrics"][0]["pods"]
    assert pods_metric["metric"]["name"] == "http_requests_per_second"
    # the adapter's value, as prometheus-adapter formats it (milli-units)
    assert re.fullmatch(r"\d+m?", pods_metric["current"]["averageValue"])
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["ScalingActive"]["status"] == "True", conditions
    assert conditions["AbleToScale"]["status"] == "True", conditions

    # settled at 30 per pod: the adapter's answer is what the HPA reads
    def settled() -> bool:
        cur = _hpa(e)["status"]["currentMetrics"][0]["pods"]["current"]["averageValue"]  # type: ignore[index]
        return math.isclose(float(parse_quantity(cur)), TARGET, rel_tol=0.1) and _replicas(e) == 5

    e.wait("5 pods at about 30 requests/s each", settled, timeout=120)
    row = e.kubectl("get", "hpa", "web", "-n", NS).splitlines()
    assert row[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert re.match(r"web\s+Deployment/web\s+\d+m?/30, \d+m?/1k \(avg\)\s+1\s+6\s+5\s", row[1]), row

    # the load drops to 20 requests/s: ceil(5 * 4 / 30) = 1 within the window and a sync or two
    low = "sim.kubescope.io/app-metrics=shape=constant,rps=20"
    e.kubectl("annotate", "--overwrite", "deploy/web", "-n", NS, low)
    e.wait("scaled down to 1", lambda: _replicas(e) == 1, timeout=180)
    got = json.loads(e.kubectl("get", "events", "-n", NS, "-o", "json",
                               "--field-selector=involvedObject.kind=HorizontalPodAutoscaler"))["items"]  # fmt: skip
    rescales = [ev["message"] for ev in got if ev["reason"] == "SuccessfulRescale"]
    up = "New size: 5; reason: pods metric http_requests_per_second above target"
    assert any(m.startswith(up) for m in rescales), rescales
    assert any(m.startswith("New size: 1; reason: All metrics below target") for m in rescales), rescales


WORKER_HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "worker", "namespace": NS},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
        "minReplicas": 0,
        "maxReplicas": 5,
        "metrics": [
            {"type": "External", "external": {"metric": {"name": "queue_messages_ready",
                                                         "selector": {"matchLabels": {"queue": "orders"}}},
                                              "target": {"type": "AverageValue", "averageValue": "30"}}},
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}},
    },
}  # fmt: skip


def test_min_replicas_0_scales_from_and_to_zero_on_an_external_metric(env: CustomMetricsOnSimulator) -> None:
    """Scale to zero: the queue's consumers stop when it is empty and start when messages arrive; the
    adapter answers the External metric whether or not the target has pods."""
    e = env
    ready = {"orders": 0.0}
    e.exporter.set(lambda: f'queue_messages_ready{{namespace="{NS}",queue="orders"}} {ready["orders"]}\n')
    e.kubectl("apply", "-f", "-", stdin=json.dumps(deployment(None, name="worker", replicas=1)))
    e.wait("the queue's series discovered", lambda: "queue_messages_ready" in e.kubectl(
        "get", "--raw", "/apis/external.metrics.k8s.io/v1beta1"), timeout=60)  # fmt: skip
    e.kubectl("apply", "-f", "-", stdin=json.dumps(WORKER_HPA))
    # an empty queue: ceil(0 / 30) = 0 replicas, and the answer stays there with no pod to measure
    e.wait("scaled to zero", lambda: _replicas(e, "worker") == 0, timeout=120)
    e.wait("no worker pod left", lambda: not json.loads(e.kubectl(
        "get", "pods", "-n", NS, "-l", "app=worker", "-o", "json"))["items"], timeout=60)  # fmt: skip
    path = f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NS}/queue_messages_ready?labelSelector=queue%3Dorders"
    assert [i["value"] for i in json.loads(e.kubectl("get", "--raw", path))["items"]] == ["0"]

    ready["orders"] = 100  # ceil(100 / 30) = 4, from zero
    e.wait("scaled from zero to 4", lambda: _replicas(e, "worker") == 4, timeout=120)

    def per_pod() -> str:
        status = json.loads(e.kubectl("get", "hpa", "worker", "-n", NS, "-o", "json"))["status"]
        return str(status["currentMetrics"][0]["external"]["current"]["averageValue"])

    e.wait("100 messages for 4 consumers: 25 each", lambda: per_pod() == "25", timeout=60)
    ready["orders"] = 0
    e.wait("back to zero", lambda: _replicas(e, "worker") == 0, timeout=120)


def test_a_metric_without_samples_stops_the_hpa_instead_of_reading_zero(
    env: CustomMetricsOnSimulator,
) -> None:
    """Pods that expose no http_requests_total: the adapter answers NotFound (prometheus-adapter's NaN
    or missing values read as 0 would scale them down to minReplicas), so kube's HPA sets
    ScalingActive False with FailedGetPodsMetric and leaves the replicas alone."""
    e = env
    e.kubectl("apply", "-f", "-", stdin=json.dumps(deployment(None, name="quiet", replicas=3)))
    hpa = json.loads(json.dumps(HPA))
    hpa["metadata"]["name"] = hpa["spec"]["scaleTargetRef"]["name"] = "quiet"
    hpa["spec"]["metrics"] = hpa["spec"]["metrics"][:1]
    e.kubectl("apply", "-f", "-", stdin=json.dumps(hpa))

    def inactive() -> dict[str, str] | None:
        status = json.loads(e.kubectl("get", "hpa", "quiet", "-n", NS, "-o", "json")).get("status") or {}
        c = {c["type"]: c for c in status.get("conditions") or ()}.get("ScalingActive")
        return c if c is not None and c["status"] == "False" else None

    cond = e.wait("ScalingActive False", inactive, timeout=90)
    assert cond["reason"] == "FailedGetPodsMetric", cond
    assert "the server could not find the metric http_requests_per_second for pods" in cond["message"], cond
    assert _replicas(e, "quiet") == 3
    # the same answer through the aggregation layer, as kubectl shows it
    out = e.kubectl("get", "--raw", f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{NS}/pods/*/"
                    "http_requests_per_second?labelSelector=app%3Dquiet", check=False)  # fmt: skip
    assert "Error from server (NotFound)" in out and "the query returned no samples" in out, out
