"""DaemonSet families (``kube_daemonset_*``); identity labels ``namespace,daemonset``.

Sample::

    kube_daemonset_status_desired_number_scheduled{namespace="kube-system",daemonset="kube-proxy"} 20
    kube_daemonset_status_number_ready{namespace="kube-system",daemonset="kube-proxy"} 19
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


class DaemonSetStatus(Wire):
    current_number_scheduled: int = 0
    desired_number_scheduled: int = 0
    number_available: int = 0
    number_misscheduled: int = 0
    number_ready: int = 0
    number_unavailable: int = 0
    observed_generation: int = 0
    updated_number_scheduled: int = 0


class DaemonSet(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: DaemonSetStatus = msgspec.field(default_factory=DaemonSetStatus)


def _identity(o: DaemonSet) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",daemonset="{esc(o.metadata.name)}"'


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_daemonset"
    return [
        created_family(p),
        gauge_family(
            f"{p}_status_current_number_scheduled",
            "The number of nodes running at least one daemon pod and are supposed to.",
            "STABLE",
            lambda o: o.status.current_number_scheduled,
        ),
        gauge_family(
            f"{p}_status_desired_number_scheduled",
            "The number of nodes that should be running the daemon pod.",
            "STABLE",
            lambda o: o.status.desired_number_scheduled,
        ),
        gauge_family(
            f"{p}_status_number_available",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod "
            "running and available",
            "STABLE",
            lambda o: o.status.number_available,
        ),
        gauge_family(
            f"{p}_status_number_misscheduled",
            "The number of nodes running a daemon pod but are not supposed to.",
            "STABLE",
            lambda o: o.status.number_misscheduled,
        ),
        gauge_family(
            f"{p}_status_number_ready",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod "
            "running and ready.",
            "STABLE",
            lambda o: o.status.number_ready,
        ),
        gauge_family(
            f"{p}_status_number_unavailable",
            "The number of nodes that should be running the daemon pod and have none of the daemon pod running "
            "and available",
            "STABLE",
            lambda o: o.status.number_unavailable,
        ),
        gauge_family(
            f"{p}_status_observed_generation",
            "The most recent generation observed by the daemon set controller.",
            "STABLE",
            lambda o: o.status.observed_generation,
        ),
        gauge_family(
            f"{p}_status_updated_number_scheduled",
            "The total number of nodes that are running updated daemon pod",
            "STABLE",
            lambda o: o.status.updated_number_scheduled,
        ),
        generation_family(p),
        deletion_timestamp_family(p),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
    ]


RESOURCE = ResourceSpec(
    name="daemonsets",
    group="apps",
    version="v1",
    kind="DaemonSet",
    namespaced=True,
    struct=DaemonSet,
    identity=_identity,
    families=families,
)
