"""Kubernetes timestamps: ``metav1.Time`` (RFC 3339, seconds) and ``MicroTime``."""

from __future__ import annotations

import datetime as _dt

UTC = _dt.UTC


def format_time(ts: float) -> str:
    """``metav1.Time`` JSON form: RFC 3339 at second precision, UTC (``2022-01-27T18:48:43Z``)."""
    return _dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(ts: float) -> str:
    """``metav1.MicroTime`` JSON form: six fractional digits."""
    return _dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s: str) -> float:
    """Parse an RFC 3339 timestamp into unix seconds (fractions kept)."""
    return _dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def unix(t: _dt.datetime | None) -> int | None:
    """Go's ``Time.Unix()``: whole seconds, floor; None stays None."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() // 1)
