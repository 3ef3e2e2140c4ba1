"""Cron schedules exactly as kube-state-metrics v2.20 reads them, for ``kube_cronjob_next_schedule_time``
and ``kube_cronjob_schedule_invalid``.

KSM v2.20 parses schedules with ``github.com/netresearch/go-cron`` (v0.15, the maintained fork of
robfig/cron v3 it switched to in 2026), ``ParseStandard`` with ``CRON_TZ=<spec.timeZone>``
prepended. That parser differs from robfig's, and from the CronJob controller's, and this module
follows it, quirks included:

* five fields (minute hour day-of-month month day-of-week), or a descriptor: ``@yearly``,
  ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``,
  ``@every <Go duration>`` (at least 1s, whole seconds) and ``@triggered``/``@manual``/``@none``
  (never due: Next is Go's zero time, which KSM prints as ``-6.21355968e+10``);
* a ``TZ=`` or ``CRON_TZ=`` prefix, quotes around the zone stripped, names checked for length and
  characters before loading; without one, the time's own location (UTC where KSM runs);
* every field wraps around (``22-2`` hours, ``FRI-MON``, ``55-5`` minutes); ``*-x`` is ``*``; a step
  must be positive and smaller than its range (``*/60`` and ``59/30`` minutes are invalid, ``*/0``
  too); ``N/step`` runs from N to the field's end; 7 is Sunday too;
* ``L``, ``W``, ``#`` and ``H`` are refused (other parser options enable them);
* day-of-month and day-of-week must **both** match (go-cron's AND; robfig ORs them when both are
  restricted);
* Next searches at most five years ahead and follows go-cron's DST handling: a time skipped by a
  spring-forward runs right after it (ISC cron), a repeated hour runs twice, a day whose midnight
  does not exist starts at the first hour that does.

:class:`Parser` takes go-cron's options that its own test cases use (a seconds field, an optional
day of week, robfig's day OR), so the test table replays them; KSM uses :data:`STANDARD`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubescope.model.gofmt import parse_go_duration
from kubescope.model.gotime import add_date, clock, date
from kubescope.model.govalue import go_parse_int64

UTC = dt.UTC
STAR_BIT = 1 << 63
"""Set in a field given as ``*`` or ``?`` (with no step): go-cron's ``starBit``."""
MAX_SPEC_LENGTH = 1024
SEARCH_YEARS = 5
_DOW_BIT7 = 1 << 7


class CronError(ValueError):
    """The schedule cannot be parsed."""


@dataclass(frozen=True)
class Bounds:
    lo: int
    hi: int
    names: dict[str, int] | None = None
    wraparound: bool = True


SECONDS = Bounds(0, 59)
MINUTES = Bounds(0, 59)
HOURS = Bounds(0, 23)
DOM = Bounds(1, 31)
MONTHS = Bounds(
    1,
    12,
    {
        m: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
)
DOW = Bounds(0, 7, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])})


def get_bits(lo: int, hi: int, step: int) -> int:
    """Bits ``lo..hi`` every ``step`` (go-cron's ``getBits``)."""
    if step == 1:
        return ((1 << (hi + 1)) - 1) & ~((1 << lo) - 1)
    bits = 0
    for i in range(lo, hi + 1, step):
        bits |= 1 << i
    return bits


def all_bits(b: Bounds) -> int:
    return get_bits(b.lo, b.hi, 1) | STAR_BIT


def normalize_dow(bits: int) -> int:
    """Sunday given as 7 becomes Sunday 0."""
    return (bits | 1) & ~_DOW_BIT7 if bits & _DOW_BIT7 else bits


def _int(expr: str) -> int:
    """go-cron's ``mustParseInt``: ``strconv.Atoi``, negatives refused."""
    v = go_parse_int64(expr)
    if v is None:
        raise CronError(f"failed to parse int from {expr!r}")
    if v < 0:
        raise CronError(f"negative number ({v}) not allowed: {expr!r}")
    return v


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _int(expr)


def get_range(expr: str, b: Bounds) -> int:
    """The bits of one range: ``*``, ``?``, ``N``, ``N-M``, each with an optional ``/step``."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end, extra = b.lo, b.hi, STAR_BIT  # whatever follows a "-" is ignored
    else:
        start = _int_or_name(low_and_high[0], b.names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], b.names)
        else:
            raise CronError(f"too many hyphens: {range_and_step[0]!r}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if single:
            end = b.hi
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr!r}")
    if start < b.lo:
        raise CronError(f"beginning of range ({start}) below minimum ({b.lo}): {expr!r}")
    if end > b.hi:
        raise CronError(f"end of range ({end}) above maximum ({b.hi}): {expr!r}")
    if start > end and not b.wraparound:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr!r}")
    if step == 0:
        raise CronError(f"step of range must be a positive number: {expr!r}")
    size = (b.hi - start + 1) + (end - b.lo + 1) if start > end else end - start + 1
    if step > 1 and step >= size:
        raise CronError(f"step ({step}) must be less than range size ({size}): {expr!r}")
    if start > end:  # wraps around: start..hi, then lo..end
        span = b.hi - b.lo + 1
        bits = 0
        for i in range(start, end + span + 1, step):
            bits |= 1 << (i if i <= b.hi else (i - b.lo) % span + b.lo)
        return bits | extra
    return get_bits(start, end, step) | extra


def get_field(field: str, b: Bounds) -> int:
    """A comma-separated list of ranges (empty items skipped, as Go's ``FieldsFunc`` does)."""
    bits = 0
    for expr in field.split(","):
        if expr:
            bits |= get_range(expr, b)
    return bits


def _go_space(c: str) -> bool:
    """Go's ``unicode.IsSpace`` (not Python's: U+001C..U+001F are not spaces to Go)."""
    return c in "\t\n\v\f\r \x85\xa0" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _go_fields(s: str) -> list[str]:
    """``strings.Fields``."""
    out: list[str] = []
    cur: list[str] = []
    for c in s:
        if _go_space(c):
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


def _go_trim_space(s: str) -> str:
    i, j = 0, len(s)
    while i < j and _go_space(s[i]):
        i += 1
    while j > i and _go_space(s[j - 1]):
        j -= 1
    return s[i:j]


_TZ_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-+:")


def _location(name: str) -> dt.tzinfo | None:
    """go-cron's ``validateTimezone`` then Go's ``time.LoadLocation``; None is ``time.Local``."""
    if not name:
        raise CronError('invalid timezone "": empty timezone string')
    if len(name) > 64:
        raise CronError(f"invalid timezone {name!r}: timezone string too long (max 64 chars)")
    if any(c not in _TZ_CHARS for c in name):
        raise CronError(f"invalid timezone {name!r}: invalid character")
    if name == "UTC":
        return UTC
    if name == "Local":
        return None
    if name[0] == "/" or ".." in name:
        raise CronError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise CronError(f"unknown time zone {name!r}") from e


@dataclass(frozen=True)
class SpecSchedule:
    """A five- (or six-) field schedule as bit sets; ``location`` None: the time's own location."""

    second: int
    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    location: dt.tzinfo | None = None
    dow_or_dom: bool = False

    def _day_matches(self, day: int, weekday: int) -> bool:
        dom = (1 << day) & self.dom != 0
        dow = (1 << weekday) & self.dow != 0
        if self.dow_or_dom and not (self.dom & STAR_BIT or self.dow & STAR_BIT):
            return dom or dow
        return dom and dow

    def next(self, after: dt.datetime) -> dt.datetime | None:
        """go-cron's ``SpecSchedule.Next``: the first activation strictly after ``after`` (an aware
        datetime), in its location; None where Go returns the zero time (none within 5 years)."""
        if not (self.second and self.minute and self.hour and self.month):
            return None  # a field that matches nothing: Go searches five years, then gives up
        if not self.dow_or_dom and not (self.dom & ~STAR_BIT and self.dow & ~STAR_BIT):
            return None
        tz = self.location or after.tzinfo or UTC
        try:
            found = self._next(int(after.timestamp() // 1) + 1, tz)
        except (OverflowError, ValueError):  # beyond the years datetime holds
            return None
        return None if found is None else dt.datetime.fromtimestamp(found, tz)

    def _next(self, t: int, tz: dt.tzinfo) -> int | None:
        added = False
        year_limit = clock(t, tz).year + SEARCH_YEARS
        while True:  # each pass is go-cron's "WRAP:" label
            c = clock(t, tz)
            if c.year > year_limit:
                return None
            wrapped = False
            while not (1 << c.month) & self.month:
                if not added:
                    added = True
                    t = date(c.year, c.month, 1, 0, 0, 0, tz)
                t = add_date(t, tz, 0, 1, 0)
                c = clock(t, tz)
                if c.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(c.day, c.weekday):
                if not added:
                    added = True
                    t = date(c.year, c.month, c.day, 0, 0, 0, tz)
                t = add_date(t, tz, 0, 0, 1)
                c = clock(t, tz)
                if c.hour:  # DST left no midnight: to the nearest one
                    t += (24 - c.hour) * 3600 if c.hour > 12 else -c.hour * 3600
                    c = clock(t, tz)
                if c.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << c.hour) & self.hour:
                if not added:
                    added = True
                    t = date(c.year, c.month, c.day, c.hour, 0, 0, tz)
                prev_hour = clock(t, tz).hour
                t += 3600
                c = clock(t, tz)
                if c.hour - prev_hour == 2 and (1 << (c.hour - 1)) & self.hour:
                    break  # the scheduled hour was skipped by DST: run now (ISC cron)
                if c.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << c.minute) & self.minute:
                if not added:
                    added = True
                    t -= t % 60
                t += 60
                c = clock(t, tz)
                if c.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            if self.second == 1 and c.second:  # only second 0: the loop below, in one step
                added = True
                t += 60 - c.second
                continue
            while not (1 << c.second) & self.second:
                if not added:
                    added = True
                t += 1
                c = clock(t, tz)
                if c.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return t


@dataclass(frozen=True)
class ConstantDelaySchedule:
    """``@every``: a fixed delay in whole seconds after the given time."""

    delay: int

    def next(self, after: dt.datetime) -> dt.datetime | None:
        return after.replace(microsecond=0) + dt.timedelta(seconds=self.delay)


@dataclass(frozen=True)
class TriggeredSchedule:
    """``@triggered``, ``@manual``, ``@none``: never due by time."""

    def next(self, after: dt.datetime) -> dt.datetime | None:
        return None


Schedule = SpecSchedule | ConstantDelaySchedule | TriggeredSchedule


def _descriptor(spec: str, tz: dt.tzinfo | None) -> Schedule:
    hour0, dom1, month1, dow0 = 1 << 0, 1 << 1, 1 << 1, 1 << 0
    every_dow = normalize_dow(all_bits(DOW))
    table = {
        "@yearly": (hour0, dom1, month1, every_dow),
        "@annually": (hour0, dom1, month1, every_dow),
        "@monthly": (hour0, dom1, all_bits(MONTHS), every_dow),
        "@weekly": (hour0, all_bits(DOM), all_bits(MONTHS), dow0),
        "@daily": (hour0, all_bits(DOM), all_bits(MONTHS), every_dow),
        "@midnight": (hour0, all_bits(DOM), all_bits(MONTHS), every_dow),
        "@hourly": (all_bits(HOURS), all_bits(DOM), all_bits(MONTHS), every_dow),
    }
    if spec in table:
        hour, dom, month, dow = table[spec]
        return SpecSchedule(1, 1, hour, dom, month, dow, tz)
    if spec in ("@triggered", "@manual", "@none"):
        return TriggeredSchedule()
    if spec.startswith("@every "):
        try:
            ns = parse_go_duration(spec[len("@every ") :])
        except ValueError as e:
            raise CronError(f"failed to parse duration {spec!r}: {e}") from None
        if ns < 1_000_000_000:
            raise CronError(f"@every duration must be at least 1s: {spec!r}")
        return ConstantDelaySchedule(ns // 1_000_000_000)
    raise CronError(f"unrecognized descriptor: {spec!r}")


@dataclass(frozen=True)
class Parser:
    """go-cron's ``Parser`` for the options its test cases use; :data:`STANDARD` is KSM's."""

    seconds: bool = False
    """A leading seconds field (``Second``); else seconds are 0."""
    dow_optional: bool = False
    """The day-of-week field may be left out (``DowOptional``): it is then ``*``."""
    dow_or_dom: bool = False
    """robfig's day matching (``DowOrDom``): either day field matches when both are restricted."""
    descriptors: bool = True

    def parse(self, spec: str) -> Schedule:
        if not spec:
            raise CronError("empty spec string")
        if len(spec.encode()) > MAX_SPEC_LENGTH:
            raise CronError(f"spec too long: {len(spec.encode())} > {MAX_SPEC_LENGTH}")
        tz: dt.tzinfo | None = None
        if spec.startswith(("TZ=", "CRON_TZ=")):
            i = spec.find(" ")
            if i == -1:
                raise CronError(f"missing fields after timezone in spec {spec!r}")
            name = spec[spec.index("=") + 1 : i]
            if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
                name = name[1:-1]
            tz = _location(name)
            spec = _go_trim_space(spec[i:])
            if not spec:
                raise CronError(f"missing fields after timezone {name!r}")
        if spec.startswith("@"):
            if not self.descriptors:
                raise CronError(f"parser does not accept descriptors: {spec!r}")
            return _descriptor(spec, tz)
        fields = _go_fields(spec)
        most = 5 + self.seconds
        least = most - self.dow_optional
        if not least <= len(fields) <= most:
            want = f"exactly {least}" if least == most else f"{least} to {most}"
            raise CronError(f"expected {want} fields, found {len(fields)}: {fields}")
        if len(fields) < most:
            fields.append("*")
        if not self.seconds:
            fields.insert(0, "0")
        if any(part.startswith("H") for f in fields for part in f.split(",")):
            raise CronError("h expressions require hash option to be enabled")
        second, minute, hour = (
            get_field(fields[0], SECONDS),
            get_field(fields[1], MINUTES),
            get_field(fields[2], HOURS),
        )
        month = get_field(fields[4], MONTHS)
        if "L" in fields[3].upper() or "W" in fields[3].upper():
            raise CronError("extended day-of-month syntax (L, W) requires the DomL or DomW option")
        dom = get_field(fields[3], DOM)
        if "#" in fields[5]:
            raise CronError("#n/#L syntax requires the DowNth or DowLast option")
        dow = normalize_dow(get_field(fields[5], DOW))
        return SpecSchedule(second, minute, hour, dom, month, dow, tz, self.dow_or_dom)


STANDARD = Parser()
"""``cron.ParseStandard``: five fields and descriptors, day fields ANDed."""


@lru_cache(maxsize=1024)
def parse(spec: str, timezone: str | None = None) -> Schedule:
    """KSM's ``parseSchedule``: ``CRON_TZ=<timezone>`` prepended when the CronJob sets one, then
    ``ParseStandard``."""
    if timezone is not None:
        spec = f"CRON_TZ={timezone} {spec}"
    return STANDARD.parse(spec)
