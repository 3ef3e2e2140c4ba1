"""List pages: filters (namespace, labels, node, text), sorting on any column, pages, clear 400s."""

from __future__ import annotations

import pytest

from kubescope.console import lists
from kubescope.console.charts import BadInput

from .fixtures import filled, node, pod, workload


def _cluster():  # type: ignore[no-untyped-def]
    pods = [
        pod(
            "a",
            f"web-{i}",
            node="n1" if i % 2 else "n2",
            labels={"app": "web", "tier": "front" if i < 3 else "back"},
            owner=("ReplicaSet", "web-5d4f"),
            restarts=i,
        )
        for i in range(6)
    ]
    pods += [pod("b", "db-0", node="n2", labels={"app": "db"}, owner=("StatefulSet", "db"))]
    usage = {f"a/web-{i}": (100.0 * (i + 1), 2**20 * (60 - i)) for i in range(6)}
    usage["b/db-0"] = (50.0, 2**30)
    c, u = filled(pods, usage, [node("n1"), node("n2", ready=False)])
    for kind, w in (
        ("ReplicaSet", workload("ReplicaSet", "a", "web-5d4f", owner=("Deployment", "web"))),
        ("Deployment", workload("Deployment", "a", "web", replicas=6)),
        ("StatefulSet", workload("StatefulSet", "b", "db")),
    ):
        c.workloads[kind].upsert(w)
    return c, u


def _names(page: lists.Page) -> list[str]:
    return [r["name"] for r in page.rows]


def q(**params: str) -> lists.ListQuery:
    return lists.parse_query(
        params,
        allowed=("ns", "label", "node", "q", "status", "kind"),
        sorts=(*lists.POD_SORTS, "pods", "kind"),
    )


def test_filters_combine() -> None:
    c, u = _cluster()
    assert _names(lists.pods(c, u, q(ns="b"), 0)) == ["db-0"]
    assert _names(lists.pods(c, u, q(label="app=web,tier=front", node="n1"), 0)) == ["web-1"]
    assert _names(lists.pods(c, u, q(label="tier notin (front)"), 0)) == ["web-3", "web-4", "web-5", "db-0"]
    assert _names(lists.pods(c, u, q(q="WEB-2"), 0)) == ["web-2"]


def test_sorting_by_usage_and_counts() -> None:
    c, u = _cluster()
    assert _names(lists.pods(c, u, q(sort="-cpu"), 0))[:3] == ["web-5", "web-4", "web-3"]
    assert _names(lists.pods(c, u, q(sort="memory"), 0))[:2] == ["web-5", "web-4"]
    assert _names(lists.pods(c, u, q(sort="-memory"), 0))[0] == "db-0"
    assert _names(lists.pods(c, u, q(sort="-restarts"), 0))[0] == "web-5"


def test_the_default_order_is_sorted_once_until_pods_change() -> None:
    """A list page cuts its rows from one sorted list (30,000 pods: no sort and no 30,000 keys per
    request); a pod added is in its place on the next page."""
    c, u = filled([pod("x", f"p-{i:03}") for i in range(0, 100, 2)], {})
    first = c.pods_in_order()
    assert c.pods_in_order() is first
    assert _names(lists.pods(c, u, q(per="10"), 0))[:3] == ["p-000", "p-002", "p-004"]
    c.pods.upsert(pod("x", "p-001"))
    assert c.pods_in_order() is not first
    assert _names(lists.pods(c, u, q(per="10"), 0))[:3] == ["p-000", "p-001", "p-002"]
    assert _names(lists.pods(c, u, q(per="10", sort="-name"), 0))[:2] == ["p-098", "p-096"]
    assert _names(lists.pods(c, u, q(per="10", sort="-"), 0))[:2] == ["p-098", "p-096"]


def test_pages() -> None:
    c, u = _cluster()
    first = lists.pods(c, u, q(per="10"), 0)
    assert first.total == 7 and first.pages == 1
    c2, u2 = filled([pod("x", f"p-{i:03}") for i in range(125)], {})
    page = lists.pods(c2, u2, q(per="50", page="3"), 0)
    assert _names(page) == [f"p-{i:03}" for i in range(100, 125)] and page.pages == 3
    assert "page=2" in page.query.url("/pods", page=2)


def test_rows_carry_usage_and_a_sparkline_of_the_ring() -> None:
    c, u = _cluster()
    row = lists.pods(c, u, q(q="web-2"), 0).rows[0]
    assert row["cpu"] == "300m" and row["memory"] == "58Mi" and row["cpu_request"] == "100m"
    assert 'data-last="300.0"' in str(row["cpu_spark"]) and "<polyline" in str(row["cpu_spark"])


def test_workloads_sum_their_pods_through_replicasets() -> None:
    c, u = _cluster()
    page = lists.workloads(c, u, q(sort="-cpu"), 0)
    assert [(r["kind"], r["name"], r["pods"], r["cpu"]) for r in page.rows] == [
        ("Deployment", "web", 6, "2.1"),
        ("StatefulSet", "db", 1, "50m"),
    ]


def test_nodes_show_status_and_pod_counts() -> None:
    c, u = _cluster()
    page = lists.nodes(
        c, u, lists.parse_query({"sort": "name"}, allowed=("q", "status", "label"), sorts=lists.NODE_SORTS), 0
    )
    assert [(r["name"], r["status"], r["pods"]) for r in page.rows] == [
        ("n1", "Ready", 3),
        ("n2", "NotReady", 4),
    ]
    page = lists.nodes(
        c,
        u,
        lists.parse_query({"status": "notready"}, allowed=("q", "status", "label"), sorts=lists.NODE_SORTS),
        0,
    )
    assert _names(page) == ["n2"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "colour"}, "sort='colour': sort by one of name, namespace"),
        ({"label": "app in (web"}, "label='app in (web' is not a label selector"),
        ({"page": "0"}, "page=0 is out of range"),
        ({"per": "lots"}, "per='lots' is not a whole number"),
        ({"kind": "Pod"}, "kind='Pod': use one of Deployment"),
        ({"colour": "red"}, "unknown parameter 'colour'"),
    ],
)
def test_bad_input_is_named(params: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace("[", r"\[")):
        q(**params)
