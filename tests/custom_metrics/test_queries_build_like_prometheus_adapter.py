"""Query building and series naming, checked against prometheus-adapter's own test tables
(``pkg/naming/metrics_query_test.go``, ``pkg/custom-provider/series_registry_test.go``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubescope.custom_metrics.config import DiscoveryRule, GroupResourceRef, ResourceMapping, parse_config
from kubescope.custom_metrics.defaults import default_config
from kubescope.custom_metrics.mapper import GroupResource, ResourceInfo, RESTMapper
from kubescope.custom_metrics.matchers import MatcherError, parse_requirements, to_label_selector
from kubescope.custom_metrics.naming import namer_from_rule
from kubescope.custom_metrics.query import build_external, build_query
from kubescope.custom_metrics.registry import CustomMetricInfo, build_registry

DATA = Path(__file__).parent.parent / "data" / "prometheus-adapter"

MAPPER = RESTMapper(
    [
        ResourceInfo("", "v1", "pods", "pod", "Pod", True),
        ResourceInfo("", "v1", "services", "service", "Service", True),
        ResourceInfo("", "v1", "nodes", "node", "Node", False),
        ResourceInfo("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", False),
        ResourceInfo("", "v1", "namespaces", "namespace", "Namespace", False),
        ResourceInfo("extensions", "v1beta1", "ingresses", "ingress", "Ingress", True),
        ResourceInfo("extensions", "v1beta1", "deployments", "deployment", "Deployment", True),
        ResourceInfo("group", "v1", "resource", "resource", "Resource", True),
    ]
)


def _mock_namer(template: str, *, namespaced: bool = True):  # type: ignore[no-untyped-def]
    """A rule whose converter maps a resource to a label of the same name (the tests' mock)."""
    rule = DiscoveryRule(
        where="rules[0]",
        series_query="x",
        metrics_query=template,
        resources=ResourceMapping(
            overrides={
                "resource": GroupResourceRef("group", "resource"),
                "namespaces": GroupResourceRef("", "namespaces"),
            },
            namespaced=namespaced,
        ),
    )
    namer = namer_from_rule(rule)
    return namer, namer.converter.bind(MAPPER)


RES = GroupResource("group", "resource")


@pytest.mark.parametrize(
    ("template", "names", "namespace", "selector", "extra", "want"),
    [
        ("series <<.Series>>", ["x"], "", "", (), "series foo"),
        ("<<.LabelMatchers>>", ["bar", "baz"], "", "", (), 'resource=~"bar|baz"'),
        ("<<.LabelMatchers>>", ["bar"], "", "", (), 'resource="bar"'),
        ("<<.LabelMatchers>>", ["bar"], "", "metric1=value1", (), 'metric1="value1",resource="bar"'),
        ('<<index .LabelValuesByName "resource">>', ["bar"], "", "", (), "bar"),
        ('<<index .LabelValuesByName "resource">>', ["bar", "baz"], "", "", (), "bar|baz"),
        (
            '<<index .LabelValuesByName "namespaces">> <<index .LabelValuesByName "resource">>',
            ["bar", "baz"], "default", "", (), "default bar|baz",
        ),
        ("<<.GroupBy>>", ["x"], "", "", (), "resource"),
        ("<<.GroupBy>>", ["x"], "", "", ("extra", "groups"), "resource,extra,groups"),
        ("<<.GroupBySlice>>", ["x"], "", "", (), "[resource]"),
        ("<<.GroupBySlice>>", ["x"], "", "", ("extra", "groups"), "[resource extra groups]"),
    ],
)  # fmt: skip
def test_build(
    template: str, names: list[str], namespace: str, selector: str, extra: tuple[str, ...], want: str
) -> None:
    namer, conv = _mock_namer(template)
    promql, label = build_query(
        namer.query, conv, "foo", RES, namespace, parse_requirements(selector), names, extra
    )
    assert promql == want
    assert label == "resource"


@pytest.mark.parametrize(
    ("template", "namespaced", "namespace", "selector", "want"),
    [
        ("series <<.Series>>", True, "", "", "series foo"),
        ("<<.GroupBySlice>>|<<.GroupBy>>|", True, "", "", "[]||"),
        ('<<index .LabelValuesByName "namespaces">> <<.GroupBySlice>>', True, "default", "", "default []"),
        ('<<index .LabelValuesByName "namespaces">> <<.GroupBySlice>>', False, "default", "", " []"),
        ("<<.LabelMatchers>>", True, "", "foo=bar", 'foo="bar"'),
        ("<<.LabelMatchers>>", True, "default", "foo=bar", 'foo="bar",namespaces="default"'),
        ("<<.LabelMatchers>>", True, "", "foo=bar,qux in (bar, baz)", 'foo="bar",qux=~"bar|baz"'),
        ("<<.LabelValuesByName>>", True, "", "foo=bar", "map[foo:bar]"),
        ("<<.LabelValuesByName>>", True, "", "foo in (bar,baz)", "map[foo:bar|baz]"),
    ],
)
def test_build_external(template: str, namespaced: bool, namespace: str, selector: str, want: str) -> None:
    namer, conv = _mock_namer(template, namespaced=namespaced)
    assert (
        build_external(
            namer.query, conv, "foo", namespace, parse_requirements(selector), namespaced=namespaced
        )
        == want
    )


@pytest.mark.parametrize(
    ("selector", "matchers"),
    [
        ("a=b", 'a="b"'),
        ("a==b", 'a="b"'),
        ("a!=b", 'a!="b"'),
        ("a in (x)", 'a=~"x"'),
        ("a in (y,x)", 'a=~"x|y"'),
        ("a notin (x)", 'a!~"x"'),
        ("a notin (x,y)", 'a!~"x|y"'),
        ("a", 'a!=""'),
        ("!a", 'a=""'),
        ("z=1,a=2", 'a="2",z="1"'),
    ],
)
def test_selector_requirements_become_matchers(selector: str, matchers: str) -> None:
    namer, conv = _mock_namer("<<.LabelMatchers>>")
    got = build_external(namer.query, conv, "s", "", parse_requirements(selector))
    assert got == matchers


def test_numeric_selectors_have_no_prometheus_matcher() -> None:
    namer, conv = _mock_namer("<<.LabelMatchers>>")
    with pytest.raises(MatcherError):
        build_external(namer.query, conv, "s", "", parse_requirements("a>1"))


def test_metric_selector_is_returned_as_a_label_selector() -> None:
    reqs = parse_requirements("b in (y,x),a=1,c,!d,e!=f")
    assert to_label_selector(reqs) == {
        "matchLabels": {"a": "1"},
        "matchExpressions": [
            {"key": "b", "operator": "In", "values": ["x", "y"]},
            {"key": "c", "operator": "Exists"},
            {"key": "d", "operator": "DoesNotExist"},
            {"key": "e", "operator": "NotIn", "values": ["f"]},
        ],
    }
    assert to_label_selector([]) is None


# -- series_registry_test.go ---------------------------------------------------------------------

SERIES = [
    [("container_some_time_seconds_total", {"pod", "namespace", "container"})],
    [("container_some_count_total", {"pod", "namespace", "container"})],
    [("container_some_usage", {"pod", "namespace", "container"})],
    [("node_gigawatts", {"kube_node"}), ("service_proxy_packets", {"kube_service", "kube_namespace"})],
    [
        ("ingress_hits_total", {"kube_ingress", "kube_service", "kube_pod", "kube_namespace"}),
        ("volume_claims_total", {"kube_persistentvolume"}),
    ],
    [
        ("work_queue_wait_seconds_total", {"kube_deployment", "kube_namespace"}),
        ("node_fan_seconds_total", {"kube_node"}),
    ],
]


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    cfg = default_config(60.0, "kube_")
    namers = [namer_from_rule(r) for r in cfg.rules]
    series = [[(n, frozenset(labels)) for n, labels in per_rule] for per_rule in SERIES]
    return build_registry(MAPPER, namers, series, [], [])


@pytest.mark.parametrize(
    ("resource", "namespaced", "metric", "namespace", "names", "selector", "want"),
    [
        ("pods", True, "some_usage", "somens", ["somepod1", "somepod2"], "",
         'sum(container_some_usage{namespace="somens",pod=~"somepod1|somepod2",container!="POD"}) by (pod)'),
        ("pods", True, "some_count", "somens", ["somepod1", "somepod2"], "",
         'sum(rate(container_some_count_total{namespace="somens",pod=~"somepod1|somepod2",container!="POD"}[1m])) by (pod)'),
        ("pods", True, "some_time", "somens", ["somepod1", "somepod2"], "",
         'sum(rate(container_some_time_seconds_total{namespace="somens",pod=~"somepod1|somepod2",container!="POD"}[1m])) by (pod)'),
        ("service", True, "ingress_hits", "somens", ["somesvc"], "",
         'sum(rate(ingress_hits_total{kube_namespace="somens",kube_service="somesvc"}[1m])) by (kube_service)'),
        ("service", True, "ingress_hits", "somens", ["somesvc"], "param1=value1",
         'sum(rate(ingress_hits_total{param1="value1",kube_namespace="somens",kube_service="somesvc"}[1m])) by (kube_service)'),
        ("ingress.extensions", True, "ingress_hits", "somens", ["someingress"], "",
         'sum(rate(ingress_hits_total{kube_namespace="somens",kube_ingress="someingress"}[1m])) by (kube_ingress)'),
        ("pod", True, "ingress_hits", "somens", ["somepod"], "",
         'sum(rate(ingress_hits_total{kube_namespace="somens",kube_pod="somepod"}[1m])) by (kube_pod)'),
        ("service", True, "service_proxy_packets", "somens", ["somesvc"], "",
         'sum(service_proxy_packets{kube_namespace="somens",kube_service="somesvc"}) by (kube_service)'),
        ("deployment.extensions", True, "work_queue_wait", "somens", ["somedep"], "",
         'sum(rate(work_queue_wait_seconds_total{kube_namespace="somens",kube_deployment="somedep"}[1m])) by (kube_deployment)'),
        ("node", False, "node_gigawatts", "", ["somenode"], "",
         'sum(node_gigawatts{kube_node="somenode"}) by (kube_node)'),
        ("persistentvolume", False, "volume_claims", "", ["somepv"], "",
         'sum(rate(volume_claims_total{kube_persistentvolume="somepv"}[1m])) by (kube_persistentvolume)'),
        ("node", False, "node_fan", "", ["somenode"], "",
         'sum(rate(node_fan_seconds_total{kube_node="somenode"}[1m])) by (kube_node)'),
    ],
)  # fmt: skip
def test_registry_builds_the_original_queries(  # type: ignore[no-untyped-def]
    registry,
    resource: str,
    namespaced: bool,
    metric: str,
    namespace: str,
    names: list[str],
    selector: str,
    want: str,
) -> None:
    res, _, group = resource.partition(".")
    b = registry.lookup_custom(GroupResource(group, res), namespaced, metric)
    assert b is not None, f"{resource}/{metric} should be available"
    gr = MAPPER.normalized(GroupResource(group, res))
    promql, _ = build_query(
        b.namer.query, b.conv, b.series, gr, namespace, parse_requirements(selector), names
    )
    assert promql == want


def test_registry_lists_all_metrics(registry) -> None:  # type: ignore[no-untyped-def]
    def i(group: str, resource: str, namespaced: bool, metric: str) -> CustomMetricInfo:
        return CustomMetricInfo(GroupResource(group, resource), namespaced, metric)

    assert set(registry.custom) == {
        i("", "pods", True, "some_count"), i("", "namespaces", False, "some_count"),
        i("", "pods", True, "some_time"), i("", "namespaces", False, "some_time"),
        i("", "pods", True, "some_usage"), i("", "namespaces", False, "some_usage"),
        i("", "services", True, "ingress_hits"), i("extensions", "ingresses", True, "ingress_hits"),
        i("", "pods", True, "ingress_hits"), i("", "namespaces", False, "ingress_hits"),
        i("", "services", True, "service_proxy_packets"), i("", "namespaces", False, "service_proxy_packets"),
        i("extensions", "deployments", True, "work_queue_wait"), i("", "namespaces", False, "work_queue_wait"),
        i("", "nodes", False, "node_gigawatts"), i("", "persistentvolumes", False, "volume_claims"),
        i("", "nodes", False, "node_fan"),
    }  # fmt: skip


def test_cluster_scoped_kinds_are_served_at_cluster_scope() -> None:
    """A cluster-scoped resource (a CRD here) named by a label is listed as not namespaced and
    answers at cluster scope; prometheus-adapter lists it namespaced whenever the series has another
    label, and then no request path reaches it."""
    from kubescope.custom_metrics.config import DiscoveryRule, GroupResourceRef, ResourceMapping

    mapper = RESTMapper([*MAPPER.resources, ResourceInfo("example.io", "v1", "clusterwidgets", "clusterwidget",
                                                         "ClusterWidget", False)])  # fmt: skip
    rule = DiscoveryRule(
        where="rules[0]",
        series_query="widget_load",
        metrics_query="sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
        resources=ResourceMapping(overrides={"widget": GroupResourceRef("example.io", "clusterwidget")}),
    )
    reg = build_registry(
        mapper, [namer_from_rule(rule)], [[("widget_load", frozenset({"widget", "instance"}))]], [], []
    )
    assert set(reg.custom) == {
        CustomMetricInfo(GroupResource("example.io", "clusterwidgets"), False, "widget_load")
    }
    b = reg.lookup_custom(GroupResource("example.io", "clusterwidgets"), False, "widget_load")
    assert b is not None
    promql, _ = build_query(
        b.namer.query, b.conv, b.series, GroupResource("example.io", "clusterwidgets"), "", [], ["w1"]
    )
    assert promql == 'sum(widget_load{widget="w1"}) by (widget)'


# -- docs/config-walkthrough.md ---------------------------------------------------------------------

WALKTHROUGH = """\
rules:
- seriesQuery: 'http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}'
  resources:
    overrides:
      kubernetes_namespace: {resource: "namespace"}
      kubernetes_pod_name: {resource: "pod"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
"""


def test_discovery_document_is_the_walkthroughs() -> None:
    """The walkthrough's rule (at the step before its ``name`` section: the published document lists
    ``http_requests_total``) over its series gives its published discovery document, field for field
    (the original's order is a Go map's; ours is sorted)."""
    doc = json.loads((DATA / "prometheus-adapter-walkthrough-discovery-v1beta1.json").read_text())
    namers = [namer_from_rule(r) for r in parse_config(WALKTHROUGH, "walkthrough.yaml").rules]
    series = [("http_requests_total", frozenset({"method", "kubernetes_namespace", "kubernetes_pod_name"}))]
    reg = build_registry(MAPPER, namers, [series], [], [])
    got = json.loads(reg.documents[("custom.metrics.k8s.io", "v1beta1")])
    key = lambda r: r["name"]  # noqa: E731
    assert {**got, "resources": sorted(got["resources"], key=key)} == {
        **doc,
        "resources": sorted(doc["resources"], key=key),
    }
    b = reg.lookup_custom(GroupResource("", "pods"), True, "http_requests_total")
    assert b is not None
    promql, _ = build_query(
        b.namer.query, b.conv, b.series, GroupResource("", "pods"), "production", [],
        ["frontend-server-abcd-0123", "fronted-server-abcd-4567"],
    )  # fmt: skip
    assert promql == (
        'sum(rate(http_requests_total{kubernetes_namespace="production",'
        'kubernetes_pod_name=~"frontend-server-abcd-0123|fronted-server-abcd-4567"}[2m])) by (kubernetes_pod_name)'
    )
