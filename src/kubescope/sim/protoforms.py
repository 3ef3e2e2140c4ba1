"""What Kubernetes protobuf and its JSON agree on, for both directions of the simulator's codec.

* which message a ``(apiVersion, kind)`` is (:func:`message_name`);
* the types whose JSON is not their message's: ``Time`` and ``MicroTime`` (RFC 3339),
  ``IntOrString`` (a number or a string), ``Quantity`` (a string), ``Duration`` (Go's duration text),
  ``RawExtension``/``FieldsV1``/apiextensions' ``JSON`` (embedded JSON), named string slices
  (``ExtraValue``: an array), and apiextensions' ``JSONSchemaPropsOr*`` unions;
* which zero values Go's JSON keeps (pointers, fields without ``omitempty``), and so what Go
  writes for a zero struct (:func:`go_zero`: the body of a watch BOOKMARK).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
from collections.abc import Callable
from typing import Any

import msgspec

from kubescope.model.gofmt import go_duration
from kubescope.sim.protoschema import GO_TYPES, NAMED_TYPES, NOT_OMITTED, SCHEMA

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf envelope this simulator can read or write."""


GROUP_PACKAGES = {
    "": "core",
    "apps": "apps",
    "batch": "batch",
    "autoscaling": "autoscaling",
    "policy": "policy",
    "networking.k8s.io": "networking",
    "storage.k8s.io": "storage",
    "coordination.k8s.io": "coordination",
    "discovery.k8s.io": "discovery",
    "certificates.k8s.io": "certificates",
    "admissionregistration.k8s.io": "admissionregistration",
    "rbac.authorization.k8s.io": "rbac",
    "scheduling.k8s.io": "scheduling",
    "authentication.k8s.io": "authentication",
    "authorization.k8s.io": "authorization",
    "apiextensions.k8s.io": "apiextensions",
    "apiregistration.k8s.io": "apiregistration",
}
"""API groups with protobuf messages (built-in kinds); custom resources have none."""

META_KINDS = frozenset({"Status", "DeleteOptions", "WatchEvent", "APIGroupList", "APIResourceList"})


def message_name(api_version: str, kind: str) -> str | None:
    """The protobuf message of a kind, or None when it has none (custom resources)."""
    group, _, version = api_version.rpartition("/")
    if kind in META_KINDS:
        return f"meta.v1.{kind}"
    pkg = GROUP_PACKAGES.get(group)
    name = f"{pkg}.{version}.{kind}"
    return name if pkg is not None and name in SCHEMA else None


def keeps_zero(message: str, field: str) -> bool:
    """Whether Go's JSON writes ``field`` of ``message`` when it holds its zero value."""
    return GO_TYPES.get(message, {}).get(field, "").startswith("*") or f"{message}.{field}" in NOT_OMITTED


def go_zero(message: str) -> dict[str, Any]:
    """The JSON Go writes for the zero value of ``message``'s struct, in its fields' order: structs
    are written (``omitempty`` does not omit them), slices, maps and pointers without ``omitempty``
    as ``null``, scalars without it as their zero; ``creationTimestamp`` is ``omitzero`` (1.33+)."""
    out: dict[str, Any] = {}
    fields = {json: typ for json, typ, _ in SCHEMA.get(message, {}).values()}
    for json, gotype in GO_TYPES.get(message, {}).items():
        typ = fields.get(json, "")
        if not json:
            out.update(go_zero(typ))
            continue
        kept = f"{message}.{json}" in NOT_OMITTED
        underlying = NAMED_TYPES.get(gotype, gotype)
        if gotype.startswith("*") or underlying.startswith(("[]", "map[")):
            if kept:
                out[json] = None
        elif typ in SCHEMA and typ not in ARRAYS:
            if typ in _ZERO_FORMS:
                if json != "creationTimestamp":
                    out[json] = _ZERO_FORMS[typ]
            else:
                out[json] = go_zero(typ)
        elif kept:
            out[json] = {"string": "", "bool": False}.get(underlying, 0)
    return out


_ZERO_FORMS: dict[str, Any] = {
    "meta.v1.Time": None,
    "meta.v1.MicroTime": None,
    "util.intstr.IntOrString": 0,
    "api.resource.Quantity": "0",
    "runtime.RawExtension": None,
    "meta.v1.FieldsV1": None,
    "apiextensions.v1.JSON": None,
}
"""The JSON of zero values of the types with a JSON form of their own."""


ARRAYS = frozenset(
    m for m, f in SCHEMA.items() if list(f.values()) == [("items", "string", True)] and m not in GO_TYPES
)
"""Named string slices (``ExtraValue``): a message of one repeated field, an array in JSON."""


# -- scalars ----------------------------------------------------------------------------------------


def b64decode(s: Any) -> bytes:
    return base64.b64decode(s or "")


def unpack_double(b: bytes) -> float:
    return float(struct.unpack("<d", b)[0])


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 and v < 1 << 64 else v


def scalar_from_wire(typ: str, wt: int, v: Any) -> Any:
    if typ == "string":
        return bytes(v).decode("utf-8", errors="replace")
    if typ == "bytes":
        return base64.b64encode(bytes(v)).decode()
    if typ == "bool":
        return bool(v)
    if typ in ("int32", "int64"):
        return _signed(int(v))
    if typ in ("uint32", "uint64"):
        return int(v)
    if typ == "double":
        return unpack_double(v) if wt == 1 else 0.0
    if typ == "float":
        return float(struct.unpack("<f", v)[0]) if wt == 5 else 0.0
    raise ProtobufError(f"unsupported scalar type {typ}")


# -- the JSON forms of special messages: message fields -> JSON ------------------------------------


def _time(micro: bool) -> Callable[[dict[str, Any]], Any]:
    def to_json(m: dict[str, Any]) -> Any:
        secs, nanos = int(m.get("seconds", 0)), int(m.get("nanos", 0))
        if not secs and not nanos:
            return None
        t = dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{t}.{nanos // 1000:06d}Z" if micro else f"{t}Z"

    return to_json


def _raw_json(m: dict[str, Any]) -> Any:
    raw = b64decode(m.get("raw") or m.get("Raw"))
    return msgspec.json.decode(raw) if raw else None


def _either(a: str, b: str) -> Callable[[dict[str, Any]], Any]:
    """apiextensions' unions: ``schema`` or the other field."""

    def to_json(m: dict[str, Any]) -> Any:
        return m[b] if b in m and m.get(b) not in (None, []) and a not in m else m.get(a, m.get(b))

    return to_json


def _or_bool(m: dict[str, Any]) -> Any:
    return m["schema"] if "schema" in m else bool(m.get("allows"))


FROM_MESSAGE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "meta.v1.Time": _time(micro=False),
    "meta.v1.MicroTime": _time(micro=True),
    "util.intstr.IntOrString": lambda m: (
        str(m.get("strVal", "")) if int(m.get("type", 0)) == 1 else int(m.get("intVal", 0))
    ),
    "api.resource.Quantity": lambda m: str(m.get("string", "")),
    "api.resource.QuantityValue": lambda m: str(m.get("string", "")),
    "meta.v1.Duration": lambda m: go_duration(int(m.get("duration", 0))),
    "runtime.RawExtension": _raw_json,
    "meta.v1.FieldsV1": _raw_json,
    "apiextensions.v1.JSON": _raw_json,
    "apiextensions.v1.JSONSchemaPropsOrArray": _either("schema", "jSONSchemas"),
    "apiextensions.v1.JSONSchemaPropsOrStringArray": _either("schema", "property"),
    "apiextensions.v1.JSONSchemaPropsOrBool": _or_bool,
}


# -- and back: JSON -> message fields ---------------------------------------------------------------


def _to_time(v: Any) -> dict[str, Any] | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        t = dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    secs = int(t.timestamp())
    return {"seconds": secs, "nanos": t.microsecond * 1000}


def _to_int_or_string(v: Any) -> dict[str, Any] | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return {"type": 0, "intVal": v, "strVal": ""}
    if isinstance(v, str):
        return {"type": 1, "intVal": 0, "strVal": v}
    return None


_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def parse_go_duration(text: str) -> int | None:
    """Go's ``time.ParseDuration`` in nanoseconds; None when it is not one."""
    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    if s == "0":
        return 0
    total, pos = 0, 0
    for m in _DURATION.finditer(s):
        if m.start() != pos or not m.group(1) or m.group(1) == ".":
            return None
        total += int(float(m.group(1)) * _UNITS[m.group(2)])
        pos = m.end()
    return sign * total if pos == len(s) and pos else None


def _to_raw(v: Any) -> dict[str, Any]:
    return {"raw": msgspec.json.encode(v)}


def _to_either(a: str, b: str) -> Callable[[Any], dict[str, Any] | None]:
    def to_message(v: Any) -> dict[str, Any] | None:
        if isinstance(v, dict):
            return {a: v}
        return {b: v} if isinstance(v, list) else None

    return to_message


TO_MESSAGE: dict[str, Callable[[Any], dict[str, Any] | None]] = {
    "meta.v1.Time": _to_time,
    "meta.v1.MicroTime": _to_time,
    "util.intstr.IntOrString": _to_int_or_string,
    "api.resource.Quantity": lambda v: {"string": str(v)} if isinstance(v, (str, int, float)) else None,
    "api.resource.QuantityValue": lambda v: {"string": str(v)} if isinstance(v, (str, int, float)) else None,
    "meta.v1.Duration": lambda v: (
        None if not isinstance(v, str) or (d := parse_go_duration(v)) is None else {"duration": d}
    ),
    "runtime.RawExtension": _to_raw,
    "meta.v1.FieldsV1": lambda v: {"Raw": msgspec.json.encode(v)},
    "apiextensions.v1.JSON": _to_raw,
    "apiextensions.v1.JSONSchemaPropsOrArray": _to_either("schema", "jSONSchemas"),
    "apiextensions.v1.JSONSchemaPropsOrStringArray": _to_either("schema", "property"),
    "apiextensions.v1.JSONSchemaPropsOrBool": lambda v: (
        {"allows": v}
        if isinstance(v, bool)
        else {"allows": True, "schema": v}
        if isinstance(v, dict)
        else None
    ),
}
"""JSON value -> the message's fields (None: the value does not fit and is left out)."""
