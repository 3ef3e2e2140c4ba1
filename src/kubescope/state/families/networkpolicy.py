"""NetworkPolicy families (``kube_networkpolicy_*``); identity labels ``namespace,networkpolicy``.

Unlike every other ``_created`` family, ``kube_networkpolicy_created`` is written even without a
creation timestamp: KSM skips the zero check there, so Go's zero time gives ``-6.21355968e+10``.

Sample::

    kube_networkpolicy_created{namespace="shop",networkpolicy="default-deny"} 1.7e+09
    kube_networkpolicy_spec_ingress_rules{namespace="shop",networkpolicy="default-deny"} 0
    kube_networkpolicy_spec_egress_rules{namespace="shop",networkpolicy="default-deny"} 2
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    labels_family,
)
from kubescope.state.text import esc, gf, ts

GO_ZERO_TIME_UNIX = -62135596800
"""``time.Time{}.Unix()``: 0001-01-01T00:00:00Z."""


class Rule(Wire):
    """A rule is only counted: no field is declared, so the decoder skips its contents."""


class NetworkPolicySpec(Wire):
    ingress: list[Rule] = msgspec.field(default_factory=list)
    egress: list[Rule] = msgspec.field(default_factory=list)


class NetworkPolicy(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NetworkPolicySpec = msgspec.field(default_factory=NetworkPolicySpec)


def _identity(o: NetworkPolicy) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",networkpolicy="{esc(o.metadata.name)}"'


def _created(o: NetworkPolicy, lp: str) -> str:
    t = ts(o.metadata.creation_timestamp)
    return f"{lp}}} {gf(GO_ZERO_TIME_UNIX if t is None else t)}\n"


def _ingress_rules(o: NetworkPolicy, lp: str) -> str:
    return f"{lp}}} {gf(len(o.spec.ingress))}\n"


def _egress_rules(o: NetworkPolicy, lp: str) -> str:
    return f"{lp}}} {gf(len(o.spec.egress))}\n"


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_networkpolicy"
    return [
        Family(f"{p}_created", "Unix creation timestamp of network policy", "gauge", "ALPHA", _created),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels, "ALPHA"),
        Family(
            f"{p}_spec_ingress_rules",
            "Number of ingress rules on the networkpolicy",
            "gauge",
            "ALPHA",
            _ingress_rules,
        ),
        Family(
            f"{p}_spec_egress_rules",
            "Number of egress rules on the networkpolicy",
            "gauge",
            "ALPHA",
            _egress_rules,
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
