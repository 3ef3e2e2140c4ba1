"""kube-prometheus' kube-state-metrics alerts, unchanged, on what deploy/'s ServiceMonitor makes of
our output: two state-metrics shards (as the autosharding StatefulSet runs them) against the
simulator, scraped by a real Prometheus through the scrape configs the Prometheus Operator generates
from deploy/state-metrics/prometheus-operator/service-monitor.yaml, with the rule file of
tests/data/kube-prometheus (a copy of ../shared/data/kube-prometheus) loaded.

Every series selector of every alert must select series from both endpoints (metrics and
telemetry), and the alerts must go pending when their condition happens: a missing shard, failing
lists and watches.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubescope.sim.process import SimulatorProcess
from tests.deploy import manifests as m
from tests.deploy.servicemonitor import scrape_configs
from tests.integration.exporter import Exporter
from tests.integration.prom import Prometheus, prometheus
from tests.simfixtures import simulator

pytestmark = [pytest.mark.slow, pytest.mark.external]

RULES = (
    Path(__file__).resolve().parents[1] / "data" / "kube-prometheus" / "kubeStateMetrics-prometheusRule.yaml"
)
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")


def alerts() -> dict[str, str]:
    doc = yaml.safe_load(RULES.read_text())
    return {r["alert"]: r["expr"] for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r}


def rule_file(tmp: Path) -> str:
    doc = yaml.safe_load(RULES.read_text())
    path = tmp / "kube-state-metrics.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}))
    return str(path)


sim = simulator(nodes=3, pods_per_node=4, seed=21, kubelets=False)


@pytest.fixture(scope="module")
def shards(sim: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Exporter]]:
    tmp = tmp_path_factory.mktemp("shards")
    es = [Exporter(sim, tmp, f"--shard={i}", "--total-shards=2") for i in range(2)]
    yield es
    for e in es:
        e.stop()


def operator_scrape_configs(shards: list[Exporter]) -> list[dict[str, Any]]:
    docs = m.load()
    sm = next(d for d in docs if d.kind == "ServiceMonitor" and d.name == "kubescope-state-metrics")
    svc = m.find(docs, "Service", "kubescope-state-metrics", "kube-system")
    assert svc is not None
    targets = [
        (
            f"kubescope-state-metrics-{i}",
            {"http-metrics": f"127.0.0.1:{e.port}", "telemetry": f"127.0.0.1:{e.tport}"},
        )
        for i, e in enumerate(shards)
    ]
    return scrape_configs(sm, svc, targets)


def wait_all_up(prom: Prometheus, n: int, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        targets = prom.targets()
        if len(targets) == n and all(t["health"] == "up" for t in targets):
            return targets
        assert time.monotonic() < deadline, f"targets not all up: {targets}"
        time.sleep(0.5)


def wait_for(prom: Prometheus, expr: str, what: str, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        got = prom.query(expr)
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: {expr} stayed empty"
        time.sleep(0.5)


def test_alert_selectors_match_both_endpoints_and_alerts_fire(
    sim: SimulatorProcess, shards: list[Exporter], tmp_path: Path
) -> None:
    configs = operator_scrape_configs(shards)
    with prometheus(tmp_path, configs, [rule_file(tmp_path)]) as prom:
        targets = wait_all_up(prom, 4)
        time.sleep(3)  # a few samples, for rate()
        jobs = {(t["scrapePool"], t["labels"]["job"]) for t in targets}
        assert {job for _, job in jobs} == {"kube-state-metrics"}, (
            f"the ServiceMonitor's endpoints get these job labels: {sorted(jobs)}; kube-prometheus' "
            'rules select job="kube-state-metrics" on both'
        )
        # every selector of every alert selects series, from the endpoint that exports them
        for name, expr in alerts().items():
            for metric, labels in SELECTOR.findall(expr):
                got = prom.query(f"count({metric}{{{labels}}})")
                assert got, f"{name}: {metric}{{{labels}}} selects nothing"
        # a healthy pair of shards fires nothing
        assert prom.query('ALERTS{alertname=~"KubeStateMetrics.*"}') == []
        # a shard goes away: its series go stale, the shards no longer add up
        shards[1].stop()
        wait_for(prom, 'ALERTS{alertname="KubeStateMetricsShardsMissing"}', "ShardsMissing pending", 60)
        # lists and watches fail: watches are cut, half the requests fail, every new watch gets 410
        sim.faults(error_fraction=0.5, error_code=500, drop_watches=True, gone_next_watches=10000)
        try:
            for alert in ("KubeStateMetricsWatchErrors", "KubeStateMetricsListErrors"):
                wait_for(prom, f'ALERTS{{alertname="{alert}"}}', f"{alert} pending", 90)
        finally:
            sim.faults(reset=True)
