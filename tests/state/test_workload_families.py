"""Deployment, ReplicaSet, StatefulSet, DaemonSet and ReplicationController families."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import label_names, render, sample_value


def test_deployment_rolling_update_scaled_and_rounded() -> None:
    d = {
        "metadata": {"name": "api", "namespace": "shop", "generation": 4},
        "spec": {"replicas": 5, "strategy": {"rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}},
        "status": {"replicas": 5, "observedGeneration": 4},
    }
    got = render("deployments", d)
    assert (
        sample_value(got, "kube_deployment_spec_strategy_rollingupdate_max_unavailable") == 1
    )  # floor(1.25)
    assert sample_value(got, "kube_deployment_spec_strategy_rollingupdate_max_surge") == 2  # ceil(1.25)
    assert sample_value(got, "kube_deployment_metadata_generation") == 4


def test_deployment_malformed_percent_and_missing_replicas_give_no_series() -> None:
    bad = {
        "metadata": {"name": "a"},
        "spec": {"replicas": 3, "strategy": {"rollingUpdate": {"maxSurge": "abc%"}}},
    }
    got = render("deployments", bad)
    assert "kube_deployment_spec_strategy_rollingupdate_max_surge{" not in got
    assert "kube_deployment_spec_replicas{" in got
    none = render("deployments", {"metadata": {"name": "b"}})
    assert "kube_deployment_spec_replicas{" not in none
    assert "kube_deployment_spec_strategy_rollingupdate_max_unavailable{" not in none


def test_deployment_condition_reason_outside_allowed_set_is_unknown() -> None:
    d = {
        "metadata": {"name": "a", "namespace": "n"},
        "status": {
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "False", "reason": "SomethingCustom"},
            ]
        },
    }
    got = render("deployments", d)
    assert (
        sample_value(
            got,
            "kube_deployment_status_condition",
            {"reason": "unknown", "condition": "Progressing", "status": "false"},
        )
        == 1
    )
    assert label_names(got, "kube_deployment_status_condition")[0] == [
        "namespace",
        "deployment",
        "reason",
        "condition",
        "status",
    ]
    # owner has no owner_is_controller label for deployments
    assert label_names(got, "kube_deployment_owner") == [
        ["namespace", "deployment", "owner_kind", "owner_name"]
    ]


def test_statefulset_retention_policy_and_revisions() -> None:
    s = {
        "metadata": {"name": "db", "namespace": "n"},
        "spec": {
            "replicas": 3,
            "ordinals": {"start": 2},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"},
        },
        "status": {"currentRevision": "db-1", "updateRevision": "db-2"},
    }
    got = render("statefulsets", s)
    assert (
        sample_value(
            got,
            "kube_statefulset_persistentvolumeclaim_retention_policy",
            {"when_deleted": "Retain", "when_scaled": "Delete"},
        )
        == 1
    )
    assert sample_value(got, "kube_statefulset_ordinals_start") == 2
    assert sample_value(got, "kube_statefulset_status_update_revision", {"revision": "db-2"}) == 1
    plain = render("statefulsets", {"metadata": {"name": "x"}})
    assert "kube_statefulset_persistentvolumeclaim_retention_policy{" not in plain
    assert "kube_statefulset_ordinals_start{" not in plain


def test_statefulset_annotations_are_stable_unlike_other_resources() -> None:
    sts = {f.name: f for f in all_resources()["statefulsets"].families(FamilyOptions())}
    dep = {f.name: f for f in all_resources()["deployments"].families(FamilyOptions())}
    assert sts["kube_statefulset_annotations"].stability == "STABLE"
    assert dep["kube_deployment_annotations"].stability == "ALPHA"


def test_daemonset_and_replicaset_counts() -> None:
    ds = {
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "status": {"desiredNumberScheduled": 20, "numberReady": 19, "numberUnavailable": 1},
    }
    got = render("daemonsets", ds)
    assert sample_value(got, "kube_daemonset_status_desired_number_scheduled") == 20
    assert sample_value(got, "kube_daemonset_status_number_unavailable") == 1
    rs = {
        "metadata": {
            "name": "api-1",
            "namespace": "n",
            "ownerReferences": [{"kind": "Deployment", "name": "api", "controller": True}],
        },
        "status": {"terminatingReplicas": 2},
    }
    got = render("replicasets", rs)
    assert (
        sample_value(
            got,
            "kube_replicaset_owner",
            {"owner_kind": "Deployment", "owner_name": "api", "owner_is_controller": "true"},
        )
        == 1
    )
    assert sample_value(got, "kube_replicaset_status_terminating_replicas") == 2
    rc = render("replicationcontrollers", {"metadata": {"name": "legacy"}, "spec": {"replicas": 0}})
    assert sample_value(rc, "kube_replicationcontroller_spec_replicas") == 0
