"""`kubescope render`: metrics for objects in files, no cluster; the same flags as state-metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "uid": "u-1",
        "labels": {"app": "web"},
        "creationTimestamp": "2026-11-01T00:00:00Z",
        "generation": 2,
    },
    "spec": {"replicas": 3},
    "status": {"replicas": 3, "readyReplicas": 2, "observedGeneration": 2},
}

CM_YAML = """
apiVersion: v1
kind: ConfigMapList
items:
  - metadata: {name: a, namespace: ns1, uid: u-a, resourceVersion: "7"}
  - metadata: {name: b, namespace: ns1, uid: u-b, resourceVersion: "8"}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {replicas: 4}
"""

CRS = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: example.com, version: "*", kind: Widget}
      labelsFromPath: {name: [metadata, name]}
      metrics:
        - name: replicas
          help: desired replicas
          each: {type: Gauge, gauge: {path: [spec, replicas]}}
"""


def render(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubescope", "render", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    deploy = tmp_path / "deploy.json"
    deploy.write_text(json.dumps(DEPLOY))
    cms = tmp_path / "cms.yaml"
    cms.write_text(CM_YAML)
    return deploy, cms


def test_objects_lists_and_documents_from_several_files(files: tuple[Path, Path]) -> None:
    p = render(*map(str, files), "--metric-labels-allowlist=deployments=[app]")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert 'kube_deployment_status_replicas_ready{namespace="shop",deployment="web"} 2' in lines
    assert 'kube_deployment_labels{namespace="shop",deployment="web",label_app="web"} 1' in lines
    assert 'kube_configmap_metadata_resource_version{namespace="ns1",configmap="b"} 8' in lines
    # resources in name order, each family's header once
    assert p.stdout.index("# HELP kube_configmap_info") < p.stdout.index("# HELP kube_deployment_created")
    assert p.stdout.count("# TYPE kube_configmap_info gauge") == 1
    # a kind without state metrics is skipped and named
    assert "skipping 'Widget' (example.com/v1): no state metrics for this kind" in p.stderr


def test_stdin_filters_and_openmetrics(files: tuple[Path, Path]) -> None:
    p = render(
        "-",
        "--format=openmetrics",
        "--metric-allowlist=kube_deployment_spec_replicas",
        stdin=json.dumps({"kind": "List", "apiVersion": "v1", "items": [DEPLOY]}),
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == (
        "# HELP kube_deployment_spec_replicas [STABLE] Number of desired pods for a deployment.\n"
        "# TYPE kube_deployment_spec_replicas gauge\n"
        'kube_deployment_spec_replicas{namespace="shop",deployment="web"} 3\n'
        "# EOF\n"
    )
    only = render(*map(str, files), "--resources=configmaps")
    assert "kube_deployment" not in only.stdout and "kube_configmap_info" in only.stdout


def test_custom_resources_with_a_crs_config(files: tuple[Path, Path], tmp_path: Path) -> None:
    cfg = tmp_path / "crs.yaml"
    cfg.write_text(CRS)
    p = render(str(files[1]), f"--custom-resource-state-config-file={cfg}", "--resources=configmaps")
    assert p.returncode == 0, p.stderr
    assert (
        "# HELP kube_customresource_replicas desired replicas\n"
        "# TYPE kube_customresource_replicas gauge\n"
        'kube_customresource_replicas{customresource_group="example.com",customresource_kind="Widget",'
        'customresource_version="v1",name="w1"} 4\n'
    ) in p.stdout
    assert "skipping" not in p.stderr


def test_bad_input_names_the_file_and_object(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**DEPLOY, "spec": {"replicas": "three"}}))
    p = render(str(bad))
    assert p.returncode == 2
    assert f"{bad}: Deployment shop/web is malformed" in p.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [unclosed\n")
    p = render(str(broken))
    assert p.returncode == 2 and f"{broken}: not valid JSON or YAML" in p.stderr
    p = render(str(tmp_path / "missing.yaml"))
    assert p.returncode == 2 and "cannot read" in p.stderr
    p = render(str(broken), f"--custom-resource-state-config={CRS.replace('Gauge', 'Gauges')}")
    assert p.returncode == 2 and "unknown metric type 'gauges'" in p.stderr
