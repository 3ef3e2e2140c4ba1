"""Delegated authentication and authorization, set up as every aggregated API server sets them up.

:class:`DelegatedAuth` owns:

1. the clients TokenReviews and SubjectAccessReviews go to (``--authentication-kubeconfig`` /
   ``--authorization-kubeconfig``, else the server's own connection);
2. the authentication configuration: ``--client-ca-file`` / ``--requestheader-*`` flags, or the
   ``kube-system/extension-apiserver-authentication`` ConfigMap (read at start-up, then every minute
   by the supervised ``auth-config-refresh`` task; new CAs are trusted from the next handshake);
3. the :class:`~kubescope.apiserver.authn.Authenticator` and
   :class:`~kubescope.apiserver.authz.Authorizer` the request pipeline uses, and their traffic
   counters (a self-metrics collector: ``<prefix>_delegated_auth_requests_total{kind,result}``).

A ConfigMap that cannot be read at start-up is a :class:`~kubescope.errors.ConfigError` naming
the fixes (grant the reader role, pass the CA flags, or tolerate/skip the lookup).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable

import msgspec
from prometheus_client.core import CounterMetricFamily, Metric

from kubescope.apiserver.authn import (
    AuthConfig,
    Authenticator,
    RequestHeaderConfig,
    TokenReviewer,
    config_from_configmap,
    load_pem_certificates,
)
from kubescope.apiserver.authz import Authorizer
from kubescope.apiserver.options import AuthOptions
from kubescope.errors import ConfigError, KubeError, NotFoundError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.log import fields
from kubescope.web import Task
from kubescope.web.tls import add_client_cas, read_text

logger = logging.getLogger(__name__)

AUTH_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
REFRESH_SECONDS = 60.0


class _ConfigMap(msgspec.Struct, gc=False):
    data: dict[str, str] = msgspec.field(default_factory=dict)


def _poster(client: KubeClient) -> Callable[[str, bytes], Awaitable[bytes]]:
    async def post(path: str, body: bytes) -> bytes:
        return await client.request("POST", path, body=body)

    return post


class DelegatedAuth:
    """See the module docstring. ``await load()`` before serving; ``close()`` at the end."""

    def __init__(
        self, options: AuthOptions, client: KubeClient | None, *, metric_prefix: str = "kubescope_apiserver"
    ) -> None:
        self.options = options
        self.client = client
        self.authn_client: KubeClient | None = client
        self.authz_client: KubeClient | None = client
        self.metric_prefix = metric_prefix
        self.authenticator = Authenticator(anonymous=options.anonymous)
        self.authorizer = Authorizer(
            post=None,
            always_allow_paths=options.always_allow_paths,
            authorized_ttl=options.authorized_ttl,
            unauthorized_ttl=options.unauthorized_ttl,
        )
        self.ssl_context: ssl.SSLContext | None = None
        """The serving context to add new client CAs to (set by the server once built)."""
        self.refresh_interval = REFRESH_SECONDS
        self._configmap: dict[str, str] | None = None

    async def load(self) -> AuthConfig:
        """Connect the review clients and read the authentication configuration (start-up)."""
        o = self.options
        if o.authentication_kubeconfig:
            self.authn_client = await KubeClient.connect(KubeSettings(kubeconfig=o.authentication_kubeconfig))
        if o.authorization_kubeconfig:
            self.authz_client = await KubeClient.connect(KubeSettings(kubeconfig=o.authorization_kubeconfig))
        # without a connection (a server that only serves a file) bearer tokens are not reviewed and
        # nothing is authorized beyond the always-allowed paths and groups
        if self.authn_client is not None:
            self.authenticator.tokens = TokenReviewer(_poster(self.authn_client), cache_ttl=o.token_cache_ttl)
        if self.authz_client is not None:
            self.authorizer.post = _poster(self.authz_client)
        self.authenticator.config = await self._read(initial=True)
        return self.authenticator.config

    def tasks(self) -> list[Task]:
        return [Task("auth-config-refresh", self._refresh)] if self.options.needs_lookup else []

    async def close(self) -> None:
        for c in {id(x): x for x in (self.authn_client, self.authz_client)}.values():
            if c is not None and c is not self.client:
                await c.close()

    # -- the configuration ---------------------------------------------------------------------

    async def _fetch_configmap(self) -> dict[str, str]:
        if self.authn_client is None:
            raise ConfigError("no connection to the Kubernetes API to read it from")
        raw = await self.authn_client.get(AUTH_CONFIGMAP)
        return msgspec.json.decode(raw, type=_ConfigMap).data

    async def _read(self, *, initial: bool) -> AuthConfig:
        o = self.options
        client_ca_pem = ""
        rh: RequestHeaderConfig | None = None
        if o.client_ca_file:
            client_ca_pem = read_text(o.client_ca_file, "--client-ca-file")
        if o.requestheader_client_ca_file:
            pem = read_text(o.requestheader_client_ca_file, "--requestheader-client-ca-file")
            rh = RequestHeaderConfig(
                ca=tuple(load_pem_certificates(pem, "--requestheader-client-ca-file")),
                ca_pem=pem,
                allowed_names=o.requestheader_allowed_names,
                username_headers=o.requestheader_username_headers,
                uid_headers=o.requestheader_uid_headers,
                group_headers=o.requestheader_group_headers,
                extra_prefixes=o.requestheader_extra_headers_prefix,
            )
        if o.needs_lookup:
            try:
                data = await self._fetch_configmap()
                self._configmap = data
                cm_client_ca, cm_rh = config_from_configmap(data)
                if not o.client_ca_file:
                    client_ca_pem = cm_client_ca
                if not o.requestheader_client_ca_file:
                    rh = cm_rh
            except (KubeError, msgspec.DecodeError, ConfigError) as e:
                if not initial:
                    raise
                what = "configmap kube-system/extension-apiserver-authentication"
                hint = (
                    " (not found: is this an API server with front-proxy authentication?)"
                    if isinstance(e, NotFoundError)
                    else ""
                )
                if not o.tolerate_lookup_failure:
                    raise ConfigError(
                        f"unable to load {what}{hint}: {e}; grant the "
                        "extension-apiserver-authentication-reader "
                        "role, pass --requestheader-client-ca-file/--client-ca-file, or "
                        "--authentication-tolerate-lookup-failure / --authentication-skip-lookup"
                    ) from e
                logger.warning(
                    "error looking up in-cluster authentication configuration; continuing without it",
                    extra=fields(error=str(e)),
                )
        client_ca = (
            tuple(load_pem_certificates(client_ca_pem, "client-ca-file")) if client_ca_pem.strip() else ()
        )
        return AuthConfig(client_ca=client_ca, client_ca_pem=client_ca_pem, requestheader=rh)

    async def _refresh(self) -> None:
        """Re-read the ConfigMap every minute; apply it when it changed (a supervised task)."""
        while True:
            await asyncio.sleep(self.refresh_interval)
            before = self._configmap
            try:
                cfg = await self._read(initial=False)
            except (KubeError, msgspec.DecodeError, ConfigError) as e:
                logger.warning("cannot refresh the authentication configuration", extra=fields(error=str(e)))
                continue
            if self._configmap != before:
                self.authenticator.config = cfg
                if self.ssl_context is not None:
                    add_client_cas(self.ssl_context, cfg.all_ca_pem)
                logger.info("authentication configuration changed and was reloaded")

    # -- self metrics ------------------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        out: dict[str, int] = {}
        t = self.authenticator.tokens
        if t is not None:
            out["tokenreview:sent"] = t.requests
            out["tokenreview:cached"] = t.cache_hits
        out["subjectaccessreview:sent"] = self.authorizer.requests
        out["subjectaccessreview:cached"] = self.authorizer.cache_hits
        return out

    def collect(self) -> Iterable[Metric]:
        fam = CounterMetricFamily(
            f"{self.metric_prefix}_delegated_auth_requests",
            "TokenReview and SubjectAccessReview requests sent, and answers served from cache.",
            labels=["kind", "result"],
        )
        for key, count in sorted(self.counters().items()):
            kind, _, result = key.partition(":")
            fam.add_metric([kind, result], count)
        return [fam]
