"""apimachinery ``resource.Quantity``: the one quantity parser of kubescope, and canonical strings.

:func:`parse` is ``resource.ParseQuantity`` step for step: Go's scanner (no whitespace, ``1.``
and ``.5`` accepted, ``e``/``E`` exponents), and the two ways Go then holds the amount, an int64
with a decimal scale or an arbitrary-precision decimal rounded up (away from zero) to nano. Which
of the two matters: ``Value()``, ``MilliValue()`` and ``AsApproximateFloat64()`` round differently
on each, and kube-state-metrics prints what they return (``"0.3"`` approximates to
``0.30000000000000004``; ``"10E"`` has a ``Value()`` of 0, its int64 overflowing). Results are
memoised: clusters repeat the same few quantity strings ("100m", "128Mi") many times.

Canonical formatting (:func:`format_decimal_si`, :func:`format_binary_si`) follows
``Quantity.CanonicalizeBytes``: ``"487558164n"``, ``"500m"``, ``"2k"``, ``"732212Ki"``, ``"1023"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from kubescope.errors import DecodeError
from kubescope.model.govalue import INT64_MAX, INT64_MIN, big_to_float, go_parse_int64, go_pow10, int64_wrap

MAX_MILLI_VALUE = INT64_MAX // 1000
MAX_LENGTH = 4000
"""Longer strings are refused (Go has no limit; Python's int() refuses more than 4,300 digits). The
API server stores quantities canonically, so only untyped custom resource fields can be longer."""

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
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_MAX_INT64_FACTORS = 18
_NANO = 9
_MAX_EXP10 = 10_000
"""Exponents beyond this are refused where Go would compute with (or allocate) numbers of that many
digits: only hostile strings get there."""


class QuantityError(DecodeError):
    """A string is not a valid Kubernetes quantity."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """A parsed quantity as Go holds it: ``unscaled * 10**exp10``, either an ``int64Amount``
    (``inexact=False``: unscaled fits int64, exp10 is its scale) or an ``inf.Dec``
    (``inexact=True``: any size, exp10 the negated inf scale, -9 once rounded to nano)."""

    unscaled: int
    exp10: int
    inexact: bool = False

    @property
    def amount(self) -> Fraction:
        """The exact amount; :class:`QuantityError` when it is too large or small to hold."""
        if abs(self.exp10) > _MAX_EXP10:
            raise QuantityError(f"quantity {self.unscaled}e{self.exp10} is out of range")
        if self.exp10 >= 0:
            return Fraction(self.unscaled * 10**self.exp10)
        return Fraction(self.unscaled, 10**-self.exp10)

    def scaled_value(self, scale: int) -> int:
        """``Quantity.ScaledValue(scale)``: the amount in units of ``10**scale``, rounded up as Go
        rounds each representation."""
        if not self.inexact:
            if self.exp10 < scale:
                return _negative_scale_int64(self.unscaled, scale - self.exp10)
            return _positive_scale_int64(self.unscaled, self.exp10 - scale)
        return _scaled_value(self.unscaled, -self.exp10, -scale)

    def value(self) -> int:
        """``Quantity.Value()``."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """``Quantity.MilliValue()``."""
        return self.scaled_value(-3)

    def approximate_float(self) -> float:
        """``Quantity.AsApproximateFloat64()``."""
        base = big_to_float(self.unscaled)
        return base if self.exp10 == 0 else base * go_pow10(self.exp10)


def _negative_scale_int64(base: int, scale: int) -> int:
    """apimachinery's ``negativeScaleInt64``: divide by ``10**scale``, away from zero if inexact."""
    value = base
    fraction = False
    for _ in range(scale):
        if not fraction and _go_rem(value, 10) != 0:
            fraction = True
        value = _go_div(value, 10)
        if value == 0:
            if fraction:
                return 1 if base > 0 else -1
            return 0
    if fraction:
        value += 1 if base > 0 else -1
    return value


def _positive_scale_int64(base: int, scale: int) -> int:
    """apimachinery's ``positiveScaleInt64``: times ``10**scale``. On overflow Go's fast cases
    (scales 1, 2, 3, 6, 9) return the wrapped product, the general loop returns 0."""
    if scale == 0 or base == 0:
        return base
    if scale in (1, 2, 3, 6, 9):
        factor: int = 10**scale
        if base == 1:
            return factor
        return 0 if base == INT64_MIN else int64_wrap(base * factor)
    value = base
    for _ in range(scale):
        if value == 1:
            value = 10
            continue
        c = int64_wrap(value * 10)
        if value == INT64_MIN or _go_div(c, 10) != value:
            return 0
        value = c
    return value


def _scaled_value(unscaled: int, scale: int, new_scale: int) -> int:
    """apimachinery's ``scaledValue`` of an inf.Dec (scales counted as inf counts them: digits
    after the point), int64 arithmetic and its wrap-around included."""
    dif = scale - new_scale
    if dif == 0:
        return int64_wrap(unscaled)
    if dif < 0:
        return int64_wrap(int64_wrap(unscaled) * int(go_pow10(-dif)))
    if unscaled < INT64_MAX and dif < 19:
        u = int64_wrap(unscaled)
        divide = 10**dif
        result = _go_div(u, divide)
        return int64_wrap(result + 1) if _go_rem(u, divide) != 0 else result
    result, remainder = divmod(unscaled, 10**dif)  # big.Int.DivMod: Euclidean
    return int64_wrap(int64_wrap(result) + 1) if remainder else int64_wrap(result)


def _go_div(a: int, b: int) -> int:
    """Go's integer division (truncated toward zero)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _go_rem(a: int, b: int) -> int:
    return a - _go_div(a, b) * b


def _scan(s: str) -> tuple[bool, str, str, str, str]:
    """apimachinery's ``parseQuantityString``: (positive, value, num, denom, suffix)."""
    positive = True
    pos = 0
    end = len(s)
    if end and s[0] in "+-":
        positive = s[0] != "-"
        pos = 1
    while True:  # leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, s, s[pos:], "", ""
    num = s[pos:i] or "0"
    pos = i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and s[i] in _DIGITS:
            i += 1
        denom = s[pos:i]
        if i >= end:
            return positive, s, num, denom, ""
        pos = i
    value = s[:pos]
    start = pos
    i = pos
    while i < end and s[i] in _SUFFIX_CHARS:
        i += 1
    if i >= end:
        return positive, value, num, denom, s[start:]
    pos = i
    if s[pos] in "+-":
        pos += 1
    i = pos
    while i < end and s[i] in _DIGITS:
        i += 1
    if i >= end:
        return positive, value, num, denom, s[start:]
    raise QuantityError(
        f"invalid quantity {s!r}: expected a number such as 100m, 1.5Gi or 2e3 (unit suffixes: "
        "n,u,m,k,M,G,T,P,E, Ki..Ei or eN)"
    )


def _interpret(suffix: str, s: str) -> tuple[int, int, bool]:
    """(base, exponent, binary) of a suffix, as Go's suffixer interprets it."""
    if suffix in _DECIMAL_SUFFIX:
        return 10, _DECIMAL_SUFFIX[suffix], False
    if suffix in _BINARY_SUFFIX:
        return 2, _BINARY_SUFFIX[suffix], True
    if len(suffix) > 1 and suffix[0] in "eE":
        parsed = go_parse_int64(suffix[1:])
        if parsed is not None:
            return 10, ((parsed + (1 << 31)) % (1 << 32)) - (1 << 31), False  # int32(parsed)
    raise QuantityError(
        f"invalid quantity {s!r}: unknown suffix {suffix!r} (use n,u,m,k,M,G,T,P,E, Ki..Ei or eN)"
    )


@lru_cache(maxsize=4096)
def parse(s: str) -> Quantity:
    """``resource.ParseQuantity``; raises :class:`QuantityError` where Go returns an error."""
    if not s:
        raise QuantityError("invalid quantity '': empty")
    if len(s) > MAX_LENGTH:
        raise QuantityError(f"invalid quantity: {len(s)} characters (at most {MAX_LENGTH})")
    if s == "0":
        return Quantity(0, 0)
    positive, value, num, denom, suffix = _scan(s)
    base, exponent, binary = _interpret(suffix, s)
    mantissa = 1
    if not binary:
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))
    elif not denom:
        scale = 0
        mantissa = 1 << exponent
        precision = 15 - len(num) - (exponent * 3) // 10 - 1
    else:
        scale = 0
        precision = -1
    if precision >= 0:
        scale -= len(denom)
        if scale >= -_NANO:
            digits = go_parse_int64(num + denom)
            if digits is None:
                raise QuantityError(f"invalid quantity {s!r}: not a number")
            result = digits * mantissa
            if INT64_MIN < result <= INT64_MAX:
                return Quantity(result if positive else -result, scale)
    # arbitrary precision: inf.Dec of the number, suffix applied, rounded up (away from 0) to nano
    body = value.lstrip("+-")
    ip, _, fp = body.partition(".")
    if not (ip + fp) or not (ip + fp).isascii() or not (ip + fp).isdigit():
        raise QuantityError(f"invalid quantity {s!r}: not a number")
    unscaled = int(ip + fp)
    dscale = len(fp)
    if base == 10:
        dscale -= exponent
    else:
        unscaled <<= exponent
    if unscaled:
        if dscale < -_MAX_EXP10:
            raise QuantityError(f"invalid quantity {s!r}: exponent out of range")
        if dscale <= _NANO:
            unscaled *= 10 ** (_NANO - dscale)
        elif dscale - _NANO > len(ip + fp):
            unscaled = 1  # far below a nano: rounded up to one
        else:
            q, r = divmod(unscaled, 10 ** (dscale - _NANO))
            unscaled = q + (1 if r else 0)
        dscale = _NANO
    elif abs(dscale) > _MAX_EXP10:
        dscale = 0  # zero at any scale
    if binary and unscaled > INT64_MAX * 10**dscale:
        unscaled, dscale = INT64_MAX, 0  # BinarySI is capped at 2^63-1
    return Quantity(unscaled if positive else -unscaled, -dscale, inexact=True)


def parse_quantity(s: str) -> Fraction:
    """The exact amount of a quantity string; raises :class:`QuantityError` when it is not one."""
    return parse(s).amount


@lru_cache(maxsize=4096)
def ksm_float(s: str) -> float:
    """kube-state-metrics' ``convertValueToFloat64``: milli precision unless too large."""
    q = parse(s)
    v = q.value()
    if v > MAX_MILLI_VALUE:
        return float(v)
    return q.milli_value() / 1000


@lru_cache(maxsize=4096)
def int_value(s: str) -> int:
    """``Quantity.Value()`` of a quantity string (memory, storage, counts)."""
    return parse(s).value()


@lru_cache(maxsize=4096)
def cpu_cores(s: str) -> float:
    """CPU in cores as kube-state-metrics computes it: ``MilliValue()/1000``."""
    return parse(s).milli_value() / 1000


def approximate_float(s: str) -> float:
    """``Quantity.AsApproximateFloat64()`` of a quantity string."""
    return parse(s).approximate_float()


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
    nanos = parse(s).amount * 1_000_000_000
    return math.ceil(nanos) if nanos >= 0 else math.floor(nanos)
