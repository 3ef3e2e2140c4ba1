"""Chart data: every series on one x axis, gaps only where a series has no data."""

from __future__ import annotations

import numpy as np
import pytest

from kubescope.console import charts


def test_lines_merge_on_one_axis_with_their_own_intervals() -> None:
    usage = {
        "metricPoints": [
            {"timestamp": "2026-01-01T00:00:00Z", "value": 10},
            {"timestamp": "2026-01-01T00:01:00Z", "value": 12},
            {"timestamp": "2026-01-01T00:05:00Z", "value": 11},
        ],
        "intervals": [
            {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:01:00Z"},
            {"start": "2026-01-01T00:05:00Z", "end": "2026-01-01T00:05:00Z"},
        ],
    }
    request = {
        "metricPoints": [{"timestamp": "2026-01-01T00:00:30Z", "value": 100}],
        "intervals": [{"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:06:00Z"}],
    }
    t0 = 1767225600
    c = charts.chart(
        "cpu",
        t0,
        t0 + 360,
        [charts.history_line("usage", usage), charts.history_line("request", request)],
        source="history",
    )
    assert c["x"] == [t0, t0 + 30, t0 + 60, t0 + 300]
    u, r = c["series"]
    assert u["values"] == [10, None, 12, 11]
    assert u["intervals"] == [[t0, t0 + 60], [t0 + 300, t0 + 300]]
    assert r["values"] == [None, 100, None, None]


def test_the_ring_breaks_lines_where_polls_are_missing() -> None:
    times = np.array([0.0, 15, 30, 45, 60, 75])
    values = np.array([1.0, 2, np.nan, np.nan, 5, 6])
    _, ts, vs, ints = charts.ring_line("usage", times, values, 15)
    assert ts == [0, 15, 60, 75] and vs == [1, 2, 5, 6]
    assert ints == [[0, 15], [60, 75]]


@pytest.mark.parametrize("name", ["15m", "1h", "6h", "24h", "7d", "14d"])
def test_each_range_asks_about_250_points_or_raw_samples(name: str) -> None:
    _, seconds, step = charts.parse_range(name)
    if step is None:
        assert seconds <= 3600
    else:
        assert 200 <= seconds // step <= 300
        if seconds >= 86400:
            assert step % 300 == 0, "a day and more is answered from 5-minute rollups"


def test_an_unknown_range_names_the_ranges() -> None:
    with pytest.raises(
        charts.BadInput, match="range='3y' is not one of the ranges: 15m, 1h, 6h, 24h, 7d, 14d"
    ):
        charts.parse_range("3y")
