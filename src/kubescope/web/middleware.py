"""Request middleware for servers that are not aggregated API servers (those use the
:mod:`kubescope.apiserver.pipeline`).

* :func:`web_config_middleware`: a Prometheus web configuration in exporter-toolkit's order: rate
  limit (429), the client certificate's SANs (403), basic auth (401 with ``WWW-Authenticate:
  Basic``). Its response headers are added by :func:`add_response_headers`, just before headers
  are sent, so streamed answers and refusals carry them too. A :class:`~kubescope.web.Listener`
  given a ``WebConfig`` installs both.
* :func:`authorizer_middleware`: a per-request :data:`Authorizer` (``--auth-filter``: TokenReview
  + SubjectAccessReview) for the paths it protects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubescope.web.webconfig import WebConfig

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Authorizer = Callable[[web.Request], Awaitable[int]]
"""Returns an HTTP status: 200 to allow, 401/403 to refuse."""

PROBES = frozenset({"/healthz", "/livez", "/readyz"})


def web_config_middleware(cfg: WebConfig) -> Middleware:
    @web.middleware
    async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        if cfg.rate_limit is not None and not cfg.rate_limit.allow():
            return web.Response(status=429, text="Too Many Requests\n")
        if cfg.client_allowed_sans:
            peer = request.transport.get_extra_info("peercert") if request.transport else None
            if not cfg.peer_allowed(peer):
                return web.Response(status=403, text="client certificate SAN not allowed\n")
        if cfg.auth_required and not await cfg.check_basic_auth(request.headers.get("Authorization")):
            return web.Response(status=401, text="Unauthorized\n", headers={"WWW-Authenticate": "Basic"})
        return await handler(request)

    return mw


def authorizer_middleware(
    authorizer: Authorizer, protected: Callable[[str], bool] = lambda path: path not in PROBES
) -> Middleware:
    @web.middleware
    async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        if protected(request.path):
            status = await authorizer(request)
            if status != 200:
                return web.Response(
                    status=status, text=("Unauthorized" if status == 401 else "Forbidden") + "\n"
                )
        return await handler(request)

    return mw


def add_response_headers(app: web.Application, headers: Mapping[str, str]) -> None:
    """Set ``headers`` (unless the handler set them) on every answer of ``app``."""
    if not headers:
        return

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        for k, v in headers.items():
            response.headers.setdefault(k, v)

    app.on_response_prepare.append(on_prepare)
