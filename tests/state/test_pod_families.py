"""Pod families: the catalogue, label order, and KSM's semantics on representative pods.

KSM's own cases are in ``test_pod_ksm_cases.py``; odd and malformed inputs in
``test_pod_odd_inputs.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

T0 = "2017-08-01T06:30:18Z"  # 1501569018

RUNNING = {
    "metadata": {
        "name": "api-1",
        "namespace": "shop",
        "uid": "u-1",
        "creationTimestamp": T0,
        "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d9f", "controller": True, "uid": "rs"}],
    },
    "spec": {
        "nodeName": "node-1",
        "restartPolicy": "Always",
        "serviceAccountName": "api",
        "schedulerName": "default-scheduler",
        "containers": [
            {
                "name": "api",
                "image": "api:v1",
                "resources": {
                    "requests": {"cpu": "250m", "memory": "128Mi", "nvidia.com/gpu": "1", "pods": "1"},
                    "limits": {"cpu": "1", "memory": "256Mi", "hugepages-2Mi": "4Mi"},
                },
            },
            {"name": "proxy", "image": "envoy:1"},
        ],
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    },
    "status": {
        "phase": "Running",
        "qosClass": "Burstable",
        "hostIP": "172.20.0.7",
        "podIP": "10.64.0.12",
        "podIPs": [{"ip": "10.64.0.12"}, {"ip": "fd00::12"}, {"ip": "not-an-ip"}],
        "startTime": T0,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
            {"type": "Ready", "status": "False", "lastTransitionTime": T0},
        ],
        "containerStatuses": [
            {
                "name": "api",
                "ready": False,
                "restartCount": 7,
                "image": "api:v1",
                "imageID": "sha256:a",
                "containerID": "containerd://1",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": T0}},
            },
            {
                "name": "proxy",
                "ready": True,
                "restartCount": 0,
                "image": "envoy:1",
                "imageID": "sha256:b",
                "containerID": "containerd://2",
                "state": {"running": {"startedAt": T0}},
            },
        ],
    },
}


POD_FAMILIES = [
    "kube_pod_completion_time",
    "kube_pod_container_info",
    "kube_pod_container_resource_limits",
    "kube_pod_container_resource_requests",
    "kube_pod_container_state_started",
    "kube_pod_container_status_last_terminated_reason",
    "kube_pod_container_status_last_terminated_exitcode",
    "kube_pod_container_status_last_terminated_timestamp",
    "kube_pod_container_status_ready",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_running",
    "kube_pod_container_status_terminated",
    "kube_pod_container_status_terminated_reason",
    "kube_pod_container_status_waiting",
    "kube_pod_container_status_waiting_reason",
    "kube_pod_created",
    "kube_pod_deletion_timestamp",
    "kube_pod_info",
    "kube_pod_ips",
    "kube_pod_init_container_info",
    "kube_pod_init_container_resource_limits",
    "kube_pod_init_container_resource_requests",
    "kube_pod_init_container_state_started",
    "kube_pod_init_container_status_last_terminated_reason",
    "kube_pod_init_container_status_last_terminated_exitcode",
    "kube_pod_init_container_status_last_terminated_timestamp",
    "kube_pod_init_container_status_ready",
    "kube_pod_init_container_status_restarts_total",
    "kube_pod_init_container_status_running",
    "kube_pod_init_container_status_terminated",
    "kube_pod_init_container_status_terminated_reason",
    "kube_pod_init_container_status_waiting",
    "kube_pod_init_container_status_waiting_reason",
    "kube_pod_annotations",
    "kube_pod_labels",
    "kube_pod_overhead_cpu_cores",
    "kube_pod_overhead_memory_bytes",
    "kube_pod_owner",
    "kube_pod_resourceclaim_info",
    "kube_pod_restart_policy",
    "kube_pod_runtimeclass_name_info",
    "kube_pod_spec_volumes_persistentvolumeclaims_info",
    "kube_pod_spec_volumes_persistentvolumeclaims_readonly",
    "kube_pod_start_time",
    "kube_pod_status_phase",
    "kube_pod_status_qos_class",
    "kube_pod_status_ready",
    "kube_pod_status_ready_time",
    "kube_pod_status_initialized_time",
    "kube_pod_status_container_ready_time",
    "kube_pod_status_reason",
    "kube_pod_status_disruption_reason",
    "kube_pod_status_scheduled",
    "kube_pod_status_scheduled_time",
    "kube_pod_status_unschedulable",
    "kube_pod_status_unscheduled_time",
    "kube_pod_tolerations",
    "kube_pod_nodeselectors",
    "kube_pod_service_account",
    "kube_pod_scheduler",
]
"""podMetricFamilies' order (KSM v2.20), which is our emission order; the same 60 as ksm.md §3."""

STABLE = {
    "kube_pod_completion_time",
    "kube_pod_container_info",
    "kube_pod_container_resource_limits",
    "kube_pod_container_resource_requests",
    "kube_pod_container_state_started",
    "kube_pod_container_status_ready",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_running",
    "kube_pod_container_status_terminated",
    "kube_pod_container_status_waiting",
    "kube_pod_container_status_waiting_reason",
    "kube_pod_created",
    "kube_pod_info",
    "kube_pod_init_container_info",
    "kube_pod_init_container_status_ready",
    "kube_pod_init_container_status_restarts_total",
    "kube_pod_init_container_status_running",
    "kube_pod_init_container_status_terminated",
    "kube_pod_init_container_status_waiting",
    "kube_pod_labels",
    "kube_pod_owner",
    "kube_pod_restart_policy",
    "kube_pod_spec_volumes_persistentvolumeclaims_info",
    "kube_pod_spec_volumes_persistentvolumeclaims_readonly",
    "kube_pod_start_time",
    "kube_pod_status_phase",
    "kube_pod_status_ready",
    "kube_pod_status_scheduled",
    "kube_pod_status_scheduled_time",
    "kube_pod_status_unschedulable",
}


def test_sixty_families_in_ksm_order_with_stability_type_and_opt_in() -> None:
    fams = all_resources()["pods"].families(FamilyOptions())
    assert [f.name for f in fams] == POD_FAMILIES
    assert {f.name for f in fams if f.stability == "STABLE"} == STABLE
    assert [f.name for f in fams if f.opt_in] == ["kube_pod_nodeselectors"]
    assert [f.name for f in fams if f.type == "counter"] == [
        "kube_pod_container_status_restarts_total",
        "kube_pod_init_container_status_restarts_total",
    ]
    assert all(f.type in ("gauge", "counter") and not f.deprecated_version for f in fams)


def test_info_owner_and_phase() -> None:
    got = render("pods", RUNNING)
    want = """
        kube_pod_info{namespace="shop",pod="api-1",uid="u-1",host_ip="172.20.0.7",pod_ip="10.64.0.12",node="node-1",created_by_kind="ReplicaSet",created_by_name="api-7d9f",priority_class="",host_network="false"} 1
        kube_pod_owner{namespace="shop",pod="api-1",uid="u-1",owner_kind="ReplicaSet",owner_name="api-7d9f",owner_is_controller="true"} 1
        kube_pod_status_phase{namespace="shop",pod="api-1",uid="u-1",phase="Pending"} 0
        kube_pod_status_phase{namespace="shop",pod="api-1",uid="u-1",phase="Succeeded"} 0
        kube_pod_status_phase{namespace="shop",pod="api-1",uid="u-1",phase="Failed"} 0
        kube_pod_status_phase{namespace="shop",pod="api-1",uid="u-1",phase="Unknown"} 0
        kube_pod_status_phase{namespace="shop",pod="api-1",uid="u-1",phase="Running"} 1
    """
    assert_ksm_equal(got, want, ["kube_pod_info{", "kube_pod_owner{", "kube_pod_status_phase{"])
    assert label_names(got, "kube_pod_info")[0][:3] == ["namespace", "pod", "uid"]


def test_container_states_restarts_and_last_termination() -> None:
    got = render("pods", RUNNING)
    c = {"container": "api"}
    assert (
        sample_value(got, "kube_pod_container_status_waiting_reason", {**c, "reason": "CrashLoopBackOff"})
        == 1
    )
    assert sample_value(got, "kube_pod_container_status_waiting", c) == 1
    assert sample_value(got, "kube_pod_container_status_running", c) == 0
    assert sample_value(got, "kube_pod_container_status_restarts_total", c) == 7
    assert (
        sample_value(got, "kube_pod_container_status_last_terminated_reason", {**c, "reason": "OOMKilled"})
        == 1
    )
    assert sample_value(got, "kube_pod_container_status_last_terminated_exitcode", c) == 137
    assert sample_value(got, "kube_pod_container_state_started", {"container": "proxy"}) == 1501569018
    # waiting containers have no waiting_reason series for the running one
    assert sample_value(got, "kube_pod_container_status_waiting_reason", {"container": "proxy"}) is None
    assert "kube_pod_completion_time{" not in got


def test_resources_units_and_skipped_names() -> None:
    got = render("pods", RUNNING)
    req = "kube_pod_container_resource_requests"
    lim = "kube_pod_container_resource_limits"
    assert sample_value(got, req, {"resource": "cpu", "unit": "core", "node": "node-1"}) == 0.25
    assert sample_value(got, req, {"resource": "memory", "unit": "byte"}) == 134217728
    assert sample_value(got, req, {"resource": "nvidia_com_gpu", "unit": "integer"}) == 1
    assert sample_value(got, req, {"resource": "pods"}) is None
    assert sample_value(got, lim, {"resource": "hugepages_2Mi", "unit": "byte"}) == 4194304
    assert label_names(got, req)[0] == ["namespace", "pod", "uid", "container", "node", "resource", "unit"]


def test_ready_condition_triplet_and_times() -> None:
    got = render("pods", RUNNING)
    assert sample_value(got, "kube_pod_status_ready", {"condition": "false"}) == 1
    assert sample_value(got, "kube_pod_status_ready", {"condition": "true"}) == 0
    assert sample_value(got, "kube_pod_status_scheduled_time") == 1501569018
    assert "kube_pod_status_ready_time{" not in got  # Ready is False


def test_ips_families_and_bad_ip_skipped() -> None:
    got = render("pods", RUNNING)
    assert sample_value(got, "kube_pod_ips", {"ip": "10.64.0.12", "ip_family": "4"}) == 1
    assert sample_value(got, "kube_pod_ips", {"ip": "fd00::12", "ip_family": "6"}) == 1
    assert "not-an-ip" not in got


def test_tolerations_deduplicated() -> None:
    got = render("pods", RUNNING)
    lines = [line for line in got.splitlines() if line.startswith("kube_pod_tolerations{")]
    assert lines == [
        'kube_pod_tolerations{namespace="shop",pod="api-1",uid="u-1",key="node.kubernetes.io/not-ready",'
        'operator="Exists",value="",effect="NoExecute",toleration_seconds="300"} 1'
    ]


def test_unschedulable_pod() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "n", "uid": "u"},
        "status": {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "lastTransitionTime": T0,
                },
            ],
        },
    }
    got = render("pods", pod)
    assert sample_value(got, "kube_pod_status_unschedulable") == 1
    assert sample_value(got, "kube_pod_status_unscheduled_time") == 1501569018
    assert sample_value(got, "kube_pod_status_scheduled", {"condition": "false"}) == 1
    assert 'node=""' in got  # kube_pod_info keeps the empty node label


def test_status_reason_only_active_and_other() -> None:
    evicted = {"metadata": {"name": "p", "uid": "u"}, "status": {"phase": "Failed", "reason": "Evicted"}}
    got = render("pods", evicted)
    assert [line for line in got.splitlines() if line.startswith("kube_pod_status_reason{")] == [
        'kube_pod_status_reason{namespace="",pod="p",uid="u",reason="Evicted"} 1'
    ]
    odd = {"metadata": {"name": "p", "uid": "u"}, "status": {"reason": "SomethingNew"}}
    assert sample_value(render("pods", odd), "kube_pod_status_reason", {"reason": "Other"}) == 1


def test_empty_pod_has_no_phase_no_qos_and_empty_owner() -> None:
    got = render("pods", {"metadata": {"name": "p", "uid": "u"}})
    assert "kube_pod_status_phase{" not in got
    assert "kube_pod_status_qos_class{" not in got
    assert (
        sample_value(got, "kube_pod_owner", {"owner_kind": "", "owner_name": "", "owner_is_controller": ""})
        == 1
    )


def test_running_container_without_started_at_reports_go_zero_time() -> None:
    pod = {
        "metadata": {"name": "p", "uid": "u"},
        "status": {"containerStatuses": [{"name": "c", "state": {"running": {}}}]},
    }
    assert sample_value(render("pods", pod), "kube_pod_container_state_started") == -62135596800


def test_init_container_restart_policy_and_invalid_quantity() -> None:
    pod = {
        "metadata": {"name": "p", "uid": "u"},
        "spec": {
            "initContainers": [
                {
                    "name": "vault",
                    "image": "vault:1",
                    "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "not-a-quantity", "memory": "64Mi"}},
                },
            ]
        },
        "status": {
            "initContainerStatuses": [
                {"name": "vault", "image": "vault:1", "state": {"running": {"startedAt": T0}}}
            ]
        },
    }
    got = render("pods", pod)
    assert sample_value(got, "kube_pod_init_container_info", {"restart_policy": "Always"}) == 1
    assert sample_value(got, "kube_pod_init_container_resource_requests", {"resource": "cpu"}) is None
    assert sample_value(got, "kube_pod_init_container_resource_requests", {"resource": "memory"}) == 67108864


def test_nodeselectors_keys_collide_after_sanitizing() -> None:
    pod = {
        "metadata": {"name": "p", "uid": "u"},
        "spec": {"nodeSelector": {"a-b": "1", "a_b": "2", "a.b": "3"}},
    }
    got = render("pods", pod)
    line = next(x for x in got.splitlines() if x.startswith("kube_pod_nodeselectors{"))
    # keys sorted bytewise: "a-b" < "a.b" < "a_b"
    assert (
        'nodeselector_a_b_conflict1="1",nodeselector_a_b_conflict2="3",nodeselector_a_b_conflict3="2"' in line
    )


def _status(
    name: str, state: Mapping[str, object], last: Mapping[str, object] | None = None
) -> dict[str, object]:
    s: dict[str, object] = {
        "name": name,
        "image": f"{name}:v1",
        "imageID": f"sha256:{name}",
        "containerID": f"containerd://{name}",
        "restartCount": 1,
        "state": state,
    }
    if last is not None:
        s["lastState"] = last
    return s


RUN = {"running": {"startedAt": T0}}
WAIT = {"waiting": {"reason": "CrashLoopBackOff"}}
DONE = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": T0, "finishedAt": T0}}
OOM = {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": T0}}
RES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}}

EVERY_FAMILY_POD = {
    "metadata": {
        "name": "rich",
        "namespace": "ns",
        "uid": "u-rich",
        "creationTimestamp": T0,
        "deletionTimestamp": T0,
        "labels": {"app": "web"},
        "annotations": {"team": "a"},
        "ownerReferences": [{"kind": "Job", "name": "j", "uid": "j1", "controller": True}],
    },
    "spec": {
        "nodeName": "n1",
        "restartPolicy": "Never",
        "runtimeClassName": "kata",
        "serviceAccountName": "sa",
        "schedulerName": "s",
        "priorityClassName": "high",
        "nodeSelector": {"disktype": "ssd"},
        "overhead": {"cpu": "250m", "memory": "120Mi"},
        "containers": [{"name": n, "image": f"{n}:v1", "resources": RES} for n in ("c1", "c2", "c3")],
        "initContainers": [
            {"name": n, "image": f"{n}:v1", "restartPolicy": "Always", "resources": RES}
            for n in ("i1", "i2", "i3")
        ],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}],
        "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}],
        "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu-claim"}],
    },
    "status": {
        "phase": "Failed",
        "reason": "Evicted",
        "qosClass": "Burstable",
        "hostIP": "10.0.0.1",
        "podIP": "10.1.0.1",
        "podIPs": [{"ip": "10.1.0.1"}],
        "startTime": T0,
        "conditions": [
            {"type": t, "status": "True", "lastTransitionTime": T0}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ]
        + [
            {"type": "PodScheduled", "status": "False", "lastTransitionTime": T0},
            {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"},
        ],
        "containerStatuses": [_status("c1", RUN, OOM), _status("c2", WAIT), _status("c3", DONE)],
        "initContainerStatuses": [_status("i1", DONE, OOM), _status("i2", WAIT), _status("i3", RUN)],
    },
}

C_INFO = ["container", "image_spec", "image", "image_id", "container_id"]
C_RES = ["container", "node", "resource", "unit"]
C = ["container"]
C_REASON = ["container", "reason"]
CONTAINER_LABELS = {
    "info": C_INFO,
    "resource_limits": C_RES,
    "resource_requests": C_RES,
    "state_started": C,
    "status_last_terminated_reason": C_REASON,
    "status_last_terminated_exitcode": C,
    "status_last_terminated_timestamp": C,
    "status_ready": C,
    "status_restarts_total": C,
    "status_running": C,
    "status_terminated": C,
    "status_terminated_reason": C_REASON,
    "status_waiting": C,
    "status_waiting_reason": C_REASON,
}
EXTRA_LABELS = {
    **{f"kube_pod_container_{k}": v for k, v in CONTAINER_LABELS.items()},
    **{f"kube_pod_init_container_{k}": v for k, v in CONTAINER_LABELS.items()},
    "kube_pod_init_container_info": [*C_INFO, "restart_policy"],
    "kube_pod_info": [
        "host_ip",
        "pod_ip",
        "node",
        "created_by_kind",
        "created_by_name",
        "priority_class",
        "host_network",
    ],
    "kube_pod_ips": ["ip", "ip_family"],
    "kube_pod_annotations": ["annotation_team"],
    "kube_pod_labels": ["label_app"],
    "kube_pod_owner": ["owner_kind", "owner_name", "owner_is_controller"],
    "kube_pod_resourceclaim_info": ["claim_name", "resourceclaim_name", "resourceclaim_template_name"],
    "kube_pod_restart_policy": ["type"],
    "kube_pod_runtimeclass_name_info": ["runtimeclass_name"],
    "kube_pod_spec_volumes_persistentvolumeclaims_info": ["volume", "persistentvolumeclaim", "ephemeral"],
    "kube_pod_spec_volumes_persistentvolumeclaims_readonly": ["volume", "persistentvolumeclaim", "ephemeral"],
    "kube_pod_status_phase": ["phase"],
    "kube_pod_status_qos_class": ["qos_class"],
    "kube_pod_status_ready": ["condition"],
    "kube_pod_status_reason": ["reason"],
    "kube_pod_status_disruption_reason": ["reason"],
    "kube_pod_status_scheduled": ["condition"],
    "kube_pod_tolerations": ["key", "operator", "value", "effect", "toleration_seconds"],
    "kube_pod_nodeselectors": ["nodeselector_disktype"],
    "kube_pod_service_account": ["service_account"],
    "kube_pod_scheduler": ["name"],
}


def test_every_family_emits_identity_first_then_ksm_label_order() -> None:
    got = render("pods", EVERY_FAMILY_POD, labels=["app"], annotations=["team"])
    for name in POD_FAMILIES:
        names = label_names(got, name)
        assert names, f"{name} emitted no series"
        want = ["namespace", "pod", "uid", *EXTRA_LABELS.get(name, [])]
        assert all(n == want for n in names), (name, names)


def test_every_family_sample_of_the_rich_pod() -> None:
    got = render("pods", EVERY_FAMILY_POD, labels=["app"], annotations=["team"])
    c1 = {"container": "c1"}
    assert sample_value(got, "kube_pod_completion_time") == 1501569018
    assert sample_value(got, "kube_pod_deletion_timestamp") == 1501569018
    assert sample_value(got, "kube_pod_overhead_cpu_cores") == 0.25
    assert sample_value(got, "kube_pod_overhead_memory_bytes") == 125829120
    assert sample_value(got, "kube_pod_container_status_restarts_total", c1) == 1
    assert sample_value(got, "kube_pod_init_container_status_waiting_reason", {"container": "i2"}) == 1
    assert sample_value(got, "kube_pod_init_container_status_terminated_reason", {"reason": "Completed"}) == 1
    assert (
        sample_value(got, "kube_pod_init_container_info", {"container": "i3", "restart_policy": "Always"})
        == 1
    )
    assert sample_value(got, "kube_pod_status_unschedulable") == 1
    assert sample_value(got, "kube_pod_status_scheduled_time") == 1501569018
    assert sample_value(got, "kube_pod_status_unscheduled_time") == 1501569018
    assert sample_value(got, "kube_pod_status_disruption_reason", {"reason": "EvictionByEvictionAPI"}) == 1
    assert sample_value(got, "kube_pod_info", {"created_by_kind": "Job", "priority_class": "high"}) == 1
    assert sample_value(got, "kube_pod_labels", {"label_app": "web"}) == 1
    # two PodScheduled conditions: one triplet each, as KSM does
    assert len(label_names(got, "kube_pod_status_scheduled")) == 6
