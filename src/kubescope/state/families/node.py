"""Node families (``kube_node_*``); identity label ``node``.

Sample::

    kube_node_info{node="node-1",kernel_version="6.1.0",os_image="Debian",container_runtime_version="containerd://1.7",kubelet_version="v1.36.1",kubeproxy_version="deprecated",provider_id="aws:///i-1",pod_cidr="10.64.1.0/24",system_uuid="...",internal_ip="172.20.0.1"} 1
    kube_node_status_capacity{node="node-1",resource="cpu",unit="core"} 4
    kube_node_status_condition{node="node-1",condition="Ready",status="true"} 1
"""

from __future__ import annotations

from functools import lru_cache

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, ksm_float
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    deletion_timestamp_family,
    labels_family,
)
from kubescope.state.text import esc, gf, resource_units, sanitize_label_name


class Taint(Wire):
    key: str = ""
    value: str = ""
    effect: str = ""


class NodeSpec(Wire):
    pod_cidr: str = msgspec.field(default="", name="podCIDR")
    pod_cidrs: list[str] = msgspec.field(default_factory=list, name="podCIDRs")
    provider_id: str = msgspec.field(default="", name="providerID")
    taints: list[Taint] = msgspec.field(default_factory=list)
    unschedulable: bool = False


class NodeAddress(Wire):
    type: str = ""
    address: str = ""


class NodeCondition(Wire):
    type: str = ""
    status: str = ""


class NodeSystemInfo(Wire):
    kernel_version: str = ""
    os_image: str = msgspec.field(default="", name="osImage")
    container_runtime_version: str = ""
    kubelet_version: str = ""
    system_uuid: str = msgspec.field(default="", name="systemUUID")


class NodeStatus(Wire):
    capacity: dict[str, str] = msgspec.field(default_factory=dict)
    allocatable: dict[str, str] = msgspec.field(default_factory=dict)
    conditions: list[NodeCondition] = msgspec.field(default_factory=list)
    addresses: list[NodeAddress] = msgspec.field(default_factory=list)
    node_info: NodeSystemInfo = msgspec.field(default_factory=NodeSystemInfo)


class Node(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)


def _identity(o: Node) -> str:
    return f'node="{esc(o.metadata.name)}"'


def _info(o: Node, lp: str) -> str:
    ni = o.status.node_info
    internal = ""
    for a in o.status.addresses:
        if a.type == "InternalIP":
            internal = a.address  # KSM keeps the last one
    return (
        f'{lp},kernel_version="{esc(ni.kernel_version)}",os_image="{esc(ni.os_image)}",'
        f'container_runtime_version="{esc(ni.container_runtime_version)}",kubelet_version="{esc(ni.kubelet_version)}",'
        f'kubeproxy_version="deprecated",provider_id="{esc(o.spec.provider_id)}",pod_cidr="{esc(o.spec.pod_cidr)}",'
        f'system_uuid="{esc(ni.system_uuid)}",internal_ip="{esc(internal)}"}} 1\n'
    )


_ROLE_PREFIX = "node-role.kubernetes.io/"


def _role(o: Node, lp: str) -> str:
    return "".join(
        f'{lp},role="{esc(k[len(_ROLE_PREFIX) :])}"}} 1\n'
        for k in sorted(o.metadata.labels)
        if k.startswith(_ROLE_PREFIX)
    )


def _pod_cidrs(o: Node, lp: str) -> str:
    return "".join(f'{lp},pod_cidr="{esc(c)}"}} 1\n' for c in o.spec.pod_cidrs)


def _taint(o: Node, lp: str) -> str:
    return "".join(
        f'{lp},key="{esc(t.key)}",value="{esc(t.value)}",effect="{esc(t.effect)}"}} 1\n'
        for t in o.spec.taints
    )


def _unschedulable(o: Node, lp: str) -> str:
    return f"{lp}}} {1 if o.spec.unschedulable else 0}\n"


@lru_cache(maxsize=4096)
def _resource_tails(name: str, quantity: str) -> tuple[str, ...]:
    """``,resource="<name>",unit="<unit>"} <value>\\n`` per unit; milli-precise for every resource.

    Nodes repeat the same capacities, hence the cache. An invalid quantity yields no series.
    """
    units = resource_units(name, node=True)
    if not units:
        return ()
    try:
        v = gf(ksm_float(quantity))
    except QuantityError:
        return ()
    label = sanitize_label_name(name)
    return tuple(f',resource="{label}",unit="{u}"}} {v}\n' for u in units)


def _resources(lp: str, resources: dict[str, str]) -> str:
    tails = [t for name, q in resources.items() for t in _resource_tails(name, q)]
    return lp + lp.join(tails) if tails else ""


def _allocatable(o: Node, lp: str) -> str:
    return _resources(lp, o.status.allocatable)


def _capacity(o: Node, lp: str) -> str:
    return _resources(lp, o.status.capacity)


def _condition(o: Node, lp: str) -> str:
    out = []
    for c in o.status.conditions:
        s = c.status
        p = f'{lp},condition="{esc(c.type)}",status='
        out.append(
            f'{p}"true"}} {1 if s == "True" else 0}\n'
            f'{p}"false"}} {1 if s == "False" else 0}\n'
            f'{p}"unknown"}} {1 if s == "Unknown" else 0}\n'
        )
    return "".join(out)


def _addresses(o: Node, lp: str) -> str:
    return "".join(f'{lp},type="{esc(a.type)}",address="{esc(a.address)}"}} 1\n' for a in o.status.addresses)


def families(opts: FamilyOptions) -> list[Family]:
    return [
        annotations_family("kube_node", opts.annotations),
        created_family("kube_node"),
        deletion_timestamp_family("kube_node"),
        Family("kube_node_info", "Information about a cluster node.", "gauge", "STABLE", _info),
        labels_family("kube_node", opts.labels),
        Family("kube_node_role", "The role of a cluster node.", "gauge", "ALPHA", _role),
        Family("kube_node_spec_pod_cidrs", "The pod CIDRs of a cluster node.", "gauge", "ALPHA", _pod_cidrs),
        Family("kube_node_spec_taint", "The taint of a cluster node.", "gauge", "STABLE", _taint),
        Family(
            "kube_node_spec_unschedulable",
            "Whether a node can schedule new pods.",
            "gauge",
            "STABLE",
            _unschedulable,
        ),
        Family(
            "kube_node_status_allocatable",
            "The allocatable for different resources of a node that are available for scheduling.",
            "gauge",
            "STABLE",
            _allocatable,
        ),
        Family(
            "kube_node_status_capacity",
            "The capacity for different resources of a node.",
            "gauge",
            "STABLE",
            _capacity,
        ),
        Family(
            "kube_node_status_condition", "The condition of a cluster node.", "gauge", "STABLE", _condition
        ),
        Family("kube_node_status_addresses", "Node address information.", "gauge", "ALPHA", _addresses),
    ]


RESOURCE = ResourceSpec(
    name="nodes",
    group="",
    version="v1",
    kind="Node",
    namespaced=False,
    struct=Node,
    identity=_identity,
    families=families,
)
