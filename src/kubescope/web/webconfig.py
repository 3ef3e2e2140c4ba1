"""Prometheus exporter-toolkit web configuration (``--tls-config`` / web-config file), with
exporter-toolkit's semantics (``web/tls_config.go``, ``web/handler.go``, ``docs/web-configuration.md``)::

    tls_server_config:
      cert_file: server.crt              # or cert: <PEM>
      key_file: server.key               # or key: <PEM>
      client_auth_type: RequireAndVerifyClientCert
      client_ca_file: ca.crt             # or client_ca: <PEM>
      min_version: TLS12                 # TLS10..TLS13 (default TLS12); max_version (default TLS13)
      cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
      curve_preferences: [X25519]
      prefer_server_cipher_suites: true
      client_allowed_sans: [scraper.example.com]
    http_server_config:
      http2: true
      headers: {X-Frame-Options: deny}   # only the five headers exporter-toolkit allows
    rate_limit: {burst: 10, interval: 1s}
    basic_auth_users:
      alice: $2y$10$...                  # bcrypt hashes

Unknown keys are refused at every level (Go's ``UnmarshalStrict``); relative paths are relative to
the file's directory.

``client_auth_type`` and Python's ``ssl``: Go's five policies map onto OpenSSL's, except that
OpenSSL cannot ask for a certificate without verifying it:

================================  =======================================================
``NoClientCert`` (default)        no certificate requested
``RequestClientCert``             Go asks for one and ignores it; here none is asked for:
                                  the same clients are admitted
``RequireAnyClientCert``          a certificate is required; Go accepts any, here it must
                                  verify against ``client_ca_file`` (which is then required)
``VerifyClientCertIfGiven``       requested, verified against the client CAs when given
``RequireAndVerifyClientCert``    required and verified against the client CAs
================================  =======================================================

Client CAs without a policy that uses them, and ``client_allowed_sans`` without a policy that
requires a certificate, are refused as exporter-toolkit refuses them. SANs match the client
certificate's DNS names, e-mail addresses, IP addresses and URIs.

The certificate and key files are loaded again when they change (exporter-toolkit reads them on
every new connection); the rest of the file is read at start-up.

Basic auth: a failed check answers 401 with ``WWW-Authenticate: Basic``; bcrypt (slow by design)
runs in a thread, one at a time, with verdicts cached; an unknown user costs a bcrypt too, so
timing does not reveal user names. Configured headers go on every answer, refusals included.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubescope.errors import ConfigError
from kubescope.log import fields
from kubescope.web.tls import GO_CIPHERS, ServingContext

logger = logging.getLogger(__name__)

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
CLIENT_AUTH_TYPES = (
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
)
_CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1", "X25519": "X25519"}
_HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
_KEYS = {
    "": {"tls_server_config", "http_server_config", "rate_limit", "basic_auth_users"},
    "tls_server_config": {
        "cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type", "client_ca_file",
        "cipher_suites", "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites",
        "client_allowed_sans",
    },
    "http_server_config": {"http2", "headers"},
    "rate_limit": {"burst", "interval"},
}  # fmt: skip
# exporter-toolkit's stand-in for unknown users ("fakepassword"): the same bcrypt cost either way
_FAKE_HASH = b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class RateLimit:
    """exporter-toolkit's ``rate_limit``: a token bucket of ``burst`` refilled every ``interval``."""

    burst: int
    interval: float
    tokens: float = 0.0
    last: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) / self.interval)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass(frozen=True)
class WebConfig:
    """A parsed web configuration. ``ssl_context`` is None for plain HTTP."""

    path: str = ""
    ssl_context: ssl.SSLContext | None = None
    basic_auth_users: Mapping[str, bytes] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    client_allowed_sans: tuple[str, ...] = ()
    rate_limit: RateLimit | None = None
    client_auth_type: str = "NoClientCert"
    _ok: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
    _bcrypt: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def auth_required(self) -> bool:
        return bool(self.basic_auth_users)

    async def check_basic_auth(self, header: str | None) -> bool:
        """True if ``Authorization: Basic ...`` names a configured user with the right password."""
        if not self.basic_auth_users:
            return True
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except ValueError:
            return False
        hashed = self.basic_auth_users.get(user)
        known = hashed is not None
        key = hashlib.sha256(b"\0".join((user.encode(), hashed or _FAKE_HASH, password.encode()))).hexdigest()
        verdict = self._ok.get(key)
        if verdict is None:
            verdict = known and await asyncio.get_running_loop().run_in_executor(
                None, self._checkpw, password.encode(), hashed or _FAKE_HASH
            )
            if len(self._ok) > 1024:
                self._ok.clear()
            self._ok[key] = verdict
        return verdict

    def _checkpw(self, password: bytes, hashed: bytes) -> bool:
        import bcrypt  # only with basic_auth_users configured

        with self._bcrypt:  # CPU-heavy: one at a time, as exporter-toolkit does
            return bool(bcrypt.checkpw(password, hashed))

    def peer_allowed(self, peercert: Mapping[str, Any] | None) -> bool:
        """``client_allowed_sans``: the client certificate must carry one of these SANs."""
        if not self.client_allowed_sans:
            return True
        if not peercert:
            return False
        sans = {v for _, v in peercert.get("subjectAltName", ())}
        return bool(sans & set(self.client_allowed_sans))


def load_web_config(path: str, flag: str = "--tls-config") -> WebConfig:
    """Parse a web configuration file; every problem is a ConfigError naming the key and the fix."""
    if not path:
        return WebConfig()
    import yaml  # only with a web configuration file

    where = f"{flag}={path}"
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except OSError as e:
        raise ConfigError(f"{where}: cannot read the file: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: invalid YAML: {e}") from e
    _check_keys(where, "", data)
    base = p.parent
    tls = data.get("tls_server_config") or {}
    _check_keys(where, "tls_server_config", tls)
    http = data.get("http_server_config") or {}
    _check_keys(where, "http_server_config", http)
    headers = {str(k): str(v) for k, v in (http.get("headers") or {}).items()}
    for k, v in headers.items():
        if k not in _HEADERS:
            raise ConfigError(
                f"{where}: HTTP header {k!r} can not be configured; allowed: {', '.join(_HEADERS)}"
            )
        if _HEADERS[k] and v not in _HEADERS[k]:
            raise ConfigError(
                f"{where}: invalid value for {k}: expected one of {list(_HEADERS[k])}, got {v!r}"
            )
    users: dict[str, bytes] = {}
    for user, hashed in (data.get("basic_auth_users") or {}).items():
        h = str(hashed).encode()
        if not h.startswith((b"$2a$", b"$2b$", b"$2y$")):
            raise ConfigError(
                f"{where}: basic_auth_users.{user} must be a bcrypt hash (htpasswd -nBC 10 '' | tr -d ':\\n')"
            )
        users[str(user)] = h
    rate = data.get("rate_limit") or {}
    _check_keys(where, "rate_limit", rate)
    limiter = None
    if rate.get("interval"):
        limiter = RateLimit(int(rate.get("burst") or 0), _duration(where, rate["interval"]))
    auth = str(tls.get("client_auth_type") or "NoClientCert")
    ctx = _tls_context(where, base, tls, auth) if _tls_enabled(tls) else None
    sans = tuple(str(s) for s in tls.get("client_allowed_sans") or ())
    return WebConfig(path, ctx, users, headers, sans, limiter, auth if ctx else "NoClientCert")


def _check_keys(where: str, section: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: {section or 'the file'} must be a map")
    unknown = set(map(str, value)) - _KEYS[section]
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {sorted(unknown)}{' in ' + section if section else ''}; "
            f"known: {sorted(_KEYS[section])}"
        )


def _tls_enabled(tls: Mapping[str, Any]) -> bool:
    # exporter-toolkit's TLSConfig.IsEnabled: any of these set means TLS (and then it must be complete)
    return any(
        tls.get(k)
        for k in ("cert_file", "cert", "key_file", "key", "client_ca_file", "client_ca", "client_auth_type")
    )


def _tls_context(where: str, base: Path, tls: Mapping[str, Any], auth: str) -> ssl.SSLContext:
    def rel(v: Any) -> str:
        s = str(v)
        return s if Path(s).is_absolute() else str(base / s)

    if not (tls.get("cert_file") or tls.get("cert")):
        raise ConfigError(f"{where}: tls_server_config: missing one of cert or cert_file")
    if not (tls.get("key_file") or tls.get("key")):
        raise ConfigError(f"{where}: tls_server_config: missing one of key or key_file")
    if auth not in CLIENT_AUTH_TYPES and auth != "RequireClientCert":
        raise ConfigError(f"{where}: client_auth_type {auth!r} is not one of {', '.join(CLIENT_AUTH_TYPES)}")
    auth = "RequireAnyClientCert" if auth == "RequireClientCert" else auth  # kept by exporter-toolkit
    ctx = ServingContext(ssl.PROTOCOL_TLS_SERVER)
    _load_pair(where, ctx, tls, rel)
    ctx.minimum_version = _version(where, "min_version", tls.get("min_version") or "TLS12")
    ctx.maximum_version = _version(where, "max_version", tls.get("max_version") or "TLS13")
    ca_pem = ""
    if tls.get("client_ca_file"):
        try:
            ca_pem = Path(rel(tls["client_ca_file"])).read_text()
        except OSError as e:
            raise ConfigError(f"{where}: cannot read client_ca_file: {e.strerror}") from e
    elif tls.get("client_ca"):
        ca_pem = str(tls["client_ca"])
    if ca_pem and auth == "NoClientCert":
        raise ConfigError(
            f"{where}: client CA's have been configured without a Client Auth Policy (client_auth_type)"
        )
    if tls.get("client_allowed_sans") and auth not in ("RequireAnyClientCert", "RequireAndVerifyClientCert"):
        raise ConfigError(
            f"{where}: client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert "
            "or RequireAndVerifyClientCert"
        )
    if auth in ("RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"):
        if not ca_pem:
            raise ConfigError(
                f"{where}: client_auth_type {auth} needs client_ca_file (or client_ca): client certificates "
                "are verified against it"
                + (
                    " (Python's TLS cannot require a certificate without verifying it)"
                    if auth == "RequireAnyClientCert"
                    else ""
                )
            )
        try:
            ctx.load_verify_locations(cadata=ca_pem)
        except (ssl.SSLError, ValueError) as e:
            raise ConfigError(f"{where}: invalid client CA: {e}") from e
        ctx.verify_mode = ssl.CERT_OPTIONAL if auth == "VerifyClientCertIfGiven" else ssl.CERT_REQUIRED
        if auth == "RequireAnyClientCert":
            logger.info(
                "RequireAnyClientCert: client certificates must verify against the client CA",
                extra=fields(config=where),
            )
    suites = tls.get("cipher_suites") or []
    if suites:
        names = []
        for s in suites:
            if s not in GO_CIPHERS:
                raise ConfigError(f"{where}: unknown cipher suite {s!r}")
            names.append(GO_CIPHERS[s])
        ctx.set_ciphers(":".join(dict.fromkeys(names)))
    curves = tls.get("curve_preferences") or []
    for c in curves:
        if c not in _CURVES:
            raise ConfigError(f"{where}: unknown curve {c!r}; known: {', '.join(_CURVES)}")
    if curves:
        # Python's ssl sets one ECDH curve: the first preferred one
        ctx.set_ecdh_curve(_CURVES[curves[0]])
    if tls.get("prefer_server_cipher_suites", True):
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _load_pair(where: str, ctx: ServingContext, tls: Mapping[str, Any], rel: Any) -> None:
    try:
        if tls.get("cert_file") and tls.get("key_file"):
            ctx.load_pair(rel(tls["cert_file"]), rel(tls["key_file"]))  # reloaded when they change
            return
        # inline PEM (cert/key): ssl loads a pair from files only; a private temporary file, removed at once
        with tempfile.TemporaryDirectory(prefix="kubescope-tls-") as d:
            cert = Path(d) / "tls.crt"
            key = Path(d) / "tls.key"
            cert.write_text(str(tls["cert"]) if tls.get("cert") else Path(rel(tls["cert_file"])).read_text())
            key.touch(0o600)
            key.write_text(str(tls["key"]) if tls.get("key") else Path(rel(tls["key_file"])).read_text())
            ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"{where}: cannot load the certificate and key (cert_file/key_file): {e}") from e


def _version(where: str, key: str, v: Any) -> ssl.TLSVersion:
    try:
        return TLS_VERSIONS[str(v)]
    except KeyError:
        raise ConfigError(f"{where}: {key} {v!r} is not one of {', '.join(TLS_VERSIONS)}") from None


def _duration(where: str, v: Any) -> float:
    s = str(v).strip()
    total, pos = 0.0, 0
    while pos < len(s):
        m = _DURATION.match(s, pos)
        if m is None:
            raise ConfigError(f"{where}: rate_limit.interval {v!r}: use a duration such as 1s or 500ms")
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if total <= 0:
        raise ConfigError(f"{where}: rate_limit.interval {v!r} must be positive")
    return total
