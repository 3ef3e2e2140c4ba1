"""ResourceQuota families (``kube_resourcequota*``); identity labels ``namespace,resourcequota``.

Sample::

    kube_resourcequota{namespace="shop",resourcequota="compute",resource="requests.cpu",type="hard"} 40
    kube_resourcequota{namespace="shop",resourcequota="compute",resource="count/deployments.apps",type="used"} 12
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, ksm_float
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    labels_family,
)
from kubescope.state.text import esc, gf


class QuotaStatus(Wire):
    hard: dict[str, str] = msgspec.field(default_factory=dict)
    used: dict[str, str] = msgspec.field(default_factory=dict)


class ResourceQuota(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: QuotaStatus = msgspec.field(default_factory=QuotaStatus)


def _identity(o: ResourceQuota) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",resourcequota="{esc(o.metadata.name)}"'


def _quota(o: ResourceQuota, lp: str) -> str:
    out = []
    for typ, values in (("hard", o.status.hard), ("used", o.status.used)):
        for res in sorted(values):
            try:
                v = ksm_float(values[res])
            except QuantityError:
                continue
            # the resource name is written as is (requests.cpu, count/deployments.apps): not sanitized
            out.append(f'{lp},resource="{esc(res)}",type="{typ}"}} {gf(v)}\n')
    return "".join(out)


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_resourcequota"
    return [
        created_family(p),
        Family(p, "Information about resource quota.", "gauge", "STABLE", _quota),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
    ]


RESOURCE = ResourceSpec(
    name="resourcequotas",
    group="",
    version="v1",
    kind="ResourceQuota",
    namespaced=True,
    struct=ResourceQuota,
    identity=_identity,
    families=families,
)
