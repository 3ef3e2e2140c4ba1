"""Real Prometheus-compatible backends scraping the simulated kubelets' ``/metrics/cadvisor``.

Both get the scrape config kube-prometheus' kubelet ServiceMonitor amounts to: ``job="kubelet"``,
``metrics_path="/metrics/cadvisor"``, the node's name under ``node``, HTTPS with the cluster's CA and
a bearer token. VictoriaMetrics (Debian ``victoria-metrics``) reads the same Prometheus scrape
config with its ``-promscrape.config``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from kubescope.sim.process import SimulatorProcess
from tests.childserver import child_server
from tests.integration.prom import need, prometheus
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
    argv = [binary, f"-promscrape.config={cfg}", f"-storageDataPath={tmp / 'data'}",
            "-httpListenAddr=127.0.0.1:0", "-search.latencyOffset=0s", "-loggerLevel=WARN"]  # fmt: skip
    with child_server("victoria-metrics", argv, tmp / "victoria-metrics.log") as server:
        url = f"http://127.0.0.1:{server.listening_port()}"
        server.wait_ready(url + "/health")
        yield url


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
