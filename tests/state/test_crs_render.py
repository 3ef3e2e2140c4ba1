"""CRS end to end: configuration -> compiled resource -> exposition text, for the examples of KSM's
``docs/metrics/extend/customresourcestate-metrics.md`` (v2.20), through the same render, store and
header rules as built-in resources.

Where the docs' hand-written output disagrees with KSM's code (the kitchen sink omits the
resource's ``crd_type`` common label and shows ``"**"`` copying without its ``*`` prefix; the VPA
example repeats a HELP line that KSM's header de-duplication removes) the code's behaviour is
expected here.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from kubescope.model.meta import KubeList, WatchEvent
from kubescope.state.crs import (
    CustomResourceSpec,
    Unstructured,
    compile_resource,
    parse_config,
    specs_for,
    unstructured_dec_hook,
)
from kubescope.state.family import FamilyOptions
from kubescope.state.render import render_text
from kubescope.state.store import ResourceStore
from tests.state.ksm import assert_ksm_equal, label_names, normalize, render_checked, sample_value

FOO: dict[str, Any] = json.loads(
    """
    {
      "kind": "Foo",
      "apiVersion": "myteam.io/vl",
      "metadata": {
        "annotations": {"bar": "baz", "qux": "quxx"},
        "labels": {"foo": "bar"},
        "name": "foo",
        "uid": "uid-foo"
      },
      "spec": {
        "version": "v1.2.3",
        "order": [{"id": 1, "value": true}, {"id": 3, "value": false}],
        "replicas": 1,
        "refs": ["my_other_foo", "foo_2", "foo_with_extensions"]
      },
      "status": {
        "phase": "Pending",
        "active": {"type-a": 1, "type-b": 3},
        "conditions": [{"name": "a", "value": 45}, {"name": "b", "value": 66}],
        "sub": {"type-a": {"active": 1, "ready": 2}, "type-b": {"active": 3, "ready": 4}},
        "uptime": 43.21
      }
    }
    """
)
GVK = 'customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1"'


def foo_config(body: str, prefix_line: str = "") -> str:
    return f"""
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {{group: myteam.io, kind: Foo, version: v1}}
      {prefix_line}
{body}
"""


def render(config: str, objs: list[dict[str, Any]], openmetrics: bool = False) -> str:
    (res,) = parse_config(config).resources
    spec = compile_resource(res)
    return render_checked(spec, spec.families(FamilyOptions()), [Unstructured(o) for o in objs], openmetrics)


UPTIME = """
      metrics:
        - name: uptime
          help: Foo uptime
          each:
            type: Gauge
            gauge:
              path: [status, uptime]
"""


def test_single_value() -> None:
    got = render(foo_config(UPTIME), [FOO])
    assert got == (
        "# HELP kube_customresource_uptime Foo uptime\n"
        "# TYPE kube_customresource_uptime gauge\n"
        f"kube_customresource_uptime{{{GVK}}} 43.21\n"
    )


def test_kitchen_sink() -> None:
    body = """
      commonLabels:
        crd_type: foo
      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: ready_count
          help: Number Foo Bars ready
          each:
            type: Gauge
            gauge:
              path: [status, sub]
              labelFromKey: type
              labelsFromPath:
                active: [active]
              valueFrom: [ready]
          commonLabels:
            custom_metric: "yes"
          labelsFromPath:
            "*": [metadata, labels]
            "lorem_*": [metadata, annotations]
            "**": [metadata, annotations]
            name: [metadata, name]
            foo: [metadata, labels, foo]
"""
    got = render(foo_config(body), [FOO])
    common = (
        '_bar="baz",_qux="quxx",{active}crd_type="foo",custom_metric="yes",'
        f'{GVK},foo="bar",lorem_bar="baz",lorem_qux="quxx",name="foo",type="{{type}}"'
    )
    a = common.format(active='active="1",', type="type-a")
    b = common.format(active='active="3",', type="type-b")
    assert got.splitlines()[2:] == [
        f"kube_customresource_ready_count{{{a}}} 2",
        f"kube_customresource_ready_count{{{b}}} 4",
    ]


def test_non_map_arrays() -> None:
    body = """
      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: ref_info
          help: Reference to other Foo
          each:
            type: Info
            info:
              path: [spec, refs]
              labelsFromPath:
                ref: []
"""
    got = render(foo_config(body), [FOO])
    want = f"""
        # HELP kube_customresource_ref_info Reference to other Foo
        # TYPE kube_customresource_ref_info gauge
        kube_customresource_ref_info{{{GVK},name="foo",ref="my_other_foo"}} 1
        kube_customresource_ref_info{{{GVK},name="foo",ref="foo_2"}} 1
        kube_customresource_ref_info{{{GVK},name="foo",ref="foo_with_extensions"}} 1
    """
    assert_ksm_equal(got, want)
    # labels are written sorted by name, the way KSM's ToMetric sorts them
    assert label_names(got, "kube_customresource_ref_info")[0] == [
        "customresource_group",
        "customresource_kind",
        "customresource_version",
        "name",
        "ref",
    ]


VPA = {
    "apiVersion": "autoscaling.k8s.io/v1",
    "kind": "VerticalPodAutoscaler",
    "metadata": {"name": "vpa-example", "namespace": "namespace-example", "uid": "u-vpa"},
    "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "target-name-example"}},
    "status": {
        "recommendation": {
            "containerRecommendations": [
                {"containerName": "consumer", "lowerBound": {"cpu": "100m", "memory": "123456"}}
            ]
        }
    },
}


def test_same_metric_name_with_different_labels() -> None:
    metric = """
        - name: verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound
          help: Minimum {res} resources the container can use before the VerticalPodAutoscaler updater evicts it.
          commonLabels:
            unit: {unit}
            resource: {res}
          each:
            type: Gauge
            gauge:
              path: [status, recommendation, containerRecommendations]
              labelsFromPath:
                container: [containerName]
              valueFrom: [lowerBound, {res}]
"""
    config = f"""
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {{group: autoscaling.k8s.io, kind: VerticalPodAutoscaler, version: v1}}
      labelsFromPath:
        verticalpodautoscaler: [metadata, name]
        namespace: [metadata, namespace]
        target_api_version: [apiVersion]
        target_kind: [spec, targetRef, kind]
        target_name: [spec, targetRef, name]
      metrics:
{metric.format(res="memory", unit="byte")}
{metric.format(res="cpu", unit="core")}
"""
    got = render(config, [VPA])
    name = (
        "kube_customresource_verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound"
    )
    labels = (
        'container="consumer",customresource_group="autoscaling.k8s.io",customresource_kind="VerticalPodAutoscaler",'
        'customresource_version="v1",namespace="namespace-example",resource="{res}",'
        'target_api_version="autoscaling.k8s.io/v1",target_kind="Deployment",target_name="target-name-example",'
        'unit="{unit}",verticalpodautoscaler="vpa-example"'
    )
    assert got == (
        f"# HELP {name} Minimum memory resources the container can use before the VerticalPodAutoscaler "
        "updater evicts it.\n"
        f"# TYPE {name} gauge\n"
        f"{name}{{{labels.format(res='memory', unit='byte')}}} 123456\n"
        f"{name}{{{labels.format(res='cpu', unit='core')}}} 0.1\n"
    )


def test_status_conditions() -> None:
    obj = {
        "metadata": {"name": "foo", "namespace": "default", "uid": "u"},
        "status": {
            "conditions": [
                {"lastTransitionTime": "2019-10-22T16:29:31Z", "status": "True", "type": "Ready"},
                {"status": "Unknown", "type": "Synced"},
            ]
        },
    }
    body = """
      labelsFromPath:
        name: [metadata, name]
        namespace: [metadata, namespace]
      metrics:
        - name: foo_status
          help: "status condition "
          each:
            type: Gauge
            gauge:
              path: [status, conditions]
              labelsFromPath:
                type: ["type"]
              valueFrom: ["status"]
"""
    got = render(foo_config(body), [obj])
    assert "# HELP kube_customresource_foo_status status condition \n" in got
    assert sample_value(got, "kube_customresource_foo_status", {"type": "Ready", "namespace": "default"}) == 1
    assert sample_value(got, "kube_customresource_foo_status", {"type": "Synced"}) == 0


STATESET = """
      metrics:
        - name: status_phase
          help: Foo status_phase
          each:
            type: StateSet
            stateSet:
              labelName: phase
              path: [status, phase]
              list: [Pending, Bar, Baz]
"""


def test_stateset_and_its_type_line() -> None:
    got = render(foo_config(STATESET), [FOO])
    want = f"""
        # HELP kube_customresource_status_phase Foo status_phase
        # TYPE kube_customresource_status_phase gauge
        kube_customresource_status_phase{{{GVK},phase="Pending"}} 1
        kube_customresource_status_phase{{{GVK},phase="Bar"}} 0
        kube_customresource_status_phase{{{GVK},phase="Baz"}} 0
    """
    assert_ksm_equal(got, want)
    om = render(foo_config(STATESET), [FOO], openmetrics=True)
    assert "# TYPE kube_customresource_status_phase stateset\n" in om
    assert om.endswith("# EOF\n")
    # the phase is not set yet: no series, the header stays
    pending = render(foo_config(STATESET), [{"metadata": {"name": "new"}}])
    assert pending == "# HELP kube_customresource_status_phase Foo status_phase\n" + (
        "# TYPE kube_customresource_status_phase gauge\n"
    )


INFO = """
      metrics:
        - name: version
          help: Foo version
          each:
            type: Info
            info:
              labelsFromPath:
                version: [spec, version]
"""


def test_info_and_its_type_line() -> None:
    got = render(foo_config(INFO), [FOO])
    assert got.splitlines()[1:] == [
        "# TYPE kube_customresource_version gauge",
        f'kube_customresource_version{{{GVK},version="v1.2.3"}} 1',
    ]
    assert "# TYPE kube_customresource_version info\n" in render(foo_config(INFO), [FOO], openmetrics=True)


def test_metric_name_prefix() -> None:
    got = render(foo_config(UPTIME, "metricNamePrefix: myteam_foos"), [FOO])
    assert f"myteam_foos_uptime{{{GVK}}} 43.21\n" in got
    got = render(foo_config(UPTIME, 'metricNamePrefix: ""'), [FOO])
    assert f"\nuptime{{{GVK}}} 43.21\n" in got


def test_label_values_are_escaped_and_nil_is_zero() -> None:
    body = """
      labelsFromPath:
        note: [metadata, annotations, note]
      metrics:
        - name: paused
          help: paused
          each:
            type: Gauge
            gauge:
              path: [spec, paused]
              nilIsZero: true
"""
    obj = {"metadata": {"name": "x", "annotations": {"note": 'a "quoted"\\ line\nnext'}}, "spec": {}}
    got = render(foo_config(body), [obj])
    assert (
        got.splitlines()[2] == f'kube_customresource_paused{{{GVK},note="a \\"quoted\\"\\\\ line\\nnext"}} 0'
    )


def test_errors_go_to_the_sink_not_the_output() -> None:
    config = foo_config(
        """
      metrics:
        - name: bad
          help: bad
          errorLogV: 4
          each:
            type: Gauge
            gauge:
              path: [status, phase]
"""
    )
    errors: list[tuple[str, str, int]] = []
    (res,) = parse_config(config).resources
    spec = compile_resource(res, on_error=lambda *e: errors.append(e))
    got = render_text([(spec, spec.families(FamilyOptions()), [Unstructured(FOO)])])
    assert "kube_customresource_bad{" not in got
    assert errors == [
        (
            "kube_customresource_bad",
            '[status,phase]: []: strconv.ParseFloat: parsing "Pending": invalid syntax',
            4,
        )
    ]


# --- wildcards, decoding and the store ---------------------------------------------------------


def app_crd(*versions: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "applications.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Application", "plural": "applications"},
            "versions": [{"name": v, "served": True, "storage": i == 0} for i, v in enumerate(versions)],
        },
    }


WILDCARD = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: "example.com"
        version: "*"
        kind: "Application"
      metrics:
        - name: test_metric_info
          help: helpless
          each:
            type: Info
            info:
              path: [metadata]
              labelsFromPath:
                name: [name]
"""


def test_wildcard_version_gives_a_resource_per_served_version() -> None:
    specs = specs_for(parse_config(WILDCARD), [app_crd("v1alpha1"), {"not": "a crd"}])
    assert [(s.version, s.resource, s.name) for s in specs] == [
        ("v1alpha1", "applications", "example.com/v1alpha1, Resource=applications")
    ]
    specs = specs_for(parse_config(WILDCARD), [app_crd("v1", "v1alpha1")])
    assert sorted(s.version for s in specs) == ["v1", "v1alpha1"]
    obj = Unstructured({"metadata": {"name": "test-app", "namespace": "n", "uid": "u"}})
    for spec in specs:
        text = render_text([(spec, spec.families(FamilyOptions()), [obj])])
        assert (
            sample_value(
                text,
                "kube_customresource_test_metric_info",
                {
                    "customresource_version": spec.version,
                    "customresource_kind": "Application",
                    "name": "test-app",
                },
            )
            == 1
        )


def spec_for_foo(body: str = UPTIME) -> CustomResourceSpec:
    (res,) = parse_config(foo_config(body)).resources
    return compile_resource(res)


def test_decoding_lists_and_watch_events_with_the_dec_hook() -> None:
    spec = spec_for_foo()
    page = json.dumps({"metadata": {"resourceVersion": "9"}, "items": [FOO]}).encode()
    items = msgspec.json.Decoder(KubeList[Unstructured], dec_hook=spec.dec_hook).decode(page).items
    assert items[0].object == FOO
    assert items[0].metadata.uid == "uid-foo"
    assert items[0].metadata.labels == {"foo": "bar"}
    event = json.dumps({"type": "MODIFIED", "object": FOO}).encode()
    assert (
        msgspec.json.Decoder(WatchEvent[Unstructured], dec_hook=unstructured_dec_hook)
        .decode(event)
        .object.object
        == FOO
    )
    one = spec.decode(json.dumps(FOO))
    assert one.metadata.name == "foo"
    assert one.object["status"]["uptime"] == 43.21


def test_odd_metadata_keeps_uid_and_non_objects_are_rejected() -> None:
    odd = Unstructured({"metadata": {"name": "x", "uid": "u1", "labels": {"a": 1}}})
    assert (odd.metadata.name, odd.metadata.uid, odd.metadata.labels) == ("x", "u1", {})
    assert Unstructured({"metadata": "nope"}).metadata.uid == ""
    spec = spec_for_foo()
    try:
        spec.decode(b"[1, 2]")
    except msgspec.ValidationError as e:
        assert "expected a JSON object" in str(e)
    else:
        raise AssertionError("a list decoded as a custom resource")


def test_the_store_renders_custom_resources_like_any_resource() -> None:
    spec = spec_for_foo(UPTIME + STATESET.replace("      metrics:\n", ""))
    store = ResourceStore(spec, spec.families(FamilyOptions()))
    a = Unstructured({**FOO, "metadata": {**FOO["metadata"], "uid": "a", "name": "a"}})
    b = Unstructured(
        {**FOO, "metadata": {**FOO["metadata"], "uid": "b", "name": "b"}, "status": {"uptime": 1}}
    )
    store.upsert(a)
    store.upsert(b)
    store.delete(a)
    store.flush_sync()
    text = store.text()
    fresh = render_text([(spec, spec.families(FamilyOptions()), [b])])
    assert normalize(text) == [line for line in normalize(fresh) if not line.startswith("#")]
    assert sample_value(text, "kube_customresource_uptime") == 1
    assert "phase=" not in text  # b has no phase
