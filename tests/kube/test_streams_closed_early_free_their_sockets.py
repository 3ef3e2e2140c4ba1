"""A watch or list body closed before its end (a reflector cancelled, a stream cut short) frees its
socket at once, whatever the server does: over TLS a graceful close waits for the server's
close_notify, and a server too busy to answer (a loaded machine) kept the socket open after the
client was closed; a test's event loop closed meanwhile, and the socket was reported unclosed by
whichever later test ran the garbage collector."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection
from tests.kube.certs import CA
from tests.kube.test_kubeconfig_variants_connect import server_context


class SilentServer:
    """Answers one request with the start of an endless chunked body, then neither reads nor
    writes: the client's close_notify is never answered."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with self.ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)  # the request
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            tls.sendall(b'4\r\n{}\n\n\r\n')
            self.done.wait(30)

    def close(self) -> None:
        self.done.set()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def silent(tmp_path: Path) -> Iterator[tuple[SilentServer, CA]]:
    ca = CA()
    srv = SilentServer(server_context(ca, ca.issue("apiserver", ips=("127.0.0.1",)), tmp_path))
    yield srv, ca
    srv.close()


async def test_a_stream_closed_before_its_end_closes_its_socket_at_once(
    silent: tuple[SilentServer, CA],
) -> None:
    srv, ca = silent
    client = KubeClient.from_connection(Connection(server=f"https://127.0.0.1:{srv.port}", ca_pem=ca.pem))
    try:
        async with client.stream("/api/v1/pods", {"watch": "true"}) as lines:
            assert await anext(aiter(lines)) == b"{}"
            resp = lines._resp
            assert resp is not None and resp.connection is not None
            sock = resp.connection.transport.get_extra_info("socket")  # type: ignore[union-attr]
            assert sock.fileno() != -1
        for _ in range(5):  # a few turns of the loop, nothing from the server
            await asyncio.sleep(0)
        assert sock.fileno() == -1, "the socket waits for the server's close_notify"
    finally:
        await client.close()
