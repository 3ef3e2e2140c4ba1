"""Go's ``time.Time`` arithmetic in a location, where kube-state-metrics' output depends on it.

A time is whole unix seconds plus a ``tzinfo`` (a ``zoneinfo.ZoneInfo`` or a fixed offset). The
part that differs from Python's datetime is :func:`date`, Go's ``time.Date``: it normalises
out-of-range fields (month 13, day 0, hour 24) by carrying, and resolves a wall clock time that
a DST change skips or repeats with Go's two-lookup rule (the offset in force at the wall time read
as UTC, then at the instant that gives), not with Python's ``fold``. ``AddDate`` is ``Date`` of
the shifted fields, so both follow from it.
"""

from __future__ import annotations

import datetime as _dt
from typing import NamedTuple

from kubescope.model.timefmt import days_from_civil

UTC = _dt.UTC


class Clock(NamedTuple):
    """A time's calendar fields in its location; ``weekday`` counts from Sunday = 0, as Go does."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int


def offset(unix: int, tz: _dt.tzinfo) -> int:
    """Seconds east of UTC in force at instant ``unix`` (Go's ``Location.lookup``)."""
    if tz is UTC:
        return 0
    off = _dt.datetime.fromtimestamp(unix, tz).utcoffset()
    return 0 if off is None else int(off.total_seconds())


def clock(unix: int, tz: _dt.tzinfo) -> Clock:
    """``t.Date()``, ``t.Clock()`` and ``t.Weekday()`` of instant ``unix`` in ``tz``."""
    days, secs = divmod(unix + offset(unix, tz), 86400)
    d = _dt.date(1970, 1, 1) + _dt.timedelta(days=days)
    return Clock(d.year, d.month, d.day, secs // 3600, secs // 60 % 60, secs % 60, d.isoweekday() % 7)


def date(year: int, month: int, day: int, hour: int, minute: int, second: int, tz: _dt.tzinfo) -> int:
    """``time.Date(year, month, day, hour, min, sec, 0, tz)`` as unix seconds."""
    year, m0 = divmod(year * 12 + month - 1, 12)
    wall = (days_from_civil(year, m0 + 1, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second
    # Go looks the offset up at the wall time read as UTC, then again at the instant that gives
    # when it falls outside that zone period; the second lookup decides.
    return wall - offset(wall - offset(wall, tz), tz)


def add_date(unix: int, tz: _dt.tzinfo, years: int, months: int, days: int) -> int:
    """``t.AddDate(years, months, days)``."""
    c = clock(unix, tz)
    return date(c.year + years, c.month + months, c.day + days, c.hour, c.minute, c.second, tz)
