"""Numbers as Kubernetes writes them: CPU in millicores (``250m``) or cores (``2``, ``1.5``), memory in
binary units (``512Mi``, ``1.5Gi``), ages as ``kubectl get`` prints them (``5m``, ``3h``, ``12d``).

``console.js`` formats chart axes and legends with the same rules (kept short on purpose, so the two
are easy to compare); :mod:`tests.console.test_units` pins both.
"""

from __future__ import annotations

import math
import re

from kubescope.model.quantity import QuantityError, parse_quantity

_BINARY = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def _trim(v: float, digits: int) -> str:
    s = f"{v:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def cpu(millicores: float | None) -> str:
    """``850m`` below one core (whole millicores, as ``kubectl top``), ``1.25`` cores from one core up."""
    if millicores is None or not math.isfinite(millicores):
        return "-"
    if abs(millicores) < 1000:
        m = round(millicores)
        return "0" if m == 0 else f"{m}m"
    return _trim(millicores / 1000, 2)


def memory(nbytes: float | None) -> str:
    """Binary units with at most three significant digits: ``980Ki``, ``512Mi``, ``1.5Gi``."""
    if nbytes is None or not math.isfinite(nbytes):
        return "-"
    v = float(nbytes)
    if abs(v) < 1024:
        return f"{round(v)}"
    unit = ""
    for u in _BINARY:
        if abs(v) < 1024:
            break
        v /= 1024
        unit = u
    digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    return _trim(v, digits) + unit


def value(unit: str, v: float | None) -> str:
    """Format by a chart's unit: ``cpu`` (millicores), ``memory`` (bytes) or a plain count."""
    if unit == "cpu":
        return cpu(v)
    if unit == "memory":
        return memory(v)
    if v is None or not math.isfinite(v):
        return "-"
    return _trim(v, 2)


def percent(part: float | None, whole: float | None) -> str:
    if part is None or not whole or not math.isfinite(part):
        return ""
    return f"{round(100 * part / whole)}%"


def age(seconds: float | None) -> str:
    """``kubectl get``'s AGE column (``duration.HumanDuration``, shortened)."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if d < 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    return f"{d // 365}y"


_SCALE = {
    None: 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 1024.0, "Mi": 1024.0**2, "Gi": 1024.0**3, "Ti": 1024.0**4,
}  # fmt: skip
_FAST = re.compile(r"([0-9]{1,15})(n|u|m|k|M|G|T|Ki|Mi|Gi|Ti)?")
"""The forms the Metrics API and most objects write, parsed without the general quantity parser
(30,000 pods a poll); anything else goes through :func:`~kubescope.model.quantity.parse_quantity`."""


def _amount(quantity: str) -> float | None:
    if not quantity:
        return None
    m = _FAST.fullmatch(quantity)
    if m is not None:
        return int(m.group(1)) * _SCALE[m.group(2)]
    try:
        return float(parse_quantity(quantity))
    except QuantityError:
        return None


def millicores_of(quantity: str) -> float | None:
    """A CPU quantity (``500m``, ``2``, ``1234567n``) in millicores; None when absent or invalid."""
    v = _amount(quantity)
    return None if v is None else v * 1000


def bytes_of(quantity: str) -> float | None:
    """A memory quantity (``512Mi``, ``1G``) in bytes; None when absent or invalid."""
    return _amount(quantity)
