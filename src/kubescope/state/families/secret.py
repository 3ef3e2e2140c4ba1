"""Secret families (``kube_secret_*``); identity labels ``namespace,secret``.

Secret data is never decoded (the Struct declares no ``data``; msgspec skips it) and never exported.

Sample::

    kube_secret_type{namespace="shop",secret="api-tls",type="kubernetes.io/tls"} 1
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
    owner_family,
    resource_version_family,
)
from kubescope.state.text import esc


class Secret(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    type: str = ""


def _identity(o: Secret) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",secret="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_secret"
    return [
        Family(f"{p}_info", "Information about secret.", "gauge", "STABLE", lambda o, lp: f"{lp}}} 1\n"),
        Family(
            f"{p}_type",
            "Type about secret.",
            "gauge",
            "STABLE",
            lambda o, lp: f'{lp},type="{esc(o.type)}"}} 1\n',
        ),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        created_family(p),
        resource_version_family(p, help="Resource version representing a specific version of secret."),
        owner_family(p, "ALPHA", "Information about the Secret's owner."),
    ]


RESOURCE = ResourceSpec(
    name="secrets",
    group="",
    version="v1",
    kind="Secret",
    namespaced=True,
    struct=Secret,
    identity=_identity,
    families=families,
)
