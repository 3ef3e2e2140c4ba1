"""ClusterRoleBinding families: every case of KSM's ``internal/store/clusterrolebinding_test.go`` (v2.20), the family
list and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render

RES = "clusterrolebindings"
P = "kube_clusterrolebinding"


def test_family_names_order_and_not_default() -> None:
    spec = all_resources()[RES]
    assert (spec.group, spec.version, spec.kind, spec.namespaced, spec.default) == (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        False,
        False,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [
        f"{P}_annotations",
        f"{P}_labels",
        f"{P}_info",
        f"{P}_created",
        f"{P}_metadata_resource_version",
    ]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_allowlisted_labels_and_annotations() -> None:
    obj = {
        "metadata": {
            "name": "clusterrolebinding1",
            "resourceVersion": "BBBBB",
            "annotations": {"app": "mysql-server", "app.k8s.io/owner": "@foo"},
            "labels": {"excluded": "me", "app": "mysql-server"},
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role"},
    }
    want = """
        # HELP kube_clusterrolebinding_annotations Kubernetes annotations converted to Prometheus labels.
        # HELP kube_clusterrolebinding_labels Kubernetes labels converted to Prometheus labels.
        # HELP kube_clusterrolebinding_info Information about clusterrolebinding.
        # HELP kube_clusterrolebinding_metadata_resource_version Resource version representing a specific version of the clusterrolebinding.
        # TYPE kube_clusterrolebinding_annotations gauge
        # TYPE kube_clusterrolebinding_labels gauge
        # TYPE kube_clusterrolebinding_info gauge
        # TYPE kube_clusterrolebinding_metadata_resource_version gauge
        kube_clusterrolebinding_annotations{annotation_app_k8s_io_owner="@foo",clusterrolebinding="clusterrolebinding1"} 1
        kube_clusterrolebinding_labels{clusterrolebinding="clusterrolebinding1",label_app="mysql-server"} 1
        kube_clusterrolebinding_info{clusterrolebinding="clusterrolebinding1",roleref_kind="Role",roleref_name="role"} 1
    """
    got = render(RES, obj, labels=["app"], annotations=["app.k8s.io/owner"])
    assert_ksm_equal(
        got, want, [f"{P}_annotations", f"{P}_labels", f"{P}_info", f"{P}_metadata_resource_version"]
    )
    assert label_names(got, f"{P}_labels") == [["clusterrolebinding", "label_app"]]
    assert label_names(got, f"{P}_annotations") == [["clusterrolebinding", "annotation_app_k8s_io_owner"]]
    assert label_names(got, f"{P}_info") == [["clusterrolebinding", "roleref_kind", "roleref_name"]]


def test_created_and_resource_version() -> None:
    obj = {
        "metadata": {
            "name": "clusterrolebinding2",
            "creationTimestamp": "2017-08-01T06:30:18Z",
            "resourceVersion": "10596",
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role"},
    }
    want = """
        # HELP kube_clusterrolebinding_created Unix creation timestamp
        # HELP kube_clusterrolebinding_info Information about clusterrolebinding.
        # HELP kube_clusterrolebinding_metadata_resource_version Resource version representing a specific version of the clusterrolebinding.
        # TYPE kube_clusterrolebinding_created gauge
        # TYPE kube_clusterrolebinding_info gauge
        # TYPE kube_clusterrolebinding_metadata_resource_version gauge
        kube_clusterrolebinding_info{clusterrolebinding="clusterrolebinding2",roleref_kind="Role",roleref_name="role"} 1
        kube_clusterrolebinding_created{clusterrolebinding="clusterrolebinding2"} 1.501569018e+09
        kube_clusterrolebinding_metadata_resource_version{clusterrolebinding="clusterrolebinding2"} 10596
    """
    assert_ksm_equal(render(RES, obj), want, [f"{P}_info", f"{P}_created", f"{P}_metadata_resource_version"])


def test_missing_role_ref_is_empty_labels() -> None:
    got = render(RES, {"metadata": {"name": "b"}})
    assert f'{P}_info{{clusterrolebinding="b",roleref_kind="",roleref_name=""}} 1\n' in got
