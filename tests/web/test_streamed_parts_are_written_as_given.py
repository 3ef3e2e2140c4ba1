"""A streamed chunk may be a list of parts: they reach the client in order, one ``writelines``
each, counted in the response's length and within its Content-Length; a client that goes away
mid-list is an aborted response like any other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from kubescope import web
from tests.web.helpers import fetch, running, url

PARTS = [[b"a" * 3000, b"", b"b" * 70_000], b"plain bytes\n", [b"c" * 5, b"d" * 200_000]]
BODY = b"".join(p for c in PARTS for p in ([c] if isinstance(c, bytes) else c))


async def test_lists_of_parts_arrive_in_order_and_are_counted() -> None:
    sent: dict[str, list[int]] = {"/parts": [], "/joined": []}

    async def body(parts: bool) -> AsyncIterator[bytes | list[bytes]]:
        if not parts:
            yield BODY
            return
        for c in PARTS:
            yield c

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = await web.stream_response(
            request,
            body(request.path == "/parts"),
            content_type="text/plain",
            headers={"Content-Length": str(len(BODY))},
        )
        sent[request.path].append(resp.body_length)
        return resp

    routes = [web.get("/parts", handler), web.get("/joined", handler)]
    srv = web.Server("t", listeners=[web.Listener("main", routes=routes, host="127.0.0.1")])
    async with running(srv):
        for path in ("/parts", "/parts", "/joined"):
            status, headers, got = await fetch(url(srv, "main", path))
            assert status == 200 and got == BODY and int(headers["Content-Length"]) == len(BODY)
    # counted as aiohttp counts its own writes (headers included)
    assert sent["/parts"] == [sent["/joined"][0]] * 2 and sent["/joined"][0] > len(BODY)


async def test_a_client_closing_during_lists_of_parts_is_an_abort() -> None:
    closed = asyncio.Event()

    async def body() -> AsyncIterator[list[bytes]]:
        try:
            for _ in range(10_000):
                yield [b"x" * 65536, b"y" * 1000]
        finally:
            closed.set()

    async def big(request: web.Request) -> web.StreamResponse:
        return await web.stream_response(request, body(), content_type="text/plain")

    srv = web.Server(
        "t", listeners=[web.Listener("main", routes=[web.get("/big", big)], host="127.0.0.1", metrics=True)]
    )
    async with running(srv):
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port("main"))
        writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readexactly(100_000)
        writer.close()
        await asyncio.wait_for(closed.wait(), 60)
        _, _, text = await fetch(url(srv, "main", "/metrics"))
    assert 'kubescope_http_aborted_responses_total{handler="/big",listener="main"} 1\n' in text.decode()


async def test_a_head_request_gets_the_headers_only() -> None:
    produced: list[bytes] = []

    async def body() -> AsyncIterator[list[bytes]]:
        for c in PARTS:
            produced.append(b"x")
            yield c if isinstance(c, list) else [c]

    async def handler(request: web.Request) -> web.StreamResponse:
        return await web.stream_response(
            request, body(), content_type="text/plain", headers={"Content-Length": str(len(BODY))}
        )

    srv = web.Server("t", listeners=[web.Listener("main", routes=[web.get("/b", handler)], host="127.0.0.1")])
    async with running(srv):
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port("main"))
        # a HEAD, then a GET on the same connection: nothing may come between their answers
        writer.write(b"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and f"Content-Length: {len(BODY)}".encode() in head
        get = await reader.readuntil(b"\r\n\r\n")
        assert get.startswith(b"HTTP/1.1 200")
        assert await reader.readexactly(len(BODY)) == BODY
        writer.close()
    assert len(produced) == len(PARTS)  # the GET's body only
