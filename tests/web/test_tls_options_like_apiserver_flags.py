"""apiserver-style TLS options over real handshakes: given certificate files, a certificate
self-signed into --cert-dir (and reused), --tls-min-version, --tls-cipher-suites, --client-ca-file
(requested, verified when given), and errors naming the flag."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubescope import web
from kubescope.errors import ConfigError
from tests.apiserver.certs import issue
from tests.web.helpers import PKI, fetch, running, url


async def peer(request: web.Request) -> web.Response:
    transport = request.transport
    obj = transport.get_extra_info("ssl_object") if transport else None
    cert = obj.getpeercert() if obj is not None else None
    subject = dict(x[0] for x in cert["subject"]) if cert else {}
    return web.Response(text=subject.get("commonName", "-"))


def serve(ctx: ssl.SSLContext | None) -> web.Server:
    return web.Server(
        "t", listeners=[web.Listener("main", routes=[web.get("/", peer)], host="127.0.0.1", tls=ctx)]
    )


async def test_self_signed_into_cert_dir_and_reused(tmp_path: Path) -> None:
    opts = web.TLSOptions(cert_dir=str(tmp_path / "certs"), pair_name="kubescope")
    async with running(serve(opts.context())) as srv:
        ca = ssl.create_default_context(cafile=str(tmp_path / "certs" / "kubescope.crt"))
        ca.check_hostname = False  # the chain file holds the CA after the leaf
        assert (await fetch(url(srv, "main"), ssl_ctx=ca))[0::2] == (200, b"-")
    first = (tmp_path / "certs" / "kubescope.crt").read_bytes()
    opts.context()
    assert (tmp_path / "certs" / "kubescope.crt").read_bytes() == first
    assert oct((tmp_path / "certs" / "kubescope.key").stat().st_mode & 0o777) == "0o600"


async def test_client_ca_file_requests_and_verifies_client_certificates(tmp_path: Path) -> None:
    pki = PKI.create(tmp_path)
    opts = web.TLSOptions(cert_file=pki.server[0], key_file=pki.server[1], client_ca_file=pki.client_ca_file)
    async with running(serve(opts.context())) as srv:
        assert (await fetch(url(srv, "main"), ssl_ctx=pki.client_ssl()))[0::2] == (200, b"-")
        ok = pki.client_ssl(pki.client("alice"))
        assert (await fetch(url(srv, "main"), ssl_ctx=ok))[0::2] == (200, b"alice")
        with pytest.raises(aiohttp.ClientError):
            await fetch(url(srv, "main"), ssl_ctx=pki.client_ssl(pki.client("eve", stranger=True)))


async def test_min_version_and_cipher_suites(tmp_path: Path) -> None:
    pki = PKI.create(tmp_path)
    opts = web.TLSOptions(cert_file=pki.server[0], key_file=pki.server[1], min_version="VersionTLS13")
    async with running(serve(opts.context())) as srv:
        old = pki.client_ssl()
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(aiohttp.ClientError):
            await fetch(url(srv, "main"), ssl_ctx=old)
    suites = ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",)
    opts = web.TLSOptions(cert_file=pki.server[0], key_file=pki.server[1], cipher_suites=suites)
    async with running(serve(opts.context())) as srv:
        client = pki.client_ssl()
        client.maximum_version = ssl.TLSVersion.TLSv1_2
        client.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
        with pytest.raises(aiohttp.ClientError):
            await fetch(url(srv, "main"), ssl_ctx=client)
        client.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384")
        assert (await fetch(url(srv, "main"), ssl_ctx=client))[0] == 200


def test_errors_name_the_flag(tmp_path: Path) -> None:
    assert web.TLSOptions().context() is None  # no certificate, no --cert-dir: plain HTTP
    for opts, flag in (
        (web.TLSOptions(cert_file="a.crt"), "--tls-private-key-file"),
        (web.TLSOptions(cert_file="a.crt", key_file="a.key"), "--tls-cert-file=a.crt: file not found"),
        (web.TLSOptions(cert_dir=str(tmp_path), min_version="TLS12"), "--tls-min-version=TLS12"),
        (web.TLSOptions(cert_dir=str(tmp_path), cipher_suites=("RC4",)), "--tls-cipher-suites"),
        (web.TLSOptions(client_ca_file="ca.crt"), "--client-ca-file"),
        (web.TLSOptions(cert_dir=str(tmp_path), client_ca_file=str(tmp_path / "no")), "--client-ca-file="),
    ):
        with pytest.raises(ConfigError, match=flag):
            opts.context()


async def peer_name(port: int, client: ssl.SSLContext) -> str:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
    cert = writer.get_extra_info("peercert")
    writer.close()
    await writer.wait_closed()
    return str(dict(x[0] for x in cert["subject"])["commonName"])


@pytest.mark.parametrize("source", ["flags", "web-config"])
async def test_a_rotated_certificate_is_served_without_a_restart(
    tmp_path: Path, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    pki = PKI.create(tmp_path)
    cert, key = pki.server
    if source == "flags":
        tls: ssl.SSLContext | web.WebConfig | None = web.TLSOptions(cert_file=cert, key_file=key).context()
    else:
        (tmp_path / "web.yml").write_text(f"tls_server_config: {{cert_file: {cert}, key_file: {key}}}\n")
        tls = web.load_web_config(str(tmp_path / "web.yml"))
    srv = web.Server("t", listeners=[web.Listener("main", host="127.0.0.1", tls=tls)])
    srv.cert_check_interval = 0.02
    caplog.set_level(logging.INFO, "kubescope")
    async with running(srv):
        port = srv.port("main")
        assert await peer_name(port, pki.client_ssl()) == "server"
        # a broken pair is refused: the old certificate stays, one error line says why
        corrupt(cert)
        await until(lambda: any("not reloaded" in r.getMessage() for r in caplog.records))
        assert await peer_name(port, pki.client_ssl()) == "server"
        # cert-manager writes the renewed pair
        issue(pki.server_ca, "server-renewed", client=False, ips=("127.0.0.1",)).write(tmp_path, "server")

        async def renewed() -> bool:
            return await peer_name(port, pki.client_ssl()) == "server-renewed"

        for _ in range(500):
            if await renewed():
                break
            await asyncio.sleep(0.02)
        assert await renewed()
    assert len([r for r in caplog.records if "not reloaded" in r.getMessage()]) == 1


def corrupt(path: str) -> None:
    Path(path).write_text("not a certificate")


async def until(cond: Any) -> None:
    deadline = time.monotonic() + 60  # not a timing check: how long a loaded machine may take
    while not cond():
        assert time.monotonic() < deadline, "not reached"
        await asyncio.sleep(0.02)
