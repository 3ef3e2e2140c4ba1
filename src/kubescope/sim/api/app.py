"""The simulator's HTTP API: kube-apiserver's REST surface over :class:`ObjectStore`, routed per verb.

One request goes one way: health paths answer at once; the caller is authenticated (bearer token
or client certificate, else 401); ``/_sim/`` control endpoints go to :mod:`.control`; the path is
parsed once into a :class:`~kubescope.apiserver.requestinfo.RequestInfo` (verb, group, version,
namespace, resource, name, subresource), which authorization reads (403) and which routes the
request: non-resource paths to discovery and OpenAPI (:mod:`.discovering`), an aggregated
group-version to its APIService backend, a served resource to the handler of its verb
(:mod:`.reading`, :mod:`.watching`, :mod:`.writing`) or of its subresource (:mod:`.subresources`,
:mod:`.reviews`). Errors anywhere become ``Status`` objects with kube-apiserver's codes, reasons and
messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
import yaml
from aiohttp import web

from kubescope.apiserver import status as st
from kubescope.apiserver.negotiation import PLAIN, negotiate
from kubescope.apiserver.requestinfo import RequestInfo, request_info
from kubescope.apiserver.selectors import SelectorError
from kubescope.errors import ConfigError
from kubescope.log import fields as log_fields
from kubescope.sim.aggregation import Aggregator
from kubescope.sim.api import discovering, reading, responses, reviews, subresources, watching, writing
from kubescope.sim.api.context import ApiContext, ResourceRequest
from kubescope.sim.api.control import ControlRoutes
from kubescope.sim.api.crds import CRDServing
from kubescope.sim.auth import ANONYMOUS_USER, MASTERS, PUBLIC_PATHS, AuthConfig, User
from kubescope.sim.defaults import ClusterIPs
from kubescope.sim.errors import BadRequest, SimError
from kubescope.sim.faults import Faults
from kubescope.sim.features import FeatureCollector
from kubescope.sim.pki import ClusterPKI
from kubescope.sim.resources import BUILTIN
from kubescope.sim.store import ObjectStore
from kubescope.web.selfmetrics import SelfMetrics

logger = logging.getLogger(__name__)

Handler = Callable[[ApiContext, ResourceRequest], Awaitable[web.StreamResponse]]

VERBS: dict[str, Handler] = {
    "get": reading.get,
    "list": reading.list_collection,
    "watch": watching.watch,
    "create": writing.create,
    "update": writing.update,
    "patch": writing.patch,
    "delete": writing.delete,
    "deletecollection": writing.delete_collection,
}
READS = frozenset({"get", "list", "watch"})
BUILTIN_GROUPS = frozenset(t.group for t in BUILTIN if t.group)


class SimAPI:
    def __init__(
        self,
        store: ObjectStore,
        auth: AuthConfig,
        faults: Faults,
        pki: ClusterPKI | None,
        *,
        bookmark_interval: float = 60.0,
        require_auth: bool = True,
        server_address: str = "127.0.0.1:6443",
        feature_gates: Mapping[str, bool] | None = None,
        metrics: SelfMetrics | None = None,
    ) -> None:
        self.ctx = ApiContext(
            store=store,
            auth=auth,
            faults=faults,
            pki=pki,
            aggregator=Aggregator(store, pki, auth.admin_token),
            cluster_ips=ClusterIPs(
                lambda: (
                    str((o.get("spec") or {}).get("clusterIP", "")) for o in store.iter_objects("services")
                )
            ),
            bookmark_interval=bookmark_interval,
            require_auth=require_auth and pki is not None,
            server_address=server_address,
            feature_gates=dict(feature_gates or {}),
            metrics=metrics or _own_metrics(feature_gates or {}),
        )
        self.control = ControlRoutes(self.ctx)
        self.crds = CRDServing(store)

    @property
    def aggregator(self) -> Aggregator:
        return self.ctx.aggregator

    @property
    def server_address(self) -> str:
        return self.ctx.server_address

    @server_address.setter
    def server_address(self, value: str) -> None:
        self.ctx.server_address = value

    def add_control(
        self,
        name: str,
        fn: Callable[[], Awaitable[Any]],
        post: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        """Expose ``GET /_sim/<name>`` (admin only), and ``POST`` with ``post``: see :mod:`.control`."""
        self.control.add(name, fn, post)

    async def close(self) -> None:
        """Close the aggregation layer's client (at shutdown)."""
        await self.ctx.aggregator.close()

    # -- one request ----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.ctx.counters.requests += 1
        try:
            return await self._serve(request)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # the Status in the form the resource request negotiated (protobuf for built-in kinds)
            media = request.get(responses.MEDIA, PLAIN)
            return responses.error(self._status_error(request, e), media, self.ctx.faults.retry_after)

    def _status_error(self, request: web.Request, e: Exception) -> SimError:
        if isinstance(e, SimError):
            return e
        if isinstance(e, (SelectorError, ConfigError)):
            return BadRequest(str(e))
        if isinstance(e, (ValueError, msgspec.DecodeError, yaml.YAMLError)):
            return BadRequest(f"the request could not be decoded: {e}")
        # a bug must not take the server down or leave the client with a bare 500
        self.ctx.counters.internal_errors += 1
        logger.exception(
            "request failed",
            extra=log_fields(method=request.method, path=request.path, error=repr(e)[:200]),
        )
        return SimError(f"Internal error occurred: {type(e).__name__}: {e}"[:500])

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        user = self._authenticate(request)
        if user is None:
            return responses.respond(*st.unauthorized())
        if path.startswith("/_sim/"):
            return await self.control.handle(request, user)
        if path in ("/version", "/version/"):
            return discovering.version(self.ctx, request)
        info = request_info(request.method, path, request.query)
        allowed, reason = self.ctx.auth.authorize(user, info)
        if not allowed:
            return responses.respond(*st.forbidden(info, user.name, reason))
        await self._inject_fault()
        if info.is_resource_request:
            return await self._resource(request, user, info)
        return await self._non_resource(request, user, info)

    async def _non_resource(self, request: web.Request, user: User, info: RequestInfo) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        ctx = self.ctx
        if parts in (["api"], ["apis"]):
            return discovering.root(ctx, request)
        if parts and parts[0] == "openapi":
            return discovering.openapi_doc(ctx, request)
        if parts == ["metrics"]:
            return discovering.metrics(ctx, request)
        if len(parts) == 2 and parts[0] == "api":
            return discovering.resource_list(ctx, "", parts[1])
        if len(parts) in (2, 3) and parts[0] == "apis":
            backend = ctx.aggregator.backend(parts[1], parts[2]) if len(parts) == 3 else None
            if backend is not None:
                return await ctx.aggregator.proxy(request, user, backend)
            if not self._serves_group(parts[1]):
                return responses.not_found_page()
            if len(parts) == 2:
                return discovering.group(ctx, parts[1])
            return discovering.resource_list(ctx, parts[1], parts[2])
        return responses.not_found_page()

    async def _resource(self, request: web.Request, user: User, info: RequestInfo) -> web.StreamResponse:
        ctx = self.ctx
        if info.api_prefix == "apis":
            backend = ctx.aggregator.backend(info.group, info.version)
            if backend is not None:
                return await ctx.aggregator.proxy(request, user, backend)
        t = ctx.store.registry.lookup(info.group, info.version, info.resource)
        if t is None:
            # kube-apiserver's own groups answer a path they do not serve with a 404 Status; under a
            # CustomResourceDefinition's group or no group at all, it is Go's plain-text 404
            if info.api_prefix == "apis" and info.group not in BUILTIN_GROUPS:
                return responses.not_found_page()
            return responses.respond(*st.path_not_found())
        media = negotiate(request.headers.get("Accept"), table=info.verb in READS, protobuf=True)
        request[responses.MEDIA] = media
        r = ResourceRequest(request, user, info, t, media)
        if t.create_only:
            return await reviews.review(ctx, r)
        if r.sub:
            if r.sub not in t.subresources:
                return responses.respond(*st.path_not_found())
            sub_handler = subresources.handler_for(t.key, r.sub)
            if sub_handler is not None:
                return await sub_handler(ctx, r)
        handler = VERBS.get(info.verb)
        if handler is None or (info.verb == "watch" and request.method != "GET"):
            raise writing.not_allowed()
        return await handler(ctx, r)

    def _serves_group(self, group: str) -> bool:
        """Whether anything answers under ``/apis/<group>`` (a served type or an APIService)."""
        return group in self.ctx.store.registry.groups() or any(
            g == group for g, _, _ in self.ctx.aggregator.services()
        )

    # -- the edges: who is asking, and faults on demand -------------------------------------

    def _authenticate(self, request: web.Request) -> User | None:
        if not self.ctx.require_auth:
            return User("kubescope-admin", (MASTERS, "system:authenticated"))
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return self.ctx.auth.authenticate_token(header[7:].strip())
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if peer:
            subject = dict(x[0] for x in peer.get("subject", ()))
            cn = subject.get("commonName", "")
            orgs = tuple(v for rdn in peer.get("subject", ()) for k, v in rdn if k == "organizationName")
            if cn:
                return User(cn, orgs).with_defaults()
        # without credentials only the public paths answer (kube-apiserver's anonymous user gets no
        # more than system:public-info-viewer); everything else is 401, not 403
        return ANONYMOUS_USER if request.path in PUBLIC_PATHS else None

    async def _inject_fault(self) -> None:
        f = self.ctx.faults
        if f.roll(f.delay_fraction) and f.delay_seconds > 0:
            await asyncio.sleep(f.delay_seconds)
        if f.roll(f.error_fraction):
            self.ctx.counters.errors_injected += 1
            if f.error_code == 429:
                raise _TooMany(
                    "Too many requests, please try again later.", {"retryAfterSeconds": f.retry_after}
                )
            raise _ServerError(f.error_code, "simulated failure (kubescope simulate fault injection)")


def _own_metrics(gates: Mapping[str, bool]) -> SelfMetrics:
    """Self metrics for an API served without the simulator's server (tests)."""
    metrics = SelfMetrics()
    metrics.register(FeatureCollector(gates))
    return metrics


class _TooMany(SimError):
    code, reason = 429, "TooManyRequests"


class _ServerError(SimError):
    reason = "InternalError"

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Internal error occurred: {message}")
        self.code = code
        if code != 500:
            self.reason = "ServiceUnavailable"
