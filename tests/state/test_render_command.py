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


def test_bad_input_names_the_file_and_object_and_the_rest_is_rendered(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**DEPLOY, "spec": {"replicas": "three"}}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({**DEPLOY, "metadata": {**DEPLOY["metadata"], "name": "api"}}))  # type: ignore[dict-item]
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\nkind: [unclosed\n")
    p = render(str(bad), str(tmp_path / "missing.yaml"), str(broken), str(good))
    assert p.returncode == 1
    assert f"{bad}: Deployment shop/web is malformed: Expected `int | null`, got `str`" in p.stderr
    assert f"{tmp_path / 'missing.yaml'}: cannot read" in p.stderr
    assert f"{broken} (document 2): not valid JSON or YAML" in p.stderr
    assert "3 file(s), document(s) or object(s) skipped" in p.stderr
    assert 'kube_deployment_spec_replicas{namespace="shop",deployment="api"} 3' in p.stdout
    assert 'kube_configmap_info{namespace="",configmap="first"} 1' in p.stdout  # before the error
    assert "Traceback" not in p.stderr


def test_a_bad_configuration_or_flag_stops_before_reading(files: tuple[Path, Path]) -> None:
    p = render(str(files[1]), f"--custom-resource-state-config={CRS.replace('Gauge', 'Gauges')}")
    assert p.returncode == 2 and "unknown metric type 'gauges'" in p.stderr and not p.stdout
    p = render(str(files[1]), "--max-file-size=lots")
    assert p.returncode == 2 and "--max-file-size='lots'" in p.stderr


def test_hostile_files_are_refused_one_by_one(files: tuple[Path, Path], tmp_path: Path) -> None:
    binary = tmp_path / "core.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    nul = tmp_path / "nul.yaml"
    nul.write_text("kind: ConfigMap\x00\n")
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    nested = tmp_path / "nested.yaml"  # under libyaml's own limit, over ours
    nested.write_text("kind: List\nitems: " + "[" * 300 + "]" * 300 + "\n")
    bomb = tmp_path / "bomb.yaml"  # 10^9 strings from 400 bytes
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [f"{c}: &{c} [{','.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    bomb.write_text("\n".join(rows) + "\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: boom}\n")
    loop = tmp_path / "loop.yaml"
    loop.write_text("kind: ConfigMap\nmetadata: &m {name: x, labels: *m}\n")
    big = tmp_path / "big.json"
    big.write_text(json.dumps(DEPLOY) + " " * 2000)
    hostile = [binary, nul, deep_json, deep_yaml, nested, bomb, loop]
    p = render(*map(str, [*hostile, files[0]]))
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    err = p.stderr
    assert f"{binary}: not a JSON or YAML text file (not UTF-8 at byte 128)" in err
    assert f"{nul}: not a JSON or YAML text file (binary data: NUL" in err
    assert f"{deep_json}: nested too deeply (more than 256 levels)" in err
    assert f"{deep_yaml}: not valid JSON or YAML" in err and "nesting depth" in err
    assert f"{nested}: nested too deeply (more than 256 levels)" in err
    assert f"{bomb}: YAML aliases expand" in err and "alias bomb" in err
    assert f"{loop}: a YAML alias refers to a node that contains it" in err
    assert f"{len(hostile)} file(s), document(s) or object(s) skipped" in err
    assert 'kube_deployment_spec_replicas{namespace="shop",deployment="web"} 3' in p.stdout
    p = render(str(big), "--max-file-size=1k")
    assert p.returncode == 1 and f"{big}: larger than 1000 bytes (--max-file-size)" in p.stderr


def test_aliases_and_merges_in_ordinary_use_are_read(tmp_path: Path) -> None:
    f = tmp_path / "anchors.yaml"
    f.write_text(
        "kind: List\napiVersion: v1\nitems:\n"
        "- &cm {kind: ConfigMap, metadata: &meta {name: a, namespace: ns, labels: {app: x}}}\n"
        "- {kind: ConfigMap, metadata: {<<: *meta, name: b}}\n"
    )
    p = render(str(f), "--metric-labels-allowlist=configmaps=[app]")
    assert p.returncode == 0, p.stderr
    assert 'kube_configmap_labels{namespace="ns",configmap="b",label_app="x"} 1' in p.stdout


def test_a_crs_config_alias_bomb_is_refused(files: tuple[Path, Path]) -> None:
    rows = ['x: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [f"x{c}: &{c} [{','.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    p = render(
        str(files[1]),
        "--custom-resource-state-config=" + "\n".join(rows) + "\nkind: CustomResourceStateMetrics\n",
    )
    assert p.returncode == 2 and "alias bomb" in p.stderr
