"""text/template's builtin functions (``and or not len index slice eq ne lt le gt ge print printf
println html js urlquery``) with Go's semantics and error wording.

``and``/``or`` are evaluated lazily by the executor (Go short-circuits them since 1.18); they are
listed here so the parser knows the names. ``index`` of a missing map key gives the element type's
zero value (``""``), unlike field access, which gives ``<no value>``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from kubescope.custom_metrics.goprint import NO_VALUE, go_sprint, go_sprintf, go_sprintln, go_type, truth


class TemplateExecError(ValueError):
    """A template failed while executing (bad index, wrong types, unknown field...)."""


def _index(item: Any, *indexes: Any) -> Any:
    for ix in indexes:
        if isinstance(item, dict):
            if not isinstance(ix, str):
                raise TemplateExecError(f"value has type {go_type(ix)}; should be string")
            item = item.get(ix, "")
        elif isinstance(item, list | str):
            if not isinstance(ix, int) or isinstance(ix, bool):
                raise TemplateExecError(f"cannot index slice/array with type {go_type(ix)}")
            if ix < 0 or ix >= len(item):
                raise TemplateExecError(f"index out of range: {ix}")
            item = item[ix] if isinstance(item, list) else item.encode()[ix]
        elif item is None or item is NO_VALUE:
            raise TemplateExecError("index of untyped nil")
        else:
            raise TemplateExecError(f"can't index item of type {go_type(item)}")
    return item


def _slice(item: Any, *bounds: Any) -> Any:
    if not isinstance(item, list | str):
        raise TemplateExecError(f"can't slice item of type {go_type(item)}")
    if len(bounds) > 2:
        raise TemplateExecError(f"too many slice indexes: {len(bounds)}")
    n = len(item)
    lo = bounds[0] if bounds else 0
    hi = bounds[1] if len(bounds) > 1 else n
    for b in (lo, hi):
        if not isinstance(b, int) or isinstance(b, bool):
            raise TemplateExecError(f"cannot index slice/array with type {go_type(b)}")
    if not 0 <= lo <= hi <= n:
        raise TemplateExecError(f"slice index out of range: {lo}:{hi}")
    return item[lo:hi]


def _len(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, list | dict):
        return len(item)
    raise TemplateExecError(f"len of type {go_type(item)}")


def _basic(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "nil"
    return "other"


def _comparable(a: Any, b: Any, op: str) -> None:
    ka, kb = _basic(a), _basic(b)
    if ka != kb:
        raise TemplateExecError("incompatible types for comparison")
    if ka == "other" or (op in ("lt", "le", "gt", "ge") and ka in ("bool", "nil")):
        raise TemplateExecError(f"invalid type for comparison: {go_type(a)}")


def _eq(a: Any, *bs: Any) -> bool:
    if not bs:
        raise TemplateExecError("missing argument for comparison")
    for b in bs:
        _comparable(a, b, "eq")
        if a == b:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _ordered(op: str) -> Callable[[Any, Any], bool]:
    def cmp(a: Any, b: Any) -> bool:
        _comparable(a, b, op)
        if op == "lt":
            return bool(a < b)
        if op == "le":
            return bool(a <= b)
        if op == "gt":
            return bool(a > b)
        return bool(a >= b)

    return cmp


def _html(*args: Any) -> str:
    s = go_sprint(args)
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("\0", "\ufffd")
    )


def _js(*args: Any) -> str:
    out = []
    for ch in go_sprint(args):
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=":
            out.append(f"\\u{ord(ch):04X}")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(go_sprint(args), safe="-_.~")


def _not(v: Any) -> bool:
    return not truth(v)


def _printf(fmt: Any, *args: Any) -> str:
    if not isinstance(fmt, str):
        raise TemplateExecError(f"wrong type for value; expected string; got {go_type(fmt)}")
    return go_sprintf(fmt, args)


def _lazy(*_: Any) -> Any:  # pragma: no cover - the executor evaluates and/or itself
    raise AssertionError("and/or are evaluated by the executor")


BUILTINS: dict[str, Callable[..., Any]] = {
    "and": _lazy,
    "or": _lazy,
    "not": _not,
    "len": _len,
    "index": _index,
    "slice": _slice,
    "eq": _eq,
    "ne": _ne,
    "lt": _ordered("lt"),
    "le": _ordered("le"),
    "gt": _ordered("gt"),
    "ge": _ordered("ge"),
    "print": lambda *a: go_sprint(a),
    "printf": _printf,
    "println": lambda *a: go_sprintln(a),
    "html": _html,
    "js": _js,
    "urlquery": _urlquery,
}

__all__ = ["BUILTINS", "NO_VALUE", "TemplateExecError"]
