"""``kubescope simulate --churn-rate`` as clients see it (a simulator process, TLS, tokens): the
write rate is the configured one, watchers and ``kubectl get -w`` see pods, Deployments,
ReplicaSets, Jobs and ConfigMaps come, change and go, ``/_sim/churn`` counts and steers it, and a
paused cluster is consistent through the API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubescope.kube.client import KubeClient
from kubescope.sim.process import SimulatorProcess
from tests.sim.consistency import OWNER_KINDS, check_controllers
from tests.simfixtures import CLEAN_ENV, sim_client, simulator

pytestmark = pytest.mark.slow

RATE = 200
REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
PATHS = {
    "pods": "/api/v1/pods",
    "nodes": "/api/v1/nodes",
    "services": "/api/v1/services",
    "endpoints": "/api/v1/endpoints",
    "configmaps": "/api/v1/configmaps",
    "endpointslices.discovery.k8s.io": "/apis/discovery.k8s.io/v1/endpointslices",
    "replicasets.apps": "/apis/apps/v1/replicasets",
    "deployments.apps": "/apis/apps/v1/deployments",
    "statefulsets.apps": "/apis/apps/v1/statefulsets",
    "daemonsets.apps": "/apis/apps/v1/daemonsets",
    "jobs.batch": "/apis/batch/v1/jobs",
    "cronjobs.batch": "/apis/batch/v1/cronjobs",
    "replicationcontrollers": "/api/v1/replicationcontrollers",
}


sim = simulator(
    nodes=6, pods_per_node=10, seed=7, churn_rate=RATE, kubelets=False, extra_args=["--churn-mix=lively"]
)
client = sim_client()


@contextlib.contextmanager
def paused(sim: SimulatorProcess) -> Iterator[None]:
    sim.churn(rate=0)
    try:
        yield
    finally:
        sim.churn(rate=RATE)


def test_the_write_rate_is_the_configured_one(sim: SimulatorProcess) -> None:
    def sample() -> tuple[float, int, int]:
        t = time.monotonic()
        return t, int(sim.churn()["writes"]), int(sim.stats()["resourceVersion"])

    t0, w0, rv0 = sample()
    time.sleep(3)
    t1, w1, rv1 = sample()
    rate = (rv1 - rv0) / (t1 - t0)
    # the rate counts writes: resourceVersions, one watch event each (nothing else writes here)
    assert 0.75 * RATE <= rate <= 1.25 * RATE, rate
    assert abs((w1 - w0) - (rv1 - rv0)) <= RATE * 0.2, (w1 - w0, rv1 - rv0)
    st = sim.churn()
    assert st["rate"] == RATE and 0.75 * RATE <= st["achieved"] <= 1.25 * RATE, st
    assert st["changes"] < st["writes"] and not st["counts"].get("errors"), st
    assert st["seed"] == 7


def test_the_rate_is_steered_live(sim: SimulatorProcess) -> None:
    with paused(sim):
        rv = sim.stats()["resourceVersion"]
        time.sleep(0.5)
        assert sim.stats()["resourceVersion"] == rv
    time.sleep(0.5)
    assert sim.stats()["resourceVersion"] > rv
    for bad in ({"rate": -1}, {"rate": "fast"}, {"speed": 3}, [1]):
        with pytest.raises(Exception, match="400"):
            sim.request("POST", "/_sim/churn", bad)
    assert sim.churn()["rate"] == RATE


async def test_watchers_see_objects_come_change_and_go(sim: SimulatorProcess, client: KubeClient) -> None:
    want = {
        "/api/v1/pods": {"ADDED", "MODIFIED", "DELETED"},
        "/apis/apps/v1/deployments": {"MODIFIED"},
        # a rollout makes a ReplicaSet; old ones go only beyond revisionHistoryLimit (10 each)
        "/apis/apps/v1/replicasets": {"ADDED", "MODIFIED"},
        "/apis/batch/v1/jobs": {"ADDED", "MODIFIED", "DELETED"},
        "/api/v1/configmaps": {"ADDED", "MODIFIED", "DELETED"},
    }
    seen: dict[str, set[str]] = {p: set() for p in want}
    rv = str((await asyncio.to_thread(sim.stats))["resourceVersion"])

    async def watch(path: str) -> None:
        last = int(rv)
        async with client.stream(path, {"watch": "true", "resourceVersion": rv}) as lines:
            async for line in lines:
                ev = json.loads(line)
                obj_rv = int(ev["object"]["metadata"]["resourceVersion"])
                assert obj_rv > last, (path, obj_rv, last)  # in order, nothing twice
                last = obj_rv
                seen[path].add(ev["type"])
                if seen[path] >= want[path]:
                    return

    tasks = [asyncio.create_task(watch(p)) for p in want]
    # faster, so that 60 ConfigMaps are made before the first goes (the churn keeps that many)
    await asyncio.to_thread(sim.churn, rate=5 * RATE)
    try:
        done, _ = await asyncio.wait(tasks, timeout=30)
        for t in done:
            t.result()
        assert seen == {p: seen[p] | want[p] for p in want}, seen
    finally:
        await asyncio.to_thread(sim.churn, rate=RATE)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.kubectl
def test_kubectl_get_pods_watch_sees_the_churn(sim: SimulatorProcess, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            KUBECTL,
            f"--kubeconfig={sim.kubeconfig}",
            f"--cache-dir={tmp_path / 'cache'}",
            "get",
            "pods",
            "-A",
            "--watch",
            "--output-watch-events",
            "--no-headers",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CLEAN_ENV,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(s) for s in proc.stdout or ()], daemon=True)
    reader.start()
    events: list[str] = []
    try:
        deadline = time.monotonic() + 30
        # the initial list comes as ADDED lines; then the watch: changes, deletions, new pods
        while not ({"MODIFIED", "DELETED"} <= set(events) and "ADDED" in events[_first_change(events) :]):
            left = deadline - time.monotonic()
            assert left > 0, (
                f"kubectl saw only {sorted(set(events))}; stderr: {proc.stderr and proc.stderr.read(2000)}"
            )
            with contextlib.suppress(queue.Empty):
                events.append(lines.get(timeout=min(left, 1)).split()[0])
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


def _first_change(events: list[str]) -> int:
    return next((i for i, e in enumerate(events) if e != "ADDED"), len(events))


def test_a_paused_cluster_is_consistent_through_the_api(sim: SimulatorProcess) -> None:
    time.sleep(1)  # let some more churn happen since the cluster was loaded
    with paused(sim):
        lists = {res: sim.request("GET", path)["items"] for res, path in PATHS.items()}
    assert set(OWNER_KINDS.values()) <= set(PATHS)
    checked = check_controllers(lambda res: lists[res])
    assert checked["replicasets"] >= 10 and checked["endpointslices"] >= 5, checked
    assert checked["owner references"] >= 60, checked
    st = sim.churn()
    # the churn made pods and deleted some, rolled out, ran jobs (every kind of change happened)
    assert all(st["counts"].get(k, 0) > 0 for k in ("rollout", "scale", "cronjob_run", "kubelet")), st
