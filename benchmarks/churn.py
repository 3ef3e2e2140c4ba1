"""Benchmark the simulator's churn: how many writes per second the engine sustains, in-process and
through ``kubescope simulate --churn-rate`` as a watcher sees them.

    .venv/bin/python benchmarks/churn.py --nodes 1000 --pods-per-node 30 --rate 1000 [--seconds 10] [--json out.json]
    .venv/bin/python benchmarks/churn.py --rate 1000,2000,4000      # several rates, one simulator

One command, progress on stderr, a table on stdout:

1. **Engine ceiling** (in-process): :meth:`LiveCluster.step` (churn and the control plane reacting)
   against an :class:`~kubescope.sim.store.ObjectStore` holding the generated cluster, no watchers,
   as fast as it goes for ``--seconds``: writes/s, CPU µs per write, writes per change; the time
   to index the cluster once (the controllers' caches and the world's).
2. **Engine task** (in-process): :meth:`LiveCluster.run` at each ``--rate`` for ``--seconds``:
   the write rate achieved and the CPU it took (share of one core).
3. **Simulator process** (``--insecure-http --no-kubelets``): this process watches every
   resource the churn writes (one raw watch each, from one resourceVersion, lines counted, not
   decoded) while the simulator churns at each ``--rate`` (set live through ``POST /_sim/churn``)
   for ``--seconds``: events received per second, the simulator's CPU (``/proc/<pid>/stat``),
   its ``behind`` counter (writes dropped because it could not keep up). A rate is **met** when
   the events received reach 95 % of it.

``--mix`` picks the churn's mix (``realistic``, the simulator's default, or ``lively``).
The simulator and this watcher share the machine's cores: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

T0 = time.monotonic()

WATCHED = [
    "/api/v1/pods",
    "/api/v1/nodes",
    "/api/v1/namespaces",
    "/api/v1/endpoints",
    "/api/v1/configmaps",
    "/api/v1/secrets",
    "/api/v1/events",
    "/api/v1/serviceaccounts",
    "/apis/coordination.k8s.io/v1/leases",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
    "/apis/batch/v1/jobs",
    "/apis/batch/v1/cronjobs",
    "/apis/autoscaling/v2/horizontalpodautoscalers",
    "/apis/discovery.k8s.io/v1/endpointslices",
]
"""Every resource the churn engine writes."""


def progress(msg: str) -> None:
    print(f"[churn {time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- in-process ------------------------------------------------------------------------------


def in_process(args: argparse.Namespace, rates: list[float]) -> dict[str, Any]:
    from kubescope.sim.churn.rates import KINDS, WEIGHTS
    from kubescope.sim.defaults import apply_defaults
    from kubescope.sim.live import LiveCluster
    from kubescope.sim.scenario import ScenarioConfig, generate
    from kubescope.sim.server import _no_new_cluster_ip
    from kubescope.sim.store import ObjectStore

    res: dict[str, Any] = {}
    progress(f"generating {args.nodes} nodes x {args.pods_per_node} pods/node in-process")
    store = ObjectStore(history=100_000)
    items = []
    for res_key, obj in generate(
        ScenarioConfig(seed=args.seed, nodes=args.nodes, pods_per_node=args.pods_per_node)
    ):
        apply_defaults(res_key, obj, _no_new_cluster_ip)
        items.append((res_key, obj))
    store.bulk_create(items)
    del items
    res["objects"] = sum(store.count(r) for r in list(store.objects))
    res["pods"] = store.count("pods")
    gc.collect()
    gc.freeze()

    engine = LiveCluster(store, args.seed, 0, weights=WEIGHTS if args.mix == "lively" else None)
    t = time.perf_counter()
    engine.start_up()
    res["index_s"] = time.perf_counter() - t
    progress(f"{res['objects']} objects, {res['pods']} pods; indexed in {res['index_s']:.2f}s")

    # 1. the ceiling: step() as fast as it goes
    engine.step(2000)  # warm up: the first rollouts and pods are not typical
    w0, c0, s0 = engine.counts["writes"], sum(engine.counts[k] for k in KINDS), engine.steps
    cpu0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        engine.step(200)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    writes = engine.counts["writes"] - w0
    changes = sum(engine.counts[k] for k in KINDS) - c0
    res.update(
        ceiling_writes_per_s=writes / wall,
        ceiling_us_per_write=cpu / writes * 1e6,
        ceiling_changes_per_s=changes / wall,
        writes_per_change=writes / max(1, changes),
        steps=engine.steps - s0,
    )
    progress(
        f"engine ceiling: {writes / wall:,.0f} writes/s ({changes / wall:,.0f} changes/s, "
        f"{writes / max(1, changes):.2f} writes per change), {cpu / writes * 1e6:.1f} µs CPU per write"
    )

    # 2. the task at each rate (one task, paused between the rates)
    async def tasks() -> list[dict[str, Any]]:
        out = []
        engine.start()
        for rate in rates:
            w0, behind0 = engine.counts["writes"], engine.counts["behind"]
            cpu0, t0 = time.process_time(), time.perf_counter()
            engine.set_rate(rate)
            await asyncio.sleep(args.seconds)
            engine.set_rate(0)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            writes = engine.counts["writes"] - w0
            r = {
                "rate": rate,
                "writes_per_s": writes / wall,
                "cpu_share": cpu / wall,
                "behind": engine.counts["behind"] - behind0,
                "met": writes / wall >= 0.95 * rate,
            }
            out.append(r)
            progress(
                f"engine task at {rate:,.0f}/s: {r['writes_per_s']:,.0f} writes/s, "
                f"CPU {r['cpu_share'] * 100:.0f}% of a core, behind {r['behind']}"
            )
        await engine.stop()
        return out

    res["task"] = asyncio.run(tasks())
    gc.unfreeze()
    return res


# -- through the simulator process -----------------------------------------------------------


class Watchers:
    """A raw watch on every resource the churn writes, from one resourceVersion: lines counted."""

    def __init__(self, http: Any, url: str, rv: int) -> None:
        self.http, self.url, self.rv = http, url, rv
        self.events = 0
        self.opened = asyncio.Event()
        self._pending = len(WATCHED)
        self.tasks = [asyncio.create_task(self.watch(path)) for path in WATCHED]

    async def watch(self, path: str) -> None:
        params = {"watch": "true", "resourceVersion": str(self.rv)}
        async with self.http.get(self.url + path, params=params) as r:
            r.raise_for_status()
            self._pending -= 1
            if not self._pending:
                self.opened.set()
            async for _line in r.content:
                self.events += 1

    async def stop(self) -> int:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return self.events


async def through_simulator(args: argparse.Namespace, rates: list[float]) -> dict[str, Any]:
    import aiohttp

    from kubescope.sim.process import SimulatorProcess

    res: dict[str, Any] = {"runs": []}
    progress(f"starting the simulator: {args.nodes} nodes x {args.pods_per_node} pods/node, churn paused")
    t0 = time.perf_counter()
    # a tiny rate to start with (0 would not start the engine), paused at once below
    sim = SimulatorProcess(
        args.nodes,
        args.pods_per_node,
        seed=args.seed,
        churn_rate=0.001,
        tls=False,
        kubelets=False,
        extra_args=[f"--churn-mix={args.mix}"],
    ).start()
    try:
        assert sim.proc is not None
        pid = sim.proc.pid
        sim.churn(rate=0)
        res["sim_start_s"] = time.perf_counter() - t0
        progress(f"simulator ready in {res['sim_start_s']:.1f}s (cluster loaded, churn indexed)")
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None), read_bufsize=1 << 22
        ) as http:
            for rate in rates:
                watchers = Watchers(http, sim.url, sim.stats()["resourceVersion"])
                await asyncio.wait_for(watchers.opened.wait(), 30)
                before = sim.churn(rate=rate)
                cpu0, own0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
                await asyncio.sleep(args.seconds)
                after = sim.churn(rate=0)
                wall = time.perf_counter() - t0
                cpu, own = cpu_seconds(pid) - cpu0, time.process_time() - own0
                await asyncio.sleep(0.5)  # the last events in flight
                events = await watchers.stop()
                writes = after["writes"] - before["writes"]
                run = {
                    "rate": rate,
                    "events": events,
                    "writes": writes,
                    "events_per_s": events / wall,
                    "writes_per_s": writes / wall,
                    "sim_cpu_share": cpu / wall,
                    "sim_cpu_us_per_write": cpu / max(1, writes) * 1e6,
                    "watcher_cpu_share": own / wall,
                    "behind": after["counts"].get("behind", 0) - before["counts"].get("behind", 0),
                    "met": events / wall >= 0.95 * rate,
                }
                res["runs"].append(run)
                progress(
                    f"simulator at {rate:,.0f}/s: watcher got {run['events_per_s']:,.0f} events/s "
                    f"({events} events, {writes} writes), simulator CPU {run['sim_cpu_share'] * 100:.0f}% "
                    f"({run['sim_cpu_us_per_write']:.0f} µs/write), behind {run['behind']}: "
                    f"{'met' if run['met'] else 'NOT met'}"
                )
    finally:
        sim.stop()
    return res


def table(r: dict[str, Any]) -> None:
    ip = r["in_process"]
    print(
        f"\nchurn benchmark: {r['nodes']} nodes x {r['pods_per_node']} pods/node = {ip['pods']} pods, "
        f"{ip['objects']} objects ({r['machine']})"
    )
    print(f"{'figure':74} {'value':>16}")
    rows = [
        ("index the cluster (once, at start-up)", f"{ip['index_s']:.2f} s"),
        ("engine ceiling, in-process, no watchers", f"{ip['ceiling_writes_per_s']:,.0f} writes/s"),
        ("  CPU per write", f"{ip['ceiling_us_per_write']:.1f} µs"),
        ("  writes per change", f"{ip['writes_per_change']:.2f}"),
    ]
    for t in ip["task"]:
        rows.append(
            (
                f"engine task at {t['rate']:,.0f}/s (CPU {t['cpu_share'] * 100:.0f}% of a core)",
                f"{t['writes_per_s']:,.0f} {'met' if t['met'] else 'NOT met'}",
            )
        )
    sp = r.get("simulator")
    if sp:
        rows.append(("simulator start-up (load + index)", f"{sp['sim_start_s']:.1f} s"))
        for run in sp["runs"]:
            rows.append(
                (
                    f"simulator at {run['rate']:,.0f}/s: events/s watched "
                    f"(sim CPU {run['sim_cpu_share'] * 100:.0f}%, {run['sim_cpu_us_per_write']:.0f} µs/write)",
                    f"{run['events_per_s']:,.0f} {'met' if run['met'] else 'NOT met'}",
                )
            )
    for label, value in rows:
        print(f"{label:74} {value:>16}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument(
        "--rate", default="1000", help="writes per second, or several, comma-separated (default: %(default)s)"
    )
    ap.add_argument("--seconds", type=float, default=10.0, help="per measurement (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=("realistic", "lively"), default="realistic", help="the churn's mix")
    ap.add_argument("--no-simulator", action="store_true", help="only the in-process figures")
    ap.add_argument("--json", metavar="OUT", help="write the figures here")
    args = ap.parse_args()
    rates = [float(x) for x in args.rate.split(",") if x.strip()]
    if not rates or any(not x > 0 for x in rates):
        ap.error("--rate: positive numbers, comma-separated")
    r: dict[str, Any] = {
        "mix": args.mix,
        "nodes": args.nodes,
        "pods_per_node": args.pods_per_node,
        "seconds": args.seconds,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}",
    }
    r["in_process"] = in_process(args, rates)
    gc.collect()
    if not args.no_simulator:
        r["simulator"] = asyncio.run(through_simulator(args, rates))
    r["met"] = all(t["met"] for t in r["in_process"]["task"]) and all(
        x["met"] for x in (r.get("simulator") or {}).get("runs", ())
    )
    # flat headline figures (benchmarks/all.py): the ceiling, and the first rate as a watcher saw it
    r["engine_ceiling_writes_per_s"] = r["in_process"]["ceiling_writes_per_s"]
    r["rate"] = rates[0]
    if r.get("simulator"):
        r["sim_events_per_s"] = r["simulator"]["runs"][0]["events_per_s"]
        r["sim_cpu_share"] = r["simulator"]["runs"][0]["sim_cpu_share"]
    table(r)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
