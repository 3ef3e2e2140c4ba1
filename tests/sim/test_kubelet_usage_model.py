"""The kubelets' usage model and samples, without a network: curves integrate in closed form to what
numerical integration gives (to the nanosecond, days after the epoch), never go negative, respect
the containers' limits and are the same for the same seed; and a kubelet farm on a simulated clock,
through restarts, pods coming and going, keeps every counter monotonic (a container's from its
start) and every sum in order at every tick."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import pytest

from kubescope.sim.kubelet.nodes import Kubelets
from kubescope.sim.kubelet.pods import NodeSample
from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.sim.store import ObjectStore
from kubescope.sim.usage import (
    CPU_WAVES,
    MEMORY_WAVES,
    PAGE,
    Curve,
    container_model,
    node_model,
    sandbox_model,
    stable_fraction,
)

T = 1_796_000_000.0  # late 2026: far from the model's epoch, as a real clock is


def simpson(f: Any, a: float, b: float, n: int = 2000) -> float:
    h = (b - a) / n
    return h / 3 * (f(a) + f(b) + sum((4 if i % 2 else 2) * f(a + i * h) for i in range(1, n)))


@pytest.mark.parametrize("seed", range(5))
def test_curves_integrate_in_closed_form(seed: int) -> None:
    m = container_model(seed, f"uid-{seed}", "app", 0.25, 0.5, 256 << 20, 512 << 20)
    for t0, span in ((T, 15.0), (T + 3600.0, 600.0), (T - 86400.0 * 3, 90.0)):
        exact = m.cpu.integral(t0, t0 + span)
        assert exact == pytest.approx(simpson(m.cpu.at, t0, t0 + span), rel=1e-9, abs=1e-12)
    # additive: a counter read in pieces is the counter read at once (to well under a nanosecond)
    whole = m.cpu.integral(T, T + 86400.0)
    parts = sum(m.cpu.integral(T + i * 3600.0, T + (i + 1) * 3600.0) for i in range(24))
    assert abs(whole - parts) < 1e-9
    assert m.cpu.integral(T, T) == 0.0 and m.cpu.integral(T + 1, T) == 0.0


def test_waves_never_make_a_rate_negative() -> None:
    assert sum(hi for _, _, _, hi in CPU_WAVES) < 1
    assert sum(hi for _, _, _, hi in MEMORY_WAVES) < 1
    for seed in range(50):
        m = container_model(seed, "u", "c", None, None, None, None)
        for c in (m.cpu, m.memory):
            assert c.base > 0 and c.peak < 2 * c.base
            assert all(c.at(T + i * 7.3) > 0 for i in range(200))


@pytest.mark.parametrize("seed", range(30))
def test_containers_stay_under_their_limits(seed: int) -> None:
    m = container_model(seed, f"pod-{seed}", "app", 0.1, 0.2, 128 << 20, 160 << 20)
    assert m.cpu.peak <= 0.95 * 0.2 + 1e-12
    assert m.memory.peak <= 0.95 * (160 << 20) + 1
    for i in range(100):
        ws = m.working_set(T + i * 97.0)
        assert ws % PAGE == 0 and PAGE <= ws <= 0.95 * (160 << 20)
    # without a limit the request sets the scale: 40-90 % of it (a few % of waves around that)
    free = container_model(seed, f"pod-{seed}", "app", 0.1, None, 128 << 20, None)
    assert 0.35 * (128 << 20) <= free.memory.base <= 0.9 * (128 << 20)


def test_the_same_seed_gives_the_same_curves() -> None:
    a = container_model(7, "uid", "app", 0.5, None, None, None)
    assert a == container_model(7, "uid", "app", 0.5, None, None, None)
    assert a != container_model(8, "uid", "app", 0.5, None, None, None)
    assert node_model(1, "n", 4, 16 << 30) == node_model(1, "n", 4, 16 << 30)
    assert sandbox_model(1, "uid") == sandbox_model(1, "uid")
    assert stable_fraction(1, "x") == stable_fraction(1, "x")
    assert 0 <= stable_fraction(2, "x") < 1


def test_a_curve_is_its_formula() -> None:
    c = Curve(2.0, ((0.5, 2 * math.pi / 60, 0.0),))
    x = T - 1_700_000_000.0
    assert c.at(T) == pytest.approx(2.0 * (1 + 0.5 * math.sin(2 * math.pi / 60 * x)))
    assert c.peak == 3.0


# -- a farm on a simulated clock ---------------------------------------------------------------


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def rfc3339(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_counters_and_sums_hold_through_restarts_and_pods_coming_and_going() -> None:
    start = float(int(T))
    store = ObjectStore()
    store.bulk_create(generate(ScenarioConfig(seed=3, nodes=3, pods_per_node=8, start=start)))
    clock = Clock(start + 0.5)
    farm = Kubelets(store, seed=3, housekeeping=10.0, clock=clock)
    farm.load()
    rng = random.Random(5)
    last_node: dict[str, tuple[int, int]] = {}
    last_pod: dict[str, tuple[int, int]] = {}
    last_container: dict[tuple[str, str], tuple[float, int, int]] = {}
    created = restarts_seen = 0
    for k in range(1, 60):
        clock.t = farm.tick_time(k) + rng.uniform(0, 9.9)
        action = rng.random()
        running = [
            p
            for p in store.iter_objects("pods")
            if p["status"].get("phase") == "Running" and p["spec"].get("nodeName")
        ]
        if action < 0.3 and running:
            restart(store, rng.choice(running), clock.t + rng.uniform(-12, 3))
        elif action < 0.45 and running:
            victim = rng.choice(running)
            store.delete("pods", victim["metadata"]["namespace"], victim["metadata"]["name"])
        elif action < 0.6:
            created += 1
            new_pod(store, f"late-{created}", rng.choice(list(farm.nodes)), clock.t + rng.uniform(-5, 5))
        for name, node in farm.nodes.items():
            s = farm.sample(node, farm.node_tick(node))
            check_sums(s)
            ts, cpu = s.node.ts_ms, s.node.cpu_ns
            if name in last_node:
                assert ts > last_node[name][0] and cpu >= last_node[name][1], (k, name)
            last_node[name] = (ts, cpu)
            for pod, ps in s.pods:
                if pod.uid in last_pod:
                    assert ps.ts_ms > last_pod[pod.uid][0] and ps.cpu_ns >= last_pod[pod.uid][1], (
                        k,
                        pod.name,
                    )
                last_pod[pod.uid] = (ps.ts_ms, ps.cpu_ns)
            for c, cs in s.containers:
                key = (c.pod.uid, c.name)
                prev = last_container.get(key)
                if prev is not None and prev[0] == c.started:
                    assert cs.cpu_ns >= prev[2], (k, c.pod.name, c.name)
                elif prev is not None:
                    assert c.started > prev[0]  # a restart: a later start, the counter from zero
                    restarts_seen += 1
                    assert (
                        cs.cpu_ns <= max(0.0, (cs.ts_ms / 1000 - c.started)) * 1e9 * 4
                    )  # a few cores at most
                last_container[key] = (c.started, cs.ts_ms, cs.cpu_ns)
    assert created and restarts_seen and len(last_pod) > 24


def check_sums(s: NodeSample) -> None:
    containers: dict[int, list[Any]] = {}
    for c, cs in s.containers:
        assert cs.memory >= PAGE and cs.memory % PAGE == 0
        containers.setdefault(id(c.pod), []).append(cs)
    for pod, ps in s.pods:
        mine = containers.get(id(pod), [])
        assert ps.memory > sum(cs.memory for cs in mine)
        assert all(cs.ts_ms == ps.ts_ms for cs in mine)
    assert s.node.memory > sum(ps.memory for _, ps in s.pods)
    assert s.node.cpu_ns >= sum(ps.cpu_ns for _, ps in s.pods)


def restart(store: ObjectStore, pod: dict[str, Any], at: float) -> None:
    def bump(o: dict[str, Any]) -> None:
        cs = o["status"]["containerStatuses"][0]
        cs["restartCount"] = int(cs.get("restartCount") or 0) + 1
        cs["state"] = {
            "running": {"startedAt": rfc3339(max(at, parse(cs["state"]["running"]["startedAt"]) + 1))}
        }

    if "running" in (pod["status"]["containerStatuses"][0].get("state") or {}):
        store.modify("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], bump)


def parse(s: str) -> float:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp()


def new_pod(store: ObjectStore, name: str, node: str, at: float) -> None:
    store.create(
        "pods",
        {
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "nodeName": node,
                "containers": [{"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
            },
            "status": {
                "phase": "Running",
                "startTime": rfc3339(at),
                "containerStatuses": [
                    {"name": "app", "restartCount": 0, "state": {"running": {"startedAt": rfc3339(at)}}}
                ],
            },
        },
    )
