"""MutatingAdmissionPolicyBinding families: every case of KSM's
``internal/store/mutatingadmissionpolicybinding_test.go`` (v2.20), the family list and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render

RES = "mutatingadmissionpolicybindings"
P = "kube_mutatingadmissionpolicybinding"


def test_family_names_order_and_stability() -> None:
    spec = all_resources()[RES]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "admissionregistration.k8s.io",
        "v1",
        False,
        True,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [f"{P}_info", f"{P}_created"]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_param_ref() -> None:
    obj = {
        "metadata": {
            "name": "mutatingadmissionpolicybinding1",
            "namespace": "ns1",
            "resourceVersion": "123456",
        },
        "spec": {
            "policyName": "mutatingadmissionpolicy1",
            "paramRef": {"name": "param1", "namespace": "ns1", "parameterNotFoundAction": "Deny"},
        },
    }
    want = """
        # HELP kube_mutatingadmissionpolicybinding_info Information about the MutatingAdmissionPolicyBinding.
        # TYPE kube_mutatingadmissionpolicybinding_info gauge
        kube_mutatingadmissionpolicybinding_info{namespace="ns1",param_name="param1",param_namespace="ns1",param_not_found_action="Deny",policy_name="mutatingadmissionpolicy1",mutatingadmissionpolicybinding="mutatingadmissionpolicybinding1"} 1
    """
    got = render(RES, obj)
    assert_ksm_equal(got, want, [f"{P}_info"])
    assert label_names(got, f"{P}_info") == [
        [
            "namespace",
            "mutatingadmissionpolicybinding",
            "policy_name",
            "param_name",
            "param_namespace",
            "param_not_found_action",
        ]
    ]


def test_created_without_param_ref() -> None:
    obj = {
        "metadata": {
            "name": "mutatingadmissionpolicybinding2",
            "namespace": "ns2",
            "creationTimestamp": "2017-08-01T06:30:18Z",
            "resourceVersion": "abcdef",
        },
        "spec": {"policyName": "mutatingadmissionpolicy2"},
    }
    want = """
        # HELP kube_mutatingadmissionpolicybinding_created Unix creation timestamp.
        # HELP kube_mutatingadmissionpolicybinding_info Information about the MutatingAdmissionPolicyBinding.
        # TYPE kube_mutatingadmissionpolicybinding_created gauge
        # TYPE kube_mutatingadmissionpolicybinding_info gauge
        kube_mutatingadmissionpolicybinding_created{namespace="ns2",mutatingadmissionpolicybinding="mutatingadmissionpolicybinding2"} 1.501569018e+09
        kube_mutatingadmissionpolicybinding_info{namespace="ns2",param_name="",param_namespace="",param_not_found_action="",policy_name="mutatingadmissionpolicy2",mutatingadmissionpolicybinding="mutatingadmissionpolicybinding2"} 1
    """
    assert_ksm_equal(render(RES, obj), want, [f"{P}_created", f"{P}_info"])


def test_cluster_scoped_identity() -> None:
    got = render(RES, {"metadata": {"name": "b"}, "spec": {"policyName": "p"}})
    assert got.count(f'{P}_info{{namespace="",mutatingadmissionpolicybinding="b",policy_name="p",') == 1
