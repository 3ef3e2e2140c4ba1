"""Writing days of usage into a store at once (the simulator's fast-forward, benchmarks, tests).

The source is any sequence of cycles (:class:`Cycle`: a time, the containers running, their CPU in
cores and memory in bytes, and optionally every node's) over a fixed table of containers (their
pods and names) and nodes; each cycle becomes the samples a recording cycle would have written
(containers, pods as their containers' sum, nodes), appended and compacted the same way, so a
backfilled store is indistinguishable from a recorded one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from kubescope.history.series import CPU_UNIT, PodInfo, SeriesKey
from kubescope.history.store import HistoryStore

I64 = np.int64


class Cycle(Protocol):
    """One cycle's values (``kubescope.sim.fleet.Cycle`` is one)."""

    @property
    def t(self) -> int: ...
    @property
    def idx(self) -> np.ndarray:
        """Running containers."""

    @property
    def cpu(self) -> np.ndarray:
        """Their CPU (cores)."""

    @property
    def mem(self) -> np.ndarray:
        """Their working sets (bytes)."""

    @property
    def node_cpu(self) -> np.ndarray:
        """Every node's CPU (cores), when ``nodes`` are given."""

    @property
    def node_mem(self) -> np.ndarray: ...


def backfill(
    store: HistoryStore,
    pods: list[PodInfo],
    pod_of: np.ndarray,
    names: list[str],
    cycles: Iterable[Cycle],
    *,
    nodes: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Append every cycle (compacting as windows close); returns the samples written.
    ``progress(t, samples so far)`` is called after each cycle."""
    keys: list[tuple[SeriesKey, PodInfo | None]] = []
    for i, name in enumerate(names):
        p = pods[int(pod_of[i])]
        keys += [
            (SeriesKey("container", "cpu", p.uid, name), p),
            (SeriesKey("container", "memory", p.uid, name), p),
        ]
    for p in pods:
        keys += [(SeriesKey("pod", "cpu", p.uid), p), (SeriesKey("pod", "memory", p.uid), p)]
    for node in nodes:
        keys += [(SeriesKey("node", "cpu", node), None), (SeriesKey("node", "memory", node), None)]
    total = 0
    ids: np.ndarray | None = None
    n, np_ = len(names), len(pods)
    for cycle in cycles:
        t, idx, cpu, mem = cycle.t, cycle.idx, cycle.cpu, cycle.mem
        if ids is None:
            ids = np.array(store.series_ids(keys, t), I64)
        c_cpu, c_mem = ids[0 : 2 * n : 2], ids[1 : 2 * n : 2]
        p_cpu, p_mem = ids[2 * n : 2 * (n + np_) : 2], ids[2 * n + 1 : 2 * (n + np_) : 2]
        micro = np.round(cpu * CPU_UNIT).astype(I64)
        owners = pod_of[idx]
        live = np.unique(owners)
        pod_cpu = np.bincount(owners, weights=micro, minlength=np_)[live]
        pod_mem = np.bincount(owners, weights=mem, minlength=np_)[live]
        parts_s = [c_cpu[idx], c_mem[idx], p_cpu[live], p_mem[live]]
        parts_v = [micro, mem, np.round(pod_cpu).astype(I64), np.round(pod_mem).astype(I64)]
        if nodes:
            parts_s += [ids[2 * (n + np_) :: 2], ids[2 * (n + np_) + 1 :: 2]]
            parts_v += [np.round(cycle.node_cpu * CPU_UNIT).astype(I64), cycle.node_mem.astype(I64)]
        sids = np.concatenate(parts_s)
        store.append(t, sids, np.full(sids.size, t, I64), np.concatenate(parts_v))
        total += int(sids.size)
        store.compact()
        if progress is not None:
            progress(t, total)
    return total
