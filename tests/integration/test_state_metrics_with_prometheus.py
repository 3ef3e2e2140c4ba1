"""State metrics end to end: the simulator, `kubescope state-metrics` (subprocess), a real Prometheus
scraping it as job="kube-state-metrics" with kube-prometheus' rules loaded, and promtool."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubescope.sim.process import SimulatorProcess
from tests.integration.exporter import Exporter
from tests.integration.prom import need, prometheus
from tests.simfixtures import simulator

pytestmark = [pytest.mark.slow, pytest.mark.external]

KUBE_PROMETHEUS = Path(__file__).resolve().parents[1] / "data" / "kube-prometheus"


sim = simulator(nodes=4, pods_per_node=8, seed=3, bookmark_interval=1)


@pytest.fixture(scope="module")
def exporter(sim: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    e = Exporter(sim, tmp_path_factory.mktemp("exporter"))
    yield e
    e.stop()


def samples(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line and not line.startswith("#"))


def test_promtool_finds_no_problem_in_the_full_output(exporter: Exporter, tmp_path: Path) -> None:
    body = exporter.scrape()[1]
    out = subprocess.run([need("promtool"), "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert out.stdout.decode().strip() == "" and out.stderr.decode().strip() == ""


def test_every_listed_pod_is_exported(sim: SimulatorProcess, exporter: Exporter) -> None:
    pods = sim.request("GET", "/api/v1/pods")["items"]
    text = exporter.text()
    uids = {
        line.split('uid="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("kube_pod_info{")
    }
    assert uids == {p["metadata"]["uid"] for p in pods}


def test_negotiation_gzip_and_resource_filters(exporter: Exporter) -> None:
    ctype, body, _ = exporter.scrape(accept="application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
    assert ctype.startswith("application/openmetrics-text; version=1.0.0")
    assert body.endswith(b"# EOF\n")
    ctype, gz, headers = exporter.scrape(encoding="gzip")
    assert headers.get("Content-Encoding") == "gzip" and ctype.startswith("text/plain; version=0.0.4")
    assert samples(gzip.decompress(gz).decode()) == samples(exporter.text())
    only_nodes = exporter.text("?resources=nodes")
    assert "kube_node_info{" in only_nodes and "kube_pod_info{" not in only_nodes
    no_pods = exporter.text("?exclude_resources=pods&resources=pods,nodes")
    assert "kube_pod_info{" not in no_pods and "kube_node_info{" in no_pods


def test_gzip_off_keeps_ksm_behaviour(sim: SimulatorProcess, tmp_path: Path) -> None:
    e = Exporter(sim, tmp_path, "--enable-gzip-encoding=false", "--resources=nodes")
    try:
        _, body, headers = e.scrape(encoding="gzip")
        assert "Content-Encoding" not in headers and body.startswith(b"# HELP kube_node_")
    finally:
        e.stop()


def test_changes_show_up_and_deleted_objects_go(sim: SimulatorProcess, exporter: Exporter) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e2e-probe", "namespace": "default"}}
    sim.request("POST", "/api/v1/namespaces/default/configmaps", cm)
    line = 'kube_configmap_info{namespace="default",configmap="e2e-probe"} 1'
    deadline = time.monotonic() + 60
    while line not in exporter.text("?resources=configmaps"):
        assert time.monotonic() < deadline, "created configmap never exported"
        time.sleep(0.2)
    sim.request("DELETE", "/api/v1/namespaces/default/configmaps/e2e-probe")
    deadline = time.monotonic() + 60
    while line in exporter.text("?resources=configmaps"):
        assert time.monotonic() < deadline, "deleted configmap still exported"
        time.sleep(0.2)


def test_prometheus_scrapes_it_and_kube_prometheus_rules_evaluate(
    sim: SimulatorProcess, exporter: Exporter, tmp_path: Path
) -> None:
    rules = []
    for name in ("kubeStateMetrics-prometheusRule.yaml", "kubernetesControlPlane-prometheusRule.yaml"):
        doc = yaml.safe_load((KUBE_PROMETHEUS / name).read_text())
        out = tmp_path / f"{name}.rules.yaml"
        out.write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}))
        rules.append(str(out))
    scrape = [
        {
            "job_name": "kube-state-metrics",
            "honor_labels": True,
            "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"]}],
        },
        {
            "job_name": "kube-state-metrics-telemetry",
            "static_configs": [{"targets": [f"127.0.0.1:{exporter.tport}"]}],
        },
    ]
    pods = sim.request("GET", "/api/v1/pods")["items"]
    nodes = sim.request("GET", "/api/v1/nodes")["items"]
    with prometheus(tmp_path, scrape, rules) as prom:
        target = prom.wait_scraped("kube-state-metrics")
        assert target["lastError"] == ""
        assert prom.value('count(kube_pod_info{job="kube-state-metrics"})') == len(pods)
        assert prom.value('sum(kube_node_status_condition{condition="Ready",status="true"})') == sum(
            1
            for n in nodes
            for c in n["status"]["conditions"]
            if c["type"] == "Ready" and c["status"] == "True"
        )
        running = sum(1 for p in pods if p["status"].get("phase") == "Running")
        assert prom.value('sum(kube_pod_status_phase{phase="Running"})') == running
        # kubernetes-mixin recording rules built purely on state metrics produce series
        deadline = time.monotonic() + 30
        while True:
            got = prom.query('namespace_workload_pod:kube_pod_owner:relabel{workload_type="deployment"}')
            if got:
                break
            assert time.monotonic() < deadline, "recording rules produced nothing"
            time.sleep(1)
        groups = prom.api("rules")["groups"]
        bad = [
            (g["name"], r.get("name"), r.get("lastError"))
            for g in groups
            for r in g["rules"]
            if r.get("health") == "err"
        ]
        assert bad == []
        # no KubeStateMetrics* alert fires on a healthy exporter
        alerts = prom.api("alerts")["alerts"]
        assert [a for a in alerts if a["labels"]["alertname"].startswith("KubeStateMetrics")] == []


def test_shards_partition_the_objects_exactly(
    sim: SimulatorProcess, exporter: Exporter, tmp_path: Path
) -> None:
    shards = [Exporter(sim, tmp_path, f"--shard={i}", "--total-shards=3") for i in range(3)]
    try:
        union = sorted(line for s in shards for line in samples(s.text()))
        assert union == samples(exporter.text())
        for i, s in enumerate(shards):
            tel = urllib.request.urlopen(f"http://127.0.0.1:{s.tport}/metrics", timeout=10).read().decode()
            # values as KSM (client_golang) writes them: 0, 3, not 0.0, 3.0
            assert f'kube_state_metrics_shard_ordinal{{shard_ordinal="{i}"}} {i}\n' in tel
            assert "kube_state_metrics_total_shards 3\n" in tel
    finally:
        for s in shards:
            s.stop()


def test_config_file_is_applied_again_when_it_changes(sim: SimulatorProcess, tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"resources": {"nodes": {}}}))
    e = Exporter(sim, tmp_path, f"--config={cfg}")
    try:
        assert "kube_node_info{" in e.text() and "kube_pod_info{" not in e.text()
        cfg.write_text(
            yaml.safe_dump({"resources": {"nodes": {}, "pods": {}}, "metric_denylist": ["kube_pod_ips"]})
        )
        deadline = time.monotonic() + 30
        while "kube_pod_info{" not in e.text():
            assert time.monotonic() < deadline, "config change not applied:\n" + e.log.read_text()
            time.sleep(0.3)
        assert "kube_pod_ips" not in e.text()
        tel = urllib.request.urlopen(f"http://127.0.0.1:{e.tport}/metrics", timeout=10).read().decode()
        assert (
            f'kube_state_metrics_last_config_reload_successful{{filename="{cfg}",type="config"}} 1\n' in tel
        )
    finally:
        e.stop()


def test_print_rbac_matches_the_resources(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubescope",
            "state-metrics",
            "--print-rbac",
            "--resources=pods,deployments",
            "--auth-filter",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    role = yaml.safe_load(out.stdout)
    assert {(tuple(r["apiGroups"]), tuple(r["resources"])) for r in role["rules"]} == {
        (("",), ("pods",)),
        (("apps",), ("deployments",)),
        (("authentication.k8s.io",), ("tokenreviews",)),
        (("authorization.k8s.io",), ("subjectaccessreviews",)),
    }


def test_invalid_flag_stops_start_up_naming_it() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kubescope", "state-metrics", "--resources=pods,frobs"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "--resources" in out.stderr and "frobs" in out.stderr and "known resources" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "kubescope", "state-metrics", "--metric-labels-allowlist=pods=app"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "--metric-labels-allowlist" in out.stderr, out.stderr


def test_telemetry_reports_kubescope_counters(exporter: Exporter) -> None:
    tel = urllib.request.urlopen(f"http://127.0.0.1:{exporter.tport}/metrics", timeout=10).read().decode()
    for name in (
        "kube_state_metrics_build_info",
        "kube_state_metrics_list_total{",
        "kubescope_state_objects{",
        "kubescope_state_bytes_held{",
        "kubescope_state_dense_members_total{",
        "http_request_duration_seconds_bucket{",
    ):
        assert name in tel, name
    json.dumps(tel)  # plain text, no binary
