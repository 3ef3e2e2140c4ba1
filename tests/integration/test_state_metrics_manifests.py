"""deploy/state-metrics/ with the real kubectl against the simulator, and its ClusterRole put to work:
an exporter holding exactly those permissions syncs every default resource; one permission less and
it is not ready, naming the refusal."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubescope.sim.process import SimulatorProcess
from tests.integration.exporter import Exporter
from tests.integration.kubectl import apply_once_served, kubectl
from tests.simfixtures import simulator

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "state-metrics"
TOKEN = "state-metrics-sa-token"

SERVICEMONITOR_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def cluster_role_rules() -> list[dict[str, Any]]:
    role = yaml.safe_load((DEPLOY / "cluster-role.yaml").read_text())
    assert role["kind"] == "ClusterRole"
    return list(role["rules"])


def auth_file(tmp: Path, rules: list[dict[str, Any]]) -> Path:
    """The simulator's policy for one service-account token holding exactly ``rules``."""
    user = "system:serviceaccount:kube-system:kubescope-state-metrics"
    policy = {
        "tokens": [{"token": TOKEN, "user": user, "groups": ["system:serviceaccounts"]}],
        "rules": [
            {
                "users": [user],
                "verbs": r["verbs"],
                "apiGroups": r["apiGroups"],
                "resources": r["resources"],
            }
            for r in rules
        ],
    }
    path = tmp / "auth.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def token_kubeconfig(sim: SimulatorProcess, tmp: Path) -> str:
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for u in cfg["users"]:
        u["user"] = {"token": TOKEN}
    path = tmp / "sa.kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


sim = simulator(nodes=2, pods_per_node=4, seed=11, kubelets=False)


def test_manifests_apply_and_the_objects_are_there(sim: SimulatorProcess, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = kubectl(sim, cache, "apply", "-f", str(DEPLOY))
    for what in (
        "serviceaccount/kubescope-state-metrics",
        "clusterrole.rbac.authorization.k8s.io/kubescope-state-metrics",
        "clusterrolebinding.rbac.authorization.k8s.io/kubescope-state-metrics",
        "deployment.apps/kubescope-state-metrics",
        "service/kubescope-state-metrics",
    ):
        assert f"{what} created" in out, out
    deploy = yaml.safe_load(
        kubectl(sim, cache, "get", "-n", "kube-system", "deploy/kubescope-state-metrics", "-o", "yaml")
    )
    args = deploy["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["state-metrics", "--port=8080", "--telemetry-port=8081"]
    assert deploy["metadata"]["generation"] == 1 and deploy["spec"]["replicas"] == 1
    # the auto-sharding variant replaces the Deployment with a StatefulSet
    kubectl(sim, cache, "delete", "-n", "kube-system", "deploy/kubescope-state-metrics")
    out = kubectl(sim, cache, "apply", "-f", str(DEPLOY / "autosharding"))
    assert "statefulset.apps/kubescope-state-metrics created" in out, out
    assert "role.rbac.authorization.k8s.io/kubescope-state-metrics-sharding created" in out, out
    # the ServiceMonitor, once the Prometheus Operator's CRD exists
    kubectl(sim, cache, "apply", "-f", "-", stdin=SERVICEMONITOR_CRD)
    out = apply_once_served(sim, cache, path=str(DEPLOY / "prometheus-operator"))
    assert "servicemonitor.monitoring.coreos.com/kubescope-state-metrics created" in out, out
    sm = yaml.safe_load(
        kubectl(
            sim, cache, "get", "-n", "kube-system", "servicemonitor/kubescope-state-metrics", "-o", "yaml"
        )
    )
    assert sm["spec"]["endpoints"][0]["relabelings"][0]["replacement"] == "kube-state-metrics"


def _readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_the_cluster_role_is_exactly_enough(tmp_path: Path) -> None:
    rules = cluster_role_rules()
    with SimulatorProcess(
        nodes=2,
        pods_per_node=4,
        seed=12,
        kubelets=False,
        extra_args=[f"--auth-file={auth_file(tmp_path, rules)}"],
    ) as sim:
        e = Exporter(sim, tmp_path, kubeconfig=token_kubeconfig(sim, tmp_path))
        try:
            body = e.text()
            assert "kube_pod_info{" in body and "kube_node_info{" in body
            assert "kube_validatingwebhookconfiguration_info{" in body
        finally:
            e.stop()


def test_without_one_permission_it_is_ready_and_says_why(tmp_path: Path) -> None:
    # issue 15: narrower RBAC must not keep /readyz at 503 for ever; the refused resource is named once
    # in the log and in kubescope_state_resource_unavailable, and retried with backoff
    rules = [
        {**r, "resources": [x for x in r["resources"] if x != "pods"]} if "pods" in r["resources"] else r
        for r in cluster_role_rules()
    ]
    with SimulatorProcess(
        nodes=2,
        pods_per_node=4,
        seed=12,
        kubelets=False,
        extra_args=[f"--auth-file={auth_file(tmp_path, rules)}"],
    ) as sim:
        e = Exporter(sim, tmp_path, kubeconfig=token_kubeconfig(sim, tmp_path), ready_timeout=60)
        try:
            log = e.log.read_text()
            refusals = [line for line in log.splitlines() if "level=warning" in line and "forbidden" in line]
            assert len(refusals) == 1 and "resource=pods" in refusals[0], log
            assert _readyz(e.tport) == 200
            tel = urllib.request.urlopen(f"http://127.0.0.1:{e.tport}/metrics", timeout=10).read().decode()
            assert 'kubescope_state_resource_unavailable{reason="forbidden",resource="pods"} 1' in tel
            assert "kube_node_info{" in e.text() and "kube_pod_info{" not in e.text()
        finally:
            e.stop()
