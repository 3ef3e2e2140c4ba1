"""A fleet's usage over days, fast-forwarded: what a Metrics API would have answered every minute.

For history's tests, benchmark and demo: weeks of usage for thousands of pods in minutes. Each
container's curve is :mod:`kubescope.sim.usage`'s (waves from a minute to a day, the same seeded
parameters) shaped further over days, vectorised over every container with numpy:

* **weekly**: weekends run at ``WEEKEND`` of weekdays' load (a smooth step over Saturday and Sunday);
* **bursts**: one workload in ``BURSTY`` has a burst of ``BURST_FACTOR`` x for ``BURST_SECONDS`` at a
  seeded time each day;
* **idle**: one workload in ``IDLE_SHARE`` barely runs (a constant ``IDLE_CPU`` cores plus noise);
* **rollouts**: a Deployment's pods are replaced every ``rollout_days`` (new names and UIDs), a
  StatefulSet's keep their names with new UIDs (the names come back), DaemonSets never roll.

A sample's value is a Metrics API value: the CPU rate over the resolution before the sample
(``integral / resolution``, cores) and the working set at the sample (bytes, page-aligned).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kubescope.sim.usage import EPOCH, container_model, draws

DAY = 86400
WEEKEND = 0.55
BURSTY = 7
BURST_FACTOR = 3.0
BURST_SECONDS = 1200
IDLE_SHARE = 10
IDLE_CPU = 0.0012
KINDS = ("Deployment", "Deployment", "Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, slots=True)
class FleetPod:
    namespace: str
    name: str
    uid: str
    node: str
    owner_kind: str
    owner_name: str
    containers: tuple[tuple[str, float, int], ...]
    """(name, CPU request in cores, memory request in bytes)."""
    start: int
    end: int
    """The pod runs in ``[start, end)``."""


@dataclass
class Fleet:
    """Pods of ``workloads`` workloads over ``[t0, t1)``; container arrays for vectorised curves."""

    pods: list[FleetPod]
    seed: int
    # per container (flattened over pods): index of its pod, curve parameters
    pod_of: np.ndarray
    names: list[str]
    base_cpu: np.ndarray
    base_mem: np.ndarray
    cpu_waves: np.ndarray
    """(containers, 3 waves, (a, w, p))"""
    mem_waves: np.ndarray
    idle: np.ndarray
    bursty: np.ndarray
    burst_at: np.ndarray
    """Seconds into each day when a bursty container's burst starts."""


def build(
    workloads: int,
    *,
    replicas: int = 3,
    t0: int,
    t1: int,
    seed: int = 1,
    nodes: int = 10,
    rollout_days: float = 3.0,
) -> Fleet:
    pods: list[FleetPod] = []
    containers: list[tuple[int, str, float, int, int, bool, bool]] = []
    rollout = int(rollout_days * DAY)
    for w in range(workloads):
        it = draws(6, seed, "fleet", w)
        kind = KINDS[int(next(it) * len(KINDS))]
        ns = f"team-{w % 17:02d}"
        name = f"app-{w:04d}"
        ncont = 1 + (next(it) < 0.3)
        cpu_req = round(0.05 + 0.95 * next(it) ** 2, 3)
        mem_req = int(64 + 960 * next(it)) << 20
        idle = w % IDLE_SHARE == IDLE_SHARE - 1
        bursty = w % BURSTY == 3
        n = nodes if kind == "DaemonSet" else replicas
        generations = [(t0, t1)]
        if kind != "DaemonSet" and rollout:
            first = t0 - int(next(it) * rollout)
            generations = [
                (max(t0, a), min(t1, a + rollout)) for a in range(first, t1, rollout) if a + rollout > t0
            ]
        for g, (a, b) in enumerate(generations):
            for r in range(n):
                if kind == "Deployment":
                    pod_name, uid = f"{name}-{g:03x}{w % 4096:03x}-{r:05d}", f"{seed}-{w}-{g}-{r}"
                elif kind == "StatefulSet":
                    pod_name, uid = f"{name}-{r}", f"{seed}-{w}-{g}-{r}"
                else:
                    pod_name, uid = f"{name}-node{r:03d}", f"{seed}-{w}-ds-{r}"
                conts = tuple((f"c{c}", cpu_req, mem_req) for c in range(ncont))
                pods.append(
                    FleetPod(ns, pod_name, uid, f"node-{(w + r) % nodes:04d}", kind, name, conts, a, b)
                )
                for cname, creq, mreq in conts:
                    containers.append((len(pods) - 1, cname, creq, mreq, w, idle, bursty))
    nc = len(containers)
    base_cpu = np.zeros(nc)
    base_mem = np.zeros(nc)
    cw = np.zeros((nc, 3, 3))
    mw = np.zeros((nc, 2, 3))
    burst_at = np.zeros(nc)
    for i, (p, cname, creq, mreq, w, _, _) in enumerate(containers):
        m = container_model(seed, pods[p].uid, cname, creq, None, mreq, None)
        base_cpu[i] = m.cpu.base
        base_mem[i] = m.memory.base
        cw[i] = m.cpu.waves
        mw[i] = m.memory.waves
        burst_at[i] = next(draws(1, seed, "burst", w)) * (DAY - BURST_SECONDS)
    return Fleet(
        pods, seed, np.array([c[0] for c in containers]), [c[1] for c in containers], base_cpu, base_mem, cw, mw,
        np.array([c[5] for c in containers]), np.array([c[6] for c in containers]), burst_at,
    )  # fmt: skip


def _weekly(t: float) -> float:
    """Weekday 1, weekend ``WEEKEND``, with a smooth six-hour ramp at each edge."""
    day = ((t // DAY) + 4) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    into = (t % DAY) / DAY
    if day in (5, 6):
        ramp = min(1.0, into * 4) if day == 5 else 1.0
        return 1 - (1 - WEEKEND) * ramp
    if day == 0:
        return WEEKEND + (1 - WEEKEND) * min(1.0, into * 4)
    return 1.0


def _integral(base: np.ndarray, waves: np.ndarray, t0: float, t1: float) -> np.ndarray:
    x0, x1 = t0 - EPOCH, t1 - EPOCH
    a, w, p = waves[:, :, 0], waves[:, :, 1], waves[:, :, 2]
    acc = (x1 - x0) + ((a / w) * (np.cos(w * x0 + p) - np.cos(w * x1 + p))).sum(axis=1)
    out: np.ndarray = base * acc
    return out


def _at(base: np.ndarray, waves: np.ndarray, t: float) -> np.ndarray:
    a, w, p = waves[:, :, 0], waves[:, :, 1], waves[:, :, 2]
    out: np.ndarray = base * (1 + (a * np.sin(w * (t - EPOCH) + p)).sum(axis=1))
    return out


def sample(fleet: Fleet, t: int, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At time ``t``: running container indices, CPU (cores over the last ``resolution``), memory."""
    starts = np.array([p.start for p in fleet.pods])
    ends = np.array([p.end for p in fleet.pods])
    running = (starts[fleet.pod_of] <= t - resolution) & (ends[fleet.pod_of] > t)
    idx = np.flatnonzero(running)
    cpu = _integral(fleet.base_cpu[idx], fleet.cpu_waves[idx], t - resolution, t) / resolution
    cpu *= _weekly(t)
    into = t % DAY
    burst = fleet.bursty[idx] & (into >= fleet.burst_at[idx]) & (into < fleet.burst_at[idx] + BURST_SECONDS)
    cpu = np.where(burst, cpu * BURST_FACTOR, cpu)
    idle = fleet.idle[idx]
    cpu = np.where(idle, IDLE_CPU * (1 + 0.2 * math.sin(t / 977.0)), cpu)
    mem = np.maximum(4096, (_at(fleet.base_mem[idx], fleet.mem_waves[idx], t) // 4096) * 4096)
    return idx, cpu, mem.astype(np.int64)


def cycles(
    fleet: Fleet, t0: int, t1: int, resolution: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    t = t0 - t0 % resolution + resolution
    while t < t1:
        idx, cpu, mem = sample(fleet, t, resolution)
        yield t, idx, cpu, mem
        t += resolution
