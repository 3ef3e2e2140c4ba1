"""The history benchmark's pod question asked of the real Prometheus and VictoriaMetrics (``--backends``).

The same simulated fleet the embedded store was backfilled with becomes the kubelets' cAdvisor
series (``container_cpu_usage_seconds_total`` as a counter integrating each minute's CPU,
``container_memory_working_set_bytes``, with kube-prometheus' ``job``/``metrics_path`` labels), one
sample a minute for 15 days: loaded into Prometheus with ``promtool tsdb create-blocks-from
openmetrics`` (Prometheus' own backfill) and into VictoriaMetrics with its
``/api/v1/import/prometheus``. Each then answers one pod's CPU over 14 days at 5 minutes through
``--prometheus-url`` (:class:`kubescope.history.promsource.PromBackend`): median wall time of 5,
and the largest relative difference of its points from the embedded store's.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from kubescope.history.pods import PodCatalog
from kubescope.history.promql import KUBE_PROMETHEUS_SELECTOR, PromQLSettings
from kubescope.history.promsource import BackendSettings, PromBackend
from kubescope.history.request import Range, Target
from kubescope.history.store import DAY
from kubescope.sim import fleet as simfleet

LABELS = 'job="kubelet",metrics_path="/metrics/cadvisor"'


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _series_text(fl: simfleet.Fleet, t0: int, t1: int, *, openmetrics: bool) -> Iterator[str]:
    """Every container's two series, one series after the other (OpenMetrics wants each family
    whole), timestamps in seconds (OpenMetrics) or milliseconds (VictoriaMetrics' text import)."""
    cpu: dict[int, list[tuple[int, float]]] = {}
    mem: dict[int, list[tuple[int, int]]] = {}
    total: dict[int, float] = {}
    for cyc in simfleet.cycles(fl, t0, t1, 60):
        for i, c, m in zip(cyc.idx.tolist(), cyc.cpu.tolist(), cyc.mem.tolist(), strict=True):
            total[i] = total.get(i, 0.0) + c * 60
            cpu.setdefault(i, []).append((cyc.t, total[i]))
            mem.setdefault(i, []).append((cyc.t, int(m)))

    def labels(i: int) -> str:
        p = fl.pods[int(fl.pod_of[i])]
        return (f'{{{LABELS},namespace="{p.namespace}",pod="{p.name}",container="{fl.names[i]}",'
                f'id="/kubepods/pod{p.uid}/{fl.names[i]}",image="app",node="{p.node}"}}')  # fmt: skip

    def stamp(t: int) -> str:
        return str(t) if openmetrics else str(t * 1000)

    if openmetrics:
        yield "# TYPE container_cpu_usage_seconds counter\n"
    for i, rows in cpu.items():
        lab = labels(i)
        yield "".join(f"container_cpu_usage_seconds_total{lab} {v:.6f} {stamp(t)}\n" for t, v in rows)
    if openmetrics:
        yield "# TYPE container_memory_working_set_bytes gauge\n"
    for i, mrows in mem.items():
        lab = labels(i)
        yield "".join(f"container_memory_working_set_bytes{lab} {v} {stamp(t)}\n" for t, v in mrows)
    if openmetrics:
        yield "# EOF\n"


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not start")


@contextmanager
def _prometheus(d: Path, fl: simfleet.Fleet, t0: int, t1: int) -> Iterator[str]:
    om = d / "cadvisor.om"
    with om.open("w") as f:
        f.writelines(_series_text(fl, t0, t1, openmetrics=True))
    data = d / "prom-data"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", str(om), str(data)],
                   check=True, capture_output=True, timeout=1800)  # fmt: skip
    (d / "prom.yml").write_text("global: {}\n")
    port = _port()
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={d / 'prom.yml'}", f"--storage.tsdb.path={data}",
         "--storage.tsdb.retention.time=20y", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/-/ready", proc, "prometheus")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def _victoria_metrics(d: Path, fl: simfleet.Fleet, t0: int, t1: int) -> Iterator[str]:
    port = _port()
    proc = subprocess.Popen(
        ["victoria-metrics", f"-storageDataPath={d / 'vm-data'}", f"-httpListenAddr=127.0.0.1:{port}",
         "-retentionPeriod=100y", "-search.latencyOffset=0s", "-loggerLevel=WARN"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/health", proc, "victoria-metrics")
        for chunk in _series_text(fl, t0, t1, openmetrics=False):
            req = urllib.request.Request(
                url + "/api/v1/import/prometheus", data=chunk.encode(), method="POST"
            )
            with urllib.request.urlopen(req, timeout=300) as r:
                r.read()
        with urllib.request.urlopen(url + "/internal/force_flush", timeout=60) as r:
            r.read()
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def _ask(url: str, ns: str, pod: str, now: int) -> tuple[float, dict[str, Any]]:
    async def run() -> tuple[float, dict[str, Any]]:
        backend = PromBackend(
            BackendSettings(url, timeout=120, promql=PromQLSettings(KUBE_PROMETHEUS_SELECTOR, "node", 60)),
            PodCatalog(),
        )
        target = Target("pod", ns, (pod,))
        rng = Range(now - 14 * DAY, now, 300)
        try:
            body = await backend.points(target, "cpu/usage_rate", rng, now)
            times = []
            for _ in range(5):
                t = time.perf_counter()
                await backend.points(target, "cpu/usage_rate", rng, now)
                times.append(time.perf_counter() - t)
        finally:
            await backend.close()
        return statistics.median(times), body

    return asyncio.run(run())


def _diff(ours: dict[str, float], body: dict[str, Any]) -> float:
    theirs = {x["timestamp"]: x["value"] for x in body["metricPoints"]}
    both = [k for k in ours if k in theirs and ours[k]]
    if len(both) < 0.95 * len(ours):
        return float("inf")
    return float(np.max([abs(theirs[k] - ours[k]) / abs(ours[k]) for k in both]))


def pod_14d(
    d: Path, fl: simfleet.Fleet, t0: int, now: int, ns: str, pod: str, ours: dict[str, float]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, start in (("prometheus", _prometheus), ("victoria_metrics", _victoria_metrics)):
        if shutil.which(name.replace("_", "-")) is None:
            print(f"{name.replace('_', '-')} is not installed (scripts/apt-deps): skipped")
            continue
        with tempfile.TemporaryDirectory(dir=d) as tmp, start(Path(tmp), fl, t0, now) as url:
            seconds, body = _ask(url, ns, pod, now)
            out[f"pod_14d_query_s_{name}"] = seconds
            out[f"pod_14d_{name}_max_rel_diff"] = _diff(ours, body)
    return out
