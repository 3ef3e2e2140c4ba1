"""The flags every aggregated API server shares: k8s.io/apiserver's secure serving, delegated
authentication and delegated authorization options, with their names, defaults and checks.

``add_flags(parser)`` adds the three groups; ``from_args(args)`` builds :class:`APIServerOptions`
(every invalid value is a :class:`~kubescope.errors.ConfigError` naming the flag). A server
chooses only its defaults where the originals differ (metrics-server serves on 443 with
``apiserver.local.config/certificates``; prometheus-adapter on 6443).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from kubescope.errors import ConfigError
from kubescope.web import flags
from kubescope.web.tls import TLSOptions


@dataclass(frozen=True)
class ServingOptions:
    """How the API is served (kube-apiserver's secure-serving flags)."""

    bind_address: str = "0.0.0.0"
    """``--bind-address``: listening address; default ``0.0.0.0``."""
    secure_port: int = 443
    """``--secure-port``: HTTPS port (default per server: metrics-server's 443)."""
    tls: TLSOptions = field(
        default_factory=lambda: TLSOptions(cert_dir="apiserver.local.config/certificates")
    )
    """``--tls-cert-file``/``--tls-private-key-file``, or self-signed into ``--cert-dir``;
    ``--tls-min-version``, ``--tls-cipher-suites`` (client CAs come from authentication)."""
    max_requests_inflight: int = 400
    """``--max-requests-inflight``: requests served at once; beyond it, 429 with ``Retry-After``;
    default 400, kube-apiserver's; 0: no limit. Bounds memory under a flood of clients."""
    shutdown_delay: float = 0.0
    """``--shutdown-delay-duration``: seconds to keep serving (``/readyz`` failing) after SIGTERM,
    so load balancers and the aggregator stop sending first; default 0."""

    @property
    def cert_dir(self) -> str:
        return self.tls.cert_dir


@dataclass(frozen=True)
class AuthOptions:
    """Delegated authentication and authorization, as every aggregated API server does them
    (k8s.io/apiserver's flags and defaults)."""

    authentication_kubeconfig: str = ""
    """``--authentication-kubeconfig``: where TokenReviews are sent and the request-header CA is
    looked up; default empty, the in-cluster or main kubeconfig connection."""
    authorization_kubeconfig: str = ""
    """``--authorization-kubeconfig``: where SubjectAccessReviews are sent; default empty, as above."""
    skip_lookup: bool = False
    """``--authentication-skip-lookup``: do not read the client and request-header CAs from the
    ``extension-apiserver-authentication`` ConfigMap; default off (read them)."""
    tolerate_lookup_failure: bool = False
    """``--authentication-tolerate-lookup-failure``: start even when that ConfigMap cannot be read;
    default off, so a misconfigured server fails visibly rather than refusing every client."""
    token_cache_ttl: float = 10.0
    """``--authentication-token-webhook-cache-ttl``: seconds a TokenReview answer is reused;
    default 10, k8s.io/apiserver's."""
    client_ca_file: str = ""
    """``--client-ca-file``: CA for client certificates (their CN is the user, O the groups);
    default empty, taken from the ConfigMap unless ``skip_lookup``."""
    requestheader_client_ca_file: str = ""
    """``--requestheader-client-ca-file``: CA of the front proxy (the aggregator) whose requests
    carry the user in headers; default empty, taken from the ConfigMap."""
    requestheader_allowed_names: tuple[str, ...] = ()
    """``--requestheader-allowed-names``: front-proxy certificate CNs allowed; default empty: any CN
    signed by that CA."""
    requestheader_username_headers: tuple[str, ...] = ("x-remote-user",)
    """``--requestheader-username-headers``: headers holding the user name; default ``X-Remote-User``."""
    requestheader_group_headers: tuple[str, ...] = ("x-remote-group",)
    """``--requestheader-group-headers``: headers holding groups; default ``X-Remote-Group``."""
    requestheader_extra_headers_prefix: tuple[str, ...] = ("x-remote-extra-",)
    """``--requestheader-extra-headers-prefix``: prefixes of extra-attribute headers; default
    ``X-Remote-Extra-``."""
    requestheader_uid_headers: tuple[str, ...] = ()
    """``--requestheader-uid-headers``: headers holding the user's UID; default none."""
    always_allow_paths: tuple[str, ...] = ("/healthz", "/readyz", "/livez")
    """``--authorization-always-allow-paths``: paths served without authorization (probes);
    default the three health paths."""
    authorized_ttl: float = 10.0
    """``--authorization-webhook-cache-authorized-ttl``: seconds an allow is reused; default 10."""
    unauthorized_ttl: float = 10.0
    """``--authorization-webhook-cache-unauthorized-ttl``: seconds a deny is reused; default 10."""
    anonymous: bool = True
    """``--anonymous-auth``: requests without credentials are ``system:anonymous`` (then authorized
    like anyone); default on, as kube-apiserver; off answers them 401."""

    @property
    def needs_lookup(self) -> bool:
        """Whether the ``extension-apiserver-authentication`` ConfigMap is read (and followed)."""
        return not self.skip_lookup and not (self.client_ca_file and self.requestheader_client_ca_file)


@dataclass(frozen=True)
class APIServerOptions:
    serving: ServingOptions = field(default_factory=ServingOptions)
    auth: AuthOptions = field(default_factory=AuthOptions)


def add_flags(
    parser: argparse.ArgumentParser,
    *,
    secure_port: int = 443,
    cert_dir: str = "apiserver.local.config/certificates",
) -> None:
    """k8s.io/apiserver's secure-serving, authentication and authorization flags."""
    ss = parser.add_argument_group("apiserver secure serving")
    flags.add_listen_flags(
        ss,
        host_flag="--bind-address",
        port_flag="--secure-port",
        host="0.0.0.0",
        port=secure_port,
        what="the API",
        host_help="The IP address on which to listen for the --secure-port port.",
        port_help="The port on which to serve HTTPS with authentication and authorization.",
    )
    flags.add_tls_flags(ss, cert_dir=cert_dir, client_ca=False)
    ss.add_argument(
        "--max-requests-inflight", type=int, default=400,
        help="The maximum number of requests in flight at a given time; beyond it, 429 (0: no limit).",
    )  # fmt: skip
    ss.add_argument(
        "--shutdown-delay-duration", default="0s",
        help="Time to delay the termination: /readyz fails at once, requests are served until the delay "
        "elapses.",
    )  # fmt: skip

    an = parser.add_argument_group("apiserver authentication")
    an.add_argument(
        "--authentication-kubeconfig", default="",
        help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
        "tokenreviews.authentication.k8s.io (default: the --kubeconfig connection)",
    )  # fmt: skip
    flags.add_bool_flag(
        an, "--authentication-skip-lookup",
        help="If false, the authentication-kubeconfig will be used to lookup missing authentication "
        "configuration from the cluster.",
    )  # fmt: skip
    flags.add_bool_flag(
        an, "--authentication-tolerate-lookup-failure",
        help="If true, failures to look up missing authentication configuration from the cluster are not "
        "considered fatal.",
    )  # fmt: skip
    an.add_argument(
        "--authentication-token-webhook-cache-ttl", default="10s",
        help="The duration to cache responses from the webhook token authenticator.",
    )  # fmt: skip
    an.add_argument(
        "--client-ca-file", default="",
        help="If set, any request presenting a client certificate signed by one of the authorities in the "
        "client-ca-file is authenticated with an identity corresponding to the CommonName of the client "
        "certificate.",
    )  # fmt: skip
    an.add_argument(
        "--requestheader-client-ca-file", default="",
        help="Root certificate bundle to use to verify client certificates on incoming requests before "
        "trusting usernames in headers specified by --requestheader-username-headers.",
    )  # fmt: skip
    an.add_argument(
        "--requestheader-allowed-names", default="",
        help="List of client certificate common names to allow to provide usernames in headers specified by "
        "--requestheader-username-headers. If empty, any client certificate validated by the authorities in "
        "--requestheader-client-ca-file is allowed.",
    )  # fmt: skip
    for flag, default, what in (
        ("--requestheader-username-headers", "x-remote-user", "usernames"),
        ("--requestheader-group-headers", "x-remote-group", "groups"),
        ("--requestheader-extra-headers-prefix", "x-remote-extra-", "extra (prefixes)"),
        ("--requestheader-uid-headers", "", "UIDs (X-Remote-Uid is suggested)"),
    ):
        an.add_argument(flag, default=default, help=f"List of request headers to inspect for {what}.")
    flags.add_bool_flag(
        an, "--anonymous-auth", default=True,
        help="Treat requests without credentials as system:anonymous (then authorized like any user); "
        "false answers them 401.",
    )  # fmt: skip

    az = parser.add_argument_group("apiserver authorization")
    az.add_argument(
        "--authorization-kubeconfig", default="",
        help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
        "subjectaccessreviews.authorization.k8s.io (default: the --kubeconfig connection)",
    )  # fmt: skip
    az.add_argument(
        "--authorization-always-allow-paths", default="/healthz,/readyz,/livez",
        help="A list of HTTP paths to skip during authorization.",
    )  # fmt: skip
    az.add_argument(
        "--authorization-webhook-cache-authorized-ttl", default="10s",
        help="The duration to cache 'authorized' responses from the webhook authorizer.",
    )  # fmt: skip
    az.add_argument(
        "--authorization-webhook-cache-unauthorized-ttl", default="10s",
        help="The duration to cache 'unauthorized' responses from the webhook authorizer.",
    )  # fmt: skip


def from_args(args: argparse.Namespace, *, pair_name: str = "apiserver") -> APIServerOptions:
    """Build and validate the options; errors name the flags (several at once)."""
    errors: list[str] = []

    def duration(value: str, flag: str) -> float:
        try:
            return flags.seconds(value, flag)
        except ConfigError as e:
            errors.append(str(e))
            return 0.0

    tls = TLSOptions(
        cert_file=args.tls_cert_file,
        key_file=args.tls_private_key_file,
        cert_dir=args.cert_dir,
        min_version=args.tls_min_version,
        cipher_suites=flags.split(args.tls_cipher_suites),
        pair_name=pair_name,
    )
    try:
        tls.validate()
    except ConfigError as e:
        errors.append(str(e))
    serving = ServingOptions(
        bind_address=args.bind_address,
        secure_port=args.secure_port,
        tls=tls,
        max_requests_inflight=args.max_requests_inflight,
        shutdown_delay=duration(args.shutdown_delay_duration, "--shutdown-delay-duration"),
    )
    if args.max_requests_inflight < 0:
        errors.append("--max-requests-inflight must be 0 (no limit) or positive")
    auth = AuthOptions(
        authentication_kubeconfig=args.authentication_kubeconfig,
        authorization_kubeconfig=args.authorization_kubeconfig,
        skip_lookup=args.authentication_skip_lookup,
        tolerate_lookup_failure=args.authentication_tolerate_lookup_failure,
        token_cache_ttl=duration(
            args.authentication_token_webhook_cache_ttl, "--authentication-token-webhook-cache-ttl"
        ),
        client_ca_file=args.client_ca_file,
        requestheader_client_ca_file=args.requestheader_client_ca_file,
        requestheader_allowed_names=flags.split(args.requestheader_allowed_names),
        requestheader_username_headers=_headers(args.requestheader_username_headers),
        requestheader_group_headers=_headers(args.requestheader_group_headers),
        requestheader_extra_headers_prefix=_headers(args.requestheader_extra_headers_prefix),
        requestheader_uid_headers=_headers(args.requestheader_uid_headers),
        always_allow_paths=flags.split(args.authorization_always_allow_paths),
        authorized_ttl=duration(
            args.authorization_webhook_cache_authorized_ttl, "--authorization-webhook-cache-authorized-ttl"
        ),
        unauthorized_ttl=duration(
            args.authorization_webhook_cache_unauthorized_ttl,
            "--authorization-webhook-cache-unauthorized-ttl",
        ),
        anonymous=args.anonymous_auth,
    )
    if errors:
        raise ConfigError("; ".join(errors))
    return APIServerOptions(serving, auth)


def _headers(value: str) -> tuple[str, ...]:
    return tuple(h.lower() for h in flags.split(value))
