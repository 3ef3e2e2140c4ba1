"""Quantities read as apimachinery's ``resource.ParseQuantity`` reads them: the cases of its own
``quantity_test.go`` (TestQuantityParse with its negated and ``+``-prefixed variants, the invalid
strings, TestParseQuantityString, the AsApproximateFloat64 tables), then ``Value()``,
``MilliValue()`` and ``AsApproximateFloat64()`` on each of Go's two representations, quirks
included, as kube-state-metrics prints them."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from kubescope.model.govalue import go_pow10
from kubescope.model.quantity import Quantity, QuantityError, ksm_float, parse, parse_quantity

MAX_INT64 = (1 << 63) - 1

# (input, unscaled, exp10): TestQuantityParse's decQuantity(unscaled, exp10, format) expectations
PARSE = [
    ("0", 0, 0),
    ("0n", 0, 0),
    ("0u", 0, 0),
    ("0m", 0, 0),
    ("0Ki", 0, 0),
    ("0k", 0, 0),
    ("0Mi", 0, 0),
    ("0M", 0, 0),
    ("0Gi", 0, 0),
    ("0G", 0, 0),
    ("0Ti", 0, 0),
    ("0T", 0, 0),
    ("1", 1, 0),
    ("1Ki", 1024, 0),
    ("8Ki", 8 * 1024, 0),
    ("7Mi", 7 * 1024 * 1024, 0),
    ("6Gi", 6 * 1024 * 1024 * 1024, 0),
    ("5Ti", 5 * 1024 * 1024 * 1024 * 1024, 0),
    ("4Pi", 4 * 1024 * 1024 * 1024 * 1024 * 1024, 0),
    ("3Ei", 3 * 1024 * 1024 * 1024 * 1024 * 1024 * 1024, 0),
    ("10Ti", 10 * 1024 * 1024 * 1024 * 1024, 0),
    ("100Ti", 100 * 1024 * 1024 * 1024 * 1024, 0),
    ("5n", 5, -9),
    ("4u", 4, -6),
    ("3m", 3, -3),
    ("9", 9, 0),
    ("8k", 8, 3),
    ("50k", 5, 4),
    ("7M", 7, 6),
    ("6G", 6, 9),
    ("5T", 5, 12),
    ("40T", 4, 13),
    ("300T", 3, 14),
    ("2P", 2, 15),
    ("1E", 1, 18),
    ("1E-3", 1, -3),
    ("1e3", 1, 3),
    ("1E6", 1, 6),
    ("1e9", 1, 9),
    ("1E12", 1, 12),
    ("1e15", 1, 15),
    ("1E18", 1, 18),
    ("1e14", 1, 14),
    ("1e13", 1, 13),
    ("1e3", 1, 3),
    ("100.035k", 100035, 0),
    ("0.001", 1, -3),
    ("0.0005k", 5, -1),
    ("0.005", 5, -3),
    ("0.05", 5, -2),
    ("0.5", 5, -1),
    ("0.00050k", 5, -1),
    ("0.00500", 5, -3),
    ("0.05000", 5, -2),
    ("0.50000", 5, -1),
    ("0.5e0", 5, -1),
    ("0.5e-1", 5, -2),
    ("0.5e-2", 5, -3),
    ("0.5e0", 5, -1),
    ("10.035M", 10035, 3),
    ("1.2e3", 12, 2),
    ("1.3E+6", 13, 5),
    ("1.40e9", 14, 8),
    ("1.53E12", 153, 10),
    ("1.6e15", 16, 14),
    ("1.7E18", 17, 17),
    ("9.01", 901, -2),
    ("8.1k", 81, 2),
    ("7.123456M", 7123456, 0),
    ("6.987654321G", 6987654321, 0),
    ("5.444T", 5444, 9),
    ("40.1T", 401, 11),
    ("300.2T", 3002, 11),
    ("2.5P", 25, 14),
    ("1.01E", 101, 16),
    ("3.001n", 4, -9),
    ("1.1E-9", 2, -9),
    ("0.0000000001", 1, -9),
    ("0.0000000005", 1, -9),
    ("0.00000000050", 1, -9),
    ("0.5e-9", 1, -9),
    ("0.9n", 1, -9),
    ("0.00000012345", 124, -9),
    ("0.00000012354", 124, -9),
    ("9Ei", (1 << 63) - 1, 0),
    ("9223372036854775807Ki", (1 << 63) - 1, 0),
    ("12E", 12, 18),
    ("100.035Ki", 10243584, -2),
    ("0.5Mi", 524288, 0),
    ("0.05Gi", 536870912, -1),
    ("0.025Ti", 274877906944, -1),
    ("0.000000000001Ki", 2, -9),
    (".001", 1, -3),
    (".0001k", 100, -3),
    ("1.", 1, 0),
    ("1.G", 1, 9),
]


@pytest.mark.parametrize(("text", "unscaled", "exp10"), PARSE)
def test_apimachinery_parse_table(text: str, unscaled: int, exp10: int) -> None:
    want = Fraction(unscaled) * Fraction(10) ** exp10
    assert parse_quantity(text) == want
    assert parse_quantity("-" + text) == -want
    assert parse_quantity("+" + text) == want


@pytest.mark.parametrize(
    "text",
    ["", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 "],
)
def test_apimachinery_invalid_strings(text: str) -> None:
    with pytest.raises(QuantityError):
        parse(text)


@pytest.mark.parametrize(
    ("text", "want"),
    # TestParseQuantityString's inputs: a lone point is zero, E-3 is an exponent
    [("0.025Ti", Fraction(274877906944, 10)), ("1.025Ti", Fraction(11269994184704, 10)),
     ("-1.025Ti", Fraction(-11269994184704, 10)), (".", 0), ("-.", 0), ("1E-3", Fraction(1, 1000))],
)  # fmt: skip
def test_apimachinery_scanner_table(text: str, want: Fraction) -> None:
    assert parse_quantity(text) == want


SEVEN_MI = 7 * 1024 * 1024


@pytest.mark.parametrize(
    ("q", "want"),
    [
        (Quantity(0, 0, True), 0.0),
        (Quantity(1, 0, True), 1.0),
        (Quantity(1024, 0, True), 1024.0),
        (Quantity(8 * 1024, 0, True), 8 * 1024.0),
        (Quantity(SEVEN_MI, 0, True), float(SEVEN_MI)),
        (Quantity(SEVEN_MI, 1, True), SEVEN_MI * 10.0),
        (Quantity(SEVEN_MI, 4, True), SEVEN_MI * 10000.0),
        (Quantity(SEVEN_MI, 8, True), SEVEN_MI * 100000000.0),
        (Quantity(SEVEN_MI, -1, True), SEVEN_MI * go_pow10(-1)),  # not SEVEN_MI / 10.0
        (Quantity(SEVEN_MI, -8, True), SEVEN_MI / 100000000.0),
        (Quantity(MAX_INT64, 0, True), float(MAX_INT64)),
        (Quantity(12, 18, True), 1.2e19),
        (Quantity(12, 500, True), math.inf),
        (Quantity(-12, 500, True), -math.inf),
    ],
)
def test_apimachinery_approximate_float_table(q: Quantity, want: float) -> None:
    assert q.approximate_float() == want
    if not q.inexact or abs(q.exp10) > 18:
        return
    assert Quantity(q.unscaled, q.exp10).approximate_float() == want  # as an int64Amount too


@pytest.mark.parametrize(
    ("text", "want"), [("2Ki", 2048.0), ("1.1Ki", 1126.4), ("1Mi", 1.048576e06), ("2Gi", 2.147483648e09)]
)
def test_apimachinery_string_approximate_float_table(text: str, want: float) -> None:
    assert parse(text).approximate_float() == want


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        ("100m", 1, 100),
        ("1.5", 2, 1500),
        ("-1.5", -2, -1500),  # int64Amount: rounded away from zero
        ("0.9n", 1, 1),  # rounded up to a nano on parsing, then up again
        ("5G", 5_000_000_000, 5_000_000_000_000),
        ("10E", 0, 0),  # the int64 overflows in the general scaling loop: 0
        ("10000000000G", -8446744073709551616, 0),  # the x1e9 fast case returns the wrapped product
        ("9Ei", MAX_INT64, -1000),  # BinarySI is capped at 2^63-1; x1000 wraps
        ("-1.0000000001", 0, -999),  # inf.Dec: truncated toward zero, then +1
        ("12345678901234567890", -6101065172474983726, 4807115922877858896),  # low 64 bits
    ],
)
def test_value_and_milli_value_round_as_go_does(text: str, value: int, milli: int) -> None:
    q = parse(text)
    assert (q.value(), q.milli_value()) == (value, milli)


def test_approximations_kube_state_metrics_prints() -> None:
    assert parse("0.3").approximate_float() == 0.30000000000000004
    assert parse("50m").approximate_float() == 0.05
    assert math.isnan(parse("0e400").approximate_float())  # 0 x Pow10(400) = 0 x Inf
    assert parse("1e400").approximate_float() == math.inf
    assert ksm_float("9Ei") == 9.223372036854776e18  # Value() beyond MaxMilliValue
    assert ksm_float("250m") == 0.25


def test_hostile_exponents_are_refused_not_computed() -> None:
    assert parse("12345678901234567890e-999999999").amount == Fraction(1, 10**9)  # up to a nano
    assert parse("0.0000000000000000000e-999999999").value() == 0
    with pytest.raises(QuantityError, match="out of range"):
        parse("12345678901234567890e999999999")  # Go would build a 415 MB integer
    with pytest.raises(QuantityError, match="out of range"):
        parse_quantity("1e999999999")
    assert parse("1e999999999").value() == 0
    with pytest.raises(QuantityError):
        parse("1" * 5000)
