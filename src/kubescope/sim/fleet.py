"""A fleet's usage over days, fast-forwarded: what a Metrics API would have answered every cycle.

For history's backfill, tests, benchmark and demo: weeks of usage for thousands of pods in minutes.
It is :mod:`kubescope.sim.usage`'s model, the one the simulated kubelets serve, evaluated for every
container at once with numpy: each container's curve (:func:`~kubescope.sim.usage.container_model`
from the same seed, pod UID and container name), times its workload's shape (weekends, a daily
burst, idle workloads: :func:`~kubescope.sim.usage.workload_traits` of the same seed, namespace
and name), capped as a node caps it (over each cycle, the containers of a node get at most its CPUs,
shared in proportion to what they wanted, as :mod:`kubescope.sim.kubelet.cgroups` does).

Workloads roll: a Deployment's pods are replaced every ``rollout_days`` (new names and UIDs), a
StatefulSet's keep their names with new UIDs (the names come back), DaemonSets never roll.

A sample's value is a Metrics API value: the CPU rate over the resolution before the sample
(cores) and the working set at the sample (bytes, page-aligned).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kubescope.sim.usage import (
    BURST_FACTOR,
    BURST_SECONDS,
    DAY,
    EPOCH,
    PAGE,
    STEP,
    container_model,
    draws,
    node_model,
    weekly,
    workload_traits,
)

KINDS = ("Deployment", "Deployment", "Deployment", "StatefulSet", "DaemonSet")
NODE_MEMORY = 64 << 30


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
    """Pods of a number of workloads over ``[t0, t1)``; container arrays for vectorised curves."""

    pods: list[FleetPod]
    seed: int
    node_cpus: float
    # per container (flattened over pods): index of its pod, curve parameters, its workload's traits
    pod_of: np.ndarray
    node_of: np.ndarray
    names: list[str]
    base_cpu: np.ndarray
    base_mem: np.ndarray
    cpu_waves: np.ndarray
    """(containers, 3 waves, (a, w, p))"""
    mem_waves: np.ndarray
    idle: np.ndarray
    burst_at: np.ndarray
    """Seconds into each day a container's workload bursts (-1: never)."""
    pod_start: np.ndarray
    pod_end: np.ndarray
    node_names: list[str]
    node_cpu: tuple[np.ndarray, np.ndarray]
    """Each node's own (system) CPU curve: bases and waves (:func:`~kubescope.sim.usage.node_model`)."""
    node_mem: tuple[np.ndarray, np.ndarray]

    @property
    def nodes(self) -> int:
        return len(self.node_names)


@dataclass(frozen=True, slots=True)
class Cycle:
    """What a Metrics API would have answered at ``t``."""

    t: int
    idx: np.ndarray
    """Running containers (indices into the fleet's container arrays)."""
    cpu: np.ndarray
    """Their CPU over the resolution before ``t`` (cores)."""
    mem: np.ndarray
    """Their working sets at ``t`` (bytes)."""
    node_cpu: np.ndarray
    """Every node's CPU (cores): its system share and its containers, capped at its CPUs."""
    node_mem: np.ndarray


def build(
    workloads: int,
    *,
    replicas: int = 3,
    t0: int,
    t1: int,
    seed: int = 1,
    nodes: int = 10,
    node_cpus: float = 8.0,
    rollout_days: float = 3.0,
    namespaces: int = 17,
    containers: int | None = None,
    kinds: tuple[str, ...] = KINDS,
) -> Fleet:
    """A fleet of ``workloads`` workloads of ``kinds`` over ``[t0, t1)``; ``containers`` per pod
    (default: one, or two for three workloads in ten)."""
    pods: list[FleetPod] = []
    rows: list[tuple[int, str, float, int, bool, int]] = []
    rollout = int(rollout_days * DAY)
    for w in range(workloads):
        it = draws(6, seed, "fleet", w)
        kind = kinds[int(next(it) * len(kinds))]
        ns = f"team-{w % namespaces:02d}"
        name = f"app-{w:04d}"
        traits = workload_traits(seed, ns, name)
        two = next(it) < 0.3
        ncont = containers if containers is not None else 1 + two
        cpu_req = round(0.05 + 0.95 * next(it) ** 2, 3)
        mem_req = int(64 + 960 * next(it)) << 20
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
                node = (w + r) % nodes
                pods.append(FleetPod(ns, pod_name, uid, f"node-{node:04d}", kind, name, conts, a, b))
                burst = traits.burst_at if traits.burst_at is not None else -1
                for cname, _, _ in conts:
                    rows.append((len(pods) - 1, cname, cpu_req, mem_req, traits.idle, burst))
    nc = len(rows)
    base_cpu, base_mem = np.zeros(nc), np.zeros(nc)
    cw, mw = np.zeros((nc, 3, 3)), np.zeros((nc, 2, 3))
    for i, (p, cname, creq, mreq, idle, _) in enumerate(rows):
        m = container_model(seed, pods[p].uid, cname, creq, None, mreq, None, idle=idle)
        base_cpu[i], base_mem[i] = m.cpu.base, m.memory.base
        cw[i], mw[i] = m.cpu.waves, m.memory.waves
    pod_of = np.array([r[0] for r in rows], np.int64)
    node_names = [f"node-{k:04d}" for k in range(nodes)]
    node_index = {name: k for k, name in enumerate(node_names)}
    systems = [node_model(seed, name, node_cpus, NODE_MEMORY) for name in node_names]
    node_cpu = (
        np.array([m.cpu.base for m in systems]),
        np.array([m.cpu.waves for m in systems]).reshape(nodes, 3, 3),
    )
    node_mem = (
        np.array([m.memory.base for m in systems]),
        np.array([m.memory.waves for m in systems]).reshape(nodes, 2, 3),
    )
    return Fleet(
        pods, seed, node_cpus, pod_of, np.array([node_index[pods[p].node] for p in pod_of.tolist()], np.int64),
        [r[1] for r in rows], base_cpu, base_mem, cw, mw, np.array([r[4] for r in rows], bool),
        np.array([r[5] for r in rows], np.int64), np.array([p.start for p in pods], np.int64),
        np.array([p.end for p in pods], np.int64), node_names, node_cpu, node_mem,
    )  # fmt: skip


def _integral(base: np.ndarray, waves: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """:meth:`kubescope.sim.usage.Curve.integral` of many curves over one interval."""
    x0, x1 = t0 - EPOCH, t1 - EPOCH
    a, w, p = waves[:, :, 0], waves[:, :, 1], waves[:, :, 2]
    acc = (x1 - x0) + ((a / w) * (np.cos(w * x0 + p) - np.cos(w * x1 + p))).sum(axis=1)
    out: np.ndarray = base * acc
    return out


def _at(base: np.ndarray, waves: np.ndarray, t: float) -> np.ndarray:
    a, w, p = waves[:, :, 0], waves[:, :, 1], waves[:, :, 2]
    out: np.ndarray = base * (1 + (a * np.sin(w * (t - EPOCH) + p)).sum(axis=1))
    return out


def demand(fleet: Fleet, idx: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Core-seconds containers ``idx`` want over ``[t0, t1]``: their curves times their workloads'
    shapes, cell by cell (:func:`kubescope.sim.usage.shape`, vectorised)."""
    total = np.zeros(idx.size)
    base, waves, burst_at = fleet.base_cpu[idx], fleet.cpu_waves[idx], fleet.burst_at[idx]
    a = t0
    while a < t1:
        cell = int(a // STEP * STEP)
        b = min(t1, cell + STEP)
        into = cell % DAY
        factor = np.where(
            (burst_at >= 0) & (burst_at <= into) & (into < burst_at + BURST_SECONDS), BURST_FACTOR, 1.0
        )
        total += weekly(cell + STEP / 2) * factor * _integral(base, waves, a, b)
        a = b
    return total


def rates(fleet: Fleet, idx: np.ndarray, times: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """CPU (cores over the ``resolution`` before each time) and working sets of containers ``idx``
    at every one of ``times`` (multiples of ``resolution``, which divides the shape's cell):
    ``(len(idx), len(times))`` arrays in one numpy pass, for building many days at once.
    Uncapped: for fleets whose nodes are never saturated (a node's cap needs all its containers)."""
    if STEP % resolution or (times % resolution).any():
        raise ValueError("rates() needs a resolution dividing the shape cell and times on its grid")
    t1 = times.astype(np.float64)[None, :]
    x0, x1 = t1 - resolution - EPOCH, t1 - EPOCH
    a, w, p = (fleet.cpu_waves[idx, :, k][:, :, None] for k in range(3))
    acc = (x1 - x0) + ((a / w) * (np.cos(w * x0[:, None, :] + p) - np.cos(w * x1[:, None, :] + p))).sum(
        axis=1
    )
    cell = (times - resolution) // STEP * STEP
    week = np.array([weekly(c + STEP / 2) for c in cell.tolist()])
    into = (cell % DAY)[None, :]
    burst_at = fleet.burst_at[idx][:, None]
    factor = np.where(
        (burst_at >= 0) & (burst_at <= into) & (into < burst_at + BURST_SECONDS), BURST_FACTOR, 1.0
    )
    cpu = fleet.base_cpu[idx][:, None] * acc * factor * week[None, :] / resolution
    ma, mw, mp = (fleet.mem_waves[idx, :, k][:, :, None] for k in range(3))
    wave = (ma * np.sin(mw * x1[:, None, :] + mp)).sum(axis=1)
    mem = np.maximum(PAGE, (fleet.base_mem[idx][:, None] * (1 + wave)) // PAGE * PAGE).astype(np.int64)
    return cpu, mem


def sample(fleet: Fleet, t: int, resolution: int) -> Cycle:
    """What a Metrics API would have answered at ``t`` (rates over the ``resolution`` before it)."""
    running = (fleet.pod_start[fleet.pod_of] <= t - resolution) & (fleet.pod_end[fleet.pod_of] > t)
    idx = np.flatnonzero(running)
    want = demand(fleet, idx, t - resolution, t)
    system = _integral(*fleet.node_cpu, t - resolution, t)
    # each node gives at most its CPUs, shared in proportion to what its parts want
    per_node = np.bincount(fleet.node_of[idx], weights=want, minlength=fleet.nodes) + system
    cap = fleet.node_cpus * resolution
    factor = np.where(per_node > cap, cap / np.maximum(per_node, 1e-12), 1.0)
    cpu = want * factor[fleet.node_of[idx]] / resolution
    mem = np.maximum(PAGE, (_at(fleet.base_mem[idx], fleet.mem_waves[idx], t) // PAGE) * PAGE).astype(
        np.int64
    )
    node_mem = (_at(*fleet.node_mem, t) // PAGE * PAGE).astype(np.int64) + np.bincount(
        fleet.node_of[idx], weights=mem, minlength=fleet.nodes
    ).astype(np.int64)
    return Cycle(t, idx, cpu, mem, per_node * factor / resolution, node_mem)


def cycles(fleet: Fleet, t0: int, t1: int, resolution: int) -> Iterator[Cycle]:
    """Every ``resolution`` from the first multiple after ``t0`` to before ``t1``."""
    t = t0 - t0 % resolution + resolution
    while t < t1:
        yield sample(fleet, t, resolution)
        t += resolution


__all__ = ["Cycle", "Fleet", "FleetPod", "build", "cycles", "demand", "rates", "sample"]
