"""ReplicationController families (``kube_replicationcontroller_*``); identity ``namespace,replicationcontroller``.

Sample::

    kube_replicationcontroller_spec_replicas{namespace="default",replicationcontroller="legacy"} 1
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    created_family,
    gauge_family,
    generation_family,
    owner_family,
)
from kubescope.state.text import esc


class RCSpec(Wire):
    replicas: int | None = None


class RCStatus(Wire):
    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0


class ReplicationController(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: RCSpec = msgspec.field(default_factory=RCSpec)
    status: RCStatus = msgspec.field(default_factory=RCStatus)


def _identity(o: ReplicationController) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",replicationcontroller="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_replicationcontroller"
    return [
        created_family(p),
        gauge_family(
            f"{p}_status_replicas",
            "The number of replicas per ReplicationController.",
            "STABLE",
            lambda o: o.status.replicas,
        ),
        gauge_family(
            f"{p}_status_fully_labeled_replicas",
            "The number of fully labeled replicas per ReplicationController.",
            "STABLE",
            lambda o: o.status.fully_labeled_replicas,
        ),
        gauge_family(
            f"{p}_status_ready_replicas",
            "The number of ready replicas per ReplicationController.",
            "STABLE",
            lambda o: o.status.ready_replicas,
        ),
        gauge_family(
            f"{p}_status_available_replicas",
            "The number of available replicas per ReplicationController.",
            "STABLE",
            lambda o: o.status.available_replicas,
        ),
        gauge_family(
            f"{p}_status_observed_generation",
            "The generation observed by the ReplicationController controller.",
            "STABLE",
            lambda o: o.status.observed_generation,
        ),
        gauge_family(
            f"{p}_spec_replicas",
            "Number of desired pods for a ReplicationController.",
            "STABLE",
            lambda o: o.spec.replicas,
        ),
        generation_family(p),
        owner_family(p, "ALPHA", "Information about the ReplicationController's owner."),
    ]


RESOURCE = ResourceSpec(
    name="replicationcontrollers",
    group="",
    version="v1",
    kind="ReplicationController",
    namespaced=True,
    struct=ReplicationController,
    identity=_identity,
    families=families,
)
