"""``kubescope history --source=kubelets`` records the simulator's kubelets directly (resource-metrics'
scraper, no Metrics API): every node's, container's and pod's CPU is the rate between the two kubelet
samples its cycles saw, and its memory the working set, both checked against the cumulative counters
and timestamps /_sim/truth says the kubelets served; a first point has no rate and is not recorded;
a kubelet that answers garbage takes out only its own node's samples for that cycle."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kubescope.history.app import HistoryServer, ServeSettings, Settings
from kubescope.history.series import SeriesKey
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.kubelet.settings import KubeletSettings
from kubescope.sim.process import SimulatorProcess
from tests.simfixtures import simulator

pytestmark = pytest.mark.slow


sim = simulator(nodes=3, pods_per_node=3, seed=7, extra_args=["--kubelet-housekeeping=1"])


@pytest.fixture
async def server(sim: SimulatorProcess, tmp_path: Path) -> AsyncIterator[HistoryServer]:
    client = await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig))
    settings = Settings(
        db=str(tmp_path / "history.db"),
        resolution=3600.0,  # the loop's first cycle only: the test drives the others
        source="kubelets",
        kubelet=KubeletSettings(
            preferred_address_types=("InternalIP",),
            use_node_status_port=True,
            insecure_tls=True,
            request_timeout=5.0,
        ),
        serve=ServeSettings(bind_address="127.0.0.1", secure_port=0, cert_dir=str(tmp_path / "certs")),
    )
    srv = HistoryServer(settings, client)
    await srv.start()
    try:
        deadline = time.monotonic() + 60
        while srv.cycles < 1:  # the loop's own first cycle (first points: nothing recorded)
            assert time.monotonic() < deadline, "no recording cycle in 60 s"
            await _sleep(0.05)
        yield srv
    finally:
        await srv.stop()
        await client.close()
        gc.collect()


async def _sleep(s: float) -> None:
    await asyncio.sleep(s)


Sample = tuple[int, int, int]
"""(timestamp ms, cumulative CPU ns as parsed, working set bytes)."""


def snapshot(doc: dict[str, Any]) -> dict[tuple[str, ...], Sample]:
    """Every node's and container's current sample in a /_sim/truth document."""
    out: dict[tuple[str, ...], Sample] = {}
    for name, node in doc["nodes"].items():
        out[("node", name)] = (node["timestamp"], _parsed(node["cpu"]), node["memory"])
        for key, pod in node["pods"].items():
            ns, _, pod_name = key.partition("/")
            for c, v in pod["containers"].items():
                out[("container", ns, pod_name, c)] = (v["timestamp"], _parsed(v["cpu"]), v["memory"])
    return out


def _parsed(cpu_ns: int) -> int:
    """The counter as the text format carries it and metrics-server's decoder reads it back."""
    return int(float(repr(cpu_ns / 1e9)) * 1e9)


def micro(cur: Sample, prev: Sample) -> int:
    """The stored CPU value (micro-cores) of the rate between two samples, metrics-server's way."""
    window_s = (cur[0] - prev[0]) / 1e3
    return round(int((cur[1] - prev[1]) / window_s) / 1000)


async def cycle_on_a_fresh_tick(sim: SimulatorProcess, srv: HistoryServer) -> dict[tuple[str, ...], Sample]:
    """Wait for the kubelets' next tick, run one cycle, and return what they served during it (the
    tick must not change while the cycle runs, or the samples seen are not known: try again)."""
    while True:
        first = sim.request("GET", "/_sim/truth")
        deadline = time.monotonic() + 60
        while (doc := sim.request("GET", "/_sim/truth"))["tick"] == first["tick"]:
            assert time.monotonic() < deadline, "the simulator's kubelets did not tick in 60 s"
            await _sleep(0.02)
        await srv.cycle()
        if sim.request("GET", "/_sim/truth")["tick"] == doc["tick"]:
            return snapshot(doc)


def stored(srv: HistoryServer, key: SeriesKey) -> list[tuple[int, int]]:
    assert srv.store is not None
    sid = srv.store.keys.get(key)
    if sid is None:
        return []
    _s, ts, v = srv.store.raw_samples(np.array([sid]), 0, 1 << 40)
    return list(zip(ts.tolist(), v.tolist(), strict=True))


async def test_rates_between_cycles_match_the_kubelets_truth(
    sim: SimulatorProcess, server: HistoryServer
) -> None:
    # the loop's first cycle saw a tick not known here: rates are checked between known ones
    seen = [await cycle_on_a_fresh_tick(sim, server) for _ in range(3)]
    catalog = server.catalog
    checked = 0
    for prev, cur in itertools.pairwise(seen):
        for key, sample in cur.items():
            before = prev.get(key)
            if before is None or before[0] >= sample[0]:
                continue
            ts = sample[0] // 1000
            if key[0] == "node":
                cpu_key, mem_key = SeriesKey("node", "cpu", key[1]), SeriesKey("node", "memory", key[1])
            else:
                pod = catalog.lookup(key[1], key[2])
                assert pod is not None, key
                cpu_key = SeriesKey("container", "cpu", pod.uid, key[3])
                mem_key = SeriesKey("container", "memory", pod.uid, key[3])
            cpu = dict(stored(server, cpu_key))
            mem = dict(stored(server, mem_key))
            assert ts in cpu, (key, ts, sorted(cpu))
            assert abs(cpu[ts] - micro(sample, before)) <= 1, (key, cpu[ts], micro(sample, before))
            assert mem[ts] == sample[2], key
            checked += 1
    assert checked >= 2 * (3 + 9), checked
    # a pod is the sum of its containers at the same timestamp
    for (ns, name), pod in list(catalog.by_name.items())[:5]:
        pod_cpu = dict(stored(server, SeriesKey("pod", "cpu", pod.uid)))
        containers = [
            dict(stored(server, SeriesKey("container", "cpu", pod.uid, c))) for c, *_ in pod.requests
        ]
        for ts, v in pod_cpu.items():
            assert v == sum(c[ts] for c in containers), (ns, name, ts)


async def test_a_garbage_kubelet_takes_out_only_its_node(
    sim: SimulatorProcess, server: HistoryServer
) -> None:
    names = sorted(k[1] for k in (await cycle_on_a_fresh_tick(sim, server)) if k[0] == "node")
    bad, *good = names
    sim.faults(reset=True, kubelet_garbage_fraction=1, kubelet_nodes=bad)
    try:
        await cycle_on_a_fresh_tick(sim, server)
        cur = await cycle_on_a_fresh_tick(sim, server)
    finally:
        sim.faults(reset=True)
    ts = {n: cur[("node", n)][0] // 1000 for n in names}
    assert ts[bad] not in dict(stored(server, SeriesKey("node", "cpu", bad)))
    for n in good:
        assert ts[n] in dict(stored(server, SeriesKey("node", "cpu", n))), n
    text = server.server.metrics.render().decode()
    assert 'kubescope_history_kubelet_scrape_errors_total{reason="parse"}' in text, text[-2000:]
