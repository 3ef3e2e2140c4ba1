"""Custom Resource State end to end: `kubescope state-metrics` with a CRS configuration against the
simulator, the CRD installed by the real kubectl after start-up, custom resources created, changed
and deleted, the configuration file edited (good, then broken) and the CRD removed; the exposition
is checked line by line against what kube-state-metrics prints for the same configuration."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kubescope.sim.process import SimulatorProcess
from tests.integration.exporter import Exporter
from tests.integration.kubectl import apply_once_served, kubectl
from tests.simfixtures import simulator

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

WIDGET = """
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default, labels: {team: a}}
spec: {replicas: 3, color: blue}
status:
  phase: Running
  conditions:
    - {type: Ready, status: "True"}
    - {type: Degraded, status: "False"}
"""

CONFIG = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: example.com, version: v1, kind: Widget}
      labelsFromPath:
        name: [metadata, name]
        namespace: [metadata, namespace]
      metrics:
        - name: replicas
          help: desired replicas
          each:
            type: Gauge
            gauge:
              path: [spec, replicas]
        - name: phase
          help: the phase
          each:
            type: StateSet
            stateSet:
              labelName: phase
              path: [status, phase]
              list: [Pending, Running, Failed]
        - name: widget_info
          help: information
          each:
            type: Info
            info:
              labelsFromPath:
                color: [spec, color]
        - name: condition
          help: conditions
          each:
            type: Gauge
            gauge:
              path: [status, conditions]
              labelsFromPath:
                type: [type]
              valueFrom: [status]
"""

LABELS = (
    'customresource_group="example.com",customresource_kind="Widget",customresource_version="v1",'
    'name="w1",namespace="default"'
)

EXPECTED = f"""# HELP kube_customresource_replicas desired replicas
# TYPE kube_customresource_replicas gauge
kube_customresource_replicas{{{LABELS}}} 3
# HELP kube_customresource_phase the phase
# TYPE kube_customresource_phase gauge
kube_customresource_phase{{{LABELS},phase="Failed"}} 0
kube_customresource_phase{{{LABELS},phase="Pending"}} 0
kube_customresource_phase{{{LABELS},phase="Running"}} 1
# HELP kube_customresource_widget_info information
# TYPE kube_customresource_widget_info gauge
kube_customresource_widget_info{{color="blue",{LABELS}}} 1
# HELP kube_customresource_condition conditions
# TYPE kube_customresource_condition gauge
kube_customresource_condition{{{LABELS},type="Degraded"}} 0
kube_customresource_condition{{{LABELS},type="Ready"}} 1
"""


def custom_block(text: str) -> str:
    """The kube_customresource_* lines, samples sorted within each family (object order is free)."""
    out: list[str] = []
    samples: list[str] = []
    for line in text.splitlines():
        if "kube_customresource_" not in line:
            continue
        if line.startswith("# HELP") and samples:
            out += sorted(samples)
            samples = []
        if line.startswith("#"):
            out.append(line)
        else:
            samples.append(line)
    return "\n".join(out + sorted(samples)) + "\n" if out else ""


def eventually(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def telemetry(exp: Exporter) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{exp.tport}/metrics", timeout=10) as r:
        return str(r.read().decode())


def sample(text: str, prefix: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return None


sim = simulator(nodes=1, pods_per_node=3, seed=5, kubelets=False)


def test_custom_resources_follow_crds_objects_and_the_config_file(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    config = tmp_path / "crs.yaml"
    config.write_text(CONFIG)
    exp = Exporter(sim, tmp_path, "--resources=configmaps", f"--custom-resource-state-config-file={config}")
    try:
        # ready without the CRD: nothing configured is served yet, and that is not an error
        assert custom_block(exp.text()) == ""
        kubectl(sim, cache, "apply", "-f", "-", stdin=CRD)
        apply_once_served(sim, cache, WIDGET)
        eventually(lambda: custom_block(exp.text()) == EXPECTED, "widget metrics as KSM prints them")
        # other families are untouched by the custom ones
        assert "# TYPE kube_configmap_info gauge" in exp.text()

        kubectl(sim, cache, "patch", "widget", "w1", "--type=merge", "-p", '{"spec":{"replicas":5}}')
        eventually(
            lambda: f"kube_customresource_replicas{{{LABELS}}} 5" in exp.text(), "an update re-renders"
        )

        # a changed file is applied without a restart; the reload shows in KSM's config metrics
        hash_before = sample(telemetry(exp), 'kube_state_metrics_config_hash{filename="' + str(config))
        config.write_text(CONFIG.replace("help: desired replicas", "help: wanted replicas"))
        eventually(
            lambda: "# HELP kube_customresource_replicas wanted replicas" in exp.text(), "the new HELP text"
        )
        tel = telemetry(exp)
        assert sample(tel, 'kube_state_metrics_config_hash{filename="' + str(config)) != hash_before
        assert sample(tel, 'kube_state_metrics_last_config_reload_successful{filename="' + str(config)) == 1
        assert f"kube_customresource_replicas{{{LABELS}}} 5" in exp.text()

        # a broken file is refused: the running configuration stays, the reload metric says so
        config.write_text(CONFIG.replace("type: StateSet", "type: StateSets"))
        eventually(
            lambda: (
                sample(
                    telemetry(exp),
                    'kube_state_metrics_last_config_reload_successful{filename="' + str(config),
                )
                == 0
            ),
            "a failed reload is reported",
        )
        assert "# HELP kube_customresource_replicas wanted replicas" in exp.text()
        assert "unknown metric type 'statesets'" in exp.log.read_text()

        kubectl(sim, cache, "delete", "widget", "w1")
        # the last object gone, the resource prints nothing, headers included (KSM v2.20, #3061)
        eventually(lambda: custom_block(exp.text()) == "", "a deleted object's series go")
        kubectl(sim, cache, "apply", "-f", "-", stdin=WIDGET)
        eventually(lambda: f"kube_customresource_replicas{{{LABELS}}} 3" in exp.text(), "created again")

        kubectl(sim, cache, "delete", "crd", "widgets.example.com")
        eventually(lambda: custom_block(exp.text()) == "", "the CRD's families go with it")
        tel = telemetry(exp)
        assert sample(tel, "kube_state_metrics_custom_resource_state_add_events_total") == 1
        assert sample(tel, "kube_state_metrics_custom_resource_state_delete_events_total") == 1
        assert "kube_state_metrics_custom_resource_state_cache 0" in tel
    finally:
        exp.stop()


def test_inline_config_with_custom_resource_state_only_and_a_denylist(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    kubectl(
        sim,
        cache,
        "apply",
        "-f",
        "-",
        stdin=CRD.replace("widgets", "gadgets").replace("Widget", "Gadget").replace("widget", "gadget"),
    )
    config = CONFIG.replace("Widget", "Gadget")
    exp = Exporter(
        sim,
        tmp_path,
        f"--custom-resource-state-config={config}",
        "--custom-resource-state-only",
        "--metric-denylist=kube_customresource_phase",
    )
    try:
        apply_once_served(sim, cache, WIDGET.replace("Widget", "Gadget").replace("w1", "g1"))
        eventually(lambda: "kube_customresource_replicas{" in exp.text(), "gadget metrics")
        text = exp.text()
        names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
        assert names == {
            "kube_customresource_replicas",
            "kube_customresource_widget_info",
            "kube_customresource_condition",
        }, names
        assert 'customresource_kind="Gadget"' in text and 'name="g1"' in text
    finally:
        exp.stop()
        kubectl(sim, cache, "delete", "crd", "gadgets.example.com")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubescope", "state-metrics", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_config_stops_start_up_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CONFIG.replace(
            "type: Gauge\n            gauge:\n              path: [spec, replicas]", "type: Gauges"
        )
    )
    p = run_cli(f"--custom-resource-state-config-file={bad}", "--kubeconfig=/nonexistent")
    assert p.returncode == 2, p.stderr
    assert f"custom resource state config {bad}: spec.resources[0].metrics[0].each.type" in p.stderr
    assert "unknown metric type 'gauges'" in p.stderr
    p = run_cli(f"--custom-resource-state-config-file={tmp_path / 'missing.yaml'}")
    assert p.returncode == 2
    assert "file not found" in p.stderr and "--continue-without-custom-resource-state-config-file" in p.stderr


def test_print_rbac_grants_the_crds_and_the_configured_resources(tmp_path: Path) -> None:
    cfg = tmp_path / "crs.yaml"
    cfg.write_text(CONFIG)
    p = run_cli(f"--custom-resource-state-config-file={cfg}", "--resources=pods", "--print-rbac")
    assert p.returncode == 0, p.stderr
    rules = yaml.safe_load(p.stdout)["rules"]
    assert rules == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": ["list", "watch"],
        },
        {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["list", "watch"]},
    ]
    # a wildcard kind resolves at run time: the whole group
    cfg.write_text(CONFIG.replace("kind: Widget", 'kind: "*"'))
    rules = yaml.safe_load(
        run_cli(f"--custom-resource-state-config-file={cfg}", "--resources=pods", "--print-rbac").stdout
    )["rules"]
    assert {"apiGroups": ["example.com"], "resources": ["*"], "verbs": ["list", "watch"]} in rules
