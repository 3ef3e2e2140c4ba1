"""Read-only mode with a login token: pages need a session from /login (or a bearer token), the
cookie is signed and expires, tokens leave with their file's line, no open redirects, and nothing
but GET/HEAD (and the login form) is served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from kubescope.console import auth
from kubescope.errors import ConfigError

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[str, auth.Login, Path]]:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(f"{TOKEN},alice,1\n# a comment\n")
    login = auth.Login(str(tokens), session_seconds=3600, secure=False)

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(text="secret page")

    app = web.Application(middlewares=[auth.middleware(login)])
    app.add_routes([*auth.routes(login), web.get("/pods", page), web.get("/api/charts/x", page),
                    web.get("/readyz", page)])  # fmt: skip
    runner = web.AppRunner(app)
    await runner.setup()
    s = web.TCPSite(runner, "127.0.0.1", 0)
    await s.start()
    port = s._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", login, tokens
    finally:
        await runner.cleanup()


async def test_pages_need_a_session(site: tuple[str, auth.Login, Path]) -> None:
    url, _, _ = site
    # (aiohttp keeps cookies of IP addresses only when told to; browsers do)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(url + "/pods?ns=a", allow_redirects=False) as r:
            location = urlsplit(r.headers["Location"])
            assert r.status == 303 and location.path == "/login"
            assert parse_qs(location.query) == {"next": ["/pods?ns=a"]}
        async with http.get(url + "/api/charts/x") as r:
            assert r.status == 401 and "Bearer" in (await r.json())["error"]
        async with http.get(url + "/readyz") as r:
            assert r.status == 200  # probes stay open
        async with http.post(
            url + "/login", data={"token": "wrong" * 8, "next": "/pods"}, allow_redirects=False
        ) as r:
            assert r.status == 401 and "not valid" in await r.text()
        async with http.post(
            url + "/login", data={"token": TOKEN, "next": "/pods"}, allow_redirects=False
        ) as r:
            assert r.status == 303 and r.headers["Location"] == "/pods"
            cookie = r.cookies[auth.COOKIE]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.get(url + "/pods") as r:
            assert r.status == 200 and await r.text() == "secret page"
        async with http.get(url + "/logout", allow_redirects=False) as r:
            assert r.status == 303
        async with http.get(url + "/pods", allow_redirects=False) as r:
            assert r.status == 303


async def test_bearer_tokens_and_read_only(site: tuple[str, auth.Login, Path]) -> None:
    url, _, _ = site
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with http.get(url + "/pods") as r:
            assert r.status == 200
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            async with http.request(method, url + "/pods") as r:
                assert r.status == 405 and "read-only" in await r.text()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)"]
)
async def test_no_open_redirect_after_login(site: tuple[str, auth.Login, Path], target: str) -> None:
    url, _, _ = site
    async with (
        aiohttp.ClientSession() as http,
        http.post(url + "/login", data={"token": TOKEN, "next": target}, allow_redirects=False) as r,
    ):
        assert r.headers["Location"] == "/"


async def test_sessions_end_with_their_token_and_their_time(site: tuple[str, auth.Login, Path]) -> None:
    _, login, tokens = site
    cookie = login.cookie_for("alice")
    assert login.user_of_cookie(cookie) == "alice"
    assert login.user_of_cookie(cookie[:-4] + "AAAA") is None  # tampered
    login.clock = lambda: 1e12  # far later: expired
    assert login.user_of_cookie(cookie) is None
    login.clock = __import__("time").time
    import os

    tokens.write_text("fedcba9876543210fedcba9876543210,bob,2\n")
    os.utime(tokens, (1, 1))  # a different mtime than before, whatever the clock's resolution
    assert login.user_of_cookie(cookie) is None
    assert login.user_of_token(TOKEN) is None


def test_bad_token_files_are_named(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("short,alice\n")
    with pytest.raises(ConfigError, match=r"t.csv: line 1: the token is shorter than 16 characters"):
        auth.read_tokens(str(f))
    f.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="no token in the file"):
        auth.read_tokens(str(f))
    with pytest.raises(ConfigError, match="cannot read"):
        auth.read_tokens(str(tmp_path / "missing"))
