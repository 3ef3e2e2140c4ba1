"""Service families (``kube_service_*``); identity labels ``namespace,service,uid``.

Sample::

    kube_service_info{namespace="shop",service="api",uid="...",cluster_ip="10.96.0.12",external_name="",load_balancer_ip="",external_traffic_policy=""} 1
    kube_service_spec_type{namespace="shop",service="api",uid="...",type="ClusterIP"} 1
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    deletion_timestamp_family,
    labels_family,
)
from kubescope.state.text import esc


class ServiceSpec(Wire):
    type: str = ""
    cluster_ip: str = msgspec.field(default="", name="clusterIP")
    external_name: str = ""
    load_balancer_ip: str = msgspec.field(default="", name="loadBalancerIP")
    external_traffic_policy: str = ""
    external_ips: list[str] = msgspec.field(default_factory=list, name="externalIPs")


class LBIngress(Wire):
    ip: str = ""
    hostname: str = ""


class LoadBalancerStatus(Wire):
    ingress: list[LBIngress] = msgspec.field(default_factory=list)


class ServiceStatus(Wire):
    load_balancer: LoadBalancerStatus = msgspec.field(default_factory=LoadBalancerStatus)


class Service(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ServiceSpec = msgspec.field(default_factory=ServiceSpec)
    status: ServiceStatus = msgspec.field(default_factory=ServiceStatus)


def _identity(o: Service) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",service="{esc(m.name)}",uid="{esc(m.uid)}"'


def _info(o: Service, lp: str) -> str:
    s = o.spec
    return (
        f'{lp},cluster_ip="{esc(s.cluster_ip)}",external_name="{esc(s.external_name)}",'
        f'load_balancer_ip="{esc(s.load_balancer_ip)}",external_traffic_policy="{esc(s.external_traffic_policy)}"}} 1\n'
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_service"
    return [
        Family(f"{p}_info", "Information about service.", "gauge", "STABLE", _info),
        created_family(p),
        Family(
            f"{p}_spec_type",
            "Type about service.",
            "gauge",
            "STABLE",
            lambda o, lp: f'{lp},type="{esc(o.spec.type)}"}} 1\n',
        ),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        Family(
            f"{p}_spec_external_ip",
            "Service external ips. One series for each ip",
            "gauge",
            "STABLE",
            lambda o, lp: "".join([f'{lp},external_ip="{esc(ip)}"}} 1\n' for ip in o.spec.external_ips]),
        ),
        Family(
            f"{p}_status_load_balancer_ingress",
            "Service load balancer ingress status",
            "gauge",
            "STABLE",
            lambda o, lp: "".join(
                [
                    f'{lp},ip="{esc(i.ip)}",hostname="{esc(i.hostname)}"}} 1\n'
                    for i in o.status.load_balancer.ingress
                ]
            ),
        ),
        deletion_timestamp_family(p),
    ]


RESOURCE = ResourceSpec(
    name="services",
    group="",
    version="v1",
    kind="Service",
    namespaced=True,
    struct=Service,
    identity=_identity,
    families=families,
)
