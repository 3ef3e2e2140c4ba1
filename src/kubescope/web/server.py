"""HTTP serving shared by every kubescope server: listeners, security, streaming, lifecycle.

* :func:`security_middleware`: basic auth and client-certificate SAN checks from a
  :class:`~kubescope.web.webconfig.WebConfig`, an optional per-request authorizer (``--auth-filter``),
  and the configured response headers.
* :func:`stream_response`: send a large body as chunks with backpressure. Headers are written first
  and on their own: aiohttp on Python < 3.12.9 otherwise joins headers and body, copying the body
  for every concurrent scrape (measured: +60 MB per scrape of a 60 MB body).
* :class:`Listeners`: start several aiohttp apps, each on its host/port with its own TLS, and stop
  them gracefully (stop accepting, let in-flight requests finish within a deadline, cancel).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from aiohttp import web

from kubescope.log import fields
from kubescope.web.webconfig import WebConfig

logger = logging.getLogger(__name__)

Authorizer = Callable[[web.Request], Awaitable[int]]
"""Returns an HTTP status: 200 to allow, 401/403 to refuse (``--auth-filter``)."""

ALWAYS_ALLOWED = frozenset({"/healthz", "/livez", "/readyz"})


def security_middleware(
    cfg: WebConfig,
    authorizer: Authorizer | None = None,
    protected: Callable[[str], bool] = lambda path: path not in ALWAYS_ALLOWED,
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def mw(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if cfg.client_allowed_sans:
            peer = request.transport.get_extra_info("peercert") if request.transport else None
            if not cfg.peer_allowed(peer):
                return web.Response(status=403, text="client certificate SAN not allowed\n")
        if cfg.auth_required and not cfg.check_basic_auth(request.headers.get("Authorization")):
            return web.Response(
                status=401, text="Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="kubescope"'}
            )
        if authorizer is not None and protected(request.path):
            status = await authorizer(request)
            if status != 200:
                reason = "Unauthorized" if status == 401 else "Forbidden"
                return web.Response(status=status, text=reason + "\n")
        resp = await handler(request)
        for k, v in cfg.headers.items():
            resp.headers.setdefault(k, v)
        return resp

    return mw


async def stream_response(
    request: web.Request,
    chunks: AsyncIterator[bytes],
    *,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    resp = web.StreamResponse(status=200, headers={"Content-Type": content_type, **(headers or {})})
    await resp.prepare(request)
    await resp.write(b"")  # flush headers alone: the body chunks then reach the transport uncopied
    async for chunk in chunks:
        await resp.write(chunk)
    await resp.write_eof()
    return resp


def parse_bind(host: str) -> str | None:
    """``::`` (KSM's default) means every address, dual stack."""
    return None if host in ("", "::", "0.0.0.0") else host


@dataclass
class Listener:
    app: web.Application
    host: str
    port: int
    ssl_context: object | None = None
    name: str = ""
    bound_port: int = 0


@dataclass
class Listeners:
    """Run several apps; :meth:`stop` shuts down gracefully."""

    listeners: list[Listener]
    shutdown_timeout: float = 10.0
    keepalive_timeout: float = 75.0
    _runners: list[web.AppRunner] = field(default_factory=list)

    async def start(self) -> None:
        for lst in self.listeners:
            runner = web.AppRunner(
                lst.app,
                access_log=None,
                keepalive_timeout=self.keepalive_timeout,
                shutdown_timeout=self.shutdown_timeout,
                handle_signals=False,
            )
            await runner.setup()
            site = web.TCPSite(
                runner,
                parse_bind(lst.host),
                lst.port,
                ssl_context=lst.ssl_context,  # type: ignore[arg-type]
                reuse_address=True,
            )
            await site.start()
            self._runners.append(runner)
            server = site._server  # aiohttp exposes the bound sockets only here
            socks: Iterable[socket.socket] = getattr(server, "sockets", None) or []
            for s in socks:
                lst.bound_port = s.getsockname()[1]
                break
            logger.info(
                "listening",
                extra=fields(
                    server=lst.name, host=lst.host, port=lst.bound_port, tls=lst.ssl_context is not None
                ),
            )

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()


async def wait_for_signal() -> int:
    """Resolve on SIGINT/SIGTERM; returns the signal number."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()

    def _got(sig: int) -> None:
        if not fut.done():
            fut.set_result(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _got, sig)
    try:
        return await fut
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(main: Awaitable[int]) -> int:
    """Run a coroutine on uvloop when available (measured: 20-30% more requests/s than asyncio's
    loop, and big writes are not copied into the transport buffer)."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - optional on some platforms
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)  # type: ignore[arg-type]
