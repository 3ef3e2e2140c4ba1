"""End to end: the manifests apply with kubectl, the three APIServices become available, and the
HPA controller's requests (its identity, its paths with ``*`` percent-encoded, protobuf-first Accept)
get answers through the simulator's aggregation layer (front proxy, SubjectAccessReview)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from kubescope.model.quantity import parse_quantity
from tests.custom_metrics.simcluster import CustomMetricsOnSimulator
from tests.custom_metrics.stack import counter
from tests.sim.conftest import pod

pytestmark = [pytest.mark.slow, pytest.mark.kubectl, pytest.mark.external]

APISERVICES = (
    "v1beta1.custom.metrics.k8s.io",
    "v1beta2.custom.metrics.k8s.io",
    "v1beta1.external.metrics.k8s.io",
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CustomMetricsOnSimulator]:
    with CustomMetricsOnSimulator(tmp_path_factory.mktemp("cm-e2e")) as e:
        requests = counter(time.monotonic(), 20.0)
        e.exporter.set(
            lambda: (
                f'http_requests_total{{namespace="shop",pod="web-1"}} {requests()}\n'
                f'http_requests_total{{namespace="shop",pod="web-2"}} {requests() * 3}\n'
                'app_queue_depth{namespace="shop",pod="web-1"} 4\n'
                'app_queue_depth{namespace="shop",pod="web-2"} 6\n'
            )
        )
        e.kubectl("create", "namespace", "shop")
        for name in ("web-1", "web-2"):
            e.kubectl("apply", "-f", "-", stdin=json.dumps(pod(name, "shop", {"app": "web"})))
        e.wait("APIServices available", lambda: _available(e))
        e.wait("metrics discovered", lambda: "pods/http_requests_per_second" in e.kubectl(
            "get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2"))  # fmt: skip
        yield e


def _available(e: CustomMetricsOnSimulator) -> bool:
    items = {
        i["metadata"]["name"]: i for i in json.loads(e.kubectl("get", "apiservices", "-o", "json"))["items"]
    }
    return all(
        any(
            c["type"] == "Available" and c["status"] == "True"
            for c in items[n].get("status", {}).get("conditions", [])
        )
        for n in APISERVICES
        if n in items
    ) and all(n in items for n in APISERVICES)


def test_discovery_through_the_aggregator(env: CustomMetricsOnSimulator) -> None:
    # kubectl api-resources lists no custom metric (their names hold a "/", which it reads as a
    # subresource), exactly as with prometheus-adapter; the group's discovery must still succeed
    # (kubectl reads the aggregated discovery the simulator refreshes at each availability check)
    env.wait(
        "external metrics in kubectl api-resources",
        lambda: "app_queue_depth" in env.kubectl("api-resources", "--api-group=external.metrics.k8s.io"),
    )
    for v in ("v1beta1", "v1beta2"):
        rl = json.loads(env.kubectl("get", "--raw", f"/apis/custom.metrics.k8s.io/{v}"))
        names = {r["name"] for r in rl["resources"]}
        assert {
            "pods/http_requests_per_second",
            "namespaces/http_requests_per_second",
            "pods/app_queue_depth",
        } <= names
    ext = json.loads(env.kubectl("get", "--raw", "/apis/external.metrics.k8s.io/v1beta1"))
    assert [r["name"] for r in ext["resources"]] == ["app_queue_depth"]


def test_the_hpa_controllers_requests(env: CustomMetricsOnSimulator) -> None:
    def rates() -> dict[str, float] | None:
        code, doc = env.via_simulator(
            "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/*/http_requests_per_second",
            token="hpa-token", labelSelector="app=web",
        )  # fmt: skip
        assert code == 200, doc
        v = {i["describedObject"]["name"]: float(parse_quantity(i["value"])) for i in doc["items"]}
        return v if len(v) == 2 and all(x > 0 for x in v.values()) else None

    v = env.wait("both pods have a rate", rates)
    assert v["web-2"] > v["web-1"]
    code, doc = env.via_simulator(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/pods/web-1/app_queue_depth", token="hpa-token"
    )
    assert (
        code == 200 and doc["items"][0]["value"] == "4" and doc["items"][0]["metricName"] == "app_queue_depth"
    )
    code, doc = env.via_simulator(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/app_queue_depth", token="hpa-token"
    )
    assert code == 200 and doc["items"][0]["value"] == "10"
    code, doc = env.via_simulator(
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/shop/metrics/http_requests_per_second",
        token="hpa-token",
    )
    assert code == 200 and doc["items"][0]["describedObject"]["kind"] == "Namespace"


def test_authentication_and_authorization(env: CustomMetricsOnSimulator) -> None:
    path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/web-1/app_queue_depth"
    code, doc = env.via_simulator(path, token="nobody-token")
    assert code == 403 and doc["reason"] == "Forbidden"
    assert (
        'User "nobody" cannot get resource "pods/app_queue_depth" in API group "custom.metrics.k8s.io"'
        in doc["message"]
    )
    code, doc = env.via_simulator(path, token="stolen")
    assert code == 401
    code, doc = env.direct(path)
    assert code == 403 and 'User "system:anonymous"' in doc["message"]
    # a bearer token straight to the adapter: TokenReview, then SubjectAccessReview, at the simulator
    code, doc = env.direct(path, token="hpa-token")
    assert code == 200 and doc["items"][0]["value"] == "4"
    assert env.direct(path, token="stolen")[0] == 401
    assert env.direct("/readyz")[0] == 200 and env.direct("/livez")[0] == 200


def _samples(text: str, family: str) -> dict[str, float]:
    """``{labels: value}`` of one family's samples in an exposition text."""
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(re.escape(family) + r"(\{.*\})? (\S+)", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def test_self_metrics_count_requests_by_group_and_rule_queries_and_cache(
    env: CustomMetricsOnSimulator,
) -> None:
    path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/pods/web-2/app_queue_depth"
    ext = "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/app_queue_depth"
    for p in (path, path, ext):  # the second one within the 15 s cache TTL
        assert env.via_simulator(p, token="hpa-token")[0] == 200
    assert env.via_simulator(path.replace("app_queue_depth", "no_such_metric"), token="hpa-token")[0] == 404
    code, text = env.direct("/metrics", token="nobody-token")
    assert code == 403, "/metrics is authorized like any non-resource URL"
    code, text = env.direct("/metrics", token=env.sim.token)
    assert code == 200, text

    requests = _samples(text, "kubescope_custom_metrics_requests_total")
    # rules[1] of deploy/custom-metrics/config.yaml serves the app_* gauges, externalRules[0] the queue
    rule1 = re.compile(r'group="custom\.metrics\.k8s\.io",rule="rules\[1\] \(line \d+\)"')
    custom = [k for k in requests if rule1.search(k)]
    assert custom and all('code="200"' in k for k in custom), requests
    assert sum(requests[k] for k in custom) >= 2
    assert any('group="external.metrics.k8s.io"' in k and 'rule="externalRules[0]' in k for k in requests), (
        requests
    )
    assert any('code="404"' in k and 'rule=""' in k for k in requests), "an unknown metric has no rule"
    durations = _samples(text, "kubescope_custom_metrics_request_duration_seconds_count")
    assert any('rule="rules[1]' in k for k in durations), durations
    queries = _samples(text, "kubescope_custom_metrics_prometheus_query_duration_seconds_count")
    assert any('rule="rules[1]' in k for k in queries) and any('rule="externalRules[0]' in k for k in queries)
    cache = _samples(text, "kubescope_custom_metrics_cache_requests_total")
    assert cache.get('{outcome="hit"}', 0) >= 1 and cache.get('{outcome="miss"}', 0) >= 2, cache
    assert _samples(text, "kubescope_custom_metrics_discovered_series")[""] >= 3
    assert _samples(text, "kubescope_custom_metrics_discovery_last_success_timestamp_seconds")[""] > 0
    assert any('group="custom.metrics.k8s.io"' in k for k in _samples(text, "apiserver_request_total"))
