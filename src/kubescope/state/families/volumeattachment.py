"""VolumeAttachment families (``kube_volumeattachment_*``); identity label ``volumeattachment``.

Unlike other resources, ``kube_volumeattachment_labels`` carries every label (KSM applies no
allowlist to it), and ``_status_attachment_metadata`` turns the attachment metadata into
``metadata_*`` labels.

Sample::

    kube_volumeattachment_info{volumeattachment="csi-1",attacher="ebs.csi.aws.com",node="node-1"} 1
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import Family, FamilyOptions, ResourceSpec, created_family
from kubescope.state.text import esc, labels_text, map_to_prometheus_labels


class VASource(Wire):
    persistent_volume_name: str | None = None


class VASpec(Wire):
    attacher: str = ""
    node_name: str = ""
    source: VASource = msgspec.field(default_factory=VASource)


class VAStatus(Wire):
    attached: bool = False
    attachment_metadata: dict[str, str] = msgspec.field(default_factory=dict)


class VolumeAttachment(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: VASpec = msgspec.field(default_factory=VASpec)
    status: VAStatus = msgspec.field(default_factory=VAStatus)


def _identity(o: VolumeAttachment) -> str:
    return f'volumeattachment="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_volumeattachment"
    return [
        Family(
            f"{p}_labels",
            "Kubernetes labels converted to Prometheus labels.",
            "gauge",
            "ALPHA",
            lambda o, lp: f"{lp}{labels_text(map_to_prometheus_labels('label', o.metadata.labels))}}} 1\n",
        ),
        Family(
            f"{p}_info",
            "Information about volumeattachment.",
            "gauge",
            "ALPHA",
            lambda o, lp: f'{lp},attacher="{esc(o.spec.attacher)}",node="{esc(o.spec.node_name)}"}} 1\n',
        ),
        created_family(p, "ALPHA"),
        Family(
            f"{p}_spec_source_persistentvolume",
            "PersistentVolume source reference.",
            "gauge",
            "ALPHA",
            lambda o, lp: (
                ""
                if o.spec.source.persistent_volume_name is None
                else f'{lp},volumename="{esc(o.spec.source.persistent_volume_name)}"}} 1\n'
            ),
        ),
        Family(
            f"{p}_status_attached",
            "Information about volumeattachment.",
            "gauge",
            "ALPHA",
            lambda o, lp: f"{lp}}} {1 if o.status.attached else 0}\n",
        ),
        Family(
            f"{p}_status_attachment_metadata",
            "volumeattachment metadata.",
            "gauge",
            "ALPHA",
            lambda o, lp: (
                f"{lp}{labels_text(map_to_prometheus_labels('metadata', o.status.attachment_metadata))}}} 1\n"
            ),
        ),
    ]


RESOURCE = ResourceSpec(
    name="volumeattachments",
    group="storage.k8s.io",
    version="v1",
    kind="VolumeAttachment",
    namespaced=False,
    struct=VolumeAttachment,
    identity=_identity,
    families=families,
)
