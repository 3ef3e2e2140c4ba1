"""Server-side printing: ``meta.k8s.io/v1`` Table answers, as kube-apiserver's printers build them.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the columns it
gets. Pods, nodes, deployments, namespaces, services, events (both versions) and
HorizontalPodAutoscalers get kube-apiserver's columns (priority 1 are
the ``-o wide`` ones); every other resource gets the default ``Name``/``Created At`` table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from kubescope.model.timefmt import human_duration, parse_rfc3339
from kubescope.sim import eventsv1
from kubescope.sim.resources import ResourceType

Obj = dict[str, Any]


def _col(name: str, typ: str = "string", fmt: str = "", desc: str = "", priority: int = 0) -> Obj:
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": priority}


def _parse(ts: str | None) -> dt.datetime | None:
    got = parse_rfc3339(ts) if isinstance(ts, str) else None
    return None if got is None else dt.datetime.fromtimestamp(got[0], dt.UTC)


def _age(obj: Obj, now: dt.datetime) -> str:
    t = _parse((obj.get("metadata") or {}).get("creationTimestamp"))
    return "<unknown>" if t is None else human_duration((now - t).total_seconds())


def _pod_row(o: Obj, now: dt.datetime) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    statuses = st.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    reason = st.get("reason") or st.get("phase") or ""
    last_restart: dt.datetime | None = None
    for c in statuses:
        last_term = (c.get("lastState") or {}).get("terminated") or {}
        finished = _parse(last_term.get("finishedAt"))
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished
    for c in reversed(statuses):
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            term = state["terminated"] or {}
            reason = term.get("reason") or (
                f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
            )
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    restarts_s = str(restarts)
    if restarts and last_restart is not None:
        restarts_s = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    return [
        o["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts_s,
        _age(o, now),
        st.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _node_row(o: Obj, now: dt.datetime) -> list[Any]:
    st, spec, meta = o.get("status") or {}, o.get("spec") or {}, o.get("metadata") or {}
    ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    if spec.get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(
        k.split("/", 1)[1] for k in (meta.get("labels") or {}) if k.startswith("node-role.kubernetes.io/")
    )
    addrs = st.get("addresses") or []
    internal = next((a["address"] for a in addrs if a.get("type") == "InternalIP"), "<none>")
    external = next((a["address"] for a in addrs if a.get("type") == "ExternalIP"), "<none>")
    ni = st.get("nodeInfo") or {}
    return [
        meta["name"],
        status,
        ",".join(roles) or "<none>",
        _age(o, now),
        ni.get("kubeletVersion", ""),
        internal,
        external,
        ni.get("osImage", ""),
        ni.get("kernelVersion", ""),
        ni.get("containerRuntimeVersion", ""),
    ]


def _deployment_row(o: Obj, now: dt.datetime) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    return [
        o["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(o, now),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>",
    ]


def _hpa_metric(spec: Obj, status: Obj | None) -> str:
    """One metric of kube's ``formatHPAMetrics``: current/target, ``(avg)`` for average values of
    Object and External metrics, the resource's name for Resource metrics."""
    typ = spec.get("type", "")
    key = {"External": "external", "Pods": "pods", "Object": "object", "Resource": "resource",
           "ContainerResource": "containerResource"}.get(typ)  # fmt: skip
    if key is None:
        return "<unknown type>"
    src = spec.get(key) or {}
    target = src.get("target") or {}
    cur_src = (status or {}).get(key)
    current = (cur_src or {}).get("current") or {}
    if typ == "Pods":
        return f"{current.get('averageValue', '<unknown>') if cur_src else '<unknown>'}/{target.get('averageValue')}"
    if typ in ("External", "Object"):
        if target.get("averageValue") is not None:
            return f"{current.get('averageValue') or '<unknown>'}/{target['averageValue']} (avg)"
        return f"{current.get('value', '<unknown>') if cur_src else '<unknown>'}/{target.get('value')}"
    name = src.get("name", "")
    if target.get("averageValue") is not None:
        cur = current.get("averageValue", "<unknown>") if cur_src else "<unknown>"
        return f"{name}: {cur}/{target['averageValue']}"
    util = current.get("averageUtilization")
    cur = f"{util}%" if cur_src and util is not None else "<unknown>"
    want = target.get("averageUtilization")
    return f"{name}: {cur}/{'<auto>' if want is None else f'{want}%'}"


def _hpa_row(o: Obj, now: dt.datetime) -> list[Any]:
    """kube's ``printHorizontalPodAutoscaler`` (autoscaling/v2; a v1 object's CPU target as its
    Resource metric)."""
    spec, st = o.get("spec") or {}, o.get("status") or {}
    metrics = spec.get("metrics")
    statuses = st.get("currentMetrics") or []
    if metrics is None and spec.get("targetCPUUtilizationPercentage") is not None:
        target = {"averageUtilization": spec["targetCPUUtilizationPercentage"]}
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
        cur = st.get("currentCPUUtilizationPercentage")
        statuses = [] if cur is None else [{"resource": {"current": {"averageUtilization": cur}}}]
    items = [_hpa_metric(m, statuses[i] if i < len(statuses) else None) for i, m in enumerate(metrics or [])]
    targets = "<none>" if not items else ", ".join(items[:2])
    if len(items) > 2:
        targets += f" + {len(items) - 2} more..."
    ref = spec.get("scaleTargetRef") or {}
    low = spec.get("minReplicas")
    return [
        o["metadata"]["name"],
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        targets,
        "<unset>" if low is None else str(low),
        int(spec.get("maxReplicas") or 0),
        int(st.get("currentReplicas") or 0),
        _age(o, now),
    ]


def _service_row(o: Obj, now: dt.datetime) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ingress = (st.get("loadBalancer") or {}).get("ingress") or []
    ext = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or ",".join(
        spec.get("externalIPs") or []
    )
    if not ext:
        ext = "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    ports = (
        ",".join(
            f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
            for p in spec.get("ports") or []
        )
        or "<none>"
    )
    sel = spec.get("selector") or {}
    return [
        o["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        ext,
        ports,
        _age(o, now),
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>",
    ]


def _namespace_row(o: Obj, now: dt.datetime) -> list[Any]:
    return [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""), _age(o, now)]


def _since(ts: Any, now: dt.datetime) -> str:
    t = _parse(ts)
    return "<unknown>" if t is None else human_duration((now - t).total_seconds())


def _event_row(o: Obj, now: dt.datetime) -> list[Any]:
    """kube's ``printEvent`` (all columns: the server prints wide); an events.k8s.io/v1 Event is
    printed as the core/v1 one it is."""
    if o.get("apiVersion") == "events.k8s.io/v1":
        o = eventsv1.to_core_v1(o)
    first = _since(o.get("firstTimestamp"), now) if o.get("firstTimestamp") else _since(o.get("eventTime"), now)
    last = _since(o.get("lastTimestamp"), now) if o.get("lastTimestamp") else first
    count = o.get("count") or 0
    series = o.get("series")
    if isinstance(series, dict):
        last, count = _since(series.get("lastObservedTime"), now), series.get("count") or 0
    elif not count:
        count = 1  # a singleton of the new API has no count
    about = o.get("involvedObject") or {}
    kind = str(about.get("kind", "")).lower()
    target = f"{kind}/{about['name']}" if about.get("name") else kind
    source = o.get("source") or {}
    component = source.get("component") or o.get("reportingComponent") or ""
    instance = source.get("host") or o.get("reportingInstance") or ""
    by = ", ".join([component, instance] if instance else [component]) if component else "<unknown>"
    return [
        last,
        o.get("type", ""),
        o.get("reason", ""),
        target,
        about.get("fieldPath", ""),
        by,
        str(o.get("message", "")).strip(),
        first,
        int(count),
        o["metadata"].get("name", ""),
    ]


def _default_row(o: Obj, now: dt.datetime) -> list[Any]:
    return [o["metadata"].get("name", ""), o["metadata"].get("creationTimestamp") or "<unknown>"]


_PRINTERS: dict[str, tuple[list[Obj], Any]] = {
    "pods": (
        [
            _col("Name", fmt="name"),
            _col("Ready"),
            _col("Status"),
            _col("Restarts"),
            _col("Age"),
            _col("IP", priority=1),
            _col("Node", priority=1),
            _col("Nominated Node", priority=1),
            _col("Readiness Gates", priority=1),
        ],
        _pod_row,
    ),
    "nodes": (
        [
            _col("Name", fmt="name"),
            _col("Status"),
            _col("Roles"),
            _col("Age"),
            _col("Version"),
            _col("Internal-IP", priority=1),
            _col("External-IP", priority=1),
            _col("OS-Image", priority=1),
            _col("Kernel-Version", priority=1),
            _col("Container-Runtime", priority=1),
        ],
        _node_row,
    ),
    "deployments.apps": (
        [
            _col("Name", fmt="name"),
            _col("Ready"),
            _col("Up-to-date", "integer"),
            _col("Available", "integer"),
            _col("Age"),
            _col("Containers", priority=1),
            _col("Images", priority=1),
            _col("Selector", priority=1),
        ],
        _deployment_row,
    ),
    "services": (
        [
            _col("Name", fmt="name"),
            _col("Type"),
            _col("Cluster-IP"),
            _col("External-IP"),
            _col("Port(s)"),
            _col("Age"),
            _col("Selector", priority=1),
        ],
        _service_row,
    ),
    "namespaces": ([_col("Name", fmt="name"), _col("Status"), _col("Age")], _namespace_row),
    "events": (
        [
            _col("Last Seen"),
            _col("Type"),
            _col("Reason"),
            _col("Object"),
            _col("Subobject", priority=1),
            _col("Source", priority=1),
            _col("Message"),
            _col("First Seen", priority=1),
            _col("Count", priority=1),
            _col("Name", fmt="name", priority=1),
        ],
        _event_row,
    ),
    "horizontalpodautoscalers.autoscaling": (
        [
            _col("Name", fmt="name"),
            _col("Reference"),
            _col("Targets"),
            _col("MinPods"),
            _col("MaxPods", "integer"),
            _col("Replicas", "integer"),
            _col("Age"),
        ],
        _hpa_row,
    ),
}
_DEFAULT = ([_col("Name", fmt="name"), _col("Created At", fmt="date")], _default_row)


def table(
    t: ResourceType,
    objs: Sequence[Obj],
    *,
    list_meta: Obj | None = None,
    include: str = "Metadata",
    columns: bool = True,
) -> Obj:
    """A Table for ``objs``; ``include`` is the ``includeObject`` parameter (None/Metadata/Object)."""
    cols, row = _PRINTERS.get(t.key, _DEFAULT)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for o in objs:
        r: Obj = {"cells": row(o, now)}
        if include == "Object":
            r["object"] = o
        elif include != "None":
            r["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o.get("metadata") or {},
            }
        rows.append(r)
    out: Obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta or {}, "rows": rows}
    if columns:
        out["columnDefinitions"] = cols
    return out
