"""The non-resource endpoints kube-apiserver serves beside the resources: ``/version``, discovery
(``/api``, ``/apis``, a group, a group-version) and OpenAPI. The documents are built by
:mod:`kubescope.sim.discovery` and :mod:`kubescope.sim.openapi`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubescope.apiserver.negotiation import parse_accept
from kubescope.sim import discovery, openapi
from kubescope.sim.api import responses
from kubescope.sim.api.context import ApiContext
from kubescope.sim.errors import NotFound
from kubescope.web.selfmetrics import CONTENT_TYPE

KUBE_VERSION = {
    "major": "1",
    "minor": "36",
    "gitVersion": openapi.GIT_VERSION,
    "gitCommit": "kubescope-simulator",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "n/a",
    "compiler": "kubescope",
    "platform": "linux/amd64",
}


def version(ctx: ApiContext, request: web.Request) -> web.Response:
    return responses.respond_json(200, KUBE_VERSION)


def root(ctx: ApiContext, request: web.Request) -> web.Response:
    """``/api`` and ``/apis``: aggregated discovery when asked for first, else the legacy lists."""
    core = request.path.rstrip("/") == "/api"
    services = ctx.aggregator.services()
    if discovery.wants_aggregated(request.headers.get("Accept", "")):
        backends = {(g, v): ctx.aggregator.discovery.get((g, v)) for g, v, _ in services}
        doc = discovery.aggregated(ctx.store.registry, core=core, backends=backends)
        return responses.respond(200, responses.encode(doc), discovery.AGGREGATED_V2)
    if core:
        return responses.respond_json(
            200,
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": ctx.server_address}
                ],
            },
        )
    return responses.respond_json(200, discovery.group_list(_group_versions(ctx)))


def group(ctx: ApiContext, name: str) -> web.Response:
    vs = _group_versions(ctx).get(name)
    if not vs:
        raise NotFound("the server could not find the requested resource")
    return responses.respond_json(
        200, {"kind": "APIGroup", "apiVersion": "v1", **discovery.group_doc(name, vs)}
    )


def resource_list(ctx: ApiContext, group: str, version: str) -> web.Response:
    doc = discovery.resource_list(ctx.store.registry, group, version)
    if doc is None:
        raise NotFound("the server could not find the requested resource")
    return responses.respond_json(200, doc)


def openapi_doc(ctx: ApiContext, request: web.Request) -> web.Response:
    parts = [p for p in request.path.split("/") if p]
    doc: dict[str, Any]
    if len(parts) > 1 and parts[1] == "v2":
        return _openapi_v2(request.headers.get("Accept") or "*/*")
    if len(parts) <= 2:
        doc = openapi.v3_index(ctx.store.registry, ctx.store.registry_version)
    else:
        doc = openapi.v3_group_version(ctx.store.registry, "/".join(parts[2:]))
    return responses.respond_json(200, doc)


def metrics(ctx: ApiContext, request: web.Request) -> web.Response:
    """``/metrics``: the server's self metrics, with kube-apiserver's ``kubernetes_feature_enabled``
    (which tells which features it serves)."""
    return responses.respond(200, ctx.metrics.render(), CONTENT_TYPE)


def _openapi_v2(accept: str) -> web.Response:
    """The v2 document in the first media type of ``Accept`` that kube-openapi serves, else 406."""
    for mt in parse_accept(accept):
        if mt.q <= 0:
            continue
        if mt.type in ("*/*", "application/*"):
            mt = mt._replace(type="application/json")
        served = openapi.V2_ACCEPTED.get(mt.type)
        if served == openapi.V2_PROTOBUF:
            return responses.respond(200, openapi.v2_protobuf(), served)
        if served is not None:
            return responses.respond_json(200, openapi.v2())
    return web.Response(status=406)


def _group_versions(ctx: ApiContext) -> dict[str, list[str]]:
    aggregated = ((g, v) for g, v, _ in ctx.aggregator.services())
    return discovery.group_versions(ctx.store.registry, aggregated)
