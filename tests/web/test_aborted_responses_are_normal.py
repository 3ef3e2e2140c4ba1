"""A client that closes a streamed response early (Prometheus' scrape_timeout, ``head -c``) costs
one debug line and a counter, never aiohttp's traceback; the producer is closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from kubescope import web
from tests.web.helpers import fetch, running, url


async def test_a_client_closing_early_is_counted_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    closed = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            for _ in range(10_000):
                yield b"x" * 65536
        finally:
            closed.set()

    async def big(request: web.Request) -> web.StreamResponse:
        return await web.stream_response(request, body(), content_type="text/plain")

    srv = web.Server(
        "t", listeners=[web.Listener("main", routes=[web.get("/big", big)], host="127.0.0.1", metrics=True)]
    )
    caplog.set_level(logging.DEBUG)
    async with running(srv):
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port("main"))
        writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readexactly(100_000)  # curl | head -c 100000
        writer.close()
        await asyncio.wait_for(closed.wait(), 60)
        _, _, text = await fetch(url(srv, "main", "/metrics"))
    assert 'kubescope_http_aborted_responses_total{handler="/big",listener="main"} 1\n' in text.decode()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    lines = [r for r in caplog.records if "closed the connection" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.DEBUG and lines[0].exc_info is None
