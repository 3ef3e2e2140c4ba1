"""OpenAPI documents, enough for kubectl: what it reads to validate and to find field validation.

* ``/openapi/v3``: the list of group-versions, each with a ``serverRelativeURL`` carrying a hash that
  changes when the served types do (kubectl caches by it);
* ``/openapi/v3/<gv>``: every operation with its ``x-kubernetes-group-version-kind`` and the
  ``fieldValidation`` parameter, so kubectl validates on the server (``?fieldValidation=Strict``);
* ``/openapi/v2``: a Swagger 2.0 document without definitions, in JSON or, as kube-openapi serves
  it to kubectl (which falls back to it for ``kind: List`` and kinds it cannot find in v3), in the
  protobuf of gnostic's ``openapi_v2.Document``.

No schemas: ``kubectl explain`` shows nothing, and kubectl's client-side validation of what it
falls back to v2 for finds no schema to check against.
"""

from __future__ import annotations

from typing import Any

from kubescope.sim.protoencode import length_delimited
from kubescope.sim.resources import Registry

GIT_VERSION = "v1.36.1-kubescope"

V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
V2_ACCEPTED = {
    "application/json": "application/json",
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf": V2_PROTOBUF,
    V2_PROTOBUF: V2_PROTOBUF,
}
"""kube-openapi's v2 handler: what it answers for each media type asked (the ``@`` one deprecated)."""


def v2() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": {},
        "definitions": {},
    }


def v2_protobuf() -> bytes:
    """:func:`v2` as gnostic's ``openapi_v2.Document``: swagger (1), info (2: title 1, version 2),
    paths (8), definitions (9)."""
    info = length_delimited(1, b"Kubernetes") + length_delimited(2, GIT_VERSION.encode())
    return (
        length_delimited(1, b"2.0")
        + length_delimited(2, info)
        + length_delimited(8, b"")
        + length_delimited(9, b"")
    )


def v3_index(registry: Registry, generation: int) -> dict[str, Any]:
    gvs = {
        f"api/{t.version}" if not t.group else f"apis/{t.group}/{t.version}" for t in registry.by_gvr.values()
    }
    return {
        "paths": {
            gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash=kubescope{generation}"} for gv in sorted(gvs)
        }
    }


def v3_group_version(registry: Registry, gv: str) -> dict[str, Any]:
    if gv.startswith("api/"):
        group, version = "", gv.split("/")[1]
    else:
        _, group, version = [*gv.split("/"), "", ""][:3]
    paths: dict[str, Any] = {}
    param = [
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    ]
    for t in registry.in_group_version(group, version):
        gvk = {"group": t.group, "version": version, "kind": t.kind}
        base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        coll = f"{base}/namespaces/{{namespace}}/{t.plural}" if t.namespaced else f"{base}/{t.plural}"
        op = {
            "x-kubernetes-group-version-kind": gvk,
            "parameters": param,
            "responses": {"200": {"description": "OK"}},
        }
        paths[coll] = {"post": op, "get": {**op, "parameters": []}}
        if not t.create_only:
            paths[coll + "/{name}"] = {
                "get": {**op, "parameters": []},
                "put": op,
                "patch": op,
                "delete": op,
            }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    }
