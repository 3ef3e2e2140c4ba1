"""Benchmark ``kubescope resource-metrics``: the parser and store alone, then the whole pipeline.

    .venv/bin/python benchmarks/resource_metrics.py --nodes 1000 --pods-per-node 30 --json out.json

**Offline** (no network, always run): kubelet bodies shaped like a real kubelet's ``/metrics/resource``
(every family it emits, 1-2 containers per pod) are parsed, stored twice (two scrapes, so rates exist)
and all pods are listed through the Metrics API's answer builder. Figures: ``parse_lines_per_s`` and
``parse_us_per_node`` (CPU time) with its floor ``split_lines_per_s`` (splitting the same bytes into
lines, the least any line parser does), ``store_s``, ``list_all_pods_first_s`` (the first list of a
storage generation, rendering every pod's part) and ``list_all_pods_p50_s`` (later lists, cached).

**Live** (unless ``--offline-only``): a simulator (``kubescope simulate``) with N nodes x M pods and its
simulated kubelets (:mod:`kubescope.sim.kubelet`: one per node on its own loopback address, port
10250, HTTPS verified with the cluster CA, stats every 10 s; without that module, loopback kubelets
run in this process, ``tests/resource/loopkubelets.py``), and ``kubescope resource-metrics`` as a
subprocess scraping them every ``--resolution``; the output's ``kubelets`` line says which ran; after warm-up, ``--cycles`` cycles are observed from the server's own ``/metrics``
(cycle duration, nodes scraped), its CPU and RSS are sampled with psutil, and all pods are listed
directly from the server. Figures: ``cycle_p50_s``, ``cycle_max_s``, ``nodes_scraped_min``,
``cpu_cores_avg`` and ``cpu_s_per_cycle`` (CPU time of the process, user + system, so other load on
the machine barely moves it), ``rss_mib``, ``rss_per_node_mib``, and two list figures:
``live_list_first_p50_s`` (the first list of all pods after each cycle: a new storage generation, so
the answer is joined anew from the pre-rendered parts) and ``live_list_cached_p50_s`` (more lists
within the same cycle: the joined answer is reused). ``--profile SECONDS`` samples the process with
py-spy (``pip install py-spy``) during the observed cycles and prints where its CPU went, by area.
``calibration_loop_s`` (start and end) times a fixed pure-Python loop: compare runs by it. The simulator runs
on the same two cores, so at large N it bounds the figures (its kubelets render the bodies); the
offline part measures ours alone.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from kubescope.kubelet.parser import KubeletParser, MetricsPoint, PodKey
from kubescope.resource.api import MetricsAPI
from kubescope.resource.inventory import Pod, PodCache
from kubescope.resource.storage import MetricsStorage


def kubelet_body(node: int, pods: int, rng: random.Random, ts_ms: int, cpu_base: float) -> bytes:
    """A kubelet /metrics/resource body: every family, HELP/TYPE lines, labels sorted, timestamps."""
    containers: list[tuple[str, str, str]] = []
    for p in range(pods):
        ns = f"ns-{(node * 7 + p) % 40}"
        pod = f"app-{node}-{p}-{rng.randrange(16**5):05x}"
        containers.append((ns, pod, "app"))
        if p % 3 == 0:
            containers.append((ns, pod, "istio-proxy"))
    containers.sort(key=lambda c: (c[2], c[0], c[1]))
    out: list[str] = []

    def fam(name: str, typ: str, help_: str) -> None:
        out.append(f"# HELP {name} [STABLE] {help_}\n# TYPE {name} {typ}\n")

    fam(
        "container_cpu_usage_seconds_total",
        "counter",
        "Cumulative cpu time consumed by the container in core-seconds",
    )
    for i, (ns, pod, c) in enumerate(containers):
        out.append(
            f'container_cpu_usage_seconds_total{{container="{c}",namespace="{ns}",pod="{pod}"}} '
            f"{cpu_base + i * 0.37:.6f} {ts_ms}\n"
        )
    fam("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes")
    for i, (ns, pod, c) in enumerate(containers):
        out.append(
            f'container_memory_working_set_bytes{{container="{c}",namespace="{ns}",pod="{pod}"}} '
            f"{(20 + i % 50) * 1048576 + 4096 * i:.6e} {ts_ms}\n"
        )
    fam("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds")
    for ns, pod, c in containers:
        out.append(
            f'container_start_time_seconds{{container="{c}",namespace="{ns}",pod="{pod}"}} '
            f"{1.7e9 + 0.5:.10e}\n"
        )
    fam("container_swap_limit_bytes", "gauge", "Current amount of the container swap limit in bytes")
    fam("container_swap_usage_bytes", "gauge", "Current amount of the container swap usage in bytes")
    for ns, pod, c in containers:
        out.append(f'container_swap_usage_bytes{{container="{c}",namespace="{ns}",pod="{pod}"}} 0 {ts_ms}\n')
    fam("node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds")
    out.append(f"node_cpu_usage_seconds_total {cpu_base * 40:.6f} {ts_ms}\n")
    fam("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes")
    out.append(f"node_memory_working_set_bytes {3.2e9:.9e} {ts_ms}\n")
    fam("node_swap_usage_bytes", "gauge", "Current swap usage of the node in bytes")
    out.append(f"node_swap_usage_bytes 0 {ts_ms}\n")
    pod_keys = sorted({(ns, pod) for ns, pod, _ in containers})
    fam("pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds")
    for ns, pod in pod_keys:
        out.append(f'pod_cpu_usage_seconds_total{{namespace="{ns}",pod="{pod}"}} {cpu_base:.6f} {ts_ms}\n')
    fam("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes")
    for ns, pod in pod_keys:
        out.append(f'pod_memory_working_set_bytes{{namespace="{ns}",pod="{pod}"}} {4.2e7:.6e} {ts_ms}\n')
    fam("pod_swap_usage_bytes", "gauge", "Current amount of the pod swap usage in bytes")
    for ns, pod in pod_keys:
        out.append(f'pod_swap_usage_bytes{{namespace="{ns}",pod="{pod}"}} 0 {ts_ms}\n')
    fam(
        "resource_scrape_error",
        "gauge",
        "1 if there was an error while getting container metrics, 0 otherwise",
    )
    out.append("resource_scrape_error 0\n")
    return "".join(out).encode()


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    r = fn()
    return time.perf_counter() - w0, time.process_time() - c0, r


def offline(nodes: int, pods: int, progress: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(42)
    t0_ms = 1_769_539_700_000
    progress(f"generating {nodes} kubelet bodies of {pods} pods")
    bodies1 = [kubelet_body(n, pods, random.Random(n), t0_ms, 100.0) for n in range(nodes)]
    bodies2 = [kubelet_body(n, pods, random.Random(n), t0_ms + 15_000, 104.5) for n in range(nodes)]
    total_bytes = sum(len(b) for b in bodies1)
    total_lines = sum(b.count(b"\n") for b in bodies1)
    del rng

    def parse_all(
        bodies: list[bytes],
    ) -> tuple[dict[str, MetricsPoint], dict[PodKey, dict[str, MetricsPoint]]]:
        node_points: dict[str, MetricsPoint] = {}
        pod_points: dict[PodKey, dict[str, MetricsPoint]] = {}
        for i, b in enumerate(bodies):
            p = KubeletParser(0)
            # feed as a socket would deliver it: 64 KiB chunks
            for off in range(0, len(b), 65536):
                p.feed(b[off : off + 65536])
            batch = p.finish()
            if batch.node is not None:
                node_points[f"node-{i}"] = batch.node
            pod_points.update(batch.pods)
        return node_points, pod_points

    gc.collect()
    progress("parsing")
    parse_wall, parse_cpu, (n1, p1) = timed(lambda: parse_all(bodies1))
    _, _, (n2, p2) = timed(lambda: parse_all(bodies2))
    _, split_cpu, _ = timed(lambda: [b.split(b"\n") for b in bodies1])
    storage = MetricsStorage(15 * 1_000_000_000)
    storage.store(n1, p1)
    progress("storing")
    store_wall, store_cpu, _ = timed(lambda: storage.store(n2, p2))
    containers = sum(len(c) for c in p2.values())
    assert len(storage.pod_usage) == len(p2), (len(storage.pod_usage), len(p2))

    progress("listing all pods")
    cache = PodCache()
    cache.replace_begin()
    for ns, name in p2:
        obj = {"metadata": {"name": name, "namespace": ns, "labels": {"app": name[:12], "tier": "web"}},
               "status": {"phase": "Running"}}  # fmt: skip
        cache.upsert(msgspec.convert(obj, Pod))
    cache.replace_end()
    from kubescope.resource.inventory import NodeCache

    api = MetricsAPI(storage, NodeCache(), cache)
    times = []
    first = 0.0
    ans: tuple[int, str, bytes] = (0, "", b"")
    for i in range(8):
        w, _, ans = timed(lambda: api.list_pods("v1", None, {}, "application/vnd.kubernetes.protobuf, */*"))
        if i == 0:
            first = w  # the first answer of a storage generation also renders every pod's usage part
        else:
            times.append(w)
    size = len(ans[2])
    items = len(msgspec.json.decode(ans[2])["items"])
    return {
        "nodes": nodes,
        "pods": len(p2),
        "containers": containers,
        "kubelet_body_bytes_avg": total_bytes // nodes,
        "kubelet_lines_total": total_lines,
        "parse_s": round(parse_wall, 4),
        "parse_cpu_s": round(parse_cpu, 4),
        "parse_lines_per_s": round(total_lines / parse_cpu),
        "split_lines_per_s": round(total_lines / max(split_cpu, 1e-6)),
        "parse_us_per_node": round(parse_cpu / nodes * 1e6, 1),
        "store_s": round(store_wall, 4),
        "store_cpu_s": round(store_cpu, 4),
        "list_all_pods_p50_s": round(statistics.median(times), 4),
        "list_all_pods_first_s": round(first, 4),
        "list_all_pods_items": items,
        "list_all_pods_bytes": size,
    }


def _self_metrics(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("kubescope_resource_", "metrics_server_manager_tick_duration_seconds_count",
                            "metrics_server_kubelet_request_total")):  # fmt: skip
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


PROFILE_AREAS = (
    ("kubelet TLS handshakes", ("do_handshake",)),
    ("parsing kubelet text", ("resource/parser.py",)),
    ("storing points and rates", ("resource/storage.py",)),
    ("rendering Metrics API answers", ("resource/api.py", "resource/render.py")),
    ("self metrics (/metrics)", ("resource/selfmetrics.py", "prometheus_client")),
    ("kubelet HTTP client", ("resource/kubelethttp.py", "resource/scraper.py", "aiohttp/client", "aiohttp/connector")),
    ("serving HTTPS (aiohttp server, authn/authz)", ("aiohttp/web_", "kubescope/apiserver/")),
    ("watches (reflectors)", ("kube/reflector.py", "kube/client.py")),
)  # fmt: skip
"""Areas a sample is charged to: the first area (in this order) any frame of its stack names."""


def start_profile(pid: int, seconds: float) -> tuple[Any, Path]:
    import shutil
    import subprocess
    import tempfile

    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    out = Path(tempfile.mkdtemp(prefix="rm-profile-")) / "py-spy.txt"
    proc = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", f"{seconds:g}", "--rate", "200",
         "--nonblocking", "--format", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc, out


def finish_profile(spy: tuple[Any, Path]) -> dict[str, Any]:
    """Shares of the sampled CPU by area (see :data:`PROFILE_AREAS`), from py-spy's raw output."""
    proc, path = spy
    proc.wait()
    counts: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        area = next((a for a, keys in PROFILE_AREAS if any(k in stack for k in keys)), "event loop and other")
        counts[area] = counts.get(area, 0) + int(n)
    shares = {a: round(100 * c / max(1, total), 1) for a, c in sorted(counts.items(), key=lambda x: -x[1])}
    return {"samples": total, "raw": str(path), "percent_by_area": shares}


def calibration_loop_s() -> float:
    """Seconds for a fixed pure-Python loop (20 million additions): how fast this machine runs
    Python right now. On a shared VM it varies by up to 2x within an hour; compare runs by it."""
    t0 = time.perf_counter()
    x = 0
    for i in range(20_000_000):
        x += i
    return round(time.perf_counter() - t0, 3)


def live(
    nodes: int,
    pods: int,
    resolution: float,
    cycles: int,
    progress: Callable[[str], None],
    keepalive: str = "auto",
    profile: float = 0.0,
) -> dict[str, Any]:
    import asyncio
    import tempfile

    import aiohttp
    import psutil

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the e2e harness lives with the tests
    from tests.resource.simcluster import ResourceMetricsOnSimulator

    tmp = Path(tempfile.mkdtemp(prefix="rm-bench-"))
    out: dict[str, Any] = {
        "nodes": nodes,
        "pods_per_node": pods,
        "resolution_s": resolution,
        "keepalive": keepalive,
    }
    progress(f"starting the simulator ({nodes} nodes x {pods} pods) and resource-metrics")
    t0 = time.perf_counter()
    simulated = importlib.util.find_spec("kubescope.sim.kubelet") is not None
    env = ResourceMetricsOnSimulator(
        tmp, nodes=nodes, pods_per_node=pods, resolution=f"{resolution:g}s", own_kubelets=not simulated,
        extra=("--log-level=warning", f"--kubelet-keepalive={keepalive}"),
    )  # fmt: skip
    with env:
        out["setup_s"] = round(time.perf_counter() - t0, 2)
        farm: dict[str, Any] = {}
        if env.kubelets is not None:
            out["kubelets"] = "loopback, in the benchmark process (tests/resource/loopkubelets.py)"
        else:
            farm = env.sim.request("GET", "/_sim/kubelets")
            where = f"{farm['block']} port {farm['port']}" if farm["port"] else "free loopback ports"
            out["kubelets"] = (
                f"simulator's (kubescope.sim.kubelet): {farm['nodes']} on {where}, "
                f"{'HTTPS verified with the cluster CA' if farm['tls'] else 'HTTP'}, "
                f"housekeeping {farm['housekeeping']:g}s"
            )
        assert env.proc is not None
        ps = psutil.Process(env.proc.pid)
        assert env.sim.proc is not None
        sim_ps = psutil.Process(env.sim.proc.pid)
        me = psutil.Process()
        base = f"https://127.0.0.1:{env.port}"
        headers = {"Authorization": f"Bearer {env.sim.token}"}

        async def run() -> None:
            import ssl

            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            async with aiohttp.ClientSession(headers=headers) as session:

                async def get(path: str) -> bytes:
                    async with session.get(base + path, ssl=ctx) as r:
                        return await r.read()

                async def metrics() -> dict[str, float]:
                    return _self_metrics((await get("/metrics")).decode())

                deadline = time.monotonic() + 600
                m: dict[str, float] = {}
                while m.get("metrics_server_manager_tick_duration_seconds_count", 0) < 2:
                    if env.proc is None or env.proc.poll() is not None:
                        raise SystemExit(f"resource-metrics exited: {env.log.read_text()[-2000:]}")
                    if time.monotonic() > deadline:
                        raise SystemExit("resource-metrics did not complete two cycles in 600 s")
                    with contextlib.suppress(aiohttp.ClientError, OSError):
                        m = await metrics()
                    await asyncio.sleep(0.5)
                progress(f"warm (two cycles done); observing {cycles} cycles")
                ticks = m["metrics_server_manager_tick_duration_seconds_count"]
                cpu0, w0 = sum(ps.cpu_times()[:2]), time.perf_counter()
                sim0, me0 = sum(sim_ps.cpu_times()[:2]), sum(me.cpu_times()[:2])
                farm0 = env.sim.request("GET", "/_sim/kubelets") if farm else {}
                lines0 = m.get("kubescope_resource_kubelet_lines_parsed_total", 0.0)
                durations: list[float] = []
                scraped: list[float] = []
                rss: list[int] = []
                first_lists: list[float] = []
                cached_lists: list[float] = []
                spy = start_profile(env.proc.pid, profile) if profile else None
                seen = ticks
                while seen < ticks + cycles:
                    # about as often as Prometheus would scrape it: /metrics has a histogram per node
                    await asyncio.sleep(resolution / 2)
                    m = await metrics()
                    rss.append(ps.memory_info().rss)
                    if m["metrics_server_manager_tick_duration_seconds_count"] > seen:
                        seen = m["metrics_server_manager_tick_duration_seconds_count"]
                        durations.append(m["kubescope_resource_last_cycle_seconds"])
                        scraped.append(m["kubescope_resource_last_cycle_scraped_nodes"])
                        progress(
                            f"cycle {int(seen - ticks)}/{cycles}: {durations[-1]:.2f}s, {int(scraped[-1])} nodes"
                        )
                        w = time.perf_counter()
                        body = await get("/apis/metrics.k8s.io/v1/pods")
                        first_lists.append(time.perf_counter() - w)
                        out["live_list_all_pods_items"] = body.count(b'{"metadata"')
                cpu1, w1 = sum(ps.cpu_times()[:2]), time.perf_counter()
                out["simulator_cpu_cores_avg"] = round((sum(sim_ps.cpu_times()[:2]) - sim0) / (w1 - w0), 3)
                if farm:
                    # the simulated kubelets' share of it: rendering the bodies they serve
                    after = env.sim.request("GET", "/_sim/kubelets")
                    out["kubelet_requests"] = after["requests"] - farm0["requests"]
                    out["kubelet_renders"] = after["renders"] - farm0["renders"]
                    out["kubelet_render_cpu_cores_avg"] = round(
                        (after["renderSeconds"] - farm0["renderSeconds"]) / (w1 - w0), 3
                    )
                if env.kubelets is not None:
                    # the loopback kubelets run in this process (with this client: a small share)
                    out["kubelets_cpu_cores_avg"] = round((sum(me.cpu_times()[:2]) - me0) / (w1 - w0), 3)
                lines = m.get("kubescope_resource_kubelet_lines_parsed_total", 0.0) - lines0
                for _ in range(6):  # more lists within a cycle: the cached path
                    w = time.perf_counter()
                    await get("/apis/metrics.k8s.io/v1/pods")
                    cached_lists.append(time.perf_counter() - w)
                out.update(
                    cycle_p50_s=round(statistics.median(durations), 3),
                    cycle_max_s=round(max(durations), 3),
                    nodes_scraped_min=int(min(scraped)),
                    cpu_cores_avg=round((cpu1 - cpu0) / (w1 - w0), 4),
                    cpu_s_per_cycle=round((cpu1 - cpu0) / max(1, len(durations)), 3),
                    rss_mib=round(max(rss) / 2**20, 1),
                    rss_per_node_mib=round(max(rss) / 2**20 / nodes, 4),
                    kubelet_lines_per_cycle=round(lines / max(1, len(durations))),
                    live_list_first_p50_s=round(statistics.median(first_lists), 4),
                    live_list_first_max_s=round(max(first_lists), 4),
                    live_list_cached_p50_s=round(statistics.median(cached_lists), 4),
                )
                if spy is not None:
                    out["profile"] = finish_profile(spy)

        asyncio.run(run())
    return out


def table(rows: dict[str, Any]) -> str:
    width = max(len(k) for k in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows.items())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--nodes", type=int, default=100)
    p.add_argument("--pods-per-node", type=int, default=30)
    p.add_argument("--resolution", type=float, default=15.0, help="scrape period of the live run, seconds")
    p.add_argument("--cycles", type=int, default=4, help="cycles observed in the live run after warm-up")
    p.add_argument("--offline-only", action="store_true", help="skip the live run against the simulator")
    p.add_argument(
        "--keepalive",
        choices=("auto", "true", "false"),
        default="auto",
        help="resource-metrics' --kubelet-keepalive",
    )
    p.add_argument(
        "--profile", type=float, default=0.0, metavar="SECONDS",
        help="sample resource-metrics with py-spy for this long during the observed cycles (0: off)",
    )  # fmt: skip
    p.add_argument("--json", help="write the figures to this file")
    args = p.parse_args(argv)

    def progress(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    calibration = calibration_loop_s()
    results: dict[str, Any] = {"offline": offline(args.nodes, args.pods_per_node, progress)}
    print("offline (parser, store and API alone):")
    print(table(results["offline"]))
    if not args.offline_only:
        results["live"] = live(
            args.nodes, args.pods_per_node, args.resolution, args.cycles, progress, keepalive=args.keepalive,
            profile=args.profile,
        )  # fmt: skip
        print("\nlive (simulator + resource-metrics subprocess):")
        live_rows = dict(results["live"])
        prof = live_rows.pop("profile", None)
        print(table(live_rows))
        if prof:
            print(f"\nprofile ({prof['samples']} py-spy samples, raw stacks in {prof['raw']}), % of CPU:")
            print(table(prof["percent_by_area"]))
    off, on = results["offline"], results.get("live", {})
    summary = {
        "nodes": args.nodes,
        "pods_per_node": args.pods_per_node,
        "cycle_p50_s": on.get("cycle_p50_s"),
        "nodes_scraped_min": on.get("nodes_scraped_min"),
        "cpu_cores_avg": on.get("cpu_cores_avg"),
        "cpu_s_per_cycle": on.get("cpu_s_per_cycle"),
        "rss_mib": on.get("rss_mib"),
        "rss_per_node_mib": on.get("rss_per_node_mib"),
        "parse_lines_per_s": off["parse_lines_per_s"],
        "parse_floor_split_lines_per_s": off["split_lines_per_s"],
        "list_all_pods_first_p50_s": on.get("live_list_first_p50_s", off["list_all_pods_first_s"]),
        "list_all_pods_cached_p50_s": on.get("live_list_cached_p50_s", off["list_all_pods_p50_s"]),
        "calibration_loop_s": calibration,
        "calibration_loop_end_s": calibration_loop_s(),
    }
    print("\nsummary:")
    print(table(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({**summary, **results}, indent=2) + "\n")
        progress(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
