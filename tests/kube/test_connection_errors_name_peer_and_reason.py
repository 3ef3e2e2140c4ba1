"""A failed connection is reported as ``host:port: reason``: never aiohttp's
``ssl:<ssl.SSLContext object at 0x...>`` nor Python's address tuples, from the Kubernetes client and
from the kubelet scraper's client alike (one helper, :mod:`kubescope.kube.neterrors`)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubescope import web
from kubescope.errors import TransportError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection
from kubescope.kubelet.http import HTTPError, KubeletHTTP
from tests.web.helpers import PKI


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def another(pki: PKI) -> PKI:
    """A PKI whose CA did not sign the server's certificate."""
    d = pki.dir / "other"
    d.mkdir(exist_ok=True)
    return PKI.create(d)


def clean(text: str) -> None:
    assert "ssl:" not in text and "object at 0x" not in text and "('127.0.0.1'" not in text, text


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[int, PKI]]:
    pki = PKI.create(tmp_path)
    ctx = web.TLSOptions(cert_file=pki.server[0], key_file=pki.server[1]).context()
    srv = web.Server("t", listeners=[web.Listener("main", host="127.0.0.1", tls=ctx)])
    await srv.start()
    try:
        yield srv.port("main"), pki
    finally:
        await srv.stop()


async def test_kube_client(tls_server: tuple[int, PKI]) -> None:
    port, pki = tls_server
    stranger = another(pki)
    closed = closed_port()
    for server, ca, expected in (
        (
            f"https://127.0.0.1:{closed}",
            pki.server_ca.pem.decode(),
            f"127.0.0.1:{closed}: Connection refused",
        ),
        (f"http://127.0.0.1:{closed}", "", f"127.0.0.1:{closed}: Connection refused"),
        (
            f"https://127.0.0.1:{port}",
            stranger.server_ca.pem.decode(),
            f"127.0.0.1:{port}: certificate verify failed",
        ),
    ):
        client = KubeClient.from_connection(Connection(server=server, ca_pem=ca))
        with pytest.raises(TransportError) as e:
            await client.get("/version")
        await client.close()
        assert str(e.value).startswith(f"GET /version: {expected}"), str(e.value)
        clean(str(e.value))


async def test_kubelet_client(tls_server: tuple[int, PKI]) -> None:
    port, pki = tls_server
    closed = closed_port()
    stranger = another(pki)
    for ctx, p, expected in (
        (pki.client_ssl(), closed, f"cannot connect to 127.0.0.1:{closed}: Connection refused"),
        (stranger.client_ssl(), port, f"TLS handshake with 127.0.0.1:{port}: certificate verify failed"),
    ):
        client = KubeletHTTP(ctx)
        with pytest.raises(HTTPError) as e:
            await client.get("127.0.0.1", p, "/metrics/resource", b"", lambda _: None)
        client.close()
        assert str(e.value).startswith(expected), str(e.value)
        clean(str(e.value))
