"""The request pipeline every aggregated API server shares, as a middleware of the serving core.

For each request, in k8s.io/apiserver's filter order: request info (verb, group, resource...),
max-in-flight (429 beyond ``--max-requests-inflight``), authentication (401), authorization (403),
then the handler; the outcome is counted in ``apiserver_request_total`` and
``apiserver_request_duration_seconds`` (:mod:`.metrics`). Answers carry ``Cache-Control: no-cache,
private`` as the generic apiserver's do. Health endpoints and ``/metrics`` are routes of the
listener like any other; the always-allow paths of the authorizer keep probes working without
credentials.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubescope.apiserver import status
from kubescope.apiserver.authn import AuthenticationError, Authenticator, UserInfo
from kubescope.apiserver.authz import AuthorizationError, Authorizer
from kubescope.apiserver.requestinfo import RequestInfo, request_info
from kubescope.log import fields

logger = logging.getLogger(__name__)

INFO = web.RequestKey("kubescope.request_info", RequestInfo)
"""The :class:`RequestInfo` of the request (set before authentication)."""
USER = web.RequestKey("kubescope.user", UserInfo)
"""The authenticated user (set before the handler runs)."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RequestObserver = Callable[[tuple[str, ...], int, float], None]

JSON = "application/json"


def json_response(code: int, body: bytes, content_type: str = JSON) -> web.Response:
    return web.Response(status=code, body=body, headers={"Content-Type": content_type})


def status_response(answer: tuple[int, bytes]) -> web.Response:
    return json_response(*answer)


def peer_certificate(request: web.Request) -> bytes | None:
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    return der


HEALTH_PATHS = frozenset(("/healthz", "/livez", "/readyz"))
"""The non-resource paths k8s.io/apiserver counts in its request metrics (``InstallPathHandler``)."""


def metric_labels(info: RequestInfo) -> tuple[str, ...] | None:
    """``component, verb, group, version, resource, subresource, scope`` as k8s.io/apiserver labels a
    request in ``apiserver_request_total``; None for one it does not count.

    Resource requests carry component ``apiserver``. Of the non-resource ones, only the health
    endpoints are counted, with the path as subresource and no component (``healthz.InstallPathHandler``
    instruments them so); ``/metrics`` (metrics-server serves it from the non-go-restful mux), discovery
    and 404s are not: a scrape every second would otherwise be most of the counts, in series that
    no kube-apiserver or metrics-server writes."""
    if not info.is_resource_request:
        if info.path in HEALTH_PATHS:
            return ("", info.verb.upper(), "", "", "", info.path, "")
        return None
    verb = info.verb.upper()
    if info.name:
        scope = "resource"
    elif info.namespace:
        scope = "namespace"
    else:
        scope = "cluster"
    return ("apiserver", verb, info.group, info.version, info.resource, info.subresource, scope)


@dataclass
class Pipeline:
    authenticator: Authenticator
    authorizer: Authorizer
    observe: RequestObserver | None = None
    max_inflight: int = 400
    inflight: int = 0
    rejected: dict[int, int] = field(default_factory=dict)

    def middleware(self) -> Middleware:
        @web.middleware
        async def mw(request: web.Request, handler: Handler) -> web.StreamResponse:
            t0 = time.perf_counter()
            info = request_info(request.method, request.path, request.query)
            request[INFO] = info
            resp: web.StreamResponse
            if self.max_inflight and self.inflight >= self.max_inflight:
                resp = status_response(status.too_many_requests())
                resp.headers["Retry-After"] = "1"
            else:
                self.inflight += 1
                try:
                    resp = await self._handle(request, handler, info)
                finally:
                    self.inflight -= 1
            resp.headers.setdefault("Cache-Control", "no-cache, private")
            if resp.status >= 400:
                self.rejected[resp.status] = self.rejected.get(resp.status, 0) + 1
            if self.observe is not None and (labels := metric_labels(info)) is not None:
                self.observe(labels, resp.status, time.perf_counter() - t0)
            return resp

        return mw

    async def _handle(self, request: web.Request, handler: Handler, info: RequestInfo) -> web.StreamResponse:
        try:
            user = await self.authenticator.authenticate(request.headers, peer_certificate(request))
        except AuthenticationError as e:
            logger.debug("unable to authenticate the request", extra=fields(path=request.path, error=str(e)))
            return status_response(status.unauthorized())
        try:
            decision = await self.authorizer.authorize(user, info)
        except AuthorizationError as e:
            logger.warning("authorization failed", extra=fields(path=request.path, error=str(e)))
            return status_response(status.internal_error(str(e)))
        if not decision.allowed:
            logger.debug(
                "forbidden",
                extra=fields(user=user.name, verb=info.verb, path=request.path, reason=decision.reason),
            )
            return status_response(status.forbidden(info, user.name, decision.reason))
        request[USER] = user
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.Response(status=404, text="404 page not found\n")
        except web.HTTPMethodNotAllowed:
            return status_response(status.method_not_allowed())
