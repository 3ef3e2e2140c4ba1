"""RFC 3339 timestamps read as Go's ``time.Parse(time.RFC3339, s)`` reads them (what KSM applies
to Custom Resource State values): its leniencies (one-digit hour, comma fractions, offsets of
24 hours or 60 minutes, per format.go's range test "use > rather than >=") and its strictness."""

from __future__ import annotations

import pytest

from kubescope.model.timefmt import parse_rfc3339, parse_time, rfc3339_unix


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2022-06-28T00:00:00Z", 1656374400),
        ("2022-06-28T00:00:00-01:30", 1656379800),
        ("2024-02-29T23:59:59Z", 1709251199),
        ("1969-12-31T23:59:59.9Z", -1),
        ("0001-01-01T00:00:00Z", -62135596800),
        ("9999-12-31T23:59:59Z", 253402300799),
        ("2022-06-28T5:00:00Z", 1656392400),  # getnum(value, false): one-digit hour
        ("2022-06-28T00:00:00,5Z", 1656374400),  # a comma separates the fraction too
        ("2022-06-28T00:00:00+24:00", 1656288000),  # offsets are range-tested with >
        ("2022-06-28T00:00:00+23:60", 1656288000),
        ("2023-02-29T00:00:00Z", None),
        ("2022-04-31T00:00:00Z", None),
        ("2022-13-01T00:00:00Z", None),
        ("2022-06-28T24:00:00Z", None),
        ("2022-06-28T00:60:00Z", None),
        ("2022-06-28T00:00:60Z", None),
        ("2022-06-28T00:00:00+25:00", None),
        ("2022-06-28T00:00:00+00:61", None),
        ("2022-06-28T00:00:00+0000", None),
        ("2022-06-28 00:00:00Z", None),
        ("2022-06-28T00:00:00", None),
        ("2022-06-28t00:00:00z", None),
        ("2022-06-28T00:00:00Z ", None),
        ("2022-06-28T00:00:00.Z", None),
        ("2022-6-28T00:00:00Z", None),
        ("+022-06-28T00:00:00Z", None),
        ("２０２２-06-28T00:00:00Z", None),
        ("", None),
    ],
)
def test_rfc3339_unix(text: str, want: int | None) -> None:
    assert rfc3339_unix(text) == want


def test_fractions_keep_nanoseconds_and_drop_the_rest() -> None:
    assert parse_rfc3339("2022-06-28T00:00:00.123456789123Z") == (1656374400, 123456789)
    assert parse_rfc3339("2022-06-28T00:00:00.5+01:00") == (1656370800, 500000000)
    assert parse_time("1970-01-01T00:00:01.25Z") == 1.25
    with pytest.raises(ValueError, match="not an RFC 3339 timestamp"):
        parse_time("yesterday")
