"""Each deploy/ workload's kubescope container, started as the kubelet would start it (its args and
env, the token only if mounted, a read-only root with its emptyDir volumes, the RBAC deploy/ binds,
its own network namespace) against the simulator, becomes ready on its readiness probe, passes its
liveness probe and answers on every Service port that selects it. See tests/deploy/podrun.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import netns
from tests.deploy import manifests as m

pytestmark = [pytest.mark.slow]

WORKLOADS = [(w.kind, w.name, w.path) for w in m.workloads(m.load())]


def start_pod(kind: str, name: str, tmp: Path) -> dict[str, Any]:
    netns.require()
    out = tmp / "result.json"
    p = subprocess.run(
        netns.isolated(sys.executable, "-m", "tests.deploy.podrun", kind, name, str(out)),
        cwd=m.REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert p.returncode == 0 and out.exists(), f"the pod runner failed:\n{p.stdout}\n{p.stderr}"
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize(
    ("kind", "name", "path"), WORKLOADS, ids=[f"{p.parent.name}/{k}" for k, _, p in WORKLOADS]
)
def test_the_pod_becomes_ready_and_serves(kind: str, name: str, path: Path, tmp_path: Path) -> None:
    r = start_pod(kind, name, tmp_path)
    where = f"{path.relative_to(m.REPO)} ({kind} {name}), kubescope {' '.join(r['argv'])}"
    assert r["readiness"]["status"] == 200, (
        f"{where}: not ready ({r['readiness']}), exit code {r['exit_code']}; its log:\n{r['log']}"
    )
    assert r["liveness"]["status"] == 200, f"{where}: liveness {r['liveness']}\n{r['log']}"
    assert r["services"] and all(status in (200, 401, 403) for status in r["services"].values()), (
        f"{where}: Service ports {r['services']}"
    )
    if (
        kind == "StatefulSet" and r["argv"][0] == "state-metrics"
    ):  # automatic sharding: the ordinal from the pod name, the total from replicas
        ordinal = int(r["pod"].rsplit("-", 1)[1])
        assert f'kube_state_metrics_shard_ordinal{{shard_ordinal="{ordinal}"}} {ordinal}\n' in r["telemetry"]
        replicas = next(w for w in m.workloads(m.load()) if (w.kind, w.path) == (kind, path)).obj["spec"][
            "replicas"
        ]
        assert f"kube_state_metrics_total_shards {replicas}\n" in r["telemetry"]  # as KSM writes it
    assert r["exit_code"] == 0, f"{where}: exit code {r['exit_code']} after SIGTERM\n{r['log']}"
