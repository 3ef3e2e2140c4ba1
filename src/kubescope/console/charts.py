"""Charts as data, pure: the range picker's ranges, the step each asks of the history API, and the JSON
a chart is drawn from (``console.js`` hands it to uPlot).

A chart's JSON::

    {"unit": "cpu" | "memory" | "count", "start": 1733480000, "end": 1733483600,
     "x": [t0, t1, ...],                                  # Unix seconds, every series' times merged
     "series": [{"label": "usage", "values": [v | null, ...],
                 "intervals": [[a, b], ...]}, ...],      # where the series has data
     "source": "history" | "console" | "", "notes": ["..."]}

Gaps are gaps: a ``null`` inside one of the series' ``intervals`` only means another series has a point
there (drawn through), outside them it breaks the line. Units stay the sources' own: millicores for CPU,
bytes for memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from kubescope.model.timefmt import rfc3339_unix

RANGES: dict[str, tuple[int, int | None]] = {
    "15m": (900, None),
    "1h": (3600, None),
    "6h": (6 * 3600, 90),
    "24h": (86400, 300),
    "7d": (7 * 86400, 2400),
    "14d": (14 * 86400, 4800),
}
"""Range -> (seconds, step asked of the history API). Up to an hour raw samples (60-240 points at
the usual 15-60 s resolutions); longer ranges ~250 steps, in multiples of 5 minutes from a day up so
the history API answers from its rollups."""
DEFAULT_RANGE = "1h"


class BadInput(ValueError):
    """A request parameter the console cannot use; the message names it and what is accepted (400)."""


def parse_range(text: str | None) -> tuple[str, int, int | None]:
    name = text or DEFAULT_RANGE
    if name not in RANGES:
        raise BadInput(f"range={name!r} is not one of the ranges: {', '.join(RANGES)}")
    seconds, step = RANGES[name]
    return name, seconds, step


def _points(answer: dict[str, Any]) -> tuple[list[int], list[float]]:
    ts: list[int] = []
    vs: list[float] = []
    for p in answer.get("metricPoints") or ():
        t = rfc3339_unix(str(p.get("timestamp", "")))
        v = p.get("value")
        if t is None or not isinstance(v, int | float):
            continue
        ts.append(t)
        vs.append(float(v))
    return ts, vs


def _intervals(answer: dict[str, Any]) -> list[list[int]]:
    out = []
    for i in answer.get("intervals") or ():
        a, b = rfc3339_unix(str(i.get("start", ""))), rfc3339_unix(str(i.get("end", "")))
        if a is not None and b is not None:
            out.append([a, b])
    return out


def chart(
    unit: str,
    start: int,
    end: int,
    lines: Sequence[tuple[str, list[int], list[float], list[list[int]]]],
    *,
    source: str,
    notes: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge ``(label, times, values, intervals)`` lines onto one x axis."""
    xs = sorted({t for _, ts, _, _ in lines for t in ts})
    index = {t: i for i, t in enumerate(xs)}
    series = []
    for label, ts, vs, ints in lines:
        values: list[float | None] = [None] * len(xs)
        for t, v in zip(ts, vs, strict=True):
            values[index[t]] = v if math.isfinite(v) else None
        series.append({"label": label, "values": values, "intervals": ints})
    return {"unit": unit, "start": start, "end": end, "x": xs, "series": series, "source": source,
            "notes": [n for n in notes if n]}  # fmt: skip


def history_line(label: str, answer: dict[str, Any]) -> tuple[str, list[int], list[float], list[list[int]]]:
    """A history API points answer as a chart line (its own intervals)."""
    ts, vs = _points(answer)
    return label, ts, vs, _intervals(answer)


def constant_line(
    label: str, value: float | None, start: int, end: int
) -> tuple[str, list[int], list[float], list[list[int]]]:
    """A flat line (a node's allocatable, a current request) across the range."""
    if value is None:
        return label, [], [], []
    return label, [start, end], [value, value], [[start, end]]


def ring_line(
    label: str, times: np.ndarray, values: np.ndarray, period: float
) -> tuple[str, list[int], list[float], list[list[int]]]:
    """The console's own 15-minute ring as a line: samples more than two polls apart are a gap."""
    ok = ~np.isnan(values)
    ts = [int(t) for t in times[ok]]
    vs = [float(v) for v in values[ok]]
    ints: list[list[int]] = []
    for t in ts:
        if ints and t - ints[-1][1] <= 2 * period:
            ints[-1][1] = t
        else:
            ints.append([t, t])
    return label, ts, vs, ints


def last_value(chart_: dict[str, Any], label: str) -> float | None:
    for s in chart_["series"]:
        if s["label"] == label:
            vals = [v for v in s["values"] if v is not None]
            return vals[-1] if vals else None
    return None
