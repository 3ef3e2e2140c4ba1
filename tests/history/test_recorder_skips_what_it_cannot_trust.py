"""The recorder writes a sample once, and never one its source has not refreshed for a long time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kubescope.history.recording import Batch, CycleStats, Recorder
from kubescope.history.series import PodInfo, SeriesKey
from kubescope.history.store import LAG, HistoryStore

T = 1_760_000_000


def _batch(samples: list[tuple[str, int, int]]) -> Batch:
    b = Batch()
    for uid, ts, value in samples:
        b.add(SeriesKey("pod", "cpu", uid), PodInfo("ns", uid, uid), ts, value)
    return b


def test_stale_and_repeated_samples_are_skipped_and_counted(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    rec = Recorder(store)
    stats = CycleStats()
    rec.write(T, _batch([("a", T - 5, 10), ("b", T - LAG - 60, 20), ("c", T + LAG + 1, 30)]), stats)
    assert (stats.samples, stats.stale) == (1, 2)
    stats = CycleStats()
    rec.write(T + 60, _batch([("a", T - 5, 11), ("a", T + 55, 12)]), stats)  # not refreshed, then new
    assert (stats.samples, stats.duplicates) == (1, 1)
    _s, ts, v = store.raw_samples(np.array(sorted(store.keys.values())), 0, 1 << 40)
    assert list(zip(ts.tolist(), v.tolist(), strict=True)) == [(T - 5, 10), (T + 55, 12)]
    # a restarted recorder knows what it wrote
    store.close()
    store = HistoryStore(tmp_path / "h.db")
    stats = CycleStats()
    Recorder(store).write(T + 70, _batch([("a", T + 55, 12)]), stats)
    assert (stats.samples, stats.duplicates) == (0, 1)
