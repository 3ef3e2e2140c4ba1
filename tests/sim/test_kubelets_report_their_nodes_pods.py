"""What the simulated kubelets report follows the cluster: each lists its node's Running pods and
their running containers as the API has them, working sets add up (node >= sum of its pods >= sum
of their containers; CPU counters the same way), CPU counters only grow from one scrape to the next,
a restarted container's counter starts again from zero while its pod's keeps counting, pods that
start or go away appear or vanish, and ``/_sim/truth`` is exactly what the kubelets serve."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kubescope.sim.process import SimulatorProcess
from kubescope.sim.usage import MEMORY_WAVES
from tests.sim.kubelets import Exposition, Kubelets, Sample, api_request, retry, start_simulator

pytestmark = pytest.mark.slow

HOUSEKEEPING = 0.5


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    s = start_simulator(
        tmp_path_factory.mktemp("kubelet-values"), nodes=3, pods_per_node=6, housekeeping=HOUSEKEEPING
    )
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kubelets(sim: SimulatorProcess) -> Kubelets:
    return Kubelets(sim)


def running(sim: SimulatorProcess) -> dict[str, dict[tuple[str, str], set[str]]]:
    """node -> (namespace, pod) -> running containers (sidecar init containers included)."""
    out: dict[str, dict[tuple[str, str], set[str]]] = {}
    for p in sim.request("GET", "/api/v1/pods")["items"]:
        st = p.get("status") or {}
        if st.get("phase") != "Running" or not p["spec"].get("nodeName"):
            continue
        names = {
            c["name"]
            for key in ("initContainerStatuses", "containerStatuses")
            for c in st.get(key) or []
            if "running" in (c.get("state") or {})
        }
        out.setdefault(p["spec"]["nodeName"], {})[(p["metadata"]["namespace"], p["metadata"]["name"])] = names
    return out


def pods_of(e: Exposition) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for s in e.of("pod_memory_working_set_bytes"):
        out[(s.label_dict["namespace"], s.label_dict["pod"])] = set()
    for s in e.of("container_memory_working_set_bytes"):
        d = s.label_dict
        out[(d["namespace"], d["pod"])].add(d["container"])
    return out


def now_rfc3339(offset: float = 0.0) -> str:
    t = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_each_kubelet_lists_its_nodes_running_pods_and_containers(
    sim: SimulatorProcess, kubelets: Kubelets
) -> None:
    want = running(sim)
    assert sum(len(p) for p in want.values()) >= 10
    for node in kubelets.advertised():
        got = pods_of(kubelets.metrics(node))
        assert got == want.get(node, {}), node
    # the scenario's Pending pods are on no kubelet's list
    pending = [
        p for p in sim.request("GET", "/api/v1/pods")["items"] if p["status"].get("phase") != "Running"
    ]
    listed = {k for node in kubelets.advertised() for k in pods_of(kubelets.metrics(node))}
    assert not {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pending} & listed


def test_usage_adds_up_node_pods_containers(kubelets: Kubelets) -> None:
    for node in kubelets.advertised():
        e = kubelets.metrics(node)
        pods = e.by_labels("pod_memory_working_set_bytes")
        pod_cpu = e.by_labels("pod_cpu_usage_seconds_total")
        assert pods and set(pods) == set(pod_cpu)
        containers: dict[tuple[str, ...], list[tuple[float, float]]] = {}
        for (c, ns, pod), s in e.by_labels("container_memory_working_set_bytes").items():
            cpu = e.value("container_cpu_usage_seconds_total", container=c, namespace=ns, pod=pod)
            containers.setdefault((ns, pod), []).append((cpu, s.number))
            assert s.number > 0 and cpu > 0 and s.number % 4096 == 0  # whole pages
        for key, s in pods.items():
            assert s.number > sum(m for _, m in containers[key]), key  # + the sandbox
            assert pod_cpu[key].number > sum(c for c, _ in containers[key]), key
        assert e.value("node_memory_working_set_bytes") > sum(s.number for s in pods.values())
        assert e.value("node_cpu_usage_seconds_total") > sum(s.number for s in pod_cpu.values())
        for s in e.samples:
            if "swap" in s.name:
                assert s.value == "0"


def test_cpu_counters_only_grow_and_timestamps_advance(kubelets: Kubelets) -> None:
    nodes = sorted(kubelets.advertised())
    last: dict[tuple[str, str, tuple[str, ...]], tuple[int, float]] = {}
    grew = 0
    for _ in range(4):
        kubelets.next_tick()
        for node in nodes:
            for s in kubelets.metrics(node).samples:
                if not s.name.endswith("_cpu_usage_seconds_total"):
                    continue
                key = (node, s.name, tuple(v for _, v in s.labels))
                assert s.timestamp is not None
                if key in last:
                    ts, value = last[key]
                    assert s.timestamp > ts, key  # a new tick, a new sample
                    assert s.number >= value, key
                    grew += s.number > value
                last[key] = (s.timestamp, s.number)
    assert grew > 0.9 * len(last) * 3  # (almost) every counter moved at every tick


def test_truth_is_what_the_kubelets_serve(kubelets: Kubelets) -> None:
    """Values and timestamps of /_sim/truth, and its rates from two consecutive scrapes."""
    nodes = sorted(kubelets.advertised())

    def scrape_in_one_tick() -> tuple[dict[str, Any], dict[str, Exposition]] | None:
        before = kubelets.truth()
        got = {n: kubelets.metrics(n) for n in nodes}
        after = kubelets.truth()
        return (after, got) if before["tick"] == after["tick"] else None

    for _ in range(10):
        first_truth, first = retry("scrapes within one tick", scrape_in_one_tick)
        kubelets.next_tick(first_truth["tick"])
        truth, second = retry("scrapes within one tick", scrape_in_one_tick)
        if truth["tick"] == first_truth["tick"] + 1:
            break
    else:
        raise AssertionError("no two scrapes in consecutive ticks")
    compared = 0
    for node in nodes:
        t, e, prev = truth["nodes"][node], second[node], first[node]
        assert t["timestamp"] == e.of("node_cpu_usage_seconds_total")[0].timestamp
        assert t["memory"] == e.value("node_memory_working_set_bytes")
        assert abs(t["cpu"] - e.value("node_cpu_usage_seconds_total") * 1e9) <= 1
        node_before = prev.of("node_cpu_usage_seconds_total")[0]
        assert t["usage"]["cpu"] == rate(node_before, e.of("node_cpu_usage_seconds_total")[0])
        assert t["window"] == (t["timestamp"] - t["previous"]["timestamp"]) * 1_000_000
        assert set(t["pods"]) == {f"{ns}/{p}" for ns, p in pods_of(e)}
        for key, pt in t["pods"].items():
            ns, pod = key.split("/")
            s = e.by_labels("pod_cpu_usage_seconds_total")[(ns, pod)]
            assert pt["timestamp"] == s.timestamp
            assert pt["memory"] == e.value("pod_memory_working_set_bytes", namespace=ns, pod=pod)
            assert abs(pt["cpu"] - s.number * 1e9) <= 1
            for c, ct in pt["containers"].items():
                labels = {"container": c, "namespace": ns, "pod": pod}
                cs = e.by_labels("container_cpu_usage_seconds_total")[(c, ns, pod)]
                assert ct["memory"] == e.value("container_memory_working_set_bytes", **labels)
                assert abs(ct["cpu"] - cs.number * 1e9) <= 1
                assert ct["startTime"] == e.value("container_start_time_seconds", **labels)
                before = prev.by_labels("container_cpu_usage_seconds_total")[(c, ns, pod)]
                assert ct["usage"]["cpu"] == rate(before, cs)
                compared += 1
    assert compared > 10


def rate(before: Sample, after: Sample) -> int:
    """metrics-server's rate between two samples as their text reads: nano-cores, truncated."""
    assert before.timestamp is not None and after.timestamp is not None
    window_s = (after.timestamp - before.timestamp) / 1000
    return int((int(after.number * 1e9) - int(before.number * 1e9)) / window_s)


def test_a_restarted_container_counts_from_zero_and_its_pod_keeps_counting(
    sim: SimulatorProcess, kubelets: Kubelets
) -> None:
    pods = [p for p in sim.request("GET", "/api/v1/pods")["items"] if p["status"].get("phase") == "Running"]
    pod = next(p for p in pods if len(p["status"].get("containerStatuses") or []) >= 2)
    ns, name, node = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["spec"]["nodeName"]
    statuses = pod["status"]["containerStatuses"]
    target = statuses[0]["name"]
    labels = {"container": target, "namespace": ns, "pod": name}
    before = kubelets.metrics(node)
    container_cpu = before.value("container_cpu_usage_seconds_total", **labels)
    pod_cpu = before.value("pod_cpu_usage_seconds_total", namespace=ns, pod=name)
    start = before.value("container_start_time_seconds", **labels)

    patched_at = time.time()  # before startedAt below is stamped
    restarted = [dict(c) for c in statuses]
    restarted[0] = {
        **restarted[0],
        "restartCount": statuses[0]["restartCount"] + 1,
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": now_rfc3339(-1)}},
        "state": {"running": {"startedAt": now_rfc3339()}},
    }
    api_request(
        sim, "PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status",
        {"status": {"containerStatuses": restarted}}, "application/merge-patch+json",
    )  # fmt: skip

    def reported_again() -> Exposition | None:
        e = kubelets.metrics(node)
        new_start = [s for s in e.of("container_start_time_seconds") if s.label_dict == labels]
        return e if new_start and float(new_start[0].value) > start else None

    after = retry("the restarted container reported", reported_again, tries=100, pause=0.1)
    new_start = after.value("container_start_time_seconds", **labels)
    # the new instance's start (startedAt, second precision, plus the runtime's sub-second part),
    # however long the machine took to report it
    assert patched_at - 1 <= new_start <= time.time()
    assert after.value("container_cpu_usage_seconds_total", **labels) < min(container_cpu, 10.0)
    assert after.value("pod_cpu_usage_seconds_total", namespace=ns, pod=name) >= pod_cpu
    # the other container went on as before
    other = {"container": statuses[1]["name"], "namespace": ns, "pod": name}
    assert after.value("container_cpu_usage_seconds_total", **other) >= before.value(
        "container_cpu_usage_seconds_total", **other
    )
    t = kubelets.truth()["nodes"][node]["pods"][f"{ns}/{name}"]["containers"][target]
    assert t["restarts"] == statuses[0]["restartCount"] + 1


def test_pods_that_start_appear_and_pods_that_go_vanish(sim: SimulatorProcess, kubelets: Kubelets) -> None:
    node = "node-0001"
    name = "late-arrival"
    sim.request(
        "POST", "/api/v1/namespaces/default/pods",
        {"metadata": {"name": name}, "spec": {"nodeName": node, "containers": [
            {"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
        ]}},
    )  # fmt: skip
    assert ("default", name) not in pods_of(kubelets.metrics(node))  # Pending: not running yet
    api_request(
        sim, "PATCH", f"/api/v1/namespaces/default/pods/{name}/status",
        {"status": {"phase": "Running", "startTime": now_rfc3339(), "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 0, "image": "nginx", "imageID": "",
             "state": {"running": {"startedAt": now_rfc3339()}}}
        ]}},
        "application/merge-patch+json",
    )  # fmt: skip

    def reported() -> Exposition | None:
        e = kubelets.metrics(node)
        # the pod from its startTime, its container from its start (within a second of startedAt)
        return e if pods_of(e).get(("default", name)) == {"app"} else None

    e = retry("the new pod and its container reported", reported, tries=100)
    # 64Mi requested: the working set varies by a few percent (the memory waves) around a base of
    # 40-90 % of it, in whole pages
    mem = e.value("container_memory_working_set_bytes", container="app", namespace="default", pod=name)
    swing = sum(hi for _, _, _, hi in MEMORY_WAVES)
    assert 0.4 * (1 - swing) * 64 * 2**20 <= mem <= 0.9 * (1 + swing) * 64 * 2**20 and mem % 4096 == 0
    node_cpu = e.value("node_cpu_usage_seconds_total")

    sim.request("DELETE", f"/api/v1/namespaces/default/pods/{name}")
    gone = kubelets.metrics(node)
    assert ("default", name) not in pods_of(gone)  # at once, not at the next tick
    assert gone.value("node_cpu_usage_seconds_total") >= node_cpu  # what the pod used stays counted
    assert f"default/{name}" not in kubelets.truth()["nodes"][node]["pods"]
