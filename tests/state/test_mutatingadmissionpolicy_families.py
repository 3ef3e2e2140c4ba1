"""MutatingAdmissionPolicy families: every case of KSM's
``internal/store/mutatingadmissionpolicy_test.go`` (v2.20), the family list, the API version and
label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render

RES = "mutatingadmissionpolicies"


def test_family_names_order_stability_and_api_version() -> None:
    spec = all_resources()[RES]
    # KSM (client-go 0.36) watches the GA version
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "admissionregistration.k8s.io",
        "v1",
        False,
        True,
    )
    assert spec.api_path == "/apis/admissionregistration.k8s.io/v1"
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [
        "kube_mutatingadmissionpolicy_info",
        "kube_mutatingadmissionpolicy_created",
    ]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_param_kind_fail_and_never() -> None:
    obj = {
        "metadata": {"name": "mutatingadmissionpolicy1", "namespace": "ns1", "resourceVersion": "123456"},
        "spec": {
            "paramKind": {"apiVersion": "rules.example.com/v1", "kind": "Rule"},
            "failurePolicy": "Fail",
            "reinvocationPolicy": "Never",
        },
    }
    want = """
        # HELP kube_mutatingadmissionpolicy_info Information about the MutatingAdmissionPolicy.
        # TYPE kube_mutatingadmissionpolicy_info gauge
        kube_mutatingadmissionpolicy_info{failure_policy="Fail",namespace="ns1",param_api_version="rules.example.com/v1",param_kind="Rule",reinvocation_policy="Never",mutatingadmissionpolicy="mutatingadmissionpolicy1"} 1
    """
    got = render(RES, obj)
    assert_ksm_equal(got, want, ["kube_mutatingadmissionpolicy_info"])
    assert label_names(got, "kube_mutatingadmissionpolicy_info") == [
        [
            "namespace",
            "mutatingadmissionpolicy",
            "param_api_version",
            "param_kind",
            "failure_policy",
            "reinvocation_policy",
        ]
    ]


def test_created_ignore_if_needed() -> None:
    obj = {
        "metadata": {
            "name": "mutatingadmissionpolicy2",
            "namespace": "ns2",
            "creationTimestamp": "2017-08-01T06:30:18Z",
            "resourceVersion": "abcdef",
        },
        "spec": {"failurePolicy": "Ignore", "reinvocationPolicy": "IfNeeded"},
    }
    want = """
        # HELP kube_mutatingadmissionpolicy_created Unix creation timestamp.
        # HELP kube_mutatingadmissionpolicy_info Information about the MutatingAdmissionPolicy.
        # TYPE kube_mutatingadmissionpolicy_created gauge
        # TYPE kube_mutatingadmissionpolicy_info gauge
        kube_mutatingadmissionpolicy_created{namespace="ns2",mutatingadmissionpolicy="mutatingadmissionpolicy2"} 1.501569018e+09
        kube_mutatingadmissionpolicy_info{failure_policy="Ignore",namespace="ns2",param_api_version="",param_kind="",reinvocation_policy="IfNeeded",mutatingadmissionpolicy="mutatingadmissionpolicy2"} 1
    """
    assert_ksm_equal(
        render(RES, obj), want, ["kube_mutatingadmissionpolicy_created", "kube_mutatingadmissionpolicy_info"]
    )


def test_cluster_scoped_empty_spec() -> None:
    got = render(RES, {"metadata": {"name": "p"}})
    assert (
        'kube_mutatingadmissionpolicy_info{namespace="",mutatingadmissionpolicy="p",param_api_version="",'
        'param_kind="",failure_policy="",reinvocation_policy=""} 1\n' in got
    )
