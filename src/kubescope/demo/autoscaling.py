"""The demo's autoscaling on application metrics: Prometheus (when installed) and
``kubescope custom-metrics`` in front of it (:mod:`kubescope.custom_metrics.showcase`)."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubescope.demo.children import PROMETHEUS_LISTENING, Child, serving, wait_http

progress = logging.getLogger("kubescope.progress")


def start_autoscaling(
    sim: Any, kubeconfig: str, workdir: Path, logdir: Path, children: list[Child], stopped: Callable[[], bool]
) -> Any:
    """Prometheus (when installed) scraping the application metrics of a demo Deployment, and
    ``kubescope custom-metrics`` serving them to its HorizontalPodAutoscaler
    (:mod:`kubescope.custom_metrics.showcase`)."""
    from kubescope.custom_metrics import showcase
    from kubescope.sim.appmetrics import scrape_config

    prometheus = shutil.which("prometheus")
    if prometheus is None:
        progress.info(
            "prometheus is not installed (apt-get install prometheus): no custom metrics, no autoscaling"
        )
        return showcase.Off()
    targets = sim.request("GET", "/_sim/appmetrics")["targets_url"]
    config = workdir / "prometheus.yml"
    config.write_text(showcase.prometheus_config(scrape_config(targets, interval="5s")))
    # at info, Prometheus says where it listens (a handful of lines at start, then quiet)
    server = Child(
        "prometheus",
        [f"--config.file={config}", f"--storage.tsdb.path={workdir / 'prometheus'}",
         "--web.listen-address=127.0.0.1:0", "--log.level=info"],
        logdir,
        program=[prometheus],
    )  # fmt: skip
    children.append(server)
    prom_port = server.bound_port(PROMETHEUS_LISTENING, 120, stopped)
    (workdir / "custom-metrics.yaml").write_text(showcase.ADAPTER_CONFIG)
    adapter = Child("custom-metrics", showcase.adapter_args(kubeconfig, 0, workdir, prom_port), logdir)
    children.append(adapter)
    port = adapter.bound_port(serving("custom-metrics", "https"), 120, stopped)
    asyncio.run(showcase.register(kubeconfig, port))
    wait_http(f"https://127.0.0.1:{port}/livez", adapter, 120, "custom-metrics", stopped)
    wait_http(f"http://127.0.0.1:{prom_port}/-/ready", server, 120, "prometheus", stopped)
    return showcase.On(f"http://127.0.0.1:{prom_port}", f"https://127.0.0.1:{port}")
