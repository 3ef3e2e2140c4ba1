"""What Go's JSON decoder says of a body whose field has the wrong JSON type.

kube-apiserver decodes a request body into its Go struct before anything else; a string where the
struct has an ``int32`` fails the request with 400 and the decoder's message, ``json: cannot
unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`` (the innermost
struct, the JSON path from the root without list indexes, the field's Go type). The field types are
the Go types of :mod:`.protoschema`; the types with their own ``UnmarshalJSON`` (Time, Quantity,
IntOrString, RawExtension...) accept what theirs accepts and answer what theirs answers.

Every write of the API goes through here, so each field type is compiled once into a checker and a
struct's fields are checked by one dictionary lookup and one type comparison in the common case.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from kubescope.sim.protoforms import ARRAYS
from kubescope.sim.protoschema import GO_TYPES, NAMED_TYPES, SCHEMA

Path = tuple[str, ...]
Checker = Callable[[Any, str, Path], "str | None"]
"""(JSON value, innermost Go struct, JSON path) -> Go's error, or None when the value fits."""

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_QUANTITY_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_ANY_JSON = frozenset(
    {
        "runtime.RawExtension",
        "meta.v1.FieldsV1",
        "apiextensions.v1.JSON",
        "apiextensions.v1.JSONSchemaPropsOrArray",
        "apiextensions.v1.JSONSchemaPropsOrBool",
        "apiextensions.v1.JSONSchemaPropsOrStringArray",
    }
)


def decode_error(message: str, obj: dict[str, Any]) -> str | None:
    """Go's error decoding ``obj`` into ``message``'s struct, or None when it decodes."""
    return _struct(message, obj, ())


def _struct(message: str, obj: dict[str, Any], path: Path) -> str | None:
    fields = _fields(message)
    for key, value in obj.items():
        spec = fields.get(key)
        if spec is None or value is None or type(value) is spec[0]:
            continue  # unknown fields are not this check's; null is a zero value; most fit at once
        err = spec[1](value, message.rsplit(".", 1)[1], (*path, key))
        if err:
            return err
    return None


@functools.cache
def _fields(message: str) -> dict[str, tuple[type | None, Checker]]:
    """A message's JSON fields (inlined embedded structs' included, as Go promotes them): the Python
    type that fits at once, if any, and the full check."""
    out: dict[str, tuple[type | None, Checker]] = {}
    gotypes = GO_TYPES.get(message, {})
    for json, typ, repeated in SCHEMA[message].values():
        if not json:
            out.update(_fields(typ))
            continue
        fast = {"string": str, "bytes": str, "bool": bool, "int64": int}.get(typ) if not repeated else None
        out[json] = (fast, _checker(typ, repeated, gotypes.get(json, "").lstrip("*")))
    return out


@functools.cache
def _checker(typ: str, repeated: bool, gotype: str) -> Checker:
    if repeated:
        return _sequence(_checker(typ, False, _element(gotype)), gotype or "[]" + typ, list)
    if typ.startswith("map:"):
        return _sequence(_checker(typ[4:], False, _element(gotype)), gotype or "map[string]" + typ[4:], dict)
    if typ in SCHEMA:
        return _message(typ, gotype or typ)
    return _scalar(typ, gotype or typ)


def _sequence(elem: Checker, gotype: str, kind: type) -> Checker:
    def check(v: Any, struct: str, path: Path) -> str | None:
        if type(v) is not kind:
            return _mismatch(v, struct, path, gotype)
        for x in _items(v):
            if x is not None and (err := elem(x, struct, path)):
                return err
        return None

    return check


def _items(v: Any) -> Any:
    return v.values() if isinstance(v, dict) else v


def _message(typ: str, gotype: str) -> Checker:
    if typ in _ANY_JSON:
        return lambda v, struct, path: None
    if typ in ("meta.v1.Time", "meta.v1.MicroTime"):
        return lambda v, struct, path: (
            None if isinstance(v, str) else f"json: cannot unmarshal {_kind(v)} into Go value of type string"
        )
    if typ == "util.intstr.IntOrString":
        return lambda v, struct, path: (
            None
            if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
            else f"json: cannot unmarshal {_kind(v)} into Go value of type int32"
        )
    if typ in ("api.resource.Quantity", "api.resource.QuantityValue"):
        return _quantity
    if typ in ARRAYS:  # a named string slice (ExtraValue)
        return _sequence(_scalar("string", "string"), gotype, list)

    def check(v: Any, struct: str, path: Path) -> str | None:
        return _struct(typ, v, path) if type(v) is dict else _mismatch(v, struct, path, gotype)

    return check


def _quantity(v: Any, struct: str, path: Path) -> str | None:
    text = v if isinstance(v, str) else str(v) if isinstance(v, (int, float)) else ""
    return _QUANTITY_ERROR if isinstance(v, bool) or not _QUANTITY.match(text.strip()) else None


def _scalar(typ: str, gotype: str) -> Checker:
    if typ in ("string", "bytes"):
        return lambda v, struct, path: None if isinstance(v, str) else _mismatch(v, struct, path, gotype)
    if typ == "bool":
        return lambda v, struct, path: None if isinstance(v, bool) else _mismatch(v, struct, path, gotype)
    if typ in ("double", "float"):
        return lambda v, struct, path: (
            None
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else _mismatch(v, struct, path, gotype)
        )
    if typ not in _INT_RANGES:
        return lambda v, struct, path: None
    lo, hi = _INT_RANGES[typ]

    def check(v: Any, struct: str, path: Path) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return _mismatch(v, struct, path, gotype)
        if isinstance(v, float) or not lo <= v <= hi:
            return _mismatch(v, struct, path, gotype, f"number {v!r}")  # Go names what does not fit
        return None

    return check


@functools.cache
def _element(gotype: str) -> str:
    """The Go type of a slice's or map's elements (named types resolved: v1.ResourceList)."""
    gotype = NAMED_TYPES.get(gotype, gotype)
    if gotype.startswith("[]"):
        return gotype[2:]
    if gotype.startswith("map["):
        depth = 0
        for i, ch in enumerate(gotype):
            depth += ch == "["
            depth -= ch == "]"
            if depth == 0 and ch == "]":
                return gotype[i + 1 :]
    return ""


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def _mismatch(v: Any, struct: str, path: Path, gotype: str, what: str = "") -> str:
    return f"json: cannot unmarshal {what or _kind(v)} into Go struct field {struct}.{'.'.join(path)} of type {gotype}"
