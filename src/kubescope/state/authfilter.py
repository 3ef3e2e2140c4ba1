"""``--auth-filter``: Kubernetes authentication and authorization on ``/metrics``, as KSM does.

Every scrape presents a bearer token; a ``TokenReview`` resolves it to a user and a
``SubjectAccessReview`` asks whether that user may ``get`` the non-resource URL ``/metrics``. Both
answers are cached briefly (``kubescope.apiserver``'s delegated authn/authz, shared with
resource-metrics), so a Prometheus scraping every 15 s costs one review pair per cache period.
"""

from __future__ import annotations

import logging

from aiohttp import web

from kubescope.apiserver.authn import AuthenticationError, TokenReviewer
from kubescope.apiserver.authz import AuthorizationError, Authorizer
from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.kube.client import KubeClient
from kubescope.log import fields

logger = logging.getLogger(__name__)


class MetricsAuthFilter:
    """An authorizer for :func:`kubescope.web.authorizer_middleware`: returns 200, 401 or 403."""

    def __init__(self, client: KubeClient, cache_ttl: float = 10.0) -> None:
        async def post(path: str, body: bytes) -> bytes:
            return await client.request("POST", path, body=body)

        self.tokens = TokenReviewer(post, cache_ttl=cache_ttl)
        self.authz = Authorizer(
            post,
            always_allow_paths=(),
            always_allow_groups=(),
            authorized_ttl=cache_ttl,
            unauthorized_ttl=cache_ttl,
        )

    async def __call__(self, request: web.Request) -> int:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return 401
        try:
            user = await self.tokens.review(header[7:].strip())
        except AuthenticationError:
            return 401
        try:
            decision = await self.authz.authorize(user, RequestInfo(path=request.path, verb="get"))
        except AuthorizationError as e:
            logger.warning("authorization check failed", extra=fields(error=str(e)))
            return 403
        return 200 if decision.allowed else 403
