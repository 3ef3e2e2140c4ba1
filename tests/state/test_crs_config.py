"""CRS configuration: parsing with KSM's schema and goyaml's rules, the cases of KSM's
``config_test.go`` and ``custom_resource_metrics_test.go`` (v2.20), clear errors for bad input,
and wildcard resolution against CRDs (KSM's ``internal/discovery`` cases)."""

from __future__ import annotations

from typing import Any

import pytest

from kubescope.errors import ConfigError
from kubescope.state.crs import (
    DiscoveredKind,
    GroupVersionKind,
    compile_resource,
    crd_kinds,
    parse_config,
    pluralize,
    resolve,
)

# The shape of KSM's pkg/customresourcestate/example_config.yaml, unknown key ("value") included.
EXAMPLE = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: myteam.io, kind: Foo, version: v1}
      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: active_count
          help: Number Foo Bars active
          each:
            type: Gauge
            gauge:
              path: [status, active]
              labelFromKey: type
              labelsFromPath:
                bar: [bar]
              value: [count]
          commonLabels:
            custom_metric: "yes"
          labelsFromPath:
            "*": [metadata, labels]
            foo: [metadata, labels, foo]
        - name: other_count
          each:
            type: Gauge
            gauge:
              path: [status, other]
          errorLogV: 5
        - name: info
          each:
            type: Info
            info:
              path: [spec, version]
          errorLogV: 5
        - name: phase
          each:
            type: StateSet
            stateSet:
              path: [status, phase]
              labelName: phase
              list: [Active, Running, Terminating]
          errorLogV: 5
"""


def test_example_config() -> None:
    cfg = parse_config(EXAMPLE)
    res = cfg.resources[0]
    assert res.metrics[0].name == "active_count"
    assert [m.each.type for m in res.metrics] == ["gauge", "gauge", "info", "stateset"]
    spec = compile_resource(res)
    fams = spec.compiled
    # resource labelsFromPath reach a metric that has none of its own
    assert {k: str(v) for k, v in fams[1].labels.paths.items()} == {"name": "[metadata,name]"}
    assert fams[1].error_log_v == 5
    assert spec.resource == "foos"
    assert spec.name == "myteam.io/v1, Resource=foos"
    assert spec.api_path == "/apis/myteam.io/v1"
    assert spec.go_type == "*unstructured.Unstructured"
    # metric labels are merged over the resource's
    assert set(fams[0].labels.paths) == {"name", "*", "foo"}
    assert fams[0].common_labels == {
        "custom_metric": "yes",
        "customresource_group": "myteam.io",
        "customresource_version": "v1",
        "customresource_kind": "Foo",
    }
    assert [f.name for f in spec.families(None)] == [  # type: ignore[arg-type]
        "kube_customresource_active_count",
        "kube_customresource_other_count",
        "kube_customresource_info",
        "kube_customresource_phase",
    ]
    assert [f.type for f in spec.families(None)] == ["gauge", "gauge", "info", "stateset"]  # type: ignore[arg-type]
    assert any("does not have the _info suffix" in w for w in cfg.warnings)


DEPLOYMENT_INFO = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: apps, version: v1, kind: Deployment}
      labelsFromPath: {name: [metadata, name]}
      commonLabels: {hello: world}
      %s
      metrics:
        - name: test_metrics
          help: metrics for testing
          each:
            type: Info
            info:
              path: [metadata, annotations]
              labelFromKey: test
"""


@pytest.mark.parametrize(
    ("prefix_line", "prefix", "name"),
    [
        ("", "kube_customresource", "kube_customresource_test_metrics"),
        ("metricNamePrefix: apps_deployment", "apps_deployment", "apps_deployment_test_metrics"),
        ('metricNamePrefix: ""', "", "test_metrics"),
        ("metricNamePrefix: ~", "kube_customresource", "kube_customresource_test_metrics"),
    ],
)
def test_new_custom_resource_metrics(prefix_line: str, prefix: str, name: str) -> None:
    res = parse_config(DEPLOYMENT_INFO % prefix_line).resources[0]
    assert res.prefix == prefix
    spec = compile_resource(res)
    assert (spec.group, spec.version, spec.kind, spec.resource) == ("apps", "v1", "Deployment", "deployments")
    (fam,) = spec.compiled
    assert fam.name == name
    assert fam.help == "metrics for testing"
    assert fam.each.type == "info"
    assert fam.common_labels == {
        "customresource_group": "apps",
        "customresource_kind": "Deployment",
        "customresource_version": "v1",
        "hello": "world",
    }
    assert {k: str(v) for k, v in fam.labels.paths.items()} == {"name": "[metadata,name]"}


def test_gvk_labels_override_resource_common_labels_but_not_metric_ones() -> None:
    cfg = parse_config(
        """
        spec:
          resources:
            - groupVersionKind: {group: g.io, version: v1, kind: K}
              commonLabels: {customresource_kind: mine, team: a}
              metrics:
                - name: m
                  commonLabels: {customresource_group: theirs, team: b}
                  each: {type: gauge, gauge: {path: [x]}}
        """
    )
    (fam,) = compile_resource(cfg.resources[0]).compiled
    assert fam.common_labels == {
        "customresource_group": "theirs",
        "customresource_version": "v1",
        "customresource_kind": "K",
        "team": "b",
    }


def test_goyaml_scalars_fill_strings_and_booleans() -> None:
    cfg = parse_config(
        """
        kind: CustomResourceStateMetrics
        spec:
          resources:
            - groupVersionKind: {group: g.io, version: v1, kind: K}
              errorLogV: 3
              metrics:
                - name: m
                  each:
                    type: GAUGE
                    gauge:
                      path: [spec, items, 0, on]
                      valueFrom: [1.50, ~]
                      nilIsZero: yes
                      labelsFromPath: {n: [true]}
        """
    )
    res = cfg.resources[0]
    each = res.metrics[0].each
    # any scalar fills a string as written (goyaml v3); null gives ""
    assert each.path == ("spec", "items", "0", "on")
    assert each.value_from == ("1.50", "")
    assert each.nil_is_zero is True
    assert each.labels_from_path == {"n": ("true",)}
    assert compile_resource(res).compiled[0].error_log_v == 3
    assert cfg.warnings == ()


def test_merge_keys_and_only_the_first_document() -> None:
    text = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: g.io, version: v1, kind: K}
      metrics:
        - &m {name: a, help: A, each: {type: Info, info: {path: [metadata], labelsFromPath: {n: [name]}}}}
        - <<: *m
          name: b_info
---
spec: {resources: [{groupVersionKind: {group: x, version: v, kind: Y}}]}
"""
    (res,) = parse_config(text).resources
    assert [m.name for m in res.metrics] == ["a", "b_info"]
    assert res.metrics[1].help == "A"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the document is empty"),
        ("spec: [", "failed to parse Custom Resource State metrics"),
        ("- a\n- b", "(document): expected a mapping, got a list"),
        ("spec: {resources: {a: 1}}", "spec.resources: expected a list of resources"),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: counter}}]}]}",
            "unknown metric type 'counter'",
        ),
        ("spec: {resources: [{metrics: [{name: m, each: {}}]}]}", "unknown metric type ''"),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: Gauge}}]}]}",
            "expected each.gauge to not be nil",
        ),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: StateSet, gauge: {}}}]}]}",
            "expected each.stateSet to not be nil",
        ),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: Gauge, gauge: {path: status.phase}}}]}]}",
            "spec.resources[0].metrics[0].each.gauge.path: expected a list of strings",
        ),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: Gauge, gauge: {path: [a, [Ready]]}}}]}]}",
            "expected a string, got a list",
        ),
        (
            "spec: {resources: [{groupVersionKind: {group: g}, metrics: [{name: m, each: {type: Gauge, "
            "gauge: {path: [a, '[Ready]']}}}]}]}",
            "failed to create metrics factory for g__: m: compiling metric: each.gauge: path: invalid list lookup: [Ready]",
        ),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: Info, info: {labelsFromPath: {c: ['[x]']}}}}]}]}",
            "each.info: labelsFromPath: c: invalid list lookup: [x]",
        ),
        (
            "spec: {resources: [{labelsFromPath: {c: ['[x]']}, metrics: [{name: m, each: {type: Info, info: {}}}]}]}",
            "m: compiling metric: labelsFromPath: c: invalid list lookup: [x]",
        ),
        (
            "spec: {resources: [{metrics: [{name: m, each: {type: Gauge, gauge: {nilIsZero: maybe}}}]}]}",
            "nilIsZero: expected true or false, got 'maybe'",
        ),
        ("spec: {resources: [{errorLogV: loud}]}", "spec.resources[0].errorLogV: expected an integer"),
        ("spec: {resources: [{metrics: x}]}", "spec.resources[0].metrics: expected a list of metrics"),
        (
            "spec: {resources: [{commonLabels: {a: [1]}}]}",
            "spec.resources[0].commonLabels.a: expected a string",
        ),
        ("spec: {a: 1, a: 2}", 'mapping key "a" is defined twice'),
    ],
)
def test_errors_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(text, source="crs.yaml")
    assert message in str(e.value)
    assert "crs.yaml" in str(e.value)


def test_warnings_for_what_ksm_accepts_but_breaks() -> None:
    cfg = parse_config(
        """
        kind: Something
        spec:
          resources:
            - groupVersionKind: {version: v1, kind: K}
              commonLabels: {bad-name: x}
              metrics:
                - name: s
                  each: {type: StateSet, stateSet: {path: [p], list: [A]}}
        """
    )
    text = "\n".join(cfg.warnings)
    assert "kind is 'Something'" in text
    assert "groupVersionKind.group is required" in text
    assert "'bad-name' is not a valid Prometheus label name" in text
    assert "label name '' is not a valid" in text  # a StateSet without labelName


def test_no_resources_is_valid() -> None:
    assert parse_config("kind: CustomResourceStateMetrics\nspec: {}").resources == ()
    assert parse_config("kind: CustomResourceStateMetrics").resources == ()


def test_wildcards_must_be_resolved_before_compiling() -> None:
    res = parse_config(
        "spec: {resources: [{groupVersionKind: {group: g, version: '*', kind: K}, metrics: []}]}"
    ).resources[0]
    with pytest.raises(ConfigError, match="resolve wildcards"):
        compile_resource(res)


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("Foo", "foos"),
        ("Deployment", "deployments"),
        ("Policy", "policies"),
        ("Ingress", "ingresses"),
        ("Gateway", "gateways"),
        ("Box", "boxes"),
        ("Match", "matches"),
    ],
)
def test_plural_fallback(kind: str, plural: str) -> None:
    assert pluralize(kind).lower() == plural


# --- discovery ------------------------------------------------------------------------------


def kp(group: str, version: str, kind: str, plural: str) -> DiscoveredKind:
    return DiscoveredKind(group, version, kind, plural)


APPS = [kp("apps", "v1", "Deployment", "deployments"), kp("apps", "v1", "StatefulSet", "statefulsets")]
TESTGROUP = [
    kp("testgroup", "v1", "TestObject1", "testobjects1"),
    kp("testgroup", "v1", "TestObject2", "testobjects2"),
    kp("testgroup", "v1alpha1", "TestObject1", "testobjects1"),
]


def gvkps(
    group: str, version: str, kind: str, kinds: list[DiscoveredKind]
) -> list[tuple[str, str, str, str]]:
    cfg = parse_config(
        f"spec: {{resources: [{{groupVersionKind: {{group: '{group}', version: '{version}', kind: '{kind}'}}, "
        "resourcePlural: ignored}]}"
    )
    return sorted((r.gvk.group, r.gvk.version, r.gvk.kind, r.plural) for r in resolve(cfg, kinds))


def test_resolve_variable_version_and_kind() -> None:
    assert gvkps("apps", "*", "*", APPS) == [
        ("apps", "v1", "Deployment", "deployments"),
        ("apps", "v1", "StatefulSet", "statefulsets"),
    ]


def test_resolve_variable_version() -> None:
    assert gvkps("testgroup", "*", "TestObject1", TESTGROUP) == [
        ("testgroup", "v1", "TestObject1", "testobjects1"),
        ("testgroup", "v1alpha1", "TestObject1", "testobjects1"),
    ]


def test_resolve_variable_kind() -> None:
    assert gvkps("testgroup", "v1", "*", TESTGROUP) == [
        ("testgroup", "v1", "TestObject1", "testobjects1"),
        ("testgroup", "v1", "TestObject2", "testobjects2"),
    ]


def test_resolve_fixed_and_missing() -> None:
    assert gvkps("testgroup", "v1", "TestObject1", TESTGROUP) == [
        ("testgroup", "v1", "TestObject1", "testobjects1")
    ]
    assert (
        gvkps("testgroup", "v1", "TestObject1", [kp("testgroup", "v1", "TestObject2", "testobjects2")]) == []
    )
    assert gvkps("*", "v1", "TestObject1", TESTGROUP) == []


def test_resolve_last_entry_for_a_resource_wins() -> None:
    cfg = parse_config(
        """
        spec:
          resources:
            - groupVersionKind: {group: testgroup, version: v1, kind: TestObject1}
              metricNamePrefix: first
            - groupVersionKind: {group: testgroup, version: "*", kind: TestObject1}
              metricNamePrefix: second
        """
    )
    got = {(r.gvk.version, r.prefix) for r in resolve(cfg, TESTGROUP)}
    assert got == {("v1", "second"), ("v1alpha1", "second")}


def crd(*versions: Any, scope: str = "Namespaced") -> dict[str, Any]:
    return {
        "spec": {
            "group": "testgroup",
            "scope": scope,
            "names": {"kind": "TestObject", "plural": "testobjects"},
            "versions": list(versions),
        }
    }


def version(name: str, served: Any = None) -> dict[str, Any]:
    return {"name": name} if served is None else {"name": name, "served": served}


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        (crd(version("v1", True), version("v1beta1", True)), ["v1", "v1beta1"]),
        (crd(version("v1", True), version("v1beta1", False)), ["v1"]),
        (crd(version("v1alpha1", False), version("v1beta1", False)), []),
        (crd(version("v1")), ["v1"]),
        (crd(version("v1", "false"), version("v2", True)), ["v2"]),
        ("not-a-crd", []),
        ({}, []),
        ({"spec": "nope"}, []),
        ({"spec": {"group": "g", "names": {"kind": "K"}, "versions": []}}, []),
        ({"spec": {"group": "g", "names": {"kind": "K", "plural": "ks"}, "versions": "v1"}}, []),
        (crd(version("v1", True), "junk", {"served": True}), ["v1"]),
    ],
)
def test_crd_kinds(obj: Any, want: list[str]) -> None:
    got = crd_kinds(obj)
    assert [k.version for k in got] == want
    assert all((k.group, k.kind, k.plural) == ("testgroup", "TestObject", "testobjects") for k in got)


def test_cluster_scoped_crd() -> None:
    (k,) = crd_kinds(crd(version("v1", True), scope="Cluster"))
    assert not k.namespaced
    cfg = parse_config(
        "spec: {resources: [{groupVersionKind: {group: testgroup, version: v1, kind: TestObject}}]}"
    )
    (res,) = resolve(cfg, [k])
    assert compile_resource(res).namespaced is False
    assert res.gvk == GroupVersionKind("testgroup", "v1", "TestObject")
