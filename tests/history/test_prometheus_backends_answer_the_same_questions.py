"""``--prometheus-url``: the history questions answered by a real Prometheus and a real
VictoriaMetrics scraping the simulated kubelets' ``/metrics/cadvisor`` (kube-prometheus' kubelet
job), checked against numbers the test computes itself from the raw samples Prometheus stored:
means at the resolution's grid, percentiles, the pods of a workload, UIDs found in cgroup paths,
memory peaks for recommendations, idle workloads; and an unreachable backend is a 503, not a 500."""

from __future__ import annotations

import asyncio
import calendar
import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kubescope.history.app import HistoryServer, ServeSettings, Settings
from kubescope.history.promql import PromQLSettings
from kubescope.history.promsource import BackendSettings
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.model.quantity import parse_quantity
from kubescope.sim.process import SimulatorProcess
from tests.history.backends import both_backends
from tests.sim.kubelets import start_simulator

pytestmark = pytest.mark.slow

RES = 2
"""The resolution asked of the backends (the kubelets tick and are scraped every second)."""
SEL = 'job="kubelet",metrics_path="/metrics/cadvisor"'
TOLERANCE = {"prometheus": 1e-6, "victoria-metrics": 0.03}
LATE = 10
"""Seconds within which a kubelet-stamped sample may still be on its way into the backend."""
"""Relative tolerance on memory means (VictoriaMetrics scrapes on its own schedule: it may miss a
tick Prometheus stored, or store one more)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatorProcess, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("backends")
    sim = start_simulator(tmp, nodes=2, pods_per_node=4, housekeeping=1.0)
    try:
        with both_backends(tmp, sim) as urls:
            time.sleep(40)  # forty ticks stored by both
            yield sim, urls
    finally:
        sim.stop()


@pytest.fixture(params=["prometheus", "victoria-metrics"])
async def server(
    request: pytest.FixtureRequest, world: tuple[SimulatorProcess, dict[str, str]], tmp_path: Path
) -> AsyncIterator[tuple[HistoryServer, str]]:
    sim, urls = world
    name = request.param
    client = await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig))
    settings = Settings(
        record=False,
        serve=ServeSettings(bind_address="127.0.0.1", secure_port=0, cert_dir=str(tmp_path / "certs")),
        backend=BackendSettings(urls[name], timeout=20, promql=PromQLSettings(SEL, "node", RES)),
    )
    srv = HistoryServer(settings, client)
    await srv.start()
    try:
        deadline = time.monotonic() + 30
        while srv._synced() is not None:
            assert time.monotonic() < deadline, "the pod watch did not sync"
            await asyncio.sleep(0.05)
        yield srv, name
    finally:
        await srv.stop()
        await client.close()


async def ask(srv: HistoryServer, path: str, **query: str) -> tuple[int, Any]:
    code, body, _ = await srv.api.respond(path, query)
    return code, json.loads(body)


# -- the test's own truth, from the raw samples Prometheus stored --------------------------------


def raw(
    prom: str, selector: str, at: float, seconds: int
) -> list[tuple[dict[str, str], np.ndarray, np.ndarray]]:
    q = urllib.parse.urlencode({"query": f"{{{selector}}}[{seconds}s]", "time": f"{at:.3f}"})
    with urllib.request.urlopen(f"{prom}/api/v1/query?{q}", timeout=20) as r:
        data = json.load(r)["data"]["result"]
    return [
        (
            s["metric"],
            np.array([float(t) for t, _ in s["values"]]),
            np.array([float(v) for _, v in s["values"]]),
        )
        for s in data
    ]


def grid_line(
    series: list[tuple[dict[str, str], np.ndarray, np.ndarray]], grid: np.ndarray, cpu: bool
) -> np.ndarray:
    """The sum of ``series`` at each grid time: a gauge's last sample (five minutes' lookback), a
    counter's increase per second over the two samples ending within the rate window before it."""
    total = np.zeros(grid.size)
    seen = np.zeros(grid.size, bool)
    for _, ts, vs in series:
        for i, tau in enumerate(grid.tolist()):
            if cpu:
                inside = (ts > tau - 2 * RES) & (ts <= tau)
                if inside.sum() < 2:
                    continue
                t_in, v_in = ts[inside], vs[inside]
                total[i] += (v_in[-1] - v_in[0]) / (t_in[-1] - t_in[0]) * 1000
            else:
                j = np.searchsorted(ts, tau, side="right") - 1
                if j < 0 or tau - ts[j] > 300:
                    continue
                total[i] += vs[j]
            seen[i] = True
    return np.where(seen, total, np.nan)


def buckets(start: int, end: int, step: int) -> list[int]:
    return [t for t in range(start - start % step, end, step) if t >= start and t + step <= end]


def sim_pods(sim: SimulatorProcess) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = sim.request("GET", "/api/v1/pods")["items"]
    rs = {
        (r["metadata"]["namespace"], r["metadata"]["name"]): r["metadata"].get("ownerReferences", [{}])[0]
        for r in sim.request("GET", "/apis/apps/v1/replicasets")["items"]
    }
    for p in pods:
        ref = (p["metadata"].get("ownerReferences") or [{}])[0]
        kind, name = ref.get("kind", ""), ref.get("name", "")
        if kind == "ReplicaSet" and (p["metadata"]["namespace"], name) in rs:
            up = rs[(p["metadata"]["namespace"], name)]
            kind, name = up.get("kind", kind), up.get("name", name)
        p["owner"] = (kind, name)
    return pods


# -- the questions -------------------------------------------------------------------------------


async def test_pod_and_node_points_are_the_means_at_the_grid(
    server: tuple[HistoryServer, str], world: tuple[SimulatorProcess, dict[str, str]]
) -> None:
    srv, name = server
    sim, urls = world
    pod = sim_pods(sim)[0]
    ns, pname, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
    now = int(time.time()) - 2
    start, step = now - 30, 10
    rows = raw(urls["prometheus"], f'__name__="container_memory_working_set_bytes",{SEL},namespace="{ns}",'
               f'pod="{pname}",container!="",container!="POD"', now, 60)  # fmt: skip
    assert rows, "Prometheus holds the pod's containers"
    for path in (f"/namespaces/{ns}/pods/{pname}", f"/pod-id/{uid}"):
        code, body = await ask(
            srv, path + "/metrics/memory/usage", start=str(start), end=str(now), step=f"{step}s"
        )
        assert code == 200, body
        got = {p["timestamp"]: p["value"] for p in body["metricPoints"]}
        assert body["step"] == "10s" and body["unit"] == "bytes"
        for t in buckets(start, now, step):
            want = np.nanmean(grid_line(rows, np.arange(t, t + step, RES, dtype=float), cpu=False))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            assert got[stamp] == pytest.approx(want, rel=TOLERANCE[name]), (path, stamp)
        assert body["intervals"] and body["series"][0]["uid"] == uid
    # CPU: the mean of rates over the bucket, in millicores
    cpu_rows = raw(urls["prometheus"], f'__name__="container_cpu_usage_seconds_total",{SEL},namespace="{ns}",'
                   f'pod="{pname}",container!="",container!="POD"', now, 60)  # fmt: skip
    code, body = await ask(srv, f"/namespaces/{ns}/pods/{pname}/metrics/cpu/usage_rate", start=str(start),
                           end=str(now), step="10s")  # fmt: skip
    assert code == 200 and body["unit"] == "millicores", body
    got = {p["timestamp"]: p["value"] for p in body["metricPoints"]}
    for t in buckets(start, now, step):
        want = np.nanmean(grid_line(cpu_rows, np.arange(t, t + step, RES, dtype=float), cpu=True))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        assert got[stamp] == pytest.approx(want, rel=0.2), stamp
    # a node is its root cgroup; the cluster the sum of the nodes
    node = pod["spec"]["nodeName"]
    node_rows = raw(
        urls["prometheus"], f'__name__="container_memory_working_set_bytes",{SEL},id="/"', now, 60
    )
    mine = [r for r in node_rows if r[0]["node"] == node]
    t = buckets(start, now, step)[0]
    grid = np.arange(t, t + step, RES, dtype=float)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    for path, rows_ in ((f"/nodes/{node}", mine), ("", node_rows)):
        code, body = await ask(
            srv, path + "/metrics/memory/usage", start=str(start), end=str(now), step="10s"
        )
        assert code == 200, body
        got = {p["timestamp"]: p["value"] for p in body["metricPoints"]}
        assert got[stamp] == pytest.approx(np.nanmean(grid_line(rows_, grid, cpu=False)), rel=TOLERANCE[name])


async def test_aggregations_percentiles_lists_and_workloads(
    server: tuple[HistoryServer, str], world: tuple[SimulatorProcess, dict[str, str]]
) -> None:
    srv, name = server
    sim, urls = world
    pods = sim_pods(sim)
    owners: dict[tuple[str, str, str], list[str]] = {}
    for p in pods:
        owners.setdefault((p["metadata"]["namespace"], *p["owner"]), []).append(p["metadata"]["name"])
    (ns, kind, wname), members = max(owners.items(), key=lambda kv: (kv[0][1] == "Deployment", len(kv[1])))
    now = int(time.time()) - 2
    start, bucket = now - 30, 10
    sel = (
        f'__name__="container_memory_working_set_bytes",{SEL},namespace="{ns}",container!="",container!="POD"'
    )
    rows = [r for r in raw(urls["prometheus"], sel, now, 60) if r[0]["pod"] in members]
    seg = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}[kind]
    code, body = await ask(srv, f"/namespaces/{ns}/{seg}/{wname}/metrics-aggregated/avg,max,p95,count/memory/usage",
                           start=str(start), end=str(now), bucket="10s")  # fmt: skip
    assert code == 200, body
    assert body["bucketSize"] == "10s"
    by_t = {b["timestamp"]: b for b in body["buckets"]}
    for t in buckets(start, now, bucket):
        line = grid_line(rows, np.arange(t, t + bucket, RES, dtype=float), cpu=False)
        b = by_t[time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))]
        tol = TOLERANCE[name]
        assert b["average"] == pytest.approx(np.nanmean(line), rel=tol)
        assert b["maximum"] == pytest.approx(np.nanmax(line), rel=tol)
        assert b["percentiles"]["95"] == pytest.approx(np.nanquantile(line, 0.95), rel=max(tol, 1e-3))
        assert b["count"] == np.count_nonzero(~np.isnan(line))
    # a pod-list: one item per pod, in the order asked
    two = [members[0], next(p["metadata"]["name"] for p in pods if p["metadata"]["name"] != members[0])]
    two_ns = {p["metadata"]["name"]: p["metadata"]["namespace"] for p in pods}
    if two_ns[two[1]] == ns:
        code, body = await ask(srv, f"/namespaces/{ns}/pod-list/{two[1]},{two[0]}/metrics/memory/usage",
                               start=str(start), end=str(now), step="10s")  # fmt: skip
        assert code == 200, body
        assert [i["name"] for i in body["items"]] == [two[1], two[0]]
        assert all(i["metricPoints"] for i in body["items"])


async def test_recommendations_and_idle_follow_the_samples(
    server: tuple[HistoryServer, str], world: tuple[SimulatorProcess, dict[str, str]]
) -> None:
    srv, name = server
    sim, urls = world
    pods = sim_pods(sim)
    owner_of = {(p["metadata"]["namespace"], p["metadata"]["name"]): p["owner"] for p in pods}
    code, body = await ask(srv, "/recommendations", window="30s")
    assert code == 200, body
    assert body["items"], "every workload with samples has a recommendation"
    end = calendar.timegm(time.strptime(body["window"]["end"], "%Y-%m-%dT%H:%M:%SZ"))
    sel = f'__name__="container_memory_working_set_bytes",{SEL},container!="",container!="POD"'
    rows = raw(urls["prometheus"], sel, end, 30)
    # samples carry the kubelets' own timestamps (honor_timestamps): one stamped just before `end`
    # may reach the backend after the server asked, so the server's peak lies between the peak of
    # the samples older than LATE seconds (surely there) and the peak of all of them
    peaks: dict[tuple[str, str, str, str], float] = {}
    early: dict[tuple[str, str, str, str], float] = {}
    for labels, ts, vs in rows:
        kind, wname = owner_of.get((labels["namespace"], labels["pod"]), ("", ""))
        key = (labels["namespace"], kind, wname, labels["container"])
        peaks[key] = max(peaks.get(key, 0.0), float(vs.max()))
        old = vs[ts <= end - LATE]
        early[key] = max(early.get(key, 0.0), float(old.max()) if old.size else 0.0)
    for item in body["items"]:
        for rec, detail in zip(item["status"]["recommendation"]["containerRecommendations"], item["containers"],
                               strict=True):  # fmt: skip
            key = (item["namespace"], item["kind"], item["name"], rec["containerName"])
            want, low = peaks[key] * 1.15, early[key] * 1.15
            got = float(parse_quantity(rec["target"]["memory"]))
            tol = TOLERANCE[name]
            assert low * (1 - tol) - 1024 <= got <= want * (1 + tol) + 1024, (key, low, got, want)
            assert detail["samples"]["cpu"] > 5 and "cpu" in rec["target"]
            assert detail["current"]["requests"], "requests come from the pod watch"
    # idle: a threshold between two workloads' CPU peaks splits them
    code, body = await ask(srv, "/idle", duration="20s", cpuThreshold="1000000")
    assert code == 200, body
    everyone = {(i["namespace"], i["kind"], i["name"]): i["cpu"]["maximum"] for i in body["items"]}
    assert len(everyone) >= 2
    peaks_sorted = sorted(everyone.values())
    cut = (peaks_sorted[0] + peaks_sorted[-1]) / 2
    code, body = await ask(srv, "/idle", duration="20s", cpuThreshold=str(cut))
    assert code == 200
    assert {(i["namespace"], i["kind"], i["name"]) for i in body["items"]} == {
        k for k, v in everyone.items() if v < cut
    }
    code, body = await ask(srv, "/idle", duration="2h", cpuThreshold="1000000")
    assert code == 200 and body["items"] == [], "no workload has two hours of history"


async def test_bad_requests_and_an_unreachable_backend(
    server: tuple[HistoryServer, str], world: tuple[SimulatorProcess, dict[str, str]]
) -> None:
    srv, _ = server
    for path, query, words in (
        ("/metrics/disk/usage", {}, "unknown metric"),
        ("/nodes/n1/metrics/memory/usage", {"start": "now", "end": "now-1h"}, "reversed"),
        ("/namespaces/a/pods/x/metrics-aggregated/p42/cpu/usage_rate", {}, "unknown aggregation"),
        ("/namespaces/a/pods/x/metrics/memory/usage", {"step": "1s", "start": "now-30d"}, "more than"),
        ('/namespaces/a/pods/x"}or{/metrics/memory/usage', {}, "not a valid Kubernetes name"),
    ):
        code, body = await ask(srv, path, **query)
        assert code == 400 and words in body["message"], (path, body)
    assert srv.remote is not None
    srv.remote.base = "http://127.0.0.1:9"  # discard: nothing listens
    code, body = await ask(srv, "/metrics/memory/usage", step="1m")
    assert code == 503 and "did not answer" in body["message"], body
