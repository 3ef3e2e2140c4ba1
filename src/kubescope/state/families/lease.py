"""Lease families (``kube_lease_*``); identity label ``lease`` (the namespace is an extra label).

Sample::

    kube_lease_owner{lease="node-1",owner_kind="Node",owner_name="node-1",namespace="kube-node-lease",lease_holder="node-1"} 1
    kube_lease_renew_time{lease="node-1",namespace="kube-node-lease"} 1.7e+09
"""

from __future__ import annotations

import datetime as dt

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import Family, FamilyOptions, ResourceSpec
from kubescope.state.text import esc, gf, is_go_zero, ts


class LeaseSpec(Wire):
    holder_identity: str | None = None
    renew_time: dt.datetime | None = None


class Lease(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: LeaseSpec = msgspec.field(default_factory=LeaseSpec)


def _identity(o: Lease) -> str:
    return f'lease="{esc(o.metadata.name)}"'


def _owner(o: Lease, lp: str) -> str:
    holder = esc(o.spec.holder_identity or "")
    ns = esc(o.metadata.namespace)
    owners = o.metadata.owner_references
    if not owners:
        return f'{lp},owner_kind="",owner_name="",namespace="{ns}",lease_holder="{holder}"}} 1\n'
    return "".join(
        [
            f'{lp},owner_kind="{esc(r.kind)}",owner_name="{esc(r.name)}",namespace="{ns}",lease_holder="{holder}"}} 1\n'
            for r in owners
        ]
    )


def _renew(o: Lease, lp: str) -> str:
    t = o.spec.renew_time
    if is_go_zero(t):
        return ""
    return f'{lp},namespace="{esc(o.metadata.namespace)}"}} {gf(ts(t) or 0)}\n'


def families(opts: FamilyOptions) -> list[Family]:
    return [
        Family("kube_lease_owner", "Information about the Lease's owner.", "gauge", "ALPHA", _owner),
        Family("kube_lease_renew_time", "Kube lease renew time.", "gauge", "ALPHA", _renew),
    ]


RESOURCE = ResourceSpec(
    name="leases",
    group="coordination.k8s.io",
    version="v1",
    kind="Lease",
    namespaced=True,
    struct=Lease,
    identity=_identity,
    families=families,
)
