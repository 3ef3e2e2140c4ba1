"""Where and how to connect to the Kubernetes API: flags, the chosen source, the resolved connection.

* :class:`KubeSettings` holds the flags every kubescope API client shares, spelled as
  kube-state-metrics spells them (``--kubeconfig``, ``--apiserver``) plus ``--context``; add them
  with :func:`add_kube_flags` and build the settings with :meth:`KubeSettings.from_args`.
* :func:`choose_source` decides, once and purely from the settings and the environment, where the
  connection comes from: a kubeconfig, the in-cluster service account, or a bare ``--apiserver``.
* :class:`Connection` is the resolved result (server URL, CA, client certificate, Authorization
  header, expiry...). Kubeconfig and in-cluster sources are resolved by kubernetes_asyncio's own
  loaders in a short-lived subprocess (see :mod:`kubescope.kube.credentials`); the parent only
  builds an :class:`ssl.SSLContext` and headers from the result (:func:`build_ssl_context`).

Secrets (tokens, keys) live in memory only, never in a ``repr``, a log line or an exception.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from yarl import URL

from kubescope.errors import ConfigError

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True)
class KubeSettings:
    """How kubescope reaches the Kubernetes API. Shared by state-metrics and resource-metrics."""

    kubeconfig: str = ""
    """``--kubeconfig``: kubeconfig path (``:``-separated list allowed, merged like kubectl);
    default empty: the in-cluster service account when running in a pod, else ``$KUBECONFIG``,
    else ``~/.kube/config`` (:func:`choose_source`)."""
    apiserver: str = ""
    """``--apiserver``: overrides the server URL. Alone (no kubeconfig), connects without
    credentials, as kube-state-metrics does (``clientcmd.BuildConfigFromFlags``)."""
    context: str = ""
    """``--context``: kubeconfig context to use; default empty, the kubeconfig's current context."""
    service_account_dir: str = SERVICE_ACCOUNT_DIR
    """Where the in-cluster token, CA and namespace files are mounted; default
    ``/var/run/secrets/kubernetes.io/serviceaccount``, where the kubelet mounts them."""
    connect_timeout: float = 10.0
    """Seconds to establish a TCP+TLS connection; default 10. A dead endpoint fails fast and is
    retried with backoff instead of hanging a list."""
    read_timeout: float = 60.0
    """Seconds without a byte before a non-watch request fails; default 60, enough for a slow API
    server to start streaming a large list (watches use their own inactivity timeout)."""
    max_connections: int = 0
    """Cap on open connections to the API server; default 0, no cap. Over HTTP/1.1 every watch holds
    one connection for its lifetime, so a cap below the number of watches would starve lists."""
    read_bufsize: int = 1 << 20
    """aiohttp's read buffer per response, bytes; default 1 MiB, at least 64 KiB, so big objects
    stream smoothly."""
    max_line_size: int = 64 << 20
    """Longest watch line (one event, one object) accepted, bytes; default 64 MiB, far above what
    etcd stores per object (1.5 MiB requests by default); longer lines are dropped without being
    buffered whole, so one huge line cannot exhaust memory."""
    compression: bool = True
    """Accept gzip responses; default on, as client-go (saves bandwidth on big lists, costs client
    CPU to inflate)."""

    def __post_init__(self) -> None:
        if self.apiserver:
            _check_server_url(self.apiserver, "--apiserver")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError("Kubernetes API timeouts must be positive seconds")
        if self.read_bufsize < 64 << 10:
            raise ConfigError(f"read_bufsize={self.read_bufsize} is too small: use at least 65536 bytes")
        if self.max_line_size < self.read_bufsize:
            raise ConfigError(
                f"max_line_size={self.max_line_size} must be at least read_bufsize={self.read_bufsize}"
            )

    @classmethod
    def from_args(cls, args: argparse.Namespace, **overrides: Any) -> KubeSettings:
        """Settings from the flags :func:`add_kube_flags` added (plus keyword overrides)."""
        values: dict[str, Any] = {
            "kubeconfig": getattr(args, "kubeconfig", "") or "",
            "apiserver": getattr(args, "apiserver", "") or "",
            "context": getattr(args, "context", "") or "",
        }
        values.update(overrides)
        return cls(**values)


def add_kube_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--kubeconfig``, ``--apiserver`` and ``--context`` (kube-state-metrics' names and help)."""
    parser.add_argument("--kubeconfig", default="", help="Absolute path to the kubeconfig file")
    parser.add_argument("--apiserver", default="", help="The URL of the apiserver to use as a master")
    parser.add_argument(
        "--context",
        default="",
        help="The kubeconfig context to use (default: the kubeconfig's current context)",
    )


def _check_server_url(url: str, what: str) -> None:
    try:
        u = URL(url)
    except ValueError as e:
        raise ConfigError(f"{what}={url!r} is not a URL: {e}; use https://host:port") from e
    if u.scheme not in ("http", "https") or not u.host:
        raise ConfigError(f"{what}={url!r} must be an http(s) URL with a host, e.g. https://10.0.0.1:6443")


@dataclass(frozen=True)
class Source:
    """Where the connection comes from, decided once by :func:`choose_source`."""

    kind: Literal["kubeconfig", "in-cluster", "apiserver"]
    kubeconfig: str = ""
    context: str = ""
    service_account_dir: str = SERVICE_ACCOUNT_DIR
    apiserver: str = ""
    host: str = ""
    port: str = ""

    def describe(self) -> str:
        """For messages: names the input without any secret."""
        if self.kind == "kubeconfig":
            ctx = f"context {self.context!r}" if self.context else "current context"
            return f"kubeconfig {self.kubeconfig} ({ctx})"
        if self.kind == "in-cluster":
            return f"in-cluster service account ({self.service_account_dir})"
        return f"--apiserver {self.apiserver} (no credentials)"


def choose_source(settings: KubeSettings, environ: Mapping[str, str]) -> Source:
    """Pick the connection source as kube-state-metrics would, with kubectl's defaults as fallback.

    Order: ``--kubeconfig``; else ``--apiserver`` alone (no credentials, like KSM); else the
    in-cluster service account when ``KUBERNETES_SERVICE_HOST``/``_PORT`` are set; else
    ``$KUBECONFIG``; else ``~/.kube/config`` if it exists.
    """
    if settings.kubeconfig:
        paths = [os.path.expanduser(p) for p in settings.kubeconfig.split(os.pathsep) if p]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            raise ConfigError(
                f"--kubeconfig: file not found: {', '.join(missing)}; pass an existing kubeconfig file"
            )
        return Source("kubeconfig", kubeconfig=os.pathsep.join(paths), context=settings.context)
    if settings.apiserver:
        return Source("apiserver", apiserver=settings.apiserver)
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
    if host and port:
        return Source("in-cluster", service_account_dir=settings.service_account_dir, host=host, port=port)
    env_paths = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p and os.path.isfile(p)]
    if env_paths:
        return Source("kubeconfig", kubeconfig=os.pathsep.join(env_paths), context=settings.context)
    default = os.path.expanduser(DEFAULT_KUBECONFIG)
    if os.path.isfile(default):
        return Source("kubeconfig", kubeconfig=default, context=settings.context)
    raise ConfigError(
        "no Kubernetes API configured: pass --kubeconfig (or set KUBECONFIG), --apiserver, "
        "or run in a pod with a service account (KUBERNETES_SERVICE_HOST/PORT)"
    )


@dataclass(frozen=True)
class Connection:
    """A resolved connection. Secret fields are excluded from ``repr``."""

    server: str
    ca_pem: str = field(default="", repr=False)
    client_cert_pem: str = field(default="", repr=False)
    client_key_pem: str = field(default="", repr=False)
    authorization: str = field(default="", repr=False)
    """The whole ``Authorization`` header value (``Bearer ...`` or ``Basic ...``), or empty."""
    token_file: str = ""
    """Re-read periodically (bound service-account tokens rotate); its token replaces ``authorization``."""
    expiry: float | None = None
    """Unix time after which the credentials (exec plugin token or certificate) are invalid."""
    tls_server_name: str = ""
    insecure: bool = False
    proxy_url: str = ""

    @property
    def scheme(self) -> str:
        return URL(self.server).scheme

    def describe_auth(self) -> str:
        """Which kind of credentials, never their value."""
        kinds = []
        if self.client_cert_pem:
            kinds.append("client certificate")
        if self.token_file:
            kinds.append(f"token file {self.token_file}")
        elif self.authorization:
            kinds.append(self.authorization.split(" ", 1)[0].lower() + " credentials")
        return ", ".join(kinds) or "anonymous"


def proxy_from_environment(server: str, environ: Mapping[str, str]) -> str:
    """The proxy Go's ``http.ProxyFromEnvironment`` would use for ``server`` (client-go's default
    when the kubeconfig has no ``proxy-url``): ``HTTPS_PROXY``/``HTTP_PROXY`` by scheme, unless
    ``NO_PROXY`` matches or the host is loopback."""
    u = URL(server)
    host = u.host or ""
    if host == "localhost" or host.startswith("127.") or host == "::1":
        return ""
    env = {k.lower(): v for k, v in environ.items() if k.lower() in ("https_proxy", "http_proxy", "no_proxy")}
    proxy = env.get("https_proxy" if u.scheme == "https" else "http_proxy", "")
    if not proxy:
        return ""
    for item in env.get("no_proxy", "").split(","):
        entry = item.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return ""
        name, _, port = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        if port and str(u.port) != port:
            continue
        name = name.lstrip(".")
        if host.lower() == name or host.lower().endswith("." + name):
            return ""
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                return ""
    return proxy if "://" in proxy else "http://" + proxy


def check_proxy(url: str) -> None:
    if url and URL(url).scheme not in ("http", "https"):
        raise ConfigError(f"proxy {url!r}: only http:// and https:// proxies are supported (not SOCKS)")


def _private_dir() -> str:
    """A fresh 0700 directory, on tmpfs when available so key material never reaches a disk."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix="kubescope-tls-", dir=base)


def _write_private(path: str, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)


def load_client_cert(ctx: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    """``load_cert_chain`` only reads files: write the PEMs 0600 in a private directory, load, delete."""
    d = _private_dir()
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    try:
        _write_private(cert, cert_pem)
        _write_private(key, key_pem)
        ctx.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as e:
        # the SSL error text names no secret, only what is wrong with the PEM
        raise ConfigError(f"invalid client certificate or key: {e.__class__.__name__}: {e}") from None
    finally:
        for p in (cert, key):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        os.rmdir(d)


def build_ssl_context(conn: Connection) -> ssl.SSLContext | None:
    """The TLS context for ``conn``; ``None`` for a plain ``http://`` server."""
    if conn.scheme != "https":
        return None
    try:
        ctx = ssl.create_default_context(cadata=conn.ca_pem or None)
    except (ssl.SSLError, ValueError) as e:
        raise ConfigError(f"invalid certificate authority data for {conn.server}: {e}") from None
    if conn.insecure:
        # insecure-skip-tls-verify: encryption without server authentication, like client-go
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if conn.client_cert_pem or conn.client_key_pem:
        if not (conn.client_cert_pem and conn.client_key_pem):
            raise ConfigError("a client certificate needs both the certificate and its key")
        load_client_cert(ctx, conn.client_cert_pem, conn.client_key_pem)
    return ctx
