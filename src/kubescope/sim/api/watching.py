"""The ``watch`` verb: a chunked stream of events, as kube-apiserver's watch cache serves it.

Without ``resourceVersion`` (or ``0``) the stream starts with synthetic ADDED events for what exists;
from ``N`` it replays the history after ``N`` (an in-stream 410 ``ERROR`` when ``N`` is older than the
history). ``allowWatchBookmarks`` adds BOOKMARKs every ``--bookmark-interval``, sent only when every
earlier change has been sent. WatchList (``sendInitialEvents=true`` with
``resourceVersionMatch=NotOlderThan``) ends the initial events with a BOOKMARK annotated
``k8s.io/initial-events-end: "true"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver.selectors import FieldSelector, parse_field_selector
from kubescope.sim.api import responses
from kubescope.sim.api.context import MIN_REQUEST_TIMEOUT, ApiContext, ResourceRequest
from kubescope.sim.api.options import flag, integer, selectors
from kubescope.sim.resources import ResourceType
from kubescope.sim.store import (
    Expired,
    Invalid,
    TooLargeResourceVersion,
    Watcher,
    event_line,
    parse_resource_version,
)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

MALFORMED = "_malformed"
"""A queue marker: a broken event line (the ``malformed_event`` fault)."""
INITIAL_END = "_initial_end"
"""A queue marker: the WatchList bookmark that ends the initial events."""
DROPPED = "dropped by fault injection"
"""The close reason of watches the ``drop_watches`` fault ends abruptly."""


async def watch(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    t, q, store = r.type, r.query, ctx.store
    labels, flds = selectors(t, q)
    if r.name:
        extra = parse_field_selector(f"metadata.name={r.name}")
        flds = extra if flds is None else FieldSelector(flds.terms + extra.terms)
    rv_q = q.get("resourceVersion", "")
    bookmarks = flag(q.get("allowWatchBookmarks"))
    initial_q = q.get("sendInitialEvents")
    initial = flag(initial_q)
    if initial_q is not None and q.get("resourceVersionMatch") != "NotOlderThan":
        raise Invalid(
            'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents '
            "is forbidden for watch unless resourceVersionMatch is set to NotOlderThan"
        )
    if initial and not bookmarks:
        raise Invalid(
            'ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Forbidden: '
            "allowWatchBookmarks must be set to true when sendInitialEvents is set to true"
        )
    since = parse_resource_version(rv_q) if rv_q else 0
    timeout = float(integer(q, "timeoutSeconds")) or MIN_REQUEST_TIMEOUT * (1 + random.random())
    ctx.counters.watches_opened += 1
    if since > store.resource_version:
        await store.wait_for_rv(since, 3.0)
    resp = web.StreamResponse(status=200, headers=responses.HEADERS)
    await resp.prepare(r.http)
    if ctx.faults.take_gone():
        ctx.counters.errors_injected += 1
        now = store.resource_version
        return await _end_with(resp, _gone_line(since or now, now))
    if since > store.resource_version:
        return await _end_with(
            resp, responses.status_line(TooLargeResourceVersion(since, store.resource_version))
        )
    w = Watcher(t.key, r.namespace, labels, flds)
    if since == 0 or initial:
        # "Get State and Start at Most Recent" (or WatchList): synthetic ADDED events for what exists now
        for e in store.matching(t.key, r.namespace, labels, flds):
            w.queue.append(("ADDED", e.raw, b""))
        if initial:
            w.queue.append((INITIAL_END, str(store.resource_version).encode(), b""))
    else:
        history = store.history_since(since)
        if history is None:
            return await _end_with(resp, _gone_line(since, store.history_floor))
        for ev in history:
            if ev.res == t.key:
                w.offer(ev)
    store.add_watcher(w)
    try:
        await _stream(ctx, r, resp, w, timeout, bookmarks)
    except ConnectionResetError:
        return resp  # the client went away: nothing left to tell it
    finally:
        store.remove_watcher(w)
    if w.closed and w.close_reason == DROPPED:
        # an abrupt drop: no clean end of the chunked body
        if r.http.transport is not None:
            r.http.transport.close()
        return resp
    with contextlib.suppress(ConnectionResetError):
        await resp.write_eof()
    return resp


async def _end_with(resp: web.StreamResponse, line: bytes) -> web.StreamResponse:
    await resp.write(line)
    await resp.write_eof()
    return resp


async def _stream(
    ctx: ApiContext,
    r: ResourceRequest,
    resp: web.StreamResponse,
    w: Watcher,
    timeout: float,
    bookmarks: bool,
) -> None:
    t = r.type
    table = r.media.kind == "table"
    deadline = time.monotonic() + timeout
    next_bookmark = time.monotonic() + ctx.bookmark_interval
    first_table = True
    while True:
        if w.queue:
            lines = []
            size = 0
            # bounded writes: a watch from "0" over 150,000 pods must not become one 500 MB join
            while w.queue and size < responses.WRITE_CHUNK:
                typ, raw, line = w.queue.popleft()
                size += len(raw)
                if typ == MALFORMED:
                    lines.append(b'{"type":"MODIFIED","object":{"metadata":\n')
                elif typ == INITIAL_END:
                    lines.append(_bookmark(t, raw.decode(), initial_end=True))
                elif table:
                    tbl = responses.table(r, [_dec.decode(raw)], columns=first_table)
                    first_table = False
                    lines.append(event_line(typ, _enc.encode(tbl)))
                else:
                    lines.append(line or event_line(typ, raw))
            await resp.write(b"".join(lines))
            # events queued while that write waited are sent before anything else
            continue
        if w.closed:
            return
        now = time.monotonic()
        if now >= deadline:
            return
        if bookmarks and now >= next_bookmark:
            # the queue is empty: every change up to the store's version has been sent or filtered
            await resp.write(_bookmark(t, str(ctx.store.resource_version)))
            next_bookmark = now + ctx.bookmark_interval
            continue
        wait = min(deadline, next_bookmark if bookmarks else deadline) - now
        w.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(w.wake.wait(), max(0.0, wait))


def _bookmark(t: ResourceType, rv: str, initial_end: bool = False) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": rv, "creationTimestamp": None}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return event_line(
        "BOOKMARK", _enc.encode({"kind": t.kind, "apiVersion": t.api_version, "metadata": meta})
    )


def _gone_line(rv: int, oldest: int) -> bytes:
    """The watch cache's answer to a watch from a compacted version (an in-stream ERROR, HTTP 200)."""
    return responses.status_line(Expired(f"too old resource version: {rv} ({oldest})"))
