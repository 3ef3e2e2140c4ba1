"""Go's text formats for numbers and durations, reproduced exactly.

* :func:`go_float` is ``strconv.FormatFloat(v, 'g', -1, 64)`` as kube-state-metrics writes sample
  values (with its special cases for 0, 1, -1, NaN and infinities).
* :func:`go_duration` is ``time.Duration.String()`` (``"1m0s"``, ``"17.913s"``, ``"1.5ms"``), and
  :func:`parse_go_duration` is ``time.ParseDuration``.
"""

from __future__ import annotations

import math

_CACHE_LIMIT = 1 << 16
_cache: dict[float, str] = {}


def _layout(v: float) -> str:
    if v != v:
        return "NaN"
    if v == math.inf:
        return "+Inf"
    if v == -math.inf:
        return "-Inf"
    if v == 0:
        return "0"
    # repr() yields the shortest digits that round-trip, as Go's shortest mode does; only the
    # layout differs (Go switches to exponent form at 1e6 and below 1e-4).
    r = repr(v)
    neg = r[0] == "-"
    if neg:
        r = r[1:]
    mant, _, e = r.partition("e")
    exp = int(e) if e else 0
    ip, _, fp = mant.partition(".")
    full = ip + fp
    dp = len(ip) + exp
    stripped = full.lstrip("0")
    dp -= len(full) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    nd = len(digits)
    x = dp - 1
    if x < -4 or x >= 6:
        s = digits[0] + ("." + digits[1:] if nd > 1 else "")
        s += ("e-" if x < 0 else "e+") + (f"{-x:02d}" if x < 0 else f"{x:02d}")
    elif dp <= 0:
        s = "0." + "0" * (-dp) + digits
    elif dp >= nd:
        s = digits + "0" * (dp - nd)
    else:
        s = digits[:dp] + "." + digits[dp:]
    return "-" + s if neg else s


def _int_layout(v: int) -> str:
    """Go's shortest 'g' for an integral value >= 1e6 in magnitude (timestamps, byte counts)."""
    s = str(-v if v < 0 else v)
    digits = s.rstrip("0")
    if len(s) > 15:  # may not be exact as a float64: let the float path round it
        return _layout(float(v))
    m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return ("-" if v < 0 else "") + f"{m}e+{len(s) - 1:02d}"


def go_float(v: float | int) -> str:
    """Format a sample value as kube-state-metrics does (Go ``'g'`` shortest)."""
    if type(v) is int:
        if -1_000_000 < v < 1_000_000:
            return str(v)
        return _int_layout(v)
    f = float(v)
    s = _cache.get(f)
    if s is None:
        s = _layout(f)
        if len(_cache) < _CACHE_LIMIT:
            _cache[f] = s
    return s


_UNITS = ((1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs"))


def _frac(v: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of v / 10**prec without trailing zeros, and the integer part."""
    digits = []
    printed = False
    for _ in range(prec):
        d = v % 10
        printed = printed or d != 0
        if printed:
            digits.append(str(d))
        v //= 10
    frac = "." + "".join(reversed(digits)) if printed else ""
    return frac, v


def go_duration(ns: int) -> str:
    """Format nanoseconds as Go's ``time.Duration.String()``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        # sub-second: ns, µs or ms with a fraction
        if u < 1_000:
            s = f"{u}ns"
        elif u < 1_000_000:
            frac, whole = _frac(u, 3)
            s = f"{whole}{frac}µs"
        else:
            frac, whole = _frac(u, 6)
            s = f"{whole}{frac}ms"
    else:
        frac, secs = _frac(u, 9)
        s = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins:
            s = f"{mins % 60}m" + s
            hours = mins // 60
            if hours:
                s = f"{hours}h" + s
    return "-" + s if neg else s


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_TWO63 = 1 << 63


def parse_go_duration(s: str) -> int:
    """``time.ParseDuration``: nanoseconds of ``"1h30m"``, ``"-1.5s"``, ``"300ms"``; ValueError
    where Go returns an error (overflow of int64 nanoseconds included)."""
    orig, rest, neg = s, s, False
    if rest[:1] in ("-", "+"):
        neg, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f"time: invalid duration {orig!r}")
    total = 0
    while rest:
        if not (rest[0] == "." or "0" <= rest[0] <= "9"):
            raise ValueError(f"time: invalid duration {orig!r}")
        i = 0
        v = 0
        while i < len(rest) and "0" <= rest[i] <= "9":  # Go's leadingInt, overflow checked
            if v > _TWO63 // 10:
                raise ValueError(f"time: invalid duration {orig!r}")
            v = v * 10 + ord(rest[i]) - 48
            if v > _TWO63:
                raise ValueError(f"time: invalid duration {orig!r}")
            i += 1
        pre, rest = i > 0, rest[i:]
        f, scale, post = 0, 1.0, False
        if rest[:1] == ".":
            rest = rest[1:]
            i, overflow = 0, False
            while i < len(rest) and "0" <= rest[i] <= "9":  # leadingFraction: stops adding precision
                if not overflow:
                    y = f * 10 + ord(rest[i]) - 48
                    if f > (_TWO63 - 1) // 10 or y > _TWO63:
                        overflow = True
                    else:
                        f, scale = y, scale * 10
                i += 1
            post, rest = i > 0, rest[i:]
        if not pre and not post:
            raise ValueError(f"time: invalid duration {orig!r}")
        i = 0
        while i < len(rest) and not (rest[i] == "." or "0" <= rest[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f"time: missing unit in duration {orig!r}")
        unit_name, rest = rest[:i], rest[i:]
        unit = _DURATION_UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f"time: unknown unit {unit_name!r} in duration {orig!r}")
        if v > _TWO63 // unit:
            raise ValueError(f"time: invalid duration {orig!r}")
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > _TWO63:
                raise ValueError(f"time: invalid duration {orig!r}")
        total += v
        if total > _TWO63:
            raise ValueError(f"time: invalid duration {orig!r}")
    if neg:
        return -total
    if total > _TWO63 - 1:
        raise ValueError(f"time: invalid duration {orig!r}")
    return total
