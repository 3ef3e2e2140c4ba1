"""Subresources that are not the object itself: ``scale``, and the actions ``pods/log``,
``pods/eviction``, ``pods/binding``, ``serviceaccounts/token`` (and the node proxy, handed to the
aggregation layer). ``status`` is served by the ordinary verbs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kubescope.sim.api import bodies, responses
from kubescope.sim.api.context import ApiContext, ResourceRequest
from kubescope.sim.api.writing import not_allowed, read_patch
from kubescope.sim.errors import BadRequest, Invalid
from kubescope.sim.patch import apply_patch

Handler = Callable[[ApiContext, ResourceRequest], Awaitable[web.StreamResponse]]


def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    """An object's ``autoscaling/v1`` Scale."""
    meta = obj["metadata"]
    sel = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(sel.items())),
        },
    }


async def scale(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    key, ns, name, method = r.type.key, r.namespace, r.name, r.http.method
    if method == "GET":
        return responses.object_answer(r, to_scale(ctx.store.get(key, ns, name)))
    if method == "PUT":
        wanted = await bodies.read_object(r.http)
    elif method == "PATCH":
        kind, patch_body = await read_patch(r.http)
        wanted = apply_patch(kind, to_scale(ctx.store.get(key, ns, name)), patch_body)
    else:
        raise not_allowed()
    replicas = int((wanted.get("spec") or {}).get("replicas", 0))

    def set_replicas(o: dict[str, Any]) -> None:
        o.setdefault("spec", {})["replicas"] = replicas

    return responses.object_answer(r, to_scale(ctx.store.modify(key, ns, name, set_replicas)))


async def pod_log(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if r.http.method != "GET":
        raise _no_streams(r)
    ns, name = r.namespace, r.name
    pod = ctx.store.get("pods", ns, name)
    containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    container = r.query.get("container") or (containers[0] if len(containers) == 1 else "")
    if not container:
        raise BadRequest(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        )
    if container not in containers:
        raise BadRequest(f"container {container} is not valid for pod {name}")
    started = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp", "")
    text = f"{started} simulated container {container} of pod {ns}/{name} started\n"
    return web.Response(text=text, content_type="text/plain")


async def pod_eviction(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if r.http.method != "POST":
        raise _no_streams(r)
    await bodies.read_object(r.http)
    ctx.store.delete("pods", r.namespace, r.name)
    return responses.object_answer(r, responses.success(code=201), 201)


async def pod_binding(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if r.http.method != "POST":
        raise _no_streams(r)
    binding = await bodies.read_object(r.http)
    node = str((binding.get("target") or {}).get("name", ""))
    if not node:
        raise Invalid(f'Binding "{r.name}" is invalid: target.name: Required value')
    ctx.store.modify(
        "pods", r.namespace, r.name, lambda o: o.setdefault("spec", {}).__setitem__("nodeName", node)
    )
    return responses.object_answer(r, responses.success(code=201), 201)


async def service_account_token(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    """TokenRequest: a bearer token for ``system:serviceaccount:<ns>:<name>``."""
    if r.http.method != "POST":
        raise _no_streams(r)
    ns, name = r.namespace, r.name
    req = await bodies.read_object(r.http)
    ctx.store.get("serviceaccounts", ns, name)  # 404 for a missing account
    spec = req.get("spec") or {}
    seconds = int(spec.get("expirationSeconds") or 3600)
    if seconds < 600:
        raise Invalid(
            f'TokenRequest.authentication.k8s.io "{name}" is invalid: spec.expirationSeconds: '
            "Invalid value: may not specify a duration less than 10 minutes"
        )
    token, expiry = ctx.auth.issue_service_account_token(ns, name, seconds)
    out = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns},
        "spec": {**spec, "expirationSeconds": seconds},
        "status": {
            "token": token,
            "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry)),
        },
    }
    return responses.object_answer(r, out, 201)


async def node_proxy(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    """``/api/v1/nodes/<name>/proxy/<path>``: to the node's kubelet."""
    rest = r.http.path.split(f"/nodes/{r.name}/proxy", 1)[1].lstrip("/")
    return await ctx.aggregator.node_proxy(r.http, r.name, rest)


async def unserved(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    """exec, attach, port-forward, service proxy...: listed in discovery, not served."""
    raise _no_streams(r)


def _no_streams(r: ResourceRequest) -> BadRequest:
    return BadRequest(
        f"the simulator runs no containers or kubelet streams: {r.type.plural}/{r.sub} is listed in "
        "discovery but not served"
    )


ACTIONS: dict[tuple[str, str], Handler] = {
    ("pods", "log"): pod_log,
    ("pods", "eviction"): pod_eviction,
    ("pods", "binding"): pod_binding,
    ("serviceaccounts", "token"): service_account_token,
    ("nodes", "proxy"): node_proxy,
}
"""Action subresources by (store key, subresource); ``scale`` is every scalable type's."""


def handler_for(key: str, sub: str) -> Handler | None:
    """The handler of a subresource that is not served by the ordinary verbs (status is)."""
    if sub == "status":
        return None
    if sub == "scale":
        return scale
    return ACTIONS.get((key, sub), unserved)
