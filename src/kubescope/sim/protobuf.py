"""Kubernetes protobuf bodies decoded into the JSON form the simulator stores.

kubectl's typed clients (``kubectl create deployment/namespace/secret/...``) send
``application/vnd.kubernetes.protobuf``: the magic ``k8s\\x00``, then a ``runtime.Unknown`` whose
``typeMeta`` names the kind and whose ``raw`` is the object's message. The messages are read with the
field table of :mod:`.protoschema`; the types with a JSON form of their own (:mod:`.protoforms`:
Time, IntOrString, Quantity, Duration, RawExtension, ...) are converted as apimachinery marshals
them, and embedded structs are inlined as Go's JSON inlines them.

Go writes non-pointer scalar fields even when zero and its JSON omits them (``omitempty``), so zero
values are dropped, except where Go's JSON keeps them: pointer fields (an explicit ``replicas: 0``)
and fields without ``omitempty``.
"""

from __future__ import annotations

from typing import Any

from kubescope.sim import protoforms as forms
from kubescope.sim.protoforms import MAGIC, ProtobufError, message_name
from kubescope.sim.protoschema import SCHEMA

__all__ = ["MAGIC", "ProtobufError", "decode_object", "fields"]


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object (with ``apiVersion`` and ``kind``)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic number")
    # runtime.Unknown: its TypeMeta is inlined, as in JSON
    unknown = _message("runtime.Unknown", memoryview(body)[len(MAGIC) :])
    api_version, kind = str(unknown.get("apiVersion", "")), str(unknown.get("kind", ""))
    name = message_name(api_version, kind)
    if name is None:
        group, _, version = api_version.rpartition("/")
        raise ProtobufError(f"cannot decode protobuf {kind} of {group or 'core'}/{version}; send JSON")
    obj = _message(name, memoryview(forms.b64decode(unknown.get("raw", ""))))
    return {"apiVersion": api_version, "kind": kind, **obj}


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def fields(buf: memoryview) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) triples; length-delimited values stay memoryviews."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    n = len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
            out.append((num, wt, v))
        elif wt == 2:
            ln, i = _varint(buf, i)
            if i + ln > n:
                raise ProtobufError("truncated length-delimited field")
            out.append((num, wt, buf[i : i + ln]))
            i += ln
        elif wt == 1:
            out.append((num, wt, bytes(buf[i : i + 8])))
            i += 8
        elif wt == 5:
            out.append((num, wt, bytes(buf[i : i + 4])))
            i += 4
        else:
            raise ProtobufError(f"unsupported wire type {wt}")
    return out


def _packed(typ: str, v: memoryview) -> list[Any]:
    if typ == "double":
        return [forms.unpack_double(bytes(v[k : k + 8])) for k in range(0, len(v), 8)]
    out = []
    i = 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(forms.scalar_from_wire(typ, 0, x))
    return out


def _value(typ: str, wt: int, v: Any) -> Any:
    if typ in SCHEMA:
        if wt != 2:
            raise ProtobufError(f"message {typ} with wire type {wt}")
        return _message(typ, v)
    return forms.scalar_from_wire(typ, wt, v)


def _message(name: str, buf: memoryview) -> Any:
    table = SCHEMA[name]
    out: dict[str, Any] = {}
    for num, wt, v in fields(buf):
        spec = table.get(num)
        if spec is None:
            continue  # a field newer than our table: skip it, as protobuf readers do
        field, typ, repeated = spec
        if typ.startswith("map:"):
            vtyp = typ[4:]
            entry = {n: (w, x) for n, w, x in fields(v)}
            key = forms.scalar_from_wire("string", 2, entry[1][1]) if 1 in entry else ""
            val = _value(vtyp, *entry[2]) if 2 in entry else ({} if vtyp in SCHEMA else "")
            out.setdefault(field, {})[key] = val
        elif repeated:
            if wt == 2 and typ not in SCHEMA and typ not in ("string", "bytes"):
                out.setdefault(field, []).extend(_packed(typ, v))
            else:
                out.setdefault(field, []).append(_value(typ, wt, v))
        elif not field:
            # an embedded struct Go's JSON inlines (Volume's VolumeSource, Probe's handler)
            inlined = _value(typ, wt, v)
            if isinstance(inlined, dict):
                out.update(inlined)
        else:
            out[field] = _value(typ, wt, v)
    return _to_json(name, out)


def _to_json(name: str, m: dict[str, Any]) -> Any:
    """A decoded message as Go's JSON writes it: its own form, or its fields without the zero values
    Go's ``omitempty`` drops."""
    special = forms.FROM_MESSAGE.get(name)
    if special is not None:
        return special(m)
    if name in forms.ARRAYS:
        return list(m.get("items") or [])
    return {
        k: v
        for k, v in m.items()
        if v is not None
        and (not (v == "" or v is False or (type(v) is int and v == 0)) or forms.keeps_zero(name, k))
    }
