"""KSM's ``toFloat64``: how a Custom Resource State gauge turns a field into a sample value.

Go's own conversions (quantities, RFC 3339 times, ``strconv``) come from :mod:`kubescope.model`;
this module only strings them together in KSM's order.
"""

from __future__ import annotations

import re
from typing import Any

from kubescope.model.govalue import INT64_MAX, INT64_MIN, big_to_float, go_parse_float, go_string
from kubescope.model.quantity import QuantityError, approximate_float
from kubescope.model.timefmt import rfc3339_unix

_PERCENT = re.compile(r"^[0-9]+%$")


class CRSError(Exception):
    """A path that does not compile or a field that is not a number (message as KSM words it)."""


def to_float(value: Any, nil_is_zero: bool) -> float:
    """KSM's ``toFloat64``: numbers, bools, ``true/yes`` -> 1, ``false/no/unknown`` -> 0, RFC 3339
    times -> unix seconds, quantities (``250m``, ``5Gi``), percentages (``28%`` -> 0.28), then any
    Go float syntax. Raises :class:`CRSError` otherwise.
    """
    if value is None:
        if nil_is_zero:
            return 0.0
        raise CRSError("expected number but found nil value")
    if value is True:
        return 1.0
    if value is False:
        return 0.0
    if isinstance(value, str):
        low = value.lower()
        if low in ("true", "yes"):
            return 1.0
        if low in ("false", "no", "unknown"):
            return 0.0
        t = rfc3339_unix(value)
        if t is not None:
            return float(t)
        try:
            return approximate_float(value)
        except QuantityError:
            pass
        if _PERCENT.match(value):
            return float(value[:-1]) / 100
        f = go_parse_float(value)
        if f is None:
            raise CRSError(f'strconv.ParseFloat: parsing "{value}": invalid syntax')
        return f
    if isinstance(value, int):
        return float(value) if INT64_MIN <= value <= INT64_MAX else big_to_float(value)
    if isinstance(value, float):
        return value
    raise CRSError(f"expected number but was {go_string(value)}")


def to_float_or_none(value: Any) -> float | None:
    try:
        return to_float(value, False)
    except CRSError:
        return None
