"""``kubescope custom-metrics`` settings: prometheus-adapter's flags, parsed and validated once.

prometheus-adapter's own flags keep their names, defaults and checks (``cmd/adapter/adapter.go``,
custom-metrics-apiserver's ``--lister-kubeconfig`` and ``--discovery-interval``):
``--prometheus-url`` (``https://localhost``), ``--prometheus-verb`` (GET), ``--config`` (the default
config of ``config-gen`` when absent: prometheus-adapter refuses to start without one),
``--metrics-relist-interval`` (10m), ``--metrics-max-age`` (the relist interval when unset; never
less than it), the Prometheus TLS and auth flags. ``--disable-http2``, ``--client-qps`` and
``--client-burst`` are accepted for compatibility (this server speaks HTTP/1.1, and its Kubernetes
requests are few: one list per uncached ``*`` request and discovery every ``--discovery-interval``).

kubescope's additions, each with the reason in its help: ``--query-timeout``, ``--cache-ttl``,
``--cache-max-stale``, ``--upstream-external-metrics`` (and its TLS and token flags),
``--resource-metrics``, ``--print-default-config``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from kubescope.custom_metrics.promclient import PrometheusSettings, parse_header_args
from kubescope.errors import ConfigError


def go_duration(value: str, flag: str) -> float:
    """Go's ``time.ParseDuration`` (``10m``, ``1m30s``, ``500ms``, ``0``) in seconds."""
    import re

    s = value.strip()
    if s in ("0", "+0", "-0"):
        return 0.0
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", s)
    if not s or "".join(n + u for n, u in parts) != s.lstrip("+"):
        raise ConfigError(f'{flag}={value!r}: invalid duration; use a number with a unit, e.g. "30s", "10m"')
    return sum(float(n) * units[u] for n, u in parts)


@dataclass(frozen=True)
class UpstreamSettings:
    """``--upstream-external-metrics``: another external-metrics adapter for names this one lacks."""

    url: str = ""
    ca_file: str = ""
    insecure_skip_tls_verify: bool = False
    token_file: str = ""
    client_cert_file: str = ""
    client_key_file: str = ""
    timeout: float = 10.0
    discovery_interval: float = 60.0


@dataclass(frozen=True)
class AdapterSettings:
    prometheus: PrometheusSettings = field(default_factory=PrometheusSettings)
    config_file: str = ""
    relist_interval: float = 600.0
    max_age: float = 600.0
    lister_kubeconfig: str = ""
    discovery_interval: float = 600.0
    cache_ttl: float = 15.0
    cache_max_stale: float = 30.0
    cache_max_entries: int = 20_000
    upstream: UpstreamSettings = field(default_factory=UpstreamSettings)
    resource_metrics: bool = False


def parse_bool(v: str) -> bool:
    """Go's ``strconv.ParseBool`` spellings, for ``--flag=BOOL``."""
    s = v.strip().lower()
    if s in ("1", "t", "true", "yes", "y"):
        return True
    if s in ("0", "f", "false", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {v!r}: use true or false")


def _flag_bool(g: argparse._ArgumentGroup, name: str, help_text: str) -> None:
    g.add_argument(
        name, nargs="?", const=True, default=False, type=parse_bool, metavar="BOOL", help=help_text
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """prometheus-adapter's flags, then kubescope's."""
    p = parser.add_argument_group("prometheus")
    p.add_argument(
        "--prometheus-url",
        default="https://localhost",
        help="URL for connecting to Prometheus. (default: %(default)s)",
    )
    _flag_bool(p, "--prometheus-auth-incluster",
               "use auth details from the in-cluster kubeconfig when connecting to prometheus.")  # fmt: skip
    p.add_argument(
        "--prometheus-auth-config",
        default="",
        help="kubeconfig file used to configure auth when connecting to Prometheus.",
    )
    p.add_argument(
        "--prometheus-ca-file", default="", help="Optional CA file to use when connecting with Prometheus"
    )
    p.add_argument("--prometheus-client-tls-cert-file", default="",
                   help="Optional client TLS cert file to use when connecting with Prometheus, auto-renewal is not supported")  # fmt: skip
    p.add_argument("--prometheus-client-tls-key-file", default="",
                   help="Optional client TLS key file to use when connecting with Prometheus, auto-renewal is not supported")  # fmt: skip
    p.add_argument("--prometheus-token-file", default="",
                   help="Optional file containing the bearer token to use when connecting with Prometheus "
                   "(re-read when it changes, so rotated tokens are picked up)")  # fmt: skip
    p.add_argument("--prometheus-header", action="append", default=[], metavar="NAME=VALUE",
                   help="Optional header to set on requests to prometheus-url. Can be repeated")  # fmt: skip
    p.add_argument(
        "--prometheus-verb",
        default="GET",
        help='HTTP verb to set on requests to Prometheus. Possible values: "GET", "POST"',
    )
    p.add_argument("--query-timeout", default="3s",
                   help="Timeout of one Prometheus query (also sent as Prometheus' own timeout, so it stops "
                   "working on it); a rule's queryTimeout overrides it (default: %(default)s, KEDA's default)")  # fmt: skip

    a = parser.add_argument_group("adapter")
    a.add_argument("--config", default="",
                   help="Configuration file containing details of how to transform between Prometheus metrics and "
                   "custom metrics API resources (prometheus-adapter's format; default: the rules of "
                   "prometheus-adapter's config-gen, see --print-default-config)")  # fmt: skip
    a.add_argument("--print-default-config", action="store_true",
                   help="print the default configuration (config-gen's rules, 5m rate interval) and exit")  # fmt: skip
    a.add_argument("--metrics-relist-interval", default="10m",
                   help="interval at which to re-list the set of all available metrics from Prometheus (default: %(default)s)")  # fmt: skip
    a.add_argument("--metrics-max-age", default="",
                   help="period for which to query the set of available metrics from Prometheus "
                   "(default: the relist interval; never less than it)")  # fmt: skip
    a.add_argument("--lister-kubeconfig", default="",
                   help="kubeconfig file pointing at the 'core' kubernetes server with enough rights to list any "
                   "described objects (default: --kubeconfig or the in-cluster service account)")  # fmt: skip
    a.add_argument(
        "--discovery-interval",
        default="10m",
        help="Interval at which to refresh API discovery information (default: %(default)s)",
    )
    a.add_argument("--cache-ttl", default="15s",
                   help="how long an answer is reused for identical requests: the HPA's sync period, so each HPA "
                   "costs at most one query per sync (0 disables caching; default: %(default)s)")  # fmt: skip
    a.add_argument("--cache-max-stale", default="30s",
                   help="while Prometheus or the Kubernetes API fails, answer with the last good answer if it is "
                   "at most this old (its age is exported); older answers are never served (default: %(default)s)")  # fmt: skip
    a.add_argument("--resource-metrics", nargs="?", const=True, default=False, type=parse_bool, metavar="BOOL",
                   help="also serve metrics.k8s.io from the configuration's resourceRules (for clusters without "
                   "kubelet scraping; prometheus-adapter serves it whenever resourceRules are present)")  # fmt: skip
    _flag_bool(
        a,
        "--disable-http2",
        "Disable HTTP/2 support (accepted for compatibility: this server speaks HTTP/1.1)",
    )
    a.add_argument(
        "--client-qps", default="50", help="accepted for compatibility (client-side throttle of the original)"
    )
    a.add_argument(
        "--client-burst",
        default="100",
        help="accepted for compatibility (client-side throttle of the original)",
    )

    u = parser.add_argument_group("upstream external metrics (coexistence with another adapter)")
    u.add_argument("--upstream-external-metrics", default="", metavar="URL",
                   help="another external.metrics.k8s.io server (e.g. https://keda-operator-metrics-apiserver.keda); "
                   "external metric names this adapter does not serve are forwarded to it and its names are merged "
                   "into discovery, so one APIService can front both during a migration")  # fmt: skip
    u.add_argument(
        "--upstream-external-metrics-ca-file",
        default="",
        help="CA bundle for the upstream's serving certificate",
    )
    _flag_bool(u, "--upstream-external-metrics-insecure-skip-tls-verify",
               "do not verify the upstream's certificate (as an APIService with insecureSkipTLSVerify)")  # fmt: skip
    u.add_argument("--upstream-external-metrics-token-file", default="",
                   help="bearer token for the upstream (default: the pod's service-account token, when present)")  # fmt: skip
    u.add_argument(
        "--upstream-external-metrics-client-cert-file", default="", help="client certificate for the upstream"
    )
    u.add_argument(
        "--upstream-external-metrics-client-key-file", default="", help="client key for the upstream"
    )
    u.add_argument(
        "--upstream-external-metrics-timeout",
        default="10s",
        help="timeout of a forwarded request (default: %(default)s)",
    )


def from_args(args: argparse.Namespace) -> AdapterSettings:
    relist = go_duration(args.metrics_relist_interval, "--metrics-relist-interval")
    if relist <= 0:
        raise ConfigError("--metrics-relist-interval must be positive, e.g. 1m")
    max_age = go_duration(args.metrics_max_age, "--metrics-max-age") if args.metrics_max_age else relist
    if max_age < relist:
        raise ConfigError(
            f"--metrics-max-age={args.metrics_max_age} must not be less than --metrics-relist-interval="
            f"{args.metrics_relist_interval} (series would vanish between relists)"
        )
    timeout = go_duration(args.query_timeout, "--query-timeout")
    if timeout <= 0:
        raise ConfigError("--query-timeout must be positive, e.g. 3s")
    if args.prometheus_verb not in ("GET", "POST"):
        raise ConfigError(f'--prometheus-verb={args.prometheus_verb!r}: supported verbs: "GET" and "POST"')
    if bool(args.prometheus_client_tls_cert_file) != bool(args.prometheus_client_tls_key_file):
        raise ConfigError(
            "--prometheus-client-tls-cert-file and --prometheus-client-tls-key-file go together"
        )
    if args.prometheus_client_tls_cert_file and not args.prometheus_ca_file:
        raise ConfigError(
            "--prometheus-client-tls-cert-file needs --prometheus-ca-file (as in prometheus-adapter)"
        )
    ttl = go_duration(args.cache_ttl, "--cache-ttl")
    stale = go_duration(args.cache_max_stale, "--cache-max-stale")
    if ttl < 0 or stale < 0:
        raise ConfigError("--cache-ttl and --cache-max-stale must not be negative")
    prom = PrometheusSettings(
        url=args.prometheus_url,
        verb=args.prometheus_verb,
        auth_incluster=bool(args.prometheus_auth_incluster),
        auth_config=args.prometheus_auth_config,
        ca_file=args.prometheus_ca_file,
        client_cert_file=args.prometheus_client_tls_cert_file,
        client_key_file=args.prometheus_client_tls_key_file,
        token_file=args.prometheus_token_file,
        headers=parse_header_args(args.prometheus_header),
        query_timeout=timeout,
    )
    up_url = args.upstream_external_metrics
    if up_url and not up_url.startswith(("https://", "http://")):
        raise ConfigError(f"--upstream-external-metrics={up_url!r}: expected an https:// URL")
    upstream = UpstreamSettings(
        url=up_url.rstrip("/"),
        ca_file=args.upstream_external_metrics_ca_file,
        insecure_skip_tls_verify=bool(args.upstream_external_metrics_insecure_skip_tls_verify),
        token_file=args.upstream_external_metrics_token_file,
        client_cert_file=args.upstream_external_metrics_client_cert_file,
        client_key_file=args.upstream_external_metrics_client_key_file,
        timeout=go_duration(args.upstream_external_metrics_timeout, "--upstream-external-metrics-timeout"),
    )
    return AdapterSettings(
        prometheus=prom,
        config_file=args.config,
        relist_interval=relist,
        max_age=max_age,
        lister_kubeconfig=args.lister_kubeconfig,
        discovery_interval=go_duration(args.discovery_interval, "--discovery-interval") or 600.0,
        cache_ttl=ttl,
        cache_max_stale=stale,
        upstream=upstream,
        resource_metrics=bool(args.resource_metrics),
    )
