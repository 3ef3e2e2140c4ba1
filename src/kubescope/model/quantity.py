"""apimachinery ``resource.Quantity``: parsing with Go's exact rounding, and canonical strings.

Parsing returns an exact :class:`fractions.Fraction` (Go keeps arbitrary precision too), so
``Value()`` (rounded up, away from zero) and ``MilliValue()`` match Go bit for bit. Results are
memoised: clusters repeat the same few quantity strings ("100m", "128Mi") many times.

Canonical formatting (:func:`format_decimal_si`, :func:`format_binary_si`) follows
``Quantity.CanonicalizeBytes``: ``"487558164n"``, ``"500m"``, ``"2k"``, ``"732212Ki"``, ``"1023"``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

from kubescope.errors import DecodeError

INT64_MAX = (1 << 63) - 1
MAX_MILLI_VALUE = INT64_MAX // 1000

_DECIMAL_SUFFIX = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIX = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL_SUFFIX.items()}
_BINARY_BY_EXP = {v // 10: k for k, v in _BINARY_SUFFIX.items()}
_NANO = Fraction(1, 1_000_000_000)


class QuantityError(DecodeError):
    """A string is not a valid Kubernetes quantity."""


def _split(s: str) -> tuple[str, str]:
    i = 0
    n = len(s)
    if i < n and s[i] in "+-":
        i += 1
    while i < n and (s[i].isdigit() or s[i] == "."):
        i += 1
    return s[:i], s[i:]


@lru_cache(maxsize=4096)
def parse_quantity(s: str) -> Fraction:
    """Parse a quantity string exactly; raise :class:`QuantityError` when it is not one."""
    if not s or len(s) > 128:
        raise QuantityError(f"invalid quantity {s!r}: empty or too long")
    num, suffix = _split(s.strip())
    body = num.lstrip("+-")
    if not body or body == "." or body.count(".") > 1:
        raise QuantityError(f"invalid quantity {s!r}: expected a number such as 100m, 1.5Gi or 2e3")
    value = Fraction(num.replace("+", "")) if "." not in body else Fraction(_decimal(num))
    if suffix in _DECIMAL_SUFFIX:
        exp = _DECIMAL_SUFFIX[suffix]
        value = value * (Fraction(10) ** exp)
    elif suffix in _BINARY_SUFFIX:
        value = value * (1 << _BINARY_SUFFIX[suffix])
    elif suffix[:1] in ("e", "E") and _is_int(suffix[1:]):
        exp = int(suffix[1:])
        if abs(exp) > 1000:
            raise QuantityError(f"invalid quantity {s!r}: exponent out of range")
        value = value * (Fraction(10) ** exp)
    else:
        raise QuantityError(
            f"invalid quantity {s!r}: unknown suffix {suffix!r} (use n,u,m,k,M,G,T,P,E, Ki..Ei or eN)"
        )
    # Go keeps at most nano precision: anything finer is rounded up (away from zero).
    if value.denominator != 1 and (value / _NANO).denominator != 1:
        value = _round_away(value / _NANO) * _NANO
    return value


def _decimal(num: str) -> str:
    sign = "-" if num.startswith("-") else ""
    body = num.lstrip("+-")
    if body.startswith("."):
        body = "0" + body
    if body.endswith("."):
        body += "0"
    return sign + body


def _is_int(s: str) -> bool:
    t = s[1:] if s[:1] in "+-" else s
    return t.isdigit()


def _round_away(x: Fraction) -> int:
    """Round to an integer away from zero, as inf.RoundUp does."""
    return math.ceil(x) if x >= 0 else math.floor(x)


def _int64(v: int) -> int:
    """Reduce to int64 the way Go's big.Int.Int64() does for out-of-range values."""
    if -INT64_MAX - 1 <= v <= INT64_MAX:
        return v
    low = abs(v) & ((1 << 64) - 1)
    low = low - (1 << 64) if low > INT64_MAX else low
    return -low if v < 0 else low


def value(q: Fraction) -> int:
    """``Quantity.Value()``: the integer value rounded up (away from zero)."""
    return _int64(_round_away(q))


def milli_value(q: Fraction) -> int:
    """``Quantity.MilliValue()``: the value in thousandths, rounded up (away from zero)."""
    return _int64(_round_away(q * 1000))


@lru_cache(maxsize=4096)
def ksm_float(s: str) -> float:
    """kube-state-metrics' ``convertValueToFloat64``: milli precision unless too large."""
    q = parse_quantity(s)
    v = value(q)
    if v > MAX_MILLI_VALUE:
        return float(v)
    return milli_value(q) / 1000


@lru_cache(maxsize=4096)
def int_value(s: str) -> int:
    """``Quantity.Value()`` of a quantity string (memory, storage, counts)."""
    return value(parse_quantity(s))


@lru_cache(maxsize=4096)
def cpu_cores(s: str) -> float:
    """CPU in cores as kube-state-metrics computes it: ``MilliValue()/1000``."""
    return milli_value(parse_quantity(s)) / 1000


def _remove_factors(v: int, base: int) -> tuple[int, int]:
    times = 0
    while v != 0 and v % base == 0:
        v //= base
        times += 1
    return v, times


def format_decimal_si(mantissa: int, exp10: int = 0) -> str:
    """Canonical DecimalSI string of ``mantissa * 10**exp10`` (``NewScaledQuantity``)."""
    if mantissa == 0:
        return "0"
    amount, times = _remove_factors(mantissa, 10)
    exponent = exp10 + times
    r = exponent % 3  # Python's modulo is non-negative: 1 -> one step, 2 -> two steps
    if r:
        amount *= 10**r
        exponent -= r
    if exponent < -9:
        # finer than nano: Go rounds up to nano precision
        scale = 10 ** (-9 - exponent)
        amount = -((-amount) // scale) if amount > 0 else amount // scale
        return format_decimal_si(amount, -9)
    suffix = _DECIMAL_BY_EXP.get(exponent)
    if suffix is None:
        suffix = f"e{exponent}"
    return f"{amount}{suffix}"


def format_binary_si(n: int) -> str:
    """Canonical BinarySI string of an integer byte count (``NewQuantity(n, BinarySI)``)."""
    if n == 0:
        return "0"
    if -1024 < n < 1024:
        return format_decimal_si(n)
    amount, times = _remove_factors(n, 1024)
    times = min(times, 6)
    amount = n // (1024**times)
    suffix = _BINARY_BY_EXP.get(times, "")
    return f"{amount}{suffix}"


def parse_canonical_cpu_nanos(s: str) -> int:
    """Nano-cores of a CPU quantity string (for tests and clients of the Metrics API)."""
    return _round_away(parse_quantity(s) * 1_000_000_000)
