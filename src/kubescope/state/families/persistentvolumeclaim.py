"""PersistentVolumeClaim families (``kube_persistentvolumeclaim_*``); identity ``namespace,persistentvolumeclaim``.

Sample::

    kube_persistentvolumeclaim_info{namespace="shop",persistentvolumeclaim="data-db-0",storageclass="standard",volumename="pvc-1",volumemode="Filesystem"} 1
    kube_persistentvolumeclaim_resource_requests_storage_bytes{namespace="shop",persistentvolumeclaim="data-db-0"} 1.073741824e+10
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import Condition, ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, int_value
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    conditions_family,
    created_family,
    deletion_timestamp_family,
    labels_family,
)
from kubescope.state.text import esc, gf

BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


class PVCResources(Wire):
    requests: dict[str, str] = msgspec.field(default_factory=dict)


class PVCSpec(Wire):
    storage_class_name: str | None = None
    volume_name: str = ""
    volume_mode: str | None = None
    access_modes: list[str] = msgspec.field(default_factory=list)
    resources: PVCResources = msgspec.field(default_factory=PVCResources)


class PVCStatus(Wire):
    phase: str = ""
    conditions: list[Condition] = msgspec.field(default_factory=list)


class PersistentVolumeClaim(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PVCSpec = msgspec.field(default_factory=PVCSpec)
    status: PVCStatus = msgspec.field(default_factory=PVCStatus)


def _identity(o: PersistentVolumeClaim) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",persistentvolumeclaim="{esc(o.metadata.name)}"'


def _storage_class(o: PersistentVolumeClaim) -> str:
    ann = o.metadata.annotations
    if BETA_STORAGE_CLASS_ANNOTATION in ann:
        return ann[BETA_STORAGE_CLASS_ANNOTATION]
    return o.spec.storage_class_name or ""


def _info(o: PersistentVolumeClaim, lp: str) -> str:
    return (
        f'{lp},storageclass="{esc(_storage_class(o))}",volumename="{esc(o.spec.volume_name)}",'
        f'volumemode="{esc(o.spec.volume_mode or "")}"}} 1\n'
    )


_PHASES = ("Lost", "Bound", "Pending")


def _phase(o: PersistentVolumeClaim, lp: str) -> str:
    ph = o.status.phase
    if not ph:
        return ""
    return "".join([f'{lp},phase="{p}"}} {1 if p == ph else 0}\n' for p in _PHASES])


def _storage(o: PersistentVolumeClaim, lp: str) -> str:
    q = o.spec.resources.requests.get("storage")
    if q is None:
        return ""
    try:
        return f"{lp}}} {gf(int_value(q))}\n"
    except QuantityError:
        return ""


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_persistentvolumeclaim"
    return [
        labels_family(p, opts.labels),
        annotations_family(p, opts.annotations),
        Family(f"{p}_info", "Information about persistent volume claim.", "gauge", "STABLE", _info),
        Family(
            f"{p}_status_phase",
            "The phase the persistent volume claim is currently in.",
            "gauge",
            "STABLE",
            _phase,
        ),
        Family(
            f"{p}_resource_requests_storage_bytes",
            "The capacity of storage requested by the persistent volume claim.",
            "gauge",
            "STABLE",
            _storage,
        ),
        Family(
            f"{p}_access_mode",
            "The access mode(s) specified by the persistent volume claim.",
            "gauge",
            "STABLE",
            lambda o, lp: "".join([f'{lp},access_mode="{esc(m)}"}} 1\n' for m in o.spec.access_modes]),
        ),
        conditions_family(
            f"{p}_status_condition",
            "Information about status of different conditions of persistent volume claim.",
            "ALPHA",
            lambda o: o.status.conditions,
        ),
        created_family(p, "ALPHA"),
        deletion_timestamp_family(p),
    ]


RESOURCE = ResourceSpec(
    name="persistentvolumeclaims",
    group="",
    version="v1",
    kind="PersistentVolumeClaim",
    namespaced=True,
    struct=PersistentVolumeClaim,
    identity=_identity,
    families=families,
)
