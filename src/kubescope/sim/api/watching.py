"""The ``watch`` verb: a stream of events, as kube-apiserver's watch cache serves it.

* Without ``resourceVersion`` (or ``0``) the stream starts with synthetic ADDED events for what
  exists; from ``N`` it replays the history after ``N`` (an in-stream 410 ``ERROR`` when ``N`` is
  older than the history). A plain watch from a version the store has not reached yet is accepted
  and stays silent until the store passes it.
* ``allowWatchBookmarks`` adds BOOKMARKs every ``--bookmark-interval``, sent only when every earlier
  change has been sent.
* WatchList (``sendInitialEvents=true`` with ``resourceVersionMatch=NotOlderThan``): the current
  state as ADDED events whatever the version asked (never a 410), then, with
  ``allowWatchBookmarks``, one BOOKMARK annotated ``k8s.io/initial-events-end: "true"``; a version
  newer than the store's waits up to 3 s, then ends in a 504 ``ERROR``.
  ``sendInitialEvents=false`` starts at the current state without initial events.

Events are JSON lines, Table rows, or length-prefixed protobuf ``WatchEvent`` frames
(``application/vnd.kubernetes.protobuf;stream=watch``), as the client asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
import time
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver.selectors import FieldSelector, parse_field_selector
from kubescope.log import fields
from kubescope.sim import protoencode
from kubescope.sim.api import responses
from kubescope.sim.api.context import MIN_REQUEST_TIMEOUT, ApiContext, ResourceRequest
from kubescope.sim.api.options import flag, integer, selectors
from kubescope.sim.errors import Expired, SimError, TooLargeResourceVersion, parse_resource_version
from kubescope.sim.protoforms import go_zero, message_name
from kubescope.sim.validation import check_list_options
from kubescope.sim.watchcache import Watcher, event_line

logger = logging.getLogger(__name__)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

MALFORMED = "_malformed"
"""A queue marker: a broken event (the ``malformed_event`` fault)."""
INITIAL_END = "_initial_end"
"""A queue marker: the WatchList bookmark that ends the initial events."""
DROPPED = "dropped by fault injection"
"""The close reason of watches the ``drop_watches`` fault ends abruptly."""


async def watch(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    t, q, store = r.type, r.query, ctx.store
    check_list_options(q, watch=True, watch_list=ctx.watch_list)
    labels, flds = selectors(t, q)
    if r.name:
        extra = parse_field_selector(f"metadata.name={r.name}")
        flds = extra if flds is None else FieldSelector(flds.terms + extra.terms)
    rv_q = q.get("resourceVersion", "")
    since = parse_resource_version(rv_q) if rv_q else 0
    watch_list = q.get("sendInitialEvents") is not None
    initial = flag(q.get("sendInitialEvents")) if watch_list else since == 0
    bookmarks = flag(q.get("allowWatchBookmarks"))
    deadline = time.monotonic() + (
        float(integer(q, "timeoutSeconds")) or MIN_REQUEST_TIMEOUT * (1 + random.random())
    )
    fmt = _format(r)
    ctx.counters.watches_opened += 1
    if initial and since > store.resource_version:
        # WatchList: the bookmark must come at a version at least as new as the one asked for
        await store.wait_for_rv(since, 3.0)
    resp = web.StreamResponse(status=200, headers={**responses.HEADERS, "Content-Type": fmt.content_type})
    await resp.prepare(r.http)
    if ctx.faults.take_gone():
        ctx.counters.errors_injected += 1
        now = store.resource_version
        return await _end_with(resp, fmt.error(_gone(since or now, now)))
    if since > store.resource_version:
        if initial:
            return await _end_with(resp, fmt.error(TooLargeResourceVersion(since, store.resource_version)))
        # a plain watch from the future: silent until the store gets there (or the client goes)
        while not await store.wait_for_rv(since, min(1.0, deadline - time.monotonic())):
            if time.monotonic() >= deadline or r.http.transport is None or r.http.transport.is_closing():
                return await _end_with(resp, b"")
    w = Watcher(t.key, r.namespace, labels, flds)
    if initial:
        # "Get State and Start at Most Recent" (or WatchList): synthetic ADDED events for what exists now
        for e in store.matching(t.key, r.namespace, labels, flds):
            w.queue.append(("ADDED", e.raw, b""))
        if watch_list and bookmarks:
            w.queue.append((INITIAL_END, str(store.resource_version).encode(), b""))
    elif since:
        history = store.history_since(since)
        if history is None:
            return await _end_with(resp, fmt.error(_gone(since, store.history_floor)))
        for ev in history:
            if ev.res == t.key:
                w.offer(ev)
    store.add_watcher(w)
    try:
        await _stream(ctx, resp, w, fmt, deadline, bookmarks)
    except ConnectionResetError:
        return resp  # the client went away: nothing left to tell it
    except asyncio.CancelledError:
        # aiohttp cancels a handler only when the shutdown's drain deadline passes (not when its
        # client goes): a watch still open then was missed by the shutdown's close of the watches
        logger.warning("watch cut at the shutdown deadline", extra=fields(resource=t.key))
        raise
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


async def _end_with(resp: web.StreamResponse, data: bytes) -> web.StreamResponse:
    with contextlib.suppress(ConnectionResetError):
        if data:
            await resp.write(data)
        await resp.write_eof()
    return resp


async def _stream(
    ctx: ApiContext, resp: web.StreamResponse, w: Watcher, fmt: _Events, deadline: float, bookmarks: bool
) -> None:
    next_bookmark = time.monotonic() + ctx.bookmark_interval
    view = fmt.r.type.to_version is not None
    while True:
        if w.queue:
            out = []
            size = 0
            # bounded writes: a watch from "0" over 150,000 pods must not become one 500 MB join
            while w.queue and size < responses.WRITE_CHUNK:
                typ, raw, line = w.queue.popleft()
                size += len(raw)
                if typ == MALFORMED:
                    out.append(fmt.malformed)
                elif typ == INITIAL_END:
                    out.append(fmt.bookmark(raw.decode(), initial_end=True))
                elif view:
                    # a view of another version's storage: each object converted, its own line
                    out.append(fmt.event(typ, responses.present_raw(fmt.r, raw), b""))
                else:
                    out.append(fmt.event(typ, raw, line))
            await resp.write(b"".join(out))
            # events queued while that write waited are sent before anything else
            continue
        if w.closed:
            return
        now = time.monotonic()
        if now >= deadline:
            return
        if bookmarks and now >= next_bookmark:
            # the queue is empty: every change up to the store's version has been sent or filtered
            await resp.write(fmt.bookmark(str(ctx.store.resource_version)))
            next_bookmark = now + ctx.bookmark_interval
            continue
        wait = min(deadline, next_bookmark if bookmarks else deadline) - now
        w.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(w.wake.wait(), max(0.0, wait))


def _gone(rv: int, oldest: int) -> Expired:
    """The watch cache's answer to a watch from a compacted version (an in-stream ERROR, HTTP 200)."""
    return Expired(f"too old resource version: {rv} ({oldest})")


class _Events:
    """JSON event lines: ``{"type":...,"object":...}`` per line."""

    content_type = responses.JSON
    malformed = b'{"type":"MODIFIED","object":{"metadata":\n'

    def __init__(self, r: ResourceRequest) -> None:
        self.r = r

    def event(self, typ: str, raw: bytes, line: bytes) -> bytes:
        return line or event_line(typ, raw)

    def bookmark(self, rv: str, initial_end: bool = False) -> bytes:
        return event_line("BOOKMARK", _enc.encode(_bookmark(self.r, rv, initial_end)))

    def error(self, e: SimError) -> bytes:
        return event_line("ERROR", _enc.encode(responses.status_doc(e)))


class _TableEvents(_Events):
    """Table rows, the column definitions in the first."""

    def __init__(self, r: ResourceRequest) -> None:
        super().__init__(r)
        self.first = True

    def event(self, typ: str, raw: bytes, line: bytes) -> bytes:
        tbl = responses.table(self.r, [_dec.decode(raw)], columns=self.first)
        self.first = False
        return event_line(typ, _enc.encode(tbl))


class _ProtobufEvents(_Events):
    """Length-prefixed ``meta.v1.WatchEvent`` messages, each object enveloped."""

    content_type = protoencode.WATCH_CONTENT_TYPE
    malformed = struct.pack(">I", 4) + b"\xff\xff\xff\xff"

    def event(self, typ: str, raw: bytes, line: bytes) -> bytes:
        return protoencode.watch_frame(typ, protoencode.encode_object(_dec.decode(raw)))

    def bookmark(self, rv: str, initial_end: bool = False) -> bytes:
        return protoencode.watch_frame(
            "BOOKMARK", protoencode.encode_object(_bookmark(self.r, rv, initial_end))
        )

    def error(self, e: SimError) -> bytes:
        return protoencode.watch_frame("ERROR", protoencode.encode_object(responses.status_doc(e)))


def _format(r: ResourceRequest) -> _Events:
    if r.media.kind == "table":
        return _TableEvents(r)
    if r.media.kind == "protobuf" and message_name(r.type.api_version, r.type.kind):
        return _ProtobufEvents(r)
    return _Events(r)


def _bookmark(r: ResourceRequest, rv: str, initial_end: bool) -> dict[str, Any]:
    """The object of a BOOKMARK: the watched kind's zero value as Go writes it, with only its
    resourceVersion (and the WatchList annotation) set; a custom resource's has only metadata."""
    meta: dict[str, Any] = {"resourceVersion": rv}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    message = message_name(r.type.api_version, r.type.kind)
    zero = go_zero(message) if message else {}
    return {"kind": r.type.kind, "apiVersion": r.type.api_version, **zero, "metadata": meta}
