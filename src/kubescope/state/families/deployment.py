"""Deployment families (``kube_deployment_*``); identity labels ``namespace,deployment``.

Sample::

    kube_deployment_spec_replicas{namespace="shop",deployment="api"} 3
    kube_deployment_status_condition{namespace="shop",deployment="api",reason="NewReplicaSetAvailable",condition="Progressing",status="true"} 1
    kube_deployment_spec_strategy_rollingupdate_max_unavailable{namespace="shop",deployment="api"} 0
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import Condition, ObjectMeta, Wire
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
    owner_family,
)
from kubescope.state.text import esc, gf, scaled_int_or_percent

# kubernetes/pkg/controller/deployment/util's reasons; anything else is reported as "unknown"
ALLOWED_REASONS = frozenset(
    {
        "ReplicaSetUpdated",
        "ReplicaSetCreateError",
        "NewReplicaSetCreated",
        "FoundNewReplicaSet",
        "NewReplicaSetAvailable",
        "ProgressDeadlineExceeded",
        "DeploymentPaused",
        "DeploymentResumed",
        "MinimumReplicasAvailable",
        "MinimumReplicasUnavailable",
        "",
    }
)


class RollingUpdate(Wire):
    max_unavailable: int | str | None = None
    max_surge: int | str | None = None


class Strategy(Wire):
    rolling_update: RollingUpdate | None = None


class DeploymentSpec(Wire):
    replicas: int | None = None
    paused: bool = False
    strategy: Strategy = msgspec.field(default_factory=Strategy)


class DeploymentStatus(Wire):
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    updated_replicas: int = 0
    terminating_replicas: int | None = None
    observed_generation: int = 0
    conditions: list[Condition] = msgspec.field(default_factory=list)


class Deployment(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: DeploymentSpec = msgspec.field(default_factory=DeploymentSpec)
    status: DeploymentStatus = msgspec.field(default_factory=DeploymentStatus)


def _identity(o: Deployment) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",deployment="{esc(m.name)}"'


def _condition(o: Deployment, lp: str) -> str:
    out = []
    for c in o.status.conditions:
        reason = c.reason if c.reason in ALLOWED_REASONS else "unknown"
        s = c.status
        p = f'{lp},reason="{esc(reason)}",condition="{esc(c.type)}",status='
        out.append(
            f'{p}"true"}} {1 if s == "True" else 0}\n'
            f'{p}"false"}} {1 if s == "False" else 0}\n'
            f'{p}"unknown"}} {1 if s == "Unknown" else 0}\n'
        )
    return "".join(out)


def _rolling(o: Deployment, lp: str, surge: bool) -> str:
    ru = o.spec.strategy.rolling_update
    if ru is None or o.spec.replicas is None:
        return ""
    v = scaled_int_or_percent(ru.max_surge if surge else ru.max_unavailable, o.spec.replicas, surge)
    return "" if v is None else f"{lp}}} {gf(v)}\n"


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_deployment"
    return [
        owner_family(p, "ALPHA", "Information about the Deployment's owner.", with_controller=False),
        created_family(p),
        gauge_family(
            f"{p}_status_replicas",
            "The number of replicas per deployment.",
            "STABLE",
            lambda o: o.status.replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_ready",
            "The number of ready replicas per deployment.",
            "STABLE",
            lambda o: o.status.ready_replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_available",
            "The number of available replicas per deployment.",
            "STABLE",
            lambda o: o.status.available_replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_unavailable",
            "The number of unavailable replicas per deployment.",
            "STABLE",
            lambda o: o.status.unavailable_replicas,
        ),
        gauge_family(
            f"{p}_status_replicas_updated",
            "The number of updated replicas per deployment.",
            "STABLE",
            lambda o: o.status.updated_replicas,
        ),
        gauge_family(
            f"{p}_status_terminating_replicas",
            "The number of terminating replicas per deployment.",
            "ALPHA",
            lambda o: o.status.terminating_replicas,
        ),
        gauge_family(
            f"{p}_status_observed_generation",
            "The generation observed by the deployment controller.",
            "STABLE",
            lambda o: o.status.observed_generation,
        ),
        Family(
            f"{p}_status_condition",
            "The current status conditions of a deployment.",
            "gauge",
            "STABLE",
            _condition,
        ),
        gauge_family(
            f"{p}_spec_replicas",
            "Number of desired pods for a deployment.",
            "STABLE",
            lambda o: o.spec.replicas,
        ),
        gauge_family(
            f"{p}_spec_paused",
            "Whether the deployment is paused and will not be processed by the deployment controller.",
            "STABLE",
            lambda o: 1 if o.spec.paused else 0,
        ),
        Family(
            f"{p}_spec_strategy_rollingupdate_max_unavailable",
            "Maximum number of unavailable replicas during a rolling update of a deployment.",
            "gauge",
            "STABLE",
            lambda o, lp: _rolling(o, lp, False),
        ),
        Family(
            f"{p}_spec_strategy_rollingupdate_max_surge",
            "Maximum number of replicas that can be scheduled above the desired number of replicas during a "
            "rolling update of a deployment.",
            "gauge",
            "STABLE",
            lambda o, lp: _rolling(o, lp, True),
        ),
        generation_family(p),
        deletion_timestamp_family(p),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
    ]


RESOURCE = ResourceSpec(
    name="deployments",
    group="apps",
    version="v1",
    kind="Deployment",
    namespaced=True,
    struct=Deployment,
    identity=_identity,
    families=families,
)
