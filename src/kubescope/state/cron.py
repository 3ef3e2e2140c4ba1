"""Cron schedules as robfig/cron v3's ``ParseStandard`` reads them (what the CronJob controller and
kube-state-metrics use): five fields (minute hour day-of-month month day-of-week), ``*``, ranges,
steps, lists, month and weekday names, the ``@yearly``/``@annually``/``@monthly``/``@weekly``/
``@daily``/``@midnight``/``@hourly`` descriptors, ``@every <duration>``, and a ``CRON_TZ=`` or ``TZ=``
prefix. :meth:`Schedule.next` is ``Schedule.Next``: the first activation strictly after a time.

Day matching follows robfig: if either day field is ``*``/``?``, both must match; otherwise either
may match (``0 0 1 * MON`` fires on the 1st and on Mondays).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """The schedule cannot be parsed."""


@dataclass(frozen=True)
class _Field:
    values: frozenset[int]
    star: bool


def _parse_field(text: str, lo: int, hi: int, names: dict[str, int] | None) -> _Field:
    values: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise CronError(f"empty list item in {text!r}")
        rng, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronError(f"invalid step {step_s!r}")
            step = int(step_s)
        if rng in ("*", "?"):
            start, end = lo, hi
            star = star or step == 1
        else:
            a, sep, b = rng.partition("-")
            start = _value(a, lo, hi, names)
            end = _value(b, lo, hi, names) if sep else (hi if step_s else start)
            if start > end:
                raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {part!r}")
        values.update(range(start, end + 1, step))
    return _Field(frozenset(values), star)


def _value(s: str, lo: int, hi: int, names: dict[str, int] | None) -> int:
    if names is not None and s.lower() in names:
        return names[s.lower()]
    if not s.isdigit():
        raise CronError(f"failed to parse int from {s!r}")
    v = int(s)
    if not lo <= v <= hi:
        raise CronError(f"value ({v}) out of range [{lo}, {hi}]")
    return v


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")


@dataclass(frozen=True)
class Schedule:
    minute: _Field
    hour: _Field
    dom: _Field
    month: _Field
    dow: _Field
    tz: dt.tzinfo
    every: float = 0.0

    def _day_matches(self, d: dt.date) -> bool:
        dom = d.day in self.dom.values
        dow = (d.isoweekday() % 7) in self.dow.values
        if self.dom.star or self.dow.star:
            return dom and dow
        return dom or dow

    def next(self, after: dt.datetime) -> dt.datetime | None:
        """The first activation strictly after ``after`` (an aware datetime); None if none in 5 years."""
        if self.every:
            base = after.replace(microsecond=0)
            return base + dt.timedelta(seconds=self.every)
        local = after.astimezone(self.tz)
        # the next whole minute after `after` (seconds field is always 0 in standard specs)
        start = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        day = start.date()
        minutes = sorted(self.minute.values)
        hours = sorted(self.hour.values)
        for _ in range(366 * 5 + 2):
            if day.month in self.month.values and self._day_matches(day):
                for h in hours:
                    for m in minutes:
                        cand = dt.datetime(day.year, day.month, day.day, h, m, tzinfo=self.tz)
                        if cand.astimezone(UTC) >= start.astimezone(UTC):
                            return cand
            day += dt.timedelta(days=1)
        return None


def parse(spec: str, timezone: str | None = None) -> Schedule:
    """Parse as robfig's ParseStandard, with ``CRON_TZ=<timezone>`` prepended when given."""
    if timezone is not None:
        spec = f"CRON_TZ={timezone} {spec}"
    spec = spec.strip()
    tz: dt.tzinfo = UTC  # robfig uses time.Local: UTC in the containers kube-state-metrics runs in
    if spec.startswith(("CRON_TZ=", "TZ=")):
        head, _, spec = spec.partition(" ")
        name = head.partition("=")[2]
        try:
            tz = ZoneInfo(name) if name not in ("UTC", "") else UTC
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise CronError(f"provided bad location {name}: {e}") from e
        spec = spec.strip()
    if spec.startswith("@"):
        if spec.startswith("@every "):
            total = 0.0
            rest = spec[len("@every ") :].strip()
            if not rest or _DURATION.sub("", rest):
                raise CronError(f"failed to parse duration {rest!r}")
            for num, unit in _DURATION.findall(rest):
                total += (
                    float(num)
                    * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}[unit]
                )
            every = max(1.0, float(int(total)))  # rounded to seconds, at least one
            star = _Field(frozenset(), True)
            return Schedule(star, star, star, star, star, tz, every)
        if spec not in _DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: {spec!r}")
    return Schedule(
        _parse_field(fields[0], 0, 59, None),
        _parse_field(fields[1], 0, 23, None),
        _parse_field(fields[2], 1, 31, None),
        _parse_field(fields[3], 1, 12, _MONTHS),
        _parse_field(fields[4], 0, 6, _DAYS),
        tz,
    )
