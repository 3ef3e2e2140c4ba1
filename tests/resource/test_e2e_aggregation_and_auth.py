"""End to end with the simulator and the real kubectl: the manifests apply, the APIServices become
available, discovery lists metrics.k8s.io v1 and v1beta1, and requests are authenticated and
authorized through the aggregation layer (front proxy) and directly (TokenReview/SubjectAccessReview)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resource.simcluster import ResourceMetricsOnSimulator

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResourceMetricsOnSimulator]:
    with ResourceMetricsOnSimulator(tmp_path_factory.mktemp("rm-e2e")) as e:
        e.wait("APIServices available", lambda: _available(e))
        yield e


def _available(e: ResourceMetricsOnSimulator) -> bool:
    out = e.kubectl("get", "apiservices", "-o", "json")
    items = {i["metadata"]["name"]: i for i in json.loads(out)["items"]}
    ours = [items.get("v1.metrics.k8s.io"), items.get("v1beta1.metrics.k8s.io")]
    return all(
        a is not None
        and any(
            c["type"] == "Available" and c["status"] == "True"
            for c in a.get("status", {}).get("conditions", [])
        )
        for a in ours
    )


def test_manifests_apply_with_kubectl(env: ResourceMetricsOnSimulator) -> None:
    out = env.kubectl("apply", "-f", str(Path(__file__).resolve().parents[2] / "deploy" / "resource-metrics"))
    for what in (
        "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io",
        "apiservice.apiregistration.k8s.io/v1.metrics.k8s.io",
        "deployment.apps/kubescope-resource-metrics",
        "poddisruptionbudget.policy/kubescope-resource-metrics",
        "serviceaccount/kubescope-resource-metrics",
        "clusterrole.rbac.authorization.k8s.io/system:aggregated-metrics-reader",
        "clusterrolebinding.rbac.authorization.k8s.io/kubescope-resource-metrics:system:auth-delegator",
        "rolebinding.rbac.authorization.k8s.io/kubescope-resource-metrics-auth-reader",
        "service/kubescope-resource-metrics",
    ):
        assert what in out
    deploy = json.loads(
        env.kubectl("get", "-n", "kube-system", "deployment", "kubescope-resource-metrics", "-o", "json")
    )
    assert deploy["spec"]["replicas"] == 2


def test_discovery_through_the_aggregator(env: ResourceMetricsOnSimulator) -> None:
    out = env.kubectl("api-resources", "--api-group=metrics.k8s.io", "-o", "wide")
    lines = [line.split() for line in out.splitlines()[1:]]
    assert {(line[0], line[1]) for line in lines} == {
        ("nodes", "metrics.k8s.io/v1"),
        ("pods", "metrics.k8s.io/v1"),
    }
    group = json.loads(env.kubectl("get", "--raw", "/apis/metrics.k8s.io"))
    assert group["preferredVersion"]["version"] == "v1"
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    for version in ("v1", "v1beta1"):
        rl = json.loads(env.kubectl("get", "--raw", f"/apis/metrics.k8s.io/{version}"))
        assert [r["name"] for r in rl["resources"]] == ["nodes", "pods"]


def test_lists_through_the_aggregator(env: ResourceMetricsOnSimulator) -> None:
    nodes = json.loads(env.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1/nodes"))
    assert (nodes["kind"], nodes["apiVersion"]) == ("NodeMetricsList", "metrics.k8s.io/v1")
    pods = json.loads(env.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods"))
    assert (pods["kind"], pods["apiVersion"]) == ("PodMetricsList", "metrics.k8s.io/v1beta1")


def test_authorization_through_the_aggregator(env: ResourceMetricsOnSimulator) -> None:
    code, body = env.via_simulator("/apis/metrics.k8s.io/v1/nodes", token="viewer-token")
    assert code == 200 and body["kind"] == "NodeMetricsList"
    # the front proxy's identity reached resource-metrics, which asked the simulator about "viewer"
    code, text = env.direct("/metrics", token="scraper-token")
    sent = [line for line in text.splitlines() if 'kind="subjectaccessreview",result="sent"' in line]
    assert sent and float(sent[0].split()[-1]) >= 1
    code, body = env.via_simulator("/apis/metrics.k8s.io/v1/pods", token="viewer-token")
    assert code == 403 and body["reason"] == "Forbidden"
    code, body = env.via_simulator("/apis/metrics.k8s.io/v1/nodes", token="not-a-token")
    assert code == 401 and body["reason"] == "Unauthorized"


def test_direct_requests_are_delegated(env: ResourceMetricsOnSimulator) -> None:
    code, body = env.direct("/apis/metrics.k8s.io/v1/nodes", token="viewer-token")
    assert code == 200 and body["kind"] == "NodeMetricsList"
    code, body = env.direct("/apis/metrics.k8s.io/v1/namespaces/default/pods", token="viewer-token")
    assert code == 403
    assert body["message"] == (
        'pods.metrics.k8s.io is forbidden: User "viewer" cannot list resource "pods" in API group '
        '"metrics.k8s.io" in the namespace "default"'
    )
    code, body = env.direct("/apis/metrics.k8s.io/v1/nodes", token="nobody-token")
    assert code == 403 and 'User "nobody" cannot list resource "nodes"' in body["message"]
    code, body = env.direct("/apis/metrics.k8s.io/v1/nodes", token="stolen")
    assert (code, body["message"]) == (401, "Unauthorized")
    code, body = env.direct("/apis/metrics.k8s.io/v1/nodes")
    assert code == 403 and 'User "system:anonymous"' in body["message"]
    assert env.direct("/livez")[0] == 200
    assert env.direct("/metrics", token="scraper-token")[0] == 200
    assert env.direct("/metrics", token="viewer-token")[0] == 403
