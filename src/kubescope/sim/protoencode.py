"""The simulator's answers in Kubernetes protobuf, for clients that ask for it.

kube-apiserver answers ``Accept: application/vnd.kubernetes.protobuf`` for built-in kinds: the magic
``k8s\\x00`` then a ``runtime.Unknown`` (``typeMeta``, ``raw`` = the object's message, empty
``contentEncoding`` and ``contentType``); a list is the ``<Kind>List`` message; a watch stream
(``;stream=watch``) is ``meta.v1.WatchEvent`` messages without envelope, each behind a 4-byte
big-endian length, their ``object.raw`` an enveloped object. Custom resources have no protobuf form
and are answered in JSON.

Fields are written in field-number order, map entries by key, as Go's generated marshallers do.
A JSON field is written when present (so pointer fields keep ``nil`` against ``0``); a value whose
JSON type does not fit its field is left out.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from kubescope.sim import protoforms as forms
from kubescope.sim.protoforms import MAGIC, ProtobufError, message_name
from kubescope.sim.protoschema import SCHEMA

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
WATCH_CONTENT_TYPE = "application/vnd.kubernetes.protobuf;stream=watch"


def has_protobuf(api_version: str, kind: str) -> bool:
    return message_name(api_version, kind) is not None


def encode_object(obj: dict[str, Any]) -> bytes:
    """An object (with ``apiVersion`` and ``kind``) as kube-apiserver sends it: enveloped."""
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    name = message_name(api_version, kind)
    if name is None:
        raise ProtobufError(f"{kind} of {api_version} has no protobuf form")
    return envelope(api_version, kind, message(name, obj))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = length_delimited(1, api_version.encode()) + length_delimited(2, kind.encode())
    return (
        MAGIC
        + length_delimited(1, type_meta)
        + length_delimited(2, raw)
        + length_delimited(3, b"")
        + length_delimited(4, b"")
    )


def list_message(list_meta: dict[str, Any], items: Iterable[bytes]) -> bytes:
    """A ``<Kind>List``'s message from its metadata and its items' messages (``message(...)``)."""
    out = [length_delimited(1, message("meta.v1.ListMeta", list_meta))]
    out += [length_delimited(2, raw) for raw in items]
    return b"".join(out)


def watch_frame(typ: str, enveloped: bytes) -> bytes:
    """One watch event of a protobuf watch stream: length-prefixed ``meta.v1.WatchEvent``."""
    event = length_delimited(1, typ.encode()) + length_delimited(2, length_delimited(1, enveloped))
    return struct.pack(">I", len(event)) + event


def message(name: str, value: dict[str, Any]) -> bytes:
    """The message ``name`` from its JSON form."""
    table = SCHEMA[name]
    out: list[bytes] = []
    for num in sorted(table):
        field, typ, repeated = table[num]
        v = value if not field else value.get(field)
        if v is None:
            continue
        if typ.startswith("map:"):
            if isinstance(v, dict):
                out += [length_delimited(num, _map_entry(typ[4:], k, v[k])) for k in sorted(v)]
        elif repeated:
            if isinstance(v, list):
                out += [b for item in v if (b := _field(num, typ, item)) is not None]
        else:
            b = _field(num, typ, v)
            if b is not None:
                out.append(b)
    return b"".join(out)


def _map_entry(typ: str, key: str, value: Any) -> bytes:
    entry = length_delimited(1, str(key).encode())
    v = _field(2, typ, value)
    return entry + (v if v is not None else b"")


def _field(num: int, typ: str, v: Any) -> bytes | None:
    """One field, or None when the JSON value does not fit the field's type."""
    if typ in SCHEMA:
        return _submessage(num, typ, v)
    if typ == "string":
        return length_delimited(num, v.encode()) if isinstance(v, str) else None
    if typ == "bool":
        return _varint_field(num, int(v)) if isinstance(v, bool) else None
    if typ in ("int32", "int64", "uint32", "uint64"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
            return None
        return _varint_field(num, int(v))
    if typ == "double":
        return _key(num, 1) + struct.pack("<d", v) if isinstance(v, (int, float)) else None
    if typ == "float":
        return _key(num, 5) + struct.pack("<f", v) if isinstance(v, (int, float)) else None
    if typ == "bytes":
        try:
            return length_delimited(num, forms.b64decode(v)) if isinstance(v, str) else None
        except ValueError:
            return None
    return None


def _submessage(num: int, typ: str, v: Any) -> bytes | None:
    to_message = forms.TO_MESSAGE.get(typ)
    if to_message is not None:
        fields = to_message(v)
        return None if fields is None else length_delimited(num, message(typ, fields))
    if typ in forms.ARRAYS:
        return length_delimited(num, message(typ, {"items": v})) if isinstance(v, list) else None
    return length_delimited(num, message(typ, v)) if isinstance(v, dict) else None


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative numbers as Go writes them: ten bytes, two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(num: int, wire_type: int) -> bytes:
    return _varint(num << 3 | wire_type)


def _varint_field(num: int, n: int) -> bytes:
    return _key(num, 0) + _varint(n)


def length_delimited(num: int, data: bytes) -> bytes:
    """A length-delimited field: bytes, a string or a message."""
    return _key(num, 2) + _varint(len(data)) + data
