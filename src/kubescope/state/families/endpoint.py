"""Endpoints families (``kube_endpoint_*``; not a default resource); identity ``namespace,endpoint``.

Sample::

    kube_endpoint_address{namespace="shop",endpoint="api",port_protocol="TCP",port_number="8080",port_name="http",ip="10.64.0.12",ready="true"} 1
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
    labels_family,
)
from kubescope.state.text import esc


class EndpointAddress(Wire):
    ip: str = ""


class EndpointPort(Wire):
    name: str = ""
    port: int = 0
    protocol: str = ""


class EndpointSubset(Wire):
    addresses: list[EndpointAddress] = msgspec.field(default_factory=list)
    not_ready_addresses: list[EndpointAddress] = msgspec.field(default_factory=list)
    ports: list[EndpointPort] = msgspec.field(default_factory=list)


class Endpoints(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subsets: list[EndpointSubset] = msgspec.field(default_factory=list)


def _identity(o: Endpoints) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",endpoint="{esc(o.metadata.name)}"'


def _address(o: Endpoints, lp: str) -> str:
    out: list[str] = []
    for s in o.subsets:
        for port in s.ports:
            p = f'{lp},port_protocol="{esc(port.protocol)}",port_number="{port.port}",port_name="{esc(port.name)}",ip="'
            out.extend(f'{p}{esc(a.ip)}",ready="true"}} 1\n' for a in s.addresses)
            out.extend(f'{p}{esc(a.ip)}",ready="false"}} 1\n' for a in s.not_ready_addresses)
    return "".join(out)


def _ports(o: Endpoints, lp: str) -> str:
    return "".join(
        [
            f'{lp},port_name="{esc(port.name)}",port_protocol="{esc(port.protocol)}",port_number="{port.port}"}} 1\n'
            for s in o.subsets
            for port in s.ports
        ]
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_endpoint"
    return [
        Family(f"{p}_info", "Information about endpoint.", "gauge", "STABLE", lambda o, lp: f"{lp}}} 1\n"),
        created_family(p),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        Family(
            f"{p}_address",
            "Information about Endpoint available and non available addresses.",
            "gauge",
            "STABLE",
            _address,
        ),
        Family(
            f"{p}_ports",
            "Information about the Endpoint ports.",
            "gauge",
            "STABLE",
            _ports,
            deprecated_version="v2.14.0",
        ),
    ]


RESOURCE = ResourceSpec(
    name="endpoints",
    group="",
    version="v1",
    kind="Endpoints",
    namespaced=True,
    struct=Endpoints,
    identity=_identity,
    families=families,
    default=False,
)
