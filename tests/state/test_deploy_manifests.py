"""deploy/state-metrics: valid manifests whose ClusterRole grants exactly what the exporter watches."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubescope.state.rbac import cluster_role
from kubescope.state.registry import default_resource_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "state-metrics"


def docs() -> list[dict[str, object]]:
    out = []
    for p in sorted(DEPLOY.rglob("*.yaml")):
        out.extend(d for d in yaml.safe_load_all(p.read_text()) if d)
    return out


def test_cluster_role_lists_exactly_the_default_resources() -> None:
    committed = yaml.safe_load((DEPLOY / "cluster-role.yaml").read_text())
    assert committed == cluster_role(default_resource_names()), (
        "regenerate with: kubescope state-metrics --print-rbac > deploy/state-metrics/cluster-role.yaml"
    )
    verbs = {v for rule in committed["rules"] for v in rule["verbs"]}
    assert verbs == {"list", "watch"}


def test_every_manifest_is_a_kubernetes_object_in_kube_system() -> None:
    kinds = set()
    for d in docs():
        assert {"apiVersion", "kind", "metadata"} <= set(d)
        kinds.add(d["kind"])
        meta = d["metadata"]
        assert isinstance(meta, dict)
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert meta.get("namespace") == "kube-system", (d["kind"], meta)
    assert {
        "Deployment",
        "StatefulSet",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "ServiceMonitor",
        "Role",
        "RoleBinding",
    } <= kinds


def test_probes_use_ksm_ports_and_paths() -> None:
    dep = next(d for d in docs() if d["kind"] == "Deployment")
    c = dep["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http-metrics"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "telemetry"}
    assert {p["containerPort"] for p in c["ports"]} == {8080, 8081}
