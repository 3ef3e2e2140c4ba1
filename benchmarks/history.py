"""History store benchmark: ingest, bytes per sample, RSS, and the three query targets.

    .venv/bin/python benchmarks/history.py [--json OUT] [--nodes 1000] [--pods-per-node 30]

What each figure measures (issue 10's targets beside them):

* ``ingest_samples_per_s``: cycles of every series (containers, pods and nodes, CPU and memory:
  ~122,000 samples per cycle at 1,000 x 30) appended and a closed 2-hour window compacted, CPU
  time of this process per sample (floor 50,000/s);
* ``bytes_per_sample``: raw chunk bytes (with SQLite's row overhead: the chunk table's pages)
  per compacted sample (floor: at most 2); ``file_bytes_per_sample`` the whole file;
* ``rss_mib``: peak resident memory while ingesting (floor: at most 150);
* ``pod_14d_query_s``: one pod, 14 days at 5 minutes (4,032 points) from a store backfilled with 14
  days of a small fleet (floor 0.030 s), median of 5;
* ``pod_list_100_1h_s``: a ``pod-list`` of 100 pods over the last hour (head and chunks) in the
  big store (floor 0.150 s), median of 5;
* ``recommend_all_s``: recommendations for every workload over 14 days (floor 10 s) from 14 daily
  summaries of every container series; the summaries are built from 96 samples per series and day
  (15-minute sampling: building 1,440 per day for 14 days would take this script an hour), which
  gives sketches of fewer buckets than a recorded store's.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kubescope.history import questions, rollup
from kubescope.history.api import HistoryAPI
from kubescope.history.backfill import backfill
from kubescope.history.query import Engine
from kubescope.history.series import CPU_UNIT, PodInfo, SeriesKey
from kubescope.history.store import BLOCK, DAY, HistoryStore
from kubescope.sim import fleet as simfleet

FLOORS = {
    "ingest_samples_per_s": (">=", 50_000),
    "bytes_per_sample": ("<=", 2.0),
    "rss_mib": ("<=", 150),
    "pod_14d_query_s": ("<=", 0.030),
    "pod_list_100_1h_s": ("<=", 0.150),
    "recommend_all_s": ("<=", 10.0),
}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(fn, n: int = 5) -> float:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def ingest(d: Path, nodes: int, per_node: int, cycles: int) -> tuple[dict[str, float], HistoryStore, list[PodInfo], int]:
    pods = [
        PodInfo(f"ns-{i % 100}", f"pod-{i}", f"uid-{i}", f"node-{i % nodes}", "Deployment", f"app-{i // 10}",
                (("app", 100_000, None, 256 << 20, None),))
        for i in range(nodes * per_node)
    ]  # fmt: skip
    keys: list[tuple[SeriesKey, PodInfo | None]] = []
    for p in pods:
        for metric in ("cpu", "memory"):
            keys += [(SeriesKey("container", metric, p.uid, "app"), p), (SeriesKey("pod", metric, p.uid), p)]
    for n in range(nodes):
        keys += [(SeriesKey("node", "cpu", f"node-{n}"), None), (SeriesKey("node", "memory", f"node-{n}"), None)]
    store = HistoryStore(d / "big.db")
    t0 = 1_760_000_000 - 1_760_000_000 % 7200
    sids = np.array(store.series_ids(keys, t0), np.int64)
    n = sids.size
    rng = np.random.default_rng(1)
    base = rng.integers(5_000, 400_000, n)
    is_mem = np.zeros(n, bool)
    is_mem[1::2] = True
    base[is_mem] = rng.integers(20 << 20, 800 << 20, int(is_mem.sum())) // 4096 * 4096
    mem_walk = base.copy()
    cpu0, samples = _cpu(), 0
    for k in range(cycles):
        t = t0 + 60 * k + 7
        noise = rng.normal(0, 0.12, n)
        mem_walk = np.where(is_mem, mem_walk + rng.integers(-64, 65, n) * 4096, mem_walk)
        values = np.where(is_mem, mem_walk, np.maximum(0, base * (1 + noise))).astype(np.int64)
        store.append(t, sids, np.full(n, t - 5, np.int64), values)
        store.compact()
        samples += n
    cpu_s = _cpu() - cpu0
    c = store.conn()
    raw = c.execute("SELECT sum(n), sum(length(data)) + count(*) * 28 FROM chunk WHERE level=0").fetchone()
    out = {
        "ingest_samples_per_s": samples / cpu_s,
        "bytes_per_sample": raw[1] / raw[0] if raw[0] else float("nan"),
        "file_bytes_per_sample": store.size_bytes() / samples,
        "rss_mib": _rss_mib(),
        "series": float(n),
        "cycles": float(cycles),
    }
    return out, store, pods, t0 + 60 * cycles


def pod_14d(d: Path) -> float:
    now = 1_760_000_000 - 1_760_000_000 % DAY + 15 * 3600
    t0 = now - 15 * DAY
    fl = simfleet.build(4, replicas=2, t0=t0, t1=now, seed=5, nodes=2, rollout_days=0)
    pods = [
        PodInfo(p.namespace, p.name, p.uid, p.node, p.owner_kind, p.owner_name,
                tuple((c, round(cr * CPU_UNIT), None, mr, None) for c, cr, mr in p.containers))
        for p in fl.pods
    ]  # fmt: skip
    store = HistoryStore(d / "small.db")
    backfill(store, pods, fl.pod_of, fl.names, simfleet.cycles(fl, t0, now, 60))
    api = HistoryAPI(Engine(store, clock=lambda: now))
    p = pods[0]
    path = f"namespaces/{p.namespace}/pods/{p.name}/metrics/cpu/usage_rate"
    q = {"start": str(now - 14 * DAY), "end": str(now), "step": "5m"}
    body = json.loads(api.answer(path, q)[1])
    assert len(body["metricPoints"]) >= 4000, len(body["metricPoints"])
    return _median(lambda: api.answer(path, q))


def pod_list(store: HistoryStore, pods: list[PodInfo], now: int) -> float:
    api = HistoryAPI(Engine(store, clock=lambda: now))
    names = [p.name for p in pods if p.namespace == "ns-7"][:100]
    path = f"namespaces/ns-7/pod-list/{','.join(names)}/metrics/cpu/usage_rate"
    q = {"start": str(now - 3600), "end": str(now), "step": "1m"}
    body = json.loads(api.answer(path, q)[1])
    assert len(body["items"]) == len(names) and all(len(i["metricPoints"]) >= 55 for i in body["items"])
    return _median(lambda: api.answer(path, q))


def recommend_all(d: Path, workloads: int, per_workload: int) -> tuple[float, int]:
    store = HistoryStore(d / "rec.db")
    now = 1_760_000_000 - 1_760_000_000 % DAY + 12 * 3600
    pods = [
        PodInfo(f"ns-{w % 50}", f"w{w}-{r}", f"u{w}-{r}", "n", "Deployment", f"w{w}", (("app", 200_000, None, 1 << 28, None),))
        for w in range(workloads) for r in range(per_workload)
    ]  # fmt: skip
    keys = [(SeriesKey("container", m, p.uid, "app"), p) for p in pods for m in ("cpu", "memory")]
    sids = np.array(store.series_ids(keys, now - 15 * DAY), np.int64)
    store.append(now - 15 * DAY, sids[:1], np.array([now - 15 * DAY]), np.array([1]))  # writes the series rows
    rng = np.random.default_rng(2)
    base = rng.integers(5_000, 300_000, sids.size)
    c = store.conn()
    for day in range(14):
        d0 = now - now % DAY - (14 - day) * DAY
        ts = np.repeat(d0 + np.arange(96) * 900, sids.size)
        s = np.tile(sids, 96)
        v = (np.tile(base, 96) * rng.lognormal(0, 0.2, s.size)).astype(np.int64)
        r = rollup.from_samples(s, ts, v, DAY)
        for blk in np.unique(r.sid // BLOCK).tolist():
            part = r.take(r.sid // BLOCK == blk, r.sk_sid // BLOCK == blk)
            c.execute(
                "INSERT OR REPLACE INTO summary(level, start, block, data) VALUES(3, ?, ?, ?)",
                (d0, blk, rollup.encode_many(part)),
            )
    c.execute("INSERT OR REPLACE INTO meta VALUES('days', ?)", (str(now - now % DAY),))
    c.execute("INSERT OR REPLACE INTO meta VALUES('compacted', ?)", (str(now - now % DAY),))
    opts = questions.RecommendOptions()
    out = questions.recommendations(store, opts, now)
    assert len(out["items"]) == workloads, len(out["items"])
    return _median(lambda: questions.recommendations(store, opts, now), 3), len(out["items"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    ap.add_argument("--json", default="")
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--cycles", type=int, default=130, help="cycles ingested (130: one 2-hour window compacted)")
    ap.add_argument("--workloads", type=int, default=3000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        figures, store, pods, now = ingest(d, args.nodes, args.pods_per_node, args.cycles)
        figures["pod_list_100_1h_s"] = pod_list(store, pods, now)
        store.close()
        figures["pod_14d_query_s"] = pod_14d(d)
        figures["recommend_all_s"], figures["workloads"] = recommend_all(
            d, args.workloads, max(1, args.nodes * args.pods_per_node // args.workloads)
        )
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
