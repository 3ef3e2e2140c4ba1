"""PodDisruptionBudget families (``kube_poddisruptionbudget_*``); identity ``namespace,poddisruptionbudget``.

Sample::

    kube_poddisruptionbudget_status_pod_disruptions_allowed{namespace="shop",poddisruptionbudget="api"} 1
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
    labels_family,
)
from kubescope.state.text import esc


class PDBStatus(Wire):
    current_healthy: int = 0
    desired_healthy: int = 0
    disruptions_allowed: int = 0
    expected_pods: int = 0
    observed_generation: int = 0


class PodDisruptionBudget(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: PDBStatus = msgspec.field(default_factory=PDBStatus)


def _identity(o: PodDisruptionBudget) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",poddisruptionbudget="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_poddisruptionbudget"
    return [
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels, "ALPHA"),
        created_family(p),
        gauge_family(
            f"{p}_status_current_healthy",
            "Current number of healthy pods",
            "STABLE",
            lambda o: o.status.current_healthy,
        ),
        gauge_family(
            f"{p}_status_desired_healthy",
            "Minimum desired number of healthy pods",
            "STABLE",
            lambda o: o.status.desired_healthy,
        ),
        gauge_family(
            f"{p}_status_pod_disruptions_allowed",
            "Number of pod disruptions that are currently allowed",
            "STABLE",
            lambda o: o.status.disruptions_allowed,
        ),
        gauge_family(
            f"{p}_status_expected_pods",
            "Total number of pods counted by this disruption budget",
            "STABLE",
            lambda o: o.status.expected_pods,
        ),
        gauge_family(
            f"{p}_status_observed_generation",
            "Most recent generation observed when updating this PDB status",
            "STABLE",
            lambda o: o.status.observed_generation,
        ),
        deletion_timestamp_family(p),
    ]


RESOURCE = ResourceSpec(
    name="poddisruptionbudgets",
    group="policy",
    version="v1",
    kind="PodDisruptionBudget",
    namespaced=True,
    struct=PodDisruptionBudget,
    identity=_identity,
    families=families,
)
