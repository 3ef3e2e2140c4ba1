"""Console benchmark: the pods list, a 14-day chart, interactivity in a real browser, the console's RSS.

    .venv/bin/python benchmarks/console.py [--json OUT] [--nodes 1000] [--pods-per-node 30]

The stack is the demo's, at the given size: the simulator with its kubelets, kubescope
resource-metrics registered as the Metrics API, kubescope history serving a store backfilled with 15
days of a small fleet (its Deployments created in the simulator so the console knows them), and
``kubescope console`` as its own process, polling the Metrics API every 15 s. Figures (issue 11's
targets beside them):

* ``pods_page_s``: ``GET /pods`` (the first page: 50 pods with current CPU and memory and two
  15-minute sparklines each, out of every pod in the cluster), median of 20, measured by the client
  on loopback (the server's time plus a loopback round trip); ``pods_page_sorted_s`` the same sorted
  by CPU (``?sort=-cpu``): every pod's current usage compared;
* ``interactive_s``: the same page in Debian's Chromium (headless, Selenium): ``domInteractive`` of
  the navigation, median of 5;
* ``chart_14d_s``: ``GET /api/charts/workloads/.../deployments/...?metric=cpu&range=14d`` (usage,
  requests and limits at 80-minute steps from history, through the simulator's aggregation layer),
  median of 10;
* ``rss_mib``: the console process' peak resident memory over the run (sampled every second).

The machine's load moves these figures; the calibration is the median of repeated requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from kubescope.demo.apiservices import register_api
from kubescope.history.backfill import backfill
from kubescope.history.series import CPU_UNIT, PodInfo
from kubescope.history.store import DAY, HistoryStore
from kubescope.sim import fleet as simfleet
from kubescope.sim.process import SimulatorProcess

FLOORS = {
    "pods_page_s": ("<=", 0.300),
    "interactive_s": ("<=", 1.0),
    "chart_14d_s": ("<=", 0.100),
    "rss_mib": ("<=", 150),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def timed(url: str, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, body = get(url)
        times.append(time.perf_counter() - t0)
        assert status == 200, (url, status, body[:300])
    return statistics.median(times)


def child(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kubescope", *args], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 900) -> None:
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{what} exited"
        try:
            with urllib.request.urlopen(url, timeout=5, context=ctx) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{what} not ready after {timeout:.0f}s")


def sparkline_points(page: str) -> int:
    """The most points any sparkline on a list page draws."""
    runs = re.findall(r'<polyline points="([^"]*)"', page)
    return max((len(r.split()) for r in runs), default=0)


def history_store(path: Path) -> list[tuple[str, str]]:
    """15 days of 4 Deployments x 2 pods, backfilled at a minute's resolution up to now; returns
    the workloads (namespace, name)."""
    now = int(time.time())
    t0 = now - 15 * DAY
    fl = simfleet.build(4, replicas=2, t0=t0, t1=now, seed=5, nodes=2, rollout_days=0)
    pods = [
        PodInfo(p.namespace, p.name, p.uid, p.node, p.owner_kind, p.owner_name,
                tuple((c, round(cr * CPU_UNIT), None, mr, None) for c, cr, mr in p.containers))
        for p in fl.pods
    ]  # fmt: skip
    store = HistoryStore(path)
    backfill(store, pods, fl.pod_of, fl.names, simfleet.cycles(fl, t0, now, 60))
    store.close()
    return sorted({(p.namespace, p.owner_name) for p in fl.pods if p.owner_kind == "Deployment"})


def create_workloads(sim: SimulatorProcess, workloads: list[tuple[str, str]]) -> None:
    for ns in {ns for ns, _ in workloads}:
        sim.request(
            "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        )
    for ns, name in workloads:
        sim.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c0", "image": "app"}]}}},
        })  # fmt: skip


def interactive(url: str, tmp: Path, n: int = 5) -> float:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp / 'chromium'}"):  # fmt: skip
        o.add_argument(flag)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        d.get(url)  # warm: the browser's own start-up is not the page's
        got = []
        for _ in range(n):
            d.get(url)
            got.append(
                d.execute_script("return performance.getEntriesByType('navigation')[0].domInteractive") / 1000
            )
        return statistics.median(got)
    finally:
        d.quit()


class PeakRSS(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default="", help="write the figures here as JSON")
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    args = ap.parse_args()
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        print("interactive_s needs Debian's chromium and chromium-driver (scripts/apt-deps)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="kubescope-console-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    t_start = time.monotonic()
    print(
        f"building a 15-day history store and starting a {args.nodes} x {args.pods_per_node} simulator...",
        file=sys.stderr,
    )
    workloads = history_store(tmp / "history.db")
    sim = SimulatorProcess(nodes=args.nodes, pods_per_node=args.pods_per_node, churn_rate=0, tls=True,
                           extra_args=["--kubelet-housekeeping=10"])  # fmt: skip
    try:
        sim.start()
        create_workloads(sim, workloads)
        kc = sim.kubeconfig
        rm_port, h_port, c_port = free_port(), free_port(), free_port()
        procs.append(child(["resource-metrics", f"--kubeconfig={kc}", "--bind-address=127.0.0.1", f"--secure-port={rm_port}",
                            f"--cert-dir={tmp / 'rm-certs'}", "--metric-resolution=15s", "--kubelet-use-node-status-port",
                            f"--kubelet-certificate-authority={sim.ca_file}", "--kubelet-preferred-address-types=InternalIP"],
                           tmp / "resource-metrics.log"))  # fmt: skip
        procs.append(child(["history", f"--kubeconfig={kc}", f"--db={tmp / 'history.db'}", "--no-record",
                            "--bind-address=127.0.0.1", f"--secure-port={h_port}", f"--cert-dir={tmp / 'h-certs'}",
                            f"--requestheader-client-ca-file={Path(sim.ca_file).parent / 'front-proxy-ca.crt'}"],
                           tmp / "history.log"))  # fmt: skip
        asyncio.run(
            register_api(kc, "kubescope-resource-metrics", rm_port, "metrics.k8s.io", ("v1", "v1beta1"))
        )
        asyncio.run(register_api(kc, "kubescope-history", h_port, "history.kubescope.io", ("v1alpha1",)))
        console = child(["console", f"--kubeconfig={kc}", "--host=127.0.0.1", f"--port={c_port}", "--usage-interval=15s"],
                        tmp / "console.log")  # fmt: skip
        procs.append(console)
        peak = PeakRSS(console.pid)
        peak.start()
        base = f"http://127.0.0.1:{c_port}"
        wait(base + "/readyz", console, "console")
        print("console ready; waiting for three polls of the Metrics API...", file=sys.stderr)
        # the sparklines come from the console's own 15-minute ring (the charts from history, which
        # here holds the backfilled fleet, not this cluster): wait until they have three points
        deadline = time.monotonic() + 600
        while sparkline_points(get(base + "/pods")[1].decode()) < 3:
            assert time.monotonic() < deadline, "no usage after 10 minutes (see the logs in " + str(tmp) + ")"
            time.sleep(3)
        page = get(base + "/pods")[1].decode()
        assert f"({args.nodes * args.pods_per_node}" in page or "in all)" in page
        ns, name = workloads[0]
        chart_url = f"{base}/api/charts/workloads/{ns}/deployments/{name}?metric=cpu&range=14d"
        body = json.loads(get(chart_url)[1])
        assert body["source"] == "history", body.get("notes")
        points = sum(v is not None for v in body["series"][0]["values"])
        figures: dict[str, Any] = {
            "pods_page_s": timed(base + "/pods", 20),
            "pods_page_sorted_s": timed(base + "/pods?sort=-cpu", 20),
            "chart_14d_s": timed(chart_url, 10),
            "chart_14d_points": points,
            "interactive_s": interactive(base + "/pods", tmp),
        }
        time.sleep(2)
        peak.stop.set()
        figures["rss_mib"] = round(peak.peak / 2**20, 1)
        figures["pods"] = args.nodes * args.pods_per_node
        figures["setup_s"] = round(time.monotonic() - t_start, 1)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        sim.stop()
    for key, (op, floor) in FLOORS.items():
        v = figures[key]
        ok = v <= floor if op == "<=" else v >= floor
        print(f"{key:22} {v:>10.4g}   target {op} {floor:g}   {'ok' if ok else 'MISSED'}")
    for key in ("pods_page_sorted_s", "chart_14d_points", "pods", "setup_s"):
        print(f"{key:22} {figures[key]:>10.4g}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
