"""StorageClass families: every case of KSM's ``internal/store/storageclass_test.go`` (v2.20), the
family list, defaults and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

INFO_HEADER = """
    # HELP kube_storageclass_info [STABLE] Information about storageclass.
    # TYPE kube_storageclass_info gauge
"""


def test_family_names_order_and_stability() -> None:
    spec = all_resources()["storageclasses"]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == ("storage.k8s.io", "v1", False, True)
    assert [(f.name, f.stability) for f in spec.families(FamilyOptions())] == [
        ("kube_storageclass_info", "STABLE"),
        ("kube_storageclass_created", "STABLE"),
        ("kube_storageclass_annotations", "ALPHA"),
        ("kube_storageclass_labels", "STABLE"),
    ]


def test_info() -> None:
    obj = {
        "metadata": {"name": "test_storageclass-info"},
        "provisioner": "kubernetes.io/rbd",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
    want = (
        INFO_HEADER
        + """
        kube_storageclass_info{storageclass="test_storageclass-info",provisioner="kubernetes.io/rbd",reclaim_policy="Delete",volume_binding_mode="Immediate"} 1
    """
    )
    got = render("storageclasses", obj)
    assert_ksm_equal(got, want, ["kube_storageclass_info"])
    assert label_names(got, "kube_storageclass_info") == [
        ["storageclass", "provisioner", "reclaim_policy", "volume_binding_mode"]
    ]


def test_info_defaults_when_unset() -> None:
    obj = {"metadata": {"name": "test_storageclass-default-info"}, "provisioner": "kubernetes.io/rbd"}
    want = (
        INFO_HEADER
        + """
        kube_storageclass_info{storageclass="test_storageclass-default-info",provisioner="kubernetes.io/rbd",reclaim_policy="Delete",volume_binding_mode="Immediate"} 1
    """
    )
    assert_ksm_equal(render("storageclasses", obj), want, ["kube_storageclass_info"])


def test_created() -> None:
    obj = {
        "metadata": {"name": "test_kube_storageclass-created", "creationTimestamp": "2017-08-01T06:30:18Z"},
        "provisioner": "kubernetes.io/rbd",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
    want = """
        # HELP kube_storageclass_created [STABLE] Unix creation timestamp
        # TYPE kube_storageclass_created gauge
        kube_storageclass_created{storageclass="test_kube_storageclass-created"} 1.501569018e+09
    """
    assert_ksm_equal(render("storageclasses", obj), want, ["kube_storageclass_created"])


def test_labels_without_allowlist_only_header() -> None:
    obj = {
        "metadata": {"name": "test_storageclass-labels", "labels": {"foo": "bar"}},
        "provisioner": "kubernetes.io/rbd",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }
    want = """
        # HELP kube_storageclass_labels [STABLE] Kubernetes labels converted to Prometheus labels.
        # TYPE kube_storageclass_labels gauge
    """
    assert_ksm_equal(render("storageclasses", obj), want, ["kube_storageclass_labels"])


def test_explicit_values_win_and_allowlisted_labels() -> None:
    obj = {
        "metadata": {"name": "gp3", "labels": {"foo": "bar"}},
        "provisioner": "ebs.csi.aws.com",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    got = render("storageclasses", obj, labels=["foo"])
    assert (
        sample_value(
            got,
            "kube_storageclass_info",
            {"reclaim_policy": "Retain", "volume_binding_mode": "WaitForFirstConsumer"},
        )
        == 1
    )
    assert label_names(got, "kube_storageclass_labels") == [["storageclass", "label_foo"]]
