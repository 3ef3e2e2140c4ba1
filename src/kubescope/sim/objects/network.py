"""What the EndpointSlice and Endpoints controllers write for a Service's pods."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

DEFAULT_PORTS: list[Obj] = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def pod_ref(namespace: str, name: str, uid: str) -> Obj:
    return {"kind": "Pod", "namespace": namespace, "name": name, "uid": uid}


def slice_endpoint(
    ip: str, ref: Obj, node: str, zone: str, *, ready: bool, serving: bool, terminating: bool = False
) -> Obj:
    """One pod in an EndpointSlice: ``ready`` is serving and not terminating (EndpointSlice API)."""
    ep: Obj = {
        "addresses": [ip],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "targetRef": ref,
        "nodeName": node,
    }
    if zone:
        ep["zone"] = zone
    return ep


def address(ip: str, node: str, ref: Obj) -> Obj:
    """One pod in an Endpoints subset."""
    return {"ip": ip, "nodeName": node, "targetRef": ref}


def subsets(ready: list[Obj], not_ready: list[Obj], ports: list[Obj] | None) -> list[Obj]:
    """The Endpoints' one subset (every pod of these Services serves the same ports), or none."""
    if not ready and not not_ready:
        return []
    subset: Obj = {}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    subset["ports"] = ports or [dict(p) for p in DEFAULT_PORTS]
    return [subset]
