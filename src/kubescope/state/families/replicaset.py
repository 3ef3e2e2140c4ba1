"""ReplicaSet families (``kube_replicaset_*``); identity labels ``namespace,replicaset``.

Sample::

    kube_replicaset_spec_replicas{namespace="shop",replicaset="api-7d9f"} 3
    kube_replicaset_owner{namespace="shop",replicaset="api-7d9f",owner_kind="Deployment",owner_name="api",owner_is_controller="true"} 1
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
    gauge_family,
    generation_family,
    labels_family,
    owner_family,
)
from kubescope.state.text import esc


class ReplicaSetSpec(Wire):
    replicas: int | None = None


class ReplicaSetStatus(Wire):
    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    terminating_replicas: int | None = None
    observed_generation: int = 0


class ReplicaSet(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ReplicaSetSpec = msgspec.field(default_factory=ReplicaSetSpec)
    status: ReplicaSetStatus = msgspec.field(default_factory=ReplicaSetStatus)


def _identity(o: ReplicaSet) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",replicaset="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_replicaset"
    return [
        created_family(p),
        gauge_family(
            f"{p}_status_replicas",
            "The number of replicas per ReplicaSet.",
            "STABLE",
            lambda o: o.status.replicas,
        ),
        gauge_family(
            f"{p}_status_fully_labeled_replicas",
            "The number of fully labeled replicas per ReplicaSet.",
            "STABLE",
            lambda o: o.status.fully_labeled_replicas,
        ),
        gauge_family(
            f"{p}_status_ready_replicas",
            "The number of ready replicas per ReplicaSet.",
            "STABLE",
            lambda o: o.status.ready_replicas,
        ),
        gauge_family(
            f"{p}_status_terminating_replicas",
            "The number of terminating replicas per ReplicaSet.",
            "ALPHA",
            lambda o: o.status.terminating_replicas,
        ),
        gauge_family(
            f"{p}_status_observed_generation",
            "The generation observed by the ReplicaSet controller.",
            "STABLE",
            lambda o: o.status.observed_generation,
        ),
        gauge_family(
            f"{p}_spec_replicas",
            "Number of desired pods for a ReplicaSet.",
            "STABLE",
            lambda o: o.spec.replicas,
        ),
        generation_family(p),
        owner_family(p, "STABLE", "Information about the ReplicaSet's owner."),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
    ]


RESOURCE = ResourceSpec(
    name="replicasets",
    group="apps",
    version="v1",
    kind="ReplicaSet",
    namespaced=True,
    struct=ReplicaSet,
    identity=_identity,
    families=families,
)
