"""The aggregated-API server parts custom-metrics needs on the web core: k8s.io/apiserver's serving,
authentication and authorization flags, the delegated authentication configuration, and the request
pipeline (front proxy, client certificates, TokenReview, SubjectAccessReview, Status bodies).

Flag names, defaults and meaning are k8s.io/apiserver's (the set ``kubescope resource-metrics``
also takes): ``--secure-port`` (443), ``--bind-address``, ``--cert-dir`` (a self-signed certificate
when no ``--tls-cert-file``), ``--tls-*``, ``--client-ca-file``, ``--requestheader-*`` (read from
``kube-system/extension-apiserver-authentication`` when not given, re-read every minute),
``--authentication-kubeconfig``/``--authorization-kubeconfig``, the webhook cache TTLs,
``--authorization-always-allow-paths``, ``--max-requests-inflight``, ``--shutdown-delay-duration``,
and ``--anonymous-auth``. The building blocks are :mod:`kubescope.apiserver`'s; this module is only
their wiring (it belongs in that package once the aggregated-API layer moves onto the web core).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

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
from kubescope.custom_metrics.settings import go_duration
from kubescope.custom_metrics.settings import parse_bool as _bool
from kubescope.errors import ConfigError, KubeError, NotFoundError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.log import fields
from kubescope.web import TLSOptions

logger = logging.getLogger(__name__)

AUTH_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class ServingSettings:
    bind_address: str = "0.0.0.0"
    secure_port: int = 443
    tls: TLSOptions = field(
        default_factory=lambda: TLSOptions(cert_dir="apiserver.local.config/certificates")
    )
    max_requests_inflight: int = 400
    shutdown_delay: float = 0.0


@dataclass(frozen=True)
class AuthSettings:
    authentication_kubeconfig: str = ""
    authorization_kubeconfig: str = ""
    skip_lookup: bool = False
    tolerate_lookup_failure: bool = False
    token_cache_ttl: float = 10.0
    client_ca_file: str = ""
    requestheader_client_ca_file: str = ""
    requestheader_allowed_names: tuple[str, ...] = ()
    requestheader_username_headers: tuple[str, ...] = ("x-remote-user",)
    requestheader_group_headers: tuple[str, ...] = ("x-remote-group",)
    requestheader_extra_headers_prefix: tuple[str, ...] = ("x-remote-extra-",)
    requestheader_uid_headers: tuple[str, ...] = ()
    always_allow_paths: tuple[str, ...] = ("/healthz", "/readyz", "/livez")
    authorized_ttl: float = 10.0
    unauthorized_ttl: float = 10.0
    anonymous: bool = True

    @property
    def needs_lookup(self) -> bool:
        return not self.skip_lookup and not (self.client_ca_file and self.requestheader_client_ca_file)


def _list(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


def configure(parser: argparse.ArgumentParser) -> None:
    ss = parser.add_argument_group("apiserver secure serving")
    ss.add_argument(
        "--bind-address",
        default="0.0.0.0",
        help="The IP address on which to listen for the --secure-port port (default: %(default)s)",
    )
    ss.add_argument(
        "--secure-port",
        type=int,
        default=443,
        help="The port on which to serve HTTPS with authentication and authorization (default: %(default)s)",
    )
    ss.add_argument("--cert-dir", default="apiserver.local.config/certificates",
                    help="The directory where the TLS certs are located. If --tls-cert-file and --tls-private-key-file "
                    "are provided, this flag will be ignored. (default: %(default)s)")  # fmt: skip
    ss.add_argument(
        "--tls-cert-file", default="", help="File containing the default x509 Certificate for HTTPS."
    )
    ss.add_argument(
        "--tls-private-key-file",
        default="",
        help="File containing the default x509 private key matching --tls-cert-file.",
    )
    ss.add_argument("--tls-min-version", default="VersionTLS12",
                    help="Minimum TLS version supported: VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13")  # fmt: skip
    ss.add_argument(
        "--tls-cipher-suites", default="", help="Comma-separated list of cipher suites (Go names) for TLS 1.2"
    )
    ss.add_argument("--max-requests-inflight", type=int, default=400,
                    help="The maximum number of requests in flight at a given time; beyond it, 429 (0: no limit)")  # fmt: skip
    ss.add_argument("--shutdown-delay-duration", default="0s",
                    help="Time to delay the termination: /readyz fails at once, requests are served until the delay elapses")  # fmt: skip

    an = parser.add_argument_group("apiserver authentication")
    an.add_argument("--authentication-kubeconfig", default="",
                    help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
                    "tokenreviews.authentication.k8s.io (default: the --kubeconfig connection)")  # fmt: skip
    for flag, text in (
        ("--authentication-skip-lookup", "If false, the authentication-kubeconfig will be used to lookup missing authentication configuration from the cluster."),
        ("--authentication-tolerate-lookup-failure", "If true, failures to look up missing authentication configuration from the cluster are not considered fatal."),
    ):  # fmt: skip
        an.add_argument(flag, nargs="?", const=True, default=False, type=_bool, metavar="BOOL", help=text)
    an.add_argument(
        "--authentication-token-webhook-cache-ttl",
        default="10s",
        help="The duration to cache responses from the webhook token authenticator.",
    )
    an.add_argument("--client-ca-file", default="",
                    help="If set, any request presenting a client certificate signed by one of the authorities in the "
                    "client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.")  # fmt: skip
    an.add_argument("--requestheader-client-ca-file", default="",
                    help="Root certificate bundle to use to verify client certificates on incoming requests before "
                    "trusting usernames in headers specified by --requestheader-username-headers.")  # fmt: skip
    an.add_argument("--requestheader-allowed-names", default="",
                    help="List of client certificate common names to allow to provide usernames in headers specified by "
                    "--requestheader-username-headers. If empty, any client certificate validated by the authorities in "
                    "--requestheader-client-ca-file is allowed.")  # fmt: skip
    for flag, default, what in (
        ("--requestheader-username-headers", "x-remote-user", "usernames"),
        ("--requestheader-group-headers", "x-remote-group", "groups"),
        ("--requestheader-extra-headers-prefix", "x-remote-extra-", "extra (prefixes)"),
        ("--requestheader-uid-headers", "", "UIDs (X-Remote-Uid is suggested)"),
    ):
        an.add_argument(flag, default=default, help=f"List of request headers to inspect for {what}.")
    an.add_argument("--anonymous-auth", nargs="?", const=True, default=True, type=_bool, metavar="BOOL",
                    help="Treat requests without credentials as system:anonymous (then authorized like any user); "
                    "false answers them 401 (default: %(default)s)")  # fmt: skip

    az = parser.add_argument_group("apiserver authorization")
    az.add_argument("--authorization-kubeconfig", default="",
                    help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
                    "subjectaccessreviews.authorization.k8s.io (default: the --kubeconfig connection)")  # fmt: skip
    az.add_argument("--authorization-always-allow-paths", default="/healthz,/readyz,/livez",
                    help="A list of HTTP paths to skip during authorization (default: %(default)s)")  # fmt: skip
    az.add_argument(
        "--authorization-webhook-cache-authorized-ttl",
        default="10s",
        help="The duration to cache 'authorized' responses from the webhook authorizer.",
    )
    az.add_argument(
        "--authorization-webhook-cache-unauthorized-ttl",
        default="10s",
        help="The duration to cache 'unauthorized' responses from the webhook authorizer.",
    )


def from_args(args: argparse.Namespace) -> tuple[ServingSettings, AuthSettings]:
    if not 0 <= args.secure_port <= 65535:
        raise ConfigError(f"--secure-port={args.secure_port}: must be between 0 and 65535")
    tls = TLSOptions(
        cert_file=args.tls_cert_file,
        key_file=args.tls_private_key_file,
        cert_dir=args.cert_dir,
        min_version=args.tls_min_version,
        cipher_suites=_list(args.tls_cipher_suites),
    )
    tls.validate()
    serving = ServingSettings(
        bind_address=args.bind_address,
        secure_port=args.secure_port,
        tls=tls,
        max_requests_inflight=args.max_requests_inflight,
        shutdown_delay=go_duration(args.shutdown_delay_duration, "--shutdown-delay-duration"),
    )

    def headers(v: str) -> tuple[str, ...]:
        return tuple(h.lower() for h in _list(v))

    auth = AuthSettings(
        authentication_kubeconfig=args.authentication_kubeconfig,
        authorization_kubeconfig=args.authorization_kubeconfig,
        skip_lookup=args.authentication_skip_lookup,
        tolerate_lookup_failure=args.authentication_tolerate_lookup_failure,
        token_cache_ttl=go_duration(args.authentication_token_webhook_cache_ttl, "--authentication-token-webhook-cache-ttl"),
        client_ca_file=args.client_ca_file,
        requestheader_client_ca_file=args.requestheader_client_ca_file,
        requestheader_allowed_names=_list(args.requestheader_allowed_names),
        requestheader_username_headers=headers(args.requestheader_username_headers),
        requestheader_group_headers=headers(args.requestheader_group_headers),
        requestheader_extra_headers_prefix=headers(args.requestheader_extra_headers_prefix),
        requestheader_uid_headers=headers(args.requestheader_uid_headers),
        always_allow_paths=_list(args.authorization_always_allow_paths),
        authorized_ttl=go_duration(args.authorization_webhook_cache_authorized_ttl, "--authorization-webhook-cache-authorized-ttl"),
        unauthorized_ttl=go_duration(args.authorization_webhook_cache_unauthorized_ttl, "--authorization-webhook-cache-unauthorized-ttl"),
        anonymous=args.anonymous_auth,
    )  # fmt: skip
    return serving, auth


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
