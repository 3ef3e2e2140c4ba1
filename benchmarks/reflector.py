"""Benchmark the Kubernetes API access path: pod LISTs, the reflector's initial sync, its watch.

    .venv/bin/python benchmarks/reflector.py --nodes 100 --pods-per-node 30 [--json out.json]

One command, progress on stderr, a table on stdout:

1. **Simulator start-up**: ``kubescope simulate`` (TLS, bearer token, no kubelets) in its own
   process group, timed from spawn to its ready file.
2. **Pod LIST**, paginated as the reflector does (``limit=500``) and unpaginated, through
   :class:`KubeClient`: decoded into the pod Struct the state-metrics exporter decodes (every
   field its pod families read), beside the floor of reading the same pages without decoding.
   Bytes and pages.
3. **Reflector initial sync** in a child process (uvloop, like the exporters): from ``run()`` to
   ``synced``, into a :class:`Mirror` that keeps every pod; the child's RSS after its imports,
   after the sync, and its peak (``VmHWM``) at the end. (The exporter keeps no pods: this is the
   reflector's cost, the RSS that of a consumer that keeps its objects.)
4. **Steady watch**: the parent patches pods (MODIFIED events) with 16 concurrent requests; the
   child applies them and reports CPU µs per event (``process_time``) and events/s, then, with the
   reflector stopped, reads a raw watch stream for the same number of events (split into lines,
   not decoded): the floor. The wall rate is bounded by the simulator (same two cores); the CPU
   per event is the reflector's own cost.

Don't run big sizes on a shared machine; 5,000 x 30 needs several GiB for the simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.kube.reflector import Reflector
from kubescope.kube.sink import Mirror, list_objects
from kubescope.model.meta import KubeList
from kubescope.state.registry import all_resources

T0 = time.monotonic()


def progress(msg: str) -> None:
    print(f"[reflector {time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def proc_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- the pod as the state-metrics exporter decodes it (every field its pod families read) ----------

Pod: Any = all_resources()["pods"].struct

PODS = "/api/v1/pods"
CONTINUE = re.compile(rb'"continue":\s*"([^"]*)"')


# -- the child: a watching process ------------------------------------------------------------------


class Counting(Mirror[Pod]):
    """A Mirror that wakes the benchmark once ``target`` watch events were applied."""

    def __init__(self) -> None:
        super().__init__()
        self.events = 0
        self.target = -1
        self.first = asyncio.Event()
        self.reached = asyncio.Event()

    def _count(self) -> None:
        self.events += 1
        if self.events == 1:
            self.first.set()
        if self.events == self.target:
            self.reached.set()

    def upsert(self, obj: Pod) -> None:
        super().upsert(obj)
        if self._listed is None:
            self._count()

    def delete(self, obj: Pod) -> None:
        super().delete(obj)
        self._count()


async def child_main(kubeconfig: str) -> None:
    rss_imports = proc_mib("VmRSS")
    out = sys.stdout
    client = await KubeClient.connect(KubeSettings(kubeconfig=kubeconfig))
    sink = Counting()
    refl: Reflector[Pod] = Reflector(client, api_path="/api/v1", resource="pods", item_type=Pod, sink=sink)
    t0 = time.perf_counter()
    c0 = time.process_time()
    task = asyncio.get_running_loop().create_task(refl.run())
    await refl.synced.wait()
    sync_s, sync_cpu = time.perf_counter() - t0, time.process_time() - c0
    import gc

    gc.collect()
    out.write(
        json.dumps(
            {
                "phase": "synced",
                "sync_s": sync_s,
                "sync_cpu_s": sync_cpu,
                "objects": len(sink),
                "pages": refl.stats.lists_ok,
                "bytes": refl.stats.bytes_read,
                "rss_imports_mib": rss_imports,
                "rss_synced_mib": proc_mib("VmRSS"),
                "hwm_synced_mib": proc_mib("VmHWM"),
            }
        )
        + "\n"
    )
    out.flush()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        cmd, n = line[0], int(line[1]) if len(line) > 1 else 0
        if cmd == "watch":
            st = refl.stats
            sink.events, sink.target = 0, n
            sink.first.clear()
            sink.reached.clear()
            b0 = st.bytes_read
            out.write(json.dumps({"phase": "ready"}) + "\n")
            out.flush()
            await sink.first.wait()
            t0, c0 = time.perf_counter(), time.process_time()
            await sink.reached.wait()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            out.write(
                json.dumps(
                    {
                        "phase": "watched",
                        "events": n - 1,
                        "wall_s": wall,
                        "cpu_s": cpu,
                        "bytes": st.bytes_read - b0,
                    }
                )
                + "\n"
            )
            out.flush()
        elif cmd == "raw":
            rv = refl.resource_version
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            params = {"watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true"}
            async with client.stream(PODS, params) as stream:
                out.write(json.dumps({"phase": "ready"}) + "\n")
                out.flush()
                lines = -1
                t0 = c0 = 0.0
                while lines < n - 1:
                    batch = await stream.next_batch()
                    k = sum(1 for x in batch if b'"BOOKMARK"' not in x)
                    if lines < 0 and k:
                        t0, c0 = time.perf_counter(), time.process_time()
                        k -= 1
                        lines = 0
                    if lines >= 0:
                        lines += k
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            out.write(json.dumps({"phase": "raw", "lines": lines, "wall_s": wall, "cpu_s": cpu}) + "\n")
            out.flush()
        elif cmd == "quit":
            break
    out.write(json.dumps({"phase": "end", "hwm_mib": proc_mib("VmHWM"), "rss_mib": proc_mib("VmRSS")}) + "\n")
    out.flush()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await client.close()


# -- the parent --------------------------------------------------------------------------------------


async def timed_lists(client: KubeClient, reps: int) -> dict[str, Any]:
    dec = msgspec.json.Decoder(KubeList[Pod])
    res: dict[str, Any] = {}

    async def read_pages(limit: int) -> tuple[int, int]:
        params = {"limit": str(limit)} if limit else {}
        size = pages = 0
        while True:
            body = await client.get(PODS, params)
            size += len(body)
            pages += 1
            # the floor still has to find the continue token (in the list metadata, before the items)
            m = CONTINUE.search(body, 0, 4096) if limit else None
            cont = m.group(1).decode() if m else ""
            if not cont:
                return size, pages
            params = {"limit": str(limit), "continue": cont}

    async def decode_unpaginated() -> int:
        body = await client.get(PODS)
        return len(dec.decode(body).items)

    for name, limit in (("paginated", 500), ("unpaginated", 0)):
        floors, fulls = [], []
        size = pages = objects = 0
        for _ in range(reps):
            t0 = time.perf_counter()
            size, pages = await read_pages(limit)
            floors.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            if limit:
                items, _ = await list_objects(client, PODS, Pod, page_size=limit)
                objects = len(items)
                del items
            else:
                objects = await decode_unpaginated()
            fulls.append(time.perf_counter() - t0)
        res[f"list_{name}_s"] = statistics.median(fulls)
        res[f"list_{name}_floor_s"] = statistics.median(floors)
        res[f"list_{name}_bytes"] = size
        res[f"list_{name}_pages"] = pages
        res["pods"] = objects
        progress(
            f"LIST {name}: {objects} pods, {size / 1e6:.1f} MB in {pages} page(s): "
            f"{res[f'list_{name}_s']:.3f}s decoded, {res[f'list_{name}_floor_s']:.3f}s read only"
        )
    return res


async def churn(client: KubeClient, pods: list[tuple[str, str]], n: int, rng: random.Random) -> float:
    """``n`` label patches (MODIFIED events) with 16 requests in flight; returns the wall time."""
    queue = [pods[rng.randrange(len(pods))] for _ in range(n)]

    async def worker() -> None:
        while queue:
            ns, name = queue.pop()
            patch = {"metadata": {"labels": {"bench": str(rng.randrange(1 << 30))}}}
            await client.request(
                "PATCH",
                f"/api/v1/namespaces/{ns}/pods/{name}",
                None,
                patch,
                content_type="application/merge-patch+json",
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(16)))
    return time.perf_counter() - t0


async def child_call(proc: asyncio.subprocess.Process, cmd: str | None = None) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    if cmd is not None:
        proc.stdin.write(cmd.encode() + b"\n")
        await proc.stdin.drain()
    line = await asyncio.wait_for(proc.stdout.readline(), 600)
    if not line:
        raise RuntimeError(f"the watching child exited with {await proc.wait()}")
    out: dict[str, Any] = json.loads(line)
    return out


async def parent(args: argparse.Namespace) -> dict[str, Any]:
    from kubescope.sim.process import SimulatorProcess

    res: dict[str, Any] = {
        "nodes": args.nodes,
        "pods_per_node": args.pods_per_node,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}",
    }
    progress(f"starting the simulator: {args.nodes} nodes x {args.pods_per_node} pods/node")
    t0 = time.perf_counter()
    sim = SimulatorProcess(
        args.nodes, args.pods_per_node, kubelets=False, watch_history=max(100_000, 4 * args.events)
    ).start()
    try:
        res["sim_start_s"] = time.perf_counter() - t0
        progress(f"simulator ready at {sim.url} in {res['sim_start_s']:.2f}s")
        async with await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig)) as client:
            res.update(await timed_lists(client, args.reps))
            items, _ = await list_objects(client, PODS, Pod)
            pods = [(p.metadata.namespace, p.metadata.name) for p in items]
            del items

            progress("reflector initial sync in a child process")
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--child",
                sim.kubeconfig,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            try:
                synced = await child_call(proc)
                res.update(
                    sync_s=synced["sync_s"],
                    sync_cpu_s=synced["sync_cpu_s"],
                    sync_pages=synced["pages"],
                    rss_imports_mib=synced["rss_imports_mib"],
                    rss_synced_mib=synced["rss_synced_mib"],
                )
                progress(
                    f"synced {synced['objects']} pods in {synced['sync_s']:.3f}s ({synced['pages']} pages); "
                    f"RSS {synced['rss_imports_mib']:.1f} MiB after imports, {synced['rss_synced_mib']:.1f} after sync"
                )
                rng = random.Random(1)
                await child_call(proc, f"watch {args.events}")
                churn_s = await churn(client, pods, args.events, rng)
                watched = await child_call(proc)
                res.update(
                    watch_events=watched["events"],
                    watch_wall_s=watched["wall_s"],
                    watch_cpu_s=watched["cpu_s"],
                    watch_bytes=watched["bytes"],
                    churn_s=churn_s,
                )
                progress(
                    f"watch: {watched['events']} events in {watched['wall_s']:.2f}s, "
                    f"child CPU {watched['cpu_s'] / max(1, watched['events']) * 1e6:.1f} µs/event "
                    f"(the simulator took {churn_s:.2f}s to make them)"
                )
                await child_call(proc, f"raw {args.events}")
                await churn(client, pods, args.events, rng)
                raw = await child_call(proc)
                res.update(raw_lines=raw["lines"], raw_wall_s=raw["wall_s"], raw_cpu_s=raw["cpu_s"])
                progress(
                    f"raw stream floor: {raw['lines']} lines, CPU {raw['cpu_s'] / max(1, raw['lines']) * 1e6:.1f} µs/line"
                )
                end = await child_call(proc, "quit")
                res["hwm_mib"] = end["hwm_mib"]
            finally:
                if proc.returncode is None:
                    proc.kill()
                await proc.wait()
    finally:
        sim.stop()
    return res


def table(r: dict[str, Any]) -> None:
    ev = max(1, r["watch_events"])
    rows = [
        ("simulator start-up", f"{r['sim_start_s']:.2f} s", ""),
        (
            f"pod LIST paginated ({r['list_paginated_pages']} pages, {r['list_paginated_bytes'] / 1e6:.1f} MB)",
            f"{r['list_paginated_s']:.3f} s",
            f"{r['list_paginated_floor_s']:.3f} s",
        ),
        (
            f"pod LIST unpaginated ({r['list_unpaginated_bytes'] / 1e6:.1f} MB)",
            f"{r['list_unpaginated_s']:.3f} s",
            f"{r['list_unpaginated_floor_s']:.3f} s",
        ),
        (
            "reflector initial sync (child, uvloop)",
            f"{r['sync_s']:.3f} s",
            f"{r['list_paginated_floor_s']:.3f} s",
        ),
        ("  of which CPU in the child", f"{r['sync_cpu_s']:.3f} s", ""),
        ("watching process RSS after imports", f"{r['rss_imports_mib']:.1f} MiB", ""),
        ("watching process RSS after sync", f"{r['rss_synced_mib']:.1f} MiB", ""),
        ("watching process peak RSS (VmHWM)", f"{r['hwm_mib']:.1f} MiB", ""),
        (
            "watch: CPU per event (decode + apply)",
            f"{r['watch_cpu_s'] / ev * 1e6:.1f} µs",
            f"{r['raw_cpu_s'] / max(1, r['raw_lines']) * 1e6:.1f} µs",
        ),
        (
            "watch: events/s observed (simulator-bound)",
            f"{ev / r['watch_wall_s']:.0f}",
            f"{r['raw_lines'] / r['raw_wall_s']:.0f}",
        ),
    ]
    print(
        f"\nreflector benchmark: {r['nodes']} nodes x {r['pods_per_node']} pods/node = {r['pods']} pods ({r['machine']})"
    )
    print(f"{'figure':52} {'value':>14} {'floor':>14}")
    for label, value, floor in rows:
        print(f"{label:52} {value:>14} {floor:>14}")
    print(
        "floors: LIST = the same pages read without decoding; sync = reading the paginated list; "
        "watch = reading and splitting the same kind of stream without decoding"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--events", type=int, default=3000, help="watch events per phase (default: %(default)s)")
    ap.add_argument(
        "--reps", type=int, default=3, help="repetitions of each LIST (median; default: %(default)s)"
    )
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON here")
    ap.add_argument("--child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = ap.parse_args()
    import uvloop

    if args.child:
        uvloop.run(child_main(args.child))
        return 0
    res = uvloop.run(parent(args))
    table(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
