"""Node families: every case of KSM's ``internal/store/node_test.go`` (v2.20), the catalogue, label
order and odd inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pytest

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, parse_line, render, sample_value


class KsmCase(NamedTuple):
    obj: Mapping[str, Any]
    want: str
    names: Sequence[str]


NODE_STORE_CASES = [
    KsmCase(
        obj={
            "metadata": {"name": "127.0.0.1"},
            "status": {
                "nodeInfo": {
                    "kernelVersion": "kernel",
                    "kubeletVersion": "kubelet",
                    "kubeProxyVersion": "kubeproxy",
                    "osImage": "osimage",
                    "containerRuntimeVersion": "rkt",
                    "systemUUID": "6a934e21-5207-4a84-baea-3a952d926c80",
                },
                "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}],
            },
            "spec": {"providerID": "provider://i-uniqueid", "podCIDR": "172.24.10.0/24"},
        },
        want="""
            # HELP kube_node_info [STABLE] Information about a cluster node.
            # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # HELP kube_node_spec_unschedulable [STABLE] Whether a node can schedule new pods.
            # TYPE kube_node_info gauge
            # TYPE kube_node_labels gauge
            # TYPE kube_node_spec_unschedulable gauge
            kube_node_info{container_runtime_version="rkt",kernel_version="kernel",kubelet_version="kubelet",kubeproxy_version="deprecated",node="127.0.0.1",os_image="osimage",pod_cidr="172.24.10.0/24",provider_id="provider://i-uniqueid",internal_ip="1.2.3.4",system_uuid="6a934e21-5207-4a84-baea-3a952d926c80"} 1
            kube_node_spec_unschedulable{node="127.0.0.1"} 0
        """,
        names=["kube_node_spec_unschedulable", "kube_node_labels", "kube_node_info"],
    ),
    KsmCase(
        obj={"metadata": {}, "status": {}, "spec": {}},
        want="""
            # HELP kube_node_info [STABLE] Information about a cluster node.
            # TYPE kube_node_info gauge
            kube_node_info{container_runtime_version="",kernel_version="",kubelet_version="",kubeproxy_version="deprecated",node="",os_image="",pod_cidr="",provider_id="",internal_ip="",system_uuid=""} 1
        """,
        names=["kube_node_info"],
    ),
    KsmCase(
        obj={
            "metadata": {
                "name": "127.0.0.1",
                "creationTimestamp": "2017-07-14T02:40:00Z",
                "labels": {"node-role.kubernetes.io/master": ""},
            },
            "spec": {
                "unschedulable": True,
                "providerID": "provider://i-randomidentifier",
                "podCIDR": "172.24.10.0/24",
            },
            "status": {
                "nodeInfo": {
                    "kernelVersion": "kernel",
                    "kubeletVersion": "kubelet",
                    "kubeProxyVersion": "kubeproxy",
                    "osImage": "osimage",
                    "containerRuntimeVersion": "rkt",
                    "systemUUID": "6a934e21-5207-4a84-baea-3a952d926c80",
                },
                "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}],
                "capacity": {
                    "cpu": "4.3",
                    "memory": "2G",
                    "pods": "1000",
                    "storage": "3G",
                    "ephemeral-storage": "4G",
                    "nvidia.com/gpu": "4",
                },
                "allocatable": {
                    "cpu": "3",
                    "memory": "1G",
                    "pods": "555",
                    "storage": "2G",
                    "ephemeral-storage": "3G",
                    "nvidia.com/gpu": "1",
                },
            },
        },
        want="""
            # HELP kube_node_created [STABLE] Unix creation timestamp
            # HELP kube_node_info [STABLE] Information about a cluster node.
            # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # HELP kube_node_role The role of a cluster node.
            # HELP kube_node_spec_unschedulable [STABLE] Whether a node can schedule new pods.
            # HELP kube_node_status_allocatable [STABLE] The allocatable for different resources of a node that are available for scheduling.
            # HELP kube_node_status_capacity [STABLE] The capacity for different resources of a node.
            # TYPE kube_node_created gauge
            # TYPE kube_node_info gauge
            # TYPE kube_node_labels gauge
            # TYPE kube_node_role gauge
            # TYPE kube_node_spec_unschedulable gauge
            # TYPE kube_node_status_allocatable gauge
            # TYPE kube_node_status_capacity gauge
            kube_node_created{node="127.0.0.1"} 1.5e+09
            kube_node_info{container_runtime_version="rkt",kernel_version="kernel",kubelet_version="kubelet",kubeproxy_version="deprecated",node="127.0.0.1",os_image="osimage",pod_cidr="172.24.10.0/24",provider_id="provider://i-randomidentifier",internal_ip="1.2.3.4",system_uuid="6a934e21-5207-4a84-baea-3a952d926c80"} 1
            kube_node_role{node="127.0.0.1",role="master"} 1
            kube_node_spec_unschedulable{node="127.0.0.1"} 1
            kube_node_status_allocatable{node="127.0.0.1",resource="cpu",unit="core"} 3
            kube_node_status_allocatable{node="127.0.0.1",resource="ephemeral_storage",unit="byte"} 3e+09
            kube_node_status_allocatable{node="127.0.0.1",resource="memory",unit="byte"} 1e+09
            kube_node_status_allocatable{node="127.0.0.1",resource="nvidia_com_gpu",unit="integer"} 1
            kube_node_status_allocatable{node="127.0.0.1",resource="pods",unit="integer"} 555
            kube_node_status_allocatable{node="127.0.0.1",resource="storage",unit="byte"} 2e+09
            kube_node_status_capacity{node="127.0.0.1",resource="cpu",unit="core"} 4.3
            kube_node_status_capacity{node="127.0.0.1",resource="ephemeral_storage",unit="byte"} 4e+09
            kube_node_status_capacity{node="127.0.0.1",resource="memory",unit="byte"} 2e+09
            kube_node_status_capacity{node="127.0.0.1",resource="nvidia_com_gpu",unit="integer"} 4
            kube_node_status_capacity{node="127.0.0.1",resource="pods",unit="integer"} 1000
            kube_node_status_capacity{node="127.0.0.1",resource="storage",unit="byte"} 3e+09
        """,
        names=[
            "kube_node_status_capacity",
            "kube_node_status_allocatable",
            "kube_node_spec_unschedulable",
            "kube_node_labels",
            "kube_node_role",
            "kube_node_info",
            "kube_node_created",
        ],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "127.0.0.1"},
            "status": {
                "conditions": [
                    {"type": "NetworkUnavailable", "status": "True"},
                    {"type": "Ready", "status": "True"},
                    {"type": "CustomizedType", "status": "True"},
                ]
            },
        },
        want="""
            # HELP kube_node_status_condition [STABLE] The condition of a cluster node.
            # TYPE kube_node_status_condition gauge
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.1",status="false"} 0
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.1",status="true"} 1
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.1",status="unknown"} 0
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.1",status="false"} 0
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.1",status="true"} 1
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.1",status="unknown"} 0
            kube_node_status_condition{condition="Ready",node="127.0.0.1",status="false"} 0
            kube_node_status_condition{condition="Ready",node="127.0.0.1",status="true"} 1
            kube_node_status_condition{condition="Ready",node="127.0.0.1",status="unknown"} 0
        """,
        names=["kube_node_status_condition"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "127.0.0.2"},
            "status": {
                "conditions": [
                    {"type": "NetworkUnavailable", "status": "Unknown"},
                    {"type": "Ready", "status": "Unknown"},
                    {"type": "CustomizedType", "status": "Unknown"},
                ]
            },
        },
        want="""
            # HELP kube_node_status_condition [STABLE] The condition of a cluster node.
            # TYPE kube_node_status_condition gauge
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.2",status="false"} 0
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.2",status="true"} 0
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.2",status="unknown"} 1
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.2",status="false"} 0
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.2",status="true"} 0
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.2",status="unknown"} 1
            kube_node_status_condition{condition="Ready",node="127.0.0.2",status="false"} 0
            kube_node_status_condition{condition="Ready",node="127.0.0.2",status="true"} 0
            kube_node_status_condition{condition="Ready",node="127.0.0.2",status="unknown"} 1
        """,
        names=["kube_node_status_condition"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "127.0.0.3"},
            "status": {
                "conditions": [
                    {"type": "NetworkUnavailable", "status": "False"},
                    {"type": "Ready", "status": "False"},
                    {"type": "CustomizedType", "status": "False"},
                ]
            },
        },
        want="""
            # HELP kube_node_status_condition [STABLE] The condition of a cluster node.
            # TYPE kube_node_status_condition gauge
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.3",status="false"} 1
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.3",status="true"} 0
            kube_node_status_condition{condition="CustomizedType",node="127.0.0.3",status="unknown"} 0
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.3",status="false"} 1
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.3",status="true"} 0
            kube_node_status_condition{condition="NetworkUnavailable",node="127.0.0.3",status="unknown"} 0
            kube_node_status_condition{condition="Ready",node="127.0.0.3",status="false"} 1
            kube_node_status_condition{condition="Ready",node="127.0.0.3",status="true"} 0
            kube_node_status_condition{condition="Ready",node="127.0.0.3",status="unknown"} 0
        """,
        names=["kube_node_status_condition"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "127.0.0.1"},
            "spec": {
                "taints": [
                    {
                        "key": "node.kubernetes.io/memory-pressure",
                        "value": "true",
                        "effect": "PreferNoSchedule",
                    },
                    {"key": "Accelerated", "value": "gpu", "effect": "PreferNoSchedule"},
                    {"key": "Dedicated", "effect": "PreferNoSchedule"},
                ]
            },
        },
        want="""
            # HELP kube_node_spec_taint [STABLE] The taint of a cluster node.
            # TYPE kube_node_spec_taint gauge
            kube_node_spec_taint{effect="PreferNoSchedule",key="Dedicated",node="127.0.0.1",value=""} 1
            kube_node_spec_taint{effect="PreferNoSchedule",key="Accelerated",node="127.0.0.1",value="gpu"} 1
            kube_node_spec_taint{effect="PreferNoSchedule",key="node.kubernetes.io/memory-pressure",node="127.0.0.1",value="true"} 1
        """,
        names=["kube_node_spec_taint"],
    ),
    KsmCase(
        obj={"metadata": {"name": "127.0.0.1"}, "spec": {"podCIDRs": ["10.244.0.0/24", "2001:db8::/64"]}},
        want="""
            # HELP kube_node_spec_pod_cidrs The pod CIDRs of a cluster node.
            # TYPE kube_node_spec_pod_cidrs gauge
            kube_node_spec_pod_cidrs{node="127.0.0.1",pod_cidr="10.244.0.0/24"} 1
            kube_node_spec_pod_cidrs{node="127.0.0.1",pod_cidr="2001:db8::/64"} 1
        """,
        names=["kube_node_spec_pod_cidrs"],
    ),
    KsmCase(
        obj={
            "metadata": {"name": "127.0.0.1"},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": "1.2.3.4"},
                    {"type": "InternalIP", "address": "fc00::"},
                    {"type": "ExternalIP", "address": "5.6.7.8"},
                    {"type": "ExternalIP", "address": "2001:db8::"},
                ]
            },
        },
        want="""
            # HELP kube_node_status_addresses Node address information.
            # TYPE kube_node_status_addresses gauge
            kube_node_status_addresses{node="127.0.0.1",type="InternalIP",address="1.2.3.4"} 1
            kube_node_status_addresses{node="127.0.0.1",type="InternalIP",address="fc00::"} 1
            kube_node_status_addresses{node="127.0.0.1",type="ExternalIP",address="5.6.7.8"} 1
            kube_node_status_addresses{node="127.0.0.1",type="ExternalIP",address="2001:db8::"} 1
        """,
        names=["kube_node_status_addresses"],
    ),
    KsmCase(
        obj={
            "metadata": {
                "name": "127.0.0.1",
                "creationTimestamp": "2017-07-14T02:40:00Z",
                "labels": {"node-role.kubernetes.io/master": ""},
            },
            "spec": {
                "unschedulable": True,
                "providerID": "provider://i-randomidentifier",
                "podCIDR": "172.24.10.0/24",
            },
            "status": {
                "nodeInfo": {
                    "kernelVersion": "kernel",
                    "kubeletVersion": "kubelet",
                    "kubeProxyVersion": "kubeproxy",
                    "osImage": "osimage",
                    "containerRuntimeVersion": "rkt",
                    "systemUUID": "6a934e21-5207-4a84-baea-3a952d926c80",
                },
                "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}],
                "capacity": {
                    "cpu": "4.3",
                    "memory": "10000T",
                    "pods": "1000",
                    "storage": "3G",
                    "ephemeral-storage": "4G",
                    "nvidia.com/gpu": "4",
                },
                "allocatable": {
                    "cpu": "3",
                    "memory": "1G",
                    "pods": "555",
                    "storage": "2G",
                    "ephemeral-storage": "3G",
                    "nvidia.com/gpu": "1",
                },
            },
        },
        want="""
            # HELP kube_node_created [STABLE] Unix creation timestamp
            # HELP kube_node_info [STABLE] Information about a cluster node.
            # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
            # HELP kube_node_role The role of a cluster node.
            # HELP kube_node_spec_unschedulable [STABLE] Whether a node can schedule new pods.
            # HELP kube_node_status_allocatable [STABLE] The allocatable for different resources of a node that are available for scheduling.
            # HELP kube_node_status_capacity [STABLE] The capacity for different resources of a node.
            # TYPE kube_node_created gauge
            # TYPE kube_node_info gauge
            # TYPE kube_node_labels gauge
            # TYPE kube_node_role gauge
            # TYPE kube_node_spec_unschedulable gauge
            # TYPE kube_node_status_allocatable gauge
            # TYPE kube_node_status_capacity gauge
            kube_node_created{node="127.0.0.1"} 1.5e+09
            kube_node_info{container_runtime_version="rkt",kernel_version="kernel",kubelet_version="kubelet",kubeproxy_version="deprecated",node="127.0.0.1",os_image="osimage",pod_cidr="172.24.10.0/24",provider_id="provider://i-randomidentifier",internal_ip="1.2.3.4",system_uuid="6a934e21-5207-4a84-baea-3a952d926c80"} 1
            kube_node_role{node="127.0.0.1",role="master"} 1
            kube_node_spec_unschedulable{node="127.0.0.1"} 1
            kube_node_status_allocatable{node="127.0.0.1",resource="cpu",unit="core"} 3
            kube_node_status_allocatable{node="127.0.0.1",resource="ephemeral_storage",unit="byte"} 3e+09
            kube_node_status_allocatable{node="127.0.0.1",resource="memory",unit="byte"} 1e+09
            kube_node_status_allocatable{node="127.0.0.1",resource="nvidia_com_gpu",unit="integer"} 1
            kube_node_status_allocatable{node="127.0.0.1",resource="pods",unit="integer"} 555
            kube_node_status_allocatable{node="127.0.0.1",resource="storage",unit="byte"} 2e+09
            kube_node_status_capacity{node="127.0.0.1",resource="cpu",unit="core"} 4.3
            kube_node_status_capacity{node="127.0.0.1",resource="ephemeral_storage",unit="byte"} 4e+09
            kube_node_status_capacity{node="127.0.0.1",resource="memory",unit="byte"} 1e+16
            kube_node_status_capacity{node="127.0.0.1",resource="nvidia_com_gpu",unit="integer"} 4
            kube_node_status_capacity{node="127.0.0.1",resource="pods",unit="integer"} 1000
            kube_node_status_capacity{node="127.0.0.1",resource="storage",unit="byte"} 3e+09
        """,
        names=[
            "kube_node_status_capacity",
            "kube_node_status_allocatable",
            "kube_node_spec_unschedulable",
            "kube_node_labels",
            "kube_node_role",
            "kube_node_info",
            "kube_node_created",
        ],
    ),
]


@pytest.mark.parametrize(
    "case",
    NODE_STORE_CASES,
    ids=[f"{i:02d}-{c.names[0].removeprefix('kube_node_')}" for i, c in enumerate(NODE_STORE_CASES)],
)
def test_ksm_node_store_case(case: KsmCase) -> None:
    assert_ksm_equal(render("nodes", case.obj), case.want, case.names)


NODE_FAMILIES = [
    "kube_node_annotations",
    "kube_node_created",
    "kube_node_deletion_timestamp",
    "kube_node_info",
    "kube_node_labels",
    "kube_node_role",
    "kube_node_spec_pod_cidrs",
    "kube_node_spec_taint",
    "kube_node_spec_unschedulable",
    "kube_node_status_allocatable",
    "kube_node_status_capacity",
    "kube_node_status_condition",
    "kube_node_status_addresses",
]
"""nodeMetricFamilies' order (KSM v2.20), our emission order; the same 13 as ksm.md §3."""


def test_thirteen_families_in_ksm_order() -> None:
    fams = all_resources()["nodes"].families(FamilyOptions())
    assert [f.name for f in fams] == NODE_FAMILIES
    assert {f.name for f in fams if f.stability == "ALPHA"} == {
        "kube_node_annotations",
        "kube_node_deletion_timestamp",
        "kube_node_role",
        "kube_node_spec_pod_cidrs",
        "kube_node_status_addresses",
    }
    assert all(f.type == "gauge" and not f.opt_in for f in fams)


EVERY_FAMILY_NODE = {
    "metadata": {
        "name": "n1",
        "creationTimestamp": "2017-07-14T02:40:00Z",
        "deletionTimestamp": "2017-07-14T02:40:00Z",
        "labels": {"node-role.kubernetes.io/worker": "", "zone": "a"},
        "annotations": {"owner": "me"},
    },
    "spec": {
        "podCIDR": "10.0.0.0/24",
        "podCIDRs": ["10.0.0.0/24"],
        "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}],
    },
    "status": {
        "capacity": {"cpu": "2"},
        "allocatable": {"cpu": "1500m"},
        "conditions": [{"type": "Ready", "status": "True"}],
        "addresses": [{"type": "InternalIP", "address": "10.1.1.1"}],
    },
}

EXTRA_LABELS = {
    "kube_node_annotations": ["annotation_owner"],
    "kube_node_info": [
        "kernel_version",
        "os_image",
        "container_runtime_version",
        "kubelet_version",
        "kubeproxy_version",
        "provider_id",
        "pod_cidr",
        "system_uuid",
        "internal_ip",
    ],
    "kube_node_labels": ["label_zone"],
    "kube_node_role": ["role"],
    "kube_node_spec_pod_cidrs": ["pod_cidr"],
    "kube_node_spec_taint": ["key", "value", "effect"],
    "kube_node_status_allocatable": ["resource", "unit"],
    "kube_node_status_capacity": ["resource", "unit"],
    "kube_node_status_condition": ["condition", "status"],
    "kube_node_status_addresses": ["type", "address"],
}


def test_every_family_emits_identity_first_then_ksm_label_order() -> None:
    got = render("nodes", EVERY_FAMILY_NODE, labels=["zone"], annotations=["owner"])
    for name in NODE_FAMILIES:
        names = label_names(got, name)
        assert names, f"{name} emitted no series"
        assert all(n == ["node", *EXTRA_LABELS.get(name, [])] for n in names), (name, names)
    assert sample_value(got, "kube_node_deletion_timestamp") == 1.5e9
    assert sample_value(got, "kube_node_status_allocatable", {"resource": "cpu", "unit": "core"}) == 1.5
    assert sample_value(got, "kube_node_role", {"role": "worker"}) == 1


def test_kubeproxy_version_is_always_deprecated_and_internal_ip_is_the_last_one() -> None:
    node = {
        "metadata": {"name": "n"},
        "status": {
            "nodeInfo": {"kubeProxyVersion": "v1.36.1"},
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.1"},
                {"type": "Hostname", "address": "n"},
                {"type": "InternalIP", "address": "fd00::1"},
                {"type": "ExternalIP", "address": "1.2.3.4"},
            ],
        },
    }
    got = render("nodes", node)
    assert (
        sample_value(got, "kube_node_info", {"kubeproxy_version": "deprecated", "internal_ip": "fd00::1"})
        == 1
    )


def test_roles_one_per_role_label_including_empty_role() -> None:
    node = {
        "metadata": {
            "name": "n",
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/": "",
                "node-role.kubernetes.io/gpu": "true",
                "kubernetes.io/role": "master",
            },
        }
    }
    roles = [
        dict(parse_line(x)[1])["role"]
        for x in render("nodes", node).splitlines()
        if x.startswith("kube_node_role{")
    ]
    assert sorted(roles) == ["", "control-plane", "gpu"]


def test_odd_resources_invalid_quantity_and_unknown_names_are_skipped() -> None:
    node = {
        "metadata": {"name": "n"},
        "status": {
            "capacity": {
                "cpu": "garbage",
                "memory": "1Gi",
                "hugepages-2Mi": "4Mi",
                "attachable-volumes-aws-ebs": "25",
                "foo": "3",
                "kubernetes.io/batteries": "2",
                "example.com/fpga": "2",
                "hugepages-x.io/y": "1",
                "pods": "110",
                "cpu-ish": "1",
            }
        },
    }
    got = render("nodes", node)
    cap = "kube_node_status_capacity"
    assert sample_value(got, cap, {"resource": "cpu"}) is None
    assert sample_value(got, cap, {"resource": "memory", "unit": "byte"}) == 1073741824
    assert sample_value(got, cap, {"resource": "hugepages_2Mi", "unit": "byte"}) == 4194304
    assert sample_value(got, cap, {"resource": "attachable_volumes_aws_ebs", "unit": "byte"}) == 25
    assert sample_value(got, cap, {"resource": "example_com_fpga", "unit": "integer"}) == 2
    assert sample_value(got, cap, {"resource": "pods", "unit": "integer"}) == 110
    # independent checks in KSM: a huge page that is also an extended resource gets both units
    assert sample_value(got, cap, {"resource": "hugepages_x_io_y", "unit": "byte"}) == 1
    assert sample_value(got, cap, {"resource": "hugepages_x_io_y", "unit": "integer"}) == 1
    for skipped in ("foo", "kubernetes_io_batteries", "cpu_ish"):
        assert sample_value(got, cap, {"resource": skipped}) is None


def test_milli_precision_of_node_quantities() -> None:
    node = {
        "metadata": {"name": "n"},
        "status": {
            "allocatable": {"cpu": "3920m", "memory": "1.5", "ephemeral-storage": "0.0001", "pods": "1e3"}
        },
    }
    got = render("nodes", node)
    alloc = "kube_node_status_allocatable"
    assert sample_value(got, alloc, {"resource": "cpu"}) == 3.92
    assert sample_value(got, alloc, {"resource": "memory"}) == 1.5  # not rounded up to Value()
    assert sample_value(got, alloc, {"resource": "ephemeral_storage"}) == 0.001  # MilliValue rounds up
    assert sample_value(got, alloc, {"resource": "pods"}) == 1000


def test_condition_with_unknown_status_string_is_all_zero() -> None:
    node = {"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "Maybe"}]}}
    got = render("nodes", node)
    assert [
        sample_value(got, "kube_node_status_condition", {"status": s}) for s in ("true", "false", "unknown")
    ] == [
        0,
        0,
        0,
    ]


def test_labels_allowlist_and_escaping() -> None:
    node = {"metadata": {"name": 'we"ird\\node', "labels": {"topology.kubernetes.io/zone": "a\nb", "x": "y"}}}
    got = render("nodes", node, labels=["topology.kubernetes.io/zone"])
    assert 'kube_node_labels{node="we\\"ird\\\\node",label_topology_kubernetes_io_zone="a\\nb"} 1' in got
