"""PersistentVolume families (``kube_persistentvolume_*``); identity label ``persistentvolume``.

Sample::

    kube_persistentvolume_status_phase{persistentvolume="pvc-1",phase="Bound"} 1
    kube_persistentvolume_capacity_bytes{persistentvolume="pvc-1"} 1.073741824e+10
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, int_value
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    deletion_timestamp_family,
    labels_family,
)
from kubescope.state.text import esc, gf


class ClaimRef(Wire):
    name: str = ""
    namespace: str = ""


class GCEPD(Wire):
    pd_name: str = ""


class EBS(Wire):
    volume_id: str = msgspec.field(default="", name="volumeID")


class AzureDisk(Wire):
    disk_name: str = ""


class FC(Wire):
    lun: int | None = None
    target_wwns: list[str] = msgspec.field(default_factory=list, name="targetWWNs")
    wwids: list[str] = msgspec.field(default_factory=list)


class ISCSI(Wire):
    target_portal: str = ""
    iqn: str = ""
    lun: int = 0
    initiator_name: str | None = None


class NFS(Wire):
    server: str = ""
    path: str = ""


class CSI(Wire):
    driver: str = ""
    volume_handle: str = ""
    volume_attributes: dict[str, str] = msgspec.field(default_factory=dict)


class Local(Wire):
    path: str = ""
    fs_type: str | None = None


class HostPath(Wire):
    path: str = ""
    type: str | None = None


class PVSpec(Wire):
    claim_ref: ClaimRef | None = None
    storage_class_name: str = ""
    persistent_volume_reclaim_policy: str = ""
    capacity: dict[str, str] = msgspec.field(default_factory=dict)
    volume_mode: str | None = None
    access_modes: list[str] = msgspec.field(default_factory=list)
    gce_persistent_disk: GCEPD | None = None
    aws_elastic_block_store: EBS | None = None
    azure_disk: AzureDisk | None = None
    fc: FC | None = None
    iscsi: ISCSI | None = None
    nfs: NFS | None = None
    csi: CSI | None = None
    local: Local | None = None
    host_path: HostPath | None = None


class PVStatus(Wire):
    phase: str = ""


class PersistentVolume(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PVSpec = msgspec.field(default_factory=PVSpec)
    status: PVStatus = msgspec.field(default_factory=PVStatus)


def _identity(o: PersistentVolume) -> str:
    return f'persistentvolume="{esc(o.metadata.name)}"'


def _claim_ref(o: PersistentVolume, lp: str) -> str:
    c = o.spec.claim_ref
    if c is None:
        return ""
    return f'{lp},name="{esc(c.name)}",claim_namespace="{esc(c.namespace)}"}} 1\n'


_PHASES = ("Pending", "Available", "Bound", "Released", "Failed")


def _phase(o: PersistentVolume, lp: str) -> str:
    ph = o.status.phase
    if not ph:
        return ""
    return "".join([f'{lp},phase="{p}"}} {1 if p == ph else 0}\n' for p in _PHASES])


def _info(o: PersistentVolume, lp: str) -> str:
    s = o.spec
    v = dict.fromkeys(
        (
            "gce",
            "ebs",
            "azure",
            "fc_wwids",
            "fc_lun",
            "fc_wwns",
            "portal",
            "iqn",
            "iscsi_lun",
            "initiator",
            "nfs_server",
            "nfs_path",
            "csi_driver",
            "csi_handle",
            "local_path",
            "local_fs",
            "host_path",
            "host_type",
        ),
        "",
    )
    # the first source present wins, in this order (a PV has exactly one)
    if s.gce_persistent_disk is not None:
        v["gce"] = s.gce_persistent_disk.pd_name
    elif s.aws_elastic_block_store is not None:
        v["ebs"] = s.aws_elastic_block_store.volume_id
    elif s.azure_disk is not None:
        v["azure"] = s.azure_disk.disk_name
    elif s.fc is not None:
        v["fc_lun"] = "" if s.fc.lun is None else str(s.fc.lun)
        v["fc_wwns"] = ",".join(s.fc.target_wwns)
        v["fc_wwids"] = ",".join(s.fc.wwids)
    elif s.iscsi is not None:
        v["portal"] = s.iscsi.target_portal
        v["iqn"] = s.iscsi.iqn
        v["iscsi_lun"] = str(s.iscsi.lun)
        v["initiator"] = s.iscsi.initiator_name or ""
    elif s.nfs is not None:
        v["nfs_server"] = s.nfs.server
        v["nfs_path"] = s.nfs.path
    elif s.csi is not None:
        v["csi_driver"] = s.csi.driver
        v["csi_handle"] = s.csi.volume_handle
    elif s.local is not None:
        v["local_path"] = s.local.path
        v["local_fs"] = s.local.fs_type or ""
    elif s.host_path is not None:
        v["host_path"] = s.host_path.path
        v["host_type"] = s.host_path.type or ""
    e = {k: esc(x) for k, x in v.items()}
    return (
        f'{lp},storageclass="{esc(s.storage_class_name)}",gce_persistent_disk_name="{e["gce"]}",'
        f'ebs_volume_id="{e["ebs"]}",azure_disk_name="{e["azure"]}",fc_wwids="{e["fc_wwids"]}",fc_lun="{e["fc_lun"]}",'
        f'fc_target_wwns="{e["fc_wwns"]}",iscsi_target_portal="{e["portal"]}",iscsi_iqn="{e["iqn"]}",'
        f'iscsi_lun="{e["iscsi_lun"]}",iscsi_initiator_name="{e["initiator"]}",nfs_server="{e["nfs_server"]}",'
        f'nfs_path="{e["nfs_path"]}",csi_driver="{e["csi_driver"]}",csi_volume_handle="{e["csi_handle"]}",'
        f'local_path="{e["local_path"]}",local_fs="{e["local_fs"]}",host_path="{e["host_path"]}",'
        f'host_path_type="{e["host_type"]}",reclaim_policy="{esc(s.persistent_volume_reclaim_policy)}"}} 1\n'
    )


def _capacity(o: PersistentVolume, lp: str) -> str:
    q = o.spec.capacity.get("storage")
    try:
        v = 0 if q is None else int_value(q)  # Go reads a missing quantity as zero
    except QuantityError:
        return ""
    return f"{lp}}} {gf(v)}\n"


def _csi_attributes(o: PersistentVolume, lp: str) -> str:
    c = o.spec.csi
    if c is None:
        return ""
    attrs = c.volume_attributes
    return f'{lp},csi_mounter="{esc(attrs.get("mounter", ""))}",csi_map_options="{esc(attrs.get("mapOptions", ""))}"}} 1\n'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_persistentvolume"
    return [
        Family(
            f"{p}_claim_ref",
            "Information about the Persistent Volume Claim Reference.",
            "gauge",
            "STABLE",
            _claim_ref,
        ),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        Family(
            f"{p}_status_phase",
            "The phase indicates if a volume is available, bound to a claim, or released by a claim.",
            "gauge",
            "STABLE",
            _phase,
        ),
        Family(f"{p}_info", "Information about persistentvolume.", "gauge", "STABLE", _info),
        Family(f"{p}_capacity_bytes", "Persistentvolume capacity in bytes.", "gauge", "STABLE", _capacity),
        created_family(p, "ALPHA"),
        deletion_timestamp_family(p),
        Family(
            f"{p}_csi_attributes",
            "CSI attributes of the Persistent Volume.",
            "gauge",
            "ALPHA",
            _csi_attributes,
            opt_in=True,
        ),
        Family(
            f"{p}_volume_mode",
            "Volume Mode information for the PersistentVolume.",
            "gauge",
            "ALPHA",
            lambda o, lp: f'{lp},volumemode="{esc(o.spec.volume_mode or "Filesystem")}"}} 1\n',
        ),
        Family(
            f"{p}_access_mode",
            "The access mode(s) specified by the persistent volume.",
            "gauge",
            "ALPHA",
            lambda o, lp: "".join([f'{lp},access_mode="{esc(m)}"}} 1\n' for m in o.spec.access_modes]),
        ),
    ]


RESOURCE = ResourceSpec(
    name="persistentvolumes",
    group="",
    version="v1",
    kind="PersistentVolume",
    namespaced=False,
    struct=PersistentVolume,
    identity=_identity,
    families=families,
)
