"""Benchmark ``kubescope custom-metrics`` against a real Prometheus holding application metrics from the
simulator.

    .venv/bin/python benchmarks/custom_metrics.py --json out.json

Set-up: ``kubescope simulate`` with ``--deployments`` Deployments of ``--pods-per-deployment`` pods
serving application metrics (``sim/appmetrics``: request counters, a latency histogram, queue depth:
15 series per pod), a real Prometheus (Debian ``prometheus``) scraping them every 10 s through HTTP
service discovery, and ``kubescope custom-metrics`` as a subprocess with HPA-like rules. Requests go
straight to the adapter as the aggregation layer sends them (HTTPS, the front-proxy client
certificate, ``X-Remote-User``), so the figures are the adapter's own: the user is in
``system:masters``, which authorization admits without a SubjectAccessReview (``--sar`` sends as the
HPA controller's service account instead, and the simulator's SubjectAccessReview answers, on the same
cores and busy serving the scrapes, join the figures).

Figures (targets from issue 13):

* ``discovery_s``: the adapter's series discovery (its own gauge) over ``series`` series (>= 10,000);
  floor ``prometheus_series_s``: Prometheus answering the same ``/api/v1/series`` requests;
* ``cold_p99_s``: requests for distinct keys, one at a time (each a Prometheus query); floor
  ``prometheus_query_p99_s``: Prometheus answering the same PromQL directly;
* ``cached_p99_s``: the same key again within the cache TTL;
* ``sustained_rps``: an open-loop load of ``--rate`` requests/s (150: 2,250 HPAs each asking once per
  15 s, so nearly every request misses the 15 s cache) for ``--duration`` seconds; the figure counts
  the requests answered 200 within one second, per second of the schedule (0 if any failed), with
  ``cpu_cores`` of the adapter process during that phase, ``errors``, and ``sustained_p99_s`` by
  kind of request;
* ``rss_mib``: the adapter's peak resident memory.

Everything runs on one machine: the simulator (serving 1,000+ scrapes a minute) and Prometheus share
the cores with the adapter, so latencies include their contention; ``calibration_loop_s`` at start and
end says how fast the machine was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.prom import free_port, prometheus  # noqa: E402

from kubescope.sim.appmetrics import ANNOTATION, scrape_config  # noqa: E402
from kubescope.sim.process import SimulatorProcess  # noqa: E402

HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
CONFIG = """\
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
- seriesQuery: 'app_queue_depth{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'http_request_duration_seconds_bucket{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_seconds_bucket$", as: "${1}_p99_seconds"}
  metricsQuery: 'histogram_quantile(0.99, sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (le, <<.GroupBy>>))'
externalRules:
- seriesQuery: 'app_queue_depth{namespace!="",app!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
"""
CUSTOM = "/apis/custom.metrics.k8s.io/v1beta2"
EXTERNAL = "/apis/external.metrics.k8s.io/v1beta1"


def calibration_loop_s() -> float:
    """Seconds for a fixed pure-Python loop (20 million additions): this machine's speed right now."""
    t0 = time.perf_counter()
    x = 0
    for i in range(20_000_000):
        x += i
    return time.perf_counter() - t0


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def make_cluster(
    sim: SimulatorProcess, deployments: int, pods: int, namespaces: int
) -> list[tuple[str, str, list[str]]]:
    """Deployments (annotated with a load profile) and their Running, Ready pods."""
    out = []
    for n in range(namespaces):
        sim.request(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"app-{n}"}},
        )
    for d in range(deployments):
        ns, name = f"app-{d % namespaces}", f"web-{d}"
        sim.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "annotations": {ANNOTATION: f"shape=sine,min=50,max={100 + d},period=300s,capacity=20"}},
            "spec": {"replicas": pods, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "app"}]}}},
        })  # fmt: skip
        names = []
        for i in range(pods):
            pod = f"{name}-{i:03d}"
            names.append(pod)
            sim.request("POST", f"/api/v1/namespaces/{ns}/pods", {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns, "labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "app"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            })  # fmt: skip
        out.append((ns, name, names))
    return out


def keys(cluster: list[tuple[str, str, list[str]]], count: int) -> list[str]:
    """HPA-like request paths: Pods metrics of each Deployment, external queue depth per Deployment,
    then each pod's three metrics by name."""
    out = []
    for ns, d, _ in cluster:
        sel = urllib.parse.quote(f"app={d}")
        out.append(f"{CUSTOM}/namespaces/{ns}/pods/%2A/http_requests_per_second?labelSelector={sel}")
        out.append(f"{EXTERNAL}/namespaces/{ns}/app_queue_depth?labelSelector={sel}")
    for ns, _, pods in cluster:
        for pod in pods:
            for m in ("http_requests_per_second", "app_queue_depth", "http_request_duration_p99_seconds"):
                out.append(f"{CUSTOM}/namespaces/{ns}/pods/{pod}/{m}")
    return out[:count]


class Adapter:
    def __init__(self, tmp: Path, sim: SimulatorProcess, prom_url: str, ttl: str, sar: bool) -> None:
        self.sar = sar
        self.port = free_port()
        pki = Path(sim.ca_file).parent
        (tmp / "config.yaml").write_text(CONFIG)
        self.log = tmp / "custom-metrics.log"
        argv = [
            sys.executable, "-m", "kubescope", "custom-metrics", f"--kubeconfig={sim.kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={self.port}", f"--cert-dir={tmp / 'certs'}",
            f"--config={tmp / 'config.yaml'}", f"--prometheus-url={prom_url}", "--metrics-relist-interval=1m",
            f"--cache-ttl={ttl}", f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client", "--authentication-skip-lookup",
        ]  # fmt: skip
        with self.log.open("wb") as f:
            self.proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
        self.ps = psutil.Process(self.proc.pid)
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.ctx.load_cert_chain(str(pki / "front-proxy-client.crt"), str(pki / "front-proxy-client.key"))
        self.url = f"https://127.0.0.1:{self.port}"
        self.rss_peak = 0

    def headers(self, user: str = HPA_USER) -> dict[str, str]:
        return {
            "X-Remote-User": user,
            "X-Remote-Group": "system:serviceaccounts",
            "Accept": "application/json",
        }

    def sample(self) -> None:
        self.rss_peak = max(self.rss_peak, self.ps.memory_info().rss)

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait(what: str, cond: Any, timeout: float, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = cond()
        except OSError as e:
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.5)
    tail = log.read_text()[-2000:] if log is not None else ""
    raise SystemExit(f"{what}: not reached ({last!r})\n{tail}")


async def run_load(a: Adapter, paths: list[str], args: argparse.Namespace, out: dict[str, Any]) -> None:
    conn = aiohttp.TCPConnector(limit=64, ssl=a.ctx)
    async with aiohttp.ClientSession(connector=conn) as s:

        async def get(path: str, user: str = HPA_USER) -> tuple[int, float]:
            t0 = time.perf_counter()
            async with s.get(a.url + path, headers=a.headers(user)) as r:
                await r.read()
                return r.status, time.perf_counter() - t0

        async def prom_query(q: str) -> float:
            t0 = time.perf_counter()
            async with s.get(args.prom_url + "/api/v1/query", params={"query": q}) as r:
                await r.read()
            return time.perf_counter() - t0

        # discovery: the adapter's gauge; floor: the same series requests straight to Prometheus
        async with s.get(a.url + "/metrics", headers=a.headers("bench-scraper")) as r:
            text = await r.text()
        gauges = {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line and not line.startswith("#")
        }
        out["discovery_s"] = gauges.get("kubescope_custom_metrics_discovery_duration_seconds")
        t0 = time.perf_counter()
        for sel in ('http_requests_total{namespace!="",pod!=""}', 'app_queue_depth{namespace!="",pod!=""}',
                    'http_request_duration_seconds_bucket{namespace!="",pod!=""}', 'app_queue_depth{namespace!="",app!=""}'):  # fmt: skip
            async with s.get(
                args.prom_url + "/api/v1/series", params={"match[]": sel, "start": str(time.time() - 60)}
            ) as r:
                await r.read()
        out["prometheus_series_s"] = time.perf_counter() - t0

        # cold: distinct keys one at a time; floor: the same PromQL straight to Prometheus
        # (named pods' keys: past the Deployments' selector and external keys at the head of the list)
        start = min(200, max(0, len(paths) - args.cold))
        cold, floor = [], []
        for path in paths[start : start + args.cold]:
            code, dt = await get(path)
            assert code == 200, (code, path)
            cold.append(dt)
            ns, pod, metric = path.split("/")[-4], path.split("/")[-2], path.split("/")[-1]
            if metric == "http_requests_per_second":
                floor.append(
                    await prom_query(
                        f'sum(rate(http_requests_total{{namespace="{ns}",pod="{pod}"}}[1m])) by (pod)'
                    )
                )
            a.sample()
        out["cold_p50_s"], out["cold_p99_s"] = p(cold, 0.5), p(cold, 0.99)
        out["prometheus_query_p50_s"], out["prometheus_query_p99_s"] = p(floor, 0.5), p(floor, 0.99)

        cached = []
        hot = paths[start : start + 20]
        for i in range(args.cached):
            code, dt = await get(hot[i % len(hot)])
            cached.append(dt)
        out["cached_p50_s"], out["cached_p99_s"] = p(cached, 0.5), p(cached, 0.99)

        # sustained: open loop at --rate, each key once per len(paths)/rate seconds
        lat: list[float] = []
        by_kind: dict[str, list[float]] = {}
        codes: dict[int, int] = {}
        interval = 1.0 / args.rate
        n = int(args.rate * args.duration)
        pending: set[asyncio.Task[Any]] = set()

        async def one(path: str) -> None:
            try:
                code, dt = await get(path)
            except aiohttp.ClientError:
                code, dt = 0, 0.0
            codes[code] = codes.get(code, 0) + 1
            lat.append(dt)
            kind = "external" if "/external." in path else "selector" if "%2A" in path else "named"
            by_kind.setdefault(kind, []).append(dt)

        cpu0, t0 = a.cpu(), time.perf_counter()
        for i in range(n):
            due = t0 + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(paths[i % len(paths)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
            if i % 100 == 0:
                a.sample()
        await asyncio.gather(*pending)
        wall = time.perf_counter() - t0
        # sustained: answered (200) within a second of being sent, per second of the schedule
        out["sustained_rps"] = (
            # the schedule lasts n / rate seconds (n * interval is a float a hair short of it:
            # 9,000 answers in 60 s came out as 149.99999999999997/s, printed as a missed 150)
            sum(1 for dt in lat if 0 < dt <= 1.0) / (n / args.rate) if codes.get(200) == n else 0.0
        )
        out["offered_rps"] = args.rate
        out["sustained_ok"] = codes.get(200, 0)
        out["errors"] = sum(v for k, v in codes.items() if k != 200)
        out["sustained_p99_s"] = p(lat, 0.99)
        for kind, values in by_kind.items():
            out[f"sustained_{kind}_p99_s"] = p(values, 0.99)
        out["cpu_cores"] = (a.cpu() - cpu0) / wall
        a.sample()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deployments", type=int, default=36)
    ap.add_argument("--pods-per-deployment", type=int, default=21)
    ap.add_argument("--namespaces", type=int, default=6)
    ap.add_argument("--rate", type=float, default=150.0, help="requests per second in the sustained phase")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of the sustained phase")
    ap.add_argument("--cold", type=int, default=300, help="distinct keys requested one at a time")
    ap.add_argument("--cached", type=int, default=3000, help="cached requests")
    ap.add_argument("--keys", type=int, default=2250, help="distinct keys of the sustained phase")
    ap.add_argument("--json", default="", help="write the figures here")
    ap.add_argument(
        "--sar", action="store_true",
        help="send as the HPA controller's service account, so every request is authorized by a "
        "SubjectAccessReview to the simulator (cached 10 s per object name): then the simulator's answer "
        "times, on the same cores, are part of the figures; by default the user is in system:masters",
    )  # fmt: skip
    args = ap.parse_args(argv)
    keys_at_most = args.deployments * (2 + 3 * args.pods_per_deployment)
    if min(args.keys, keys_at_most) < args.cold + 2 * args.deployments:
        ap.error(
            f"--keys {args.keys} (at most {keys_at_most} for this cluster) leaves fewer named pods' keys than "
            f"--cold {args.cold}: raise --keys or lower --cold"
        )
    out: dict[str, Any] = {"calibration_loop_s": calibration_loop_s()}
    tmp = Path(tempfile.mkdtemp(prefix="bench-cm-"))
    auth = tmp / "auth.yaml"
    auth.write_text(yaml.safe_dump({"rules": [
        {"users": [HPA_USER], "verbs": ["get", "list"], "apiGroups": ["custom.metrics.k8s.io", "external.metrics.k8s.io"], "resources": ["*"]},
        {"users": ["bench-scraper"], "verbs": ["get"], "nonResourceURLs": ["/metrics"]},
    ]}))  # fmt: skip
    print("starting the simulator and the application pods...", flush=True)
    with SimulatorProcess(nodes=0, tls=True, kubelets=False, extra_args=[f"--auth-file={auth}"]) as sim:
        cluster = make_cluster(sim, args.deployments, args.pods_per_deployment, args.namespaces)
        targets = sim.request("GET", "/_sim/appmetrics")["targets_url"]
        (tmp / "prom").mkdir()
        with prometheus(tmp / "prom", [scrape_config(targets, interval="10s")], interval="10s") as prom:
            args.prom_url = prom.url
            print("waiting for Prometheus to hold every series with two samples...", flush=True)
            want = args.deployments * args.pods_per_deployment

            def ready() -> bool:
                r = prom.query('count(count_over_time(http_requests_total{code="200"}[1m]) >= 2)')
                return bool(r) and float(r[0]["value"][1]) >= want

            wait("series scraped twice", ready, 180)
            out["series"] = float(prom.query('count({job="kubernetes-pods"})')[0]["value"][1])
            print(f"{out['series']:.0f} series; starting kubescope custom-metrics...", flush=True)
            a = Adapter(tmp, sim, prom.url, ttl="15s", sar=args.sar)
            try:
                wait("adapter ready", lambda: _get(a.url + "/readyz", a.ctx) == 200, 60, a.log)
                paths = keys(cluster, args.keys)
                print(f"measuring ({len(paths)} keys)...", flush=True)
                asyncio.run(run_load(a, paths, args, out))
                out["rss_mib"] = a.rss_peak / 2**20
            finally:
                a.stop()
    out["calibration_loop_end_s"] = calibration_loop_s()
    rows = [
        ("series in Prometheus (>= 10,000)", "series", ">=", 10_000, ""),
        ("discovery", "discovery_s", "<=", 1.0, "s"),
        ("  floor: Prometheus /api/v1/series", "prometheus_series_s", None, None, "s"),
        ("cold answer p99", "cold_p99_s", "<=", 1.0, "s"),
        ("  cold p50", "cold_p50_s", None, None, "s"),
        ("  floor: Prometheus query p99", "prometheus_query_p99_s", None, None, "s"),
        ("cached answer p99", "cached_p99_s", "<=", 0.020, "s"),
        ("sustained requests/s", "sustained_rps", ">=", 150, "/s"),
        ("  errors", "errors", "<=", 0, ""),
        ("  p99 under load", "sustained_p99_s", None, None, "s"),
        ("    named objects", "sustained_named_p99_s", None, None, "s"),
        ("    * with a label selector (lists pods)", "sustained_selector_p99_s", None, None, "s"),
        ("    external", "sustained_external_p99_s", None, None, "s"),
        ("adapter CPU under load", "cpu_cores", "<=", 0.2, "cores"),
        ("adapter peak RSS", "rss_mib", "<=", 120, "MiB"),
        ("machine speed: 20M-add loop, start", "calibration_loop_s", None, None, "s"),
        ("  and end", "calibration_loop_end_s", None, None, "s"),
    ]
    for label, key, op, target, unit in rows:
        v = out.get(key)
        mark = ""
        if op is not None and v is not None:
            ok = v >= target if op == ">=" else v <= target
            mark = f"   target {op} {target:g} {'ok' if ok else 'MISSED'}"
        print(f"{label:42s} {v if v is None else round(v, 4)!s:>12} {unit}{mark}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


def _get(url: str, ctx: ssl.SSLContext) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5, context=ctx) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
