"""NetworkPolicy families (``kube_networkpolicy_*``); identity labels ``namespace,networkpolicy``.

Sample::

    kube_networkpolicy_spec_ingress_rules{namespace="shop",networkpolicy="default-deny"} 1
"""

from __future__ import annotations

from typing import Any

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    gauge_family,
    labels_family,
)
from kubescope.state.text import esc


class NetworkPolicySpec(Wire):
    ingress: list[Any] = msgspec.field(default_factory=list)
    egress: list[Any] = msgspec.field(default_factory=list)


class NetworkPolicy(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NetworkPolicySpec = msgspec.field(default_factory=NetworkPolicySpec)


def _identity(o: NetworkPolicy) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",networkpolicy="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_networkpolicy"
    return [
        created_family(p, "ALPHA", "Unix creation timestamp of network policy"),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels, "ALPHA"),
        gauge_family(
            f"{p}_spec_ingress_rules",
            "Number of ingress rules on the networkpolicy",
            "ALPHA",
            lambda o: len(o.spec.ingress),
        ),
        gauge_family(
            f"{p}_spec_egress_rules",
            "Number of egress rules on the networkpolicy",
            "ALPHA",
            lambda o: len(o.spec.egress),
        ),
    ]


RESOURCE = ResourceSpec(
    name="networkpolicies",
    group="networking.k8s.io",
    version="v1",
    kind="NetworkPolicy",
    namespaced=True,
    struct=NetworkPolicy,
    identity=_identity,
    families=families,
)
