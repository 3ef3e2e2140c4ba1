"""The exporter against a churning simulator: after thousands of writes (pods created, restarted,
deleted; rollouts; scaling; jobs; config changes) and a pause, what it serves equals exactly what
`kubescope render` prints for the objects the API lists at that moment. Nothing stale, nothing
missing, nothing left from deleted objects, whatever order the events came in."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubescope.sim.process import SimulatorProcess
from tests.integration.exporter import Exporter
from tests.simfixtures import simulator

pytestmark = [pytest.mark.slow]

# resources churn writes to (CronJobs are left out: kube_cronjob_next_schedule_time depends on now)
RESOURCES = {
    "pods": "/api/v1/pods",
    "deployments": "/apis/apps/v1/deployments",
    "replicasets": "/apis/apps/v1/replicasets",
    "statefulsets": "/apis/apps/v1/statefulsets",
    "jobs": "/apis/batch/v1/jobs",
    "configmaps": "/api/v1/configmaps",
    "secrets": "/api/v1/secrets",
    "namespaces": "/api/v1/namespaces",
    "endpoints": "/api/v1/endpoints",
    "leases": "/apis/coordination.k8s.io/v1/leases",
    "horizontalpodautoscalers": "/apis/autoscaling/v2/horizontalpodautoscalers",
}


sim = simulator(
    nodes=6, pods_per_node=12, seed=21, churn_rate=800, kubelets=False, extra_args=["--churn-mix=lively"]
)


def samples(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line and not line.startswith("#"))


def rendered(sim: SimulatorProcess, tmp: Path, extra: list[str]) -> list[str]:
    items = []
    for res, path in RESOURCES.items():
        lst = sim.request("GET", path)
        kind = {"endpoints": "Endpoints"}.get(res, lst["kind"].removesuffix("List"))
        api = lst["apiVersion"]
        items += [{**o, "kind": kind, "apiVersion": api} for o in lst["items"]]
    f = tmp / "objects.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    p = subprocess.run(
        [sys.executable, "-m", "kubescope", "render", str(f), f"--resources={','.join(RESOURCES)}", *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    return samples(p.stdout)


def test_served_metrics_equal_the_paused_clusters_objects(sim: SimulatorProcess, tmp_path: Path) -> None:
    extra = [
        "--metric-labels-allowlist=pods=[*],deployments=[app]",
        "--metric-annotations-allowlist=pods=[*]",
    ]
    exp = Exporter(sim, tmp_path, f"--resources={','.join(RESOURCES)}", *extra)
    try:
        start = sim.churn()["writes"]
        while sim.churn()["writes"] - start < 3000:
            time.sleep(0.2)
        stats = sim.churn(rate=0)  # paused: no write after this answer
        assert stats["writes"] - start >= 3000
        want = rendered(sim, tmp_path, extra)
        assert len(want) > 1000
        deadline = time.monotonic() + 120
        while (got := samples(exp.text())) != want:
            if time.monotonic() > deadline:
                missing, extra_lines = set(want) - set(got), set(got) - set(want)
                pytest.fail(
                    f"{len(missing)} lines missing, {len(extra_lines)} extra; e.g.\n"
                    + "\n".join(sorted(missing)[:5])
                    + "\n--\n"
                    + "\n".join(sorted(extra_lines)[:5])
                )
            time.sleep(0.3)
    finally:
        sim.churn(rate=800)
        exp.stop()
