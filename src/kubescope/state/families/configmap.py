"""ConfigMap families (``kube_configmap_*``); identity labels ``namespace,configmap``.

Sample::

    kube_configmap_info{namespace="ns1",configmap="cm1"} 1
    kube_configmap_created{namespace="ns1",configmap="cm1"} 1.501569018e+09
    kube_configmap_metadata_resource_version{namespace="ns1",configmap="cm1"} 123456
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
    resource_version_family,
)
from kubescope.state.text import esc


class ConfigMap(Wire):
    # Only metadata is read: data/binaryData (up to 1 MiB each) are skipped by the decoder.
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


def _identity(o: ConfigMap) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",configmap="{esc(m.name)}"'


def _info(o: ConfigMap, lp: str) -> str:
    return f"{lp}}} 1\n"


def families(opts: FamilyOptions) -> list[Family]:
    return [
        annotations_family("kube_configmap", opts.annotations),
        labels_family("kube_configmap", opts.labels),
        Family("kube_configmap_info", "Information about configmap.", "gauge", "STABLE", _info),
        created_family("kube_configmap"),
        resource_version_family(
            "kube_configmap", help="Resource version representing a specific version of the configmap."
        ),
    ]


RESOURCE = ResourceSpec(
    name="configmaps",
    group="",
    version="v1",
    kind="ConfigMap",
    namespaced=True,
    struct=ConfigMap,
    identity=_identity,
    families=families,
)
