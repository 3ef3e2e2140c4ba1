"""Every case of kube-state-metrics' ``internal/store/pod_test.go`` (v2.20), as JSON-like pods.

``POD_STORE_CASES`` is ``TestPodStore``'s table in its order: the object as the API would send
it, the expected exposition and the same metric-name filter, compared as KSM compares (labels
sorted within a line, lines sorted). The smaller Go tests follow, then ``TestFullScrapeCycle``'s
pod from ``pkg/app/server_test.go``, whose expected text also pins KSM's real label order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pytest

from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object
from tests.state.ksm import assert_ksm_equal, options, parse_line, render, render_checked


class KsmCase(NamedTuple):
    obj: Mapping[str, Any]
    want: str
    names: Sequence[str]
    labels: Sequence[str] = ()
    annotations: Sequence[str] = ()


POD_STORE_CASES = [
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {
                "resourceClaims": [
                    {"name": "gpu", "resourceClaimName": "shared-gpu-claim"},
                    {"name": "gpu-tmpl", "resourceClaimTemplateName": "gpu-template"},
                ]
            },
            "status": {
                "resourceClaimStatuses": [{"name": "gpu-tmpl", "resourceClaimName": "pod1-gpu-tmpl-abcde"}]
            },
        },
        want="""
            # HELP kube_pod_resourceclaim_info Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim object name.
            # TYPE kube_pod_resourceclaim_info gauge
            kube_pod_resourceclaim_info{claim_name="gpu",namespace="ns1",pod="pod1",resourceclaim_name="shared-gpu-claim",resourceclaim_template_name="",uid="uid1"} 1
            kube_pod_resourceclaim_info{claim_name="gpu-tmpl",namespace="ns1",pod="pod1",resourceclaim_name="pod1-gpu-tmpl-abcde",resourceclaim_template_name="gpu-template",uid="uid1"} 1
        """,
        names=["kube_pod_resourceclaim_info"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "resourceClaims": [
                    {"name": "pending", "resourceClaimTemplateName": "gpu-template"},
                    {"name": "bad"},
                ]
            },
        },
        want="""
            # HELP kube_pod_resourceclaim_info Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim object name.
            # TYPE kube_pod_resourceclaim_info gauge
            kube_pod_resourceclaim_info{claim_name="pending",namespace="ns2",pod="pod2",resourceclaim_name="",resourceclaim_template_name="gpu-template",uid="uid2"} 1
        """,
        names=["kube_pod_resourceclaim_info"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"containers": [{"name": "container1", "image": "k8s.gcr.io/hyperkube1_spec"}]},
            "status": {
                "containerStatuses": [
                    {
                        "name": "container1",
                        "image": "k8s.gcr.io/hyperkube1",
                        "imageID": "docker://sha256:aaa",
                        "containerID": "docker://ab123",
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_container_info [STABLE] Information about a container in a pod.
            # TYPE kube_pod_container_info gauge
            kube_pod_container_info{container="container1",container_id="docker://ab123",image="k8s.gcr.io/hyperkube1",image_spec="k8s.gcr.io/hyperkube1_spec",image_id="docker://sha256:aaa",namespace="ns1",pod="pod1",uid="uid1"} 1
        """,
        names=["kube_pod_container_info"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "containers": [
                    {"name": "container2", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container3", "image": "k8s.gcr.io/hyperkube3_spec"},
                ],
                "initContainers": [
                    {"name": "initContainer", "image": "k8s.gcr.io/initfoo_spec", "restartPolicy": "Always"}
                ],
            },
            "status": {
                "containerStatuses": [
                    {
                        "name": "container2",
                        "image": "k8s.gcr.io/hyperkube2",
                        "imageID": "docker://sha256:bbb",
                        "containerID": "docker://cd456",
                    },
                    {
                        "name": "container3",
                        "image": "k8s.gcr.io/hyperkube3",
                        "imageID": "docker://sha256:ccc",
                        "containerID": "docker://ef789",
                    },
                ],
                "initContainerStatuses": [
                    {
                        "name": "initContainer",
                        "image": "k8s.gcr.io/initfoo",
                        "imageID": "docker://sha256:wxyz",
                        "containerID": "docker://ef123",
                    }
                ],
            },
        },
        want="""
            # HELP kube_pod_container_info [STABLE] Information about a container in a pod.
            # HELP kube_pod_init_container_info [STABLE] Information about an init container in a pod.
            # TYPE kube_pod_container_info gauge
            # TYPE kube_pod_init_container_info gauge
            kube_pod_container_info{container="container2",container_id="docker://cd456",image_spec="k8s.gcr.io/hyperkube2_spec",image="k8s.gcr.io/hyperkube2",image_id="docker://sha256:bbb",namespace="ns2",pod="pod2",uid="uid2"} 1
            kube_pod_container_info{container="container3",container_id="docker://ef789",image_spec="k8s.gcr.io/hyperkube3_spec",image="k8s.gcr.io/hyperkube3",image_id="docker://sha256:ccc",namespace="ns2",pod="pod2",uid="uid2"} 1
            kube_pod_init_container_info{container="initContainer",container_id="docker://ef123",image_spec="k8s.gcr.io/initfoo_spec",image="k8s.gcr.io/initfoo",image_id="docker://sha256:wxyz",namespace="ns2",pod="pod2",uid="uid2",restart_policy="Always"} 1
        """,
        names=["kube_pod_container_info", "kube_pod_init_container_info"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"containers": [{"name": "container1", "image": "k8s.gcr.io/hyperkube1_spec"}]},
            "status": {"containerStatuses": [{"name": "container1", "ready": True}]},
        },
        want="""
            # HELP kube_pod_container_status_ready [STABLE] Describes whether the containers readiness check succeeded.
            # TYPE kube_pod_container_status_ready gauge
            kube_pod_container_status_ready{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 1
        """,
        names=["kube_pod_container_status_ready"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "containers": [
                    {"name": "container2", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container3", "image": "k8s.gcr.io/hyperkube3_spec"},
                ]
            },
            "status": {
                "containerStatuses": [
                    {"name": "container2", "ready": True},
                    {"name": "container3", "ready": False},
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_ready [STABLE] Describes whether the containers readiness check succeeded.
            # TYPE kube_pod_container_status_ready gauge
            kube_pod_container_status_ready{container="container2",namespace="ns2",pod="pod2",uid="uid2"} 1
            kube_pod_container_status_ready{container="container3",namespace="ns2",pod="pod2",uid="uid2"} 0
        """,
        names=["kube_pod_container_status_ready"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod3", "namespace": "ns3", "uid": "uid3"},
            "spec": {
                "containers": [
                    {"name": "container2", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container3", "image": "k8s.gcr.io/hyperkube3_spec"},
                ],
                "initContainers": [
                    {"name": "initcontainer1", "image": "k8s.gcr.io/initfoo_spec"},
                    {"name": "initcontainer2", "image": "k8s.gcr.io/initfoo_spec"},
                ],
            },
            "status": {
                "containerStatuses": [
                    {"name": "container2", "ready": True},
                    {"name": "container3", "ready": False},
                ],
                "initContainerStatuses": [
                    {"name": "initcontainer1", "ready": True},
                    {"name": "initcontainer2", "ready": False},
                ],
            },
        },
        want="""
            # HELP kube_pod_init_container_status_ready [STABLE] Describes whether the init containers readiness check succeeded.
            # TYPE kube_pod_init_container_status_ready gauge
            kube_pod_init_container_status_ready{container="initcontainer1",namespace="ns3",pod="pod3",uid="uid3"} 1
            kube_pod_init_container_status_ready{container="initcontainer2",namespace="ns3",pod="pod3",uid="uid3"} 0
        """,
        names=["kube_pod_init_container_status_ready"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"containers": [{"name": "container1", "image": "k8s.gcr.io/hyperkube1_spec"}]},
            "status": {"containerStatuses": [{"name": "container1", "restartCount": 0}]},
        },
        want="""
            # HELP kube_pod_container_status_restarts_total [STABLE] The number of container restarts per container.
            # TYPE kube_pod_container_status_restarts_total counter
            kube_pod_container_status_restarts_total{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 0
        """,
        names=["kube_pod_container_status_restarts_total"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {"initContainers": [{"name": "initcontainer1", "image": "k8s.gcr.io/initfoo_spec"}]},
            "status": {"initContainerStatuses": [{"name": "initcontainer1", "restartCount": 1}]},
        },
        want="""
            # HELP kube_pod_init_container_status_restarts_total [STABLE] The number of restarts for the init container.
            # TYPE kube_pod_init_container_status_restarts_total counter
            kube_pod_init_container_status_restarts_total{container="initcontainer1",namespace="ns2",pod="pod2",uid="uid2"} 1
        """,
        names=["kube_pod_init_container_status_restarts_total"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "containers": [
                    {"name": "container2", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container3", "image": "k8s.gcr.io/hyperkube3_spec"},
                ]
            },
            "status": {
                "containerStatuses": [
                    {"name": "container2", "restartCount": 0},
                    {"name": "container3", "restartCount": 1},
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_restarts_total [STABLE] The number of container restarts per container.
            # TYPE kube_pod_container_status_restarts_total counter
            kube_pod_container_status_restarts_total{container="container2",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_container_status_restarts_total{container="container3",namespace="ns2",pod="pod2",uid="uid2"} 1
        """,
        names=["kube_pod_container_status_restarts_total"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "initContainers": [
                    {"name": "initcontainer2", "image": "k8s.gcr.io/initfoo_spec"},
                    {"name": "initcontainer3", "image": "k8s.gcr.io/initfoo_spec"},
                ]
            },
            "status": {
                "initContainerStatuses": [
                    {"name": "initcontainer2", "restartCount": 0},
                    {"name": "initcontainer3", "restartCount": 1},
                ]
            },
        },
        want="""
            # HELP kube_pod_init_container_status_restarts_total [STABLE] The number of restarts for the init container.
            # TYPE kube_pod_init_container_status_restarts_total counter
            kube_pod_init_container_status_restarts_total{container="initcontainer2",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_init_container_status_restarts_total{container="initcontainer3",namespace="ns2",pod="pod2",uid="uid2"} 1
        """,
        names=["kube_pod_init_container_status_restarts_total"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {
                "containers": [{"name": "container1", "image": "k8s.gcr.io/hyperkube2_spec"}],
                "initContainers": [{"name": "initcontainer1", "image": "k8s.gcr.io/initfoo_spec"}],
            },
            "status": {
                "containerStatuses": [
                    {"name": "container1", "state": {"running": {"startedAt": "2017-08-03T16:16:58Z"}}}
                ],
                "initContainerStatuses": [{"name": "initcontainer1", "state": {"running": {}}}],
            },
        },
        want="""
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_state_started [STABLE] Start time in unix timestamp for a pod container.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # HELP kube_pod_init_container_status_running [STABLE] Describes whether the init container is currently in running state.
            # HELP kube_pod_init_container_status_terminated [STABLE] Describes whether the init container is currently in terminated state.
            # HELP kube_pod_init_container_status_terminated_reason Describes the reason the init container is currently in terminated state.
            # HELP kube_pod_init_container_status_waiting [STABLE] Describes whether the init container is currently in waiting state.
            # HELP kube_pod_init_container_status_waiting_reason Describes the reason the init container is currently in waiting state.
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_state_started gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            # TYPE kube_pod_init_container_status_running gauge
            # TYPE kube_pod_init_container_status_terminated gauge
            # TYPE kube_pod_init_container_status_terminated_reason gauge
            # TYPE kube_pod_init_container_status_waiting gauge
            # TYPE kube_pod_init_container_status_waiting_reason gauge
            kube_pod_container_state_started{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 1.501777018e+09
            kube_pod_container_status_running{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 1
            kube_pod_container_status_terminated{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 0
            kube_pod_container_status_waiting{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 0
            kube_pod_init_container_status_running{container="initcontainer1",namespace="ns1",pod="pod1",uid="uid1"} 1
            kube_pod_init_container_status_terminated{container="initcontainer1",namespace="ns1",pod="pod1",uid="uid1"} 0
            kube_pod_init_container_status_waiting{container="initcontainer1",namespace="ns1",pod="pod1",uid="uid1"} 0
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_state_started",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_init_container_status_running",
            "kube_pod_init_container_status_waiting",
            "kube_pod_init_container_status_waiting_reason",
            "kube_pod_init_container_status_terminated",
            "kube_pod_init_container_status_terminated_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"containers": [{"name": "container1", "image": "k8s.gcr.io/hyperkube1_spec"}]},
            "status": {
                "containerStatuses": [
                    {
                        "name": "container1",
                        "state": {"terminated": {"startedAt": "2017-08-03T16:16:58Z", "reason": "Completed"}},
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_state_started [STABLE] Start time in unix timestamp for a pod container.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_state_started gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_state_started{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 1.501777018e+09
            kube_pod_container_status_running{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 0
            kube_pod_container_status_terminated_reason{container="container1",namespace="ns1",pod="pod1",reason="Completed",uid="uid1"} 1
            kube_pod_container_status_terminated{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 1
            kube_pod_container_status_waiting{container="container1",namespace="ns1",pod="pod1",uid="uid1"} 0
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_state_started",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "containers": [
                    {"name": "container2", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container3", "image": "k8s.gcr.io/hyperkube3_spec"},
                ]
            },
            "status": {
                "containerStatuses": [
                    {
                        "name": "container2",
                        "state": {
                            "terminated": {
                                "startedAt": "2017-08-03T16:16:58Z",
                                "reason": "OOMKilled",
                                "exitCode": 137,
                            }
                        },
                    },
                    {"name": "container3", "state": {"waiting": {"reason": "ContainerCreating"}}},
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_state_started [STABLE] Start time in unix timestamp for a pod container.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_state_started gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_status_running{container="container2",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_container_status_running{container="container3",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_container_state_started{container="container2",namespace="ns2",pod="pod2",uid="uid2"} 1.501777018e+09
            kube_pod_container_status_terminated_reason{container="container2",namespace="ns2",pod="pod2",reason="OOMKilled",uid="uid2"} 1
            kube_pod_container_status_terminated{container="container2",namespace="ns2",pod="pod2",uid="uid2"} 1
            kube_pod_container_status_terminated{container="container3",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_container_status_waiting_reason{container="container3",namespace="ns2",pod="pod2",reason="ContainerCreating",uid="uid2"} 1
            kube_pod_container_status_waiting{container="container2",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_container_status_waiting{container="container3",namespace="ns2",pod="pod2",uid="uid2"} 1
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_state_started",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod3", "namespace": "ns3", "uid": "uid3"},
            "spec": {"containers": [{"name": "container4", "image": "k8s.gcr.io/hyperkube4_spec"}]},
            "status": {
                "containerStatuses": [
                    {"name": "container4", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_last_terminated_exitcode Describes the exit code for the last container in terminated state.
            # HELP kube_pod_container_status_last_terminated_reason Describes the last reason the container was in terminated state.
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_last_terminated_exitcode gauge
            # TYPE kube_pod_container_status_last_terminated_reason gauge
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_status_running{container="container4",namespace="ns3",pod="pod3",uid="uid3"} 0
            kube_pod_container_status_terminated{container="container4",namespace="ns3",pod="pod3",uid="uid3"} 0
            kube_pod_container_status_waiting_reason{container="container4",namespace="ns3",pod="pod3",reason="CrashLoopBackOff",uid="uid3"} 1
            kube_pod_container_status_waiting{container="container4",namespace="ns3",pod="pod3",uid="uid3"} 1
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_waiting_reason",
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_last_terminated_exitcode",
            "kube_pod_container_status_last_terminated_exitcode",
            "kube_pod_container_status_last_terminated_exitcode",
            "kube_pod_container_status_last_terminated_exitcode",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod6", "namespace": "ns6", "uid": "uid6"},
            "spec": {"containers": [{"name": "container7", "image": "k8s.gcr.io/hyperkube7_spec"}]},
            "status": {
                "containerStatuses": [
                    {
                        "name": "container7",
                        "state": {"running": {"startedAt": "2017-08-03T16:16:58Z"}},
                        "lastState": {
                            "terminated": {
                                "reason": "OOMKilled",
                                "exitCode": 137,
                                "finishedAt": "2017-08-03T16:59:07Z",
                            }
                        },
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_last_terminated_reason Describes the last reason the container was in terminated state.
            # HELP kube_pod_container_status_last_terminated_exitcode Describes the exit code for the last container in terminated state.
            # HELP kube_pod_container_status_last_terminated_timestamp Last terminated time for a pod container in unix timestamp.
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # HELP kube_pod_container_state_started [STABLE] Start time in unix timestamp for a pod container.
            # TYPE kube_pod_container_status_last_terminated_reason gauge
            # TYPE kube_pod_container_status_last_terminated_exitcode gauge
            # TYPE kube_pod_container_status_last_terminated_timestamp gauge
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            # TYPE kube_pod_container_state_started gauge
            kube_pod_container_status_running{container="container7",namespace="ns6",pod="pod6",uid="uid6"} 1
            kube_pod_container_state_started{container="container7",namespace="ns6",pod="pod6",uid="uid6"} 1.501777018e+09
            kube_pod_container_status_terminated{container="container7",namespace="ns6",pod="pod6",uid="uid6"} 0
            kube_pod_container_status_waiting{container="container7",namespace="ns6",pod="pod6",uid="uid6"} 0
            kube_pod_container_status_last_terminated_reason{container="container7",namespace="ns6",pod="pod6",reason="OOMKilled",uid="uid6"} 1
            kube_pod_container_status_last_terminated_exitcode{container="container7",namespace="ns6",pod="pod6",uid="uid6"} 137
            kube_pod_container_status_last_terminated_timestamp{container="container7",namespace="ns6",pod="pod6",uid="uid6"} 1.501779547e+09
        """,
        names=[
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_last_terminated_exitcode",
            "kube_pod_container_status_last_terminated_timestamp",
            "kube_pod_container_status_running",
            "kube_pod_container_state_started",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_waiting",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod7", "namespace": "ns7", "uid": "uid7"},
            "spec": {"containers": [{"name": "container7", "image": "k8s.gcr.io/hyperkube7_spec"}]},
            "status": {
                "containerStatuses": [
                    {
                        "name": "container7",
                        "state": {"running": {"startedAt": "2017-08-03T16:16:58Z"}},
                        "lastState": {
                            "terminated": {
                                "reason": "DeadlineExceeded",
                                "exitCode": 143,
                                "finishedAt": "2017-08-03T16:59:07Z",
                            }
                        },
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_last_terminated_exitcode Describes the exit code for the last container in terminated state.
            # HELP kube_pod_container_status_last_terminated_reason Describes the last reason the container was in terminated state.
            # HELP kube_pod_container_status_last_terminated_timestamp Last terminated time for a pod container in unix timestamp.
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_state_started [STABLE] Start time in unix timestamp for a pod container.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_last_terminated_exitcode gauge
            # TYPE kube_pod_container_status_last_terminated_reason gauge
            # TYPE kube_pod_container_status_last_terminated_timestamp gauge
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_state_started gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_state_started{container="container7",namespace="ns7",pod="pod7",uid="uid7"} 1.501777018e+09
            kube_pod_container_status_last_terminated_exitcode{container="container7",namespace="ns7",pod="pod7",uid="uid7"} 143
            kube_pod_container_status_last_terminated_reason{container="container7",namespace="ns7",pod="pod7",reason="DeadlineExceeded",uid="uid7"} 1
            kube_pod_container_status_last_terminated_timestamp{container="container7",namespace="ns7",pod="pod7",uid="uid7"} 1.501779547e+09
            kube_pod_container_status_running{container="container7",namespace="ns7",pod="pod7",uid="uid7"} 1
            kube_pod_container_status_terminated{container="container7",namespace="ns7",pod="pod7",uid="uid7"} 0
            kube_pod_container_status_waiting{container="container7",namespace="ns7",pod="pod7",uid="uid7"} 0
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_state_started",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_last_terminated_timestamp",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_last_terminated_exitcode",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "spec": {"containers": [{"name": "container5", "image": "k8s.gcr.io/hyperkube5_spec"}]},
            "status": {
                "containerStatuses": [
                    {"name": "container5", "state": {"waiting": {"reason": "ImagePullBackOff"}}}
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_status_running{container="container5",namespace="ns4",pod="pod4",uid="uid4"} 0
            kube_pod_container_status_terminated{container="container5",namespace="ns4",pod="pod4",uid="uid4"} 0
            kube_pod_container_status_waiting_reason{container="container5",namespace="ns4",pod="pod4",reason="ImagePullBackOff",uid="uid4"} 1
            kube_pod_container_status_waiting{container="container5",namespace="ns4",pod="pod4",uid="uid4"} 1
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_waiting_reason",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod5", "namespace": "ns5", "uid": "uid5"},
            "spec": {"containers": [{"name": "container6", "image": "k8s.gcr.io/hyperkube1_spec"}]},
            "status": {
                "containerStatuses": [
                    {"name": "container6", "state": {"waiting": {"reason": "ErrImagePull"}}}
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_status_running{container="container6",namespace="ns5",pod="pod5",uid="uid5"} 0
            kube_pod_container_status_terminated{container="container6",namespace="ns5",pod="pod5",uid="uid5"} 0
            kube_pod_container_status_waiting_reason{container="container6",namespace="ns5",pod="pod5",reason="ErrImagePull",uid="uid5"} 1
            kube_pod_container_status_waiting{container="container6",namespace="ns5",pod="pod5",uid="uid5"} 1
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_waiting_reason",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod7", "namespace": "ns7", "uid": "uid7"},
            "spec": {"containers": [{"name": "container8", "image": "k8s.gcr.io/hyperkube1_spec"}]},
            "status": {
                "containerStatuses": [
                    {"name": "container8", "state": {"waiting": {"reason": "CreateContainerConfigError"}}}
                ]
            },
        },
        want="""
            # HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
            # HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
            # HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
            # HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
            # HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
            # TYPE kube_pod_container_status_running gauge
            # TYPE kube_pod_container_status_terminated gauge
            # TYPE kube_pod_container_status_terminated_reason gauge
            # TYPE kube_pod_container_status_waiting gauge
            # TYPE kube_pod_container_status_waiting_reason gauge
            kube_pod_container_status_running{container="container8",namespace="ns7",pod="pod7",uid="uid7"} 0
            kube_pod_container_status_terminated{container="container8",namespace="ns7",pod="pod7",uid="uid7"} 0
            kube_pod_container_status_waiting_reason{container="container8",namespace="ns7",pod="pod7",reason="CreateContainerConfigError",uid="uid7"} 1
            kube_pod_container_status_waiting{container="container8",namespace="ns7",pod="pod7",uid="uid7"} 1
        """,
        names=[
            "kube_pod_container_status_running",
            "kube_pod_container_status_terminated",
            "kube_pod_container_status_terminated_reason",
            "kube_pod_container_status_waiting",
            "kube_pod_container_status_waiting_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {
                "name": "pod1",
                "creationTimestamp": "2017-07-14T02:40:00Z",
                "namespace": "ns1",
                "uid": "abc-123-xxx",
            },
            "spec": {
                "nodeName": "node1",
                "priorityClassName": "system-node-critical",
                "hostNetwork": True,
                "containers": [{"image": "k8s.gcr.io/hyperkube2_spec"}],
            },
            "status": {
                "hostIP": "1.1.1.1",
                "podIP": "1.2.3.4",
                "podIPs": [
                    {"ip": "1.2.3.4"},
                    {"ip": "fc00:1234:5678:90ab:cdef:cafe:f00d:d00d"},
                    {"ip": "::ffff:1.2.3.4"},
                ],
                "startTime": "2017-08-01T06:30:18Z",
            },
        },
        want="""
            # HELP kube_pod_completion_time [STABLE] Completion time in unix timestamp for a pod.
            # HELP kube_pod_created [STABLE] Unix creation timestamp
            # HELP kube_pod_info [STABLE] Information about pod.
            # HELP kube_pod_ips Pod IP addresses
            # HELP kube_pod_owner [STABLE] Information about the Pod's owner.
            # HELP kube_pod_start_time [STABLE] Start time in unix timestamp for a pod.
            # TYPE kube_pod_completion_time gauge
            # TYPE kube_pod_created gauge
            # TYPE kube_pod_info gauge
            # TYPE kube_pod_ips gauge
            # TYPE kube_pod_owner gauge
            # TYPE kube_pod_start_time gauge
            kube_pod_created{namespace="ns1",pod="pod1",uid="abc-123-xxx"} 1.5e+09
            kube_pod_info{created_by_kind="",created_by_name="",host_ip="1.1.1.1",namespace="ns1",node="node1",pod="pod1",pod_ip="1.2.3.4",uid="abc-123-xxx",priority_class="system-node-critical",host_network="true"} 1
            kube_pod_ips{namespace="ns1",pod="pod1",uid="abc-123-xxx",ip="1.2.3.4",ip_family="4"} 1
            kube_pod_ips{namespace="ns1",pod="pod1",uid="abc-123-xxx",ip="fc00:1234:5678:90ab:cdef:cafe:f00d:d00d",ip_family="6"} 1
            kube_pod_ips{namespace="ns1",pod="pod1",uid="abc-123-xxx",ip="::ffff:1.2.3.4",ip_family="4"} 1
            kube_pod_start_time{namespace="ns1",pod="pod1",uid="abc-123-xxx"} 1.501569018e+09
            kube_pod_owner{namespace="ns1",owner_is_controller="",owner_kind="",owner_name="",pod="pod1",uid="abc-123-xxx"} 1
        """,
        names=[
            "kube_pod_created",
            "kube_pod_info",
            "kube_pod_ips",
            "kube_pod_start_time",
            "kube_pod_completion_time",
            "kube_pod_owner",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {
                "name": "pod1",
                "creationTimestamp": "2017-07-14T02:40:00Z",
                "namespace": "ns1",
                "uid": "abc-123-xxx",
                "deletionTimestamp": "2027-01-15T08:00:00Z",
            },
            "spec": {"nodeName": "node1", "priorityClassName": "system-node-critical"},
            "status": {"hostIP": "1.1.1.1", "podIP": "1.2.3.4", "startTime": "2017-08-01T06:30:18Z"},
        },
        want="""
            # HELP kube_pod_deletion_timestamp Unix deletion timestamp
            # TYPE kube_pod_deletion_timestamp gauge
            kube_pod_deletion_timestamp{namespace="ns1",pod="pod1",uid="abc-123-xxx"} 1.8e+09
        """,
        names=["kube_pod_deletion_timestamp"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {"restartPolicy": "Always"},
        },
        want="""
            # HELP kube_pod_restart_policy [STABLE] Describes the restart policy in use by this pod.
            # TYPE kube_pod_restart_policy gauge
            kube_pod_restart_policy{namespace="ns2",pod="pod2",type="Always",uid="uid2"} 1
        """,
        names=["kube_pod_restart_policy"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {"restartPolicy": "OnFailure"},
        },
        want="""
            # HELP kube_pod_restart_policy [STABLE] Describes the restart policy in use by this pod.
            # TYPE kube_pod_restart_policy gauge
            kube_pod_restart_policy{namespace="ns2",pod="pod2",type="OnFailure",uid="uid2"} 1
        """,
        names=["kube_pod_restart_policy"],
    ),
    KsmCase(
        obj={
            "metadata": {
                "name": "pod2",
                "namespace": "ns2",
                "uid": "abc-456-xxx",
                "ownerReferences": [{"kind": "ReplicaSet", "name": "rs-name", "controller": True}],
            },
            "spec": {
                "nodeName": "node2",
                "containers": [
                    {"name": "container2_1", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container2_2", "image": "k8s.gcr.io/hyperkube2_spec"},
                    {"name": "container2_3", "image": "k8s.gcr.io/hyperkube2_spec"},
                ],
            },
            "status": {
                "hostIP": "1.1.1.1",
                "podIP": "2.3.4.5",
                "containerStatuses": [
                    {
                        "name": "container2_1",
                        "image": "k8s.gcr.io/hyperkube2",
                        "imageID": "docker://sha256:bbb",
                        "containerID": "docker://cd456",
                        "state": {"terminated": {"finishedAt": "2017-08-03T16:16:58Z"}},
                    },
                    {
                        "name": "container2_2",
                        "image": "k8s.gcr.io/hyperkube2",
                        "imageID": "docker://sha256:bbb",
                        "containerID": "docker://cd456",
                        "state": {"terminated": {"finishedAt": "2017-08-04T23:06:58Z"}},
                    },
                    {
                        "name": "container2_3",
                        "image": "k8s.gcr.io/hyperkube2",
                        "imageID": "docker://sha256:bbb",
                        "containerID": "docker://cd456",
                        "state": {"terminated": {"finishedAt": "2017-08-02T09:26:58Z"}},
                    },
                ],
            },
        },
        want="""
            # HELP kube_pod_completion_time [STABLE] Completion time in unix timestamp for a pod.
            # HELP kube_pod_created [STABLE] Unix creation timestamp
            # HELP kube_pod_info [STABLE] Information about pod.
            # HELP kube_pod_owner [STABLE] Information about the Pod's owner.
            # HELP kube_pod_start_time [STABLE] Start time in unix timestamp for a pod.
            # TYPE kube_pod_completion_time gauge
            # TYPE kube_pod_created gauge
            # TYPE kube_pod_info gauge
            # TYPE kube_pod_owner gauge
            # TYPE kube_pod_start_time gauge
            kube_pod_info{created_by_kind="ReplicaSet",created_by_name="rs-name",host_ip="1.1.1.1",namespace="ns2",node="node2",pod="pod2",pod_ip="2.3.4.5",uid="abc-456-xxx",priority_class="",host_network="false"} 1
            kube_pod_completion_time{namespace="ns2",pod="pod2",uid="abc-456-xxx"} 1.501888018e+09
            kube_pod_owner{namespace="ns2",owner_is_controller="true",owner_kind="ReplicaSet",owner_name="rs-name",pod="pod2",uid="abc-456-xxx"} 1
        """,
        names=[
            "kube_pod_created",
            "kube_pod_info",
            "kube_pod_start_time",
            "kube_pod_completion_time",
            "kube_pod_owner",
        ],
    ),
    KsmCase(
        obj={"metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"}, "status": {"phase": "Running"}},
        want="""
            # HELP kube_pod_status_phase [STABLE] The pods current phase.
            # TYPE kube_pod_status_phase gauge
            kube_pod_status_phase{namespace="ns1",phase="Failed",pod="pod1",uid="uid1"} 0
            kube_pod_status_phase{namespace="ns1",phase="Pending",pod="pod1",uid="uid1"} 0
            kube_pod_status_phase{namespace="ns1",phase="Running",pod="pod1",uid="uid1"} 1
            kube_pod_status_phase{namespace="ns1",phase="Succeeded",pod="pod1",uid="uid1"} 0
            kube_pod_status_phase{namespace="ns1",phase="Unknown",pod="pod1",uid="uid1"} 0
        """,
        names=["kube_pod_status_phase"],
    ),
    KsmCase(
        obj={"metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"}, "status": {"phase": "Pending"}},
        want="""
            # HELP kube_pod_status_phase [STABLE] The pods current phase.
            # TYPE kube_pod_status_phase gauge
            kube_pod_status_phase{namespace="ns2",phase="Failed",pod="pod2",uid="uid2"} 0
            kube_pod_status_phase{namespace="ns2",phase="Pending",pod="pod2",uid="uid2"} 1
            kube_pod_status_phase{namespace="ns2",phase="Running",pod="pod2",uid="uid2"} 0
            kube_pod_status_phase{namespace="ns2",phase="Succeeded",pod="pod2",uid="uid2"} 0
            kube_pod_status_phase{namespace="ns2",phase="Unknown",pod="pod2",uid="uid2"} 0
        """,
        names=["kube_pod_status_phase"],
    ),
    KsmCase(
        obj={"metadata": {"name": "pod3", "namespace": "ns3", "uid": "uid3"}, "status": {"phase": "Unknown"}},
        want="""
            # HELP kube_pod_status_phase [STABLE] The pods current phase.
            # TYPE kube_pod_status_phase gauge
            kube_pod_status_phase{namespace="ns3",phase="Failed",pod="pod3",uid="uid3"} 0
            kube_pod_status_phase{namespace="ns3",phase="Pending",pod="pod3",uid="uid3"} 0
            kube_pod_status_phase{namespace="ns3",phase="Running",pod="pod3",uid="uid3"} 0
            kube_pod_status_phase{namespace="ns3",phase="Succeeded",pod="pod3",uid="uid3"} 0
            kube_pod_status_phase{namespace="ns3",phase="Unknown",pod="pod3",uid="uid3"} 1
        """,
        names=["kube_pod_status_phase"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "NodeLost"},
        },
        want="""
            # HELP kube_pod_status_phase [STABLE] The pods current phase.
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_phase gauge
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_phase{namespace="ns4",phase="Failed",pod="pod4",uid="uid4"} 0
            kube_pod_status_phase{namespace="ns4",phase="Pending",pod="pod4",uid="uid4"} 0
            kube_pod_status_phase{namespace="ns4",phase="Running",pod="pod4",uid="uid4"} 1
            kube_pod_status_phase{namespace="ns4",phase="Succeeded",pod="pod4",uid="uid4"} 0
            kube_pod_status_phase{namespace="ns4",phase="Unknown",pod="pod4",uid="uid4"} 0
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="NodeLost",uid="uid4"} 1
        """,
        names=["kube_pod_status_phase", "kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {"qosClass": "BestEffort"},
        },
        want="""
            # HELP kube_pod_status_qos_class The pods current qosClass.
            # TYPE kube_pod_status_qos_class gauge
            kube_pod_status_qos_class{namespace="ns1",qos_class="BestEffort",pod="pod1",uid="uid1"} 1
            kube_pod_status_qos_class{namespace="ns1",qos_class="Burstable",pod="pod1",uid="uid1"} 0
            kube_pod_status_qos_class{namespace="ns1",qos_class="Guaranteed",pod="pod1",uid="uid1"} 0
        """,
        names=["kube_pod_status_qos_class"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "Evicted"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="Evicted",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod5", "namespace": "ns5", "uid": "uid5"},
            "status": {"conditions": [{"type": "DisruptionTarget", "reason": "EvictionByEvictionAPI"}]},
        },
        want="""
            # HELP kube_pod_status_disruption_reason The pod disruption condition reason
            # TYPE kube_pod_status_disruption_reason gauge
            kube_pod_status_disruption_reason{namespace="ns5",pod="pod5",reason="EvictionByEvictionAPI",uid="uid5"} 1
        """,
        names=["kube_pod_status_disruption_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod6", "namespace": "ns6", "uid": "uid6"},
            "status": {"conditions": [{"type": "Ready", "reason": "EvictionByEvictionAPI"}]},
        },
        want="""
            # HELP kube_pod_status_disruption_reason The pod disruption condition reason
            # TYPE kube_pod_status_disruption_reason gauge
        """,
        names=["kube_pod_status_disruption_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod7disruption", "namespace": "ns7", "uid": "uid7"},
            "status": {"conditions": [{"type": "DisruptionTarget", "reason": "SomeFutureReason"}]},
        },
        want="""
            # HELP kube_pod_status_disruption_reason The pod disruption condition reason
            # TYPE kube_pod_status_disruption_reason gauge
            kube_pod_status_disruption_reason{namespace="ns7",pod="pod7disruption",reason="Other",uid="uid7"} 1
        """,
        names=["kube_pod_status_disruption_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "UnexpectedAdmissionError"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="UnexpectedAdmissionError",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "NodeAffinity"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="NodeAffinity",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "Shutdown"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="Shutdown",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "PreemptionByScheduler"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="PreemptionByScheduler",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "TerminationByKubelet"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="TerminationByKubelet",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {"phase": "Running", "reason": "other reason"},
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="Other",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod4", "namespace": "ns4", "uid": "uid4"},
            "status": {
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
            },
        },
        want="""
            # HELP kube_pod_status_reason The pod status reasons
            # TYPE kube_pod_status_reason gauge
            kube_pod_status_reason{namespace="ns4",pod="pod4",reason="SchedulingGated",uid="uid4"} 1
        """,
        names=["kube_pod_status_reason"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {
                "conditions": [
                    {"type": "Initialized", "status": "True", "lastTransitionTime": "2017-08-02T09:26:58Z"}
                ]
            },
        },
        want="""
            # HELP kube_pod_status_initialized_time Initialized time in unix timestamp for a pod.
            # TYPE kube_pod_status_initialized_time gauge
            kube_pod_status_initialized_time{namespace="ns1",pod="pod1",uid="uid1"} 1.501666018e+09
        """,
        names=["kube_pod_status_initialized_time"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {
                "conditions": [
                    {"type": "Initialized", "status": "False", "lastTransitionTime": "2017-08-02T09:26:58Z"}
                ]
            },
        },
        want="""
            # HELP kube_pod_status_initialized_time Initialized time in unix timestamp for a pod.
            # TYPE kube_pod_status_initialized_time gauge
        """,
        names=["kube_pod_status_initialized_time"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {
                "conditions": [
                    {
                        "type": "ContainersReady",
                        "status": "True",
                        "lastTransitionTime": "2017-08-02T09:26:58Z",
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_status_container_ready_time Readiness achieved time in unix timestamp for a pod containers.
            # TYPE kube_pod_status_container_ready_time gauge
            kube_pod_status_container_ready_time{namespace="ns1",pod="pod1",uid="uid1"} 1.501666018e+09
        """,
        names=["kube_pod_status_container_ready_time"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {
                "conditions": [
                    {
                        "type": "ContainersReady",
                        "status": "False",
                        "lastTransitionTime": "2017-08-02T09:26:58Z",
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_status_container_ready_time Readiness achieved time in unix timestamp for a pod containers.
            # TYPE kube_pod_status_container_ready_time gauge
        """,
        names=["kube_pod_status_container_ready_time"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": "2017-08-02T09:26:58Z"}
                ]
            },
        },
        want="""
            # HELP kube_pod_status_ready [STABLE] Describes whether the pod is ready to serve requests.
            # HELP kube_pod_status_ready_time Readiness achieved time in unix timestamp for a pod.
            # TYPE kube_pod_status_ready gauge
            # TYPE kube_pod_status_ready_time gauge
            kube_pod_status_ready_time{namespace="ns1",pod="pod1",uid="uid1"} 1.501666018e+09
            kube_pod_status_ready{condition="false",namespace="ns1",pod="pod1",uid="uid1"} 0
            kube_pod_status_ready{condition="true",namespace="ns1",pod="pod1",uid="uid1"} 1
            kube_pod_status_ready{condition="unknown",namespace="ns1",pod="pod1",uid="uid1"} 0
        """,
        names=["kube_pod_status_ready_time", "kube_pod_status_ready"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False", "lastTransitionTime": "2017-08-02T09:26:58Z"}
                ]
            },
        },
        want="""
            # HELP kube_pod_status_ready [STABLE] Describes whether the pod is ready to serve requests.
            # HELP kube_pod_status_ready_time Readiness achieved time in unix timestamp for a pod.
            # TYPE kube_pod_status_ready gauge
            # TYPE kube_pod_status_ready_time gauge
            kube_pod_status_ready{condition="false",namespace="ns2",pod="pod2",uid="uid2"} 1
            kube_pod_status_ready{condition="true",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_status_ready{condition="unknown",namespace="ns2",pod="pod2",uid="uid2"} 0
        """,
        names=["kube_pod_status_ready_time", "kube_pod_status_ready"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "status": {
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2017-08-02T09:26:58Z"}
                ]
            },
        },
        want="""
            # HELP kube_pod_status_scheduled [STABLE] Describes the status of the scheduling process for the pod.
            # HELP kube_pod_status_scheduled_time [STABLE] Unix timestamp when pod moved into scheduled status
            # TYPE kube_pod_status_scheduled gauge
            # TYPE kube_pod_status_scheduled_time gauge
            kube_pod_status_scheduled_time{namespace="ns1",pod="pod1",uid="uid1"} 1.501666018e+09
            kube_pod_status_scheduled{condition="false",namespace="ns1",pod="pod1",uid="uid1"} 0
            kube_pod_status_scheduled{condition="true",namespace="ns1",pod="pod1",uid="uid1"} 1
            kube_pod_status_scheduled{condition="unknown",namespace="ns1",pod="pod1",uid="uid1"} 0
        """,
        names=["kube_pod_status_scheduled", "kube_pod_status_scheduled_time"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "status": {"conditions": [{"type": "PodScheduled", "status": "False"}]},
        },
        want="""
            # HELP kube_pod_status_scheduled [STABLE] Describes the status of the scheduling process for the pod.
            # HELP kube_pod_status_scheduled_time [STABLE] Unix timestamp when pod moved into scheduled status
            # TYPE kube_pod_status_scheduled gauge
            # TYPE kube_pod_status_scheduled_time gauge
            kube_pod_status_scheduled{condition="false",namespace="ns2",pod="pod2",uid="uid2"} 1
            kube_pod_status_scheduled{condition="true",namespace="ns2",pod="pod2",uid="uid2"} 0
            kube_pod_status_scheduled{condition="unknown",namespace="ns2",pod="pod2",uid="uid2"} 0
        """,
        names=["kube_pod_status_scheduled", "kube_pod_status_scheduled_time"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "status": {
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient cpu.",
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_status_unschedulable [STABLE] Describes the unschedulable status for the pod.
            # TYPE kube_pod_status_unschedulable gauge
            kube_pod_status_unschedulable{namespace="ns2",pod="pod2",uid="uid2"} 1
        """,
        names=["kube_pod_status_unschedulable"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {
                "containers": [
                    {
                        "name": "pod1_con1",
                        "resources": {
                            "requests": {
                                "cpu": "200m",
                                "memory": "100M",
                                "ephemeral-storage": "300M",
                                "storage": "400M",
                                "nvidia.com/gpu": "1",
                            },
                            "limits": {
                                "cpu": "200m",
                                "memory": "100M",
                                "ephemeral-storage": "300M",
                                "storage": "400M",
                                "nvidia.com/gpu": "1",
                            },
                        },
                    },
                    {
                        "name": "pod1_con2",
                        "resources": {
                            "requests": {"cpu": "300m", "memory": "200M"},
                            "limits": {"cpu": "300m", "memory": "200M"},
                        },
                    },
                ],
                "initContainers": [
                    {
                        "name": "pod1_initcon1",
                        "resources": {
                            "requests": {
                                "cpu": "200m",
                                "memory": "100M",
                                "ephemeral-storage": "300M",
                                "storage": "400M",
                                "nvidia.com/gpu": "1",
                            },
                            "limits": {
                                "cpu": "200m",
                                "memory": "100M",
                                "ephemeral-storage": "300M",
                                "storage": "400M",
                                "nvidia.com/gpu": "1",
                            },
                        },
                    }
                ],
            },
        },
        want="""
            # HELP kube_pod_container_resource_limits [STABLE] The number of requested limit resource by a container. It is recommended to use the kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.
            # HELP kube_pod_container_resource_requests [STABLE] The number of requested request resource by a container. It is recommended to use the kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.
            # HELP kube_pod_init_container_resource_limits The number of requested limit resource by an init container.
            # HELP kube_pod_init_container_resource_requests The number of requested request resource by an init container.
            # HELP kube_pod_init_container_status_last_terminated_reason Describes the last reason the init container was in terminated state.
            # TYPE kube_pod_container_resource_limits gauge
            # TYPE kube_pod_container_resource_requests gauge
            # TYPE kube_pod_init_container_resource_limits gauge
            # TYPE kube_pod_init_container_resource_requests gauge
            # TYPE kube_pod_init_container_status_last_terminated_reason gauge
            kube_pod_container_resource_limits{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="cpu",unit="core",uid="uid1"} 0.2
            kube_pod_container_resource_limits{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="ephemeral_storage",unit="byte",uid="uid1"} 3e+08
            kube_pod_container_resource_limits{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="memory",unit="byte",uid="uid1"} 1e+08
            kube_pod_container_resource_limits{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="nvidia_com_gpu",unit="integer",uid="uid1"} 1
            kube_pod_container_resource_limits{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="storage",unit="byte",uid="uid1"} 4e+08
            kube_pod_container_resource_limits{container="pod1_con2",namespace="ns1",node="",pod="pod1",resource="cpu",unit="core",uid="uid1"} 0.3
            kube_pod_container_resource_limits{container="pod1_con2",namespace="ns1",node="",pod="pod1",resource="memory",unit="byte",uid="uid1"} 2e+08
            kube_pod_container_resource_requests{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="cpu",unit="core",uid="uid1"} 0.2
            kube_pod_container_resource_requests{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="ephemeral_storage",unit="byte",uid="uid1"} 3e+08
            kube_pod_container_resource_requests{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="memory",unit="byte",uid="uid1"} 1e+08
            kube_pod_container_resource_requests{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="nvidia_com_gpu",unit="integer",uid="uid1"} 1
            kube_pod_container_resource_requests{container="pod1_con1",namespace="ns1",node="",pod="pod1",resource="storage",unit="byte",uid="uid1"} 4e+08
            kube_pod_container_resource_requests{container="pod1_con2",namespace="ns1",node="",pod="pod1",resource="cpu",unit="core",uid="uid1"} 0.3
            kube_pod_container_resource_requests{container="pod1_con2",namespace="ns1",node="",pod="pod1",resource="memory",unit="byte",uid="uid1"} 2e+08
            kube_pod_init_container_resource_limits{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="cpu",unit="core",uid="uid1"} 0.2
            kube_pod_init_container_resource_limits{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="ephemeral_storage",unit="byte",uid="uid1"} 3e+08
            kube_pod_init_container_resource_limits{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="memory",unit="byte",uid="uid1"} 1e+08
            kube_pod_init_container_resource_limits{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="nvidia_com_gpu",unit="integer",uid="uid1"} 1
            kube_pod_init_container_resource_limits{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="storage",unit="byte",uid="uid1"} 4e+08
            kube_pod_init_container_resource_requests{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="cpu",unit="core",uid="uid1"} 0.2
            kube_pod_init_container_resource_requests{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="ephemeral_storage",unit="byte",uid="uid1"} 3e+08
            kube_pod_init_container_resource_requests{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="memory",unit="byte",uid="uid1"} 1e+08
            kube_pod_init_container_resource_requests{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="nvidia_com_gpu",unit="integer",uid="uid1"} 1
            kube_pod_init_container_resource_requests{container="pod1_initcon1",namespace="ns1",node="",pod="pod1",resource="storage",unit="byte",uid="uid1"} 4e+08
        """,
        names=[
            "kube_pod_container_resource_requests",
            "kube_pod_container_resource_limits",
            "kube_pod_init_container_resource_limits",
            "kube_pod_init_container_resource_requests",
            "kube_pod_init_container_status_last_terminated_reason",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns2", "uid": "uid2"},
            "spec": {
                "containers": [
                    {
                        "name": "pod2_con1",
                        "resources": {
                            "requests": {"cpu": "400m", "memory": "300M"},
                            "limits": {"cpu": "400m", "memory": "300M"},
                        },
                    },
                    {
                        "name": "pod2_con2",
                        "resources": {
                            "requests": {"cpu": "500m", "memory": "400M"},
                            "limits": {"cpu": "500m", "memory": "400M"},
                        },
                    },
                    {"name": "pod2_con3"},
                ],
                "initContainers": [
                    {
                        "name": "pod2_initcon1",
                        "resources": {
                            "requests": {"cpu": "400m", "memory": "300M"},
                            "limits": {"cpu": "400m", "memory": "300M"},
                        },
                    }
                ],
            },
        },
        want="""
            # HELP kube_pod_init_container_resource_limits The number of requested limit resource by an init container.
            # HELP kube_pod_init_container_resource_requests The number of requested request resource by an init container.
            # TYPE kube_pod_init_container_resource_limits gauge
            # TYPE kube_pod_init_container_resource_requests gauge
            kube_pod_init_container_resource_limits{container="pod2_initcon1",namespace="ns2",node="",pod="pod2",resource="cpu",uid="uid2",unit="core"} 0.4
            kube_pod_init_container_resource_limits{container="pod2_initcon1",namespace="ns2",node="",pod="pod2",resource="memory",uid="uid2",unit="byte"} 3e+08
            kube_pod_init_container_resource_requests{container="pod2_initcon1",namespace="ns2",node="",pod="pod2",resource="cpu",uid="uid2",unit="core"} 0.4
            kube_pod_init_container_resource_requests{container="pod2_initcon1",namespace="ns2",node="",pod="pod2",resource="memory",uid="uid2",unit="byte"} 3e+08
        """,
        names=["kube_pod_init_container_resource_limits", "kube_pod_init_container_resource_requests"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1", "labels": {"app": "example"}},
            "spec": {},
        },
        want="""
            # HELP kube_pod_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_pod_labels gauge
        """,
        names=["kube_pod_labels"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1", "labels": {"app": "example"}},
            "spec": {
                "volumes": [
                    {"name": "myvol", "persistentVolumeClaim": {"claimName": "claim1", "readOnly": False}},
                    {
                        "name": "my-readonly-vol",
                        "persistentVolumeClaim": {"claimName": "claim2", "readOnly": True},
                    },
                    {"name": "my-ephemeral-vol", "ephemeral": {}},
                    {"name": "not-pvc-vol", "emptyDir": {"medium": "memory"}},
                ]
            },
        },
        want="""
            # HELP kube_pod_spec_volumes_persistentvolumeclaims_info [STABLE] Information about persistentvolumeclaim and ephemeral volumes in a pod.
            # HELP kube_pod_spec_volumes_persistentvolumeclaims_readonly [STABLE] Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always report 0 since the ephemeral volume source does not support a read-only flag.
            # TYPE kube_pod_spec_volumes_persistentvolumeclaims_info gauge
            # TYPE kube_pod_spec_volumes_persistentvolumeclaims_readonly gauge
            kube_pod_spec_volumes_persistentvolumeclaims_info{ephemeral="false",namespace="ns1",persistentvolumeclaim="claim1",pod="pod1",volume="myvol",uid="uid1"} 1
            kube_pod_spec_volumes_persistentvolumeclaims_info{ephemeral="false",namespace="ns1",persistentvolumeclaim="claim2",pod="pod1",volume="my-readonly-vol",uid="uid1"} 1
            kube_pod_spec_volumes_persistentvolumeclaims_info{ephemeral="true",namespace="ns1",persistentvolumeclaim="pod1-my-ephemeral-vol",pod="pod1",volume="my-ephemeral-vol",uid="uid1"} 1
            kube_pod_spec_volumes_persistentvolumeclaims_readonly{ephemeral="false",namespace="ns1",persistentvolumeclaim="claim1",pod="pod1",volume="myvol",uid="uid1"} 0
            kube_pod_spec_volumes_persistentvolumeclaims_readonly{ephemeral="false",namespace="ns1",persistentvolumeclaim="claim2",pod="pod1",volume="my-readonly-vol",uid="uid1"} 1
            kube_pod_spec_volumes_persistentvolumeclaims_readonly{ephemeral="true",namespace="ns1",persistentvolumeclaim="pod1-my-ephemeral-vol",pod="pod1",volume="my-ephemeral-vol",uid="uid1"} 0
        """,
        names=[
            "kube_pod_spec_volumes_persistentvolumeclaims_info",
            "kube_pod_spec_volumes_persistentvolumeclaims_readonly",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1", "labels": {"app": "example"}},
            "spec": {"runtimeClassName": "foo"},
        },
        want="""
            # HELP kube_pod_runtimeclass_name_info The runtimeclass associated with the pod.
            # TYPE kube_pod_runtimeclass_name_info gauge
            kube_pod_runtimeclass_name_info{namespace="ns1",pod="pod1",runtimeclass_name="foo",uid="uid1"} 1
        """,
        names=["kube_pod_runtimeclass_name_info"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1", "labels": {"app": "example"}},
            "spec": {},
        },
        want="""
            # HELP kube_pod_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_pod_labels gauge
            kube_pod_labels{namespace="ns1",pod="pod1",uid="uid1"} 1
        """,
        names=["kube_pod_labels"],
        labels=["wildcard-not-first", "*"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1", "labels": {"app": "example"}},
            "spec": {},
        },
        want="""
            # HELP kube_pod_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # TYPE kube_pod_labels gauge
            kube_pod_labels{label_app="example",namespace="ns1",pod="pod1",uid="uid1"} 1
        """,
        names=["kube_pod_labels"],
        labels=["*"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"nodeSelector": {"a": "b"}},
        },
        want="""
            # HELP kube_pod_nodeselectors Describes the Pod nodeSelectors.
            # TYPE kube_pod_nodeselectors gauge
            kube_pod_nodeselectors{nodeselector_a="b",namespace="ns1",pod="pod1",uid="uid1"} 1
        """,
        names=["kube_pod_nodeselectors"],
        labels=["*"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod2", "namespace": "ns1", "uid": "uid6"},
            "spec": {
                "nodeSelector": {
                    "kubernetes.io/os": "linux",
                    "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
                }
            },
        },
        want="""
            # HELP kube_pod_nodeselectors Describes the Pod nodeSelectors.
            # TYPE kube_pod_nodeselectors gauge
            kube_pod_nodeselectors{nodeselector_kubernetes_io_os="linux",nodeselector_cloud_google_com_gke_accelerator="nvidia-tesla-t4",namespace="ns1",pod="pod2",uid="uid6"} 1
        """,
        names=["kube_pod_nodeselector"],
        labels=["*"],
    ),
    KsmCase(
        obj={
            "metadata": {
                "name": "pod1",
                "namespace": "ns1",
                "uid": "uid1",
                "annotations": {"app": "example"},
            },
            "spec": {},
        },
        want="""
            # HELP kube_pod_annotations Kubernetes annotations converted to Prometheus labels.
            # TYPE kube_pod_annotations gauge
            kube_pod_annotations{annotation_app="example",namespace="ns1",pod="pod1",uid="uid1"} 1
        """,
        names=["kube_pod_annotations"],
        annotations=["*"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {
                "tolerations": [
                    {"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoSchedule"},
                    {"key": "key2", "operator": "Exists"},
                    {"key": "key3", "operator": "Equal", "value": "value3"},
                    {"key": "key3", "operator": "Equal", "value": "value3"},
                    {},
                ]
            },
        },
        want="""
            # HELP kube_pod_tolerations Information about the pod tolerations
            # TYPE kube_pod_tolerations gauge
            kube_pod_tolerations{effect="",key="",namespace="ns1",operator="",pod="pod1",toleration_seconds="",uid="uid1",value=""} 1
            kube_pod_tolerations{effect="",key="key2",namespace="ns1",operator="Exists",pod="pod1",toleration_seconds="",uid="uid1",value=""} 1
            kube_pod_tolerations{effect="",key="key3",namespace="ns1",operator="Equal",pod="pod1",toleration_seconds="",uid="uid1",value="value3"} 1
            kube_pod_tolerations{effect="NoSchedule",key="key1",namespace="ns1",operator="Equal",pod="pod1",toleration_seconds="",uid="uid1",value="value1"} 1
        """,
        names=["kube_pod_tolerations"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"serviceAccountName": "service-account-name"},
        },
        want="""
            # HELP kube_pod_service_account The service account for a pod.
            # TYPE kube_pod_service_account gauge
            kube_pod_service_account{namespace="ns1",pod="pod1",service_account="service-account-name",uid="uid1"} 1
        """,
        names=["kube_pod_service_account"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod1", "namespace": "ns1", "uid": "uid1"},
            "spec": {"schedulerName": "scheduler1"},
        },
        want="""
            # HELP kube_pod_scheduler The scheduler for a pod.
            # TYPE kube_pod_scheduler gauge
            kube_pod_scheduler{namespace="ns1",pod="pod1",name="scheduler1",uid="uid1"} 1
        """,
        names=["kube_pod_scheduler"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod8", "namespace": "ns8", "uid": "uid8"},
            "spec": {
                "initContainers": [
                    {"name": "initcontainer1", "image": "k8s.gcr.io/init1_spec"},
                    {"name": "initcontainer2", "image": "k8s.gcr.io/init2_spec"},
                ]
            },
            "status": {
                "initContainerStatuses": [
                    {"name": "initcontainer1", "state": {"running": {"startedAt": "2017-08-03T16:16:58Z"}}},
                    {
                        "name": "initcontainer2",
                        "state": {"terminated": {"startedAt": "2017-08-03T16:16:58Z"}},
                    },
                ]
            },
        },
        want="""
            # HELP kube_pod_init_container_state_started Start time in unix timestamp for a pod init container.
            # TYPE kube_pod_init_container_state_started gauge
            kube_pod_init_container_state_started{container="initcontainer1",namespace="ns8",pod="pod8",uid="uid8"} 1.501777018e+09
            kube_pod_init_container_state_started{container="initcontainer2",namespace="ns8",pod="pod8",uid="uid8"} 1.501777018e+09
        """,
        names=["kube_pod_init_container_state_started"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "pod9", "namespace": "ns9", "uid": "uid9"},
            "spec": {"initContainers": [{"name": "initcontainer1", "image": "k8s.gcr.io/init1_spec"}]},
            "status": {
                "initContainerStatuses": [
                    {
                        "name": "initcontainer1",
                        "state": {"running": {"startedAt": "2017-08-03T16:16:58Z"}},
                        "lastState": {
                            "terminated": {
                                "reason": "OOMKilled",
                                "exitCode": 137,
                                "finishedAt": "2017-08-03T16:59:07Z",
                            }
                        },
                    }
                ]
            },
        },
        want="""
            # HELP kube_pod_init_container_state_started Start time in unix timestamp for a pod init container.
            # HELP kube_pod_init_container_status_last_terminated_exitcode Describes the exit code for the last init container in terminated state.
            # HELP kube_pod_init_container_status_last_terminated_timestamp Last terminated time for a pod init container in unix timestamp.
            # TYPE kube_pod_init_container_state_started gauge
            # TYPE kube_pod_init_container_status_last_terminated_exitcode gauge
            # TYPE kube_pod_init_container_status_last_terminated_timestamp gauge
            kube_pod_init_container_state_started{container="initcontainer1",namespace="ns9",pod="pod9",uid="uid9"} 1.501777018e+09
            kube_pod_init_container_status_last_terminated_exitcode{container="initcontainer1",namespace="ns9",pod="pod9",uid="uid9"} 137
            kube_pod_init_container_status_last_terminated_timestamp{container="initcontainer1",namespace="ns9",pod="pod9",uid="uid9"} 1.501779547e+09
        """,
        names=[
            "kube_pod_init_container_state_started",
            "kube_pod_init_container_status_last_terminated_exitcode",
            "kube_pod_init_container_status_last_terminated_timestamp",
        ],
    ),
]


def _case_id(i: int, c: KsmCase) -> str:
    return f"{i:02d}-{c.names[0].removeprefix('kube_pod_')}"


@pytest.mark.parametrize("case", POD_STORE_CASES, ids=[_case_id(i, c) for i, c in enumerate(POD_STORE_CASES)])
def test_ksm_pod_store_case(case: KsmCase) -> None:
    got = render("pods", case.obj, labels=case.labels, annotations=case.annotations)
    assert_ksm_equal(got, case.want, case.names)


def _reasons(text: str, family: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if line.startswith(family + "{"):
            _, pairs, value = parse_line(line)
            assert value == "1"
            out.append(dict(pairs)["reason"])
    return sorted(out)


# TestHasPodStatusReason: a reason counts wherever the pod carries it (status.reason, a condition's
# reason, a current container termination); KSM's helper is checked through the family, with a
# reason the family knows.
@pytest.mark.parametrize(
    ("status", "want"),
    [
        ({"reason": "Evicted"}, ["Evicted"]),
        ({"conditions": [{"reason": "Evicted"}]}, ["Evicted"]),
        ({"containerStatuses": [{"state": {"terminated": {"reason": "Evicted"}}}]}, ["Evicted"]),
        (
            {
                "reason": "OtherReason",
                "conditions": [{"reason": "NotTestReason"}],
                "containerStatuses": [{"state": {"terminated": {"reason": "AnotherReason"}}}],
            },
            ["Other"],
        ),
    ],
    ids=["status-reason", "condition-reason", "container-terminated-reason", "no-match"],
)
def test_ksm_has_pod_status_reason(status: dict[str, Any], want: list[str]) -> None:
    got = render("pods", {"metadata": {"name": "p"}, "status": status})
    assert _reasons(got, "kube_pod_status_reason") == want


# TestPodStatusReasonFamilyGeneratorOtherFallback
@pytest.mark.parametrize(
    ("status_reason", "condition", "container", "want"),
    [
        ("", "", "", []),
        ("Evicted", "", "", ["Evicted"]),
        ("SomeFutureReason", "", "", ["Other"]),
        ("", "SomeFutureConditionReason", "", []),
        ("", "", "OOMKilled", []),
    ],
    ids=[
        "empty-status-reason-emits-nothing",
        "known-status-reason-unaffected",
        "unrecognized-status-reason-is-other",
        "unrecognized-condition-reason-is-not-other",
        "unrecognized-container-reason-is-not-other",
    ],
)
def test_ksm_status_reason_other_fallback(
    status_reason: str, condition: str, container: str, want: list[str]
) -> None:
    status: dict[str, Any] = {"reason": status_reason}
    if condition:
        status["conditions"] = [{"reason": condition}]
    if container:
        status["containerStatuses"] = [{"state": {"terminated": {"reason": container}}}]
    got = render("pods", {"metadata": {"name": "p"}, "status": status})
    assert _reasons(got, "kube_pod_status_reason") == want


def test_ksm_tolerations_deduplicated_with_toleration_seconds() -> None:
    """TestKubePodTolerations_DeduplicatesDuplicateEntries_WithTolerationSeconds."""
    key1 = {"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoSchedule"}
    key2 = {"key": "key2", "operator": "Exists"}
    pod = {
        "metadata": {"name": "dup-tolerations-pod-ts", "namespace": "default", "uid": "testuid-ts"},
        "spec": {
            "tolerations": [
                {**key1, "tolerationSeconds": 3600},
                {**key1, "tolerationSeconds": 3600},
                {**key1, "tolerationSeconds": 1800},
                {**key2, "tolerationSeconds": 0},
                {**key2, "tolerationSeconds": 0},
                key2,
            ]
        },
    }
    want = """
        # HELP kube_pod_tolerations Information about the pod tolerations
        # TYPE kube_pod_tolerations gauge
        kube_pod_tolerations{namespace="default",pod="dup-tolerations-pod-ts",uid="testuid-ts",key="key1",operator="Equal",value="value1",effect="NoSchedule",toleration_seconds="3600"} 1
        kube_pod_tolerations{namespace="default",pod="dup-tolerations-pod-ts",uid="testuid-ts",key="key1",operator="Equal",value="value1",effect="NoSchedule",toleration_seconds="1800"} 1
        kube_pod_tolerations{namespace="default",pod="dup-tolerations-pod-ts",uid="testuid-ts",key="key2",operator="Exists",value="",effect="",toleration_seconds="0"} 1
        kube_pod_tolerations{namespace="default",pod="dup-tolerations-pod-ts",uid="testuid-ts",key="key2",operator="Exists",value="",effect="",toleration_seconds=""} 1
    """
    assert_ksm_equal(render("pods", pod), want, ["kube_pod_tolerations"])


# TestPodStatusDisruptionReasonFamilyGenerator
@pytest.mark.parametrize(
    ("conditions", "want"),
    [
        ([], []),
        ([{"type": "DisruptionTarget", "reason": "PreemptionByScheduler"}], ["PreemptionByScheduler"]),
        ([{"type": "DisruptionTarget", "reason": "DeletionByTaintManager"}], ["DeletionByTaintManager"]),
        ([{"type": "DisruptionTarget", "reason": "EvictionByEvictionAPI"}], ["EvictionByEvictionAPI"]),
        ([{"type": "DisruptionTarget", "reason": "DeletionByPodGC"}], ["DeletionByPodGC"]),
        ([{"type": "DisruptionTarget", "reason": "TerminationByKubelet"}], ["TerminationByKubelet"]),
        ([{"type": "DisruptionTarget", "reason": "SomeFutureReason"}], ["Other"]),
        ([{"type": "Ready", "reason": "EvictionByEvictionAPI"}], []),
    ],
    ids=[
        "no-conditions",
        "PreemptionByScheduler",
        "DeletionByTaintManager",
        "EvictionByEvictionAPI",
        "DeletionByPodGC",
        "TerminationByKubelet",
        "unknown-is-other",
        "reason-on-another-condition-type",
    ],
)
def test_ksm_status_disruption_reason(conditions: list[dict[str, str]], want: list[str]) -> None:
    got = render("pods", {"metadata": {"name": "p"}, "status": {"conditions": conditions}})
    assert _reasons(got, "kube_pod_status_disruption_reason") == want


def test_ksm_benchmark_pod_has_sixty_families() -> None:
    """BenchmarkPodStore's check: composing every pod family yields 60 families."""
    assert len(all_resources()["pods"].families(options())) == 60


# pkg/app/server_test.go: the pod that TestFullScrapeCycle creates (index 0)
SCRAPE_POD = {
    "metadata": {
        "name": "pod0",
        "creationTimestamp": "2017-07-14T02:40:00Z",
        "namespace": "default",
        "uid": "abc-0",
    },
    "spec": {
        "schedulerName": "scheduler1",
        "restartPolicy": "Always",
        "nodeName": "node1",
        "containers": [
            {
                "image": "k8s.gcr.io/hyperkube2_spec",
                "name": "pod1_con1",
                "resources": {
                    "requests": {
                        "cpu": "200m",
                        "memory": "100M",
                        "ephemeral-storage": "300M",
                        "storage": "400M",
                        "nvidia.com/gpu": "1",
                    },
                    "limits": {
                        "cpu": "200m",
                        "memory": "100M",
                        "ephemeral-storage": "300M",
                        "storage": "400M",
                        "nvidia.com/gpu": "1",
                    },
                },
            },
            {
                "image": "k8s.gcr.io/hyperkube3_spec",
                "name": "pod1_con2",
                "resources": {
                    "requests": {"cpu": "300m", "memory": "200M"},
                    "limits": {"cpu": "300m", "memory": "200M"},
                },
            },
        ],
    },
    "status": {
        "hostIP": "1.1.1.1",
        "podIP": "1.2.3.4",
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "pod1_con1",
                "image": "k8s.gcr.io/hyperkube2",
                "imageID": "docker://sha256:bbb",
                "containerID": "docker://cd456",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {
                    "terminated": {
                        "finishedAt": "2017-08-03T16:59:07Z",
                        "reason": "OOMKilled",
                        "exitCode": 137,
                    }
                },
            },
            {
                "name": "pod1_con2",
                "image": "k8s.gcr.io/hyperkube3",
                "imageID": "docker://sha256:ccc",
                "containerID": "docker://ef789",
            },
        ],
    },
}

SCRAPE_WANT = """# HELP kube_pod_annotations Kubernetes annotations converted to Prometheus labels.
# HELP kube_pod_completion_time [STABLE] Completion time in unix timestamp for a pod.
# HELP kube_pod_container_info [STABLE] Information about a container in a pod.
# HELP kube_pod_container_resource_limits [STABLE] The number of requested limit resource by a container. It is recommended to use the kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.
# HELP kube_pod_container_resource_requests [STABLE] The number of requested request resource by a container. It is recommended to use the kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.
# HELP kube_pod_container_state_started [STABLE] Start time in unix timestamp for a pod container.
# HELP kube_pod_container_status_last_terminated_exitcode Describes the exit code for the last container in terminated state.
# HELP kube_pod_container_status_last_terminated_reason Describes the last reason the container was in terminated state.
# HELP kube_pod_container_status_last_terminated_timestamp Last terminated time for a pod container in unix timestamp.
# HELP kube_pod_container_status_ready [STABLE] Describes whether the containers readiness check succeeded.
# HELP kube_pod_container_status_restarts_total [STABLE] The number of container restarts per container.
# HELP kube_pod_container_status_running [STABLE] Describes whether the container is currently in running state.
# HELP kube_pod_container_status_terminated [STABLE] Describes whether the container is currently in terminated state.
# HELP kube_pod_container_status_terminated_reason Describes the reason the container is currently in terminated state.
# HELP kube_pod_container_status_waiting [STABLE] Describes whether the container is currently in waiting state.
# HELP kube_pod_container_status_waiting_reason [STABLE] Describes the reason the container is currently in waiting state.
# HELP kube_pod_created [STABLE] Unix creation timestamp
# HELP kube_pod_deletion_timestamp Unix deletion timestamp
# HELP kube_pod_info [STABLE] Information about pod.
# HELP kube_pod_init_container_info [STABLE] Information about an init container in a pod.
# HELP kube_pod_init_container_resource_limits The number of requested limit resource by an init container.
# HELP kube_pod_init_container_resource_requests The number of requested request resource by an init container.
# HELP kube_pod_init_container_state_started Start time in unix timestamp for a pod init container.
# HELP kube_pod_init_container_status_last_terminated_exitcode Describes the exit code for the last init container in terminated state.
# HELP kube_pod_init_container_status_last_terminated_reason Describes the last reason the init container was in terminated state.
# HELP kube_pod_init_container_status_last_terminated_timestamp Last terminated time for a pod init container in unix timestamp.
# HELP kube_pod_init_container_status_ready [STABLE] Describes whether the init containers readiness check succeeded.
# HELP kube_pod_init_container_status_restarts_total [STABLE] The number of restarts for the init container.
# HELP kube_pod_init_container_status_running [STABLE] Describes whether the init container is currently in running state.
# HELP kube_pod_init_container_status_terminated [STABLE] Describes whether the init container is currently in terminated state.
# HELP kube_pod_init_container_status_terminated_reason Describes the reason the init container is currently in terminated state.
# HELP kube_pod_init_container_status_waiting [STABLE] Describes whether the init container is currently in waiting state.
# HELP kube_pod_init_container_status_waiting_reason Describes the reason the init container is currently in waiting state.
# HELP kube_pod_ips Pod IP addresses
# HELP kube_pod_labels [STABLE] Kubernetes labels converted to Prometheus labels.
# HELP kube_pod_overhead_cpu_cores The pod overhead in regards to cpu cores associated with running a pod.
# HELP kube_pod_overhead_memory_bytes The pod overhead in regards to memory associated with running a pod.
# HELP kube_pod_resourceclaim_info Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim object name.
# HELP kube_pod_runtimeclass_name_info The runtimeclass associated with the pod.
# HELP kube_pod_scheduler The scheduler for a pod.
# HELP kube_pod_service_account The service account for a pod.
# HELP kube_pod_owner [STABLE] Information about the Pod's owner.
# HELP kube_pod_restart_policy [STABLE] Describes the restart policy in use by this pod.
# HELP kube_pod_spec_volumes_persistentvolumeclaims_info [STABLE] Information about persistentvolumeclaim and ephemeral volumes in a pod.
# HELP kube_pod_spec_volumes_persistentvolumeclaims_readonly [STABLE] Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always report 0 since the ephemeral volume source does not support a read-only flag.
# HELP kube_pod_start_time [STABLE] Start time in unix timestamp for a pod.
# HELP kube_pod_status_container_ready_time Readiness achieved time in unix timestamp for a pod containers.
# HELP kube_pod_status_disruption_reason The pod disruption condition reason
# HELP kube_pod_status_initialized_time Initialized time in unix timestamp for a pod.
# HELP kube_pod_status_qos_class The pods current qosClass.
# HELP kube_pod_status_phase [STABLE] The pods current phase.
# HELP kube_pod_status_ready_time Readiness achieved time in unix timestamp for a pod.
# HELP kube_pod_status_ready [STABLE] Describes whether the pod is ready to serve requests.
# HELP kube_pod_status_reason The pod status reasons
# HELP kube_pod_status_scheduled [STABLE] Describes the status of the scheduling process for the pod.
# HELP kube_pod_status_scheduled_time [STABLE] Unix timestamp when pod moved into scheduled status
# HELP kube_pod_status_unschedulable [STABLE] Describes the unschedulable status for the pod.
# HELP kube_pod_status_unscheduled_time Unix timestamp when pod moved into unscheduled status
# HELP kube_pod_tolerations Information about the pod tolerations
# TYPE kube_pod_annotations gauge
# TYPE kube_pod_completion_time gauge
# TYPE kube_pod_container_info gauge
# TYPE kube_pod_container_resource_limits gauge
# TYPE kube_pod_container_resource_requests gauge
# TYPE kube_pod_container_state_started gauge
# TYPE kube_pod_container_status_last_terminated_exitcode gauge
# TYPE kube_pod_container_status_last_terminated_reason gauge
# TYPE kube_pod_container_status_last_terminated_timestamp gauge
# TYPE kube_pod_container_status_ready gauge
# TYPE kube_pod_container_status_restarts_total counter
# TYPE kube_pod_container_status_running gauge
# TYPE kube_pod_container_status_terminated gauge
# TYPE kube_pod_container_status_terminated_reason gauge
# TYPE kube_pod_container_status_waiting gauge
# TYPE kube_pod_container_status_waiting_reason gauge
# TYPE kube_pod_created gauge
# TYPE kube_pod_deletion_timestamp gauge
# TYPE kube_pod_info gauge
# TYPE kube_pod_init_container_info gauge
# TYPE kube_pod_init_container_resource_limits gauge
# TYPE kube_pod_init_container_resource_requests gauge
# TYPE kube_pod_init_container_state_started gauge
# TYPE kube_pod_init_container_status_last_terminated_exitcode gauge
# TYPE kube_pod_init_container_status_last_terminated_reason gauge
# TYPE kube_pod_init_container_status_last_terminated_timestamp gauge
# TYPE kube_pod_init_container_status_ready gauge
# TYPE kube_pod_init_container_status_restarts_total counter
# TYPE kube_pod_init_container_status_running gauge
# TYPE kube_pod_init_container_status_terminated gauge
# TYPE kube_pod_init_container_status_terminated_reason gauge
# TYPE kube_pod_init_container_status_waiting gauge
# TYPE kube_pod_init_container_status_waiting_reason gauge
# TYPE kube_pod_ips gauge
# TYPE kube_pod_labels gauge
# TYPE kube_pod_overhead_cpu_cores gauge
# TYPE kube_pod_overhead_memory_bytes gauge
# TYPE kube_pod_resourceclaim_info gauge
# TYPE kube_pod_runtimeclass_name_info gauge
# TYPE kube_pod_scheduler gauge
# TYPE kube_pod_service_account gauge
# TYPE kube_pod_owner gauge
# TYPE kube_pod_restart_policy gauge
# TYPE kube_pod_spec_volumes_persistentvolumeclaims_info gauge
# TYPE kube_pod_spec_volumes_persistentvolumeclaims_readonly gauge
# TYPE kube_pod_start_time gauge
# TYPE kube_pod_status_container_ready_time gauge
# TYPE kube_pod_status_disruption_reason gauge
# TYPE kube_pod_status_initialized_time gauge
# TYPE kube_pod_status_phase gauge
# TYPE kube_pod_status_qos_class gauge
# TYPE kube_pod_status_ready gauge
# TYPE kube_pod_status_ready_time gauge
# TYPE kube_pod_status_reason gauge
# TYPE kube_pod_status_scheduled gauge
# TYPE kube_pod_status_scheduled_time gauge
# TYPE kube_pod_status_unschedulable gauge
# TYPE kube_pod_status_unscheduled_time gauge
# TYPE kube_pod_tolerations gauge
kube_pod_container_info{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",image_spec="k8s.gcr.io/hyperkube2_spec",image="k8s.gcr.io/hyperkube2",image_id="docker://sha256:bbb",container_id="docker://cd456"} 1
kube_pod_container_info{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2",image_spec="k8s.gcr.io/hyperkube3_spec",image="k8s.gcr.io/hyperkube3",image_id="docker://sha256:ccc",container_id="docker://ef789"} 1
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="cpu",unit="core"} 0.2
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="ephemeral_storage",unit="byte"} 3e+08
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="memory",unit="byte"} 1e+08
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="nvidia_com_gpu",unit="integer"} 1
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="storage",unit="byte"} 4e+08
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2",node="node1",resource="cpu",unit="core"} 0.3
kube_pod_container_resource_limits{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2",node="node1",resource="memory",unit="byte"} 2e+08
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="cpu",unit="core"} 0.2
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="ephemeral_storage",unit="byte"} 3e+08
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="memory",unit="byte"} 1e+08
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="nvidia_com_gpu",unit="integer"} 1
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",node="node1",resource="storage",unit="byte"} 4e+08
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2",node="node1",resource="cpu",unit="core"} 0.3
kube_pod_container_resource_requests{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2",node="node1",resource="memory",unit="byte"} 2e+08
kube_pod_container_status_last_terminated_exitcode{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 137
kube_pod_container_status_last_terminated_reason{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",reason="OOMKilled"} 1
kube_pod_container_status_last_terminated_timestamp{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 1.501779547e+09
kube_pod_container_status_ready{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 0
kube_pod_container_status_ready{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2"} 0
kube_pod_container_status_restarts_total{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 0
kube_pod_container_status_restarts_total{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2"} 0
kube_pod_container_status_running{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 0
kube_pod_container_status_running{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2"} 0
kube_pod_container_status_terminated{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 0
kube_pod_container_status_terminated{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2"} 0
kube_pod_container_status_waiting_reason{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1",reason="CrashLoopBackOff"} 1
kube_pod_container_status_waiting{namespace="default",pod="pod0",uid="abc-0",container="pod1_con1"} 1
kube_pod_container_status_waiting{namespace="default",pod="pod0",uid="abc-0",container="pod1_con2"} 0
kube_pod_created{namespace="default",pod="pod0",uid="abc-0"} 1.5e+09
kube_pod_info{namespace="default",pod="pod0",uid="abc-0",host_ip="1.1.1.1",pod_ip="1.2.3.4",node="node1",created_by_kind="",created_by_name="",priority_class="",host_network="false"} 1
kube_pod_owner{namespace="default",pod="pod0",uid="abc-0",owner_kind="",owner_name="",owner_is_controller=""} 1
kube_pod_restart_policy{namespace="default",pod="pod0",uid="abc-0",type="Always"} 1
kube_pod_scheduler{namespace="default",pod="pod0",uid="abc-0",name="scheduler1"} 1
kube_pod_service_account{namespace="default",pod="pod0",uid="abc-0",service_account=""} 1
kube_pod_status_phase{namespace="default",pod="pod0",uid="abc-0",phase="Failed"} 0
kube_pod_status_phase{namespace="default",pod="pod0",uid="abc-0",phase="Pending"} 0
kube_pod_status_phase{namespace="default",pod="pod0",uid="abc-0",phase="Running"} 1
kube_pod_status_phase{namespace="default",pod="pod0",uid="abc-0",phase="Succeeded"} 0
kube_pod_status_phase{namespace="default",pod="pod0",uid="abc-0",phase="Unknown"} 0
"""


def test_ksm_full_scrape_cycle_pod_with_real_label_order() -> None:
    """TestFullScrapeCycle compares whole lines (label order included), opt-in families off."""
    spec = all_resources()["pods"]
    families = [f for f in spec.families(options()) if not f.opt_in]
    body = render_checked(spec, families, [decode_object(spec, SCRAPE_POD)])
    got = sorted(line for line in body.strip().split("\n") if "kube_pod_" in line)
    assert got == sorted(SCRAPE_WANT.strip().split("\n"))
