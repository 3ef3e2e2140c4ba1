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
from kubescope.sim.errors import BadRequest, MethodNotAllowed, NotFound
from kubescope.sim.jsontypes import decode_error
from kubescope.sim.patch import PATCH_TYPES, apply_patch
from kubescope.sim.protoforms import message_name
from kubescope.sim.resources import ResourceType
from kubescope.sim.validation import invalid, object_meta_errors

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
    admit(r.type, body)
    body = stored_form(r.type, body)
    default(ctx, r, body)
    if dry_run(r.query):
        return responses.object_answer(r, body, 201)
    return responses.object_answer(r, ctx.store.create(r.type.key, body), 201)


async def update(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if not r.name:
        raise not_allowed()
    body = await bodies.read_object(r.http)
    meta = body.setdefault("metadata", {})
    meta.setdefault("name", r.name)
    if r.namespace:
        meta.setdefault("namespace", r.namespace)
    admit(r.type, body)
    body = stored_form(r.type, body)
    if not r.sub:
        default(ctx, r, body)
    return responses.object_answer(r, ctx.store.update(r.type.key, body, subresource=r.sub))


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
        admit(r.type, patch_body)
        patch_body = stored_form(r.type, patch_body)
        default(ctx, r, patch_body)
        return responses.object_answer(r, ctx.store.create(key, patch_body), 201)
    # a patch applies to the object in the request's version
    new = apply_patch(kind, responses.present(r, current), patch_body)
    new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    if isinstance(patch_body, dict) and (patch_body.get("metadata") or {}).get("resourceVersion"):
        new["metadata"]["resourceVersion"] = patch_body["metadata"]["resourceVersion"]
    admit(r.type, new)
    new = stored_form(r.type, new)
    return responses.object_answer(r, ctx.store.update(key, new, subresource=r.sub))


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
        return responses.object_answer(r, store.get(t.key, r.namespace, r.name))
    deleted = store.delete(
        t.key,
        r.namespace,
        r.name,
        uid=str(pre.get("uid") or ""),
        resource_version=str(pre.get("resourceVersion") or ""),
    )
    if deleted["metadata"].get("deletionTimestamp") or t.key in RETURNS_DELETED_OBJECT:
        # still there (finalizers), or a kind whose registry answers with the object
        return responses.object_answer(r, deleted)
    details = {"name": r.name, "group": t.group, "kind": t.plural, "uid": deleted["metadata"].get("uid", "")}
    return responses.object_answer(r, responses.success({k: v for k, v in details.items() if v}))


async def delete_collection(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    t, store = r.type, ctx.store
    labels, flds = selectors(t, r.query)
    for e in store.matching(t.key, r.namespace, labels, flds):
        meta = _dec.decode(e.raw)["metadata"]
        with contextlib.suppress(NotFound):
            store.delete(t.key, meta.get("namespace", ""), meta["name"])
    return responses.object_answer(r, responses.success({"kind": t.plural}))


def admit(t: ResourceType, obj: dict[str, Any]) -> None:
    """What kube-apiserver checks of a written object before storing it: that it decodes into its
    Go struct (400 with the decoder's message) and that its metadata validates (422)."""
    message = message_name(t.api_version, t.kind)
    err = decode_error(message, obj) if message else None
    if err:
        kind = str(obj.get("kind") or t.kind)
        version = str(obj.get("apiVersion") or t.api_version).rpartition("/")[2]
        raise BadRequest(f'{kind} in version "{version}" cannot be handled as a {t.kind}: {err}')
    meta = obj.get("metadata") or {}
    errs = object_meta_errors(t.key, t.namespaced, meta)
    if errs:
        raise invalid(t.kind, t.group, str(meta.get("name") or ""), errs)


def stored_form(t: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """What is stored of an object written through a view of another version's storage (an
    events.k8s.io/v1 Event is stored as core/v1), after its own version admitted it."""
    if t.from_version is None or obj.get("apiVersion", t.api_version) != t.api_version:
        return obj
    return t.from_version(obj)


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
