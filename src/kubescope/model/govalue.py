"""Go's value semantics, where kube-state-metrics' output depends on them.

Kubernetes' unstructured JSON decoding gives KSM Go values: JSON integers become int64, other
numbers float64; Python's ``json`` gives int and float, so the two line up. What KSM then does
with them is reproduced here: ``fmt.Sprintf("%v")`` (:func:`go_string`), ``%T``
(:func:`go_type_name`), ``strconv.ParseInt``/``ParseBool``/``ParseFloat``, ``math.Pow10`` (whose
table-driven products round differently from ``10.0 ** n``) and ``big.Float.Float64``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from kubescope.model.gofmt import go_float

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def int64_wrap(v: int) -> int:
    """``big.Int.Int64()`` of an integer outside int64: the low 64 bits, with the sign of ``v``."""
    if INT64_MIN <= v <= INT64_MAX:
        return v
    low = abs(v) & ((1 << 64) - 1)
    low = low - (1 << 64) if low > INT64_MAX else low
    return -low if v < 0 else low


def go_string(v: Any) -> str:
    """``fmt.Sprintf("%v", v)`` of an unstructured value: how KSM turns a field into a label value."""
    if isinstance(v, str):
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "<nil>"
    if isinstance(v, int):
        if INT64_MIN <= v <= INT64_MAX:
            return str(v)
        v = float(v)  # Go decodes integers beyond int64 as float64
    if isinstance(v, float):
        if v == 0 and math.copysign(1.0, v) < 0:
            return "-0"
        return go_float(v)
    if isinstance(v, dict):
        return "map[" + " ".join(f"{go_string(k)}:{go_string(v[k])}" for k in sorted(v, key=go_string)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_string(x) for x in v) + "]"
    return str(v)


def go_type_name(v: Any) -> str:
    """``%T`` of an unstructured value, as in KSM's error messages."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64" if INT64_MIN <= v <= INT64_MAX else "float64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    return type(v).__name__


_P10 = [float(f"1e{i}") for i in range(32)]
_P10_POS32 = [float(f"1e{32 * i}") for i in range(10)]
_P10_NEG32 = [float(f"1e-{32 * i}") for i in range(11)]


def go_pow10(n: int) -> float:
    """Go's ``math.Pow10``, table for table, so products round exactly as in Go."""
    if 0 <= n <= 308:
        return _P10_POS32[n // 32] * _P10[n % 32]
    if -323 <= n <= 0:
        return _P10_NEG32[-n // 32] / _P10[-n % 32]
    return math.inf if n > 0 else 0.0


def big_to_float(v: int) -> float:
    """``big.Float.SetInt(v).Float64()``: nearest-even, and infinite instead of an overflow error."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


_GO_INT = re.compile(r"[+-]?[0-9]+")


def go_parse_int64(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)`` (and ``strconv.Atoi`` on 64-bit): optional sign, ASCII
    digits, int64 range; None where Go returns an error."""
    if not _GO_INT.fullmatch(s):
        return None
    v = int(s)
    return v if INT64_MIN <= v <= INT64_MAX else None


def go_parse_bool(s: str) -> bool | None:
    """``strconv.ParseBool``; None where Go returns an error."""
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


_GO_DECIMAL_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_GO_INF = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)


def go_parse_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)`` for decimal, hexadecimal (``0x1p-2``), Inf and NaN forms; None
    where Go returns an error (out of range included).

    Digit separators (``_``, only legal after a base prefix in Go) are not supported.
    """
    if _GO_DECIMAL_FLOAT.fullmatch(s):
        v = float(s)
        return None if math.isinf(v) else v  # Go: "value out of range"
    if _GO_HEX_FLOAT.fullmatch(s):
        try:
            return float.fromhex(s)
        except OverflowError:
            return None
    if _GO_INF.fullmatch(s):
        return -math.inf if s[0] == "-" else math.inf
    if s.lower() == "nan":
        return math.nan
    return None
