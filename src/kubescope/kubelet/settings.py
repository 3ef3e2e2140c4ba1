"""How kubelets are reached: metrics-server's kubelet-client flags, parsed and validated once.

Shared by ``kubescope resource-metrics`` and ``kubescope history --source=kubelets`` so both spell
and check ``--kubelet-*`` and ``--node-selector`` the same way (metrics-server's
``cmd/metrics-server/app/options/kubelet_client.go``, plus a few of ours, marked below).
Every invalid value is reported naming the flag and the fix.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from kubescope.apiserver.selectors import LabelSelector, SelectorError, parse_label_selector
from kubescope.errors import ConfigError
from kubescope.model.gofmt import parse_go_duration
from kubescope.web import flags

DEFAULT_ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")


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


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Add the kubelet client's flags (metrics-server's spelling) to ``parser`` as one group."""
    kc = parser.add_argument_group("kubelet client")
    kc.add_argument(
        "--kubelet-insecure-tls",
        nargs="?", const=True, default=False, type=flags.go_bool, metavar="BOOL",
        help="Do not verify CA of serving certificates presented by Kubelets. For testing purposes only.",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-use-node-status-port",
        nargs="?", const=True, default=False, type=flags.go_bool, metavar="BOOL",
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
        nargs="?", const=True, default=False, type=flags.go_bool, metavar="BOOL",
        help="DEPRECATED: Do not use any encryption, authorization, or authentication when communicating "
        "with the Kubelet.",
    )  # fmt: skip
    kc.add_argument(
        "--kubelet-request-via-apiserver",
        nargs="?", const=True, default=False, type=flags.go_bool, metavar="BOOL",
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


def from_args(args: argparse.Namespace, errors: list[str]) -> KubeletSettings:
    """The kubelet client's settings from :func:`add_flags`' flags; each invalid value appends a
    message to ``errors`` (the caller raises them together, as metrics-server's ``Validate``)."""
    timeout = parse_duration(args.kubelet_request_timeout, "--kubelet-request-timeout")
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
    try:
        node_selector = parse_label_selector(args.node_selector.strip())
    except SelectorError as e:
        errors.append(f"--node-selector={args.node_selector!r}: {e}")
        node_selector = LabelSelector()
    return KubeletSettings(
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
    )
