"""Lease families: every case of KSM's ``internal/store/lease_test.go`` (v2.20), the family list and
the label layout (identity is only ``lease``; ``namespace`` comes after the owner labels)."""

from __future__ import annotations

from typing import Any

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

HEADERS = """
    # HELP kube_lease_owner Information about the Lease's owner.
    # TYPE kube_lease_owner gauge
    # HELP kube_lease_renew_time Kube lease renew time.
    # TYPE kube_lease_renew_time gauge
"""
NAMES = ["kube_lease_owner", "kube_lease_renew_time"]


def test_family_names_order_and_stability() -> None:
    spec = all_resources()["leases"]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "coordination.k8s.io",
        "v1",
        True,
        True,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == NAMES
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def _lease(holder: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"renewTime": "2017-07-14T02:40:00.000000Z"}
    if holder is not None:
        spec["holderIdentity"] = holder
    return {
        "metadata": {
            "generation": 2,
            "name": "kube-master",
            "namespace": "default",
            "creationTimestamp": "2017-07-14T02:40:00Z",
            "ownerReferences": [{"kind": "Node", "name": "kube-master"}],
        },
        "spec": spec,
    }


def test_owner_with_holder() -> None:
    want = (
        HEADERS
        + """
        kube_lease_owner{lease="kube-master",owner_kind="Node",owner_name="kube-master",namespace="default",lease_holder="kube-master"} 1
        kube_lease_renew_time{lease="kube-master",namespace="default"} 1.5e+09
    """
    )
    got = render("leases", _lease("kube-master"))
    assert_ksm_equal(got, want, NAMES)
    assert label_names(got, "kube_lease_owner") == [
        ["lease", "owner_kind", "owner_name", "namespace", "lease_holder"]
    ]
    assert label_names(got, "kube_lease_renew_time") == [["lease", "namespace"]]


def test_owner_without_holder() -> None:
    want = (
        HEADERS
        + """
        kube_lease_owner{lease="kube-master",owner_kind="Node",owner_name="kube-master",namespace="default",lease_holder=""} 1
        kube_lease_renew_time{lease="kube-master",namespace="default"} 1.5e+09
    """
    )
    assert_ksm_equal(render("leases", _lease(None)), want, NAMES)


def test_no_owner_and_no_renew_time() -> None:
    obj = {
        "metadata": {"name": "ctrl", "namespace": "kube-system"},
        "spec": {"holderIdentity": "ctrl-7f9_a1b2"},
    }
    got = render("leases", obj)
    assert (
        'kube_lease_owner{lease="ctrl",owner_kind="",owner_name="",namespace="kube-system",lease_holder="ctrl-7f9_a1b2"} 1\n'
        in got
    )
    assert sample_value(got, "kube_lease_renew_time") is None


def test_micro_time_is_truncated_and_owners_repeat_holder() -> None:
    obj = {
        "metadata": {
            "name": "n1",
            "namespace": "kube-node-lease",
            "ownerReferences": [{"kind": "Node", "name": "n1"}, {"kind": "Other", "name": "o"}],
        },
        "spec": {"holderIdentity": "n1", "renewTime": "2024-05-01T10:00:00.999999Z"},
    }
    got = render("leases", obj)
    assert sample_value(got, "kube_lease_renew_time") == 1714557600
    assert sample_value(got, "kube_lease_owner", {"owner_kind": "Other", "lease_holder": "n1"}) == 1
    assert len(label_names(got, "kube_lease_owner")) == 2
