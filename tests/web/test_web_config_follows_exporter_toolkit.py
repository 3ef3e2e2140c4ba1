"""The Prometheus web-config file (``--tls-config``) with exporter-toolkit's semantics, over real
TLS handshakes: every ``client_auth_type``, client CAs, allowed SANs, basic auth, headers, the rate
limit, and the configurations exporter-toolkit refuses."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import aiohttp
import bcrypt
import pytest
import yaml

from kubescope import web
from kubescope.errors import ConfigError
from tests.web.helpers import PKI, fetch, running, url

HASH = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4)).decode()


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return PKI.create(tmp_path)


def config(pki: PKI, **sections: Any) -> web.WebConfig:
    tls = {"cert_file": pki.server[0], "key_file": pki.server[1], **sections.pop("tls", {})}
    path = pki.dir / "web.yml"
    path.write_text(yaml.safe_dump({"tls_server_config": tls, **sections}))
    return web.load_web_config(str(path))


def server(cfg: web.WebConfig) -> web.Server:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    return web.Server(
        "t", listeners=[web.Listener("main", routes=[web.get("/", hello)], host="127.0.0.1", tls=cfg)]
    )


async def outcome(srv: web.Server, pki: PKI, cert: tuple[str, str] | None) -> int | str:
    """The status code, or ``refused`` when the TLS handshake or the connection failed."""
    try:
        return (await fetch(url(srv, "main"), ssl_ctx=pki.client_ssl(cert)))[0]
    except aiohttp.ClientError:
        return "refused"


# client_auth_type -> outcome without a certificate, with one from the client CA, with a stranger's
CASES = {
    "NoClientCert": (200, 200, 200),
    # Go asks and ignores the answer; here nothing is asked: the same clients get in
    "RequestClientCert": (200, 200, 200),
    # Go accepts any certificate; Python's TLS must verify it, so it is checked against the CA
    "RequireAnyClientCert": ("refused", 200, "refused"),
    "VerifyClientCertIfGiven": (200, 200, "refused"),
    "RequireAndVerifyClientCert": ("refused", 200, "refused"),
}


@pytest.mark.parametrize("auth", list(CASES))
async def test_every_client_auth_type(pki: PKI, auth: str) -> None:
    tls = {"client_auth_type": auth}
    if auth not in ("NoClientCert", "RequestClientCert"):
        tls["client_ca_file"] = pki.client_ca_file
    cfg = config(pki, tls=tls)
    async with running(server(cfg)) as srv:
        got = (
            await outcome(srv, pki, None),
            await outcome(srv, pki, pki.client("alice")),
            await outcome(srv, pki, pki.client("eve", stranger=True)),
        )
    assert got == CASES[auth]


def test_refused_configurations_name_the_problem(pki: PKI) -> None:
    for tls, words in (
        ({"client_auth_type": "RequireAnyClientCert"}, "needs client_ca_file"),
        ({"client_auth_type": "RequireAndVerifyClientCert"}, "needs client_ca_file"),
        ({"client_ca_file": "PLACEHOLDER"}, "without a Client Auth Policy"),
        ({"client_auth_type": "Sometimes"}, "not one of"),
        (
            {
                "client_auth_type": "VerifyClientCertIfGiven",
                "client_ca_file": "PLACEHOLDER",
                "client_allowed_sans": ["x"],
            },
            "client_allowed_sans requires",
        ),
        ({"min_version": "TLS9"}, "min_version"),
        ({"cipher_suites": ["TLS_FAST"]}, "unknown cipher suite"),
        ({"curve_preferences": ["P1"]}, "unknown curve"),
        ({"surprise": 1}, "unknown key"),
    ):
        tls = {k: pki.client_ca_file if v == "PLACEHOLDER" else v for k, v in tls.items()}
        with pytest.raises(ConfigError, match=words):
            config(pki, tls=tls)
    with pytest.raises(ConfigError, match="can not be configured"):
        config(pki, http_server_config={"headers": {"Server": "x"}})
    with pytest.raises(ConfigError, match="unknown key"):
        config(pki, http_server_confi={})
    key_only = pki.dir / "key-only.yml"
    key_only.write_text(yaml.safe_dump({"tls_server_config": {"key_file": pki.server[1]}}))
    with pytest.raises(ConfigError, match="missing one of cert or cert_file"):
        web.load_web_config(str(key_only))


async def test_client_allowed_sans(pki: PKI) -> None:
    cfg = config(
        pki,
        tls={
            "client_auth_type": "RequireAndVerifyClientCert",
            "client_ca_file": pki.client_ca_file,
            "client_allowed_sans": ["prometheus.example.com"],
        },
    )
    async with running(server(cfg)) as srv:
        assert await outcome(srv, pki, pki.client("prom", dns=("prometheus.example.com",))) == 200
        assert await outcome(srv, pki, pki.client("other", dns=("other.example.com",))) == 403


async def test_basic_auth_headers_and_rate_limit(pki: PKI) -> None:
    cfg = config(
        pki,
        basic_auth_users={"alice": HASH},
        http_server_config={"headers": {"X-Frame-Options": "deny"}},
    )
    async with running(server(cfg)) as srv:
        ctx = pki.client_ssl()
        code, headers, _ = await fetch(url(srv, "main"), ssl_ctx=ctx)
        assert (code, headers["WWW-Authenticate"], headers["X-Frame-Options"]) == (401, "Basic", "deny")
        good = basic("alice", "s3cret")
        code, headers, body = await fetch(url(srv, "main"), ssl_ctx=ctx, Authorization=good)
        assert (code, body, headers["X-Frame-Options"]) == (200, b"hello", "deny")
        for user, password in (("alice", "wrong"), ("mallory", "s3cret")):
            bad = basic(user, password)
            assert (await fetch(url(srv, "main"), ssl_ctx=ctx, Authorization=bad))[0] == 401

    limited = config(pki, rate_limit={"burst": 1, "interval": "1h"})
    async with running(server(limited)) as srv:
        assert (await fetch(url(srv, "main"), ssl_ctx=pki.client_ssl()))[0] == 200
        assert (await fetch(url(srv, "main"), ssl_ctx=pki.client_ssl()))[0] == 429


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_plain_http_when_no_tls_is_configured(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text(yaml.safe_dump({"basic_auth_users": {"alice": HASH}}))
    cfg = web.load_web_config(str(path))
    assert cfg.ssl_context is None and cfg.auth_required
