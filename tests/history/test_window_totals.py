"""Recommendations and idle workloads read group totals block by block (history/window.py): the
same answers as reading every member series on its own, merging its rollups and then its
workload's, one sketch at a time (the per-workload path, written out here from the store's
per-series reads)."""

from __future__ import annotations

import numpy as np
import pytest

from kubescope.history import questions, rollup, sketch, window
from kubescope.history.rollup import Rollup
from kubescope.history.store import DAY, HOUR, HistoryStore
from kubescope.model.timefmt import format_time
from tests.history import fleetstore


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[HistoryStore, int]:
    # three days with rollouts and a two-hour gap: closed days, the open day's compacted windows, the head
    now = 1_760_000_000 - 1_760_000_000 % DAY + 13 * 3600 + 17  # fleetstore's
    store, _, got = fleetstore.build(
        tmp_path_factory.mktemp("window") / "h.db", days=3, workloads=8, gap=(now - 5 * 3600, now - 3 * 3600)
    )
    assert got == now
    return store, now


def per_series(store: HistoryStore, sid: int, start: int, now: int) -> Rollup:
    """One series over the window as the questions define it: closed days whole (from their
    1-hour chunks), the open day's compacted windows from the hour of ``start``, then the rest."""
    days, compacted = store.days_until(), store.compacted_until()
    ids = np.array([sid])
    parts = [store.rollups(2, ids, start - start % DAY, days)]
    for t0, t1 in ((max(start - start % HOUR, days), compacted - 1), (max(start, compacted), now)):
        s, ts, v = store.raw_samples(ids, t0, t1)
        parts.append(rollup.from_samples(s, ts, v, DAY))
    return rollup.merge(parts, 1 << 40)


def per_workload(store: HistoryStore, start: int, now: int) -> dict[tuple[str, ...], dict[str, object]]:
    out: dict[tuple[str, ...], dict[str, object]] = {}
    # the members the question takes: series of pods alive at the window's start or since
    members = [
        m for m in store.select_series("kind = 'container' AND owner_kind != ''", ())
        if m.last is None or m.last >= start or store.raw_samples(np.array([m.id]), start, now)[0].size
    ]  # fmt: skip
    keys = sorted({(m.namespace, m.owner_kind, m.owner_name, m.container, m.metric) for m in members})
    for key in keys:
        rs = [per_series(store, m.id, start, now) for m in members
              if (m.namespace, m.owner_kind, m.owner_name, m.container, m.metric) == key]  # fmt: skip
        idx = np.concatenate([r.sk_idx for r in rs])
        counts = np.concatenate([r.sk_count for r in rs])
        qs = [0.5, 0.9, 0.95] if key[4] == "cpu" else [0.9]
        out[key] = {
            "count": int(sum(int(r.count.sum()) for r in rs)),
            "max": max((int(r.high.max()) for r in rs if len(r)), default=-1),
            "q": sketch.quantiles_from_counts(idx, counts, qs),
        }
    return out


@pytest.mark.parametrize(
    "span", [2 * DAY, 3 * HOUR, 40 * 60], ids=["closed days and the open day", "the open day", "in the head"]
)
def test_recommendations_equal_the_per_workload_path(world: tuple[HistoryStore, int], span: int) -> None:
    store, now = world
    assert store.days_until() and store.compacted_until() > store.days_until()  # every source is read
    start = now - span
    assert (start < store.days_until()) == (span > DAY)
    want = per_workload(store, start, now)
    got = questions.recommendations(store, questions.RecommendOptions(window=span), now)
    assert got["window"]["start"] == format_time(start - start % DAY if span > DAY else start)
    assert (start > store.compacted_until()) == (span < HOUR)
    seen = 0
    k = 1.15
    for item in got["items"]:
        recs = item["status"]["recommendation"]["containerRecommendations"]
        for rec, detail in zip(recs, item["containers"], strict=True):
            key = (item["namespace"], item["kind"], item["name"], rec["containerName"])
            cpu, mem = want[(*key, "cpu")], want[(*key, "memory")]
            assert detail["samples"] == {"cpu": cpu["count"], "memory": mem["count"]}, key
            p50, p90, p95 = cpu["q"]  # type: ignore[misc]
            assert rec["target"]["cpu"] == questions.cpu_quantity(p90 * k), key
            assert rec["lowerBound"]["cpu"] == questions.cpu_quantity(p50 * k), key
            assert rec["upperBound"]["cpu"] == questions.cpu_quantity(p95 * k), key
            assert rec["target"]["memory"] == questions.mem_quantity(mem["max"] * k), key  # type: ignore[operator]
            assert rec["lowerBound"]["memory"] == questions.mem_quantity(mem["q"][0] * k), key  # type: ignore[index]
            seen += 1
    with_samples = {key[:4] for key, w in want.items() if w["count"]}
    assert seen == len(with_samples) > 0


@pytest.mark.parametrize("span", [DAY + 5 * HOUR, 40 * 60], ids=["from a closed day", "in the head"])
def test_group_totals_count_sum_and_peak_each_series(world: tuple[HistoryStore, int], span: int) -> None:
    store, latest = world
    now = latest - 600  # a window ending before the newest samples
    start = now - span
    pods = store.select_series("kind = 'pod' AND metric = 'cpu'", ())
    group_of = np.full(max(p.id for p in pods) + 1, -1, np.int64)
    for k, p in enumerate(pods):
        group_of[p.id] = k
    got = window.group_totals(store, start, now, group_of, len(pods), totals=True)
    for k, p in enumerate(pods):
        r = per_series(store, p.id, start, now)
        assert got.count[k] == int(r.count.sum()), p
        assert got.total[k] == int(r.total.sum()), p
        assert got.high[k] == (int(r.high.max()) if len(r) else -1), p
    assert (got.count > 0).any()
    assert got.sk_group.size == 0  # not asked for


def test_a_window_after_the_last_compaction_finds_the_live_series(world: tuple[HistoryStore, int]) -> None:
    """``last`` is set at compaction: series seen only in the head since are members all the same."""
    store, now = world
    assert now - 40 * 60 > store.compacted_until()
    got = questions.idle(store, questions.IdleOptions(duration=40 * 60, cpu_threshold=1e9), now)
    assert len(got["items"]) == 8, got  # every workload is under a threshold of a million cores
    assert all(i["samples"] >= 40 for i in got["items"]), got


def test_ids_out_of_the_members_range_belong_to_no_group() -> None:
    """A damaged summary naming ids far outside the catalog costs nothing (no table sized by them)."""
    sid = np.array([-5, 3, 4, 10**15], np.int64)
    ones = np.ones(4, np.int64)
    r = rollup.Rollup(DAY, sid, sid * 0, ones, ones * 7, ones, ones * 9, sid, sid * 0, ones * 100, ones)
    group_of = np.array([-1, -1, -1, 0, 1], np.int64)
    b = window._Block(group_of, [r], [])
    count, high = np.zeros(2, np.int64), np.full(2, -1, np.int64)
    b.add_to(count, None, high)
    assert count.tolist() == [1, 1] and high.tolist() == [9, 9]
    g, idx, n = b.sketch_entries()
    assert (g.tolist(), idx.tolist(), n.tolist()) == ([0, 1], [100, 100], [1, 1])
