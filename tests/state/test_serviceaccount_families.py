"""ServiceAccount families: KSM's ``internal/store/serviceaccount_test.go`` (v2.20), the family list,
label order and the automount tri-state."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

NAMES = [
    "kube_serviceaccount_info",
    "kube_serviceaccount_created",
    "kube_serviceaccount_deleted",
    "kube_serviceaccount_secret",
    "kube_serviceaccount_image_pull_secret",
]


def test_family_names_order_and_not_default() -> None:
    spec = all_resources()["serviceaccounts"]
    assert not spec.default
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [
        "kube_serviceaccount_info",
        "kube_serviceaccount_created",
        "kube_serviceaccount_deleted",
        "kube_serviceaccount_secret",
        "kube_serviceaccount_image_pull_secret",
        "kube_serviceaccount_annotations",
        "kube_serviceaccount_labels",
    ]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_ksm_case() -> None:
    obj = {
        "metadata": {
            "name": "serviceAccountName",
            "creationTimestamp": "2017-07-14T02:40:00Z",
            "deletionTimestamp": "2065-01-24T05:20:00Z",
            "namespace": "serviceAccountNS",
            "uid": "serviceAccountUID",
        },
        "automountServiceAccountToken": True,
        "secrets": [
            {"apiVersion": "v1", "kind": "Secret", "name": "secretName", "namespace": "serviceAccountNS"}
        ],
        "imagePullSecrets": [{"name": "imagePullSecretName"}],
    }
    want = """
        # HELP kube_serviceaccount_info Information about a service account
        # HELP kube_serviceaccount_created Unix creation timestamp
        # HELP kube_serviceaccount_deleted Unix deletion timestamp
        # HELP kube_serviceaccount_secret Secret being referenced by a service account
        # HELP kube_serviceaccount_image_pull_secret Secret being referenced by a service account for the purpose of pulling images
        # TYPE kube_serviceaccount_info gauge
        # TYPE kube_serviceaccount_created gauge
        # TYPE kube_serviceaccount_deleted gauge
        # TYPE kube_serviceaccount_secret gauge
        # TYPE kube_serviceaccount_image_pull_secret gauge
        kube_serviceaccount_info{namespace="serviceAccountNS",serviceaccount="serviceAccountName",uid="serviceAccountUID",automount_token="true"} 1
        kube_serviceaccount_created{namespace="serviceAccountNS",serviceaccount="serviceAccountName",uid="serviceAccountUID"} 1.5e+09
        kube_serviceaccount_deleted{namespace="serviceAccountNS",serviceaccount="serviceAccountName",uid="serviceAccountUID"} 3e+09
        kube_serviceaccount_secret{namespace="serviceAccountNS",serviceaccount="serviceAccountName",uid="serviceAccountUID",name="secretName"} 1
        kube_serviceaccount_image_pull_secret{namespace="serviceAccountNS",serviceaccount="serviceAccountName",uid="serviceAccountUID",name="imagePullSecretName"} 1
    """
    got = render("serviceaccounts", obj)
    assert_ksm_equal(got, want, NAMES)
    assert label_names(got, "kube_serviceaccount_info") == [
        ["namespace", "serviceaccount", "uid", "automount_token"]
    ]
    assert label_names(got, "kube_serviceaccount_secret") == [["namespace", "serviceaccount", "uid", "name"]]


def test_automount_unset_false_and_no_optional_series() -> None:
    unset = render("serviceaccounts", {"metadata": {"name": "a", "namespace": "n", "uid": "u"}})
    assert (
        'kube_serviceaccount_info{namespace="n",serviceaccount="a",uid="u",automount_token=""} 1\n' in unset
    )
    for fam in ("created", "deleted", "secret", "image_pull_secret", "labels", "annotations"):
        assert sample_value(unset, f"kube_serviceaccount_{fam}") is None
    off = render(
        "serviceaccounts",
        {"metadata": {"name": "a", "namespace": "n", "uid": "u"}, "automountServiceAccountToken": False},
    )
    assert sample_value(off, "kube_serviceaccount_info", {"automount_token": "false"}) == 1


def test_several_secrets_and_allowlists() -> None:
    obj = {
        "metadata": {
            "name": "a",
            "namespace": "n",
            "uid": "u",
            "labels": {"team": "x"},
            "annotations": {"o": "p"},
        },
        "secrets": [{"name": "s1"}, {"name": "s2"}],
        "imagePullSecrets": [{"name": "r1"}, {"name": "r2"}],
    }
    got = render("serviceaccounts", obj, labels=["team"], annotations=["o"])
    assert sample_value(got, "kube_serviceaccount_secret", {"name": "s2"}) == 1
    assert sample_value(got, "kube_serviceaccount_image_pull_secret", {"name": "r1"}) == 1
    assert label_names(got, "kube_serviceaccount_labels") == [
        ["namespace", "serviceaccount", "uid", "label_team"]
    ]
    assert sample_value(got, "kube_serviceaccount_annotations", {"annotation_o": "p"}) == 1
