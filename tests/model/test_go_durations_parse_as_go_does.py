"""Go durations read as ``time.ParseDuration`` reads them: the cases of Go's own time tests
(parseDurationTests, parseDurationErrorTests, the round trip of the extremes), and the settings
that take Go durations (state-metrics' server timeouts, resource-metrics' flags)."""

from __future__ import annotations

import pytest

from kubescope.errors import ConfigError
from kubescope.model.gofmt import go_duration, parse_go_duration
from kubescope.resource.settings import parse_duration
from kubescope.state.settings import _duration

NS, US, MS, S, M, H = 1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("0", 0), ("5s", 5 * S), ("30s", 30 * S), ("1478s", 1478 * S),
        ("-5s", -5 * S), ("+5s", 5 * S), ("-0", 0), ("+0", 0),
        ("5.0s", 5 * S), ("5.6s", 5 * S + 600 * MS), ("5.s", 5 * S), (".5s", 500 * MS), ("1.0s", S),
        ("1.00s", S), ("1.004s", S + 4 * MS), ("1.0040s", S + 4 * MS), ("100.00100s", 100 * S + MS),
        ("10ns", 10 * NS), ("11us", 11 * US), ("12\u00b5s", 12 * US), ("12\u03bcs", 12 * US), ("13ms", 13 * MS),
        ("14s", 14 * S), ("15m", 15 * M), ("16h", 16 * H),
        ("3h30m", 3 * H + 30 * M), ("10.5s4m", 4 * M + 10 * S + 500 * MS), ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
        ("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS), ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
        ("52763797000ns", 52763797000), ("0.3333333333333333333h", 20 * M), ("9007199254740993ns", (1 << 53) + 1),
        ("9223372036854775807ns", (1 << 63) - 1), ("9223372036854775.807us", (1 << 63) - 1),
        ("9223372036s854ms775us807ns", (1 << 63) - 1), ("-9223372036854775808ns", -(1 << 63)),
        ("-9223372036854775.808us", -(1 << 63)), ("-9223372036s854ms775us808ns", -(1 << 63)),
        ("-2562047h47m16.854775808s", -(1 << 63)), ("0.100000000000000000000h", 6 * M),
        ("0.830103483285477580700h", 49 * M + 48 * S + 372539827),
    ],
)  # fmt: skip
def test_parse_duration(text: str, want: int) -> None:
    assert parse_go_duration(text) == want


@pytest.mark.parametrize(
    "text",
    ["", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "\ufffd", "\ufffd hello \ufffd world", "1h ", "1m 30s",
     "9223372036854775810ns", "9223372036854775808ns", "-9223372036854775809ns", "9223372036854776us",
     "3000000h", "9223372036854775.808us", "9223372036854ms775us808ns"],
)  # fmt: skip
def test_parse_duration_errors(text: str) -> None:
    with pytest.raises(ValueError, match="time: "):
        parse_go_duration(text)


def test_round_trip_of_the_extremes() -> None:
    for ns in ((1 << 63) - 1, -(1 << 63), 1, -1, 90 * S, 1500 * US):
        assert parse_go_duration(go_duration(ns)) == ns


def test_settings_take_go_durations() -> None:
    assert _duration("--server-read-timeout", "0") == 0.0  # Go accepts a bare 0
    assert _duration("--server-idle-timeout", "1m30s") == 90.0
    assert parse_duration("1.5h", "--x") == 5400.0
    for bad in ("1m 30s", "60"):
        with pytest.raises(ConfigError, match="invalid duration"):
            _duration("--server-read-timeout", bad)
