"""Usage over days and under pressure, without a network: a workload's shape (weekends, a daily
burst, idle workloads) integrates to what numerical integration of curve times shape gives; and a
node asked for more CPU than it has reports at most its capacity between any two samples, sharing
it among its pods in proportion to what they wanted, while containers stay under their limits."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pytest

from kubescope.sim.kubelet.nodes import Kubelets
from kubescope.sim.store import ObjectStore
from kubescope.sim.usage import (
    BURST_FACTOR,
    BURST_SECONDS,
    IDLE_CPU,
    STEP,
    WEEKEND,
    Demand,
    Workload,
    container_model,
    shape,
    weekly,
    workload_name,
    workload_traits,
)

MONDAY = 1_795_996_800.0  # 2026-11-30T00:00:00Z
assert dt.datetime.fromtimestamp(MONDAY, dt.UTC).weekday() == 0


def test_weekends_are_lower_with_ramps() -> None:
    assert weekly(MONDAY + 8 * 3600) == 1.0  # Monday 08:00: ramped up
    assert weekly(MONDAY + 3 * 3600) == pytest.approx(WEEKEND + (1 - WEEKEND) / 2)  # Monday 03:00
    assert weekly(MONDAY + 2.5 * 86400) == 1.0  # Wednesday
    assert weekly(MONDAY + 5 * 86400 + 3 * 3600) == pytest.approx(1 - (1 - WEEKEND) / 2)  # Saturday 03:00
    assert weekly(MONDAY + 6.5 * 86400) == WEEKEND  # Sunday


def test_a_bursty_workload_bursts_once_a_day() -> None:
    w = Workload(burst_at=3600)
    factors = [shape(w, int(MONDAY + 2 * 86400) + k * STEP) for k in range(288)]
    burst = [f for f in factors if f > 1]
    assert len(burst) == BURST_SECONDS // STEP and set(burst) == {BURST_FACTOR}


def test_shaped_demand_is_the_integral_of_curve_times_shape() -> None:
    m = container_model(1, "uid", "app", 0.5, None, None, None)
    w = Workload(burst_at=10 * 3600)
    start = MONDAY + 4 * 86400 + 3600 + 17.3  # Friday, into Saturday's ramp and the burst
    d = Demand(m.cpu, w, start - 600, start)
    t1 = start + 30 * 3600

    def rate(t: float) -> float:
        return m.cpu.at(t) * shape(w, int(t // STEP * STEP))

    n = int((t1 - start) / 5)
    numeric = sum(rate(start + (i + 0.5) * 5) * 5 for i in range(n))
    assert d.at(t1) - d.at(start) == pytest.approx(numeric, rel=2e-4)
    # read in any order, the counter is the same function of time
    a = [d.at(start + k * 977.0) for k in range(40)]
    d2 = Demand(m.cpu, w, start - 600, start)
    b = [d2.at(start + k * 977.0) for k in reversed(range(40))][::-1]
    assert a == pytest.approx(b, rel=1e-12)
    assert all(y >= x for x, y in itertools.pairwise(a))


def test_workloads_keep_their_traits_across_pods_and_rollouts() -> None:
    meta = {
        "name": "web-7d9f8c6b5-x2x9z",
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d9f8c6b5", "controller": True}],
    }
    assert workload_name(meta, {"pod-template-hash": "7d9f8c6b5"}) == "web"
    assert (
        workload_name(
            {"name": "db-0", "ownerReferences": [{"kind": "StatefulSet", "name": "db", "controller": True}]}
        )
        == "db"
    )
    assert workload_name({"name": "lonely"}) == "lonely"
    traits = [workload_traits(3, "team", f"app-{i}") for i in range(2000)]
    idle = sum(t.idle for t in traits) / len(traits)
    bursty = sum(t.burst_at is not None for t in traits) / len(traits)
    assert 0.06 < idle < 0.12 and 0.10 < bursty < 0.18
    assert not any(t.idle and t.burst_at is not None for t in traits)
    m = container_model(1, "uid", "app", 0.5, None, None, None, idle=True)
    assert m.cpu.base == IDLE_CPU


# -- a saturated node ---------------------------------------------------------------------------


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _rfc(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node(name: str, cpus: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": _rfc(MONDAY - 86400)},
        "status": {
            "capacity": {"cpu": str(cpus), "memory": "16Gi"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _pod(name: str, node: str, cpu: str, limit: str | None, at: float) -> dict[str, Any]:
    res: dict[str, Any] = {"requests": {"cpu": cpu, "memory": "64Mi"}}
    if limit:
        res["limits"] = {"cpu": limit}
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "containers": [{"name": "app", "resources": res}]},
        "status": {
            "phase": "Running",
            "startTime": _rfc(at),
            "containerStatuses": [
                {"name": "app", "restartCount": 0, "state": {"running": {"startedAt": _rfc(at)}}}
            ],
        },
    }


def test_a_node_never_reports_more_than_its_cpus() -> None:
    store = ObjectStore()
    store.create("nodes", _node("small", 2))
    for i in range(12):  # asks for ~12 x 0.2 x 4 cores on average: twice what 2 CPUs give
        store.create("pods", _pod(f"p{i}", "small", "4", None, MONDAY - 3600))
    store.create("pods", _pod("capped", "small", "1", "300m", MONDAY - 3600))
    clock = Clock(MONDAY + 0.5)
    farm = Kubelets(store, seed=4, housekeeping=10.0, clock=clock)
    farm.load()
    node = farm.nodes["small"]
    prev = None
    saturated = 0
    for k in [*range(1, 40), 45, 70, 71, 200]:  # ticks in a row, then gaps nobody asked about
        clock.t = farm.tick_time(k) + 1
        s = farm.sample(node, k)
        if prev is not None:
            seconds = (s.node.ts_ms - prev.node.ts_ms) / 1000
            node_rate = (s.node.cpu_ns - prev.node.cpu_ns) / 1e9 / seconds
            assert node_rate <= 2.0 + 1e-6, (k, node_rate)
            saturated += node_rate > 1.98
            before = {id(c): cs for c, cs in prev.containers}
            for c, cs in s.containers:
                rate = (cs.cpu_ns - before[id(c)].cpu_ns) / 1e9 / seconds
                if c.pod.name == "capped":
                    assert rate <= 0.3 + 1e-6
                assert rate >= 0
        prev = s
    assert saturated > 30  # it is saturated, not merely below capacity
    # every pod got something: a shared CPU, not first come first served
    assert all(ps.cpu_ns > 0 for _, ps in prev.pods)


# -- the fleet (fast-forwarded history) is the same model -----------------------------------------


def test_the_fleet_fast_forwards_the_kubelets_model() -> None:
    from kubescope.sim import fleet as simfleet
    from kubescope.sim.usage import Curve

    t0 = int(MONDAY + 4 * 86400)
    fl = simfleet.build(30, replicas=2, t0=t0, t1=t0 + 2 * 86400, seed=9, nodes=2, node_cpus=1.0)
    idx = np.arange(len(fl.names))
    for i in idx[:: max(1, idx.size // 7)].tolist():
        pod = fl.pods[int(fl.pod_of[i])]
        traits = workload_traits(9, pod.namespace, pod.owner_name)
        m = container_model(
            9, pod.uid, fl.names[i], pod.containers[0][1], None, pod.containers[0][2], None, idle=traits.idle
        )
        assert Curve(fl.base_cpu[i], tuple(map(tuple, fl.cpu_waves[i]))) == m.cpu
        d = Demand(m.cpu, traits, t0 - 3600, t0 - 3600)
        for a in (t0 + 3 * 3600 + 17, t0 + 36 * 3600 + 250):
            got = simfleet.demand(fl, np.array([i]), a, a + 60)[0]
            assert got == pytest.approx(d.at(a + 60) - d.at(a), rel=1e-9)
    # a small node (1 CPU) gives its containers at most one core together
    for c in simfleet.cycles(fl, t0, t0 + 3600, 60):
        per_node = np.bincount(fl.node_of[c.idx], weights=c.cpu, minlength=2)
        assert (c.node_cpu <= 1.0 + 1e-9).all() and (per_node <= c.node_cpu).all(), (c.t, c.node_cpu)
