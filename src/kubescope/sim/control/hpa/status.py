"""An HPA's metrics turned into a replica proposal and its status (``computeReplicasForMetrics``
and the ``computeStatusFor*Metric`` functions of ``horizontal.go``), with kube's messages.

Every metric proposes a replica count; the largest wins. A metric that cannot be read or computed
leaves an empty entry (``{"type": ""}``) in ``currentMetrics``, a Warning event
(``FailedGetResourceMetric``, ``FailedGetPodsMetric``, ``FailedGetObjectMetric``,
``FailedGetExternalMetric``...), and, when every metric failed or the valid ones would scale down,
no scaling at all (``ScalingActive`` False with the first failure's reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubescope.model.quantity import QuantityError, format_decimal_si, parse
from kubescope.sim.control.hpa import calc

Obj = dict[str, Any]
Emit = Callable[[str, str, str], None]
"""``emit(type, reason, note)``: an event about the HPA."""


@dataclass(slots=True)
class MetricResult:
    value: Any = None
    error: str = ""


@dataclass(slots=True)
class Outcome:
    replicas: int
    """-1: no scaling (see ``condition`` and ``error``)."""
    metric: str = ""
    statuses: list[Obj] = field(default_factory=list)
    error: str = ""
    condition: tuple[str, bool, str, str] = ("", False, "", "")


class Conditions:
    """The HPA's conditions, set as ``setCondition`` does: in place, appended when new, the
    transition time moved only when the status changes."""

    def __init__(self, items: list[Obj] | None, now: str) -> None:
        self.items = [dict(c) for c in items or ()]
        self.now = now

    def set(self, typ: str, ok: bool, reason: str, message: str) -> None:
        flag = "True" if ok else "False"
        for c in self.items:
            if c.get("type") == typ:
                if c.get("status") != flag:
                    c["lastTransitionTime"] = self.now
                c.update(status=flag, reason=reason, message=message)
                return
        self.items.append(
            {
                "type": typ,
                "status": flag,
                "lastTransitionTime": self.now,
                "reason": reason,
                "message": message,
            }
        )


class _Failed(Exception):
    def __init__(self, reason: str, detail: str, error: str) -> None:
        super().__init__(error)
        self.reason = reason
        self.detail = detail
        """What the event and the condition say."""
        self.error = error
        """What ``computeReplicasForMetric`` returns."""


def quantity(milli: int) -> str:
    return format_decimal_si(milli, -3)


def _milli(q: object) -> int:
    try:
        return parse(str(q)).milli_value()
    except QuantityError:
        return 0


def tolerances(spec: Obj) -> calc.Tolerances:
    b = spec.get("behavior") or {}

    def tol(direction: str) -> float:
        t = (b.get(direction) or {}).get("tolerance")
        return _milli(t) / 1000 if t is not None else calc.TOLERANCE

    return calc.Tolerances(down=tol("scaleDown"), up=tol("scaleUp"))


def compute(
    hpa: Obj, target: Obj, pods: list[Obj], fetched: list[MetricResult], current: int, now: float, emit: Emit
) -> Outcome:
    spec = hpa.get("spec") or {}
    metrics = spec.get("metrics") or []
    tol = tolerances(spec)
    status_replicas = int((target.get("status") or {}).get("replicas", 0))
    ns = hpa["metadata"].get("namespace", "")
    replicas, name, statuses = 0, "", []
    invalid = 0
    first: _Failed | None = None
    for m, got in zip(metrics, fetched, strict=False):
        try:
            proposal, metric, entry = _one(m, got, ns, pods, current, status_replicas, tol, now)
        except _Failed as f:
            emit("Warning", f.reason, f.detail)
            statuses.append({"type": ""})
            invalid += 1
            first = first or f
            continue
        statuses.append(entry)
        if replicas == 0 or proposal > replicas:
            replicas, name = proposal, metric
    if invalid and first is not None:
        error = f"invalid metrics ({invalid} invalid out of {len(metrics)}), first error is: {first.error}"
        if invalid >= len(metrics) or replicas < current:
            message = f"the HPA was unable to compute the replica count: {first.detail}"
            return Outcome(-1, "", statuses, error, ("ScalingActive", False, first.reason, message))
    return Outcome(replicas, name, statuses)


def _one(
    m: Obj,
    got: MetricResult,
    ns: str,
    pods: list[Obj],
    current: int,
    status_replicas: int,
    tol: calc.Tolerances,
    now: float,
) -> tuple[int, str, Obj]:
    typ = m.get("type", "")
    if typ in ("Resource", "ContainerResource"):
        return _resource(m, got, pods, current, tol, now)
    if typ == "Pods":
        src = m.get("pods") or {}
        metric = src.get("metric") or {}
        mname = metric.get("name", "")
        detail = f"unable to get metric {mname}: {got.error}"
        try:
            if got.error:
                raise calc.CalcError(detail)
            values, _ = got.value
            replicas, usage = calc.plain_replicas(
                current, _milli((src.get("target") or {}).get("averageValue")), values, pods, tol, False, now
            )
        except calc.CalcError as e:
            text = str(e)
            raise _Failed("FailedGetPodsMetric", text, f"failed to get pods metric value: {text}") from e
        entry = {
            "type": "Pods",
            "pods": {"metric": _identifier(metric), "current": {"averageValue": quantity(usage)}},
        }
        return replicas, f"pods metric {mname}", entry
    if typ == "Object":
        return _object(m, got, ns, pods, current, status_replicas, tol)
    if typ == "External":
        return _external(m, got, ns, pods, current, status_replicas, tol)
    raise _Failed(
        "InvalidMetricSourceType",
        f'unknown metric source type "{typ}"',
        f'unknown metric source type "{typ}"',
    )


def _resource(
    m: Obj, got: MetricResult, pods: list[Obj], current: int, tol: calc.Tolerances, now: float
) -> tuple[int, str, Obj]:
    container_kind = m.get("type") == "ContainerResource"
    src = (m.get("containerResource") if container_kind else m.get("resource")) or {}
    res, container, target = src.get("name", ""), src.get("container", ""), src.get("target") or {}
    reason = "FailedGetContainerResourceMetric" if container_kind else "FailedGetResourceMetric"
    what = f"{container} container metric value" if container_kind else f"{res} resource metric value"
    average = target.get("averageValue")
    kind = "usage" if average is not None else "utilization"
    try:
        if average is None and target.get("averageUtilization") is None:
            raise calc.CalcError(
                "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set"
            )
        if got.error:
            raise calc.CalcError(f"unable to get metrics for resource {res}: {got.error}")
        values, _ = got.value
        if average is not None:
            replicas, usage = calc.plain_replicas(
                current, _milli(average), values, pods, tol, res == "cpu", now
            )
            current_value: Obj = {"averageValue": quantity(usage)}
            name = f"{res} resource"
        else:
            reqs = calc.requests(pods, res, container)
            replicas, pct, raw = calc.resource_replicas(
                current, int(target["averageUtilization"]), values, pods, reqs, tol, res == "cpu", now
            )
            current_value = {"averageUtilization": pct, "averageValue": quantity(raw)}
            name = (
                f"{res} {'container ' if container_kind else ''}resource utilization (percentage of request)"
            )
    except calc.CalcError as e:
        text = f"failed to get {res} {kind}: {e}"
        raise _Failed(reason, text, f"failed to get {what}: {text}") from e
    body: Obj = {"name": res, "current": current_value}
    if container_kind:
        body = {"name": res, "container": container, "current": current_value}
        return replicas, name, {"type": "ContainerResource", "containerResource": body}
    return replicas, name, {"type": "Resource", "resource": body}


def _object(
    m: Obj,
    got: MetricResult,
    ns: str,
    pods: list[Obj],
    current: int,
    status_replicas: int,
    tol: calc.Tolerances,
) -> tuple[int, str, Obj]:
    src = m.get("object") or {}
    metric, ref, target = src.get("metric") or {}, src.get("describedObject") or {}, src.get("target") or {}
    mname = metric.get("name", "")
    try:
        if got.error:
            # kube's message, its arguments in the order it passes them
            raise calc.CalcError(
                f"unable to get metric {mname}: {ref.get('kind', '')} on {ns} {ref.get('name', '')}/{got.error}"
            )
        usage, _ = got.value
        if target.get("type") == "Value" and target.get("value") is not None:
            replicas = calc.ratio_replicas(current, usage / max(1, _milli(target["value"])), pods, tol)
            entry = {
                "describedObject": ref,
                "metric": _identifier(metric),
                "current": {"value": quantity(usage)},
            }
            return replicas, f"{ref.get('kind', '')} metric {mname}", {"type": "Object", "object": entry}
        if target.get("type") == "AverageValue" and target.get("averageValue") is not None:
            replicas, per_pod = calc.per_pod_replicas(
                status_replicas, usage, max(1, _milli(target["averageValue"])), tol
            )
            entry = {"metric": _identifier(metric), "current": {"averageValue": quantity(per_pod)}}
            name = f"external metric {mname}({go_selector(metric.get('selector'))})"
            return replicas, name, {"type": "Object", "object": entry}
        raise calc.CalcError(
            "invalid object metric source: neither a value target nor an average value target was set"
        )
    except calc.CalcError as e:
        raise _Failed("FailedGetObjectMetric", str(e), f"failed to get object metric value: {e}") from e


def _external(
    m: Obj,
    got: MetricResult,
    ns: str,
    pods: list[Obj],
    current: int,
    status_replicas: int,
    tol: calc.Tolerances,
) -> tuple[int, str, Obj]:
    src = m.get("external") or {}
    metric, target = src.get("metric") or {}, src.get("target") or {}
    mname, sel = metric.get("name", ""), metric.get("selector")
    name = f"external metric {mname}({go_selector(sel)})"
    average = target.get("averageValue")
    try:
        if average is None and target.get("value") is None:
            raise calc.CalcError(
                "invalid external metric source: neither a value target nor an average value target was set"
            )
        if got.error:
            raise calc.CalcError(
                f"unable to get external metric {ns}/{mname}/{go_selector(sel)}: {got.error}"
            )
        values, _ = got.value
        usage = sum(values)
        if average is not None:
            replicas, per_pod = calc.per_pod_replicas(status_replicas, usage, max(1, _milli(average)), tol)
            current_value = {"averageValue": quantity(per_pod)}
        else:
            replicas = calc.ratio_replicas(current, usage / max(1, _milli(target["value"])), pods, tol)
            current_value = {"value": quantity(usage)}
    except calc.CalcError as e:
        wrapped = (
            f"failed to get {mname} external metric: {e}"
            if average is not None
            else f"failed to get external metric {mname}: {e}"
        )
        raise _Failed(
            "FailedGetExternalMetric", str(e), f"failed to get {mname} external metric value: {wrapped}"
        ) from e
    return (
        replicas,
        name,
        {"type": "External", "external": {"metric": _identifier(metric), "current": current_value}},
    )


def _identifier(metric: Obj) -> Obj:
    out: Obj = {"name": metric.get("name", "")}
    if metric.get("selector") is not None:
        out["selector"] = metric["selector"]
    return out


def go_selector(sel: Obj | None) -> str:
    """``fmt.Sprintf("%+v", selector)`` of a ``*metav1.LabelSelector`` (its generated String())."""
    if sel is None:
        return "<nil>"
    labels = "".join(f"{k}: {v}," for k, v in sorted((sel.get("matchLabels") or {}).items()))
    exprs = "".join(
        f"LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},"
        f"Values:[{' '.join(e.get('values') or ())}],}},"
        for e in sel.get("matchExpressions") or ()
    )
    return f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
