"""What Go's JSON decoder says of a body whose field has the wrong JSON type.

kube-apiserver decodes a request body into its Go struct before anything else; a string where the
struct has an ``int32`` fails the request with 400 and the decoder's message, ``json: cannot
unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`` (the innermost
struct, the JSON path from the root without list indexes, the field's Go type). The field types are
the Go types of :mod:`.protoschema`; the types with their own ``UnmarshalJSON`` (Time, Quantity,
IntOrString, RawExtension...) accept what theirs accepts and answer what theirs answers.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from kubescope.sim.protoforms import ARRAYS
from kubescope.sim.protoschema import GO_TYPES, NAMED_TYPES, SCHEMA

Field = tuple[str, bool, str]
"""(protobuf type, repeated, Go type) of one JSON field."""

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_ANY_JSON = frozenset({"runtime.RawExtension", "meta.v1.FieldsV1", "apiextensions.v1.JSON"})
_UNIONS = frozenset(
    {
        "apiextensions.v1.JSONSchemaPropsOrArray",
        "apiextensions.v1.JSONSchemaPropsOrBool",
        "apiextensions.v1.JSONSchemaPropsOrStringArray",
    }
)


def decode_error(message: str, obj: dict[str, Any]) -> str | None:
    """Go's error decoding ``obj`` into ``message``'s struct, or None when it decodes."""
    return _struct(message, obj, ())


@functools.cache
def _fields(message: str) -> dict[str, Field]:
    """A message's JSON fields, those of inlined embedded structs included (as Go promotes them)."""
    out: dict[str, Field] = {}
    gotypes = GO_TYPES.get(message, {})
    for json, typ, repeated in SCHEMA[message].values():
        if not json:
            out.update(_fields(typ))
        else:
            out[json] = (typ, repeated, gotypes.get(json, ""))
    return out


def _struct(message: str, obj: dict[str, Any], path: tuple[str, ...]) -> str | None:
    fields = _fields(message)
    struct = message.rsplit(".", 1)[1]
    for key, value in obj.items():
        spec = fields.get(key)
        if spec is not None and value is not None:
            err = _value(spec, value, struct, (*path, key))
            if err:
                return err
    return None


def _value(spec: Field, v: Any, struct: str, path: tuple[str, ...]) -> str | None:
    typ, repeated, gotype = spec
    gotype = gotype.lstrip("*")
    if repeated:
        if not isinstance(v, list):
            return _mismatch(v, struct, path, gotype or "[]" + typ)
        elem = (typ, False, _element(gotype))
        return next((e for x in v if x is not None and (e := _value(elem, x, struct, path))), None)
    if typ.startswith("map:"):
        if not isinstance(v, dict):
            return _mismatch(v, struct, path, gotype or "map[string]" + typ[4:])
        elem = (typ[4:], False, _element(gotype))
        return next((e for x in v.values() if x is not None and (e := _value(elem, x, struct, path))), None)
    if typ in SCHEMA:
        return _message(typ, gotype, v, struct, path)
    return _scalar(typ, gotype or typ, v, struct, path)


def _message(typ: str, gotype: str, v: Any, struct: str, path: tuple[str, ...]) -> str | None:
    if typ in _ANY_JSON or typ in _UNIONS:
        return None
    if typ in ("meta.v1.Time", "meta.v1.MicroTime"):
        return (
            None if isinstance(v, str) else f"json: cannot unmarshal {_kind(v)} into Go value of type string"
        )
    if typ == "util.intstr.IntOrString":
        if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
            return None
        return f"json: cannot unmarshal {_kind(v)} into Go value of type int32"
    if typ in ("api.resource.Quantity", "api.resource.QuantityValue"):
        text = v if isinstance(v, str) else str(v) if isinstance(v, (int, float)) else ""
        if isinstance(v, bool) or not _QUANTITY.match(text.strip()):
            return (
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            )
        return None
    if typ in ARRAYS:
        if not isinstance(v, list):
            return _mismatch(v, struct, path, gotype or "[]string")
        return next((_mismatch(x, struct, path, "string") for x in v if not isinstance(x, str)), None)
    if not isinstance(v, dict):
        return _mismatch(v, struct, path, gotype or typ)
    return _struct(typ, v, path)


def _scalar(typ: str, gotype: str, v: Any, struct: str, path: tuple[str, ...]) -> str | None:
    if typ in ("string", "bytes"):
        return None if isinstance(v, str) else _mismatch(v, struct, path, gotype)
    if typ == "bool":
        return None if isinstance(v, bool) else _mismatch(v, struct, path, gotype)
    if typ in _INT_RANGES:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return _mismatch(v, struct, path, gotype)
        lo, hi = _INT_RANGES[typ]
        if isinstance(v, float) or not lo <= v <= hi:
            # Go names the number that does not fit
            return _mismatch(v, struct, path, gotype, f"number {_go_number(v)}")
        return None
    if typ in ("double", "float"):
        return (
            None
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else _mismatch(v, struct, path, gotype)
        )
    return None


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


def _go_number(v: float) -> str:
    return repr(v) if isinstance(v, float) and v != int(v) else str(int(v)) if isinstance(v, int) else repr(v)


def _mismatch(v: Any, struct: str, path: tuple[str, ...], gotype: str, what: str = "") -> str:
    return f"json: cannot unmarshal {what or _kind(v)} into Go struct field {struct}.{'.'.join(path)} of type {gotype}"
