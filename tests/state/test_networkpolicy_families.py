"""NetworkPolicy families: KSM's ``internal/store/networkpolicy_test.go`` (v2.20), the family list and
the always-written ``_created`` (Go's zero time when unset)."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

FAMILIES = [
    "kube_networkpolicy_created",
    "kube_networkpolicy_annotations",
    "kube_networkpolicy_labels",
    "kube_networkpolicy_spec_ingress_rules",
    "kube_networkpolicy_spec_egress_rules",
]


def test_family_names_order_and_stability() -> None:
    spec = all_resources()["networkpolicies"]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "networking.k8s.io",
        "v1",
        True,
        True,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == FAMILIES
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_rule_counts() -> None:
    obj = {
        "metadata": {"name": "netpol1", "namespace": "ns1", "creationTimestamp": "2017-08-01T06:30:18Z"},
        "spec": {"ingress": [{}, {}], "egress": [{}, {}, {}]},
    }
    # KSM's case sets no Headers; our render always writes them, so they are part of the expectation
    want = """
        # HELP kube_networkpolicy_created Unix creation timestamp of network policy
        # HELP kube_networkpolicy_labels Kubernetes labels converted to Prometheus labels.
        # HELP kube_networkpolicy_spec_ingress_rules Number of ingress rules on the networkpolicy
        # HELP kube_networkpolicy_spec_egress_rules Number of egress rules on the networkpolicy
        # TYPE kube_networkpolicy_created gauge
        # TYPE kube_networkpolicy_labels gauge
        # TYPE kube_networkpolicy_spec_ingress_rules gauge
        # TYPE kube_networkpolicy_spec_egress_rules gauge
        kube_networkpolicy_created{namespace="ns1",networkpolicy="netpol1"} 1.501569018e+09
        kube_networkpolicy_spec_egress_rules{namespace="ns1",networkpolicy="netpol1"} 3
        kube_networkpolicy_spec_ingress_rules{namespace="ns1",networkpolicy="netpol1"} 2
    """
    names = [
        "kube_networkpolicy_created",
        "kube_networkpolicy_labels",
        "kube_networkpolicy_spec_egress_rules",
        "kube_networkpolicy_spec_ingress_rules",
    ]
    assert_ksm_equal(render("networkpolicies", obj), want, names)


def test_unset_creation_is_go_zero_time_and_empty_spec_counts_zero() -> None:
    got = render("networkpolicies", {"metadata": {"name": "p", "namespace": "n"}})
    assert 'kube_networkpolicy_created{namespace="n",networkpolicy="p"} -6.21355968e+10\n' in got
    assert sample_value(got, "kube_networkpolicy_spec_ingress_rules") == 0
    assert sample_value(got, "kube_networkpolicy_spec_egress_rules") == 0


def test_rules_with_content_and_allowlists() -> None:
    obj = {
        "metadata": {"name": "p", "namespace": "n", "labels": {"app": "a"}, "annotations": {"team": "t"}},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"role": "fe"}}}], "ports": [{"port": 80}]}
            ],
        },
    }
    got = render("networkpolicies", obj, labels=["app"], annotations=["team"])
    assert sample_value(got, "kube_networkpolicy_spec_ingress_rules") == 1
    assert sample_value(got, "kube_networkpolicy_spec_egress_rules") == 0
    assert label_names(got, "kube_networkpolicy_labels") == [["namespace", "networkpolicy", "label_app"]]
    assert label_names(got, "kube_networkpolicy_annotations") == [
        ["namespace", "networkpolicy", "annotation_team"]
    ]
