"""Real Prometheus-compatible backends scraping the simulated kubelets' ``/metrics/cadvisor``.

Both get the scrape config kube-prometheus' kubelet ServiceMonitor amounts to: ``job="kubelet"``,
``metrics_path="/metrics/cadvisor"``, the node's name under ``node``, HTTPS with the cluster's CA and
a bearer token. VictoriaMetrics (Debian ``victoria-metrics``) reads the same Prometheus scrape
config with its ``-promscrape.config``.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from kubescope.sim.process import SimulatorProcess
from tests.integration.prom import free_port, need, prometheus
from tests.sim.kubelets import Kubelets


def kubelet_scrape_config(sim: SimulatorProcess, token_file: Path) -> dict[str, Any]:
    nodes = Kubelets(sim).advertised()
    return {
        "job_name": "kubelet",
        "scheme": "https",
        "honor_timestamps": True,
        "metrics_path": "/metrics/cadvisor",
        "tls_config": {"ca_file": sim.ca_file},
        "authorization": {"type": "Bearer", "credentials_file": str(token_file)},
        "static_configs": [
            {"targets": [f"{ip}:{port}"], "labels": {"node": node, "metrics_path": "/metrics/cadvisor"}}
            for node, (ip, port) in sorted(nodes.items())
        ],
    }


@contextmanager
def victoria_metrics(tmp: Path, scrape_configs: list[dict[str, Any]], interval: str = "1s") -> Iterator[str]:
    """A VictoriaMetrics single-node server scraping ``scrape_configs``; yields its URL."""
    binary = need("victoria-metrics")
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / "scrape.yml"
    cfg.write_text(
        yaml.safe_dump({"global": {"scrape_interval": interval}, "scrape_configs": scrape_configs})
    )
    port = free_port()
    log = tmp / "victoria-metrics.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, f"-promscrape.config={cfg}", f"-storageDataPath={tmp / 'data'}",
             f"-httpListenAddr=127.0.0.1:{port}", "-search.latencyOffset=0s", "-loggerLevel=WARN"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"victoria-metrics did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def both_backends(tmp: Path, sim: SimulatorProcess) -> Iterator[dict[str, str]]:
    """Prometheus and VictoriaMetrics scraping every kubelet each second: ``{name: url}``."""
    token = tmp / "token"
    token.write_text(sim.token)
    scrape = [kubelet_scrape_config(sim, token)]
    (tmp / "prometheus").mkdir()
    with prometheus(tmp / "prometheus", scrape) as prom, victoria_metrics(tmp / "vm", scrape) as vm:
        prom.wait_scraped("kubelet")
        yield {"prometheus": prom.url, "victoria-metrics": vm}
