"""Read-only mode with a login token, for a console reachable from outside the cluster.

``--login-token-file`` names a file in kube-apiserver's static token format (``token,user,uid`` per line,
extra columns ignored; a line with only a token is user ``console``). Then every page needs a session:
``/login`` takes a token (a form, so a person pastes it once) and sets a cookie holding the user, an
expiry and an HMAC over both (``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS); scripts may
send ``Authorization: Bearer <token>`` instead. Tokens are compared in constant time, never logged; a
session lasts ``--session-duration`` and dies with the process (the key is random per start) or when
its user's token leaves the file (read again when it changes).

Whatever the mode, the console is read-only: any method but GET and HEAD (and the login form's POST)
is answered 405, and the console's own credentials need only get, list and watch.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubescope.errors import ConfigError
from kubescope.log import fields

logger = logging.getLogger(__name__)

COOKIE = "kubescope_console_session"
OPEN = ("/login", "/logout", "/static/", "/healthz", "/livez", "/readyz", "/metrics")
"""Paths served without a session: the login itself, its style, and the probes a kubelet and
Prometheus use (they carry no cluster data)."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def read_tokens(path: str) -> dict[str, str]:
    """token -> user from a static token file; ConfigError naming the file and line when malformed."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise ConfigError(f"--login-token-file={path}: cannot read: {e.strerror or e}") from e
    out: dict[str, str] = {}
    for n, row in enumerate(rows, 1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        token = row[0].strip()
        if len(token) < 16:
            raise ConfigError(
                f"--login-token-file={path}: line {n}: the token is shorter than 16 characters; use a random one (e.g. openssl rand -hex 32)"
            )
        out[token] = row[1].strip() if len(row) > 1 and row[1].strip() else "console"
    if not out:
        raise ConfigError(f"--login-token-file={path}: no token in the file (one 'token,user,uid' per line)")
    return out


class Login:
    """Sessions for the tokens of one file (see the module docstring)."""

    def __init__(
        self, path: str, *, session_seconds: float, secure: bool, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.tokens = read_tokens(path)
        self._stamp = self._mtime()
        self.session_seconds = session_seconds
        self.secure = secure
        self.clock = clock
        self.key = secrets.token_bytes(32)
        self.failures = 0
        self.logins = 0

    def _mtime(self) -> float:
        try:
            return os.stat(self.path).st_mtime
        except OSError:
            return 0.0

    def _refresh(self) -> None:
        stamp = self._mtime()
        if stamp != self._stamp:
            try:
                self.tokens = read_tokens(self.path)
            except ConfigError as e:  # keep the last good tokens; say why once per change
                logger.warning(
                    "login token file unreadable; keeping the previous tokens", extra=fields(error=str(e))
                )
            self._stamp = stamp

    def user_of_token(self, token: str) -> str | None:
        self._refresh()
        found = None
        for known, user in self.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = user
        return found

    def _sign(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()

    def cookie_for(self, user: str) -> str:
        payload = f"{user}|{int(self.clock() + self.session_seconds)}"
        return base64.urlsafe_b64encode(f"{payload}|{self._sign(payload)}".encode()).decode()

    def user_of_cookie(self, value: str) -> str | None:
        try:
            user, expiry, mac = base64.urlsafe_b64decode(value.encode()).decode().rsplit("|", 2)
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(mac, self._sign(f"{user}|{expiry}")) or not expiry.isdigit():
            return None
        if int(expiry) < self.clock():
            return None
        self._refresh()
        return user if user in self.tokens.values() else None

    def user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.user_of_token(header[7:].strip())
        cookie = request.cookies.get(COOKIE)
        return self.user_of_cookie(cookie) if cookie else None


def _safe_next(value: str) -> str:
    """Only a path on this console (no scheme, no host, no ``//``): never an open redirect."""
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or parts.scheme or parts.netloc or "\\" in value:
        return "/"
    return value


def middleware(login: Login | None) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD") and not (
            request.method == "POST" and request.path == "/login"
        ):
            return web.Response(status=405, text="the console is read-only: only GET and HEAD are served\n",
                                headers={"Allow": "GET, HEAD"})  # fmt: skip
        if login is None or request.path.startswith(OPEN):
            return await handler(request)
        if login.user(request) is not None:
            return await handler(request)
        if request.path.startswith("/api/"):
            return web.json_response(
                {"error": "log in first: send Authorization: Bearer <token>"}, status=401
            )
        raise web.HTTPSeeOther("/login?next=" + quote(request.path_qs, safe=""))

    return guard


LOGIN_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kubescope console: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/console.css"></head>
<body><main class="login"><h1>kubescope console</h1><p>This console is read-only. Log in with a token from its
login token file.</p>{message}<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">Log in</button></form></main></body></html>"""


def routes(login: Login | None) -> list[web.RouteDef]:
    if login is None:
        return []

    async def form(request: web.Request) -> web.StreamResponse:
        from html import escape

        nxt = _safe_next(request.query.get("next", "/"))
        return web.Response(text=LOGIN_FORM.format(message="", next=escape(nxt)), content_type="text/html")

    async def submit(request: web.Request) -> web.StreamResponse:
        from html import escape

        data = await request.post()
        token = str(data.get("token", "")).strip()
        nxt = _safe_next(str(data.get("next", "/")))
        user = login.user_of_token(token) if token else None
        if user is None:
            login.failures += 1
            logger.warning("console login refused", extra=fields(remote=request.remote or ""))
            page = LOGIN_FORM.format(
                message='<p class="note bad">That token is not valid.</p>', next=escape(nxt)
            )
            return web.Response(text=page, status=401, content_type="text/html")
        login.logins += 1
        logger.info("console login", extra=fields(user=user, remote=request.remote or ""))
        resp = web.HTTPSeeOther(nxt)
        resp.set_cookie(COOKIE, login.cookie_for(user), httponly=True, samesite="Strict", secure=login.secure,
                        max_age=int(login.session_seconds), path="/")  # fmt: skip
        raise resp

    async def logout(request: web.Request) -> web.StreamResponse:
        resp = web.HTTPSeeOther("/login")
        resp.del_cookie(COOKIE, path="/")
        raise resp

    return [web.get("/login", form), web.post("/login", submit), web.get("/logout", logout)]
