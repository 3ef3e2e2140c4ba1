"""Kubernetes timestamps: the one RFC 3339 parser of kubescope, and ``metav1.Time`` formats.

:func:`parse_rfc3339` is Go's ``time.Parse(time.RFC3339, s)``, what kube-state-metrics (Custom
Resource State values) and client-go apply to timestamps, with Go's leniencies and strictness:
a one-digit hour, ``,`` as the fraction separator, fractions beyond nanoseconds dropped, offsets
up to ``+24:00`` and ``:60`` minutes; but no lower-case ``t``/``z``, no space for ``T``, no hour 24,
no second 60, and the day checked against the month.

Typed objects' timestamps are decoded by msgspec (in C, on the hot path); everything that reads
a timestamp from text itself uses this module.
"""

from __future__ import annotations

import datetime as _dt

UTC = _dt.UTC
_DIGITS = frozenset("0123456789")


def format_time(ts: float) -> str:
    """``metav1.Time`` JSON form: RFC 3339 at second precision, UTC (``2022-01-27T18:48:43Z``)."""
    return _dt.datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(ts: float) -> str:
    """``metav1.MicroTime`` JSON form: six fractional digits."""
    return _dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def days_in(month: int, year: int) -> int:
    """Days in a month of the proleptic Gregorian calendar (Go's ``daysIn``)."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, month 1-12)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _num(s: str, i: int, fixed: bool) -> tuple[int, int] | None:
    """Go's ``getnum`` at ``s[i:]``: two digits, or one when not ``fixed``; (value, next index)."""
    if i >= len(s) or s[i] not in _DIGITS:
        return None
    if i + 1 >= len(s) or s[i + 1] not in _DIGITS:
        return None if fixed else (int(s[i]), i + 1)
    return int(s[i : i + 2]), i + 2


def parse_rfc3339(s: str) -> tuple[int, int] | None:
    """``time.Parse(time.RFC3339, s)`` as (unix seconds, nanoseconds); None where Go errs."""
    if len(s) < 4 or any(c not in _DIGITS for c in s[:4]):
        return None
    year = int(s[:4])
    i = 4
    fields = []
    # -MM-DDTh[h]:mm:ss, each number after its separator
    for sep, fixed in (("-", True), ("-", True), ("T", False), (":", True), (":", True)):
        if s[i : i + 1] != sep:
            return None
        got = _num(s, i + 1, fixed)
        if got is None:
            return None
        value, i = got
        fields.append(value)
    month, day, hour, minute, second = fields
    if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60):
        return None
    nanos = 0
    if s[i : i + 1] in (".", ",") and s[i + 1 : i + 2] in _DIGITS:
        n = i + 2
        while n < len(s) and s[n] in _DIGITS:
            n += 1
        digits = s[i + 1 : min(n, i + 10)]  # Go reads at most nine digits
        nanos = int(digits) * 10 ** (9 - len(digits))
        i = n
    offset = 0
    if s[i : i + 1] == "Z":
        i += 1
    else:
        tz = s[i : i + 6]
        if len(tz) < 6 or tz[3] != ":" or tz[0] not in "+-":
            return None
        hh, mm = _num(tz, 1, True), _num(tz, 4, True)
        if hh is None or mm is None or hh[0] > 24 or mm[0] > 60:
            return None
        offset = (hh[0] * 60 + mm[0]) * 60 * (-1 if tz[0] == "-" else 1)
        i += 6
    if i != len(s) or day < 1 or day > days_in(month, year):
        return None
    unix = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    return unix, nanos


def rfc3339_unix(s: str) -> int | None:
    """``time.Parse(time.RFC3339, s).Unix()``; None when Go rejects the string."""
    got = parse_rfc3339(s)
    return None if got is None else got[0]


def parse_time(s: str) -> float:
    """An RFC 3339 timestamp as unix seconds (fraction kept); ValueError when Go would reject it."""
    got = parse_rfc3339(s)
    if got is None:
        raise ValueError(f"not an RFC 3339 timestamp: {s[:64]!r}")
    return got[0] + got[1] / 1e9


def unix(t: _dt.datetime | None) -> int | None:
    """Go's ``Time.Unix()``: whole seconds, floor; None stays None."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return int(t.timestamp() // 1)


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration``."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rem = s % 60
        return f"{minutes}m{rem}s" if rem else f"{minutes}m"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rem = minutes % 60
        return f"{hours}h{rem}m" if rem else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rem = hours % 24
        return f"{hours // 24}d{rem}h" if rem else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        rem = days % 365
        return f"{days // 365}y{rem}d" if rem else f"{days // 365}y"
    return f"{hours // 24 // 365}y"
