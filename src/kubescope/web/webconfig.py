"""Prometheus exporter-toolkit web configuration (``--tls-config``), as kube-state-metrics reads it.

The file format (prometheus/exporter-toolkit ``docs/web-configuration.md``)::

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # NoClientCert (default), RequestClientCert,
                                                     # RequireAnyClientCert, VerifyClientCertIfGiven
      client_ca_file: ca.crt
      min_version: TLS12                             # TLS10..TLS13
      max_version: TLS13
      cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
      client_allowed_sans: [scraper.example.com]
    http_server_config:
      headers: {X-Frame-Options: deny}
    basic_auth_users:
      alice: $2y$10$...                              # bcrypt hashes

Relative paths are relative to the file's directory. The result builds an ``ssl.SSLContext`` once
and checks basic auth with a cache, since bcrypt is deliberately slow.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubescope.errors import ConfigError

_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# Go's cipher suite names -> OpenSSL names (TLS 1.2; TLS 1.3 suites are not configurable in Go either)
_CIPHERS = {
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


@dataclass(frozen=True)
class WebConfig:
    """A parsed web configuration. ``ssl_context`` is None for plain HTTP."""

    path: str = ""
    ssl_context: ssl.SSLContext | None = None
    basic_auth_users: Mapping[str, bytes] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    client_allowed_sans: tuple[str, ...] = ()
    _ok: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False, compare=False)

    @property
    def auth_required(self) -> bool:
        return bool(self.basic_auth_users)

    def check_basic_auth(self, header: str | None) -> bool:
        """True if ``Authorization: Basic ...`` names a configured user with the right password."""
        if not self.basic_auth_users:
            return True
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except ValueError:
            return False
        hashed = self.basic_auth_users.get(user)
        if hashed is None:
            return False
        # bcrypt costs ~100 ms by design: cache verdicts by a digest of the credentials
        key = (user, hashlib.sha256(password.encode() + hashed).hexdigest())
        verdict = self._ok.get(key)
        if verdict is None:
            import bcrypt  # only with basic_auth_users configured

            verdict = bcrypt.checkpw(password.encode(), hashed)
            if len(self._ok) > 1024:
                self._ok.clear()
            self._ok[key] = verdict
        return verdict

    def peer_allowed(self, peercert: Mapping[str, Any] | None) -> bool:
        """``client_allowed_sans``: the client certificate must carry one of these SANs."""
        if not self.client_allowed_sans:
            return True
        if not peercert:
            return False
        sans = {v for _, v in peercert.get("subjectAltName", ())}
        return bool(sans & set(self.client_allowed_sans))


def load_web_config(path: str) -> WebConfig:
    """Parse a web configuration file; every problem is a ConfigError naming the key and the fix."""
    if not path:
        return WebConfig()
    import yaml  # only with --tls-config

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except OSError as e:
        raise ConfigError(f"--tls-config={path}: cannot read the file: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"--tls-config={path}: invalid YAML: {e}") from e
    if not isinstance(data, Mapping):
        raise ConfigError(f"--tls-config={path}: expected a map with tls_server_config / basic_auth_users")
    known = {"tls_server_config", "http_server_config", "basic_auth_users"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"--tls-config={path}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    base = p.parent

    def rel(v: Any) -> str:
        s = str(v)
        return s if Path(s).is_absolute() else str(base / s)

    ctx = None
    sans: tuple[str, ...] = ()
    tls = data.get("tls_server_config")
    if tls:
        if not isinstance(tls, Mapping):
            raise ConfigError(f"--tls-config={path}: tls_server_config must be a map")
        cert, key = tls.get("cert_file"), tls.get("key_file")
        if not cert or not key:
            raise ConfigError(f"--tls-config={path}: tls_server_config needs both cert_file and key_file")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(rel(cert), rel(key))
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"--tls-config={path}: cannot load cert_file/key_file: {e}") from e
        ctx.minimum_version = _version(path, "min_version", tls.get("min_version", "TLS12"))
        if tls.get("max_version"):
            ctx.maximum_version = _version(path, "max_version", tls["max_version"])
        auth = str(tls.get("client_auth_type") or "NoClientCert")
        if auth not in _CLIENT_AUTH:
            raise ConfigError(
                f"--tls-config={path}: client_auth_type {auth!r} is not one of {', '.join(_CLIENT_AUTH)}"
            )
        ca = tls.get("client_ca_file")
        if auth in ("VerifyClientCertIfGiven", "RequireAndVerifyClientCert") and not ca:
            raise ConfigError(f"--tls-config={path}: client_auth_type {auth} needs client_ca_file")
        if ca:
            try:
                ctx.load_verify_locations(rel(ca))
            except (OSError, ssl.SSLError) as e:
                raise ConfigError(f"--tls-config={path}: cannot load client_ca_file: {e}") from e
        ctx.verify_mode = _CLIENT_AUTH[auth]
        suites = tls.get("cipher_suites") or []
        if suites:
            names = []
            for s in suites:
                if s not in _CIPHERS:
                    raise ConfigError(f"--tls-config={path}: unknown cipher suite {s!r}")
                names.append(_CIPHERS[s])
            ctx.set_ciphers(":".join(names))
        sans = tuple(str(s) for s in tls.get("client_allowed_sans") or ())
    users: dict[str, bytes] = {}
    for user, hashed in (data.get("basic_auth_users") or {}).items():
        h = str(hashed).encode()
        if not h.startswith((b"$2a$", b"$2b$", b"$2y$")):
            raise ConfigError(
                f"--tls-config={path}: basic_auth_users.{user} must be a bcrypt hash (htpasswd -nBC 10 '' | tr -d ':\\n')"
            )
        users[str(user)] = h
    http = data.get("http_server_config") or {}
    headers = {str(k): str(v) for k, v in (http.get("headers") or {}).items()}
    return WebConfig(path, ctx, users, headers, sans)


def _version(path: str, key: str, v: Any) -> ssl.TLSVersion:
    try:
        return _TLS_VERSIONS[str(v)]
    except KeyError:
        raise ConfigError(
            f"--tls-config={path}: {key} {v!r} is not one of {', '.join(_TLS_VERSIONS)}"
        ) from None
