"""Decode Kubernetes protobuf request bodies into the JSON form the simulator stores.

kubectl's typed clients (``kubectl create deployment/namespace/secret/...``) send
``application/vnd.kubernetes.protobuf``: the magic ``k8s\\x00``, then a ``runtime.Unknown`` whose
``typeMeta`` names the kind and whose ``raw`` is the object's message. The messages are decoded with
the field table in :mod:`.protoschema`; the types with a JSON form of their own are converted as
apimachinery marshals them (Time and MicroTime as RFC 3339, IntOrString as a number or a string,
Quantity as its string, Duration as Go's duration text, RawExtension and FieldsV1 as embedded JSON,
bytes as base64).

Go writes non-pointer scalar fields even when zero and its JSON omits them (``omitempty``), so zero
values are dropped, except for the optional fields where zero or false means something
(:data:`KEEP_ZERO`). Responses stay JSON: kubectl accepts them.
"""

from __future__ import annotations

import base64
import datetime as dt
import struct
from typing import Any

import msgspec

from kubescope.model.gofmt import go_duration

MAGIC = b"k8s\x00"


def _fields_of(message: str, *names: str) -> set[str]:
    return {f"{message}.{n}" for n in names}


KEEP_ZERO = frozenset(
    _fields_of("apps.v1.DeploymentSpec", "replicas", "revisionHistoryLimit", "progressDeadlineSeconds")
    | _fields_of("apps.v1.ReplicaSetSpec", "replicas")
    | _fields_of("apps.v1.StatefulSetSpec", "replicas", "revisionHistoryLimit")
    | _fields_of("apps.v1.DaemonSetSpec", "revisionHistoryLimit")
    | _fields_of("core.v1.ReplicationControllerSpec", "replicas")
    | _fields_of(
        "batch.v1.JobSpec",
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
        "suspend",
    )
    | _fields_of(
        "batch.v1.CronJobSpec",
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
        "suspend",
    )
    | _fields_of(
        "core.v1.PodSpec",
        "terminationGracePeriodSeconds",
        "activeDeadlineSeconds",
        "automountServiceAccountToken",
    )
    | _fields_of("core.v1.ServiceAccount", "automountServiceAccountToken")
    | _fields_of("core.v1.ConfigMap", "immutable")
    | _fields_of("core.v1.Secret", "immutable")
    | _fields_of("scheduling.v1.PriorityClass", "value")
    | _fields_of(
        "core.v1.SecurityContext",
        "runAsUser",
        "runAsGroup",
        "runAsNonRoot",
        "privileged",
        "allowPrivilegeEscalation",
        "readOnlyRootFilesystem",
    )
    | _fields_of("core.v1.PodSecurityContext", "runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot")
    | _fields_of("core.v1.ConfigMapVolumeSource", "defaultMode", "optional")
    | _fields_of("core.v1.SecretVolumeSource", "defaultMode", "optional")
    | _fields_of("autoscaling.v2.HorizontalPodAutoscalerSpec", "minReplicas")
    | _fields_of("autoscaling.v1.HorizontalPodAutoscalerSpec", "minReplicas")
    | _fields_of("meta.v1.DeleteOptions", "gracePeriodSeconds")
)
"""Go pointer fields (``message.field``) where an explicit zero or false is meaningful and kept."""

GROUP_PACKAGES = {
    "": "core",
    "apps": "apps",
    "batch": "batch",
    "networking.k8s.io": "networking",
    "policy": "policy",
    "autoscaling": "autoscaling",
    "authentication.k8s.io": "authentication",
    "rbac.authorization.k8s.io": "rbac",
    "scheduling.k8s.io": "scheduling",
}


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf envelope this simulator can decode."""


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object (with ``apiVersion`` and ``kind``)."""
    from kubescope.sim.protoschema import SCHEMA

    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic number")
    unknown = _message(SCHEMA, "runtime.Unknown", memoryview(body)[len(MAGIC) :])
    tm = unknown.get("typeMeta") or {}
    api_version, kind = str(tm.get("apiVersion", "")), str(tm.get("kind", ""))
    group, _, version = api_version.rpartition("/")
    name = _message_name(SCHEMA, group, version, kind)
    raw = base64.b64decode(unknown.get("raw", ""))
    obj = _message(SCHEMA, name, memoryview(raw))
    return {"apiVersion": api_version, "kind": kind, **obj}


def _message_name(
    schema: dict[str, dict[int, tuple[str, str, bool]]], group: str, version: str, kind: str
) -> str:
    if kind == "DeleteOptions":
        return "meta.v1.DeleteOptions"
    pkg = GROUP_PACKAGES.get(group)
    name = f"{pkg}.{version}.{kind}"
    if pkg is None or name not in schema:
        raise ProtobufError(f"cannot decode protobuf {kind} of {group or 'core'}/{version}; send JSON")
    return name


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


def _fields(buf: memoryview) -> list[tuple[int, int, Any]]:
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


def _signed(v: int, bits: int = 64) -> int:
    return v - (1 << 64) if v >= 1 << (bits - 1) and v < 1 << 64 else v


def _scalar(typ: str, wt: int, v: Any) -> Any:
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
        return struct.unpack("<d", v)[0] if wt == 1 else 0.0
    if typ == "float":
        return struct.unpack("<f", v)[0] if wt == 5 else 0.0
    raise ProtobufError(f"unsupported scalar type {typ}")


def _packed(typ: str, v: memoryview) -> list[Any]:
    if typ == "double":
        return [struct.unpack_from("<d", v, k)[0] for k in range(0, len(v), 8)]
    out = []
    i = 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(_scalar(typ, 0, x))
    return out


def _value(schema: dict[str, dict[int, tuple[str, str, bool]]], typ: str, wt: int, v: Any) -> Any:
    if typ in schema:
        if wt != 2:
            raise ProtobufError(f"message {typ} with wire type {wt}")
        return _message(schema, typ, v)
    return _scalar(typ, wt, v)


def _message(schema: dict[str, dict[int, tuple[str, str, bool]]], name: str, buf: memoryview) -> Any:
    table = schema[name]
    out: dict[str, Any] = {}
    for num, wt, v in _fields(buf):
        spec = table.get(num)
        if spec is None:
            continue  # a field newer than our table: skip it, as protobuf readers do
        field, typ, repeated = spec
        if typ.startswith("map:"):
            vtyp = typ[4:]
            entry = {n: (w, x) for n, w, x in _fields(v)}
            key = _scalar("string", 2, entry[1][1]) if 1 in entry else ""
            val = _value(schema, vtyp, *entry[2]) if 2 in entry else ({} if vtyp in schema else "")
            out.setdefault(field, {})[key] = val
        elif repeated:
            if wt == 2 and typ not in schema and typ not in ("string", "bytes"):
                out.setdefault(field, []).extend(_packed(typ, v))
            else:
                out.setdefault(field, []).append(_value(schema, typ, wt, v))
        else:
            out[field] = _value(schema, typ, wt, v)
    return _special(name, out)


def _special(name: str, m: dict[str, Any]) -> Any:
    """Types whose JSON form is not their message's."""
    if name in ("meta.v1.Time", "meta.v1.MicroTime"):
        secs = int(m.get("seconds", 0))
        nanos = int(m.get("nanos", 0))
        if not secs and not nanos:
            return None
        t = dt.datetime.fromtimestamp(secs, dt.UTC)
        if name == "meta.v1.MicroTime":
            return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "util.intstr.IntOrString":
        return str(m.get("strVal", "")) if int(m.get("type", 0)) == 1 else int(m.get("intVal", 0))
    if name in ("api.resource.Quantity", "api.resource.QuantityValue"):
        return str(m.get("string", ""))
    if name == "meta.v1.Duration":
        return go_duration(int(m.get("duration", 0)))
    if name in ("runtime.RawExtension", "meta.v1.FieldsV1"):
        raw = base64.b64decode(m.get("raw") or m.get("Raw") or "")
        return msgspec.json.decode(raw) if raw else None
    return {
        k: v
        for k, v in m.items()
        if v is not None
        and (not (v == "" or v is False or (type(v) is int and v == 0)) or f"{name}.{k}" in KEEP_ZERO)
    }
