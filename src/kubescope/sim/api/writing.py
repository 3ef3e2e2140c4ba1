"""The write verbs: ``create``, ``update``, ``patch``, ``delete`` and ``deletecollection``.

Each is kube-apiserver's REST handler in small: decode the body, default it as the built-in types
are defaulted, write through the store (which enforces resourceVersion preconditions, finalizers
and the status subresource's rules) and answer the stored object or a ``Status``. A ``status``
subresource goes through ``update`` and ``patch`` with ``.status`` the only part written.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import yaml
from aiohttp import web

from kubescope.sim.api import bodies, responses
from kubescope.sim.api.context import ApiContext, ResourceRequest
from kubescope.sim.api.options import dry_run, selectors
from kubescope.sim.defaults import apply_defaults
from kubescope.sim.patch import PATCH_TYPES, apply_patch
from kubescope.sim.store import BadRequest, MethodNotAllowed, NotFound

RETURNS_DELETED_OBJECT = frozenset(
    {
        "pods",
        "serviceaccounts",
        "namespaces",
        "storageclasses.storage.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
    }
)
"""Registries built with ``ReturnDeletedObject``: a DELETE answers with the object, not a Status."""

_dec = msgspec.json.Decoder()


def not_allowed() -> MethodNotAllowed:
    return MethodNotAllowed("the server does not allow this method on the requested resource")


async def create(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if r.name:
        raise not_allowed()
    body = await bodies.read_object(r.http)
    ns = r.namespace
    if ns:
        meta_ns = body.setdefault("metadata", {}).setdefault("namespace", ns) or ns
        body["metadata"]["namespace"] = meta_ns
        if meta_ns != ns:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if ("", ns) not in ctx.store.objects.get("namespaces", {}):
            raise NotFound(f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})
    default(ctx, r, body)
    if dry_run(r.query):
        return responses.respond_json(201, body)
    return responses.respond_json(201, ctx.store.create(r.type.key, body))


async def update(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if not r.name:
        raise not_allowed()
    body = await bodies.read_object(r.http)
    meta = body.setdefault("metadata", {})
    meta.setdefault("name", r.name)
    if r.namespace:
        meta.setdefault("namespace", r.namespace)
    if not r.sub:
        default(ctx, r, body)
    return responses.respond_json(200, ctx.store.update(r.type.key, body, subresource=r.sub))


async def patch(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if not r.name:
        raise not_allowed()
    kind, patch_body = await read_patch(r.http)
    key, ns, name = r.type.key, r.namespace, r.name
    try:
        current = ctx.store.get(key, ns, name)
    except NotFound:
        if kind != "apply":
            raise
        # server-side apply creates what is missing
        patch_body.setdefault("metadata", {}).update({"name": name, **({"namespace": ns} if ns else {})})
        default(ctx, r, patch_body)
        return responses.respond_json(201, ctx.store.create(key, patch_body))
    new = apply_patch(kind, current, patch_body)
    new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    if isinstance(patch_body, dict) and (patch_body.get("metadata") or {}).get("resourceVersion"):
        new["metadata"]["resourceVersion"] = patch_body["metadata"]["resourceVersion"]
    return responses.respond_json(200, ctx.store.update(key, new, subresource=r.sub))


async def read_patch(request: web.Request) -> tuple[str, Any]:
    """The patch type (from the Content-Type) and the patch document."""
    kind = PATCH_TYPES.get(request.content_type)
    if kind is None:
        raise bodies.UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(PATCH_TYPES)
        )
    raw = await request.read()
    return kind, yaml.safe_load(raw) if kind == "apply" else _dec.decode(raw)


async def delete(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if r.sub:
        raise not_allowed()
    t, store = r.type, ctx.store
    opts = await bodies.read_options(r.http)
    pre = opts.get("preconditions") or {}
    if dry_run(r.query) or opts.get("dryRun"):
        return responses.respond_json(200, store.get(t.key, r.namespace, r.name))
    deleted = store.delete(
        t.key,
        r.namespace,
        r.name,
        uid=str(pre.get("uid") or ""),
        resource_version=str(pre.get("resourceVersion") or ""),
    )
    if deleted["metadata"].get("deletionTimestamp") or t.key in RETURNS_DELETED_OBJECT:
        # still there (finalizers), or a kind whose registry answers with the object
        return responses.respond_json(200, deleted)
    details = {"name": r.name, "group": t.group, "kind": t.plural, "uid": deleted["metadata"].get("uid", "")}
    return responses.respond_json(200, responses.success({k: v for k, v in details.items() if v}))


async def delete_collection(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    t, store = r.type, ctx.store
    labels, flds = selectors(t, r.query)
    for e in store.matching(t.key, r.namespace, labels, flds):
        meta = _dec.decode(e.raw)["metadata"]
        with contextlib.suppress(NotFound):
            store.delete(t.key, meta.get("namespace", ""), meta["name"])
    return responses.respond_json(200, responses.success({"kind": t.plural}))


def default(ctx: ApiContext, r: ResourceRequest, obj: dict[str, Any]) -> None:
    """kube-apiserver's defaulting; an update keeps the stored cluster IP (it is immutable)."""
    if not isinstance(obj.get("metadata"), dict):
        return
    next_ip = ctx.cluster_ips.next
    key = r.type.key
    if r.name and key == "services" and ctx.store.exists(key, r.namespace, r.name):
        kept = str((ctx.store.get(key, r.namespace, r.name).get("spec") or {}).get("clusterIP", ""))

        def next_ip() -> str:
            return kept

    apply_defaults(key, obj, next_ip)
