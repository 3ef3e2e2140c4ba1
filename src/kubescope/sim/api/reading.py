"""The read verbs: ``get`` one object and ``list`` a collection (consistent pages, resourceVersion
semantics, selectors)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubescope.sim.api import responses
from kubescope.sim.api.context import ApiContext, ResourceRequest
from kubescope.sim.api.options import integer, selectors
from kubescope.sim.errors import parse_resource_version
from kubescope.sim.validation import check_list_options


async def get(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    return responses.object_answer(r, ctx.store.get(r.type.key, r.namespace, r.name))


async def list_collection(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    q = r.query
    check_list_options(q, watch=False)
    labels, flds = selectors(r.type, q)
    rv = q.get("resourceVersion", "")
    if rv not in ("", "0"):
        wanted = parse_resource_version(rv)
        # kube-apiserver waits up to 3 s for its cache to reach a version newer than it has
        if wanted > ctx.store.resource_version:
            await ctx.store.wait_for_rv(wanted, 3.0)
    page = ctx.store.list_page(
        r.type.key,
        r.namespace,
        labels=labels,
        fields=flds,
        # resourceVersion=0 is served from kube-apiserver's watch cache, which ignores limit
        limit=0 if rv == "0" else integer(q, "limit"),
        token=q.get("continue", ""),
        resource_version=rv,
        match=q.get("resourceVersionMatch", ""),
    )
    meta: dict[str, Any] = {"resourceVersion": str(page.rv)}
    if page.continue_token:
        meta["continue"] = page.continue_token
    if page.remaining is not None:
        meta["remainingItemCount"] = page.remaining
    return await responses.stream_list(r, page.items, meta)
