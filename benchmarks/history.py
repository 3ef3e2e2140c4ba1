"""History store benchmark at the issue's scale: ingest, bytes per sample, RSS, and the three queries.

    .venv/bin/python benchmarks/history.py [--json OUT] [--nodes 1000] [--pods-per-node 30]
                                           [--cycles 125] [--days 14] [--workloads 3000]

The data is the simulator's usage model (:mod:`kubescope.sim.fleet`, the one the simulated kubelets
serve): ``workloads`` workloads of ``nodes * pods-per-node / workloads`` pods, one container each,
so a cycle is ~122,000 samples at 1,000 x 30 (CPU and memory of every container, pod and node).
What each figure measures (issue 10's targets beside them):

* ``ingest_samples_per_s``: cycles at a one-minute resolution appended and compacted (a closed
  two-hour window included), samples per second of this process's CPU time (target >= 50,000);
* ``rss_mib``: peak resident memory of the ingesting process (a child of this script: its
  imports, the fleet model and the store's catalog of every series included, memory handled as
  the server does: glibc's mmap threshold fixed, freed pages returned after each cycle; target <= 150);
  ``rss_start_mib`` the same process before the first cycle;
* ``bytes_per_sample``: raw samples on disk once their day is closed (day chunks: blob bytes plus
  their rows' share of the chunk table's pages, from SQLite's ``dbstat``; target <= 2), measured on
  a day of a twentieth of the fleet (compression is per series: the figure does not depend on how
  many); ``window_bytes_per_sample`` the same for the open day's two-hour window chunks;
  ``file_bytes_per_sample`` the whole file over every raw sample it was given (rollups, catalog,
  indexes, free pages included);
* ``pod_14d_query_s``: one pod, 14 days at 5 minutes (4,032 points, rollups and the open day's raw
  samples) from a store backfilled with 15 days of a small fleet (target <= 0.030 s), median of 5;
* ``pod_list_100_1h_s``: a ``pod-list`` of 100 pods over the last hour at one minute, in the
  ingest store (head and chunks; target <= 0.150 s), median of 5; ``pod_list_100_1h_cpu_s`` the
  CPU time of one such answer (mean of 5: what a loaded machine does not inflate);
* with ``--backends``, ``pod_14d_query_s_prometheus`` and ``pod_14d_query_s_victoria_metrics``: the same
  question through ``--prometheus-url`` (:mod:`kubescope.history.promsource`) of the real Debian
  ``prometheus`` and ``victoria-metrics`` holding the same 15 days as the kubelets' cAdvisor series
  (``benchmarks/history_backends.py``), and ``*_max_rel_diff`` how far their points are from ours;
* ``recommend_all_s``: recommendations for every workload over 14 days (target <= 10 s), median of
  3, from 14 daily summaries per container series built from every one-minute sample of the model
  (1,440 a day: the sketches a recorded store has), plus the open day's raw samples;
  ``recommend_build_s`` what building those summaries took.

Timings are wall clock on whatever else the machine runs: compare figures from one run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from kubescope.history import questions, rollup
from kubescope.history.api import HistoryAPI
from kubescope.history.backfill import backfill
from kubescope.history.head import BLOCK
from kubescope.history.query import Engine
from kubescope.history.series import CPU_UNIT, PodInfo, SeriesKey
from kubescope.history.store import DAY, HistoryStore
from kubescope.memory import fix_mmap_threshold, release_free_memory
from kubescope.sim import fleet as simfleet

FLOORS = {
    "ingest_samples_per_s": (">=", 50_000),
    "bytes_per_sample": ("<=", 2.0),
    "rss_mib": ("<=", 150),
    "pod_14d_query_s": ("<=", 0.030),
    "pod_list_100_1h_s": ("<=", 0.150),
    "recommend_all_s": ("<=", 10.0),
}
T_END = 1_796_000_000 - 1_796_000_000 % DAY + 13 * 3600  # a Tuesday, 13:00 UTC


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(fn: Any, n: int = 5) -> float:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def _pods(fl: simfleet.Fleet) -> list[PodInfo]:
    return [
        PodInfo(p.namespace, p.name, p.uid, p.node, p.owner_kind, p.owner_name,
                tuple((c, round(cr * CPU_UNIT), None, mr, None) for c, cr, mr in p.containers))
        for p in fl.pods
    ]  # fmt: skip


def _fleet(workloads: int, replicas: int, nodes: int, t0: int, t1: int, **kw: Any) -> simfleet.Fleet:
    return simfleet.build(
        workloads, replicas=replicas, t0=t0, t1=t1, seed=1, nodes=nodes, containers=1,
        namespaces=max(1, workloads // 30), rollout_days=0, kinds=("Deployment", "Deployment", "StatefulSet"), **kw,
    )  # fmt: skip


# -- ingest (in a child process, for its own peak RSS) -----------------------------------------------


def _ingest_child(db: str, workloads: int, replicas: int, nodes: int, cycles: int, out: Any) -> None:
    # as `kubescope history` runs (history/command.py, app.py): large buffers from their own mmaps,
    # freed pages given back after each cycle
    fix_mmap_threshold()
    t0 = T_END - T_END % 7200 - 60
    fl = _fleet(workloads, replicas, nodes, t0 - DAY, t0 + 60 * cycles + 60, node_cpus=32.0)
    pods = _pods(fl)
    store = HistoryStore(db)
    start_rss = _rss_mib()
    cpu0 = _cpu()
    n = backfill(
        store,
        pods,
        fl.pod_of,
        fl.names,
        simfleet.cycles(fl, t0, t0 + 60 * cycles + 1, 60),
        nodes=fl.node_names,
        progress=lambda _t, _n: release_free_memory(),
    )
    cpu_s = _cpu() - cpu0
    series = len(store.keys)
    store.close()
    out.put({"samples": n, "cpu_s": cpu_s, "rss_mib": _rss_mib(), "rss_start_mib": start_rss, "series": series,
             "end": t0 + 60 * cycles})  # fmt: skip


def ingest(d: Path, workloads: int, replicas: int, nodes: int, cycles: int) -> tuple[dict[str, float], int]:
    q: multiprocessing.Queue[dict[str, float]] = multiprocessing.get_context("spawn").Queue()
    p = multiprocessing.get_context("spawn").Process(
        target=_ingest_child, args=(str(d / "big.db"), workloads, replicas, nodes, cycles, q)
    )
    p.start()
    r = q.get()
    p.join()
    return {
        "ingest_samples_per_s": r["samples"] / r["cpu_s"],
        "rss_mib": r["rss_mib"],
        "rss_start_mib": r["rss_start_mib"],
        "series": r["series"],
        "cycles": float(cycles),
    }, int(r["end"])


# -- bytes per sample ---------------------------------------------------------------------------


def _chunk_bytes(c: sqlite3.Connection, level: int) -> tuple[int, int]:
    """(samples, bytes) of a chunk level: blob bytes plus each row's share of the table's pages."""
    n, blobs, rows = c.execute(
        "SELECT sum(n), sum(length(data)), count(*) FROM chunk WHERE level = ?", (level,)
    ).fetchone()
    pages, total_blobs = c.execute(
        "SELECT (SELECT sum(pgsize) FROM dbstat WHERE name IN ('chunk', 'chunk_key', 'chunk_end')), "
        "(SELECT sum(length(data)) FROM chunk)"
    ).fetchone()
    overhead = (pages - total_blobs) / max(1, c.execute("SELECT count(*) FROM chunk").fetchone()[0])
    return int(n or 0), int((blobs or 0) + overhead * rows)


def bytes_per_sample(d: Path, workloads: int, replicas: int, nodes: int) -> dict[str, float]:
    end = T_END - T_END % DAY + 2 * 3600 + 60  # a closed day and a closed window of the next
    t0 = end - DAY - 2 * 3600 - 60
    fl = _fleet(workloads, replicas, nodes, t0 - DAY, end + 60, node_cpus=32.0)
    store = HistoryStore(d / "bytes.db")
    n = backfill(
        store, _pods(fl), fl.pod_of, fl.names, simfleet.cycles(fl, t0, end + 1, 60), nodes=fl.node_names
    )
    c = store.conn()
    day_n, day_b = _chunk_bytes(c, 3)
    win_n, win_b = _chunk_bytes(c, 0)
    out = {
        "bytes_per_sample": day_b / day_n,
        "window_bytes_per_sample": win_b / win_n,
        "file_bytes_per_sample": store.size_bytes() / n,
    }
    store.close()
    return out


# -- queries --------------------------------------------------------------------------------------


def pod_list(d: Path, end: int) -> tuple[float, float]:
    store = HistoryStore(d / "big.db")
    api = HistoryAPI(Engine(store, clock=lambda: end))
    # the namespace with the most pods (a page of 100 at the scale; fewer in a small run)
    ns = store.conn().execute(
        "SELECT namespace FROM series WHERE kind='pod' AND metric='cpu' GROUP BY namespace ORDER BY count(*) DESC"
    ).fetchone()[0]  # fmt: skip
    names = [r[0] for r in store.conn().execute(
        "SELECT pod FROM series WHERE kind='pod' AND metric='cpu' AND namespace=? ORDER BY id LIMIT 100", (ns,))]  # fmt: skip
    path = f"namespaces/{ns}/pod-list/{','.join(names)}/metrics/cpu/usage_rate"
    q = {"start": str(end - 3600), "end": str(end), "step": "1m"}
    body = json.loads(api.answer(path, q)[1])
    if len(names) < 100:
        print(
            f"pod_list_100_1h_s: {len(names)} pods in the largest namespace at this size, not 100",
            file=sys.stderr,
        )
    assert len(body["items"]) == len(names) and all(len(i["metricPoints"]) >= 55 for i in body["items"])
    t = _median(lambda: api.answer(path, q))
    cpu0 = _cpu()
    for _ in range(5):
        api.answer(path, q)
    cpu = (_cpu() - cpu0) / 5
    store.close()
    return t, cpu


def pod_14d(d: Path, backends: bool) -> dict[str, float]:
    now = T_END
    t0 = now - 15 * DAY
    fl = _fleet(4, 2, 2, t0, now, node_cpus=8.0)
    pods = _pods(fl)
    store = HistoryStore(d / "small.db")
    backfill(store, pods, fl.pod_of, fl.names, simfleet.cycles(fl, t0, now, 60), nodes=fl.node_names)
    api = HistoryAPI(Engine(store, clock=lambda: now))
    p = pods[0]
    path = f"namespaces/{p.namespace}/pods/{p.name}/metrics/cpu/usage_rate"
    q = {"start": str(now - 14 * DAY), "end": str(now), "step": "5m"}
    body = json.loads(api.answer(path, q)[1])
    assert len(body["metricPoints"]) >= 4000, len(body["metricPoints"])
    out = {"pod_14d_query_s": _median(lambda: api.answer(path, q))}
    store.close()
    if backends:
        import history_backends  # beside this script

        ours = {x["timestamp"]: x["value"] for x in body["metricPoints"]}
        out.update(history_backends.pod_14d(d, fl, t0, now, p.namespace, p.name, ours))
    return out


def recommend_all(d: Path, workloads: int, replicas: int, nodes: int, days: int) -> dict[str, float]:
    """Daily summaries of every container series, built block by block from the model's samples."""
    now = T_END
    today = now - now % DAY
    fl = _fleet(workloads, replicas, nodes, today - days * DAY - DAY, now + 60, node_cpus=1000.0)
    pods = _pods(fl)
    store = HistoryStore(d / "rec.db")
    keys = [(SeriesKey("container", m, pods[int(p)].uid, name), pods[int(p)])
            for p, name in zip(fl.pod_of.tolist(), fl.names, strict=True) for m in ("cpu", "memory")]  # fmt: skip
    sids = np.array(store.series_ids(keys, today - days * DAY), np.int64)
    store.append(today - days * DAY, sids[:1], np.array([today - days * DAY]), np.array([1]))  # the catalog
    c = store.conn()
    t_build = time.perf_counter()
    idx_all = np.arange(len(fl.names))
    for day in range(days, 0, -1):
        d0 = today - day * DAY
        times = d0 + 60 * np.arange(1, DAY // 60 + 1)
        for b0 in range(
            0, idx_all.size, BLOCK // 2
        ):  # a block holds the CPU and memory of BLOCK / 2 containers
            idx = idx_all[b0 : b0 + BLOCK // 2]
            cpu, mem = simfleet.rates(fl, idx, times, 60)
            s = np.concatenate(
                [np.repeat(sids[2 * idx], times.size), np.repeat(sids[2 * idx + 1], times.size)]
            )
            v = np.concatenate([np.round(cpu * CPU_UNIT).astype(np.int64).ravel(), mem.ravel()])
            r = rollup.from_samples(s, np.tile(times, 2 * idx.size), v, DAY)
            blk = int(sids[2 * idx[0]]) // BLOCK
            c.execute("INSERT OR REPLACE INTO summary(level, start, block, data) VALUES(3, ?, ?, ?)",
                      (d0, blk, rollup.encode_many(r)))  # fmt: skip
    c.execute("INSERT OR REPLACE INTO meta VALUES('days', ?)", (str(today),))
    c.execute("INSERT OR REPLACE INTO meta VALUES('compacted', ?)", (str(today),))
    # the open day: raw samples in the head, as recorded
    for t in range(today + 60, now + 1, 60):
        cyc = simfleet.sample(fl, t, 60)
        store.append(t, np.concatenate([sids[2 * cyc.idx], sids[2 * cyc.idx + 1]]), np.full(2 * cyc.idx.size, t),
                     np.concatenate([np.round(cyc.cpu * CPU_UNIT).astype(np.int64), cyc.mem]))  # fmt: skip
    build = time.perf_counter() - t_build
    opts = questions.RecommendOptions()
    out = questions.recommendations(store, opts, now)
    assert len(out["items"]) == workloads, len(out["items"])
    t = _median(lambda: questions.recommendations(store, opts, now), 3)
    store.close()
    return {"recommend_all_s": t, "recommend_build_s": build, "workloads": float(len(out["items"]))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    ap.add_argument("--json", default="")
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument(
        "--cycles", type=int, default=125, help="one-minute cycles ingested (125: a window compacted)"
    )
    ap.add_argument("--workloads", type=int, default=3000)
    ap.add_argument("--days", type=int, default=14, help="days of summaries for recommend_all")
    ap.add_argument("--backends", action="store_true",
                    help="also ask the pod 14-day question of the real Prometheus and VictoriaMetrics over the same data")  # fmt: skip
    args = ap.parse_args()
    replicas = max(1, args.nodes * args.pods_per_node // args.workloads)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        got, end = ingest(d, args.workloads, replicas, args.nodes, args.cycles)
        figures.update(got)
        figures["pod_list_100_1h_s"], figures["pod_list_100_1h_cpu_s"] = pod_list(d, end)
        figures.update(bytes_per_sample(d, max(1, args.workloads // 20), replicas, max(1, args.nodes // 20)))
        figures.update(pod_14d(d, args.backends))
        figures.update(recommend_all(d, args.workloads, replicas, args.nodes, args.days))
        figures["benchmark_s"] = time.perf_counter() - t0
    print(f"{'figure':28} {'value':>14}   target")
    for k, v in figures.items():
        op, floor = FLOORS.get(k, ("", None))
        ok = "" if floor is None else ("ok" if (v >= floor if op == ">=" else v <= floor) else "MISSED")
        target = "" if floor is None else f"{op} {floor:g}  {ok}"
        print(f"{k:28} {v:14.4g}   {target}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
