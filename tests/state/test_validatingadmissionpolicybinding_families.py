"""ValidatingAdmissionPolicyBinding families: every case of KSM's
``internal/store/validatingadmissionpolicybinding_test.go`` (v2.20), the family list and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

RES = "validatingadmissionpolicybindings"
P = "kube_validatingadmissionpolicybinding"


def test_family_names_order_and_stability() -> None:
    spec = all_resources()[RES]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "admissionregistration.k8s.io",
        "v1",
        False,
        True,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [f"{P}_info", f"{P}_created", f"{P}_validation_action"]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_param_ref_and_validation_actions() -> None:
    obj = {
        "metadata": {
            "name": "validatingadmissionpolicybinding1",
            "namespace": "ns1",
            "resourceVersion": "123456",
        },
        "spec": {
            "policyName": "validatingadmissionpolicy1",
            "paramRef": {"name": "param1", "namespace": "ns1", "parameterNotFoundAction": "Deny"},
            "validationActions": ["Deny", "Warn"],
        },
    }
    want = """
        # HELP kube_validatingadmissionpolicybinding_info Information about the ValidatingAdmissionPolicyBinding.
        # HELP kube_validatingadmissionpolicybinding_validation_action Validation actions for the ValidatingAdmissionPolicyBinding.
        # TYPE kube_validatingadmissionpolicybinding_info gauge
        # TYPE kube_validatingadmissionpolicybinding_validation_action gauge
        kube_validatingadmissionpolicybinding_info{namespace="ns1",param_name="param1",param_namespace="ns1",param_not_found_action="Deny",policy_name="validatingadmissionpolicy1",validatingadmissionpolicybinding="validatingadmissionpolicybinding1"} 1
        kube_validatingadmissionpolicybinding_validation_action{action="Deny",namespace="ns1",validatingadmissionpolicybinding="validatingadmissionpolicybinding1"} 1
        kube_validatingadmissionpolicybinding_validation_action{action="Warn",namespace="ns1",validatingadmissionpolicybinding="validatingadmissionpolicybinding1"} 1
    """
    got = render(RES, obj)
    assert_ksm_equal(got, want, [f"{P}_info", f"{P}_validation_action"])
    assert label_names(got, f"{P}_info") == [
        [
            "namespace",
            "validatingadmissionpolicybinding",
            "policy_name",
            "param_name",
            "param_namespace",
            "param_not_found_action",
        ]
    ]
    assert label_names(got, f"{P}_validation_action")[0] == [
        "namespace",
        "validatingadmissionpolicybinding",
        "action",
    ]


def test_created_without_param_ref() -> None:
    obj = {
        "metadata": {
            "name": "validatingadmissionpolicybinding2",
            "namespace": "ns2",
            "creationTimestamp": "2017-08-01T06:30:18Z",
            "resourceVersion": "abcdef",
        },
        "spec": {"policyName": "validatingadmissionpolicy2"},
    }
    want = """
        # HELP kube_validatingadmissionpolicybinding_created Unix creation timestamp.
        # HELP kube_validatingadmissionpolicybinding_info Information about the ValidatingAdmissionPolicyBinding.
        # TYPE kube_validatingadmissionpolicybinding_created gauge
        # TYPE kube_validatingadmissionpolicybinding_info gauge
        kube_validatingadmissionpolicybinding_created{namespace="ns2",validatingadmissionpolicybinding="validatingadmissionpolicybinding2"} 1.501569018e+09
        kube_validatingadmissionpolicybinding_info{namespace="ns2",param_name="",param_namespace="",param_not_found_action="",policy_name="validatingadmissionpolicy2",validatingadmissionpolicybinding="validatingadmissionpolicybinding2"} 1
    """
    got = render(RES, obj)
    assert_ksm_equal(got, want, [f"{P}_created", f"{P}_info"])
    assert sample_value(got, f"{P}_validation_action") is None


def test_param_ref_by_selector_without_action() -> None:
    obj = {
        "metadata": {"name": "b"},
        "spec": {
            "policyName": "p",
            "paramRef": {"selector": {"matchLabels": {"a": "b"}}},
            "validationActions": ["Audit"],
        },
    }
    got = render(RES, obj)
    assert (
        f'{P}_info{{namespace="",validatingadmissionpolicybinding="b",policy_name="p",param_name="",'
        'param_namespace="",param_not_found_action=""} 1\n' in got
    )
    assert sample_value(got, f"{P}_validation_action", {"action": "Audit"}) == 1
