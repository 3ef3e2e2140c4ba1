"""The last two points per node and container, and CPU rates computed from them.

Semantics are metrics-server's (``pkg/storage``), rule for rule:

* every :meth:`MetricsStorage.store` rebuilds both the ``last`` and ``prev`` maps from one complete
  scrape: a node, pod or container missing from the scrape disappears at once (the only pruning);
* a new point always becomes ``last``. The old ``last`` becomes ``prev`` when the new point is newer;
  otherwise the old ``prev`` is kept if it is older than the new point; otherwise there is no prev
  (out-of-order points are tolerated; that cycle's window shrinks);
* a container keeps a prev only when its start time is before the old last timestamp, so a restarted
  container has no value for one cycle;
* fresh-container shortcut: when ``10s <= timestamp - start < resolution``, a synthetic prev
  ``{timestamp: start, cpu: 0}`` gives a brand-new container a value from its first scrape;
* rate: an error (no value) when the start time went backwards or cumulative CPU decreased;
  otherwise ``cpu = uint64(float64(Δcpu) / window.Seconds())`` nano-cores over the real window
  between the two kubelet timestamps, and memory is the last working set;
* a pod has a value only when every container in ``last`` has a ``prev``; its timestamp and window
  are the earliest container's; a container whose rate errs is left out (possibly leaving
  ``containers: []`` and a null timestamp, as metrics-server serves it);
* ready when both some node and some pod have a prev.

One deliberate difference: metrics-server reads a container's old prev from a map that may not hold
that container, and then uses Go's zero point (timestamp in year 1) as prev, which yields a window
of about 292 years and a near-zero CPU value. Here a missing prev stays missing.

Rates are computed once per :meth:`store`, not per request, so errors are logged once per cycle and
every request of a cycle sees the same numbers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import msgspec

from kubescope.kubelet.parser import MetricsPoint, PodKey
from kubescope.kubelet.rates import (
    CAPACITY_SLACK,
    RateError,
    Usage,
    above_capacity,
    check_capacity,
    resource_usage,
)
from kubescope.log import fields

__all__ = ["MetricsStorage", "PodUsage", "RateError", "Usage", "resource_usage"]

logger = logging.getLogger(__name__)

FRESH_CONTAINER_MIN_NS = 10 * 1_000_000_000
"""A container younger than this at its first point gets no value: the CPU rate would be noisy."""

_NS_PER_S = 1_000_000_000


class PodUsage(msgspec.Struct, frozen=True, gc=False):
    ts: int | None
    """The earliest container's timestamp; None when no container had a value."""
    window: int
    containers: tuple[tuple[str, int, int], ...]
    """``(name, nano-cores, bytes)`` per container, in the kubelet's order."""


@dataclass
class MetricsStorage:
    """Two points per node and container; usages recomputed on every store."""

    resolution_ns: int
    node_last: dict[str, MetricsPoint] = field(default_factory=dict)
    node_prev: dict[str, MetricsPoint] = field(default_factory=dict)
    pod_last: dict[PodKey, dict[str, MetricsPoint]] = field(default_factory=dict)
    pod_prev: dict[PodKey, dict[str, MetricsPoint]] = field(default_factory=dict)
    node_usage: dict[str, Usage] = field(default_factory=dict)
    pod_usage: dict[PodKey, PodUsage] = field(default_factory=dict)
    generation: int = 0
    """Bumped on every store: caches of rendered answers key on it."""
    container_points: int = 0
    rate_errors: dict[tuple[str, str], int] = field(default_factory=dict)
    """Rates not served, by ``(node|container, reason)``."""
    _logged: set[tuple[str, str]] = field(default_factory=set)

    # -- readiness (metrics-server's definition) ----------------------------------------------------

    def node_ready(self) -> bool:
        return bool(self.node_prev)

    def pod_ready(self) -> bool:
        return bool(self.pod_prev)

    def ready(self) -> bool:
        return self.node_ready() and self.pod_ready()

    # -- writes -------------------------------------------------------------------------------------

    def store(
        self,
        nodes: Mapping[str, MetricsPoint],
        pods: Mapping[PodKey, Mapping[str, MetricsPoint]],
        *,
        node_of: Mapping[PodKey, str] | None = None,
        capacity: Mapping[str, int] | None = None,
    ) -> None:
        """Replace the state with one complete scrape (each node and pod at most once).

        ``node_of`` names the node that reported each pod and ``capacity`` each node's CPU capacity
        in nano-cores (0: unknown); with them, rates above :data:`CAPACITY_SLACK` times the
        capacity are refused."""
        for _ in self._steps(nodes, pods, 1 << 62, node_of or {}, capacity or {}):
            pass

    async def store_async(
        self,
        nodes: Mapping[str, MetricsPoint],
        pods: Mapping[PodKey, Mapping[str, MetricsPoint]],
        chunk: int = 5000,
        *,
        node_of: Mapping[PodKey, str] | None = None,
        capacity: Mapping[str, int] | None = None,
    ) -> None:
        """:meth:`store`, yielding to the event loop every ``chunk`` pods (150,000 pods take about a
        second); readers keep seeing the previous state until the new one is swapped in whole."""
        for _ in self._steps(nodes, pods, chunk, node_of or {}, capacity or {}):
            await asyncio.sleep(0)

    def _refused(self, what: str, node: str, e: RateError, **where: str) -> None:
        """Count a rate not served; log it once per node and reason (a broken counter or a rebooted
        node would otherwise log every cycle)."""
        key = (what, e.reason)
        self.rate_errors[key] = self.rate_errors.get(key, 0) + 1
        if (node, e.reason) in self._logged:
            return
        self._logged.add((node, e.reason))
        level = logging.WARNING if e.reason == "cpu_above_capacity" else logging.INFO
        logger.log(
            level,
            f"skipping {what} usage metric",
            extra=fields(node=node, **where, reason=e.reason, error=str(e)),
        )

    def _steps(
        self,
        nodes: Mapping[str, MetricsPoint],
        pods: Mapping[PodKey, Mapping[str, MetricsPoint]],
        chunk: int,
        node_of: Mapping[PodKey, str],
        capacity: Mapping[str, int],
    ) -> Iterator[None]:
        if len(self._logged) > 8 * (len(nodes) + 1):
            self._logged = {k for k in self._logged if k[0] in nodes}
        node_last, node_prev = self._next_nodes(nodes)
        node_usage: dict[str, Usage] = {}
        for name, last in node_last.items():
            p = node_prev.get(name)
            if p is None:
                continue
            try:
                u = resource_usage(last, p)
                check_capacity(u.cpu, capacity.get(name, 0))
                node_usage[name] = u
            except RateError as e:
                self._refused("node", name, e)
        resolution = self.resolution_ns
        old_last_pods = self.pod_last
        old_prev_pods = self.pod_prev
        pod_last: dict[PodKey, dict[str, MetricsPoint]] = {}
        pod_prev: dict[PodKey, dict[str, MetricsPoint]] = {}
        pod_usage: dict[PodKey, PodUsage] = {}
        count = 0
        n = 0
        for key, containers in pods.items():
            new_last = containers if isinstance(containers, dict) else dict(containers)
            new_prev: dict[str, MetricsPoint] = {}
            old_last_pod = old_last_pods.get(key)
            old_prev_pod = old_prev_pods.get(key)
            for name, new in new_last.items():
                age = new.ts - new.start
                if new.start < new.ts and FRESH_CONTAINER_MIN_NS <= age < resolution:
                    new_prev[name] = MetricsPoint(new.start, new.start, 0, new.mem)
                    continue
                if old_last_pod is None:
                    continue
                old = old_last_pod.get(name)
                if old is None or not new.start < old.ts:
                    continue  # new container, or restarted since the last point
                if new.ts > old.ts:
                    new_prev[name] = old
                elif old_prev_pod is not None:
                    p = old_prev_pod.get(name)
                    if p is not None and p.ts < new.ts:
                        new_prev[name] = p
            pod_last[key] = new_last
            if new_prev:
                pod_prev[key] = new_prev
                count += len(new_prev)
                node = node_of.get(key, "")
                usage = self._pod(key, new_last, new_prev, node, capacity.get(node, 0))
                if usage is not None:
                    pod_usage[key] = usage
            n += 1
            if n % chunk == 0:
                yield
        self.node_last, self.node_prev, self.node_usage = node_last, node_prev, node_usage
        self.pod_last, self.pod_prev, self.pod_usage = pod_last, pod_prev, pod_usage
        self.container_points = count
        self.generation += 1

    def _next_nodes(
        self, nodes: Mapping[str, MetricsPoint]
    ) -> tuple[dict[str, MetricsPoint], dict[str, MetricsPoint]]:
        old_last = self.node_last
        old_prev = self.node_prev
        last: dict[str, MetricsPoint] = {}
        prev: dict[str, MetricsPoint] = {}
        for name, new in nodes.items():
            last[name] = new
            old = old_last.get(name)
            if old is None:
                continue
            if new.ts > old.ts:
                prev[name] = old
            else:
                p = old_prev.get(name)
                if p is not None and p.ts < new.ts:
                    prev[name] = p
        return last, prev

    def _pod(
        self,
        key: PodKey,
        last_pod: dict[str, MetricsPoint],
        prev_pod: dict[str, MetricsPoint],
        node: str,
        cpu_capacity: int,
    ) -> PodUsage | None:
        containers: list[tuple[str, int, int]] = []
        ts: int | None = None
        window = 0
        for name, last in last_pod.items():
            p = prev_pod.get(name)
            if p is None:
                return None  # not every container has two points yet
            try:
                u = resource_usage(last, p)
            except RateError as e:
                # metrics-server leaves the container out and still serves the pod
                self._refused("container", node, e, pod=f"{key[0]}/{key[1]}", container=name)
                continue
            if cpu_capacity and u.cpu > cpu_capacity * CAPACITY_SLACK:
                # ours: no value for the pod rather than a sum over the containers that lacks one
                self._refused(
                    "container",
                    node,
                    above_capacity(u.cpu, cpu_capacity),
                    pod=f"{key[0]}/{key[1]}",
                    container=name,
                )
                return None
            containers.append((name, u.cpu, u.mem))
            if ts is None or ts > u.ts:
                ts = u.ts
                window = u.window
        return PodUsage(ts, window, tuple(containers))
