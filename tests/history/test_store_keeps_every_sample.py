"""The store gives back every sample it was given, across compaction, restarts and kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from kubescope.history.series import PodInfo, SeriesKey
from kubescope.history.store import DAY, HistoryStore

T0 = 1_760_000_000 - 1_760_000_000 % DAY


def _pod(i: int) -> PodInfo:
    return PodInfo(
        "ns", f"p{i}", f"uid-{i}", "node-1", "Deployment", "web", (("c", 100_000, None, 1 << 27, None),)
    )


def _fill(store: HistoryStore, cycles: range, n: int = 50, drop: int = 7) -> dict[int, list[tuple[int, int]]]:
    """Cycles one minute apart; series ``drop`` misses every fifth cycle (a gap)."""
    truth: dict[int, list[tuple[int, int]]] = {}
    for k in cycles:
        t = T0 + 60 * k + 5
        keys = [
            (SeriesKey("container", "cpu", f"uid-{i}", "c"), _pod(i))
            for i in range(n)
            if not (i == drop and k % 5 == 0)
        ]
        sids = np.array(store.series_ids(keys, t), np.int64)
        values = (sids * 1000 + k * 7) % 100_003
        store.append(t, sids, np.full(sids.size, t - 3), values)
        for s, v in zip(sids.tolist(), values.tolist(), strict=True):
            truth.setdefault(s, []).append((t - 3, v))
        store.compact()
    return truth


def test_samples_come_back_from_head_and_chunks_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path)
    truth = _fill(store, range(60 * 30))  # 30 hours: two closed days' worth of windows and one closed day
    assert store.compacted_until() == T0 + 28 * 3600
    assert store.days_until() == T0 + DAY
    store.close()
    store = HistoryStore(path)
    truth2 = _fill(store, range(60 * 30, 60 * 31))
    for s, pts in truth2.items():
        truth.setdefault(s, []).extend(pts)
    sids = np.array(sorted(truth))
    s, ts, v = store.raw_samples(sids, T0, T0 + 2 * DAY)
    for sid in sids.tolist():
        m = s == sid
        assert list(zip(ts[m].tolist(), v[m].tolist(), strict=True)) == truth[sid]
    # rollups agree with the samples: counts, sums, extremes per 5 minutes and per hour
    for level, width in ((1, 300), (2, 3600)):
        r = store.rollups(level, sids[:3], T0, T0 + DAY)
        for sid in sids[:3].tolist():
            pts = np.array([p for p in truth[sid] if p[0] < T0 + DAY])
            starts = pts[:, 0] - pts[:, 0] % width
            m = r.sid == sid
            assert r.start[m].tolist() == sorted(set(starts.tolist()))
            for b, cnt, tot, lo, hi in zip(
                r.start[m], r.count[m], r.total[m], r.low[m], r.high[m], strict=True
            ):
                vals = pts[starts == b, 1]
                assert (cnt, tot, lo, hi) == (vals.size, vals.sum(), vals.min(), vals.max())
    days = [r for blk in store.blocks() for r in store.summaries(3, T0, T0 + DAY, blk)]
    assert {start for start, _ in days} == {T0}
    assert sum(int(r.count.sum()) for _, r in days) == sum(
        1 for pts in truth.values() for t, _ in pts if t < T0 + DAY
    )
    assert store.last_samples()[int(sids[0])] == truth[int(sids[0])][-1][0]


def test_retention_drops_old_raw_chunks_but_keeps_rollups(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    _fill(store, range(60 * 50), n=3)  # 50 hours
    _s, ts, _ = store.raw_samples(np.array([1]), T0, T0 + 3 * DAY)
    assert ts.min() >= T0 + 49 * 3600 - 2 * DAY - 3600
    r = store.rollups(1, np.array([1]), T0, T0 + 3 * DAY)
    assert r.start.min() == T0


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from kubescope.history.store import HistoryStore
    from kubescope.history.series import PodInfo, SeriesKey
    store = HistoryStore(sys.argv[1], window=300)
    pods = [PodInfo("ns", f"p{i}", f"u{i}") for i in range(2000)]
    keys = [(SeriesKey("pod", "memory", p.uid), p) for p in pods]
    k = 0
    while True:
        t = 1_760_000_000 + 60 * k
        sids = np.array(store.series_ids(keys, t), np.int64)
        store.append(t, sids, np.full(sids.size, t), sids + k)
        print(k, flush=True)
        store.compact()
        k += 1
    """
)


def test_a_killed_writer_loses_at_most_the_cycle_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        last = -1
        target = 12 + 7 * round_
        for line in proc.stdout:
            last = int(line)
            if last >= target * (round_ + 1):
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
        store = HistoryStore(path, window=300)
        s, ts, v = store.raw_samples(np.array([1, 2000]), 0, 1 << 40)
        got = sorted(set(((ts[s == 1] - 1_760_000_000) // 60).tolist()))
        # every acknowledged cycle is there (the writer restarts from k=0 each round: same samples again)
        assert set(range(last + 1)) <= set(got), (last, got[-5:])
        assert (v[s == 2000] == 2000 + (ts[s == 2000] - 1_760_000_000) // 60).all()
        store.close()


def test_compaction_in_small_steps_loses_nothing_at_any_step(tmp_path: Path) -> None:
    """With a budget of nothing, each call compacts one block; between any two calls, every sample
    and every rollup is there, from the head, raw chunks or rollups, and cycles go on being written."""
    store = HistoryStore(tmp_path / "h.db", window=3600)
    n = 300  # three blocks
    truth: dict[int, list[tuple[int, int]]] = {}
    steps = 0
    for k in range(60 * 27):
        t = T0 + 60 * k + 5
        keys = [(SeriesKey("container", "cpu", f"uid-{i}", "c"), _pod(i)) for i in range(n)]
        sids = np.array(store.series_ids(keys, t), np.int64)
        values = (sids * 7919 + k * 13) % 50_021
        store.append(t, sids, np.full(sids.size, t - 3), values)
        for s, v in zip(sids.tolist(), values.tolist(), strict=True):
            truth.setdefault(s, []).append((t - 3, v))
        stats = store.compact(budget=0.0)
        steps += stats.blocks
        if stats.blocks and k % 7 == 0:  # mid-way through a window or a day: everything readable
            probe = np.array([1, 150, 299])
            s, ts, v = store.raw_samples(probe, T0, t)
            for sid in probe.tolist():
                assert list(zip(ts[s == sid].tolist(), v[s == sid].tolist(), strict=True)) == truth[sid]
    assert store.days_until() == T0 + DAY and steps > 30
    assert store.conn().execute("SELECT count(*) FROM chunk WHERE level = 3").fetchone()[0] == n
    r = store.rollups(1, np.array([150]), T0, T0 + DAY)
    pts = np.array([p for p in truth[150] if p[0] < T0 + DAY])
    assert int(r.count.sum()) == len(pts) and int(r.total.sum()) == int(pts[:, 1].sum())
