"""IngressClass families (``kube_ingressclass_*``; not a default resource); identity ``ingressclass``.

Sample::

    kube_ingressclass_info{ingressclass="nginx",controller="k8s.io/ingress-nginx"} 1
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


class IngressClassSpec(Wire):
    controller: str = ""


class IngressClass(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: IngressClassSpec = msgspec.field(default_factory=IngressClassSpec)


def _identity(o: IngressClass) -> str:
    return f'ingressclass="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_ingressclass"
    return [
        Family(
            f"{p}_info",
            "Information about ingressclass.",
            "gauge",
            "ALPHA",
            lambda o, lp: f'{lp},controller="{esc(o.spec.controller)}"}} 1\n',
        ),
        created_family(p, "ALPHA"),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels, "ALPHA"),
    ]


RESOURCE = ResourceSpec(
    name="ingressclasses",
    group="networking.k8s.io",
    version="v1",
    kind="IngressClass",
    namespaced=False,
    struct=IngressClass,
    identity=_identity,
    families=families,
    default=False,
)
