"""A store backfilled from the simulator's fleet, and the fleet's own numbers to check answers with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kubescope.history.backfill import backfill
from kubescope.history.series import CPU_UNIT, PodInfo
from kubescope.history.store import DAY, HistoryStore
from kubescope.sim import fleet as simfleet

RES = 60


@dataclass
class Truth:
    """Every sample the fleet produced: per container index, (t, cpu micro-cores, memory)."""

    fleet: simfleet.Fleet
    t: np.ndarray
    idx: np.ndarray
    cpu: np.ndarray
    mem: np.ndarray

    def container(self, pod_uid: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        i = next(
            k for k, (p, n) in enumerate(zip(self.fleet.pod_of.tolist(), self.fleet.names, strict=True))
            if self.fleet.pods[p].uid == pod_uid and n == name
        )  # fmt: skip
        m = self.idx == i
        return self.t[m], self.cpu[m], self.mem[m]

    def pod_cpu(self, uid: str) -> tuple[np.ndarray, np.ndarray]:
        conts = [k for k, p in enumerate(self.fleet.pod_of.tolist()) if self.fleet.pods[p].uid == uid]
        m = np.isin(self.idx, conts)
        ts = np.unique(self.t[m])
        sums = np.array([self.cpu[m & (self.t == x)].sum() for x in ts])
        return ts, sums


def build(
    path: Path, *, days: int = 3, workloads: int = 12, gap: tuple[int, int] | None = None
) -> tuple[HistoryStore, Truth, int]:
    now = 1_760_000_000 - 1_760_000_000 % DAY + 13 * 3600 + 17
    t0 = now - days * DAY
    # seed 9: workloads 2 and 8 idle, 3 bursty (usage.workload_traits)
    fl = simfleet.build(workloads, replicas=2, t0=t0, t1=now + 1, seed=9, nodes=3, rollout_days=1.5)
    pods = [
        PodInfo(p.namespace, p.name, p.uid, p.node, p.owner_kind, p.owner_name,
                tuple((c, round(cr * CPU_UNIT), None, mr, None) for c, cr, mr in p.containers))
        for p in fl.pods
    ]  # fmt: skip
    ts, idxs, cpus, mems = [], [], [], []

    def cycles() -> Iterator[simfleet.Cycle]:
        for c in simfleet.cycles(fl, t0, now + 1, RES):
            if gap and gap[0] <= c.t < gap[1]:
                continue
            ts.append(np.full(c.idx.size, c.t))
            idxs.append(c.idx)
            cpus.append(np.round(c.cpu * CPU_UNIT).astype(np.int64))
            mems.append(c.mem)
            yield c

    store = HistoryStore(path)
    backfill(store, pods, fl.pod_of, fl.names, cycles(), nodes=fl.node_names)
    truth = Truth(fl, np.concatenate(ts), np.concatenate(idxs), np.concatenate(cpus), np.concatenate(mems))
    return store, truth, now
