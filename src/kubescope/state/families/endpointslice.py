"""EndpointSlice families (``kube_endpointslice_*``); identity labels ``endpointslice,namespace``.

Sample::

    kube_endpointslice_endpoints{endpointslice="api-x2x4q",namespace="shop",ready="true",serving="true",hostname="",terminating="false",targetref_kind="Pod",targetref_name="api-1",targetref_namespace="shop",endpoint_nodename="node-1",endpoint_zone="zone-a",address="10.64.0.12"} 1
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


class EndpointConditions(Wire):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class TargetRef(Wire):
    kind: str = ""
    name: str = ""
    namespace: str = ""


class ForZone(Wire):
    name: str = ""


class Hints(Wire):
    for_zones: list[ForZone] = msgspec.field(default_factory=list)


class Endpoint(Wire):
    addresses: list[str] = msgspec.field(default_factory=list)
    conditions: EndpointConditions = msgspec.field(default_factory=EndpointConditions)
    hostname: str | None = None
    target_ref: TargetRef | None = None
    node_name: str | None = None
    zone: str | None = None
    hints: Hints | None = None


class Port(Wire):
    name: str | None = None
    protocol: str | None = None
    port: int | None = None


class EndpointSlice(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    address_type: str = ""
    endpoints: list[Endpoint] = msgspec.field(default_factory=list)
    ports: list[Port] = msgspec.field(default_factory=list)


def _identity(o: EndpointSlice) -> str:
    return f'endpointslice="{esc(o.metadata.name)}",namespace="{esc(o.metadata.namespace)}"'


def _b(v: bool | None) -> str:
    return "" if v is None else ("true" if v else "false")


def _hints(o: EndpointSlice, lp: str) -> str:
    out: list[str] = []
    for ep in o.endpoints:
        if ep.hints is None or not ep.hints.for_zones or not ep.addresses:
            continue
        addr = esc(ep.addresses[0])
        out.extend(f'{lp},address="{addr}",for_zone="{esc(z.name)}"}} 1\n' for z in ep.hints.for_zones)
    return "".join(out)


def _endpoints(o: EndpointSlice, lp: str) -> str:
    out: list[str] = []
    for ep in o.endpoints:
        c = ep.conditions
        tr = ep.target_ref
        head = (
            f'{lp},ready="{_b(c.ready)}",serving="{_b(c.serving)}",hostname="{esc(ep.hostname or "")}",'
            f'terminating="{_b(c.terminating)}",targetref_kind="{esc(tr.kind) if tr else ""}",'
            f'targetref_name="{esc(tr.name) if tr else ""}",targetref_namespace="{esc(tr.namespace) if tr else ""}",'
            f'endpoint_nodename="{esc(ep.node_name or "")}",endpoint_zone="{esc(ep.zone or "")}",address="'
        )
        out.extend(f'{head}{esc(a)}"}} 1\n' for a in ep.addresses)
    return "".join(out)


def _ports(o: EndpointSlice, lp: str) -> str:
    return "".join(
        [
            f'{lp},port_name="{esc(p.name or "")}",port_protocol="{esc(p.protocol or "")}",'
            f'port_number="{"" if p.port is None else p.port}"}} 1\n'
            for p in o.ports
        ]
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_endpointslice"
    return [
        Family(
            f"{p}_info",
            "Information about endpointslice.",
            "gauge",
            "ALPHA",
            lambda o, lp: f'{lp},addresstype="{esc(o.address_type)}"}} 1\n',
        ),
        created_family(p, "ALPHA"),
        Family(
            f"{p}_endpoints_hints", "Topology routing hints attached to endpoints", "gauge", "ALPHA", _hints
        ),
        Family(f"{p}_endpoints", "Endpoints attached to the endpointslice.", "gauge", "ALPHA", _endpoints),
        Family(f"{p}_ports", "Ports attached to the endpointslice.", "gauge", "ALPHA", _ports),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels, "ALPHA"),
    ]


RESOURCE = ResourceSpec(
    name="endpointslices",
    group="discovery.k8s.io",
    version="v1",
    kind="EndpointSlice",
    namespaced=True,
    struct=EndpointSlice,
    identity=_identity,
    families=families,
)
