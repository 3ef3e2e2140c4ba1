"""ServiceAccount families (``kube_serviceaccount_*``; not a default resource); identity labels
``namespace,serviceaccount,uid``.

Sample::

    kube_serviceaccount_info{namespace="shop",serviceaccount="api",uid="...",automount_token="true"} 1
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


class Reference(Wire):
    name: str = ""


class ServiceAccount(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    automount_service_account_token: bool | None = None
    secrets: list[Reference] = msgspec.field(default_factory=list)
    image_pull_secrets: list[Reference] = msgspec.field(default_factory=list)


def _identity(o: ServiceAccount) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",serviceaccount="{esc(m.name)}",uid="{esc(m.uid)}"'


def _info(o: ServiceAccount, lp: str) -> str:
    a = o.automount_service_account_token
    token = "" if a is None else ("true" if a else "false")
    return f'{lp},automount_token="{token}"}} 1\n'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_serviceaccount"
    deleted = deletion_timestamp_family(p)
    return [
        Family(f"{p}_info", "Information about a service account", "gauge", "ALPHA", _info),
        created_family(p, "ALPHA"),
        Family(f"{p}_deleted", "Unix deletion timestamp", "gauge", "ALPHA", deleted.fn),
        Family(
            f"{p}_secret",
            "Secret being referenced by a service account",
            "gauge",
            "ALPHA",
            lambda o, lp: "".join([f'{lp},name="{esc(s.name)}"}} 1\n' for s in o.secrets]),
        ),
        Family(
            f"{p}_image_pull_secret",
            "Secret being referenced by a service account for the purpose of pulling images",
            "gauge",
            "ALPHA",
            lambda o, lp: "".join([f'{lp},name="{esc(s.name)}"}} 1\n' for s in o.image_pull_secrets]),
        ),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels, "ALPHA"),
    ]


RESOURCE = ResourceSpec(
    name="serviceaccounts",
    group="",
    version="v1",
    kind="ServiceAccount",
    namespaced=True,
    struct=ServiceAccount,
    identity=_identity,
    families=families,
    default=False,
)
