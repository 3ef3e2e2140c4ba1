"""Go's ``fmt`` printing of the values a template handles, so rendered PromQL matches Go's byte for byte.

``%v`` of a string slice is ``[a b]``, of a map ``map[k:v]`` with sorted keys, of a float the
shortest ``%g`` form (``1e+06``, ``0.5``), of nil ``<nil>``; a missing map key prints ``<no value>``.
:func:`go_sprintf` covers the verbs PromQL templates use (``%s %v %q %d %f %e %g %x %X %o %b %c %t
%%``) with flags, width and precision; a wrong argument prints Go's ``%!d(string=x)`` form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from kubescope.apiserver.status import go_quote
from kubescope.model.gofmt import go_float
from kubescope.model.govalue import go_string


class _NoValue:
    """The invalid ``reflect.Value`` of a missing map key: prints ``<no value>``, is false."""

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()


def go_type(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "[]" + (go_type(v[0]) if v else "string")
    if isinstance(v, dict):
        return "map[string]string"
    return str(getattr(v, "type_name", type(v).__name__))


def format_v(v: Any) -> str:
    """``%v``: Go's value printing (:func:`kubescope.model.govalue.go_string`), plus what templates
    add: a missing map key and structs."""
    if v is NO_VALUE:
        return "<no value>"
    if isinstance(v, list | tuple):
        return "[" + " ".join(format_v(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{format_v(k)}:{format_v(v[k])}" for k in sorted(v, key=format_v)) + "]"
    fields = getattr(v, "fields", None)
    if isinstance(fields, dict):
        return "{" + " ".join(format_v(x) for x in fields.values()) + "}"
    return go_string(v)


def go_sprint(args: Sequence[Any]) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out: list[str] = []
    prev_str = True
    for i, a in enumerate(args):
        is_str = isinstance(a, str)
        if i > 0 and not is_str and not prev_str:
            out.append(" ")
        out.append(format_v(a))
        prev_str = is_str
    return "".join(out)


def go_sprintln(args: Sequence[Any]) -> str:
    """``fmt.Sprintln``: always a space between operands, then a newline."""
    return " ".join(format_v(a) for a in args) + "\n"


def truth(v: Any) -> bool:
    """text/template's ``isTrue``: zero values, empty strings, slices and maps are false."""
    if v is None or v is NO_VALUE:
        return False
    if isinstance(v, bool | int | float | str | list | tuple | dict):
        return bool(v)
    return True


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])")


def _pad(s: str, width: int | None, flags: str, numeric: bool = False) -> str:
    if width is None or len(s) >= width:
        return s
    if "-" in flags:
        return s + " " * (width - len(s))
    if "0" in flags and numeric:
        sign = s[0] if s[:1] in "+- " else ""
        body = s[len(sign) :]
        return sign + "0" * (width - len(s)) + body
    return " " * (width - len(s)) + s


def _bad(verb: str, v: Any) -> str:
    return f"%!{verb}({go_type(v)}={format_v(v)})"


def _int_verb(verb: str, v: int, flags: str, prec: int | None) -> str:
    base = {"d": 10, "x": 16, "X": 16, "o": 8, "O": 8, "b": 2}[verb]
    digits = format(abs(v), {10: "d", 16: "x", 8: "o", 2: "b"}[base])
    if verb == "X":
        digits = digits.upper()
    if prec is not None:
        digits = digits.zfill(prec) if not (prec == 0 and v == 0) else ""
    prefix = ""
    if "#" in flags and verb in "xX":
        prefix = "0x" if verb == "x" else "0X"
    elif verb == "O" or ("#" in flags and verb == "o"):
        prefix = "0o" if verb == "O" else "0"
    sign = "-" if v < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
    return sign + prefix + digits


def _float_verb(verb: str, v: float, flags: str, prec: int | None) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if verb in "gG" and prec is None:
        s = go_float(v)
        if verb == "G":
            s = s.upper()
    else:
        p = 6 if prec is None else prec
        s = format(v, f".{p}{verb}")
        if verb in "eE":
            # Go always writes at least two exponent digits, as Python does
            pass
    if "+" in flags and not s.startswith("-"):
        s = "+" + s
    elif " " in flags and not s.startswith("-"):
        s = " " + s
    return s


def _one(verb: str, flags: str, prec: int | None, v: Any) -> tuple[str, bool]:
    """Format one operand; returns (text, numeric) where numeric allows zero padding."""
    if verb == "v":
        if isinstance(v, float) and not isinstance(v, bool):
            return _float_verb("g", v, flags, prec), True
        if isinstance(v, int) and not isinstance(v, bool):
            return _int_verb("d", v, flags, None), True
        if "#" in flags and isinstance(v, str):
            return go_quote(v), False
        return format_v(v), False
    if verb == "s":
        if isinstance(v, str):
            return (v if prec is None else v[:prec]), False
        if isinstance(v, list | dict) or v is NO_VALUE or v is None:
            return format_v(v), False
        return _bad(verb, v), False
    if verb == "q":
        if isinstance(v, str):
            return go_quote(v), False
        if isinstance(v, int) and not isinstance(v, bool):
            return "'" + chr(v) + "'", False
        if isinstance(v, list):
            return "[" + " ".join(go_quote(x) if isinstance(x, str) else format_v(x) for x in v) + "]", False
        return _bad(verb, v), False
    if verb == "t":
        return (format_v(v), False) if isinstance(v, bool) else (_bad(verb, v), False)
    if verb == "c":
        if isinstance(v, int) and not isinstance(v, bool):
            return chr(v), False
        return _bad(verb, v), False
    if verb in "dxXoOb":
        if isinstance(v, int) and not isinstance(v, bool):
            return _int_verb(verb, v, flags, prec), True
        if verb in "xX" and isinstance(v, str):
            h = v.encode().hex()
            return (h.upper() if verb == "X" else h), False
        return _bad(verb, v), False
    if verb in "feEgG":
        if isinstance(v, float | int) and not isinstance(v, bool):
            return _float_verb(verb, float(v), flags, prec), True
        return _bad(verb, v), False
    return f"%!{verb}({go_type(v)}={format_v(v)})", False


def go_sprintf(fmt: str, args: Sequence[Any]) -> str:
    """``fmt.Sprintf`` for the common verbs."""
    out: list[str] = []
    pos = 0
    argi = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width_s, prec_s, verb = m.groups()
        if verb == "%" and not flags and width_s is None and prec_s is None:
            out.append("%")
            continue
        width: int | None = None
        prec: int | None = None
        if width_s == "*":
            width = int(args[argi]) if argi < len(args) else None
            argi += 1
        elif width_s:
            width = int(width_s)
        if prec_s == "*":
            prec = int(args[argi]) if argi < len(args) else None
            argi += 1
        elif prec_s is not None:
            prec = int(prec_s) if prec_s else 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text, numeric = _one(verb, flags, prec, args[argi])
        argi += 1
        out.append(_pad(text, width, flags, numeric))
    out.append(fmt[pos:])
    if argi < len(args):
        extra = ", ".join(f"{go_type(a)}={format_v(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
