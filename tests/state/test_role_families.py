"""Role families: every case of KSM's ``internal/store/role_test.go`` (v2.20), the family
list and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render

RES = "roles"
P = "kube_role"


def test_family_names_order_and_not_default() -> None:
    spec = all_resources()[RES]
    assert (spec.group, spec.version, spec.kind, spec.namespaced, spec.default) == (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        True,
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
            "name": "role1",
            "namespace": "ns1",
            "resourceVersion": "BBBBB",
            "annotations": {"app": "mysql-server", "app.k8s.io/owner": "@foo"},
            "labels": {"excluded": "me", "app": "mysql-server"},
        },
    }
    want = """
        # HELP kube_role_annotations Kubernetes annotations converted to Prometheus labels.
        # HELP kube_role_labels Kubernetes labels converted to Prometheus labels.
        # HELP kube_role_info Information about role.
        # HELP kube_role_metadata_resource_version Resource version representing a specific version of the role.
        # TYPE kube_role_annotations gauge
        # TYPE kube_role_labels gauge
        # TYPE kube_role_info gauge
        # TYPE kube_role_metadata_resource_version gauge
        kube_role_annotations{annotation_app_k8s_io_owner="@foo",namespace="ns1",role="role1"} 1
        kube_role_labels{namespace="ns1",role="role1",label_app="mysql-server"} 1
        kube_role_info{namespace="ns1",role="role1"} 1
    """
    got = render(RES, obj, labels=["app"], annotations=["app.k8s.io/owner"])
    assert_ksm_equal(
        got, want, [f"{P}_annotations", f"{P}_labels", f"{P}_info", f"{P}_metadata_resource_version"]
    )
    assert label_names(got, f"{P}_labels") == [["namespace", "role", "label_app"]]
    assert label_names(got, f"{P}_annotations") == [["namespace", "role", "annotation_app_k8s_io_owner"]]
    assert label_names(got, f"{P}_info") == [["namespace", "role"]]


def test_created_and_resource_version() -> None:
    obj = {
        "metadata": {
            "name": "role2",
            "namespace": "ns2",
            "creationTimestamp": "2017-08-01T06:30:18Z",
            "resourceVersion": "10596",
        },
    }
    want = """
        # HELP kube_role_created Unix creation timestamp
        # HELP kube_role_info Information about role.
        # HELP kube_role_metadata_resource_version Resource version representing a specific version of the role.
        # TYPE kube_role_created gauge
        # TYPE kube_role_info gauge
        # TYPE kube_role_metadata_resource_version gauge
        kube_role_info{namespace="ns2",role="role2"} 1
        kube_role_created{namespace="ns2",role="role2"} 1.501569018e+09
        kube_role_metadata_resource_version{namespace="ns2",role="role2"} 10596
    """
    assert_ksm_equal(render(RES, obj), want, [f"{P}_info", f"{P}_created", f"{P}_metadata_resource_version"])


def test_rules_are_not_read() -> None:
    obj = {
        "metadata": {"name": "r", "namespace": "n"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    got = render(RES, obj)
    assert f'{P}_info{{namespace="n",role="r"}} 1\n' in got
