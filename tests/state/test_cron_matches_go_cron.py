"""Cron schedules agree with the parser kube-state-metrics v2.20 uses (netresearch/go-cron v0.15,
``ParseStandard``) on every case of its own ``parser_test.go`` and ``spec_test.go`` that its
standard and seconds parsers can express, and on every case of robfig/cron v3's test files (from
which those descend). Where go-cron changed robfig's answer (day-of-month AND day-of-week, steps
not smaller than their range, DST spring-forward), the case carries go-cron's answer, and
:data:`ROBFIG_CHANGED` lists robfig's old one next to it.

Times are written as the Go tests write them; ``Local`` is UTC (where KSM runs).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kubescope.state import cron
from kubescope.state.cron import (
    DOM,
    DOW,
    HOURS,
    MINUTES,
    MONTHS,
    SECONDS,
    STAR_BIT,
    Bounds,
    ConstantDelaySchedule,
    CronError,
    Parser,
    SpecSchedule,
    TriggeredSchedule,
    all_bits,
    get_bits,
    get_field,
    get_range,
    normalize_dow,
)

UTC = dt.UTC
STANDARD = cron.STANDARD
SECOND_PARSER = Parser(seconds=True, dow_optional=True)  # the tests' secondParser
OR_PARSER = Parser(dow_or_dom=True)


def get_time(value: str) -> dt.datetime | None:
    """The Go tests' ``getTime``: "" is the zero time, a ``TZ=`` prefix names the location."""
    if not value:
        return None
    tz: dt.tzinfo = UTC
    if value.startswith("TZ="):
        name, value = value.split()
        tz = ZoneInfo(name[len("TZ=") :])
    for layout in ("%a %b %d %H:%M %Y", "%a %b %d %H:%M:%S %Y"):
        try:
            return dt.datetime.strptime(value, layout).replace(tzinfo=tz)
        except ValueError:
            pass
    t = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    return t.astimezone(tz) if tz is not UTC else t


def instant(t: dt.datetime | None) -> float | None:
    """The instant of a time: aware datetimes in a repeated hour (fold=1) never compare equal across
    zones in Python (PEP 495), so the tests compare instants, as Go's Time.Equal does."""
    return None if t is None else t.timestamp()


# -- getRange, getField, getBits, all, NormalizeDOW (parser_test.go, spec_test.go) -----------

RANGE = [
    ("5", 0, 7, 1 << 5, ""),
    ("0", 0, 7, 1 << 0, ""),
    ("7", 0, 7, 1 << 7, ""),
    ("5-5", 0, 7, 1 << 5, ""),
    ("5-6", 0, 7, 1 << 5 | 1 << 6, ""),
    ("5-7", 0, 7, 1 << 5 | 1 << 6 | 1 << 7, ""),
    ("5-6/2", 0, 7, 0, "step (2) must be less than range size (2)"),  # robfig: 1<<5
    ("5-7/2", 0, 7, 1 << 5 | 1 << 7, ""),
    ("5-7/1", 0, 7, 1 << 5 | 1 << 6 | 1 << 7, ""),
    ("*", 1, 3, 1 << 1 | 1 << 2 | 1 << 3 | STAR_BIT, ""),
    ("*/2", 1, 3, 1 << 1 | 1 << 3, ""),
    ("5--5", 0, 0, 0, "too many hyphens"),
    ("jan-x", 0, 0, 0, "failed to parse int from"),
    ("2-x", 1, 5, 0, "failed to parse int from"),
    ("*/-12", 0, 0, 0, "negative number"),
    ("*//2", 0, 0, 0, "too many slashes"),
    ("1", 3, 5, 0, "below minimum"),
    ("6", 3, 5, 0, "above maximum"),
    ("5-3", 3, 5, 0, "beyond end of range"),
    ("*/0", 0, 0, 0, "must be a positive number"),
    ("0-5/10", 0, 59, 0, "step (10) must be less than range size (6)"),
    ("0-5/6", 0, 59, 0, "step (6) must be less than range size (6)"),
    ("0-2/5", 0, 59, 0, "step (5) must be less than range size (3)"),
    ("*/60", 0, 59, 0, "step (60) must be less than range size (60)"),
    ("*/100", 0, 59, 0, "step (100) must be less than range size (60)"),
    ("0-10/5", 0, 59, 1 << 0 | 1 << 5 | 1 << 10, ""),
    ("*/30", 0, 59, 1 << 0 | 1 << 30, ""),
    ("0-59/30", 0, 59, 1 << 0 | 1 << 30, ""),
    ("0-5/5", 0, 59, 1 << 0 | 1 << 5, ""),
]


@pytest.mark.parametrize(("expr", "lo", "hi", "want", "err"), RANGE)
def test_range(expr: str, lo: int, hi: int, want: int, err: str) -> None:
    b = Bounds(lo, hi, wraparound=False)
    if err:
        with pytest.raises(CronError, match=err.replace("(", r"\(").replace(")", r"\)")):
            get_range(expr, b)
    else:
        assert get_range(expr, b) == want


@pytest.mark.parametrize(
    ("expr", "want"),
    [("5", 1 << 5), ("5,6", 1 << 5 | 1 << 6), ("5,6,7", 1 << 5 | 1 << 6 | 1 << 7),
     ("1,5-7/2,3", 1 << 1 | 1 << 5 | 1 << 7 | 1 << 3)],
)  # fmt: skip
def test_field(expr: str, want: int) -> None:
    assert get_field(expr, Bounds(1, 7, wraparound=False)) == want


WRAPAROUND = [
    ("22-2", HOURS, 1 << 22 | 1 << 23 | 1 << 0 | 1 << 1 | 1 << 2),
    ("23-0", HOURS, 1 << 23 | 1 << 0),
    ("22-2/2", HOURS, 1 << 22 | 1 << 0 | 1 << 2),
    ("21-3/3", HOURS, 1 << 21 | 1 << 0 | 1 << 3),
    ("55-5", MINUTES, sum(1 << i for i in (55, 56, 57, 58, 59, 0, 1, 2, 3, 4, 5))),
    ("58-2", MINUTES, 1 << 58 | 1 << 59 | 1 << 0 | 1 << 1 | 1 << 2),
    ("5-1", DOW, 1 << 5 | 1 << 6 | 1 << 7 | 1 << 0 | 1 << 1),
    ("6-0", DOW, 1 << 6 | 1 << 7 | 1 << 0),
    ("11-2", MONTHS, 1 << 11 | 1 << 12 | 1 << 1 | 1 << 2),
    ("12-1", MONTHS, 1 << 12 | 1 << 1),
    ("25-5", DOM, sum(1 << i for i in (25, 26, 27, 28, 29, 30, 31, 1, 2, 3, 4, 5))),
    ("0-0", HOURS, 1 << 0),
    ("23-23", HOURS, 1 << 23),
    ("9-17", HOURS, sum(1 << i for i in range(9, 18))),
]


@pytest.mark.parametrize(("expr", "bounds", "want"), WRAPAROUND)
def test_wraparound_range(expr: str, bounds: Bounds, want: int) -> None:
    assert get_range(expr, bounds) == want


@pytest.mark.parametrize(
    ("bounds", "want"),
    [(MINUTES, 0xFFFFFFFFFFFFFFF), (HOURS, 0xFFFFFF), (DOM, 0xFFFFFFFE), (MONTHS, 0x1FFE), (DOW, 0xFF)],
)
def test_all(bounds: Bounds, want: int) -> None:
    assert all_bits(bounds) == want | STAR_BIT


@pytest.mark.parametrize(
    ("lo", "hi", "step", "want"), [(0, 0, 1, 0x1), (1, 1, 1, 0x2), (1, 5, 2, 0x2A), (1, 4, 2, 0xA)]
)
def test_bits(lo: int, hi: int, step: int, want: int) -> None:
    assert get_bits(lo, hi, step) == want


@pytest.mark.parametrize(
    ("bits", "want"),
    [(0b01111111, 0b01111111), (1 << 7, 1), ((1 << 7) | 1, 1), ((1 << 7) | (1 << 3) | (1 << 5), 1 | (1 << 3) | (1 << 5)),
     (STAR_BIT | (1 << 7), STAR_BIT | 1), (0, 0)],
)  # fmt: skip
def test_normalize_dow(bits: int, want: int) -> None:
    assert normalize_dow(bits) == want


# -- parsing: schedules, errors, time zones ----------------------------------------------------

ALL_DOW = normalize_dow(all_bits(DOW))


def every5min(tz: dt.tzinfo | None) -> SpecSchedule:
    return SpecSchedule(1, 1 << 5, all_bits(HOURS), all_bits(DOM), all_bits(MONTHS), ALL_DOW, tz)


PARSE_SCHEDULE = [
    (SECOND_PARSER, "0 5 * * * *", every5min(None)),
    (STANDARD, "5 * * * *", every5min(None)),
    (SECOND_PARSER, "CRON_TZ=UTC  0 5 * * * *", every5min(UTC)),
    (STANDARD, "CRON_TZ=UTC  5 * * * *", every5min(UTC)),
    (SECOND_PARSER, "CRON_TZ=Asia/Tokyo 0 5 * * * *", every5min(ZoneInfo("Asia/Tokyo"))),
    (SECOND_PARSER, "@every 5m", ConstantDelaySchedule(300)),
    (SECOND_PARSER, "@every 1s", ConstantDelaySchedule(1)),
    (SECOND_PARSER, "@every 2s", ConstantDelaySchedule(2)),
    (SECOND_PARSER, "@midnight", SpecSchedule(1, 1, 1, all_bits(DOM), all_bits(MONTHS), ALL_DOW)),
    (
        SECOND_PARSER,
        "TZ=UTC  @midnight",
        SpecSchedule(1, 1, 1, all_bits(DOM), all_bits(MONTHS), ALL_DOW, UTC),
    ),
    (
        SECOND_PARSER,
        "TZ=Asia/Tokyo @midnight",
        SpecSchedule(1, 1, 1, all_bits(DOM), all_bits(MONTHS), ALL_DOW, ZoneInfo("Asia/Tokyo")),
    ),
    (SECOND_PARSER, "@yearly", SpecSchedule(1, 1, 1, 1 << 1, 1 << 1, ALL_DOW)),
    (SECOND_PARSER, "@annually", SpecSchedule(1, 1, 1, 1 << 1, 1 << 1, ALL_DOW)),
    (
        SECOND_PARSER,
        "* 5 * * * *",
        SpecSchedule(all_bits(SECONDS), 1 << 5, all_bits(HOURS), all_bits(DOM), all_bits(MONTHS), ALL_DOW),
    ),
    (STANDARD, "@every 5m", ConstantDelaySchedule(300)),  # TestStandardSpecSchedule
    (STANDARD, "@every 1h30m", ConstantDelaySchedule(5400)),
    (STANDARD, "@every 1.5s", ConstantDelaySchedule(1)),  # sub-second part truncated
    (STANDARD, "@manual", TriggeredSchedule()),
]


@pytest.mark.parametrize(("parser", "spec", "want"), PARSE_SCHEDULE)
def test_parse_schedule(parser: Parser, spec: str, want: cron.Schedule) -> None:
    assert parser.parse(spec) == want


PARSE_ERRORS = [
    (SECOND_PARSER, "* 5 j * * *", "failed to parse int from"),
    (SECOND_PARSER, "@every Xm", "failed to parse duration"),
    (SECOND_PARSER, "@unrecognized", "unrecognized descriptor"),
    (SECOND_PARSER, "* * * *", "expected 5 to 6 fields"),
    (SECOND_PARSER, "", "empty spec string"),
    (SECOND_PARSER, "@every 500ms", "@every duration must be at least 1s"),
    (SECOND_PARSER, "@every 100ms", "@every duration must be at least 1s"),
    (SECOND_PARSER, "@every 999ms", "@every duration must be at least 1s"),
    (SECOND_PARSER, "@every 1ns", "@every duration must be at least 1s"),
    (STANDARD, "5 j * * *", "failed to parse int from"),
    (STANDARD, "* * * *", "expected exactly 5 fields"),
    (STANDARD, "xyz", "expected exactly 5 fields"),
    (STANDARD, "60 0 * * *", "above maximum"),
    (STANDARD, "0 60 * * *", "above maximum"),
    (STANDARD, "0 0 * * XYZ", "failed to parse int from"),
    (STANDARD, "TZ=America/New_York 15/0 * * * *", "positive number"),  # robfig #144: no hang
    (STANDARD, "0 0 * * FRI#3", "#n/#L syntax"),
    (STANDARD, "0 0 * * FRI#L", "#n/#L syntax"),
    (STANDARD, "0 0 L * *", "extended day-of-month"),
    (STANDARD, "0 0 15W * *", "extended day-of-month"),
    (STANDARD, "H * * * *", "hash option"),
    (STANDARD, "*" * 1025, "spec too long"),
    (STANDARD, "TZ=0", "missing fields after timezone"),
    (STANDARD, "TZ=", "missing fields after timezone"),
    (STANDARD, "CRON_TZ=UTC", "missing fields after timezone"),
    (STANDARD, "TZ=UTC   ", "missing fields after timezone"),
    (STANDARD, "TZ=America/New_York", "missing fields after timezone"),
    (STANDARD, "TZ=../../../etc/passwd * * * * *", "invalid character"),
    (STANDARD, "TZ=%2e%2e%2f * * * * *", "invalid character"),
    (STANDARD, "TZ=UTC\x00evil * * * * *", "invalid character"),
    (STANDARD, "TZ=America/New York * * * * *", "unknown time zone"),
    (STANDARD, "TZ=UTC\nevil * * * * *", "invalid character"),
    (STANDARD, "TZ=UTC;evil * * * * *", "invalid character"),
    (STANDARD, "TZ=UTC`evil * * * * *", "invalid character"),
    (STANDARD, "TZ=UTC$HOME * * * * *", "invalid character"),
    (STANDARD, "TZ= * * * * *", "empty timezone"),
    (STANDARD, "TZ=" + "A" * 65 + " * * * * *", "too long"),
    (STANDARD, "TZ=\"UTC' * * * * *", "invalid"),
    (STANDARD, "TZ='UTC\" * * * * *", "invalid"),
    (STANDARD, 'TZ="" * * * * *', "empty timezone"),
    (STANDARD, "TZ='' * * * * *", "empty timezone"),
    (STANDARD, 'TZ="UTC * * * * *', "invalid"),
    (STANDARD, "TZ='UTC * * * * *", "invalid"),
    (STANDARD, 'TZ=UTC" * * * * *', "invalid"),
    (STANDARD, "TZ=UTC' * * * * *", "invalid"),
    (Parser(descriptors=False), "@every 1m", "does not accept descriptors"),
]


@pytest.mark.parametrize(("parser", "spec", "err"), PARSE_ERRORS)
def test_parse_errors(parser: Parser, spec: str, err: str) -> None:
    with pytest.raises(CronError, match=err):
        parser.parse(spec)


@pytest.mark.parametrize("spec", ["TZ=UTC * * * * *", "CRON_TZ=UTC * * * * *"])
def test_valid_zones(spec: str) -> None:
    sched = STANDARD.parse(spec)
    assert isinstance(sched, SpecSchedule) and sched.location is UTC


@pytest.mark.parametrize(
    ("spec", "zone"),
    [
        ("TZ=America/New_York 0 5 * * *", "America/New_York"),
        ("CRON_TZ=Asia/Tokyo 30 4 * * *", "Asia/Tokyo"),
        ('TZ="America/New_York" 0 5 * * *', "America/New_York"),
        ('CRON_TZ="Asia/Tokyo" 30 4 * * *', "Asia/Tokyo"),
        ("TZ='America/New_York' 0 5 * * *", "America/New_York"),
        ("CRON_TZ='Asia/Tokyo' 30 4 * * *", "Asia/Tokyo"),
        ("TZ=Etc/GMT+5 0 5 * * *", "Etc/GMT+5"),
        ("TZ=Europe/Isle_of_Man 0 5 * * *", "Europe/Isle_of_Man"),
    ],
)
def test_zones_and_quoted_zones(spec: str, zone: str) -> None:
    sched = STANDARD.parse(spec)
    assert isinstance(sched, SpecSchedule)
    assert sched.location == ZoneInfo(zone)


@pytest.mark.parametrize(("spec", "tz"), [('TZ="UTC" 0 5 * * *', UTC), ("TZ='UTC' 0 5 * * *", UTC)])
def test_quoted_utc(spec: str, tz: dt.tzinfo) -> None:
    sched = STANDARD.parse(spec)
    assert isinstance(sched, SpecSchedule) and sched.location is tz


def test_spec_length_boundary_and_wraparound_specs_parse() -> None:
    with pytest.raises(CronError) as e:
        STANDARD.parse("*" * 1024)
    assert "spec too long" not in str(e.value)
    for spec in ("0 22-2 * * *", "0 0 * 11-2 *", "0 0 * * 5-1", "0 0 * * FRI-MON", "0 0 * NOV-FEB *",
                 "0 0 25-5 * *", "0 9-17 * * *", "0 0 * * 1-5", "0 0 * * 0", "0 0 * * 7", "0 0 * * 5-7",
                 "0 0 * * 0-7", "0 0 * * 1,3,7"):  # fmt: skip
        assert isinstance(STANDARD.parse(spec), SpecSchedule), spec
    s0, s7 = STANDARD.parse("0 0 * * 0"), STANDARD.parse("0 0 * * 7")
    assert isinstance(s0, SpecSchedule) and isinstance(s7, SpecSchedule) and s0.dow == s7.dow
    s57 = STANDARD.parse("0 0 * * 5-7")
    assert isinstance(s57, SpecSchedule) and s57.dow & ~STAR_BIT == 1 << 5 | 1 << 6 | 1
    assert OR_PARSER.parse("0 0 15 * Fri") == SpecSchedule(
        1, 1, 1, 1 << 15, all_bits(MONTHS), 1 << 5, None, True
    )


# -- activation and Next (spec_test.go) -----------------------------------------------------

ACTIVATION = [
    ("Mon Jul 9 15:00 2012", "0/15 * * * *", True),
    ("Mon Jul 9 15:45 2012", "0/15 * * * *", True),
    ("Mon Jul 9 15:40 2012", "0/15 * * * *", False),
    ("Mon Jul 9 15:05 2012", "5/15 * * * *", True),
    ("Mon Jul 9 15:20 2012", "5/15 * * * *", True),
    ("Mon Jul 9 15:50 2012", "5/15 * * * *", True),
    ("Sun Jul 15 15:00 2012", "0/15 * * Jul *", True),
    ("Sun Jul 15 15:00 2012", "0/15 * * Jun *", False),
    ("Sun Jul 15 08:30 2012", "30 08 ? Jul Sun", True),
    ("Sun Jul 15 08:30 2012", "30 08 15 Jul ?", True),
    ("Mon Jul 16 08:30 2012", "30 08 ? Jul Sun", False),
    ("Mon Jul 16 08:30 2012", "30 08 15 Jul ?", False),
    ("Mon Jul 9 15:00 2012", "@hourly", True),
    ("Mon Jul 9 15:04 2012", "@hourly", False),
    ("Mon Jul 9 15:00 2012", "@daily", False),
    ("Mon Jul 9 00:00 2012", "@daily", True),
    ("Mon Jul 9 00:00 2012", "@weekly", False),
    ("Sun Jul 8 00:00 2012", "@weekly", True),
    ("Sun Jul 8 01:00 2012", "@weekly", False),
    ("Sun Jul 8 00:00 2012", "@monthly", False),
    ("Sun Jul 1 00:00 2012", "@monthly", True),
    ("Sun Jul 15 00:00 2012", "* * 1,15 * Sun", True),
    ("Fri Jun 15 00:00 2012", "* * 1,15 * Sun", False),  # robfig: True (OR)
    ("Wed Aug 1 00:00 2012", "* * 1,15 * Sun", False),  # robfig: True (OR)
    ("Sun Jul 15 00:00 2012", "* * */10 * Sun", False),  # robfig: True (OR, robfig #70)
    ("Sun Jul 15 00:00 2012", "* * * * Mon", False),
    ("Mon Jul 9 00:00 2012", "* * 1,15 * *", False),
    ("Sun Jul 15 00:00 2012", "* * 1,15 * *", True),
    ("Sun Jul 15 00:00 2012", "* * */2 * Sun", True),
    # TestDayMatchesANDMode
    ("Sun Jul 15 12:00 2012", "* * 15 * Sun", True),
    ("Fri Jun 15 12:00 2012", "* * 15 * Sun", False),
    ("Sun Jul 8 12:00 2012", "* * 15 * Sun", False),
    ("Sat Jul 14 12:00 2012", "* * 15 * Sun", False),
    ("Fri Aug 31 12:00 2012", "* * 25-31 * Fri", True),
    ("Sat Aug 25 12:00 2012", "* * 25-31 * Fri", False),
    ("Mon Aug 6 12:00 2012", "* * 1-7 * Mon", True),
    ("Mon Aug 13 12:00 2012", "* * 1-7 * Mon", False),
    ("Mon Aug 6 12:00 2012", "* * * * Mon", True),
    ("Tue Aug 7 12:00 2012", "* * * * Mon", False),
    ("Wed Aug 15 12:00 2012", "* * 15 * *", True),
    ("Wed Aug 14 12:00 2012", "* * 15 * *", False),
    ("Wed Aug 15 12:00 2012", "* * * * *", True),
]


def _activates(parser: Parser, spec: str, when: str) -> bool:
    at = get_time(when)
    assert at is not None
    return instant(parser.parse(spec).next(at - dt.timedelta(seconds=1))) == instant(at)


@pytest.mark.parametrize(("when", "spec", "want"), ACTIVATION)
def test_activation(when: str, spec: str, want: bool) -> None:
    assert _activates(STANDARD, spec, when) is want


@pytest.mark.parametrize(
    ("when", "spec", "want"),
    [  # TestDayMatchesORMode: the DowOrDom option gives robfig's answers back
        ("Sun Jul 15 12:00 2012", "* * 15 * Sun", True),
        ("Fri Jun 15 12:00 2012", "* * 15 * Sun", True),
        ("Sun Jul 8 12:00 2012", "* * 15 * Sun", True),
        ("Sat Jul 14 12:00 2012", "* * 15 * Sun", False),
        ("Mon Aug 6 12:00 2012", "* * * * Mon", True),
        ("Tue Aug 7 12:00 2012", "* * * * Mon", False),
        ("Wed Aug 15 12:00 2012", "* * 15 * *", True),
        ("Wed Aug 14 12:00 2012", "* * 15 * *", False),
    ],
)
def test_activation_or_mode(when: str, spec: str, want: bool) -> None:
    assert _activates(OR_PARSER, spec, when) is want


NEXT = [
    ("Mon Jul 9 14:45 2012", "0 0/15 * * * *", "Mon Jul 9 15:00 2012"),
    ("Mon Jul 9 14:59 2012", "0 0/15 * * * *", "Mon Jul 9 15:00 2012"),
    ("Mon Jul 9 14:59:59 2012", "0 0/15 * * * *", "Mon Jul 9 15:00 2012"),
    ("Mon Jul 9 15:45 2012", "0 20-35/15 * * * *", "Mon Jul 9 16:20 2012"),
    ("Mon Jul 9 23:46 2012", "0 */15 * * * *", "Tue Jul 10 00:00 2012"),
    ("Mon Jul 9 23:45 2012", "0 20-35/15 * * * *", "Tue Jul 10 00:20 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 * * * *", "Tue Jul 10 00:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 1/2 * * *", "Tue Jul 10 01:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 10-12 * * *", "Tue Jul 10 10:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 1/2 */2 * *", "Thu Jul 11 01:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 * 9-20 * *", "Wed Jul 10 00:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 * 9-20 Jul *", "Wed Jul 10 00:20:15 2012"),
    ("Mon Jul 9 23:35 2012", "0 0 0 9 Apr-Oct ?", "Thu Aug 9 00:00 2012"),
    ("Mon Jul 9 23:35 2012", "0 0 0 */5 Apr,Aug,Oct Mon", "Mon Aug 6 00:00 2012"),  # robfig: Aug 1
    ("Mon Jul 9 23:35 2012", "0 0 0 */5 Oct Mon", "Mon Oct 1 00:00 2012"),
    ("Mon Jul 9 23:35 2012", "0 0 0 * Feb Mon", "Mon Feb 4 00:00 2013"),
    ("Mon Jul 9 23:35 2012", "0 0 0 * Feb Mon/2", "Fri Feb 1 00:00 2013"),
    ("Mon Dec 31 23:59:45 2012", "0 * * * * *", "Tue Jan 1 00:00:00 2013"),
    ("Mon Jul 9 23:35 2012", "0 0 0 29 Feb ?", "Mon Feb 29 00:00 2016"),
    # spring forward, 2am EST (-5) -> 3am EDT (-4): skipped jobs run right after (ISC cron)
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 30 2 11 Mar ?", "2012-03-11T03:30:00-0400"),
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T03:00:00-0400"),
    ("2012-03-11T03:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T04:00:00-0400"),
    ("2012-03-11T04:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T05:00:00-0400"),
    ("2012-03-11T00:00:00-0500", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T03:00:00-0400"),
    ("2012-03-11T03:00:00-0400", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T04:00:00-0400"),
    ("2012-03-11T04:00:00-0400", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T05:00:00-0400"),
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 0 1 * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "TZ=America/New_York 0 0 1 * * ?", "2012-03-12T01:00:00-0400"),
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 0 2 * * ?", "2012-03-11T03:00:00-0400"),
    # fall back, 2am EDT (-4) -> 1am EST (-5): the repeated hour runs twice
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 30 2 04 Nov ?", "2012-11-04T02:30:00-0500"),
    ("2012-11-04T01:45:00-0400", "TZ=America/New_York 0 30 1 04 Nov ?", "2012-11-04T01:30:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-11-04T01:00:00-0400"),
    ("2012-11-04T01:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-11-04T01:00:00-0500"),
    ("2012-11-04T01:00:00-0500", "TZ=America/New_York 0 0 * * * ?", "2012-11-04T02:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 1 * * ?", "2012-11-04T01:00:00-0400"),
    ("2012-11-04T01:00:00-0400", "TZ=America/New_York 0 0 1 * * ?", "2012-11-04T01:00:00-0500"),
    ("2012-11-04T01:00:00-0500", "TZ=America/New_York 0 0 1 * * ?", "2012-11-05T01:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 2 * * ?", "2012-11-04T02:00:00-0500"),
    ("2012-11-04T02:00:00-0500", "TZ=America/New_York 0 0 2 * * ?", "2012-11-05T02:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 3 * * ?", "2012-11-04T03:00:00-0500"),
    ("2012-11-04T03:00:00-0500", "TZ=America/New_York 0 0 3 * * ?", "2012-11-05T03:00:00-0500"),
    # the same in the time's own location (no TZ in the spec)
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 * * * ?", "2012-11-04T01:00:00-0400"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0400", "0 0 * * * ?", "2012-11-04T01:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0500", "0 0 * * * ?", "2012-11-04T02:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 1 * * ?", "2012-11-04T01:00:00-0400"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0400", "0 0 1 * * ?", "2012-11-04T01:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0500", "0 0 1 * * ?", "2012-11-05T01:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 2 * * ?", "2012-11-04T02:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T02:00:00-0500", "0 0 2 * * ?", "2012-11-05T02:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 3 * * ?", "2012-11-04T03:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T03:00:00-0500", "0 0 3 * * ?", "2012-11-05T03:00:00-0500"),
    ("Mon Jul 9 23:35 2012", "0 0 0 30 Feb ?", ""),  # unsatisfiable: Go's zero time
    ("Mon Jul 9 23:35 2012", "0 0 0 31 Apr ?", ""),
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 3 3 * ?", "2012-12-03T03:00:00-0500"),
    # a day whose midnight DST skips (robfig #157)
    ("2018-10-17T05:00:00-0400", "TZ=America/Sao_Paulo 0 0 9 10 * ?", "2018-11-10T06:00:00-0500"),
    ("2018-02-14T05:00:00-0500", "TZ=America/Sao_Paulo 0 0 9 22 * ?", "2018-02-22T07:00:00-0500"),
]


@pytest.mark.parametrize(("start", "spec", "want"), NEXT)
def test_next(start: str, spec: str, want: str) -> None:
    at = get_time(start)
    assert at is not None
    assert instant(SECOND_PARSER.parse(spec).next(at)) == instant(get_time(want))


@pytest.mark.parametrize(
    ("start", "spec", "want"),
    [  # TestNextWithTz: the time's own fixed offset is the location
        ("2016-01-03T13:09:03+0530", "14 14 * * *", "2016-01-03T14:14:00+0530"),
        ("2016-01-03T04:09:03+0530", "14 14 * * ?", "2016-01-03T14:14:00+0530"),
        ("2016-01-03T14:09:03+0530", "14 14 * * *", "2016-01-03T14:14:00+0530"),
        ("2016-01-03T14:00:00+0530", "14 14 * * ?", "2016-01-03T14:14:00+0530"),
        # TestANDModeNextSchedule
        ("Mon Aug 1 00:00 2012", "0 0 25-31 * Fri", "Fri Aug 31 00:00 2012"),
        ("Mon Aug 1 00:00 2012", "0 0 1-7 * Mon", "Mon Aug 6 00:00 2012"),
        ("Mon Jul 9 00:00 2012", "0 0 13 * Fri", "Fri Jul 13 00:00 2012"),
        ("Mon Aug 1 00:00 2012", "0 0 8-14 * Tue", "Tue Aug 14 00:00 2012"),
        # TestParserWithMaxSearchYears and TestSundayAs7
        ("Mon Jan 1 00:00 2024", "0 0 30 2 *", ""),
        ("Mon Jan 1 00:00 2024", "0 0 1 1 *", "Wed Jan 1 00:00 2025"),
        ("Sat Jan 6 00:00 2024", "0 0 * * 0", "Sun Jan 7 00:00 2024"),
        ("Sat Jan 6 00:00 2024", "0 0 * * 7", "Sun Jan 7 00:00 2024"),
        ("Thu Jan 4 00:00 2024", "0 0 * * 5-7", "Fri Jan 5 00:00 2024"),
    ],
)
def test_next_standard(start: str, spec: str, want: str) -> None:
    at = get_time(start)
    assert at is not None
    assert instant(STANDARD.parse(spec).next(at)) == instant(get_time(want))


@pytest.mark.parametrize(
    ("spec", "start", "count", "fields"),
    [  # TestWraparoundScheduleNextTime: (hour | month | weekday | day) of each activation
        ("0 22-2 * * *", "Wed Jan 1 21:00 2025", 5, [22, 23, 0, 1, 2]),
        ("0 0 1 11-2 *", "Wed Oct 15 00:00 2025", 4, [11, 12, 1, 2]),
        ("0 0 * * FRI-MON", "Thu Jan 2 00:00 2025", 4, [5, 6, 0, 1]),
        ("0 0 28-3 * *", "Thu Feb 27 00:00 2025", 4, [28, 1, 2, 3]),
    ],
)
def test_wraparound_sequences(spec: str, start: str, count: int, fields: list[int]) -> None:
    sched = STANDARD.parse(spec)
    t = get_time(start)
    got = []
    for _ in range(count):
        assert t is not None
        t = sched.next(t)
        assert t is not None
        got.append(
            t.hour
            if "22-2" in spec
            else t.month
            if "11-2" in spec
            else t.isoweekday() % 7
            if "FRI" in spec
            else t.day
        )
    assert got == fields


ROBFIG_CHANGED = [
    # (robfig's parser_test/spec_test case, robfig's answer, the answer of the parser KSM uses)
    ("getRange 5-6/2 in 0-7", "1<<5", "error: step (2) must be less than range size (2)"),
    ("getRange 5-3 in 3-5", "beyond end of range", "wraps around in every real field (22-2 hours)"),
    ("Fri Jun 15 00:00 2012 '* * 1,15 * Sun'", "activates", "does not (day of month AND of week)"),
    ("Wed Aug 1 00:00 2012 '* * 1,15 * Sun'", "activates", "does not"),
    ("Sun Jul 15 00:00 2012 '* * */10 * Sun'", "activates", "does not"),
    ("Mon Jul 9 23:35 2012 '0 0 0 */5 Apr,Aug,Oct Mon'", "Aug 1 2012", "Mon Aug 6 2012"),
    ("2012-03-11T00:00-0500 'TZ=America/New_York 0 30 2 11 Mar ?'", "2013-03-11 02:30", "2012-03-11 03:30"),
    ("2012-03-11T00:00-0500 'TZ=America/New_York 0 0 2 * * ?'", "2012-03-12 02:00", "2012-03-11 03:00"),
    ("all(dow)", "0x7f (0-6)", "0xff (0-7, 7 being Sunday)"),
]


def test_robfig_changes_are_the_ones_listed() -> None:
    assert len(ROBFIG_CHANGED) == 9
    assert get_range("5-6/1", Bounds(0, 7, wraparound=False)) == 1 << 5 | 1 << 6


# -- kube-state-metrics' use: parse(spec, timeZone) --------------------------------------------


def test_ksm_prepends_the_cronjob_time_zone() -> None:
    sched = cron.parse("0 9 * * *", "Europe/Paris")
    after = dt.datetime(2024, 3, 30, 12, tzinfo=UTC)
    assert sched.next(after) == dt.datetime(2024, 3, 31, 7, tzinfo=UTC)  # 9:00 CEST, after DST
    with pytest.raises(CronError):
        cron.parse("0 9 * * *", "Mars/Olympus_Mons")
    with pytest.raises(CronError):
        cron.parse("0 9 * * *", "")  # CRON_TZ= with an empty zone


@pytest.mark.parametrize(
    ("spec", "valid"),
    [
        ("*/0 * * * *", False),
        ("1-100/5 * * * *", False),
        ("59/30 * * * *", False),  # step not smaller than the range 59-59
        ("*/60 * * * *", False),
        ("*/59 * * * *", True),
        ("55-5 * * * *", True),
        ("5-1 * * * *", True),
        ("* * * * 7", True),
        ("* * * * 8", False),
        ("1,,2 * * * *", True),
        ("* * L * *", False),
        ("* * ? * ?", True),
        ("*-5 * * * *", True),  # what follows '*-' is ignored
        ("+5 * * * *", True),  # strconv.Atoi takes a sign
        ("-5 * * * *", False),
        ("0 0 * * SUN-SAT", True),
        (" 0 0 * * *", True),
        ("\x1c0 0 * * *", False),  # not a space to Go
        ("\u00a00 0 * * *", True),  # but NBSP is
        ("@daily", True),
        (" @daily", False),  # a descriptor is only recognised at the start
        ("@every 1h30m", True),
        ("@every 0s", False),
        ("@every -1h", False),
        ("@every 1h ", False),
        ("@triggered", True),
        ("@fortnightly", False),
    ],
)
def test_schedule_validity(spec: str, valid: bool) -> None:
    if valid:
        cron.parse(spec)
    else:
        with pytest.raises(CronError):
            cron.parse(spec)
