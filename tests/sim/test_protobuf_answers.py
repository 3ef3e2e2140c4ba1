"""Protobuf answers for built-in kinds, as kube-apiserver gives them to clients that ask (client-go's
typed clients, kubectl's typed create): objects, lists, watch streams, Status errors; JSON for
custom resources."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from kubescope.sim.defaults import apply_defaults
from kubescope.sim.protobuf import decode_object, fields
from kubescope.sim.protoencode import encode_object
from kubescope.sim.protoforms import message_name
from kubescope.sim.resources import Registry
from kubescope.sim.scenario import ScenarioConfig, generate
from tests.sim.conftest import Api, configmap, pod

PROTOBUF = "application/vnd.kubernetes.protobuf"
ASK = {"Accept": "application/vnd.kubernetes.protobuf, application/json"}
PODS = "/api/v1/namespaces/default/pods"


def without_empty(o: Any) -> Any:
    """What survives Go's omitempty: protobuf cannot tell an empty field from an absent one."""
    if isinstance(o, dict):
        kept = {k: without_empty(v) for k, v in o.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", False, 0, [], {})}
    if isinstance(o, list):
        return [without_empty(x) for x in o]
    return o


def test_every_generated_kind_survives_the_round_trip() -> None:
    registry = Registry()
    kinds = set()
    for res, obj in generate(ScenarioConfig(seed=3, nodes=3, pods_per_node=5)):
        apply_defaults(res, obj, lambda: "10.96.0.9")
        t = registry.by_key[res]
        obj.setdefault("apiVersion", t.api_version)
        obj.setdefault("kind", t.kind)
        assert message_name(obj["apiVersion"], obj["kind"]), obj["kind"]
        raw = encode_object(obj)
        assert raw.startswith(b"k8s\x00")
        assert without_empty(decode_object(raw)) == without_empty(obj), obj["kind"]
        kinds.add(obj["kind"])
    assert {"Pod", "Node", "Deployment", "Service", "EndpointSlice", "Lease", "ClusterRole"} <= kinds


def test_inlined_structs_and_pointer_zeros_keep_their_json_shape() -> None:
    """Volume's VolumeSource and a ConfigMapKeySelector's LocalObjectReference are inlined in JSON;
    a pointer's explicit zero (replicas: 0) is kept."""
    p = pod("p")
    p["spec"]["volumes"] = [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}]
    p["spec"]["containers"][0]["env"] = [
        {"name": "E", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}
    ]
    assert decode_object(encode_object(p))["spec"]["volumes"] == p["spec"]["volumes"]
    assert (
        decode_object(encode_object(p))["spec"]["containers"][0]["env"] == p["spec"]["containers"][0]["env"]
    )
    d = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 0}}
    assert decode_object(encode_object(d))["spec"] == {"replicas": 0}


async def test_objects_and_errors_are_protobuf_when_asked(api: Api) -> None:
    created = await api.ok("POST", PODS, pod("p"))
    code, raw, headers = await api.raw("GET", f"{PODS}/p", headers=ASK)
    assert (code, headers["Content-Type"]) == (200, PROTOBUF)
    assert without_empty(decode_object(raw)) == without_empty(created)
    code, raw, headers = await api.raw("GET", f"{PODS}/missing", headers=ASK)
    assert (code, headers["Content-Type"]) == (404, PROTOBUF)
    assert decode_object(raw) == {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "missing" not found',
        "reason": "NotFound",
        "details": {"name": "missing", "kind": "pods"},
        "code": 404,
    }
    # JSON for whoever asks for JSON
    code, _, headers = await api.raw("GET", f"{PODS}/p")
    assert headers["Content-Type"] == "application/json"


async def test_lists_are_a_protobuf_list_kind(api: Api) -> None:
    for i in range(3):
        await api.ok("POST", PODS, pod(f"p{i}"))
    code, raw, headers = await api.raw("GET", f"{PODS}?limit=2", headers=ASK)
    assert (code, headers["Content-Type"]) == (200, PROTOBUF)
    doc = decode_object(raw)
    assert (doc["kind"], doc["apiVersion"]) == ("PodList", "v1")
    assert [i["metadata"]["name"] for i in doc["items"]] == ["p0", "p1"]
    assert doc["metadata"]["continue"] and doc["metadata"]["remainingItemCount"] == 1


async def test_watch_streams_are_length_prefixed_watch_events(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces/default/configmaps", configmap("a"))
    path = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1"
    async with api.session.get(api.url + path, headers={**api._headers(None, ASK)}, ssl=api.ssl) as r:
        assert r.headers["Content-Type"] == "application/vnd.kubernetes.protobuf;stream=watch"
        body = await r.read()
    (size,) = struct.unpack(">I", body[:4])
    event = {num: value for num, _, value in fields(memoryview(body[4 : 4 + size]))}
    assert bytes(event[1]) == b"ADDED"
    raw_object = {num: value for num, _, value in fields(event[2])}[1]
    assert decode_object(bytes(raw_object))["metadata"]["name"] == "a"
    assert len(body) == 4 + size  # one event, then the stream ended cleanly


@pytest.mark.parametrize("accept", [PROTOBUF + ", application/json", "application/json"])
async def test_custom_resources_are_json_whatever_is_asked(api: Api, accept: str) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    await api.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    w = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    await api.ok("POST", "/apis/example.com/v1/namespaces/default/widgets", w)
    code, _, headers = await api.raw(
        "GET", "/apis/example.com/v1/namespaces/default/widgets/w", headers={"Accept": accept}
    )
    assert (code, headers["Content-Type"]) == (200, "application/json")
