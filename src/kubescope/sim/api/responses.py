"""How the simulator's answers are written: objects, lists, Tables and ``Status`` errors, in JSON or
in Kubernetes protobuf, as the client's ``Accept`` header asks (protobuf for built-in kinds only,
as kube-apiserver; custom resources are JSON).

Lists are streamed: a JSON page is a join of the stored objects' bytes, written in bounded chunks,
so a list of 150,000 pods never becomes one buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver import status as st
from kubescope.apiserver.negotiation import PLAIN, PROTOBUF, Negotiated
from kubescope.sim import protoencode, tables
from kubescope.sim.api.context import ResourceRequest
from kubescope.sim.errors import SimError
from kubescope.sim.protoforms import message_name

JSON = "application/json"
HEADERS = {"Content-Type": JSON, "Cache-Control": "no-cache, private"}
WRITE_CHUNK = 1 << 20
"""Bytes joined per write of a list or watch stream."""
MEDIA = web.RequestKey("kubescope.media", Negotiated)
"""Where a resource request keeps its negotiated media (for its errors)."""

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


def not_found_page() -> web.Response:
    """Go's ``http.NotFound``: what kube-apiserver answers for a path no API group serves."""
    return web.Response(
        status=404,
        body=b"404 page not found\n",
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
    )


def status_doc(e: SimError) -> dict[str, Any]:
    _, body = st.status(e.code, e.reason, e.message, e.details or None)
    doc: dict[str, Any] = _dec.decode(body)
    if e.list_meta:
        doc["metadata"] = e.list_meta  # an expired continue carries a fresh token
    return doc


def error(e: SimError, media: Negotiated = PLAIN, retry_after: int = 1) -> web.Response:
    """A ``Status`` for ``e``, in protobuf when the client asked a built-in kind's endpoint for it."""
    doc = status_doc(e)
    resp = _answer(media, e.code, doc)
    if e.code == 429:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def success(details: dict[str, Any] | None = None, code: int = 0) -> dict[str, Any]:
    """A ``Success`` Status (what deletes and action subresources answer)."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        body["details"] = details
    if code:
        body["code"] = code
    return body


def present(r: ResourceRequest, obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object in the version the request names (a view of another version's storage
    converts it); a Status or anything else passes as it is."""
    convert = r.type.to_version
    if convert is None or obj.get("kind") != r.type.kind or obj.get("apiVersion") == r.type.api_version:
        return obj
    return convert(obj)


def present_raw(r: ResourceRequest, raw: bytes) -> bytes:
    """:func:`present` of stored bytes."""
    return raw if r.type.to_version is None else _enc.encode(present(r, _dec.decode(raw)))


def object_answer(r: ResourceRequest, obj: dict[str, Any], code: int = 200) -> web.Response:
    """One object (or Status) as the client asked for it: JSON, protobuf, or a Table for reads."""
    obj = present(r, obj)
    if r.media.kind == "table":
        return respond_json(code, table(r, [obj]))
    return _answer(r.media, code, obj)


def _answer(media: Negotiated, code: int, obj: dict[str, Any]) -> web.Response:
    if media.kind == "protobuf" and message_name(obj.get("apiVersion", ""), obj.get("kind", "")):
        return respond(code, protoencode.encode_object(obj), PROTOBUF)
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
    """A ``<Kind>List`` of stored objects: a Table, a protobuf list, or JSON written as a join of
    the objects' bytes in bounded chunks."""
    t = r.type
    if t.to_version is not None:
        items = [present_raw(r, i) for i in items]
    if r.media.kind == "table":
        return respond_json(200, table(r, [_dec.decode(i) for i in items], meta))
    list_message = message_name(t.api_version, t.kind + "List")
    if r.media.kind == "protobuf" and list_message is not None:
        item_message = message_name(t.api_version, t.kind) or ""
        body = protoencode.list_message(
            meta, (protoencode.message(item_message, _dec.decode(i)) for i in items)
        )
        return respond(200, protoencode.envelope(t.api_version, t.kind + "List", body), PROTOBUF)
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
