"""Writing days of usage into a store at once (the simulator's fast-forward, benchmarks, tests).

The source is any sequence of cycles ``(t, containers running, CPU cores, memory bytes)`` over a
fixed table of containers (their pods and names); each cycle becomes the samples a recording cycle
would have written (containers, and pods as their containers' sum), appended and compacted the
same way, so a backfilled store is indistinguishable from a recorded one.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from kubescope.history.series import CPU_UNIT, PodInfo, SeriesKey
from kubescope.history.store import HistoryStore

I64 = np.int64


def backfill(
    store: HistoryStore,
    pods: list[PodInfo],
    pod_of: np.ndarray,
    names: list[str],
    cycles: Iterable[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
) -> int:
    """Append every cycle (compacting as windows close); returns the samples written."""
    first = 0
    keys: list[tuple[SeriesKey, PodInfo | None]] = []
    for i, name in enumerate(names):
        p = pods[int(pod_of[i])]
        keys += [
            (SeriesKey("container", "cpu", p.uid, name), p),
            (SeriesKey("container", "memory", p.uid, name), p),
        ]
    for p in pods:
        keys += [(SeriesKey("pod", "cpu", p.uid), p), (SeriesKey("pod", "memory", p.uid), p)]
    total = 0
    ids: np.ndarray | None = None
    n = len(names)
    for t, idx, cpu, mem in cycles:
        if ids is None:
            first = t
            ids = np.array(store.series_ids(keys, first), I64)
        c_cpu, c_mem = ids[0 : 2 * n : 2], ids[1 : 2 * n : 2]
        p_cpu, p_mem = ids[2 * n :: 2], ids[2 * n + 1 :: 2]
        micro = np.round(cpu * CPU_UNIT).astype(I64)
        owners = pod_of[idx]
        live = np.unique(owners)
        pod_cpu = np.bincount(owners, weights=micro, minlength=len(pods))[live]
        pod_mem = np.bincount(owners, weights=mem, minlength=len(pods))[live]
        sids = np.concatenate([c_cpu[idx], c_mem[idx], p_cpu[live], p_mem[live]])
        values = np.concatenate([micro, mem, np.round(pod_cpu).astype(I64), np.round(pod_mem).astype(I64)])
        store.append(t, sids, np.full(sids.size, t, I64), values)
        total += int(sids.size)
        store.compact()
    return total
