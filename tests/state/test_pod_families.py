"""Pod families: KSM's semantics on representative pods, label order, and odd inputs.

The full set of KSM's own pod_test.go cases is checked during development with a converter of their
Go fixtures; these tests pin the behaviours in our own words.
"""

from __future__ import annotations

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


def test_sixty_families_in_ksm_order_nodeselectors_opt_in() -> None:
    fams = all_resources()["pods"].families(FamilyOptions())
    assert len(fams) == 60
    assert fams[0].name == "kube_pod_completion_time" and fams[-1].name == "kube_pod_scheduler"
    assert [f.name for f in fams if f.opt_in] == ["kube_pod_nodeselectors"]
    assert [f.name for f in fams if f.type == "counter"] == [
        "kube_pod_container_status_restarts_total",
        "kube_pod_init_container_status_restarts_total",
    ]


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
