"""ValidatingAdmissionPolicy families: every case of KSM's
``internal/store/validatingadmissionpolicy_test.go`` (v2.20), the family list and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

RES = "validatingadmissionpolicies"


def test_family_names_order_and_stability() -> None:
    spec = all_resources()[RES]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "admissionregistration.k8s.io",
        "v1",
        False,
        True,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [
        "kube_validatingadmissionpolicy_info",
        "kube_validatingadmissionpolicy_created",
    ]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_param_kind_and_fail_policy() -> None:
    obj = {
        "metadata": {"name": "validatingadmissionpolicy1", "namespace": "ns1", "resourceVersion": "123456"},
        "spec": {
            "paramKind": {"apiVersion": "rules.example.com/v1", "kind": "Rule"},
            "failurePolicy": "Fail",
        },
    }
    want = """
        # HELP kube_validatingadmissionpolicy_info Information about the ValidatingAdmissionPolicy.
        # TYPE kube_validatingadmissionpolicy_info gauge
        kube_validatingadmissionpolicy_info{failure_policy="Fail",namespace="ns1",param_api_version="rules.example.com/v1",param_kind="Rule",validatingadmissionpolicy="validatingadmissionpolicy1"} 1
    """
    got = render(RES, obj)
    assert_ksm_equal(got, want, ["kube_validatingadmissionpolicy_info"])
    assert label_names(got, "kube_validatingadmissionpolicy_info") == [
        ["namespace", "validatingadmissionpolicy", "param_api_version", "param_kind", "failure_policy"]
    ]


def test_created_without_param_kind() -> None:
    obj = {
        "metadata": {
            "name": "validatingadmissionpolicy2",
            "namespace": "ns2",
            "creationTimestamp": "2017-08-01T06:30:18Z",
            "resourceVersion": "abcdef",
        },
        "spec": {"failurePolicy": "Ignore"},
    }
    want = """
        # HELP kube_validatingadmissionpolicy_created Unix creation timestamp.
        # HELP kube_validatingadmissionpolicy_info Information about the ValidatingAdmissionPolicy.
        # TYPE kube_validatingadmissionpolicy_created gauge
        # TYPE kube_validatingadmissionpolicy_info gauge
        kube_validatingadmissionpolicy_created{namespace="ns2",validatingadmissionpolicy="validatingadmissionpolicy2"} 1.501569018e+09
        kube_validatingadmissionpolicy_info{failure_policy="Ignore",namespace="ns2",param_api_version="",param_kind="",validatingadmissionpolicy="validatingadmissionpolicy2"} 1
    """
    assert_ksm_equal(
        render(RES, obj),
        want,
        ["kube_validatingadmissionpolicy_created", "kube_validatingadmissionpolicy_info"],
    )


def test_cluster_scoped_empty_spec() -> None:
    got = render(RES, {"metadata": {"name": "p"}})
    assert (
        'kube_validatingadmissionpolicy_info{namespace="",validatingadmissionpolicy="p",'
        'param_api_version="",param_kind="",failure_policy=""} 1\n' in got
    )
    assert sample_value(got, "kube_validatingadmissionpolicy_created") is None
