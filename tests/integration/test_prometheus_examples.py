"""deploy/prometheus/ checked by promtool and put to work: the plain-Prometheus scrape configs and
kubescope's alert rules on a real Prometheus, scraping a real state-metrics and resource-metrics
against the simulator.

Debian's Prometheus is built without Kubernetes service discovery, so each ``kubernetes_sd_configs``
is replaced by static targets carrying the ``__meta_kubernetes_*`` labels Kubernetes discovery would
give them; everything else in the example (relabelling, scheme, TLS, credentials file, rule file)
is used as written.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubescope.sim.process import SimulatorProcess
from tests.childserver import start_server
from tests.integration.exporter import Exporter
from tests.integration.prom import Prometheus, need, prometheus

pytestmark = [pytest.mark.slow, pytest.mark.external]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "deploy" / "prometheus"
RULES = EXAMPLES / "kubescope-alerts.rules.yml"
UNIT_TESTS = EXAMPLES / "kubescope-alerts.test.yml"
STATE_TOKEN, PROM_TOKEN = "state-metrics-token", "prometheus-token"
TARGET_LABELS = {"job", "instance", "endpoint", "exporter_pod", "pod"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [need("promtool"), *args], capture_output=True, text=True, timeout=120, cwd=EXAMPLES
    )


def test_promtool_checks_the_rules_and_runs_their_unit_tests() -> None:
    out = promtool("check", "rules", RULES.name)
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr
    out = promtool("test", "rules", UNIT_TESTS.name)
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    tested = {
        t["alertname"]
        for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
        for t in case["alert_rule_test"]
    }
    assert alerts == tested, f"alerts without a unit test: {alerts - tested}"


def example() -> dict[str, Any]:
    cfg: dict[str, Any] = yaml.safe_load((EXAMPLES / "prometheus.yml").read_text())
    return cfg


def with_static_targets(
    cfg: dict[str, Any], targets: dict[str, list[dict[str, Any]]], token_file: Path
) -> dict[str, Any]:
    """The example with each job's Kubernetes discovery replaced by ``targets[job]`` (static
    configs with the discovery's meta labels), the rule file by its absolute path, the service
    account token by ``token_file``."""
    cfg = copy.deepcopy(cfg)
    cfg["rule_files"] = [str(EXAMPLES / f) for f in cfg["rule_files"]]
    for job in cfg["scrape_configs"]:
        sd = job.pop("kubernetes_sd_configs")
        assert sd == [{"role": "endpoints", "namespaces": {"names": ["kube-system"]}}], sd
        job["static_configs"] = targets[job["job_name"]]
        if "authorization" in job:
            assert (
                job["authorization"]["credentials_file"]
                == "/var/run/secrets/kubernetes.io/serviceaccount/token"
            )
            job["authorization"]["credentials_file"] = str(token_file)
    return cfg


def endpoint(address: str, service: str, port_name: str, pod: str) -> dict[str, Any]:
    return {
        "targets": [address],
        "labels": {
            "__meta_kubernetes_namespace": "kube-system",
            "__meta_kubernetes_service_name": service,
            "__meta_kubernetes_endpoint_port_name": port_name,
            "__meta_kubernetes_pod_name": pod,
        },
    }


def test_promtool_checks_the_scrape_config(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("x")
    cfg = with_static_targets(
        example(),
        {
            "kube-state-metrics": [endpoint("10.0.1.7:8080", "kubescope-state-metrics", "http-metrics", "p")],
            "kubescope-resource-metrics": [
                endpoint("10.0.2.4:10250", "kubescope-resource-metrics", "https", "p")
            ],
        },
        token,
    )
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg))
    out = subprocess.run(
        [need("promtool"), "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def auth_file(tmp: Path) -> Path:
    """The simulator's policy: state-metrics' token with deploy/'s ClusterRole minus secrets (so one
    resource never syncs), Prometheus' token with deploy/prometheus/rbac.yaml's ClusterRole."""
    role = yaml.safe_load((REPO / "deploy" / "state-metrics" / "cluster-role.yaml").read_text())
    state_rules = [
        {"users": ["state"], **r, "resources": [x for x in r["resources"] if x != "secrets"]}
        for r in role["rules"]
    ]
    reader = next(
        d for d in yaml.safe_load_all((EXAMPLES / "rbac.yaml").read_text()) if d["kind"] == "ClusterRole"
    )
    prom_rules = [{"users": ["prometheus"], **r} for r in reader["rules"]]
    path = tmp / "auth.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "tokens": [
                    {"token": STATE_TOKEN, "user": "state"},
                    {"token": PROM_TOKEN, "user": "prometheus"},
                ],
                "rules": state_rules + prom_rules,
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    tmp = tmp_path_factory.mktemp("sim")
    with SimulatorProcess(
        nodes=3,
        pods_per_node=4,
        seed=31,
        extra_args=[f"--auth-file={auth_file(tmp)}", "--kubelet-housekeeping=1"],
    ) as s:
        yield s


def token_kubeconfig(sim: SimulatorProcess, tmp: Path) -> str:
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for u in cfg["users"]:
        u["user"] = {"token": STATE_TOKEN}
    path = tmp / "state.kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


class ResourceMetrics:
    def __init__(self, sim: SimulatorProcess, tmp: Path) -> None:
        self.log = tmp / "resource-metrics.log"
        self.server = start_server(
            "resource-metrics",
            [
                sys.executable, "-m", "kubescope", "resource-metrics", f"--kubeconfig={sim.kubeconfig}",
                "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={tmp / 'certs'}",
                "--kubelet-use-node-status-port", "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-insecure-tls", "--metric-resolution=2s", "--kubelet-request-timeout=1s",
                "--testing-allow-short-metric-resolution",
            ],
            self.log,
        )  # fmt: skip
        self.proc = self.server.proc
        self.port = self.server.listening_port()

    def stop(self) -> None:
        self.server.stop()


def wait_for(prom: Prometheus, expr: str, what: str, timeout: float = 90) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        got = prom.query(expr)
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: {expr} stayed empty"
        time.sleep(0.5)


def unit_test_series() -> dict[str, set[frozenset[str]]]:
    """Metric name -> the label-name sets (target labels left out) of the unit tests' input series."""
    out: dict[str, set[frozenset[str]]] = {}
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for s in case["input_series"]:
            m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}", s["series"])
            assert m is not None, s
            labels = {kv.split("=", 1)[0] for kv in re.findall(r'[a-zA-Z_]+="[^"]*"', m[2])}
            out.setdefault(m[1], set()).add(frozenset(labels - TARGET_LABELS))
    return out


def list_pod_metrics(sim: SimulatorProcess, rm: ResourceMetrics) -> None:
    """One resource request to resource-metrics' Metrics API (LIST pods.metrics.k8s.io v1beta1 in a
    namespace, as ``kubectl top pod`` asks it), so ``apiserver_request_total`` has a series with a
    group, version, resource and scope: the series the unit tests' apiserver_request_total stands for.
    Until then it may hold non-resource requests only (a probe), whose empty labels Prometheus drops.
    Then one readiness probe, the other shape the unit tests give it."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # its self-signed serving certificate
    req = urllib.request.Request(
        f"https://127.0.0.1:{rm.port}/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods",
        headers={"Authorization": f"Bearer {sim.token}"},
    )
    with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
        assert r.status == 200, f"{r.status}: {r.read()[:500]!r}\n{rm.log.read_text()[-2000:]}"
        assert json.load(r)["kind"] == "PodMetricsList"
    # and a kubelet's readiness probe (counted by path, no component and no resource: the unit tests'
    # failing /readyz series, which the Metrics API error alert must leave out)
    with urllib.request.urlopen(f"https://127.0.0.1:{rm.port}/readyz", timeout=30, context=ctx) as r:
        assert r.status == 200, f"{r.status}: {r.read()[:500]!r}\n{rm.log.read_text()[-2000:]}"


def exported_like_the_unit_tests(
    prom: Prometheus, name: str, shapes: set[frozenset[str]], counted: bool, timeout: float = 90
) -> None:
    """Each label set the unit tests give ``name`` is carried whole by some series Prometheus scraped
    (each series on its own: a union over series would pass with no series shaped like the tests').
    ``counted``: the test made it count, so its series must come (else a declared family will do)."""
    deadline = time.monotonic() + timeout
    while True:
        series = prom.query(f'{{__name__="{name}"}}')
        got = [frozenset(s["metric"]) - TARGET_LABELS - {"__name__"} for s in series]
        missing = [set(shape) for shape in shapes if not any(shape <= g for g in got)]
        if not missing:
            return
        if not series and not counted:  # a counter that has not counted yet: its family is declared
            assert prom.api("metadata", metric=name), f"{name}: no exporter writes it"
            return
        assert time.monotonic() < deadline, (
            f"{name}: no series carries all of the unit tests' labels {missing}; "
            f"the exporters write series with {sorted(map(sorted, set(got)))}"
        )
        time.sleep(0.5)


def test_the_examples_scrape_real_processes_and_the_alerts_fire(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    state = Exporter(sim, tmp_path, kubeconfig=token_kubeconfig(sim, tmp_path), ready_timeout=0)
    rm = ResourceMetrics(sim, tmp_path)
    token = tmp_path / "prometheus-token"
    token.write_text(PROM_TOKEN)
    targets = {
        "kube-state-metrics": [
            endpoint(f"127.0.0.1:{state.port}", "kubescope-state-metrics", "http-metrics", "ksm-0"),
            endpoint(f"127.0.0.1:{state.tport}", "kubescope-state-metrics", "telemetry", "ksm-0"),
            endpoint(
                "127.0.0.1:1", "some-other-service", "http-metrics", "other-0"
            ),  # dropped by relabelling
        ],
        "kubescope-resource-metrics": [
            endpoint(f"127.0.0.1:{rm.port}", "kubescope-resource-metrics", "https", "rm-0"),
        ],
    }
    cfg = with_static_targets(example(), targets, token)
    cfg["global"] = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    try:
        with prometheus(tmp_path, cfg["scrape_configs"], cfg["rule_files"]) as prom:
            deadline = time.monotonic() + 120
            while True:
                up = {
                    (t["labels"]["job"], t["labels"].get("endpoint", "")): t["health"] for t in prom.targets()
                }
                if len(up) == 3 and set(up.values()) == {"up"}:
                    break
                assert time.monotonic() < deadline, f"targets: {prom.targets()}\n{rm.log.read_text()[-2000:]}"
                time.sleep(0.5)
            assert set(up) == {
                ("kube-state-metrics", "http-metrics"),
                ("kube-state-metrics", "telemetry"),
                ("kubescope-resource-metrics", ""),
            }
            # the unit tests' series are shaped like what the processes export
            list_pod_metrics(sim, rm)
            for name, shapes in unit_test_series().items():
                exported_like_the_unit_tests(prom, name, shapes, counted=name == "apiserver_request_total")
            # a resource never listed (secrets are forbidden to this token)
            wait_for(
                prom, 'ALERTS{alertname="KubescopeStateMetricsNotSynced",resource="secrets"}', "NotSynced"
            )
            # undecodable watch lines
            sim.faults(malformed_event=True)
            wait_for(prom, 'ALERTS{alertname="KubescopeStateMetricsDecodeErrors"}', "DecodeErrors")
            # one kubelet of three down
            sim.faults(reset=True, kubelet_down_fraction=1, kubelet_nodes="node-0001")
            wait_for(
                prom, 'ALERTS{alertname="KubescopeResourceMetricsKubeletsUnscraped"}', "KubeletsUnscraped"
            )
            sim.faults(reset=True)
            # resource-metrics goes away
            rm.stop()
            wait_for(
                prom, 'ALERTS{alertname="KubescopeTargetDown",job="kubescope-resource-metrics"}', "TargetDown"
            )
            assert prom.query('ALERTS{alertname="KubescopeTargetDown",job="kube-state-metrics"}') == []
    finally:
        state.stop()
        rm.stop()
