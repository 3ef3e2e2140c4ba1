"""One chart, one request: what each chart asks of its sources (all at once) and how it degrades.

Usage over a range comes from kubescope history (the target's usage, and for pods and workloads its
requests and limits as they were); a node's allocatable and a workload's current requests come from the
watches. Without history the console's own 15-minute ring answers the ranges it covers, with a note.
An autoscaler's replicas over time come from its rescale events (the archive keeps them for weeks) and
from the replica counts the console saw change.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from typing import Any

from kubescope.console import charts, units
from kubescope.console.charts import BadInput, chart, constant_line, history_line, ring_line
from kubescope.console.cluster import KIND_PATHS, WORKLOAD_KINDS, Cluster, WorkloadKey
from kubescope.console.sources import Events, History, Unavailable
from kubescope.console.usage import Usage, pod_key

METRICS = {"cpu": ("cpu/usage_rate", "cpu/request", "cpu/limit"),
           "memory": ("memory/usage", "memory/request", "memory/limit")}  # fmt: skip
_NEW_SIZE = re.compile(r"New size: (\d+)")


class NotFound(LookupError):
    """The object a URL names does not exist (404); the message says what was looked for."""


def _metric(text: str | None) -> str:
    if text not in METRICS:
        raise BadInput(f"metric={text!r}: use cpu or memory")
    return text


class ChartData:
    def __init__(self, cluster: Cluster, usage: Usage, history: History, events: Events) -> None:
        self.cluster = cluster
        self.usage = usage
        self.history = history
        self.events = events

    async def _history(
        self, target: str, names: tuple[str, ...], start: int, end: int, step: int | None
    ) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.history.points(target, n, start, end, step) for n in names)))

    async def usage_chart(self, what: str, path: tuple[str, ...], query: dict[str, str]) -> dict[str, Any]:
        """``what``: cluster, nodes, pods or workloads; ``path`` the object's names."""
        metric = _metric(query.get("metric"))
        name, seconds, step = charts.parse_range(query.get("range"))
        end = int(time.time())
        start = end - seconds
        target, ring_keys, flat, current = self._target(what, path, metric)
        usage_name, request_name, limit_name = METRICS[metric]
        names = (usage_name,) if what in ("cluster", "nodes") else (usage_name, request_name, limit_name)
        # the buckets asked begin a step after the range's start: the 14-day range at 5-minute rollups
        # (kept for 14 days) must stay within them however late the history API reads its clock; from
        # the range's very start it was refused whenever a second ticked between the two clocks
        first = start + step if step else start
        try:
            answers = await self._history(target, names, first, end, step)
        except Unavailable as e:
            return self._from_ring(metric, start, end, ring_keys, flat + current, what, str(e), name)
        lines = [
            history_line(label, a) for label, a in zip(("usage", "request", "limit"), answers, strict=False)
        ]
        lines += [constant_line(label, v, start, end) for label, v in flat]
        return chart(metric, start, end, lines, source="history")

    def _from_ring(self, metric: str, start: int, end: int, keys: list[str], flat: list[tuple[str, float | None]],
                   what: str, why: str, range_name: str) -> dict[str, Any]:  # fmt: skip
        ring = self.usage.nodes if what in ("nodes", "cluster") else self.usage.pods
        times, values = ring.series(keys, metric)
        start = max(start, end - 900)  # what the ring holds, drawn across the chart
        lines = [ring_line("usage", times, values, self.usage.interval)]
        lines += [constant_line(label, v, start, end) for label, v in flat]
        note = f"{why}: showing the last 15 minutes the console has seen"
        if what in ("pods", "workloads"):
            note += ", against the current requests and limits"
        if range_name != "15m":
            note += f" (the {range_name} range needs kubescope history)"
        return chart(metric, start, end, lines, source="console", notes=[note])

    def _target(
        self, what: str, path: tuple[str, ...], metric: str
    ) -> tuple[str, list[str], list[tuple[str, float | None]], list[tuple[str, float | None]]]:
        """(history path, ring keys, flat lines from the watches, the current requests and limits
        drawn flat when history cannot say what they were) for the object a chart URL names."""
        c = self.cluster
        parse = units.millicores_of if metric == "cpu" else units.bytes_of
        if what == "cluster":
            total = 0.0
            for n in c.nodes.values():
                total += parse(n.status.allocatable.get(metric, "")) or 0.0
            return "", [n.metadata.name for n in c.nodes.values()], [("allocatable", total or None)], []
        if what == "nodes" and len(path) == 1:
            node = c.node(path[0])
            if node is None:
                raise NotFound(f"no node {path[0]!r}")
            return (
                f"/nodes/{path[0]}",
                [path[0]],
                [("allocatable", parse(node.status.allocatable.get(metric, "")))],
                [],
            )
        if what == "pods" and len(path) == 2:
            pod = c.pod(*path)
            if pod is None:
                raise NotFound(f"no pod {path[1]!r} in namespace {path[0]!r}")
            req, lim = (pod.cpu_req, pod.cpu_lim) if metric == "cpu" else (pod.mem_req, pod.mem_lim)
            return f"/pod-id/{pod.uid}", [pod_key(*path)], [], [("request", req), ("limit", lim)]
        if what == "workloads" and len(path) == 3:
            ns, kind_path, name = path
            if kind_path not in WORKLOAD_KINDS:
                raise BadInput(f"{kind_path!r} is not a workload kind: use {', '.join(WORKLOAD_KINDS)}")
            kind = WORKLOAD_KINDS[kind_path][1]
            if c.workload(kind, ns, name) is None:
                raise NotFound(f"no {kind} {name!r} in namespace {ns!r}")
            pods = c.pods_by_workload().get(WorkloadKey(kind, ns, name), [])
            req = _total(p.cpu_req if metric == "cpu" else p.mem_req for p in pods)
            lim = _total(p.cpu_lim if metric == "cpu" else p.mem_lim for p in pods)
            keys = [pod_key(p.namespace, p.name) for p in pods]
            return f"/namespaces/{ns}/{kind_path}/{name}", keys, [], [("request", req), ("limit", lim)]
        raise NotFound(f"no chart for {what}/{'/'.join(path)}")

    async def replicas_chart(self, namespace: str, name: str, query: dict[str, str]) -> dict[str, Any]:
        """An autoscaler's replicas over the range: rescale events, then the counts seen change."""
        _range_name, seconds, _ = charts.parse_range(query.get("range"))
        hpa = self.cluster.hpa(namespace, name)
        if hpa is None:
            raise NotFound(f"no HorizontalPodAutoscaler {name!r} in namespace {namespace!r}")
        end = int(time.time())
        start = end - seconds
        notes = []
        points: dict[int, float] = {}
        try:
            evs, note = await self.events.find(
                namespace,
                {
                    "regarding.kind": "HorizontalPodAutoscaler",
                    "regarding.name": name,
                    "reason": "SuccessfulRescale",
                },
                seconds,
            )
            notes.append(note)
            for e in evs:
                m = _NEW_SIZE.search(e.message)
                if m and start <= e.last <= end:
                    points[int(e.last)] = float(m.group(1))
        except Unavailable as e:
            notes.append(str(e))
        for t, current, desired in self.cluster.replicas.get(hpa.metadata.uid, ()):
            if start <= t <= end:
                points[int(t)] = float(desired or current)
        points[end] = float(hpa.status.desired_replicas or hpa.status.current_replicas)
        ts = sorted(points)
        # replicas hold between changes: a step line from the first known value to now
        lines = [("replicas", ts, [points[t] for t in ts], [[ts[0], end]] if ts else [])]
        lines.append(constant_line("min", float(hpa.spec.min_replicas or 1), start, end))
        lines.append(constant_line("max", float(hpa.spec.max_replicas), start, end))
        return chart("count", start, end, lines, source="events", notes=notes)


def _total(values: Iterable[float | None]) -> float | None:
    vs = list(values)
    return None if not vs or any(v is None for v in vs) else sum(v for v in vs if v is not None)


def workload_kind(kind_path: str) -> str:
    if kind_path not in WORKLOAD_KINDS:
        raise BadInput(f"{kind_path!r} is not a workload kind: use {', '.join(WORKLOAD_KINDS)}")
    return WORKLOAD_KINDS[kind_path][1]


__all__ = ["KIND_PATHS", "ChartData", "NotFound", "workload_kind"]
