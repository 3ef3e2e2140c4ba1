"""How the simulator's answers are written: objects, lists, Tables and ``Status`` errors.

Lists are streamed: a page is a join of the stored objects' bytes, written in bounded chunks, so a
list of 150,000 pods never becomes one buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver import status as st
from kubescope.sim import tables
from kubescope.sim.api.context import ResourceRequest
from kubescope.sim.store import SimError

JSON = "application/json"
HEADERS = {"Content-Type": JSON, "Cache-Control": "no-cache, private"}
WRITE_CHUNK = 1 << 20
"""Bytes joined per write of a list or watch stream."""

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


def encode(doc: Any) -> bytes:
    return _enc.encode(doc)


def respond(code: int, body: bytes, content_type: str = JSON) -> web.Response:
    return web.Response(
        status=code, body=body, headers={"Content-Type": content_type, "Cache-Control": "no-cache, private"}
    )


def respond_json(code: int, doc: Any) -> web.Response:
    return respond(code, _enc.encode(doc))


def error(e: SimError, retry_after: int = 1) -> web.Response:
    """A ``Status`` for ``e``; a 410 for an expired continue token carries its fresh token."""
    code, body = st.status(e.code, e.reason, e.message, e.details or None)
    if e.list_meta:
        doc = _dec.decode(body)
        doc["metadata"] = e.list_meta
        body = _enc.encode(doc)
    headers = {"Retry-After": str(retry_after)} if e.code == 429 else {}
    return web.Response(status=code, body=body, content_type=JSON, headers=headers)


def status_line(e: SimError) -> bytes:
    """An in-stream ``ERROR`` watch event carrying ``e``'s Status."""
    _, body = st.status(e.code, e.reason, e.message, e.details or None)
    return b'{"type":"ERROR","object":' + body + b"}\n"


def success(details: dict[str, Any] | None = None, code: int = 0) -> dict[str, Any]:
    """A ``Success`` Status (what deletes and action subresources answer)."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        body["details"] = details
    if code:
        body["code"] = code
    return body


def object_answer(r: ResourceRequest, obj: dict[str, Any], code: int = 200) -> web.Response:
    """One object as the client asked for it (JSON, or a Table for GET)."""
    if r.media.kind == "table":
        return respond_json(code, table(r, [obj]))
    return respond_json(code, obj)


def table(
    r: ResourceRequest,
    objs: Sequence[dict[str, Any]],
    list_meta: dict[str, Any] | None = None,
    *,
    columns: bool = True,
) -> dict[str, Any]:
    include = r.query.get("includeObject", "Metadata")
    return tables.table(r.type, objs, list_meta=list_meta, include=include, columns=columns)


async def stream_list(r: ResourceRequest, items: Sequence[bytes], meta: dict[str, Any]) -> web.StreamResponse:
    """A ``<Kind>List`` of stored objects, written as a join of their bytes in bounded chunks."""
    if r.media.kind == "table":
        return respond_json(200, table(r, [_dec.decode(i) for i in items], meta))
    t = r.type
    head = (
        b'{"kind":"'
        + t.kind.encode()
        + b'List","apiVersion":"'
        + t.api_version.encode()
        + b'","metadata":'
        + _enc.encode(meta)
        + b',"items":['
    )
    resp = web.StreamResponse(status=200, headers=HEADERS)
    await resp.prepare(r.http)
    try:
        await resp.write(head)
        buf: list[bytes] = []
        size = 0
        for j, raw in enumerate(items):
            if j:
                buf.append(b",")
            buf.append(raw)
            size += len(raw)
            if size >= WRITE_CHUNK:
                await resp.write(b"".join(buf))
                buf, size = [], 0
        buf.append(b"]}")
        await resp.write(b"".join(buf))
        await resp.write_eof()
    except ConnectionResetError:
        pass  # the client went away mid-list
    return resp
