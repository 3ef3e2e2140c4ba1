"""StorageClass families (``kube_storageclass_*``); identity label ``storageclass``.

Sample::

    kube_storageclass_info{storageclass="standard",provisioner="ebs.csi.aws.com",reclaim_policy="Delete",volume_binding_mode="WaitForFirstConsumer"} 1
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


class StorageClass(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    provisioner: str = ""
    reclaim_policy: str | None = None
    volume_binding_mode: str | None = None


def _identity(o: StorageClass) -> str:
    return f'storageclass="{esc(o.metadata.name)}"'


def _info(o: StorageClass, lp: str) -> str:
    # the API server defaults these; KSM fills the same defaults when they are missing
    reclaim = o.reclaim_policy if o.reclaim_policy is not None else "Delete"
    binding = o.volume_binding_mode if o.volume_binding_mode is not None else "Immediate"
    return (
        f'{lp},provisioner="{esc(o.provisioner)}",reclaim_policy="{esc(reclaim)}",'
        f'volume_binding_mode="{esc(binding)}"}} 1\n'
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_storageclass"
    return [
        Family(f"{p}_info", "Information about storageclass.", "gauge", "STABLE", _info),
        created_family(p),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
    ]


RESOURCE = ResourceSpec(
    name="storageclasses",
    group="storage.k8s.io",
    version="v1",
    kind="StorageClass",
    namespaced=False,
    struct=StorageClass,
    identity=_identity,
    families=families,
)
