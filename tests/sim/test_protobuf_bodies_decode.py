"""Protobuf request bodies (kubectl's typed clients) decode to the JSON the apiserver would store."""

from __future__ import annotations

import pytest

from kubescope.sim.protobuf import ProtobufError, decode_object
from tests.sim.conftest import Api


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def s(num: int, text: str) -> bytes:
    return field(num, text.encode())


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = s(1, api_version) + s(2, kind)
    return b"k8s\x00" + field(1, type_meta) + field(2, raw) + s(4, "application/vnd.kubernetes.protobuf")


def meta(name: str, ns: str = "", **labels: str) -> bytes:
    out = s(1, name) + s(2, "") + s(3, ns) + field(8, b"")  # empty creationTimestamp, as Go writes it
    for k, v in labels.items():
        out += field(11, s(1, k) + s(2, v))
    return out


def test_configmap_with_maps_and_zero_values() -> None:
    raw = (
        field(1, meta("cm", "default", app="x"))
        + field(2, s(1, "k") + s(2, "v"))
        + field(3, s(1, "b") + field(2, b"\x00\x01"))
    )
    raw += field(4, 0)  # immutable=false: a pointer in Go, so an explicit false is kept
    obj = decode_object(envelope("v1", "ConfigMap", raw))
    assert obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "default", "labels": {"app": "x"}},
        "data": {"k": "v"},
        "binaryData": {"b": "AAE="},
        "immutable": False,
    }


def test_service_ports_with_int_or_string_and_times() -> None:
    port = s(1, "http") + s(2, "TCP") + field(3, 80) + field(4, field(1, 1) + s(3, "web"))
    port2 = field(3, 443) + field(4, field(1, 0) + field(2, 8443))
    spec = field(1, port) + field(1, port2) + s(4, "ClusterIP")
    m = s(1, "svc") + s(3, "default") + field(8, field(1, 1_700_000_000))
    obj = decode_object(envelope("v1", "Service", field(1, m) + field(2, spec) + field(3, b"")))
    assert obj["metadata"] == {
        "name": "svc",
        "namespace": "default",
        "creationTimestamp": "2023-11-14T22:13:20Z",
    }
    assert obj["spec"]["ports"] == [
        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web"},
        {"port": 443, "targetPort": 8443},
    ]
    assert obj["status"] == {}


def test_negative_numbers_and_replicas_zero() -> None:
    spec = field(1, 0) + field(3, field(1, meta("", "")) + field(2, field(2, s(1, "c") + s(2, "img"))))
    obj = decode_object(envelope("apps/v1", "Deployment", field(1, meta("d", "ns")) + field(2, spec)))
    assert obj["spec"]["replicas"] == 0
    assert obj["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "img"}]
    prio = decode_object(
        envelope("scheduling.k8s.io/v1", "PriorityClass", field(1, meta("p")) + field(2, -5))
    )
    assert prio["value"] == -5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "missing the k8s protobuf magic number"),
        (envelope("example.com/v1", "Widget", b""), "cannot decode protobuf Widget of example.com/v1"),
        (b"k8s\x00\x0a\xff", "truncated"),
    ],
)
def test_what_cannot_be_decoded_says_so(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        decode_object(body)


async def test_protobuf_create_over_http(api: Api) -> None:
    body = envelope("v1", "ConfigMap", field(1, meta("pb", "default")) + field(2, s(1, "a") + s(2, "b")))
    doc = await api.ok(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        body,
        content_type="application/vnd.kubernetes.protobuf",
    )
    assert doc["data"] == {"a": "b"} and doc["metadata"]["uid"]
    code, err = await api.call(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        b"garbage",
        content_type="application/vnd.kubernetes.protobuf",
    )
    assert code == 415 and "missing the k8s protobuf magic number" in err["message"]


def test_embedded_structs_are_inlined_as_go_json_inlines_them() -> None:
    """A Volume's VolumeSource (field 2) and a ConfigMapKeySelector's LocalObjectReference (field 1)
    are their own messages in protobuf, but their fields are the parent's in JSON."""
    volume = s(1, "v") + field(2, field(19, field(1, s(1, "cm"))))  # VolumeSource.configMap = {name: cm}
    selector = field(1, s(1, "cm")) + s(2, "k")  # ConfigMapKeySelector{LocalObjectReference{cm}, key}
    env = s(1, "E") + field(3, field(3, selector))  # EnvVar.valueFrom.configMapKeyRef
    container = s(1, "app") + s(2, "nginx") + field(7, env)
    spec = field(1, volume) + field(2, container)
    obj = decode_object(envelope("v1", "Pod", field(1, meta("p", "default")) + field(2, spec)))
    assert obj["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "cm"}}]
    assert obj["spec"]["containers"][0]["env"] == [
        {"name": "E", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}
    ]
