"""``kubescope resource-metrics`` settings: metrics-server's flags, parsed and validated once.

Flag names, defaults and validation are metrics-server's (``cmd/metrics-server/app/options``) and
k8s.io/apiserver's generic serving/authentication/authorization options, with these choices:

* ``--metric-resolution`` defaults to 15s, the value metrics-server's manifests and Helm chart pass
  (its code default is 60s). Below 10s is refused, as metrics-server refuses it, unless
  ``--testing-allow-short-metric-resolution`` is set: tests and demos may then use e.g. 2s (a warning
  is logged; kubelet stats only change every 10-15 s, so a shorter period adds load, not freshness).
* ours: ``--kubelet-request-via-apiserver`` (scrape through the API server's node proxy),
  ``--kubelet-max-concurrent-requests`` (metrics-server opens one goroutine per node at once),
  ``--kubelet-max-response-bytes`` (cap per response), ``--anonymous-auth`` (k8s.io/apiserver's
  delegated authentication admits anonymous requests; set false to answer 401 instead).

Every invalid value raises :class:`~kubescope.errors.ConfigError` naming the flag and the fix.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from kubescope.apiserver.selectors import LabelSelector, SelectorError, parse_label_selector
from kubescope.errors import ConfigError
from kubescope.kube.config import KubeSettings, add_kube_flags
from kubescope.model.gofmt import parse_go_duration

DEFAULT_ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")
_GO_CIPHERS = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}


def parse_duration(value: str, flag: str) -> float:
    """Go's ``time.ParseDuration`` (``15s``, ``1m30s``, ``500ms``; a bare ``0``) into seconds."""
    try:
        return parse_go_duration(value.strip()) / 1e9
    except ValueError:
        raise ConfigError(
            f'{flag}={value!r}: invalid duration; use a number with a unit, e.g. "15s", "1m30s"'
        ) from None


def split_list(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


@dataclass(frozen=True)
class KubeletSettings:
    """How kubelets are reached."""

    preferred_address_types: tuple[str, ...] = DEFAULT_ADDRESS_TYPES
    """``--kubelet-preferred-address-types``: the first node address of the first listed type wins;
    default ``Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP``, metrics-server's order."""
    port: int = 10250
    """``--kubelet-port``: TCP port of the kubelets' HTTPS endpoint; default 10250, the kubelet's."""
    use_node_status_port: bool = False
    """``--kubelet-use-node-status-port``: ``status.daemonEndpoints.kubeletEndpoint.Port`` when
    non-zero, for kubelets on other ports; default off, as metrics-server."""
    insecure_tls: bool = False
    """``--kubelet-insecure-tls``: do not verify kubelet serving certificates (self-signed kubelet
    certificates, test clusters); default off."""
    certificate_authority: str = ""
    """``--kubelet-certificate-authority``: CA file for kubelet serving certificates (default: the API
    server's CA from the kubeconfig / service account, as metrics-server does)."""
    client_certificate: str = ""
    """``--kubelet-client-certificate``: client certificate file for kubelets; default empty: the
    credentials of the kubeconfig / service account, as metrics-server does."""
    client_key: str = ""
    """``--kubelet-client-key``: the key of ``client_certificate``; default empty."""
    completely_insecure: bool = False
    """``--deprecated-kubelet-completely-insecure``: plain HTTP, no credentials (kept for
    metrics-server's command lines); default off."""
    request_timeout: float = 10.0
    """``--kubelet-request-timeout``: seconds one node's scrape may take; default 10, metrics-server's.
    A slow node fails alone; the others are served."""
    node_selector: LabelSelector = field(default_factory=LabelSelector)
    """``--node-selector``/``-l``, parsed: only nodes whose labels match are scraped (and listed by
    the Metrics API); default every node."""
    node_selector_text: str = ""
    """``--node-selector`` as written (the parsed form above does the filtering)."""
    via_apiserver: bool = False
    """``--kubelet-request-via-apiserver`` (ours): scrape ``/api/v1/nodes/<n>/proxy/metrics/resource``
    on the API server, for networks where kubelets are not reachable; default off."""
    max_concurrent: int = 256
    """``--kubelet-max-concurrent-requests`` (ours): scrapes in flight at once; default 256, which
    keeps 1,000 nodes within one resolution without opening a socket per node at once."""
    max_response_bytes: int = 32 << 20
    """``--kubelet-max-response-bytes`` (ours): a bigger response fails that node's scrape; default
    32 MiB, far above a real kubelet's; 0: no cap. Bounds memory against a broken or hostile
    kubelet."""
    keepalive: bool | None = None
    """``--kubelet-keepalive``: keep kubelet connections open between cycles (no TLS handshake per node
    and cycle, ~30 KiB per kept connection); None (``auto``) keeps them, False opens one per scrape."""

    @property
    def scheme(self) -> str:
        return "http" if self.completely_insecure else "https"


@dataclass(frozen=True)
class ServingSettings:
    """How the Metrics API is served (kube-apiserver's secure-serving flags, metrics-server's defaults)."""

    bind_address: str = "0.0.0.0"
    """``--bind-address``: listening address; default ``0.0.0.0``, metrics-server's."""
    secure_port: int = 443
    """``--secure-port``: HTTPS port; default 443 (metrics-server's; its manifests pass 10250)."""
    cert_dir: str = "apiserver.local.config/certificates"
    """``--cert-dir``: where a self-signed serving certificate is written when no
    ``--tls-cert-file`` is given; default metrics-server's relative path."""
    tls_cert_file: str = ""
    """``--tls-cert-file``: serving certificate; default empty (self-signed in ``cert_dir``)."""
    tls_private_key_file: str = ""
    """``--tls-private-key-file``: its key; default empty."""
    tls_min_version: str = "VersionTLS12"
    """``--tls-min-version``: lowest TLS version accepted (Go's names); default TLS 1.2."""
    tls_ciphers: str = ""
    """OpenSSL cipher string built from ``--tls-cipher-suites`` (Go names); default empty, OpenSSL's
    defaults for TLS 1.2 (TLS 1.3 suites are not configurable, as in Go)."""
    max_requests_inflight: int = 400
    """``--max-requests-inflight``: requests served at once; beyond it, 429 with ``Retry-After``;
    default 400, kube-apiserver's; 0: no limit. Bounds memory under a flood of clients."""
    shutdown_delay: float = 0.0
    """``--shutdown-delay-duration``: seconds to keep serving (``/readyz`` failing) after SIGTERM,
    so load balancers and the aggregator stop sending first; default 0."""


@dataclass(frozen=True)
class AuthSettings:
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


@dataclass(frozen=True)
class Settings:
    """Everything ``kubescope resource-metrics`` runs with, built once from flags."""

    kube: KubeSettings
    """The connection to the API server (``--kubeconfig``, ``--apiserver``, ...)."""
    kubelet: KubeletSettings
    serving: ServingSettings
    auth: AuthSettings
    metric_resolution: float = 15.0
    """``--metric-resolution``: seconds between scrapes of every node; default 15, metrics-server's
    (at least 10 unless ``--testing-allow-short-metric-resolution``: kubelets compute CPU rates
    over their own 10 s windows)."""

    @property
    def resolution_ns(self) -> int:
        return round(self.metric_resolution * 1e9)


def _bool(v: str) -> bool:
    s = v.strip().lower()
    if s in ("1", "t", "true", "yes", "y"):
        return True
    if s in ("0", "f", "false", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {v!r}: use true or false")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add every flag (metrics-server's spelling) to ``parser``."""
    ms = parser.add_argument_group("metrics server")
    ms.add_argument(
        "--metric-resolution",
        default="15s",
        help="The resolution at which metrics are scraped and retained; at least 10s (default: %(default)s)",
    )
    ms.add_argument(
        "--testing-allow-short-metric-resolution",
        action="store_true",
        help="accept --metric-resolution below 10s (tests and demos; logs a warning)",
    )
    add_kube_flags(ms)

    kc = parser.add_argument_group("kubelet client")
    kc.add_argument(
        "--kubelet-insecure-tls",
        nargs="?", const=True, default=False, type=_bool, metavar="BOOL",
        help="Do not verify CA of serving certificates presented by Kubelets. For testing purposes only.",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-use-node-status-port",
        nargs="?", const=True, default=False, type=_bool, metavar="BOOL",
        help="Use the port in the node status. Takes precedence over --kubelet-port flag.",
    )  # fmt: skip
    kc.add_argument("--kubelet-port", type=int, default=10250, help="The port to use to connect to Kubelets.")
    kc.add_argument(
        "--kubelet-preferred-address-types",
        default=",".join(DEFAULT_ADDRESS_TYPES),
        help="The priority of node address types to use when determining which address to use to connect "
        "to a particular node (default: %(default)s)",
    )
    kc.add_argument(
        "--kubelet-certificate-authority", default="",
        help="Path to the CA to use to validate the Kubelet's serving certificates.",
    )  # fmt: skip
    kc.add_argument("--kubelet-client-key", default="", help="Path to a client key file for TLS.")
    kc.add_argument("--kubelet-client-certificate", default="", help="Path to a client cert file for TLS.")
    kc.add_argument(
        "--kubelet-request-timeout",
        default="10s",
        help="The length of time to wait before giving up on a single request to Kubelet (e.g. 1s, 2m).",
    )
    kc.add_argument(
        "--node-selector", "-l",
        default="",
        help="Selector (label query) to filter on, supports '=', '==', and '!='. "
        "(e.g. -l key1=value1,key2=value2)",
    )  # fmt: skip
    kc.add_argument(
        "--deprecated-kubelet-completely-insecure",
        nargs="?", const=True, default=False, type=_bool, metavar="BOOL",
        help="DEPRECATED: Do not use any encryption, authorization, or authentication when communicating "
        "with the Kubelet.",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-request-via-apiserver",
        nargs="?", const=True, default=False, type=_bool, metavar="BOOL",
        help="scrape each kubelet through the API server's node proxy "
        "(/api/v1/nodes/NAME/proxy/metrics/resource) instead of connecting to it",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-max-concurrent-requests",
        type=int, default=256,
        help="kubelet scrapes in flight at once (default: %(default)s)",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-keepalive",
        nargs="?", const="true", default="auto", choices=("true", "false", "auto"), metavar="true|false|auto",
        help="keep kubelet connections open between cycles: no TLS handshake per node and cycle (~1 ms "
        "of CPU each) for ~30 KiB of memory per node; auto: keep; false: a connection per scrape "
        "(default: %(default)s)",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-max-response-bytes",
        type=int, default=32 << 20,
        help="fail a node's scrape when its response is larger than this (0: no limit; default: %(default)s)",
    )  # fmt: skip

    ss = parser.add_argument_group("apiserver secure serving")
    ss.add_argument(
        "--bind-address", default="0.0.0.0",
        help="The IP address on which to listen for the --secure-port port (default: %(default)s)",
    )  # fmt: skip
    ss.add_argument(
        "--secure-port", type=int, default=443,
        help="The port on which to serve HTTPS with authentication and authorization (default: %(default)s)",
    )  # fmt: skip
    ss.add_argument(
        "--cert-dir",
        default="apiserver.local.config/certificates",
        help="The directory where the TLS certs are located. If --tls-cert-file and --tls-private-key-file "
        "are provided, this flag will be ignored. (default: %(default)s)",
    )
    ss.add_argument(
        "--tls-cert-file", default="", help="File containing the default x509 Certificate for HTTPS."
    )
    ss.add_argument(
        "--tls-private-key-file",
        default="",
        help="File containing the default x509 private key matching --tls-cert-file.",
    )
    ss.add_argument(
        "--tls-min-version", default="VersionTLS12",
        help="Minimum TLS version supported: VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13",
    )  # fmt: skip
    ss.add_argument(
        "--tls-cipher-suites", default="", help="Comma-separated list of cipher suites (Go names) for TLS 1.2"
    )
    ss.add_argument(
        "--max-requests-inflight", type=int, default=400,
        help="The maximum number of requests in flight at a given time; beyond it, 429 (0: no limit)",
    )  # fmt: skip
    ss.add_argument(
        "--shutdown-delay-duration", default="0s",
        help="Time to delay the termination: /readyz fails at once, requests are served until the delay "
        "elapses",
    )  # fmt: skip

    an = parser.add_argument_group("apiserver authentication")
    an.add_argument(
        "--authentication-kubeconfig", default="",
        help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
        "tokenreviews.authentication.k8s.io (default: the --kubeconfig connection)",
    )  # fmt: skip
    an.add_argument(
        "--authentication-skip-lookup",
        nargs="?", const=True, default=False, type=_bool, metavar="BOOL",
        help="If false, the authentication-kubeconfig will be used to lookup missing authentication "
        "configuration from the cluster.",
    )  # fmt: skip
    an.add_argument(
        "--authentication-tolerate-lookup-failure",
        nargs="?", const=True, default=False, type=_bool, metavar="BOOL",
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
    an.add_argument(
        "--anonymous-auth",
        nargs="?", const=True, default=True, type=_bool, metavar="BOOL",
        help="Treat requests without credentials as system:anonymous (then authorized like any user); "
        "false answers them 401 (default: %(default)s)",
    )  # fmt: skip

    az = parser.add_argument_group("apiserver authorization")
    az.add_argument(
        "--authorization-kubeconfig", default="",
        help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
        "subjectaccessreviews.authorization.k8s.io (default: the --kubeconfig connection)",
    )  # fmt: skip
    az.add_argument(
        "--authorization-always-allow-paths", default="/healthz,/readyz,/livez",
        help="A list of HTTP paths to skip during authorization (default: %(default)s)",
    )  # fmt: skip
    az.add_argument(
        "--authorization-webhook-cache-authorized-ttl", default="10s",
        help="The duration to cache 'authorized' responses from the webhook authorizer.",
    )  # fmt: skip
    az.add_argument(
        "--authorization-webhook-cache-unauthorized-ttl", default="10s",
        help="The duration to cache 'unauthorized' responses from the webhook authorizer.",
    )  # fmt: skip


def _headers(value: str) -> tuple[str, ...]:
    return tuple(h.lower() for h in split_list(value))


def _ciphers(value: str) -> str:
    names = split_list(value)
    out = []
    for n in names:
        if n not in _GO_CIPHERS:
            raise ConfigError(f"--tls-cipher-suites: unknown or unsupported cipher suite {n!r}")
        out.append(_GO_CIPHERS[n])
    return ":".join(dict.fromkeys(out))


def from_args(args: argparse.Namespace) -> Settings:
    """Build and validate the settings (metrics-server's ``Options.Validate``)."""
    errors: list[str] = []
    resolution = parse_duration(args.metric_resolution, "--metric-resolution")
    timeout = parse_duration(args.kubelet_request_timeout, "--kubelet-request-timeout")
    if resolution <= 0:
        errors.append(f"--metric-resolution={args.metric_resolution}: must be positive")
    elif resolution < 10 and not args.testing_allow_short_metric_resolution:
        errors.append(
            f"metric-resolution should be a time duration at least 10s, but value {args.metric_resolution} "
            "provided (tests may pass --testing-allow-short-metric-resolution)"
        )
    if resolution * 9 / 10 < timeout:
        errors.append(
            f"metric-resolution should be larger than kubelet-request-timeout, but metric-resolution value "
            f"{args.metric_resolution} kubelet-request-timeout value {args.kubelet_request_timeout} provided "
            "(the timeout must be at most 90% of the resolution)"
        )
    if timeout <= 0:
        errors.append("kubelet-request-timeout should be positive")
    if args.kubelet_certificate_authority and args.kubelet_insecure_tls:
        errors.append("cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls")
    if bool(args.kubelet_client_key) != bool(args.kubelet_client_certificate):
        errors.append("need both --kubelet-client-key and --kubelet-client-certificate")
    insecure = args.deprecated_kubelet_completely_insecure
    for flag, value in (
        ("--kubelet-client-key", args.kubelet_client_key),
        ("--kubelet-client-certificate", args.kubelet_client_certificate),
        ("--kubelet-insecure-tls", args.kubelet_insecure_tls),
        ("--kubelet-certificate-authority", args.kubelet_certificate_authority),
    ):
        if value and insecure:
            errors.append(f"cannot use both {flag} and --deprecated-kubelet-completely-insecure")
    if args.kubelet_max_concurrent_requests < 1:
        errors.append("--kubelet-max-concurrent-requests must be at least 1")
    if args.kubelet_max_response_bytes < 0:
        errors.append("--kubelet-max-response-bytes must be 0 (no limit) or positive")
    address_types = split_list(args.kubelet_preferred_address_types)
    if not address_types:
        errors.append("--kubelet-preferred-address-types: give at least one type, e.g. InternalIP")
    if not 0 <= args.secure_port <= 65535:
        errors.append(f"--secure-port={args.secure_port}: must be between 0 and 65535")
    try:
        node_selector = parse_label_selector(args.node_selector.strip())
    except SelectorError as e:
        errors.append(f"--node-selector={args.node_selector!r}: {e}")
        node_selector = LabelSelector()
    ciphers = ""
    try:
        ciphers = _ciphers(args.tls_cipher_suites)
    except ConfigError as e:
        errors.append(str(e))
    if errors:
        raise ConfigError("; ".join(errors))
    kube = KubeSettings.from_args(args)
    return Settings(
        kube=kube,
        kubelet=KubeletSettings(
            preferred_address_types=address_types,
            port=args.kubelet_port,
            use_node_status_port=args.kubelet_use_node_status_port,
            insecure_tls=args.kubelet_insecure_tls,
            certificate_authority=args.kubelet_certificate_authority,
            client_certificate=args.kubelet_client_certificate,
            client_key=args.kubelet_client_key,
            completely_insecure=insecure,
            request_timeout=timeout,
            node_selector=node_selector,
            node_selector_text=args.node_selector.strip(),
            via_apiserver=args.kubelet_request_via_apiserver,
            max_concurrent=args.kubelet_max_concurrent_requests,
            max_response_bytes=args.kubelet_max_response_bytes,
            keepalive=None if args.kubelet_keepalive == "auto" else args.kubelet_keepalive == "true",
        ),
        serving=ServingSettings(
            bind_address=args.bind_address,
            secure_port=args.secure_port,
            cert_dir=args.cert_dir,
            tls_cert_file=args.tls_cert_file,
            tls_private_key_file=args.tls_private_key_file,
            tls_min_version=args.tls_min_version,
            tls_ciphers=ciphers,
            max_requests_inflight=args.max_requests_inflight,
            shutdown_delay=parse_duration(args.shutdown_delay_duration, "--shutdown-delay-duration"),
        ),
        auth=AuthSettings(
            authentication_kubeconfig=args.authentication_kubeconfig,
            authorization_kubeconfig=args.authorization_kubeconfig,
            skip_lookup=args.authentication_skip_lookup,
            tolerate_lookup_failure=args.authentication_tolerate_lookup_failure,
            token_cache_ttl=parse_duration(
                args.authentication_token_webhook_cache_ttl, "--authentication-token-webhook-cache-ttl"
            ),
            client_ca_file=args.client_ca_file,
            requestheader_client_ca_file=args.requestheader_client_ca_file,
            requestheader_allowed_names=split_list(args.requestheader_allowed_names),
            requestheader_username_headers=_headers(args.requestheader_username_headers),
            requestheader_group_headers=_headers(args.requestheader_group_headers),
            requestheader_extra_headers_prefix=_headers(args.requestheader_extra_headers_prefix),
            requestheader_uid_headers=_headers(args.requestheader_uid_headers),
            always_allow_paths=split_list(args.authorization_always_allow_paths),
            authorized_ttl=parse_duration(
                args.authorization_webhook_cache_authorized_ttl,
                "--authorization-webhook-cache-authorized-ttl",
            ),
            unauthorized_ttl=parse_duration(
                args.authorization_webhook_cache_unauthorized_ttl,
                "--authorization-webhook-cache-unauthorized-ttl",
            ),
            anonymous=args.anonymous_auth,
        ),
        metric_resolution=resolution,
    )
