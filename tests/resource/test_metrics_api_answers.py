"""The Metrics API's answers without a network: shapes, order, selectors, errors, tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubescope.resource.api import MetricsAPI
from kubescope.resource.selfmetrics import FRESHNESS_BUCKETS, Histogram
from tests.resource.helpers import T0, S, caches, node, pod, two_scrapes

WEBSITE = Path(__file__).resolve().parents[1] / "data" / "metrics-api"
NOW = (T0 + 40 * S) / S  # 2026-01-27T18:49:00Z
JSON_ACCEPT = "application/vnd.kubernetes.protobuf, */*"
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json"
)


def make_api(**kw: Any) -> MetricsAPI:
    nodes, pods = caches(
        [
            node("minikube", {"kubernetes.io/hostname": "minikube", "zone": "a"}),
            node("b-node", {"zone": "b"}),
            node("no-metrics", {"zone": "a"}),
        ],
        [
            pod("kube-system", "kube-scheduler-minikube", {"component": "kube-scheduler"}),
            pod("default", "web-2", {"app": "web"}),
            pod("default", "web-1", {"app": "web", "tier": "front"}),
            pod("default", "sidecar", {"app": "db"}),
            pod("default", "pending", {"app": "web"}, phase="Pending"),
            pod("default", "no-metrics", {"app": "web"}),
        ],
    )
    storage = two_scrapes(
        {"minikube": (487558164, 732212 * 1024), "b-node": (1_500_000_000, 2 << 30), "gone": (1, 1)},
        {
            ("kube-system", "kube-scheduler-minikube"): {"kube-scheduler": (9559630, 22244 * 1024)},
            ("default", "web-1"): {"app": (250_000_000, 100 << 20)},
            ("default", "web-2"): {"app": (1_000_000, 5 << 20)},
            ("default", "sidecar"): {"main": (500_000_000, 1 << 30), "proxy": (1_000_000, 1536)},
            ("default", "pending"): {"app": (1, 1)},
        },
        window_s=30,
    )
    return MetricsAPI(storage, nodes, pods, clock=lambda: NOW, **kw)


def body(answer: tuple[int, str, bytes]) -> Any:
    return json.loads(answer[2])


def test_node_metrics_match_metrics_server_sample() -> None:
    sample = json.loads((WEBSITE / "website-nodemetrics-minikube.json").read_text())
    code, ctype, raw = make_api().get_node("v1beta1", "minikube", {}, JSON_ACCEPT)
    assert (code, ctype) == (200, "application/json")
    got = json.loads(raw)
    # the sample predates the removal of selfLink and has no labels; the answer's time is ours
    del sample["metadata"]["selfLink"]
    sample["metadata"]["creationTimestamp"] = "2026-01-27T18:49:00Z"
    sample["metadata"]["labels"] = {"kubernetes.io/hostname": "minikube", "zone": "a"}
    sample["timestamp"] = "2026-01-27T18:48:50Z"
    assert got == sample
    # field order as apimachinery encodes it
    assert raw.startswith(b'{"kind":"NodeMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":')
    assert (
        b'"timestamp":"2026-01-27T18:48:50Z","window":"30s","usage":{"cpu":"487558164n","memory":"732212Ki"}}'
        in raw
    )


def test_pod_metrics_match_metrics_server_sample() -> None:
    sample = json.loads((WEBSITE / "website-podmetrics-kube-scheduler.json").read_text())
    got = body(make_api().get_pod("v1beta1", "kube-system", "kube-scheduler-minikube", {}, None))
    del sample["metadata"]["selfLink"]
    sample["metadata"]["creationTimestamp"] = "2026-01-27T18:49:00Z"
    sample["metadata"]["labels"] = {"component": "kube-scheduler"}
    sample["timestamp"] = "2026-01-27T18:48:50Z"
    assert got == sample


def test_v1_has_the_same_schema() -> None:
    api = make_api()
    b1 = body(api.get_node("v1beta1", "minikube", {}, None))
    v1 = body(api.get_node("v1", "minikube", {}, None))
    assert v1.pop("apiVersion") == "metrics.k8s.io/v1"
    assert b1.pop("apiVersion") == "metrics.k8s.io/v1beta1"
    assert v1 == b1


def test_node_list_sorted_by_name_without_nodes_lacking_metrics() -> None:
    code, _, raw = make_api().list_nodes("v1", {}, JSON_ACCEPT)
    got = json.loads(raw)
    assert code == 200
    assert raw.startswith(
        b'{"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1","metadata":{},"items":[{"metadata"'
    )
    assert [i["metadata"]["name"] for i in got["items"]] == ["b-node", "minikube"]
    assert "kind" not in got["items"][0]
    assert got["items"][0]["usage"] == {"cpu": "1500m", "memory": "2Gi"}


def test_pod_lists_sorted_by_namespace_then_name_running_only() -> None:
    api = make_api()
    got = body(api.list_pods("v1beta1", None, {}, JSON_ACCEPT))
    assert got["kind"] == "PodMetricsList"
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in got["items"]] == [
        ("default", "sidecar"),
        ("default", "web-1"),
        ("default", "web-2"),
        ("kube-system", "kube-scheduler-minikube"),
    ]
    ns = body(api.list_pods("v1beta1", "default", {}, JSON_ACCEPT))
    assert [i["metadata"]["name"] for i in ns["items"]] == ["sidecar", "web-1", "web-2"]
    assert body(api.list_pods("v1beta1", "nothing-here", {}, None)) == {
        "kind": "PodMetricsList",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {},
        "items": [],
    }


def test_containers_keep_the_kubelets_order_and_quantities_are_canonical() -> None:
    got = body(make_api().get_pod("v1", "default", "sidecar", {}, None))
    assert got["containers"] == [
        {"name": "main", "usage": {"cpu": "500m", "memory": "1Gi"}},
        {"name": "proxy", "usage": {"cpu": "1m", "memory": "1536"}},
    ]
    assert got["window"] == "30s"


@pytest.mark.parametrize(
    ("selector", "want"),
    [
        ("app=web", ["web-1", "web-2"]),
        ("app==web,tier=front", ["web-1"]),
        ("app!=web", ["sidecar", "kube-scheduler-minikube"]),
        ("app in (db, web)", ["sidecar", "web-1", "web-2"]),
        ("app notin (web)", ["sidecar", "kube-scheduler-minikube"]),
        ("tier", ["web-1"]),
        ("!tier", ["sidecar", "web-2", "kube-scheduler-minikube"]),
    ],
)
def test_label_selector_on_pod_labels(selector: str, want: list[str]) -> None:
    got = body(make_api().list_pods("v1", None, {"labelSelector": selector}, None))
    assert [i["metadata"]["name"] for i in got["items"]] == want


def test_field_selectors() -> None:
    api = make_api()
    by_name = body(api.list_pods("v1", None, {"fieldSelector": "metadata.name=web-1"}, None))
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["web-1"]
    by_ns = body(api.list_pods("v1", None, {"fieldSelector": "metadata.namespace!=default"}, None))
    assert [i["metadata"]["name"] for i in by_ns["items"]] == ["kube-scheduler-minikube"]
    nodes = body(api.list_nodes("v1", {"fieldSelector": "metadata.name==minikube"}, None))
    assert [i["metadata"]["name"] for i in nodes["items"]] == ["minikube"]


def test_unsupported_field_is_a_bad_request() -> None:
    code, ctype, raw = make_api().list_pods("v1", None, {"fieldSelector": "spec.nodeName=x"}, None)
    assert (code, ctype) == (400, "application/json")
    assert json.loads(raw) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": '"spec.nodeName" is not a known field selector: only "metadata.name", '
        '"metadata.namespace"',
        "reason": "BadRequest",
        "code": 400,
    }


def test_bad_label_selector_is_a_bad_request() -> None:
    code, _, raw = make_api().list_nodes("v1", {"labelSelector": "a in b"}, None)
    assert code == 400
    assert json.loads(raw)["reason"] == "BadRequest"
    assert "unable to parse requirement" in json.loads(raw)["message"]


def test_node_selector_flag_restricts_lists_only() -> None:
    from kubescope.apiserver.selectors import parse_label_selector

    api = make_api(node_selector=parse_label_selector("zone=a"))
    assert [i["metadata"]["name"] for i in body(api.list_nodes("v1", {}, None))["items"]] == ["minikube"]
    assert api.get_node("v1", "b-node", {}, None)[0] == 200


def test_not_found_messages() -> None:
    api = make_api()
    cases = [
        (api.get_node("v1", "nope", {}, None), 'node "nope" not found', {"name": "nope", "kind": "node"}),
        (
            api.get_node("v1", "no-metrics", {}, None),
            'nodemetrics.metrics.k8s.io "no-metrics" not found',
            {"name": "no-metrics", "group": "metrics.k8s.io", "kind": "nodemetrics"},
        ),
        (
            api.get_pod("v1", "default", "nope", {}, None),
            'pods "nope" not found',
            {"name": "nope", "kind": "pods"},
        ),
        (
            api.get_pod("v1", "default", "pending", {}, None),
            'pods "pending" not found',
            {"name": "pending", "kind": "pods"},
        ),
        (
            api.get_pod("v1", "default", "no-metrics", {}, None),
            'podmetrics.metrics.k8s.io "default/no-metrics" not found',
            {"name": "default/no-metrics", "group": "metrics.k8s.io", "kind": "podmetrics"},
        ),
    ]
    for (code, _, raw), message, details in cases:
        st = json.loads(raw)
        assert code == 404
        assert (st["kind"], st["status"], st["reason"], st["code"]) == ("Status", "Failure", "NotFound", 404)
        assert st["message"] == message
        assert st["details"] == details


def test_node_table_like_metrics_server() -> None:
    code, ctype, raw = make_api().list_nodes("v1beta1", {}, TABLE_ACCEPT)
    assert (code, ctype) == (200, "application/json;as=Table;v=v1;g=meta.k8s.io")
    t = json.loads(raw)
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert t["columnDefinitions"] == [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name of the resource",
            "priority": 0,
        },
        {"name": "cpu", "type": "string", "format": "quantity", "description": "", "priority": 0},
        {"name": "memory", "type": "string", "format": "quantity", "description": "", "priority": 0},
        {"name": "Window", "type": "string", "format": "duration", "description": "", "priority": 0},
    ]
    assert [r["cells"] for r in t["rows"]] == [
        ["b-node", "1500m", "2Gi", "30s"],
        ["minikube", "487558164n", "732212Ki", "30s"],
    ]
    assert t["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"name": "b-node", "creationTimestamp": "2026-01-27T18:49:00Z", "labels": {"zone": "b"}},
    }


def test_pod_table_sums_containers_and_can_include_objects() -> None:
    api = make_api()
    t = body(api.list_pods("v1", "default", {"includeObject": "Object"}, TABLE_ACCEPT))
    assert [r["cells"] for r in t["rows"]] == [
        ["sidecar", "501m", "1073743360", "30s"],
        ["web-1", "250m", "100Mi", "30s"],
        ["web-2", "1m", "5Mi", "30s"],
    ]
    assert t["rows"][0]["object"]["kind"] == "PodMetrics"
    assert t["rows"][0]["object"]["containers"][1]["name"] == "proxy"
    none = body(api.get_pod("v1", "default", "web-1", {"includeObject": "None"}, TABLE_ACCEPT))
    assert none["rows"][0]["object"] is None
    beta = api.list_pods("v1", "default", {}, "application/json;as=Table;v=v1beta1;g=meta.k8s.io")
    assert json.loads(beta[2])["apiVersion"] == "meta.k8s.io/v1beta1"


def test_empty_table_has_null_columns_and_rows() -> None:
    t = body(make_api().list_pods("v1", "empty", {}, TABLE_ACCEPT))
    assert t == {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": None,
        "rows": None,
    }


def test_protobuf_only_accept_still_gets_json() -> None:
    code, ctype, raw = make_api().list_nodes("v1", {}, "application/vnd.kubernetes.protobuf")
    assert (code, ctype) == (200, "application/json")
    json.loads(raw)


def test_freshness_is_observed_for_every_item_served() -> None:
    h = Histogram(FRESHNESS_BUCKETS)
    api = make_api(freshness=h)
    api.list_pods("v1", None, {}, None)
    api.get_node("v1", "minikube", {}, None)
    assert h.count == 5
    assert h.sum == pytest.approx(5 * 10.0)


def test_label_change_is_visible_without_a_new_scrape() -> None:
    api = make_api()
    from tests.resource.helpers import decode_structs

    _, (updated,) = decode_structs([], [pod("default", "web-2", {"app": "web", "new": "yes"})])
    api.pods.upsert(updated)
    got = body(api.get_pod("v1", "default", "web-2", {}, None))
    assert got["metadata"]["labels"] == {"app": "web", "new": "yes"}


def test_cached_lists_follow_changes_of_objects_and_storage() -> None:
    from tests.resource.helpers import decode_structs

    api = make_api()
    first = api.list_pods("v1", None, {}, None)[2]
    assert api.list_pods("v1", None, {}, None)[2] == first
    _, (updated,) = decode_structs([], [pod("default", "web-2", {"app": "web", "new": "yes"})])
    api.pods.upsert(updated)
    second = body(api.list_pods("v1", None, {}, None))
    assert second["items"][2]["metadata"]["labels"] == {"app": "web", "new": "yes"}
    _, (gone,) = decode_structs([], [pod("default", "web-1")])
    api.pods.delete(gone)
    assert [i["metadata"]["name"] for i in body(api.list_pods("v1", None, {}, None))["items"]] == [
        "sidecar",
        "web-2",
        "kube-scheduler-minikube",
    ]
    api.storage.store({}, {})
    assert body(api.list_pods("v1", None, {}, None))["items"] == []
    assert body(api.list_nodes("v1", {}, None))["items"] == []


def test_bulk_freshness_equals_one_observation_per_item() -> None:
    times = [100.0, 101.5, 107.0, 130.0, 130.0, 200.0]
    now = 205.0
    one, bulk = Histogram(FRESHNESS_BUCKETS), Histogram(FRESHNESS_BUCKETS)
    for t in times:
        one.observe(now - t)
    bulk.observe_ages(now, sorted(times), sum(times))
    assert (bulk.counts, bulk.count) == (one.counts, one.count)
    assert bulk.sum == pytest.approx(one.sum)


async def test_prerender_fills_the_parts_of_the_current_generation() -> None:
    api = make_api()
    before = body(api.list_pods("v1", None, {}, None))
    api._check_generation()
    api._pod_parts.clear()
    assert await api.prerender(chunk=2) == len(api.storage.pod_usage)
    assert set(api._pod_parts) == set(api.storage.pod_usage)
    assert set(api._node_parts) == set(api.storage.node_usage)
    assert body(api.list_pods("v1", None, {}, None)) == before
