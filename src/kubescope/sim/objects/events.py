"""Events as the components write them: the Event objects of client-go's two recorders and the
kubelet's and scheduler's messages, shared by the control plane (what happens now) and the
generated cluster (what was said within the last hour).

Messages as kube v1.3x writes them: ``pkg/kubelet/images`` (``Pulling``, ``Pulled``, ``BackOff``
while a pull backs off, ``Failed``), ``pkg/kubelet/kuberuntime`` (``Created``, ``Started``,
``Killing``, ``BackOff`` of a crash-looping container), ``pkg/kubelet/prober`` (``Unhealthy``),
``pkg/scheduler`` (``Scheduled``).

Builders are pure: names and times are arguments.
"""

from __future__ import annotations

from typing import Any

from kubescope.sim.objects.meta import rfc3339, rfc3339_micro

Obj = dict[str, Any]

READINESS_FAILED = "Readiness probe failed: HTTP probe failed with statuscode: 503"
"""What the prober says of an HTTP readiness probe that answers 503."""


def reference(obj: Obj, field_path: str = "") -> Obj:
    """``reference.GetReference``: the object an event is about."""
    meta = obj.get("metadata") or {}
    return ref(
        obj.get("kind", ""),
        obj.get("apiVersion", ""),
        meta.get("namespace", ""),
        meta.get("name", ""),
        meta.get("uid", ""),
        resource_version=meta.get("resourceVersion", ""),
        field_path=field_path,
    )


def ref(
    kind: str,
    api_version: str,
    ns: str,
    name: str,
    uid: str = "",
    *,
    resource_version: str = "",
    field_path: str = "",
) -> Obj:
    """An ObjectReference, its fields in Go's order, empty ones left out (``omitempty``)."""
    out: Obj = {"kind": kind}
    if ns:
        out["namespace"] = ns
    out["name"] = name
    if uid:
        out["uid"] = uid
    out["apiVersion"] = api_version
    if resource_version:
        out["resourceVersion"] = resource_version
    if field_path:
        out["fieldPath"] = field_path
    return out


def container_path(kind: str, name: str) -> str:
    """The ``fieldPath`` of a container: ``spec.containers{app}``, ``spec.initContainers{init}``."""
    return f"spec.{kind}{{{name}}}"


def event_name(about: str, nanos: int) -> str:
    """client-go's Event name: the object's, then the time in hex nanoseconds."""
    return f"{about}.{nanos:x}"


# -- messages ------------------------------------------------------------------------------------


def pulling(image: str) -> str:
    return f'Pulling image "{image}"'


def pulled(image: str, took: str, size: int) -> str:
    return (
        f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {size} bytes.'
    )


def present(image: str) -> str:
    return f'Container image "{image}" already present on machine'


def created(container: str) -> str:
    return f"Created container: {container}"


def started(container: str) -> str:
    return f"Started container {container}"


def killing(container: str) -> str:
    return f"Stopping container {container}"


def back_off(container: str, pod: str, ns: str, uid: str) -> str:
    """A crash-looping container waiting out its back-off (``format.Pod``: ``name_ns(uid)``)."""
    return f"Back-off restarting failed container {container} in pod {pod}_{ns}({uid})"


def back_off_pull(image: str) -> str:
    return f'Back-off pulling image "{image}"'


def scheduled(ns: str, pod: str, node: str) -> str:
    return f"Successfully assigned {ns}/{pod} to {node}"


# -- the two recorders' Events -------------------------------------------------------------------


def legacy(
    name: str,
    ns: str,
    about: Obj,
    typ: str,
    reason: str,
    message: str,
    component: str,
    host: str,
    first: float,
    last: float,
    count: int,
) -> Obj:
    """A core/v1 Event as client-go's ``tools/record`` writes it (``count``, first and last
    timestamps, ``source``; ``eventTime`` null)."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": about,
        "reason": reason,
        "message": message,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": rfc3339(first),
        "lastTimestamp": rfc3339(last),
        "count": count,
        "type": typ,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }


def series(
    name: str,
    ns: str,
    about: Obj,
    typ: str,
    reason: str,
    note: str,
    controller: str,
    instance: str,
    action: str,
    first: float,
) -> Obj:
    """A core/v1 Event as client-go's ``tools/events`` writes it (``eventTime``, ``action``, no
    ``source`` nor timestamps); its ``series`` comes with the second occurrence
    (:func:`with_series`)."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": about,
        "reason": reason,
        "message": note,
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "type": typ,
        "eventTime": rfc3339_micro(first),
        "action": action,
        "reportingComponent": controller,
        "reportingInstance": instance,
    }


def series_of(count: int, last: float) -> Obj:
    """An Event's ``series``: how many times, the last when."""
    return {"count": count, "lastObservedTime": rfc3339_micro(last)}
