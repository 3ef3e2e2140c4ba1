"""IngressClass families: every case of KSM's ``internal/store/ingressclass_test.go`` (v2.20), the
family list and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render


def test_family_names_order_and_not_default() -> None:
    spec = all_resources()["ingressclasses"]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "networking.k8s.io",
        "v1",
        False,
        False,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [
        "kube_ingressclass_info",
        "kube_ingressclass_created",
        "kube_ingressclass_annotations",
        "kube_ingressclass_labels",
    ]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_info() -> None:
    obj = {"metadata": {"name": "test_ingressclass-info"}, "spec": {"controller": "controller"}}
    want = """
        # HELP kube_ingressclass_info Information about ingressclass.
        # TYPE kube_ingressclass_info gauge
        kube_ingressclass_info{ingressclass="test_ingressclass-info",controller="controller"} 1
    """
    got = render("ingressclasses", obj)
    assert_ksm_equal(got, want, ["kube_ingressclass_info"])
    assert label_names(got, "kube_ingressclass_info") == [["ingressclass", "controller"]]


def test_created() -> None:
    obj = {
        "metadata": {"name": "test_kube_ingressclass-created", "creationTimestamp": "2017-08-01T06:30:18Z"},
        "spec": {"controller": "controller"},
    }
    want = """
        # HELP kube_ingressclass_created Unix creation timestamp
        # TYPE kube_ingressclass_created gauge
        kube_ingressclass_created{ingressclass="test_kube_ingressclass-created"} 1.501569018e+09
    """
    assert_ksm_equal(render("ingressclasses", obj), want, ["kube_ingressclass_created"])


def test_allowlisted_annotation_and_labels_without_allowlist() -> None:
    obj = {
        "metadata": {
            "name": "test_ingressclass-labels",
            "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            "labels": {"foo": "bar"},
        },
        "spec": {"controller": "controller"},
    }
    want = """
        # HELP kube_ingressclass_annotations Kubernetes annotations converted to Prometheus labels.
        # HELP kube_ingressclass_labels Kubernetes labels converted to Prometheus labels.
        # TYPE kube_ingressclass_annotations gauge
        # TYPE kube_ingressclass_labels gauge
        kube_ingressclass_annotations{ingressclass="test_ingressclass-labels",annotation_ingressclass_kubernetes_io_is_default_class="true"} 1
    """
    got = render("ingressclasses", obj, annotations=["ingressclass.kubernetes.io/is-default-class"])
    assert_ksm_equal(got, want, ["kube_ingressclass_annotations", "kube_ingressclass_labels"])


def test_no_controller_is_empty_label() -> None:
    got = render("ingressclasses", {"metadata": {"name": "x"}})
    assert 'kube_ingressclass_info{ingressclass="x",controller=""} 1\n' in got
