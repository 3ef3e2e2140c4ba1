"""Node families, ported from KSM's internal/store/node_test.go, plus odd cases."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

INFO = {
    "kernelVersion": "kernel",
    "kubeletVersion": "kubelet",
    "kubeProxyVersion": "kubeproxy",
    "osImage": "osimage",
    "containerRuntimeVersion": "rkt",
    "systemUUID": "6a934e21-5207-4a84-baea-3a952d926c80",
}


def test_family_names_in_ksm_order() -> None:
    names = [f.name for f in all_resources()["nodes"].families(FamilyOptions())]
    assert names == [
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


def test_info_and_unschedulable() -> None:
    node = {
        "metadata": {"name": "127.0.0.1"},
        "status": {"nodeInfo": INFO, "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}]},
        "spec": {"providerID": "provider://i-uniqueid", "podCIDR": "172.24.10.0/24"},
    }
    want = """
        # HELP kube_node_info [STABLE] Information about a cluster node.
        # HELP kube_node_labels [STABLE] Kubernetes labels converted to Prometheus labels.
        # HELP kube_node_spec_unschedulable [STABLE] Whether a node can schedule new pods.
        # TYPE kube_node_info gauge
        # TYPE kube_node_labels gauge
        # TYPE kube_node_spec_unschedulable gauge
        kube_node_info{container_runtime_version="rkt",kernel_version="kernel",kubelet_version="kubelet",kubeproxy_version="deprecated",node="127.0.0.1",os_image="osimage",pod_cidr="172.24.10.0/24",provider_id="provider://i-uniqueid",internal_ip="1.2.3.4",system_uuid="6a934e21-5207-4a84-baea-3a952d926c80"} 1
        kube_node_spec_unschedulable{node="127.0.0.1"} 0
    """
    got = render("nodes", node)
    assert_ksm_equal(got, want, ["kube_node_spec_unschedulable", "kube_node_labels", "kube_node_info"])
    assert label_names(got, "kube_node_info") == [
        [
            "node",
            "kernel_version",
            "os_image",
            "container_runtime_version",
            "kubelet_version",
            "kubeproxy_version",
            "provider_id",
            "pod_cidr",
            "system_uuid",
            "internal_ip",
        ]
    ]


def test_empty_node() -> None:
    want = """
        # HELP kube_node_info [STABLE] Information about a cluster node.
        # TYPE kube_node_info gauge
        kube_node_info{container_runtime_version="",kernel_version="",kubelet_version="",kubeproxy_version="deprecated",node="",os_image="",pod_cidr="",provider_id="",internal_ip="",system_uuid=""} 1
    """
    assert_ksm_equal(render("nodes", {}), want, ["kube_node_info"])


def _full(memory_capacity: str) -> dict[str, object]:
    return {
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
            "nodeInfo": INFO,
            "addresses": [{"type": "InternalIP", "address": "1.2.3.4"}],
            "capacity": {
                "cpu": "4.3",
                "memory": memory_capacity,
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
    }


FULL_NAMES = [
    "kube_node_status_capacity",
    "kube_node_status_allocatable",
    "kube_node_spec_unschedulable",
    "kube_node_labels",
    "kube_node_role",
    "kube_node_info",
    "kube_node_created",
]
FULL_HEADERS = """
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
    kube_node_status_capacity{node="127.0.0.1",resource="nvidia_com_gpu",unit="integer"} 4
    kube_node_status_capacity{node="127.0.0.1",resource="pods",unit="integer"} 1000
    kube_node_status_capacity{node="127.0.0.1",resource="storage",unit="byte"} 3e+09
"""


def test_capacity_allocatable_roles_created() -> None:
    want = FULL_HEADERS + 'kube_node_status_capacity{node="127.0.0.1",resource="memory",unit="byte"} 2e+09\n'
    assert_ksm_equal(render("nodes", _full("2G")), want, FULL_NAMES)


def test_huge_memory_beyond_milli_precision() -> None:
    want = FULL_HEADERS + 'kube_node_status_capacity{node="127.0.0.1",resource="memory",unit="byte"} 1e+16\n'
    assert_ksm_equal(render("nodes", _full("10000T")), want, FULL_NAMES)


def _conditions(name: str, status: str) -> dict[str, object]:
    return {
        "metadata": {"name": name},
        "status": {
            "conditions": [
                {"type": "NetworkUnavailable", "status": status},
                {"type": "Ready", "status": status},
                {"type": "CustomizedType", "status": status},
            ]
        },
    }


def test_conditions_true_unknown_false() -> None:
    for name, status in (("127.0.0.1", "True"), ("127.0.0.2", "Unknown"), ("127.0.0.3", "False")):
        lines = [
            "# HELP kube_node_status_condition [STABLE] The condition of a cluster node.",
            "# TYPE kube_node_status_condition gauge",
        ]
        for cond in ("CustomizedType", "NetworkUnavailable", "Ready"):
            for s in ("true", "false", "unknown"):
                v = 1 if s == status.lower() else 0
                lines.append(
                    f'kube_node_status_condition{{condition="{cond}",node="{name}",status="{s}"}} {v}'
                )
        got = render("nodes", _conditions(name, status))
        assert_ksm_equal(got, "\n".join(lines), ["kube_node_status_condition"])
        assert label_names(got, "kube_node_status_condition")[0] == ["node", "condition", "status"]


def test_taints() -> None:
    node = {
        "metadata": {"name": "127.0.0.1"},
        "spec": {
            "taints": [
                {"key": "node.kubernetes.io/memory-pressure", "value": "true", "effect": "PreferNoSchedule"},
                {"key": "Accelerated", "value": "gpu", "effect": "PreferNoSchedule"},
                {"key": "Dedicated", "effect": "PreferNoSchedule"},
            ]
        },
    }
    want = """
        # HELP kube_node_spec_taint [STABLE] The taint of a cluster node.
        # TYPE kube_node_spec_taint gauge
        kube_node_spec_taint{effect="PreferNoSchedule",key="Dedicated",node="127.0.0.1",value=""} 1
        kube_node_spec_taint{effect="PreferNoSchedule",key="Accelerated",node="127.0.0.1",value="gpu"} 1
        kube_node_spec_taint{effect="PreferNoSchedule",key="node.kubernetes.io/memory-pressure",node="127.0.0.1",value="true"} 1
    """
    assert_ksm_equal(render("nodes", node), want, ["kube_node_spec_taint"])


def test_pod_cidrs() -> None:
    node = {"metadata": {"name": "127.0.0.1"}, "spec": {"podCIDRs": ["10.244.0.0/24", "2001:db8::/64"]}}
    want = """
        # HELP kube_node_spec_pod_cidrs The pod CIDRs of a cluster node.
        # TYPE kube_node_spec_pod_cidrs gauge
        kube_node_spec_pod_cidrs{node="127.0.0.1",pod_cidr="10.244.0.0/24"} 1
        kube_node_spec_pod_cidrs{node="127.0.0.1",pod_cidr="2001:db8::/64"} 1
    """
    assert_ksm_equal(render("nodes", node), want, ["kube_node_spec_pod_cidrs"])


def test_addresses_and_last_internal_ip_in_info() -> None:
    node = {
        "metadata": {"name": "127.0.0.1"},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "1.2.3.4"},
                {"type": "InternalIP", "address": "fc00::"},
                {"type": "ExternalIP", "address": "5.6.7.8"},
                {"type": "ExternalIP", "address": "2001:db8::"},
            ]
        },
    }
    want = """
        # HELP kube_node_status_addresses Node address information.
        # TYPE kube_node_status_addresses gauge
        kube_node_status_addresses{node="127.0.0.1",type="InternalIP",address="1.2.3.4"} 1
        kube_node_status_addresses{node="127.0.0.1",type="InternalIP",address="fc00::"} 1
        kube_node_status_addresses{node="127.0.0.1",type="ExternalIP",address="5.6.7.8"} 1
        kube_node_status_addresses{node="127.0.0.1",type="ExternalIP",address="2001:db8::"} 1
    """
    got = render("nodes", node)
    assert_ksm_equal(got, want, ["kube_node_status_addresses"])
    assert 'internal_ip="fc00::"' in got


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
            }
        },
    }
    got = render("nodes", node)
    assert sample_value(got, "kube_node_status_capacity", {"resource": "cpu"}) is None
    assert sample_value(got, "kube_node_status_capacity", {"resource": "memory"}) == 1073741824
    assert (
        sample_value(got, "kube_node_status_capacity", {"resource": "hugepages_2Mi", "unit": "byte"})
        == 4194304
    )
    assert (
        sample_value(
            got, "kube_node_status_capacity", {"resource": "attachable_volumes_aws_ebs", "unit": "byte"}
        )
        == 25
    )
    assert (
        sample_value(got, "kube_node_status_capacity", {"resource": "example_com_fpga", "unit": "integer"})
        == 2
    )
    assert sample_value(got, "kube_node_status_capacity", {"resource": "foo"}) is None
    assert sample_value(got, "kube_node_status_capacity", {"resource": "kubernetes_io_batteries"}) is None


def test_labels_allowlist_and_escaping() -> None:
    node = {"metadata": {"name": 'we"ird\\node', "labels": {"topology.kubernetes.io/zone": "a\nb", "x": "y"}}}
    got = render("nodes", node, labels=["topology.kubernetes.io/zone"])
    assert 'kube_node_labels{node="we\\"ird\\\\node",label_topology_kubernetes_io_zone="a\\nb"} 1' in got
