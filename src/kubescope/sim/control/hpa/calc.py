"""The HorizontalPodAutoscaler's replica calculator (kube-controller-manager's
``pkg/controller/podautoscaler/replica_calculator.go``), as pure functions of the pods and the
metrics read.

``desired = ceil(usage ratio * ready pods)`` unless the ratio is within the tolerance (0.1 each way
by default; ``behavior.scaleUp/scaleDown.tolerance``), with the rules that make it cautious:
terminating and failed pods are ignored, pending pods are unready, a pod without a metric is
*missing* (counted at 100 % of its request, or the target, when scaling down, at 0 when scaling
up), and for CPU a pod is unready while it starts (within the 5 min initialization period while
not ready, or before a full metric window since it became ready; after it, when it never was
ready within 30 s of its start); unready pods count at 0 when scaling up. A direction change
caused by those assumptions cancels the change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubescope.model.quantity import QuantityError, parse
from kubescope.model.timefmt import parse_time

Obj = dict[str, Any]
CPU_INITIALIZATION_PERIOD = 300.0
"""``--horizontal-pod-autoscaler-cpu-initialization-period`` (5m)."""
INITIAL_READINESS_DELAY = 30.0
"""``--horizontal-pod-autoscaler-initial-readiness-delay`` (30s)."""
TOLERANCE = 0.1
"""``--horizontal-pod-autoscaler-tolerance``."""


class CalcError(Exception):
    """A replica count cannot be computed (the message is what the HPA reports)."""


@dataclass(frozen=True, slots=True)
class Tolerances:
    down: float = TOLERANCE
    up: float = TOLERANCE

    def within(self, ratio: float) -> bool:
        return 1.0 - self.down <= ratio <= 1.0 + self.up


@dataclass(frozen=True, slots=True)
class PodMetric:
    value: int
    """Milli-units."""
    timestamp: float = 0.0
    window: float = 60.0


@dataclass(slots=True)
class Groups:
    ready: int = 0
    unready: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)


def group_pods(pods: list[Obj], metrics: dict[str, PodMetric], cpu: bool, now: float) -> Groups:
    """``groupPods``: which pods count, which are unready, missing or ignored."""
    g = Groups()
    for pod in pods:
        meta, status = pod["metadata"], pod.get("status") or {}
        name = meta["name"]
        if meta.get("deletionTimestamp") or status.get("phase") == "Failed":
            g.ignored.add(name)
            continue
        if status.get("phase") == "Pending":
            g.unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            g.missing.add(name)
            continue
        if cpu and _unready_for_cpu(status, metric, now):
            g.unready.add(name)
            continue
        g.ready += 1
    return g


def _unready_for_cpu(status: Obj, metric: PodMetric, now: float) -> bool:
    cond = next((c for c in status.get("conditions") or () if c.get("type") == "Ready"), None)
    if cond is None or not status.get("startTime"):
        return True
    start = _time(status["startTime"])
    transition = _time(cond.get("lastTransitionTime"))
    if start + CPU_INITIALIZATION_PERIOD > now:
        # still starting: unready, or no full metric window since it became ready
        return cond.get("status") == "False" or metric.timestamp < transition + metric.window
    # unready and never ready since it started
    return cond.get("status") == "False" and start + INITIAL_READINESS_DELAY > transition


def _time(s: object) -> float:
    try:
        return parse_time(str(s))
    except (TypeError, ValueError):
        return 0.0


def requests(pods: list[Obj], resource: str, container: str = "") -> dict[str, int]:
    """``calculateRequests`` (from containers, restartable init containers included): milli-units
    per pod; a container without the request is an error, as in kube."""
    out: dict[str, int] = {}
    for pod in pods:
        spec, name = pod.get("spec") or {}, pod["metadata"]["name"]
        containers = list(spec.get("containers") or ())
        containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
        total = 0
        found = False
        for c in containers:
            if container and c.get("name") != container:
                continue
            req = ((c.get("resources") or {}).get("requests") or {}).get(resource)
            if req is None:
                raise CalcError(f"missing request for {resource} in container {c.get('name')} of Pod {name}")
            try:
                total += parse(str(req)).milli_value()
            except QuantityError as e:
                raise CalcError(f"invalid request for {resource} in container {c.get('name')}: {e}") from e
            found = True
        if container and not found:
            raise CalcError(f"container {container} not found in Pod {name}")
        out[name] = total
    return out


def utilization_ratio(
    metrics: dict[str, PodMetric], reqs: dict[str, int], target: int
) -> tuple[float, int, int]:
    """``GetResourceUtilizationRatio``: (ratio, utilization % (truncated), average raw value)."""
    total = requested = entries = 0
    for name, m in metrics.items():
        if name not in reqs:
            continue
        total += m.value
        requested += reqs[name]
        entries += 1
    if requested == 0:
        raise CalcError("no metrics returned matched known pods")
    utilization = total * 100 // requested
    return utilization / target, utilization, total // entries


def usage_ratio(metrics: dict[str, PodMetric], target: int) -> tuple[float, int]:
    """``GetMetricUsageRatio``: (ratio, average usage)."""
    usage = sum(m.value for m in metrics.values()) // len(metrics)
    return usage / target, usage


def resource_replicas(
    current: int, target_pct: int, metrics: dict[str, PodMetric], pods: list[Obj], reqs: dict[str, int],
    tol: Tolerances, cpu: bool, now: float,
) -> tuple[int, int, int]:  # fmt: skip
    """``GetResourceReplicas``: (replicas, utilization %, average raw value); a pod without a
    metric counts at its request (or the target, above 100 %) when scaling down."""
    fallback = max(100, target_pct)
    first: list[int] = []

    def ratio_of(m: dict[str, PodMetric]) -> float:
        ratio, utilization, raw = utilization_ratio(m, reqs, target_pct)
        if not first:  # what the status reports: the ready pods' figures, before any assumption
            first.extend((utilization, raw))
        return ratio

    replicas = _replicas(
        current, metrics, pods, tol, cpu, now, ratio_of, lambda n: reqs.get(n, 0) * fallback // 100
    )
    return replicas, first[0], first[1]


def plain_replicas(
    current: int, target: int, metrics: dict[str, PodMetric], pods: list[Obj], tol: Tolerances,
    cpu: bool, now: float,
) -> tuple[int, int]:  # fmt: skip
    """``calcPlainMetricReplicas`` (average values: raw resource usage, Pods metrics): (replicas,
    average usage); a pod without a metric counts at the target when scaling down."""
    first: list[int] = []

    def ratio_of(m: dict[str, PodMetric]) -> float:
        ratio, usage = usage_ratio(m, target)
        if not first:
            first.append(usage)
        return ratio

    return _replicas(current, metrics, pods, tol, cpu, now, ratio_of, lambda _: target), first[0]


def _replicas(
    current: int, metrics: dict[str, PodMetric], pods: list[Obj], tol: Tolerances, cpu: bool, now: float,
    ratio_of: Callable[[dict[str, PodMetric]], float], missing_down: Callable[[str], int],
) -> int:  # fmt: skip
    """What both calculators share: the ready pods' ratio, then, with missing or (scaling up)
    unready pods, a second pass with the cautious assumptions."""
    if not pods:
        raise CalcError("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    g = group_pods(pods, metrics, cpu, now)
    for name in g.ignored | g.unready:
        metrics.pop(name, None)
    if not metrics:
        raise CalcError("did not receive metrics for targeted pods (pods might be unready)")
    ratio = ratio_of(metrics)
    up_with_unready = bool(g.unready) and ratio > 1.0
    if not up_with_unready and not g.missing:
        return current if tol.within(ratio) else math.ceil(ratio * g.ready)
    for name in g.missing:
        if ratio < 1.0:
            metrics[name] = PodMetric(missing_down(name))
        elif ratio > 1.0:
            metrics[name] = PodMetric(0)
    if up_with_unready:
        for name in g.unready:
            metrics[name] = PodMetric(0)
    return _rebalanced(current, ratio, ratio_of(metrics), len(metrics), tol)


def _rebalanced(current: int, ratio: float, new_ratio: float, counted: int, tol: Tolerances) -> int:
    """After the cautious assumptions: no change if within tolerance or if they flip the direction."""
    if tol.within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    replicas = math.ceil(new_ratio * counted)
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def ready_pods(pods: list[Obj]) -> int:
    return sum(
        1
        for p in pods
        if (p.get("status") or {}).get("phase") == "Running"
        and any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in p["status"].get("conditions") or ()
        )
    )


def ratio_replicas(current: int, ratio: float, pods: list[Obj], tol: Tolerances) -> int:
    """``getUsageRatioReplicaCount`` (Object and External Value targets); from 0 replicas, the
    ratio alone (scale from zero)."""
    if current == 0:
        return math.ceil(ratio)
    if tol.within(ratio):
        return current
    if not pods:
        raise CalcError(
            "unable to calculate ready pods: no pods returned by selector while calculating replica count"
        )
    return min(math.ceil(ratio * ready_pods(pods)), 2**31 - 1)


def per_pod_replicas(
    status_replicas: int, usage: int, target_per_pod: int, tol: Tolerances
) -> tuple[int, int]:
    """``GetObjectPerPodMetricReplicas`` / ``GetExternalPerPodMetricReplicas`` (AverageValue
    targets): (replicas, usage per pod)."""
    replicas = status_replicas
    ratio = usage / (target_per_pod * replicas) if replicas else math.inf
    if not tol.within(ratio):
        replicas = min(math.ceil(usage / target_per_pod), 2**31 - 1)
    return replicas, math.ceil(usage / status_replicas) if status_replicas else usage
