"""The aggregated-API server parts custom-metrics needs on the web core: k8s.io/apiserver's serving,
authentication and authorization flags, the delegated authentication configuration, and the request
pipeline (front proxy, client certificates, TokenReview, SubjectAccessReview, Status bodies).

Flag names, defaults and meaning are k8s.io/apiserver's (the set ``kubescope resource-metrics``
also takes): ``--secure-port`` (443), ``--bind-address``, ``--cert-dir`` (a self-signed certificate
when no ``--tls-cert-file``), ``--tls-*``, ``--client-ca-file``, ``--requestheader-*`` (read from
``kube-system/extension-apiserver-authentication`` when not given, re-read every minute),
``--authentication-kubeconfig``/``--authorization-kubeconfig``, the webhook cache TTLs,
``--authorization-always-allow-paths``, ``--max-requests-inflight``, ``--shutdown-delay-duration``,
and ``--anonymous-auth``: the flags and options are :mod:`kubescope.apiserver.options`' (shared by
every aggregated API server). The delegated-authentication wiring below duplicates
:class:`kubescope.apiserver.delegation.DelegatedAuth` (and :class:`kubescope.apiserver.server.AggregatedAPI`
puts it together with the listener); it goes once custom-metrics uses that.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec

from kubescope.apiserver import options as apiserver_options
from kubescope.apiserver.authn import (
    AuthConfig,
    Authenticator,
    RequestHeaderConfig,
    TokenReviewer,
    config_from_configmap,
    load_pem_certificates,
)
from kubescope.apiserver.authz import Authorizer
from kubescope.apiserver.pipeline import Pipeline, RequestObserver
from kubescope.errors import ConfigError, KubeError, NotFoundError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.log import fields

logger = logging.getLogger(__name__)

AUTH_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
REFRESH_SECONDS = 60.0


# the generic apiserver's flags and options are shared by every aggregated API server
ServingSettings = apiserver_options.ServingOptions
AuthSettings = apiserver_options.AuthOptions


def configure(parser: argparse.ArgumentParser) -> None:
    apiserver_options.add_flags(parser, secure_port=443, cert_dir="apiserver.local.config/certificates")


def from_args(args: argparse.Namespace) -> tuple[ServingSettings, AuthSettings]:
    options = apiserver_options.from_args(args)
    return options.serving, options.auth


def _read(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f"{flag}={path}: cannot read: {e}") from e


class _ConfigMap(msgspec.Struct):
    data: dict[str, str] = msgspec.field(default_factory=dict)


def _poster(client: KubeClient) -> Callable[[str, bytes], Awaitable[bytes]]:
    async def post(path: str, body: bytes) -> bytes:
        return await client.request("POST", path, body=body)

    return post


class DelegatedAuth:
    """Authentication and authorization delegated to the cluster, and the pipeline that uses them."""

    def __init__(self, settings: AuthSettings, client: KubeClient) -> None:
        self.settings = settings
        self.client = client
        self.authn_client = client
        self.authz_client = client
        self.authenticator = Authenticator(anonymous=settings.anonymous)
        self.authorizer = Authorizer(
            post=None,
            always_allow_paths=settings.always_allow_paths,
            authorized_ttl=settings.authorized_ttl,
            unauthorized_ttl=settings.unauthorized_ttl,
        )
        self._configmap: dict[str, str] | None = None
        self.on_ca_change: Callable[[str], None] = lambda pem: None

    async def start(self) -> None:
        """Connect the review clients and load the trust configuration (fails start-up when it must)."""
        s = self.settings
        if s.authentication_kubeconfig:
            self.authn_client = await KubeClient.connect(KubeSettings(kubeconfig=s.authentication_kubeconfig))
        if s.authorization_kubeconfig:
            self.authz_client = await KubeClient.connect(KubeSettings(kubeconfig=s.authorization_kubeconfig))
        self.authenticator.tokens = TokenReviewer(_poster(self.authn_client), cache_ttl=s.token_cache_ttl)
        self.authorizer.post = _poster(self.authz_client)
        self.authenticator.config = await self._load(initial=True)

    async def close(self) -> None:
        for c in {id(c): c for c in (self.authn_client, self.authz_client)}.values():
            if c is not self.client:
                await c.close()

    def pipeline(self, observe: RequestObserver | None, max_inflight: int) -> Pipeline:
        return Pipeline(self.authenticator, self.authorizer, observe=observe, max_inflight=max_inflight)

    async def _load(self, *, initial: bool) -> AuthConfig:
        s = self.settings
        client_ca_pem = _read(s.client_ca_file, "--client-ca-file") if s.client_ca_file else ""
        rh: RequestHeaderConfig | None = None
        if s.requestheader_client_ca_file:
            pem = _read(s.requestheader_client_ca_file, "--requestheader-client-ca-file")
            rh = RequestHeaderConfig(
                ca=tuple(load_pem_certificates(pem, "--requestheader-client-ca-file")),
                ca_pem=pem,
                allowed_names=s.requestheader_allowed_names,
                username_headers=s.requestheader_username_headers,
                uid_headers=s.requestheader_uid_headers,
                group_headers=s.requestheader_group_headers,
                extra_prefixes=s.requestheader_extra_headers_prefix,
            )
        if s.needs_lookup:
            try:
                raw = await self.authn_client.get(AUTH_CONFIGMAP)
                data = msgspec.json.decode(raw, type=_ConfigMap).data
                self._configmap = data
                cm_ca, cm_rh = config_from_configmap(data)
                client_ca_pem = client_ca_pem or cm_ca
                rh = rh or cm_rh
            except (KubeError, msgspec.DecodeError, ConfigError) as e:
                what = "configmap kube-system/extension-apiserver-authentication"
                hint = (
                    " (not found: is this an API server with front-proxy authentication?)"
                    if isinstance(e, NotFoundError)
                    else ""
                )
                if not initial:
                    raise
                if not s.tolerate_lookup_failure:
                    raise ConfigError(
                        f"unable to load {what}{hint}: {e}; grant the extension-apiserver-authentication-reader "
                        "role, pass --requestheader-client-ca-file/--client-ca-file, or "
                        "--authentication-tolerate-lookup-failure / --authentication-skip-lookup"
                    ) from e
                logger.warning("error looking up in-cluster authentication configuration; continuing without it",
                               extra=fields(error=str(e)))  # fmt: skip
        client_ca = (
            tuple(load_pem_certificates(client_ca_pem, "client-ca-file")) if client_ca_pem.strip() else ()
        )
        return AuthConfig(client_ca=client_ca, client_ca_pem=client_ca_pem, requestheader=rh)

    async def refresh_loop(self) -> None:
        """Re-read the authentication ConfigMap every minute; new CAs apply from the next handshake
        (run only when the configuration comes from the ConfigMap)."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            before = self._configmap
            try:
                cfg = await self._load(initial=False)
            except (KubeError, msgspec.DecodeError, ConfigError) as e:
                logger.warning("cannot refresh the authentication configuration", extra=fields(error=str(e)))
                continue
            if self._configmap != before:
                self.authenticator.config = cfg
                self.on_ca_change(cfg.all_ca_pem)
                logger.info("authentication configuration changed and was reloaded")

    def counters(self) -> dict[str, int]:
        out: dict[str, int] = {}
        t = self.authenticator.tokens
        if t is not None:
            out["tokenreview:sent"] = t.requests
            out["tokenreview:cached"] = t.cache_hits
        out["subjectaccessreview:sent"] = self.authorizer.requests
        out["subjectaccessreview:cached"] = self.authorizer.cache_hits
        return out
