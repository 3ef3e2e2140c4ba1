"""``kubescope console``: a web view of the cluster's usage now and over time, its autoscalers and events.

Exit codes: 0 after a signal, 1 when the Kubernetes API cannot be reached at start or serving fails,
2 for invalid flags (one line naming the flag and the fix).
"""

from __future__ import annotations

import argparse
import ipaddress
import ssl
import sys

from kubescope import web as ksweb
from kubescope.console.app import Settings, serve
from kubescope.errors import ConfigError, KubeError
from kubescope.kube.config import KubeSettings, add_kube_flags
from kubescope.memory import fix_mmap_threshold
from kubescope.model.gofmt import parse_go_duration
from kubescope.web import flags as web_flags


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Serve a web console: cluster overview, lists of nodes, namespaces, workloads and pods with current "
        "usage and 15-minute sparklines, detail pages with usage over time against requests and limits "
        "(from kubescope history), merged event timelines (from kubescope events) and autoscalers. "
        "Read-only; --login-token-file for use outside the cluster."
    )
    add_kube_flags(p)
    g = p.add_argument_group("serving")
    web_flags.add_listen_flags(
        g, host_flag="--host", port_flag="--port", host="0.0.0.0", port=8090, what="the console"
    )
    g.add_argument(
        "--web-config-file",
        default="",
        help="a Prometheus web configuration file (TLS, basic auth), as state-metrics takes; not with --tls-* or --cert-dir (default: none)",
    )
    # no certificate, no --cert-dir: plain HTTP (in a cluster, behind an Ingress that terminates TLS)
    g.add_argument(
        "--cert-dir",
        default="",
        help="self-sign a serving certificate (console.crt, console.key) into this directory when no --tls-cert-file is given (default: none: plain HTTP)",
    )
    web_flags.add_tls_flags(g, cert_dir=None, client_ca=False)
    g.add_argument(
        "--login-token-file",
        default="",
        help="read-only mode with a login: tokens in kube-apiserver's static token format "
        "(token,user,uid per line); pages need a session from /login or Authorization: Bearer (default: none, no login)",
    )
    g.add_argument(
        "--session-duration", default="12h", type=web_flags.go_duration, help="how long a login lasts"
    )
    web_flags.add_shutdown_flags(g)
    s = p.add_argument_group("sources")
    s.add_argument(
        "--usage-interval",
        default="30s",
        type=web_flags.go_duration,
        help="how often to poll the Metrics API for current usage and sparklines",
    )
    s.add_argument(
        "--source-timeout",
        default="5s",
        type=web_flags.go_duration,
        help="longest wait for history, the event archive or an object read",
    )
    s.add_argument("--health-url", action="append", default=[], metavar="NAME=URL",
                   help="an exporter's readiness URL to show on the overview (repeatable), e.g. state-metrics=http://ksm:8081/readyz (default: none)")  # fmt: skip


def _seconds(value: str, flag: str, minimum: float = 0.0) -> float:
    try:
        v = parse_go_duration(value.strip()) / 1e9
    except ValueError:
        raise ConfigError(f'{flag}={value!r}: not a duration; write e.g. "30s", "5m", "12h"') from None
    if v < minimum:
        raise ConfigError(f"{flag}={value}: must be at least {minimum:g}s")
    return v


def settings_from(args: argparse.Namespace) -> Settings:
    tls_flags = any((args.cert_dir, args.tls_cert_file, args.tls_private_key_file, args.tls_cipher_suites))
    tls: ksweb.WebConfig | ssl.SSLContext | None = None
    if args.web_config_file:
        if tls_flags:
            raise ConfigError("--web-config-file configures TLS itself: leave out --tls-* and --cert-dir")
        tls = ksweb.load_web_config(args.web_config_file)
    else:
        tls = web_flags.tls_options(args, pair_name="console").context()
    secure = tls is not None and (not isinstance(tls, ksweb.WebConfig) or tls.ssl_context is not None)
    if args.login_token_file and not secure and not _loopback(args.host):
        raise ConfigError(
            f"--login-token-file sends tokens and session cookies: serve it over HTTPS (--cert-dir, --tls-cert-file "
            f"or --web-config-file) or bind --host to a loopback address (got --host={args.host})"
        )
    urls = []
    for item in args.health_url:
        name, sep, url = item.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--health-url={item!r}: write NAME=http(s)://host:port/path")
        urls.append((name, url))
    return Settings(
        kube=KubeSettings.from_args(args), host=args.host, port=args.port, tls=tls,
        login_token_file=args.login_token_file, session_seconds=_seconds(args.session_duration, "--session-duration", 60),
        usage_interval=_seconds(args.usage_interval, "--usage-interval", 1), source_timeout=_seconds(args.source_timeout, "--source-timeout", 0.1),
        health_urls=tuple(urls), shutdown_delay=_seconds(args.shutdown_delay_duration, "--shutdown-delay-duration"),
    )  # fmt: skip


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        if settings.login_token_file:
            from kubescope.console.auth import read_tokens

            read_tokens(settings.login_token_file)
    except ConfigError as e:
        print(f"kubescope console: {e}", file=sys.stderr)
        return 2
    # before the first large buffer, as resource-metrics does (kubescope.memory): multi-MB buffers
    # get their own mappings, given back when freed, instead of pinning heap pages
    fix_mmap_threshold()
    try:
        return ksweb.run(serve(settings))
    except ConfigError as e:
        print(f"kubescope console: {e}", file=sys.stderr)
        return 2
    except KubeError as e:
        print(f"kubescope console: cannot reach the Kubernetes API: {e}", file=sys.stderr)
        return 1
