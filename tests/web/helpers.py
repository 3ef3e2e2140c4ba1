"""Helpers for the serving core's tests: a server on loopback, HTTP(S) requests over real sockets,
a small PKI (server certificate, client CAs)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from multidict import CIMultiDict

from kubescope import web
from tests.apiserver.certs import Issued, issue, make_ca


@dataclass
class PKI:
    """A server certificate for 127.0.0.1 and two client CAs (one trusted, one a stranger's)."""

    dir: Path
    server_ca: Issued
    server: tuple[str, str]
    client_ca: Issued
    client_ca_file: str

    @classmethod
    def create(cls, tmp: Path) -> PKI:
        server_ca = make_ca("server-ca")
        server = issue(server_ca, "server", client=False, ips=("127.0.0.1",)).write(tmp, "server")
        client_ca = make_ca("client-ca")
        ca_file = tmp / "client-ca.crt"
        ca_file.write_bytes(client_ca.pem)
        return cls(tmp, server_ca, server, client_ca, str(ca_file))

    def client(self, name: str, *, dns: tuple[str, ...] = (), stranger: bool = False) -> tuple[str, str]:
        ca = make_ca("stranger-ca") if stranger else self.client_ca
        return issue(ca, name, dns=dns).write(self.dir, name)

    def client_ssl(self, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.server_ca.pem.decode())
        if cert is not None:
            ctx.load_cert_chain(*cert)
        return ctx


@asynccontextmanager
async def running(server: web.Server) -> AsyncIterator[web.Server]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def fetch(
    url: str, *, ssl_ctx: ssl.SSLContext | None = None, method: str = "GET", **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, url, ssl=ssl_ctx or False, headers=headers) as r,
    ):
        return r.status, CIMultiDict(r.headers), await r.read()


def url(server: web.Server, listener: str, path: str = "/") -> str:
    r = server.listener(listener)
    scheme = "https" if r.spec.ssl_context is not None else "http"
    return f"{scheme}://127.0.0.1:{r.port}{path}"
