"""Secret families: every case of KSM's ``internal/store/secret_test.go`` (v2.20), the family list,
label order, and that secret data is neither decoded nor exported."""

from __future__ import annotations

import base64

import msgspec

from kubescope.state.families.secret import Secret
from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render

START = "2017-08-01T06:30:18Z"  # 1501569018

NAMES = [
    "kube_secret_info",
    "kube_secret_metadata_resource_version",
    "kube_secret_created",
    "kube_secret_labels",
    "kube_secret_type",
    "kube_secret_owner",
]
HEADERS = """
    # HELP kube_secret_created [STABLE] Unix creation timestamp
    # HELP kube_secret_info [STABLE] Information about secret.
    # HELP kube_secret_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # HELP kube_secret_metadata_resource_version Resource version representing a specific version of secret.
    # HELP kube_secret_owner Information about the Secret's owner.
    # HELP kube_secret_type [STABLE] Type about secret.
    # TYPE kube_secret_created gauge
    # TYPE kube_secret_info gauge
    # TYPE kube_secret_labels gauge
    # TYPE kube_secret_metadata_resource_version gauge
    # TYPE kube_secret_owner gauge
    # TYPE kube_secret_type gauge
"""


def test_family_names_order_and_stability() -> None:
    fams = all_resources()["secrets"].families(FamilyOptions())
    assert [(f.name, f.stability) for f in fams] == [
        ("kube_secret_info", "STABLE"),
        ("kube_secret_type", "STABLE"),
        ("kube_secret_annotations", "ALPHA"),
        ("kube_secret_labels", "STABLE"),
        ("kube_secret_created", "STABLE"),
        ("kube_secret_metadata_resource_version", "ALPHA"),
        ("kube_secret_owner", "ALPHA"),
    ]
    assert all(f.type == "gauge" for f in fams)


def test_opaque_without_owner_and_zero_resource_version() -> None:
    obj = {"metadata": {"name": "secret1", "namespace": "ns1", "resourceVersion": "000000"}, "type": "Opaque"}
    want = (
        HEADERS
        + """
        kube_secret_info{namespace="ns1",secret="secret1"} 1
        kube_secret_owner{namespace="ns1",owner_is_controller="",owner_kind="",owner_name="",secret="secret1"} 1
        kube_secret_type{namespace="ns1",secret="secret1",type="Opaque"} 1
        kube_secret_metadata_resource_version{namespace="ns1",secret="secret1"} 0
    """
    )
    assert_ksm_equal(render("secrets", obj), want, NAMES)


def test_non_numeric_resource_version_has_no_series() -> None:
    obj = {
        "metadata": {
            "name": "secret2",
            "namespace": "ns2",
            "creationTimestamp": START,
            "resourceVersion": "123456B",
        },
        "type": "kubernetes.io/service-account-token",
    }
    want = (
        HEADERS
        + """
        kube_secret_info{namespace="ns2",secret="secret2"} 1
        kube_secret_owner{namespace="ns2",owner_is_controller="",owner_kind="",owner_name="",secret="secret2"} 1
        kube_secret_type{namespace="ns2",secret="secret2",type="kubernetes.io/service-account-token"} 1
        kube_secret_created{namespace="ns2",secret="secret2"} 1.501569018e+09
    """
    )
    assert_ksm_equal(render("secrets", obj), want, NAMES)


def test_labels_not_allowlisted_are_not_exported() -> None:
    obj = {
        "metadata": {
            "name": "secret3",
            "namespace": "ns3",
            "creationTimestamp": START,
            "labels": {"test-3": "test-3"},
            "resourceVersion": "0",
        },
        "type": "kubernetes.io/dockercfg",
    }
    want = (
        HEADERS
        + """
        kube_secret_info{namespace="ns3",secret="secret3"} 1
        kube_secret_owner{namespace="ns3",owner_is_controller="",owner_kind="",owner_name="",secret="secret3"} 1
        kube_secret_type{namespace="ns3",secret="secret3",type="kubernetes.io/dockercfg"} 1
        kube_secret_created{namespace="ns3",secret="secret3"} 1.501569018e+09
        kube_secret_metadata_resource_version{namespace="ns3",secret="secret3"} 0
    """
    )
    assert_ksm_equal(render("secrets", obj), want, NAMES)


def test_controller_owner() -> None:
    obj = {
        "metadata": {
            "name": "secret4",
            "namespace": "ns4",
            "creationTimestamp": START,
            "labels": {"test-4": "test-4"},
            "resourceVersion": "0",
            "ownerReferences": [{"name": "managed-secret4", "kind": "ManagedSecret", "controller": True}],
        },
        "type": "Opaque",
    }
    want = (
        HEADERS
        + """
        kube_secret_info{namespace="ns4",secret="secret4"} 1
        kube_secret_owner{namespace="ns4",owner_is_controller="true",owner_kind="ManagedSecret",owner_name="managed-secret4",secret="secret4"} 1
        kube_secret_type{namespace="ns4",secret="secret4",type="Opaque"} 1
        kube_secret_created{namespace="ns4",secret="secret4"} 1.501569018e+09
        kube_secret_metadata_resource_version{namespace="ns4",secret="secret4"} 0
    """
    )
    assert_ksm_equal(render("secrets", obj), want, NAMES)


def test_owner_without_controller_flag_is_false_and_label_order() -> None:
    obj = {
        "metadata": {
            "name": "s",
            "namespace": "n",
            "ownerReferences": [{"name": "a", "kind": "A"}, {"name": "b", "kind": "B", "controller": False}],
            "labels": {"app": "x"},
        },
    }
    got = render("secrets", obj, labels=["app"])
    assert (
        'kube_secret_owner{namespace="n",secret="s",owner_kind="A",owner_name="a",owner_is_controller="false"} 1\n'
        in got
    )
    assert (
        'kube_secret_owner{namespace="n",secret="s",owner_kind="B",owner_name="b",owner_is_controller="false"} 1\n'
        in got
    )
    # a secret without a type (the API defaults it to Opaque) keeps an empty label
    assert 'kube_secret_type{namespace="n",secret="s",type=""} 1\n' in got
    assert label_names(got, "kube_secret_labels") == [["namespace", "secret", "label_app"]]


def test_data_is_never_decoded_nor_exported() -> None:
    assert set(Secret.__struct_fields__) == {"metadata", "type"}
    big = base64.b64encode(b"s3cr3t-value " * 80_000).decode()  # ~1.4 MB, as large as etcd allows
    obj = {
        "metadata": {"name": "big", "namespace": "n", "annotations": {"a": "b"}},
        "type": "Opaque",
        "data": {"password": big, "token": base64.b64encode(b"tok").decode()},
        "stringData": {"plain": "s3cr3t-value"},
    }
    raw = msgspec.json.encode(obj)
    decoded = msgspec.json.decode(raw, type=Secret)
    assert decoded.metadata.name == "big"
    got = render("secrets", obj, labels=["*"], annotations=["*"])
    assert "s3cr3t" not in got and big[:32] not in got and "dG9r" not in got
    assert 'kube_secret_annotations{namespace="n",secret="big",annotation_a="b"} 1\n' in got
