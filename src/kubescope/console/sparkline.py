"""Sparklines as inline SVG, drawn on the server: a list page needs no script and no second request.

A line per run of consecutive samples (a missing poll breaks it: gaps are gaps), scaled to the row's
own maximum as the Kubernetes Dashboard's sparklines are; the title carries the last value.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from markupsafe import Markup, escape

WIDTH = 100
HEIGHT = 20


def svg(
    times: np.ndarray,
    values: np.ndarray,
    start: float,
    end: float,
    fmt: Callable[[float | None], str],
    what: str,
) -> Markup:
    """An SVG of ``values`` at ``times`` over [start, end]; an empty frame when there is nothing."""
    ok = ~np.isnan(values)
    last = float(values[ok][-1]) if ok.any() else None
    title = escape(f"{what}: {fmt(last)} now, last 15 minutes" if last is not None else f"{what}: no samples")
    head = (
        f'<svg class="spark" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{title}" data-last="{"" if last is None else round(last, 3)}"><title>{title}</title>'
    )
    if last is None or end <= start:
        return Markup(head + "</svg>")  # noqa: S704 - every text in it went through escape()
    top = float(np.nanmax(values)) or 1.0
    runs: list[list[str]] = []
    prev = False
    for t, v, present in zip(times.tolist(), values.tolist(), ok.tolist(), strict=True):
        if not present or not math.isfinite(t):
            prev = False
            continue
        x = (t - start) / (end - start) * (WIDTH - 2) + 1
        y = HEIGHT - 1 - (v / top) * (HEIGHT - 2)
        if not prev:
            runs.append([])
        runs[-1].append(f"{x:.1f},{y:.1f}")
        prev = True
    body = []
    for run in runs:
        if len(run) == 1:
            x, y = run[0].split(",")
            body.append(f'<circle cx="{x}" cy="{y}" r="1.2"/>')
        else:
            body.append(f'<polyline points="{" ".join(run)}"/>')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - numbers and escaped text only
