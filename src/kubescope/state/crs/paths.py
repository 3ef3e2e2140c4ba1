"""Custom Resource State paths: ``[spec, replicas]``, ``[status, conditions, "[type=Ready]"]``,
and ``labelsFromPath``, compiled once and evaluated on untyped objects as KSM does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubescope.model.govalue import go_parse_bool, go_parse_int64, go_string
from kubescope.state.crs.values import CRSError, to_float_or_none
from kubescope.state.text import sanitize_label_name

PathOp = Callable[[Any], Any]


def _list_lookup(part: str) -> PathOp:
    inner = part[1:-1]
    key, eq, val = inner.partition("=")
    if not eq:
        raise CRSError(f"invalid list lookup: {part}")
    num = to_float_or_none(val)
    boolean = go_parse_bool(val)

    def op(m: Any) -> Any:
        if not isinstance(m, list):
            return None
        for v in m:
            if not isinstance(v, dict) or key not in v:
                continue
            candidate = v[key]
            if isinstance(candidate, str) and candidate == val:
                return v
            if num is not None:
                c = to_float_or_none(candidate)
                if c is not None and c == num:
                    return v
            if boolean is not None and isinstance(candidate, bool) and candidate == boolean:
                return v
        return None

    return op


def _field(part: str) -> PathOp:
    kv = part.split("=")
    match = (kv[0], kv[1]) if len(kv) == 2 else None
    index = go_parse_int64(part)

    def op(m: Any) -> Any:
        if isinstance(m, dict):
            if match is not None:
                v = m.get(match[0])
                if isinstance(v, str) and v == match[1]:
                    return v
            return m.get(part)
        if isinstance(m, list):
            if index is None:
                return None
            i = index + len(m) if index < 0 else index
            return m[i] if 0 <= i < len(m) else None
        return None

    return op


class ValuePath:
    """A compiled path: ``[spec, replicas]``, ``[spec, order, "0"]``, ``[status, conditions,
    "[type=Ready]", status]``, ``[metadata, "name=foo"]``; a missing step yields None."""

    __slots__ = ("_ops", "parts")

    def __init__(self, parts: Sequence[str]) -> None:
        self.parts = tuple(parts)
        self._ops = tuple(
            _list_lookup(p) if p.startswith("[") and p.endswith("]") else _field(p) for p in self.parts
        )

    def get(self, obj: Any) -> Any:
        for op in self._ops:
            if obj is None:
                return None
            obj = op(obj)
        return obj

    def __len__(self) -> int:
        return len(self.parts)

    def __str__(self) -> str:
        return "[" + ",".join(self.parts) + "]"

    def __repr__(self) -> str:
        return f"ValuePath({list(self.parts)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValuePath) and other.parts == self.parts

    def __hash__(self) -> int:
        return hash(self.parts)


def compile_path(parts: Sequence[str]) -> ValuePath:
    """Compile a path; raises :class:`CRSError` for a list lookup without ``key=value``."""
    return ValuePath(parts)


class LabelPaths:
    """Compiled ``labelsFromPath``: ``*``/``prefix_*`` entries copy a whole map (first, in sorted
    order), then single fields override them; names are sanitized (``[^a-zA-Z0-9_]`` -> ``_``)."""

    __slots__ = ("_plain", "_stars", "paths")

    def __init__(self, paths: Mapping[str, ValuePath]) -> None:
        self.paths = dict(paths)
        stars = sorted(k for k in paths if k.startswith("*") or k.endswith("*"))
        self._stars = tuple((k[:-1] if k.endswith("*") else "", paths[k]) for k in stars)
        self._plain = tuple(
            (sanitize_label_name(k), paths[k])
            for k in sorted(paths)
            if not (k.startswith("*") or k.endswith("*"))
        )

    def add(self, obj: Any, out: dict[str, str]) -> None:
        """KSM's ``addPathLabels``."""
        for prefix, path in self._stars:
            m = path.get(obj)
            if isinstance(m, dict):
                for k, v in m.items():
                    out[sanitize_label_name(prefix + k)] = go_string(v)
        for name, path in self._plain:
            v = path.get(obj)
            if v is not None:
                out[name] = go_string(v)

    def __bool__(self) -> bool:
        return bool(self.paths)
