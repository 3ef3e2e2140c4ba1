#!/usr/bin/env python3
"""Benchmark ``kubescope state-metrics`` against the simulator, and print each figure beside its floor.

    .venv/bin/python benchmarks/state_metrics.py --nodes 1000 --pods-per-node 30 --json out.json

Steps (progress on stderr):

1. start ``kubescope simulate`` with the cluster (separate process);
2. start ``kubescope state-metrics`` against it (separate process, default flags),
   sampling its RSS every 50 ms: ``initial_sync_s`` is the time until ``/readyz`` answers 200
   (``initial_sync_cpu_s`` the exporter's CPU seconds until then),
   ``peak_rss_mib`` the highest RSS up to then and through the scrapes (``peak_rss_after_ready_mib``
   the highest after ready: the first scrapes and the idle time), ``steady_rss_mib`` the
   median RSS over 5 s, once the exporter has been idle for 5 s after its scrapes (cluster quiet);
3. full scrapes, plain and gzip, each read as a scraper reads it (streamed, chunks consumed and
   dropped): ``scrape_plain_p50_s``, ``scrape_gzip_p50_s`` (and the exporter's CPU per scrape,
   ``scrape_plain_cpu_s``, ``scrape_gzip_cpu_s``); then one of each kept for
   ``body_bytes`` and the check that both carry the same text;
   with floors: serving the same bytes from memory over the same loopback HTTP, from a process of
   its own on the exporter's stack (``floor_send_plain_s``, ``floor_send_gzip_s``), and gzipping
   the body once as KSM does per scrape (``ksm_gzip_level6_s``);
4. issue 15's bound on plain scrapes: RSS while ``--burst`` (200) plain scrapes run at once
   (``burst_peak_rss_mib``, answers by status) and while ``--stalled`` (100) clients send a plain
   request and never read (``stalled_peak_rss_mib``, ``after_stalled_rss_mib``), against steady;
5. update throughput of the exporter's own ingest path (decode + render + compressed store, paced by
   the flusher as the reflector is) fed with pod MODIFIED events in-process while full scrapes run (``updates_per_s``, and
   ``scrape_gzip_under_updates_p50_s``, and ``update_cpu_us``: the process' CPU per update, which a busy
   machine disturbs far less than the rate), with its floor: decoding the same events alone
   (``floor_decode_per_s``). Each pod alternates between two versions (its containers' readiness
   and restart counts changed), after one untimed pass that updates every pod once: a store renders
   an object's first update whole, the later ones only in the families whose fields changed.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def log(msg: str) -> None:
    print(f"[state_metrics] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.window_peak = 0
        self.last = 0
        self.stop_evt = threading.Event()

    def window(self) -> int:
        """The highest RSS since the last call."""
        peak, self.window_peak = self.window_peak, self.last
        return max(peak, self.last)

    def run(self) -> None:
        while not self.stop_evt.is_set():
            try:
                rss = self.proc.memory_info().rss
            except psutil.Error:
                return
            self.last = rss
            self.peak = max(self.peak, rss)
            self.window_peak = max(self.window_peak, rss)
            time.sleep(0.05)


def inflate_members(data: bytes) -> bytes:
    """Inflate a gzip stream of many members in linear time.

    ``gzip.decompress`` copies the rest of the input after every member (quadratic: minutes for the
    ~14,000 members of a 1,000-node scrape); feeding fixed-size chunks keeps each copy small.
    """
    out: list[bytes] = []
    view = memoryview(data)
    d = zlib.decompressobj(31)
    step = 1 << 16
    for i in range(0, len(view), step):
        chunk = bytes(view[i : i + step])
        while chunk:
            out.append(d.decompress(chunk))
            if not d.eof:
                break
            chunk = d.unused_data
            d = zlib.decompressobj(31)
    return b"".join(out)


async def fetch(session: aiohttp.ClientSession, url: str, gz: bool) -> tuple[float, bytes]:
    """One scrape, its body kept (untimed use: the consistency check and body sizes)."""
    headers = {"Accept": "text/plain;version=0.0.4", "Accept-Encoding": "gzip" if gz else "identity"}
    t0 = time.perf_counter()
    async with session.get(url, headers=headers, auto_decompress=False) as r:
        r.raise_for_status()
        body = await r.read()
    return time.perf_counter() - t0, body


async def timed_scrape(session: aiohttp.ClientSession, url: str, gz: bool) -> float:
    """Seconds for one full scrape read as a scraper reads it: streamed, each chunk consumed and
    dropped (Prometheus parses as it reads; gathering 300 MB into one Python buffer would time
    the client's copying, not the server)."""
    headers = {"Accept": "text/plain;version=0.0.4", "Accept-Encoding": "gzip" if gz else "identity"}
    t0 = time.perf_counter()
    async with session.get(url, headers=headers, auto_decompress=False) as r:
        r.raise_for_status()
        async for _ in r.content.iter_chunked(1 << 20):
            pass
    return time.perf_counter() - t0


def floor_server_main(port_file: str, plain_file: str, gzip_file: str) -> int:
    """The floor's server (``--floor-server``): the same two bodies from memory, in a process of its
    own on the exporter's stack (uvloop, :class:`kubescope.web.Server`,
    :func:`kubescope.web.stream_response`, 1 MiB chunks, ``Content-Length``), so that floor and exporter
    are measured alike."""
    from kubescope import web

    bodies = {False: Path(plain_file).read_bytes(), True: Path(gzip_file).read_bytes()}

    async def chunks(body: bytes) -> Any:
        view = memoryview(body)
        for i in range(0, len(body), 1 << 20):
            yield view[i : i + (1 << 20)]

    async def handler(request: web.Request) -> web.StreamResponse:
        gz = "gzip" in request.headers.get("Accept-Encoding", "")
        headers = {"Content-Length": str(len(bodies[gz]))}  # as the exporter answers
        if gz:
            headers["Content-Encoding"] = "gzip"
        return await web.stream_response(
            request, chunks(bodies[gz]), content_type="text/plain", headers=headers
        )

    def announce(port: int) -> None:
        Path(port_file).write_text(str(port))

    async def serve() -> int:
        server = web.Server(
            "floor", listeners=[web.Listener("main", routes=[web.get("/metrics", handler)], host="127.0.0.1")]
        )
        await server.start()
        announce(server.port("main"))
        return await server.serve()

    return web.run(serve())


class FloorServer:
    """``floor_server_main`` in a child process; ``url`` once it listens."""

    def __init__(self, body_plain: bytes, body_gz: bytes) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="kubescope-floor-")
        d = Path(self.dir.name)
        (d / "plain").write_bytes(body_plain)
        (d / "gzip").write_bytes(body_gz)
        port_file = d / "port"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--floor-server", str(port_file), str(d / "plain"), str(d / "gzip")]
        )
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the floor server did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text()}/metrics"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.dir.cleanup()


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


async def scrapes(url: str, n: int, exporter: psutil.Process) -> dict[str, Any]:
    out: dict[str, Any] = {}
    plain_times: list[float] = []
    gzip_times: list[float] = []
    async with aiohttp.ClientSession() as s:
        cpu0 = cpu_s(exporter)
        for _ in range(n):
            plain_times.append(await timed_scrape(s, url, False))
        cpu1 = cpu_s(exporter)
        for _ in range(n):
            gzip_times.append(await timed_scrape(s, url, True))
        cpu2 = cpu_s(exporter)
    # the exporter's CPU per scrape: what a busy machine disturbs far less than the wall time
    out["scrape_plain_cpu_s"] = (cpu1 - cpu0) / n
    out["scrape_gzip_cpu_s"] = (cpu2 - cpu1) / n
    async with aiohttp.ClientSession() as s:
        _, body = await fetch(s, url, False)
        _, gzbody = await fetch(s, url, True)
    out["scrape_plain_p50_s"] = statistics.median(plain_times)
    out["scrape_gzip_p50_s"] = statistics.median(gzip_times)
    out["body_bytes"] = len(body)
    out["gzip_body_bytes"] = len(gzbody)
    # the cluster is idle: both encodings must carry the same text
    if inflate_members(gzbody) != body:
        raise SystemExit("the gzip scrape does not inflate to the plain scrape")
    # floors: the same bytes from memory over the same HTTP stack, and KSM's per-scrape gzip
    t0 = time.perf_counter()
    gzip.compress(body, 6)
    out["ksm_gzip_level6_s"] = time.perf_counter() - t0
    floor = FloorServer(body, gzbody)
    try:
        async with aiohttp.ClientSession() as s:
            out["floor_send_plain_s"] = statistics.median(
                [await timed_scrape(s, floor.url, False) for _ in range(n)]
            )
            out["floor_send_gzip_s"] = statistics.median(
                [await timed_scrape(s, floor.url, True) for _ in range(n)]
            )
    finally:
        floor.close()
    return out


async def update_throughput(nodes: int, ppn: int, seconds: float, seed: int) -> dict[str, Any]:
    """Feed pod MODIFIED events through decode + render + store while scrapes run."""
    from kubescope.sim.scenario import ScenarioConfig, generate
    from kubescope.state.exposition import scrape_chunks
    from kubescope.state.family import FamilyOptions
    from kubescope.state.flusher import Flusher
    from kubescope.state.registry import all_resources
    from kubescope.state.store import ResourceStore

    spec = all_resources()["pods"]
    fams = spec.families(FamilyOptions())
    pods = [
        o
        for r, o in generate(ScenarioConfig(seed=seed, nodes=nodes, pods_per_node=ppn, start=1.7e9))
        if r == "pods"
    ]
    # two versions of every pod: ready flipping, restart count bumped
    lines = []
    for p in pods:
        p["metadata"]["resourceVersion"] = "1"
        lines.append(msgspec.json.encode({"type": "MODIFIED", "object": p}))
        for c in p["status"].get("containerStatuses", []):
            c["restartCount"] = c.get("restartCount", 0) + 1
            c["ready"] = not c.get("ready", False)
        lines.append(msgspec.json.encode({"type": "MODIFIED", "object": p}))
    del pods
    from kubescope.model.meta import WatchEvent

    dec = msgspec.json.Decoder(WatchEvent[spec.struct])  # type: ignore[name-defined]
    t0 = time.perf_counter()
    for line in lines[: len(lines) // 2]:
        dec.decode(line)
    floor = (len(lines) // 2) / (time.perf_counter() - t0)

    holder: list[ResourceStore] = []
    flusher = Flusher(lambda: holder, interval=1.0)
    store = ResourceStore(spec, fams, on_dirty=flusher.poke)
    holder.append(store)
    for line in lines[::2]:
        store.upsert(dec.decode(line).object)
    flusher.start()
    await flusher.flush_now()
    # warm, as a running exporter is: every pod updated once (its first update renders it whole,
    # since the store learns the fingerprints of an object's read fields then), untimed
    for line in lines:
        store.upsert(dec.decode(line).object)
    await flusher.flush_now()
    stop = asyncio.Event()
    scrape_times: list[float] = []

    async def scraper() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await flusher.flush_now()
            async for _ in scrape_chunks([store.snapshot()], openmetrics=False, gz=True):
                pass
            scrape_times.append(time.perf_counter() - t)
            await asyncio.sleep(0.5)

    task = asyncio.create_task(scraper())
    n = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    i = 0
    while time.perf_counter() - t0 < seconds:
        for line in lines[i : i + 500]:
            store.upsert(dec.decode(line).object)
        n += len(lines[i : i + 500])
        i = (i + 500) % len(lines)
        # as the reflector does after each batch: wait when compression falls behind, so the
        # figure is the sustainable rate (rendered and compressed), not a growing backlog
        await flusher.pace()
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    stop.set()
    await task
    await flusher.flush_now()
    await flusher.stop()
    return {
        "updates_per_s": n / elapsed,
        # the process' CPU (event loop, flusher and scrapes) per update: comparable across runs on a
        # busy machine, where updates_per_s mostly tells how much of a core the process got
        "update_cpu_us": cpu / n * 1e6,
        "floor_decode_per_s": floor,
        "scrape_gzip_under_updates_p50_s": statistics.median(scrape_times) if scrape_times else None,
        "scrapes_under_updates": len(scrape_times),
    }


PLAIN_REQUEST = b"GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: identity\r\n\r\n"


async def plain_burst(url: str, n: int) -> dict[str, int]:
    """``n`` plain scrapes at once, each read as a scraper reads it; answers counted by status."""
    statuses: dict[int, int] = {}

    async def one(s: aiohttp.ClientSession) -> None:
        async with s.get(url, headers={"Accept-Encoding": "identity"}, auto_decompress=False) as r:
            statuses[r.status] = statuses.get(r.status, 0) + 1
            async for _ in r.content.iter_chunked(1 << 20):
                pass

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        await asyncio.gather(*(one(s) for _ in range(n)))
    return statuses


def abuse(port: int, sampler: RssSampler, steady_mib: float, burst: int, stalled: int) -> dict[str, Any]:
    """Issue 15's bound on plain scrapes: RSS while ``burst`` plain scrapes run at once, while
    ``stalled`` clients send a plain request and never read (held 15 s, beyond the exporter's 10 s
    stall deadline), and 5 s after they closed; each against the steady RSS."""
    out: dict[str, Any] = {}
    log(f"{burst} plain scrapes at once")
    sampler.window()
    t0 = time.perf_counter()
    statuses = asyncio.run(plain_burst(f"http://127.0.0.1:{port}/metrics", burst))
    out["burst_s"] = time.perf_counter() - t0
    out["burst_ok"], out["burst_refused"] = statuses.get(200, 0), statuses.get(503, 0)
    out["burst_peak_rss_mib"] = sampler.window() / 2**20
    out["burst_peak_over_steady"] = out["burst_peak_rss_mib"] / steady_mib
    log(f"{stalled} stalled plain readers for 15 s")
    time.sleep(2)
    sampler.window()
    socks = []
    for _ in range(stalled):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(PLAIN_REQUEST)
        socks.append(sock)
    time.sleep(15)
    out["stalled_peak_rss_mib"] = sampler.window() / 2**20
    out["stalled_peak_over_steady"] = out["stalled_peak_rss_mib"] / steady_mib
    for sock in socks:
        sock.close()
    time.sleep(5)
    out["after_stalled_rss_mib"] = sampler.last / 2**20
    return out


def calibration_loop_s() -> float:
    """Seconds for a fixed pure-Python loop (20 million additions): how fast this machine runs
    Python right now. On a shared VM it varies by up to 2x within an hour; compare runs by it."""
    t0 = time.perf_counter()
    x = 0
    for i in range(20_000_000):
        x += i
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--scrapes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--update-seconds", type=float, default=10.0)
    ap.add_argument("--burst", type=int, default=200, help="plain scrapes at once (default %(default)s)")
    ap.add_argument(
        "--stalled", type=int, default=100, help="plain readers that never read (default %(default)s)"
    )
    ap.add_argument("--skip-e2e", action="store_true", help="only the in-process update throughput part")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--floor-server", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor_server:
        return floor_server_main(*args.floor_server)
    figures: dict[str, Any] = {
        "nodes": args.nodes,
        "pods_per_node": args.pods_per_node,
        "machine": f"{os.cpu_count()} cpu, {psutil.virtual_memory().total / 2**30:.0f} GiB, python {sys.version.split()[0]}",
    }
    figures["calibration_loop_s"] = calibration_loop_s()
    if not args.skip_e2e:
        figures.update(run_e2e(args))
    log("measuring update throughput in-process")
    figures.update(
        asyncio.run(
            update_throughput(min(args.nodes, 1000), args.pods_per_node, args.update_seconds, args.seed)
        )
    )
    figures["calibration_loop_end_s"] = calibration_loop_s()
    print_table(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def run_e2e(args: argparse.Namespace) -> dict[str, Any]:
    from kubescope.sim.process import SimulatorProcess

    out: dict[str, Any] = {}
    log(f"starting the simulator: {args.nodes} nodes x {args.pods_per_node} pods")
    t0 = time.perf_counter()
    with SimulatorProcess(
        nodes=args.nodes, pods_per_node=args.pods_per_node, seed=args.seed, tls=False
    ) as sim:
        out["simulator_start_s"] = time.perf_counter() - t0
        port, tport = free_port(), free_port()
        cmd = [
            sys.executable,
            "-m",
            "kubescope",
            "state-metrics",
            f"--kubeconfig={sim.kubeconfig}",
            "--host=127.0.0.1",
            f"--port={port}",
            "--telemetry-host=127.0.0.1",
            f"--telemetry-port={tport}",
        ]
        log("starting state-metrics")
        t0 = time.perf_counter()
        # stderr to a file: an unread pipe would block the exporter once it filled
        errlog = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
        proc = subprocess.Popen(cmd, stderr=errlog, stdout=subprocess.DEVNULL)
        sampler = RssSampler(proc.pid)
        sampler.start()
        try:
            ready = f"http://127.0.0.1:{tport}/readyz"
            deadline = time.monotonic() + 600
            while True:
                try:
                    with urlopen(ready) as r:
                        if r == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"state-metrics did not become ready: {_tail(errlog)}")
                time.sleep(0.05)
            out["initial_sync_s"] = time.perf_counter() - t0
            ct = psutil.Process(proc.pid).cpu_times()
            # the exporter's own CPU until ready: what a busy machine disturbs least
            out["initial_sync_cpu_s"] = ct.user + ct.system
            out["peak_rss_sync_mib"] = sampler.peak / 2**20
            sampler.window()  # from here: the peak after ready (the first scrapes, the idle time)
            log(f"synced in {out['initial_sync_s']:.2f}s; scraping")
            out.update(
                asyncio.run(
                    scrapes(f"http://127.0.0.1:{port}/metrics", args.scrapes, psutil.Process(proc.pid))
                )
            )
            # steady: the exporter idle with the cluster quiet, after its scrapes; the median of 5 s
            # of samples taken once it has been idle for 5 s (its flusher returns freed pages then)
            time.sleep(5)
            window = []
            for _ in range(25):
                window.append(sampler.last)
                time.sleep(0.2)
            out["steady_rss_mib"] = statistics.median(window) / 2**20
            out["peak_rss_mib"] = sampler.peak / 2**20
            out["peak_rss_after_ready_mib"] = sampler.window() / 2**20
            out["peak_over_steady"] = out["peak_rss_mib"] / out["steady_rss_mib"]
            out.update(abuse(port, sampler, out["steady_rss_mib"], args.burst, args.stalled))
        finally:
            sampler.stop_evt.set()
            proc.terminate()
            proc.wait(30)
            errlog.close()
    return out


def _tail(f: Any, n: int = 2000) -> str:
    f.seek(0)
    return str(f.read()[-n:].decode(errors="replace"))


def urlopen(url: str) -> Any:
    import urllib.request

    class _R:
        def __init__(self, code: int) -> None:
            self.code = code

        def __enter__(self) -> int:
            return self.code

        def __exit__(self, *a: object) -> None:
            return None

    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return _R(r.status)
    except urllib.error.HTTPError as e:
        return _R(e.code)


def print_table(f: dict[str, Any]) -> None:
    rows = [
        ("machine speed: 20M-add Python loop, at start", "calibration_loop_s", "s", None),
        ("  and at the end", "calibration_loop_end_s", "s", None),
        ("simulator start-up", "simulator_start_s", "s", None),
        ("initial sync", "initial_sync_s", "s", None),
        ("  the exporter's CPU until then", "initial_sync_cpu_s", "s", None),
        ("peak RSS during sync", "peak_rss_sync_mib", "MiB", None),
        ("steady RSS", "steady_rss_mib", "MiB", None),
        ("peak RSS after ready (scrapes, idle)", "peak_rss_after_ready_mib", "MiB", None),
        ("peak RSS", "peak_rss_mib", "MiB", None),
        ("peak / steady", "peak_over_steady", "x", None),
        ("plain scrapes at once: answered 200", "burst_ok", "", None),
        ("  answered 503 (Retry-After)", "burst_refused", "", None),
        ("  RSS peak meanwhile", "burst_peak_rss_mib", "MiB", None),
        ("  peak / steady", "burst_peak_over_steady", "x", None),
        ("stalled plain readers: RSS peak", "stalled_peak_rss_mib", "MiB", None),
        ("  peak / steady", "stalled_peak_over_steady", "x", None),
        ("  RSS 5 s after they closed", "after_stalled_rss_mib", "MiB", None),
        ("body (plain)", "body_bytes", "B", None),
        ("body (gzip)", "gzip_body_bytes", "B", None),
        ("scrape plain p50", "scrape_plain_p50_s", "s", "floor_send_plain_s"),
        ("  the exporter's CPU per plain scrape", "scrape_plain_cpu_s", "s", None),
        ("scrape gzip p50", "scrape_gzip_p50_s", "s", "floor_send_gzip_s"),
        ("  the exporter's CPU per gzip scrape", "scrape_gzip_cpu_s", "s", None),
        ("KSM's per-scrape gzip (level 6) of the body", "ksm_gzip_level6_s", "s", None),
        ("updates/s (in-process pod store, scrapes running)", "updates_per_s", "/s", "floor_decode_per_s"),
        ("  CPU per update (all threads, scrapes included)", "update_cpu_us", "us", None),
        ("  its gzip scrape p50 (pods only) meanwhile", "scrape_gzip_under_updates_p50_s", "s", None),
    ]
    print(f"\nstate-metrics benchmark: {f['nodes']} nodes x {f['pods_per_node']} pods/node ({f['machine']})")
    print(f"{'figure':50} {'value':>14} {'floor':>14} {'ratio':>8}")
    for label, key, unit, floor_key in rows:
        if key not in f or f[key] is None:
            continue
        v = f[key]
        fl = f.get(floor_key) if floor_key else None
        ratio = f"{v / fl:.2f}" if fl else ""
        vs = f"{v:,.3f} {unit}" if isinstance(v, float) else f"{v:,} {unit}"
        fs = (f"{fl:,.3f} {unit}" if isinstance(fl, float) else "") if fl else ""
        print(f"{label:50} {vs:>14} {fs:>14} {ratio:>8}")


if __name__ == "__main__":
    raise SystemExit(main())
