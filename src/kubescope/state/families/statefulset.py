"""StatefulSet families (``kube_statefulset_*``); identity labels ``namespace,statefulset``.

Sample::

    kube_statefulset_replicas{namespace="shop",statefulset="db"} 3
    kube_statefulset_persistentvolumeclaim_retention_policy{namespace="shop",statefulset="db",when_deleted="Retain",when_scaled="Delete"} 1
    kube_statefulset_status_current_revision{namespace="shop",statefulset="db",revision="db-5f7c"} 1
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
    gauge_family,
    generation_family,
    labels_family,
)
from kubescope.state.text import esc


class Ordinals(Wire):
    start: int = 0


class RetentionPolicy(Wire):
    when_deleted: str = ""
    when_scaled: str = ""


class StatefulSetSpec(Wire):
    replicas: int | None = None
    ordinals: Ordinals | None = None
    persistent_volume_claim_retention_policy: RetentionPolicy | None = None


class StatefulSetStatus(Wire):
    replicas: int = 0
    available_replicas: int = 0
    current_replicas: int = 0
    ready_replicas: int = 0
    updated_replicas: int = 0
    observed_generation: int = 0
    current_revision: str = ""
    update_revision: str = ""


class StatefulSet(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: StatefulSetSpec = msgspec.field(default_factory=StatefulSetSpec)
    status: StatefulSetStatus = msgspec.field(default_factory=StatefulSetStatus)


def _identity(o: StatefulSet) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",statefulset="{esc(o.metadata.name)}"'


def _retention(o: StatefulSet, lp: str) -> str:
    pol = o.spec.persistent_volume_claim_retention_policy
    if pol is None or (not pol.when_deleted and not pol.when_scaled):
        return ""
    return f'{lp},when_deleted="{esc(pol.when_deleted)}",when_scaled="{esc(pol.when_scaled)}"}} 1\n'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_statefulset"
    return [
        created_family(p),
        gauge_family(
            f"{p}_status_replicas",
            "The number of replicas per StatefulSet.",
            "STABLE",
            lambda o: o.status.replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_available",
            "The number of available replicas per StatefulSet.",
            "STABLE",
            lambda o: o.status.available_replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_current",
            "The number of current replicas per StatefulSet.",
            "STABLE",
            lambda o: o.status.current_replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_ready",
            "The number of ready replicas per StatefulSet.",
            "STABLE",
            lambda o: o.status.ready_replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_updated",
            "The number of updated replicas per StatefulSet.",
            "STABLE",
            lambda o: o.status.updated_replicas,
        ),
        gauge_family(
            f"{p}_status_observed_generation",
            "The generation observed by the StatefulSet controller.",
            "STABLE",
            lambda o: o.status.observed_generation,
        ),
        gauge_family(
            f"{p}_replicas", "Number of desired pods for a StatefulSet.", "STABLE", lambda o: o.spec.replicas
        ),
        gauge_family(
            f"{p}_ordinals_start",
            "Start ordinal of the StatefulSet.",
            "STABLE",
            lambda o: None if o.spec.ordinals is None else o.spec.ordinals.start,
        ),
        generation_family(
            p,
            help="Sequence number representing a specific generation of the desired state for the StatefulSet.",
        ),
        Family(
            f"{p}_persistentvolumeclaim_retention_policy",
            "Count of retention policy for StatefulSet template PVCs",
            "gauge",
            "STABLE",
            _retention,
        ),
        annotations_family(p, opts.annotations, "STABLE"),
        labels_family(p, opts.labels),
        Family(
            f"{p}_status_current_revision",
            "Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).",
            "gauge",
            "STABLE",
            lambda o, lp: f'{lp},revision="{esc(o.status.current_revision)}"}} 1\n',
        ),
        Family(
            f"{p}_status_update_revision",
            "Indicates the version of the StatefulSet used to generate Pods in the sequence "
            "[replicas-updatedReplicas,replicas)",
            "gauge",
            "STABLE",
            lambda o, lp: f'{lp},revision="{esc(o.status.update_revision)}"}} 1\n',
        ),
        deletion_timestamp_family(p, "STABLE"),
    ]


RESOURCE = ResourceSpec(
    name="statefulsets",
    group="apps",
    version="v1",
    kind="StatefulSet",
    namespaced=True,
    struct=StatefulSet,
    identity=_identity,
    families=families,
)
