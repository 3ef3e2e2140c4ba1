"""What the overview and the detail pages show, gathered from memory and, concurrently, from the few
requests each page needs: the object itself from the API server (pods: the lists keep only a summary),
its merged events timeline, and for workloads the history recommendation. A source that fails leaves
a note on the page and the rest is shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from kubescope.console import lists, units, wire
from kubescope.console.chartdata import NotFound, workload_kind
from kubescope.console.cluster import KIND_PATHS, Cluster, WorkloadKey
from kubescope.console.sources import Event, Events, History, Unavailable
from kubescope.console.usage import Usage, pod_key
from kubescope.errors import KubeError, NotFoundError, truncate
from kubescope.kube.client import KubeClient

EVENTS_SINCE = 14 * 86400
"""How far back a detail page's events timeline reaches (the archive's default retention is longer)."""
GROUPS = (
    ("metrics.k8s.io", "resource metrics (kubescope resource-metrics or metrics-server)"),
    ("custom.metrics.k8s.io", "custom metrics (kubescope custom-metrics)"),
    ("external.metrics.k8s.io", "external metrics (kubescope custom-metrics)"),
    ("history.kubescope.io", "usage history (kubescope history)"),
    ("events.kubescope.io", "event archive (kubescope events)"),
)
_pod = msgspec.json.Decoder(wire.Pod)

Probe = Callable[[], Awaitable[tuple[str, bool, str]]]


class Details:
    def __init__(self, client: KubeClient, cluster: Cluster, usage: Usage, history: History, events: Events,
                 probes: tuple[Probe, ...] = ()) -> None:  # fmt: skip
        self.client = client
        self.cluster = cluster
        self.usage = usage
        self.history = history
        self.events = events
        self.probes = probes

    async def _events(self, namespace: str, kind: str, name: str) -> tuple[list[Event], str]:
        try:
            return await self.events.find(
                namespace, {"regarding.kind": kind, "regarding.name": name}, EVENTS_SINCE
            )
        except Unavailable as e:
            return [], str(e)

    # -- overview ---------------------------------------------------------------------------------------

    async def overview(self) -> dict[str, Any]:
        c, u = self.cluster, self.usage
        ready = sum(1 for n in c.nodes.values() if lists.node_status(n).startswith("Ready"))
        phases: dict[str, int] = {}
        for p in c.pods.values():
            phases[p.phase or "Unknown"] = phases.get(p.phase or "Unknown", 0) + 1
        alloc_cpu = sum(
            units.millicores_of(n.status.allocatable.get("cpu", "")) or 0 for n in c.nodes.values()
        )
        alloc_mem = sum(units.bytes_of(n.status.allocatable.get("memory", "")) or 0 for n in c.nodes.values())
        used = [u.nodes.current(n.metadata.name) for n in c.nodes.values()]
        cpu = sum(x[0] for x in used if x[0] is not None) if any(x[0] is not None for x in used) else None
        mem = sum(x[1] for x in used if x[1] is not None) if any(x[1] is not None for x in used) else None
        top_ns = sorted(((ns, v[1], v[2]) for ns, v in lists.namespace_usage(c, u).items() if v[1] is not None),
                        key=lambda r: -(r[1] or 0))[:10]  # fmt: skip
        top_wl = []
        for key, pods in c.pods_by_workload().items():
            s = [u.pods.current(pod_key(p.namespace, p.name)) for p in pods]
            if any(x[0] is not None for x in s):
                top_wl.append((key, sum(x[0] or 0 for x in s), sum(x[1] or 0 for x in s)))
        top_wl.sort(key=lambda r: -r[1])
        probes = await asyncio.gather(*(p() for p in self.probes))
        return {
            "nodes_ready": ready, "nodes_not_ready": len(c.nodes) - ready, "phases": sorted(phases.items()),
            "pods": len(c.pods), "namespaces": len(c.namespaces), "hpas": len(c.hpas),
            "workloads": sum(len(t) for k, t in c.workloads.items() if k != "ReplicaSet"),
            "cpu": cpu, "memory": mem, "cpu_allocatable": alloc_cpu, "memory_allocatable": alloc_mem,
            "top_namespaces": top_ns, "top_workloads": top_wl[:10], "health": self.health(list(probes)),
        }  # fmt: skip

    def health(self, probes: list[tuple[str, bool, str]]) -> list[tuple[str, bool, str]]:
        c, u = self.cluster, self.usage
        out = [
            ("Kubernetes API (watches)", c.synced(), "listed and watching" if c.synced() else "still listing")
        ]
        if u.error:
            out.append(("Metrics API polls", False, u.error))
        else:
            out.append(
                (
                    "Metrics API polls",
                    True,
                    f"last {units.age(time.time() - u.last_ok)} ago, every {u.interval:g}s",
                )
            )
        for group, what in GROUPS:
            ok, why = c.apiservice_available(group)
            out.append((what, ok, "Available" if ok else why))
        return out + probes

    # -- nodes ------------------------------------------------------------------------------------------

    async def node(self, name: str) -> dict[str, Any]:
        node = self.cluster.node(name)
        if node is None:
            raise NotFound(f"no node {name!r} (see /nodes for the nodes there are)")
        events, note = await self._events("", "Node", name)
        c, m = self.usage.nodes.current(name)
        pods = [p for p in self.cluster.pods.values() if p.node == name]
        return {"node": node, "status": lists.node_status(node), "roles": lists.node_roles(node), "cpu": c, "memory": m,
                "pods": len(pods), "events": events, "notes": [note]}  # fmt: skip

    # -- pods -------------------------------------------------------------------------------------------

    async def pod(self, namespace: str, name: str) -> dict[str, Any]:
        rec = self.cluster.pod(namespace, name)
        if rec is None:
            raise NotFound(f"no pod {name!r} in namespace {namespace!r} (it may have been deleted)")
        (events, note), (pod, pod_note) = await asyncio.gather(
            self._events(namespace, "Pod", name), self._pod(namespace, name)
        )
        c, m = self.usage.pods.current(pod_key(namespace, name))
        return {"rec": rec, "pod": pod, "owner": self.cluster.owner_of(rec), "cpu": c, "memory": m,
                "events": events, "changes": rec.changes or [], "notes": [note, pod_note]}  # fmt: skip

    async def _pod(self, namespace: str, name: str) -> tuple[wire.Pod | None, str]:
        try:
            body = await asyncio.wait_for(self.client.get(f"/api/v1/namespaces/{namespace}/pods/{name}"), 10)
            return _pod.decode(body), ""
        except NotFoundError:
            return None, "the pod is gone from the API server"
        except (KubeError, TimeoutError, msgspec.DecodeError, msgspec.ValidationError) as e:
            return None, f"could not read the pod from the API server: {truncate(str(e), 200)}"

    # -- workloads --------------------------------------------------------------------------------------

    async def workload(self, namespace: str, kind_path: str, name: str) -> dict[str, Any]:
        kind = workload_kind(kind_path)
        w = self.cluster.workload(kind, namespace, name)
        if w is None:
            raise NotFound(f"no {kind} {name!r} in namespace {namespace!r}")
        key = WorkloadKey(kind, namespace, name)
        pods = sorted(self.cluster.pods_by_workload().get(key, []), key=lambda p: p.name)
        template = w.containers
        (events, note), (rec, rec_note) = await asyncio.gather(
            self._events(namespace, kind, name), self._recommendation(key, template)
        )
        rows = []
        for p in pods:
            c, m = self.usage.pods.current(pod_key(p.namespace, p.name))
            rows.append({"name": p.name, "status": p.status, "node": p.node, "restarts": p.restarts,
                         "cpu": units.cpu(c), "memory": units.memory(m)})  # fmt: skip
        hpas = [h for h in self.cluster.hpas.values() if h.metadata.namespace == namespace
                and h.spec.scale_target_ref.kind == kind and h.spec.scale_target_ref.name == name]  # fmt: skip
        return {"w": w, "key": key, "kind_path": kind_path, "ready": w.ready, "pods": rows,
                "containers": template, "recommendation": rec, "events": events, "hpas": hpas,
                "notes": [note, rec_note]}  # fmt: skip

    async def _recommendation(
        self, key: WorkloadKey, template: list[wire.Container]
    ) -> tuple[list[dict[str, Any]], str]:
        """Per container: the history recommendation's target beside the current requests (the
        workload's pod template, as the watch has it now)."""
        requests = {c.name: c.resources.requests for c in template}
        try:
            answer = await self.history.recommendations(key.namespace)
        except Unavailable as e:
            return [], f"No recommendation: {e}"
        for item in answer.get("items") or ():
            if item.get("kind") == key.kind and item.get("name") == key.name:
                recs = ((item.get("status") or {}).get("recommendation") or {}).get(
                    "containerRecommendations"
                ) or ()
                return [{"container": r.get("containerName", ""), "target": r.get("target", {}),
                         "lower": r.get("lowerBound", {}), "upper": r.get("upperBound", {}),
                         "requests": requests.get(r.get("containerName", ""), {})} for r in recs], ""  # fmt: skip
        return [], "No recommendation yet: history has no samples of this workload in the window."

    # -- autoscalers ------------------------------------------------------------------------------------

    def autoscalers(self, namespace: str, text: str) -> dict[str, Any]:
        items = [h for h in self.cluster.hpas.values()
                 if (not namespace or h.metadata.namespace == namespace) and text.lower() in h.metadata.name.lower()]  # fmt: skip
        items.sort(key=lambda h: (h.metadata.namespace, h.metadata.name))
        return {"hpas": [self.hpa_view(h) for h in items]}

    def hpa_view(self, h: wire.HPA) -> dict[str, Any]:
        ref = h.spec.scale_target_ref
        target = None
        if ref.kind in KIND_PATHS:
            target = f"/workloads/{h.metadata.namespace}/{KIND_PATHS[ref.kind]}/{ref.name}"
        seen = self.cluster.replicas.get(h.metadata.uid, ())
        return {"h": h, "target": target, "metrics": metric_rows(h), "changes": list(seen)[-20:][::-1]}

    async def autoscaler(self, namespace: str, name: str) -> dict[str, Any]:
        h = self.cluster.hpa(namespace, name)
        if h is None:
            raise NotFound(f"no HorizontalPodAutoscaler {name!r} in namespace {namespace!r}")
        events, note = await self._events(namespace, "HorizontalPodAutoscaler", name)
        return {**self.hpa_view(h), "events": events, "notes": [note]}


def _quantity(v: dict[str, Any], metric: str) -> str:
    if "averageUtilization" in v:
        return f"{v['averageUtilization']}%"
    for k in ("averageValue", "value"):
        if k in v:
            q = str(v[k])
            if metric == "cpu":
                return units.cpu(units.millicores_of(q))
            if metric == "memory":
                return units.memory(units.bytes_of(q))
            return q
    return "-"


def _metric_name(spec: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    kind = str(spec.get("type", ""))
    body = spec.get({"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
                     "Object": "object", "External": "external"}.get(kind, ""), {}) or {}  # fmt: skip
    name = body.get("name") or (body.get("metric") or {}).get("name", "")
    return kind, str(name), body


def metric_rows(h: wire.HPA) -> list[dict[str, str]]:
    """Each metric of the HPA's spec with its target and the current value from its status."""
    current = {}
    for s in h.status.current_metrics:
        kind, name, body = _metric_name(s)
        current[(kind, name)] = body.get("current", {}) or {}
    rows = []
    for s in h.spec.metrics:
        kind, name, body = _metric_name(s)
        target = body.get("target", {}) or {}
        cur = current.get((kind, name))
        rows.append({"type": kind, "name": name, "target": _quantity(target, name),
                     "target_type": str(target.get("type", "")),
                     "current": _quantity(cur, name) if cur is not None else "<unknown>"})  # fmt: skip
    return rows
