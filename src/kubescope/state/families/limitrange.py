"""LimitRange families (``kube_limitrange*``); identity labels ``namespace,limitrange``.

Sample::

    kube_limitrange{namespace="shop",limitrange="defaults",resource="cpu",type="Container",constraint="max"} 4
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, ksm_float
from kubescope.state.family import Family, FamilyOptions, ResourceSpec, created_family
from kubescope.state.text import esc, gf


class LimitRangeItem(Wire):
    type: str = ""
    min: dict[str, str] = msgspec.field(default_factory=dict)
    max: dict[str, str] = msgspec.field(default_factory=dict)
    default: dict[str, str] = msgspec.field(default_factory=dict)
    default_request: dict[str, str] = msgspec.field(default_factory=dict)
    max_limit_request_ratio: dict[str, str] = msgspec.field(default_factory=dict)


class LimitRangeSpec(Wire):
    limits: list[LimitRangeItem] = msgspec.field(default_factory=list)


class LimitRange(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: LimitRangeSpec = msgspec.field(default_factory=LimitRangeSpec)


def _identity(o: LimitRange) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",limitrange="{esc(o.metadata.name)}"'


def _limits(o: LimitRange, lp: str) -> str:
    out = []
    for item in o.spec.limits:
        for constraint, values in (
            ("min", item.min),
            ("max", item.max),
            ("default", item.default),
            ("defaultRequest", item.default_request),
            ("maxLimitRequestRatio", item.max_limit_request_ratio),
        ):
            for res in sorted(values):
                try:
                    v = ksm_float(values[res])
                except QuantityError:
                    continue
                out.append(
                    f'{lp},resource="{esc(res)}",type="{esc(item.type)}",constraint="{constraint}"}} {gf(v)}\n'
                )
    return "".join(out)


def families(opts: FamilyOptions) -> list[Family]:
    return [
        Family("kube_limitrange", "Information about limit range.", "gauge", "STABLE", _limits),
        created_family("kube_limitrange"),
    ]


RESOURCE = ResourceSpec(
    name="limitranges",
    group="",
    version="v1",
    kind="LimitRange",
    namespaced=True,
    struct=LimitRange,
    identity=_identity,
    families=families,
)
