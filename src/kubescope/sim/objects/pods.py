"""Pods: specs from templates with kube-apiserver's defaults, conditions, container states.

The scenario generator builds its pods' statuses from these parts; the control plane builds the
pods controllers create (:func:`pod_from_template`) and the statuses kubelets report as a pod
starts, runs, restarts and ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubescope.sim import defaults
from kubescope.sim.objects.meta import object_meta

Obj = dict[str, Any]


def deep(o: Obj) -> Obj:
    """A deep copy of JSON-shaped data (cheaper than ``copy.deepcopy`` for dicts and lists only)."""
    return {
        k: deep(v) if isinstance(v, dict) else _deep_list(v) if isinstance(v, list) else v
        for k, v in o.items()
    }


def _deep_list(o: list[Any]) -> list[Any]:
    return [deep(v) if isinstance(v, dict) else _deep_list(v) if isinstance(v, list) else v for v in o]


# -- specs ------------------------------------------------------------------------------------


def fill_spec(spec: Obj, *, node: str = "") -> Obj:
    """Fill in a pod spec what kube-apiserver does for a created pod: the API's defaults and the
    Priority admission plugin's ``priority``/``preemptionPolicy``; ``node`` binds it. In place."""
    defaults.pod_spec(spec)
    defaults.pod_admission(spec)
    if node:
        spec["nodeName"] = node
    return spec


def pod_from_template(
    template: Obj,
    *,
    name: str,
    namespace: str,
    uid: str,
    created: str,
    owner: Obj,
    labels: dict[str, str] | None = None,
    generate_name: str = "",
) -> Obj:
    """A pod as a controller creates it from its template (``labels`` added to the template's),
    as stored: defaults filled in, ``Pending`` with its QoS class, not yet scheduled.

    The pod shares the template's nested parts (a deep copy per pod costs more than the write):
    pass a template decoded for this purpose, and change what the pod shares only on copies."""
    tmeta = template.get("metadata") or {}
    spec = fill_spec(dict(template.get("spec") or {}))
    meta = object_meta(
        name,
        namespace,
        uid=uid,
        created=created,
        labels=dict(tmeta.get("labels") or {}, **(labels or {})),
        annotations=dict(tmeta.get("annotations") or {}),
        owner=owner,
        generate_name=generate_name,
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": defaults.qos_class(spec)},
    }


def container_names(spec: Obj) -> list[str]:
    return [str(c.get("name", "")) for c in spec.get("containers") or ()]


# -- conditions -------------------------------------------------------------------------------


def condition(typ: str, status: str, at: str, reason: str = "", message: str = "") -> Obj:
    """A pod condition (``lastProbeTime`` is always null: kubelets do not probe-stamp them)."""
    c: Obj = {"type": typ, "status": status, "lastProbeTime": None, "lastTransitionTime": at}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def not_ready_message(names: Iterable[str]) -> str:
    return f"containers with unready status: [{' '.join(names)}]"


def scheduled(at: str) -> Obj:
    return condition("PodScheduled", "True", at)


def unschedulable(at: str, message: str) -> Obj:
    return condition("PodScheduled", "False", at, "Unschedulable", message)


def set_condition(status: Obj, new: Obj) -> bool:
    """Put ``new`` in ``status.conditions`` (replacing its type); the transition time stays when
    the status does not change, as kubelets keep it. Returns whether anything changed."""
    conds = status.setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c.get("type") == new["type"]:
            if c.get("status") == new["status"]:
                new = dict(new, lastTransitionTime=c.get("lastTransitionTime", new["lastTransitionTime"]))
            if c == new:
                return False
            conds[i] = new
            return True
    conds.append(new)
    return True


def set_ready(status: Obj, ready: bool, at: str, *, containers: Iterable[str] = (), reason: str = "") -> None:
    """``Ready`` and ``ContainersReady`` to ``ready`` (a not-ready pod names its unready
    containers, or gives ``reason`` such as ``PodCompleted``)."""
    flag = "True" if ready else "False"
    names = list(containers)
    for typ in ("Ready", "ContainersReady"):
        for c in status.get("conditions") or ():
            if c.get("type") != typ:
                continue
            if c.get("status") != flag:
                c["status"] = flag
                c["lastTransitionTime"] = at
            c.pop("reason", None)
            c.pop("message", None)
            if not ready:
                c["reason"] = reason or "ContainersNotReady"
                if not reason:
                    c["message"] = not_ready_message(names)


# -- containers -------------------------------------------------------------------------------


def running(started_at: str) -> Obj:
    return {"running": {"startedAt": started_at}}


def waiting(reason: str, message: str = "") -> Obj:
    w: Obj = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def terminated(
    exit_code: int,
    reason: str,
    started_at: str,
    finished_at: str,
    *,
    container_id: str = "",
    message: str = "",
) -> Obj:
    t: Obj = {"exitCode": exit_code, "reason": reason}
    if message:
        t["message"] = message
    t["startedAt"] = started_at
    t["finishedAt"] = finished_at
    if container_id:
        t["containerID"] = container_id
    return {"terminated": t}


def container_status(
    name: str,
    image: str,
    state: Obj,
    *,
    ready: bool = False,
    started: bool = False,
    restarts: int = 0,
    last: Obj | None = None,
    image_id: str = "",
    container_id: str = "",
) -> Obj:
    cs: Obj = {
        "name": name,
        "state": state,
        "lastState": last or {},
        "ready": ready,
        "restartCount": restarts,
        "image": image,
        "imageID": image_id,
        "started": started,
    }
    if container_id:
        cs["containerID"] = container_id
    return cs


def end_of(c: Obj, exit_code: int, reason: str, at: str) -> Obj:
    """The ``terminated`` state that ends container status ``c``'s current run at ``at``."""
    run = (c.get("state") or {}).get("running") or {}
    return terminated(
        exit_code, reason, run.get("startedAt", at), at, container_id=str(c.get("containerID") or "")
    )


def creating_status(spec: Obj, host_ip: str, at: str) -> Obj:
    """What a kubelet first reports of a pod it admitted: ``Pending``, its containers being
    created, the node's address and the start time."""
    containers = spec.get("containers") or ()
    unready = not_ready_message(str(c.get("name", "")) for c in containers)
    return {
        "phase": "Pending",
        "conditions": [
            condition("PodReadyToStartContainers", "False", at),
            condition("Initialized", "True", at),
            condition("Ready", "False", at, "ContainersNotReady", unready),
            condition("ContainersReady", "False", at, "ContainersNotReady", unready),
            scheduled(at),
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}] if host_ip else [],
        "startTime": at,
        "qosClass": defaults.qos_class(spec),
        "containerStatuses": [
            container_status(str(c.get("name", "")), str(c.get("image", "")), waiting("ContainerCreating"))
            for c in containers
        ],
    }
