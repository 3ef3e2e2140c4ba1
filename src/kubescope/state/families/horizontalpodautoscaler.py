"""HorizontalPodAutoscaler families (``kube_horizontalpodautoscaler_*``, autoscaling/v2); identity
labels ``namespace,horizontalpodautoscaler``.

Sample::

    kube_horizontalpodautoscaler_spec_target_metric{namespace="shop",horizontalpodautoscaler="api",metric_name="cpu",metric_target_type="utilization",container=""} 70
    kube_horizontalpodautoscaler_status_condition{namespace="shop",horizontalpodautoscaler="api",condition="AbleToScale",status="true"} 1
"""

from __future__ import annotations

from typing import Any

import msgspec

from kubescope.model.meta import Condition, ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, approximate_float, ksm_float
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    conditions_family,
    created_family,
    deletion_timestamp_family,
    gauge_family,
    labels_family,
)
from kubescope.state.text import esc, gf


class ScaleTargetRef(Wire):
    api_version: str = ""
    kind: str = ""
    name: str = ""


class MetricIdentifier(Wire):
    name: str = ""


class Target(Wire):
    """MetricTarget (spec) and MetricValueStatus (status) share these fields."""

    value: str | None = None
    average_value: str | None = None
    average_utilization: int | None = None


class Source(Wire):
    name: str = ""  # resource / containerResource
    container: str = ""
    metric: MetricIdentifier = msgspec.field(default_factory=MetricIdentifier)
    target: Target = msgspec.field(default_factory=Target)
    current: Target = msgspec.field(default_factory=Target)


class MetricSpec(Wire):
    type: str = ""
    object: Source | None = None
    pods: Source | None = None
    resource: Source | None = None
    container_resource: Source | None = None
    external: Source | None = None


class ScalingRules(Wire):
    tolerance: str | None = None


class Behavior(Wire):
    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


class HPASpec(Wire):
    scale_target_ref: ScaleTargetRef = msgspec.field(default_factory=ScaleTargetRef)
    min_replicas: int | None = None
    max_replicas: int = 0
    metrics: list[MetricSpec] = msgspec.field(default_factory=list)
    behavior: Behavior | None = None


class HPAStatus(Wire):
    current_replicas: int = 0
    desired_replicas: int = 0
    current_metrics: list[MetricSpec] = msgspec.field(default_factory=list)
    conditions: list[Condition] = msgspec.field(default_factory=list)


class HorizontalPodAutoscaler(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: HPASpec = msgspec.field(default_factory=HPASpec)
    status: HPAStatus = msgspec.field(default_factory=HPAStatus)


def _identity(o: HorizontalPodAutoscaler) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",horizontalpodautoscaler="{esc(o.metadata.name)}"'


def _info(o: HorizontalPodAutoscaler, lp: str) -> str:
    r = o.spec.scale_target_ref
    api = f',scaletargetref_api_version="{esc(r.api_version)}"' if r.api_version else ""
    return f'{lp}{api},scaletargetref_kind="{esc(r.kind)}",scaletargetref_name="{esc(r.name)}"}} 1\n'


_SOURCES = {
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "ContainerResource": "container_resource",
    "External": "external",
}


def _metric_lines(lp: str, metrics: list[MetricSpec], status: bool) -> str:
    out = []
    for m in metrics:
        attr = _SOURCES.get(m.type)
        src: Source | None = getattr(m, attr) if attr else None
        if src is None:
            continue  # unknown type, or a status entry without its source (not validated by the API)
        if m.type in ("Resource", "ContainerResource"):
            name = src.name
        else:
            name = src.metric.name
        container = src.container if m.type == "ContainerResource" else ""
        t = src.current if status else src.target
        head = f'{lp},metric_name="{esc(name)}",metric_target_type="'
        tail = f'",container="{esc(container)}"}} '
        # Go iterates a map here (random order); value, utilization, average is as good as any
        try:
            if t.value is not None:
                out.append(f"{head}value{tail}{gf(ksm_float(t.value))}\n")
            if t.average_utilization is not None:
                out.append(f"{head}utilization{tail}{gf(t.average_utilization)}\n")
            if t.average_value is not None:
                out.append(f"{head}average{tail}{gf(ksm_float(t.average_value))}\n")
        except QuantityError:
            continue
    return "".join(out)


def _tolerance(rules: Any) -> float | None:
    if rules is None or rules.tolerance is None:
        return None
    try:
        return approximate_float(rules.tolerance)
    except QuantityError:
        return None


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_horizontalpodautoscaler"
    return [
        Family(f"{p}_info", "Information about this autoscaler.", "gauge", "ALPHA", _info),
        gauge_family(
            f"{p}_metadata_generation",
            "The generation observed by the HorizontalPodAutoscaler controller.",
            "STABLE",
            lambda o: o.metadata.generation,
        ),
        gauge_family(
            f"{p}_spec_max_replicas",
            "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.",
            "STABLE",
            lambda o: o.spec.max_replicas,
        ),
        gauge_family(
            f"{p}_spec_min_replicas",
            "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
            "STABLE",
            lambda o: 1 if o.spec.min_replicas is None else o.spec.min_replicas,
        ),
        Family(
            f"{p}_spec_target_metric",
            "The metric specifications used by this autoscaler when calculating the desired replica count.",
            "gauge",
            "ALPHA",
            lambda o, lp: _metric_lines(lp, o.spec.metrics, False),
        ),
        gauge_family(
            f"{p}_spec_behavior_scale_down_tolerance",
            "The tolerance on the ratio between the current and desired metric value below which no scale down occurs.",
            "ALPHA",
            lambda o: _tolerance(o.spec.behavior.scale_down) if o.spec.behavior else None,
        ),
        gauge_family(
            f"{p}_spec_behavior_scale_up_tolerance",
            "The tolerance on the ratio between the current and desired metric value below which no scale up occurs.",
            "ALPHA",
            lambda o: _tolerance(o.spec.behavior.scale_up) if o.spec.behavior else None,
        ),
        Family(
            f"{p}_status_target_metric",
            "The current metric status used by this autoscaler when calculating the desired replica count.",
            "gauge",
            "STABLE",
            lambda o, lp: _metric_lines(lp, o.status.current_metrics, True),
        ),
        gauge_family(
            f"{p}_status_current_replicas",
            "Current number of replicas of pods managed by this autoscaler.",
            "STABLE",
            lambda o: o.status.current_replicas,
        ),
        gauge_family(
            f"{p}_status_desired_replicas",
            "Desired number of replicas of pods managed by this autoscaler.",
            "STABLE",
            lambda o: o.status.desired_replicas,
        ),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        conditions_family(
            f"{p}_status_condition",
            "The condition of this autoscaler.",
            "STABLE",
            lambda o: o.status.conditions,
        ),
        created_family(p, "ALPHA"),
        deletion_timestamp_family(p),
    ]


RESOURCE = ResourceSpec(
    name="horizontalpodautoscalers",
    group="autoscaling",
    version="v2",
    kind="HorizontalPodAutoscaler",
    namespaced=True,
    struct=HorizontalPodAutoscaler,
    identity=_identity,
    families=families,
)
