"""Listeners: an aiohttp application served on one address (or on many sockets), plain or TLS.

A :class:`Listener` is a declaration (name, routes, address, TLS, middleware, which health
endpoints and whether self metrics are mounted); a :class:`RunningListener` is what the server
made of it: sockets bound at once (a taken port is a :class:`~kubescope.errors.BindError` naming
the flag), serving started later, stopped in two steps (stop accepting, then drain).

Binding follows asyncio's ``create_server``: a host of ``""``, ``::`` or ``0.0.0.0`` means every
address (one socket per family, IPv6 sockets IPv6-only); port 0 picks a free port, the same one for
every family. Extra sockets can be added to a running listener (:meth:`RunningListener.add_socket`),
e.g. one per simulated kubelet, all served by the same application (a listener declared with
``bind=False`` has no address of its own).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubescope.errors import BindError
from kubescope.log import fields
from kubescope.web.health import KUBE, HealthChecks, Style
from kubescope.web.middleware import add_response_headers, web_config_middleware
from kubescope.web.selfmetrics import SelfMetrics
from kubescope.web.streaming import LISTENER, STATS, ServingStats
from kubescope.web.webconfig import WebConfig

logger = logging.getLogger(__name__)


@dataclass
class Listener:
    """One listener of a server (see the module docstring)."""

    name: str
    routes: Sequence[web.AbstractRouteDef] = ()
    host: str = "0.0.0.0"
    port: int = 0
    tls: ssl.SSLContext | WebConfig | None = None
    """A TLS context, or a Prometheus web configuration (TLS, basic auth, headers, rate limit)."""
    middlewares: Sequence[Middleware] = ()
    health: Sequence[str] = ()
    """Health endpoints to mount (``healthz``, ``livez``, ``readyz``), with ``/<endpoint>/<check>``."""
    health_style: Style = KUBE
    metrics: bool = False
    """Mount ``GET /metrics`` with the server's self metrics."""
    port_flag: str = ""
    """The flag that set the port (``--secure-port``), named in bind errors."""
    bind: bool = True
    """False: no address of its own; it serves only the sockets given to
    :meth:`RunningListener.add_socket` (one per simulated kubelet, say)."""
    host_flag: str = ""
    client_max_size: int = 1 << 20
    keepalive_timeout: float = 75.0
    setup: Callable[[web.Application], None] | None = None
    """Last word on the application (sub-apps, signals, a catch-all route)."""

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return self.tls.ssl_context if isinstance(self.tls, WebConfig) else self.tls


def bind_host(host: str) -> str | None:
    """``::`` (KSM's default), ``0.0.0.0`` and ``""`` mean every address, dual stack."""
    return None if host in ("", "::", "0.0.0.0") else host


def bind_sockets(host: str, port: int, what: str = "") -> list[socket.socket]:
    """Bound, listening sockets for ``host:port``; :class:`BindError` naming ``what`` if taken."""
    target = bind_host(host)
    try:
        infos = socket.getaddrinfo(target, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise BindError(f"{what or 'address'}={host}: cannot resolve the address: {e.strerror}") from e
    socks: list[socket.socket] = []
    seen = set()
    chosen = port
    try:
        for family, kind, proto, _, addr in infos:
            if (family, addr[0]) in seen:
                continue
            seen.add((family, addr[0]))
            s = socket.socket(family, kind, proto)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind((addr[0], chosen, *addr[2:]))
            except OSError as e:
                if e.errno == errno.EADDRNOTAVAIL and target is None and family == socket.AF_INET6:
                    socks.pop().close()  # no IPv6 on this machine: serve IPv4 alone, as Go does
                    continue
                shown = f"[{addr[0]}]" if family == socket.AF_INET6 else addr[0]
                reason = "address already in use" if e.errno == errno.EADDRINUSE else (e.strerror or str(e))
                raise BindError(
                    f"{what + '=' + str(port) if what else 'port ' + str(port)}: cannot listen on "
                    f"{shown}:{chosen}: {reason}"
                ) from e
            chosen = s.getsockname()[1]
            s.listen(128)
            s.setblocking(False)
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


@dataclass
class RunningListener:
    spec: Listener
    sockets: list[socket.socket]
    runner: web.AppRunner | None = None
    sites: list[web.BaseSite] = field(default_factory=list)
    extra: list[asyncio.AbstractServer] = field(default_factory=list)
    port: int = 0
    """The bound port (kept after the sockets close)."""

    def __post_init__(self) -> None:
        if self.sockets:
            self.port = int(self.sockets[0].getsockname()[1])

    @property
    def address(self) -> str:
        host = self.spec.host or "0.0.0.0"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def app(self, health: HealthChecks, metrics: SelfMetrics, stats: ServingStats) -> web.Application:
        s = self.spec
        middlewares = list(s.middlewares)
        if isinstance(s.tls, WebConfig):
            middlewares.insert(0, web_config_middleware(s.tls))
        app = web.Application(middlewares=middlewares, client_max_size=s.client_max_size)
        app[LISTENER] = s.name
        app[STATS] = stats
        if isinstance(s.tls, WebConfig):
            add_response_headers(app, s.tls.headers)
        app.add_routes(s.routes)
        if s.health:
            app.add_routes(health.routes(s.health, s.health_style))
        if s.metrics:
            app.router.add_get("/metrics", metrics.handle)
        if s.setup is not None:
            s.setup(app)
        return app

    async def serve(self, app: web.Application, shutdown_timeout: float) -> None:
        self.runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            keepalive_timeout=self.spec.keepalive_timeout,
            shutdown_timeout=shutdown_timeout,
        )
        await self.runner.setup()
        for sock in self.sockets:
            site = web.SockSite(self.runner, sock, ssl_context=self.spec.ssl_context)
            await site.start()
            self.sites.append(site)
        logger.info(
            "listening",
            extra=fields(
                listener=self.spec.name, address=self.address, tls=self.spec.ssl_context is not None
            ),
        )

    async def add_socket(
        self, sock: socket.socket, ssl_context: ssl.SSLContext | None
    ) -> asyncio.AbstractServer:
        """Serve this listener's application on one more bound socket too (closed with the listener,
        or earlier by closing the returned server)."""
        assert self.runner is not None and self.runner.server is not None, "listener not serving yet"
        server = await asyncio.get_running_loop().create_server(
            self.runner.server, sock=sock, ssl=ssl_context
        )
        self.extra.append(server)
        return server

    async def stop_accepting(self) -> None:
        for server in self.extra:
            server.close()
        self.extra.clear()
        for site in self.sites:
            await site.stop()
        self.sites.clear()

    async def drain(self) -> None:
        """Let in-flight requests finish (within the shutdown timeout), then close everything."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        for s in self.sockets:
            s.close()

    def close_unserved(self) -> None:
        for s in self.sockets:
            s.close()
