"""End to end: ``kubescope history`` records from ``kubescope resource-metrics`` through the
simulator's aggregation layer (metrics.k8s.io), is itself registered with deploy/history's
APIService, and the real ``kubectl get --raw`` reads it through the cluster: the points are the
Metrics API's own values at its own timestamps, a kill -9 and a restart keep every recorded point
and show the outage as a gap between two intervals, a bad request is kubectl's BadRequest, and
``kubescope history recommend`` without ``--db`` asks the aggregated API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubescope.model.quantity import parse_quantity
from tests.childserver import start_server
from tests.resource.simcluster import ResourceMetricsOnSimulator

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]

REPO = Path(__file__).resolve().parents[2]
BASE = "/apis/history.kubescope.io/v1alpha1"


class History:
    """``kubescope history`` as a process on a loopback port of its choosing, registered through
    the Endpoints (again after a restart, as a restarted pod's new address is)."""

    def __init__(self, env: ResourceMetricsOnSimulator, tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.port = 0
        self.log = tmp / "history.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            sys.executable, "-m", "kubescope", "history", f"--kubeconfig={self.env.sim.kubeconfig}",
            f"--db={self.tmp / 'history.db'}", "--resolution=2s", "--bind-address=127.0.0.1",
            "--secure-port=0", f"--cert-dir={self.tmp / 'certs'}", "--log-level=info",
        ]  # fmt: skip
        server = start_server("history", argv, self.log, append=True)
        self.proc = server.proc
        self.port = server.listening_port()
        register(self.env, self.port)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def register(env: ResourceMetricsOnSimulator, port: int) -> None:
    for name in ("apiservice.yaml", "service.yaml", "rbac.yaml"):
        env.kubectl("apply", "-f", str(REPO / "deploy" / "history" / name))
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kubescope-history", "namespace": "kube-system"},
        "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port}]}],
    }
    env.kubectl("apply", "-f", "-", stdin=json.dumps(endpoints))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ResourceMetricsOnSimulator, History]]:
    tmp = tmp_path_factory.mktemp("history-e2e")
    with ResourceMetricsOnSimulator(tmp, nodes=2, pods_per_node=3, resolution="2s") as e:
        e.wait(
            "the Metrics API answers", lambda: e.via_simulator("/apis/metrics.k8s.io/v1beta1/pods")[0] == 200
        )
        h = History(e, tmp)
        h.start()
        try:
            yield e, h
        finally:
            h.stop()


def raw(e: ResourceMetricsOnSimulator, path: str) -> Any:
    return json.loads(e.kubectl("get", "--raw", path))


def points(e: ResourceMetricsOnSimulator, ns: str, pod: str) -> dict[str, Any]:
    got: dict[str, Any] = raw(e, f"{BASE}/namespaces/{ns}/pods/{pod}/metrics/memory/usage?start=now-1h")
    return got


def test_points_are_the_metrics_apis_values_and_survive_a_kill(
    env: tuple[ResourceMetricsOnSimulator, History],
) -> None:
    e, h = env
    listed = e.wait(
        "the Metrics API lists pods", lambda: e.via_simulator("/apis/metrics.k8s.io/v1beta1/pods")[1]["items"]
    )
    pm = listed[0]
    ns, pod = pm["metadata"]["namespace"], pm["metadata"]["name"]

    def recorded() -> bool:
        try:
            return len(points(e, ns, pod)["metricPoints"]) >= 3
        except AssertionError:
            return False

    e.wait("history recorded three cycles", recorded, timeout=120)
    # the Metrics API's value at its timestamp is the point at that timestamp
    for _ in range(20):
        code, now = e.via_simulator(f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{pod}")
        if code != 200:  # between two kubelet samples the pod may have no rate yet
            time.sleep(1)
            continue
        want = sum(int(parse_quantity(c["usage"]["memory"])) for c in now["containers"])
        e.wait(
            "the sample is recorded", lambda ts=now["timestamp"]: ts <= points(e, ns, pod)["end"], timeout=30
        )
        got = {p["timestamp"]: p["value"] for p in points(e, ns, pod)["metricPoints"]}
        if now["timestamp"] in got:
            assert got[now["timestamp"]] == want
            break
        time.sleep(1)
    else:
        raise AssertionError("no Metrics API sample found among the recorded points")
    before = points(e, ns, pod)["metricPoints"]
    # kill -9, stay down for longer than two resolutions, start again on the same store
    h.kill()
    time.sleep(6)
    h.start()

    def resumed() -> bool:
        try:
            body = points(e, ns, pod)
        except AssertionError:
            return False
        return len(body["intervals"]) >= 2 and body["metricPoints"][-1]["timestamp"] > before[-1]["timestamp"]

    e.wait("history resumed after the restart", resumed, timeout=120)
    after = points(e, ns, pod)
    kept = {p["timestamp"]: p["value"] for p in after["metricPoints"]}
    # every point acknowledged before the kill (all but possibly the cycle in flight) is still there
    assert all(kept.get(p["timestamp"]) == p["value"] for p in before[:-1])
    first, second = after["intervals"][-2], after["intervals"][-1]
    assert first["end"] < second["start"], after["intervals"]


def test_discovery_errors_and_questions_through_kubectl(
    env: tuple[ResourceMetricsOnSimulator, History],
) -> None:
    e, _ = env
    e.wait("the APIService is available", lambda: _available(e), timeout=60)
    resources = raw(e, BASE)
    assert {r["name"] for r in resources["resources"]} >= {"metrics", "recommendations", "idle"}
    out = e.kubectl("get", "--raw", f"{BASE}/metrics/disk/usage", check=False)
    assert "BadRequest" in out or "unknown metric" in out, out
    # without --db, the question goes through the aggregated API
    e.wait(
        "a cycle with every pod is recorded",
        lambda: raw(e, f"{BASE}/recommendations?window=1h")["items"],
        timeout=120,
    )
    r = subprocess.run(
        [sys.executable, "-m", "kubescope", "history", "recommend", f"--kubeconfig={e.sim.kubeconfig}", "--window=1h"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(e.tmp)},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].split()[:3] == ["NAMESPACE", "WORKLOAD", "CONTAINER"] and len(lines) > 2, r.stdout


def _available(e: ResourceMetricsOnSimulator) -> bool:
    a = json.loads(e.kubectl("get", "apiservice", "v1alpha1.history.kubescope.io", "-o", "json"))
    return any(
        c["type"] == "Available" and c["status"] == "True" for c in a.get("status", {}).get("conditions", [])
    )
