"""Delegated authentication, as k8s.io/apiserver does it for aggregated API servers.

Tried in this order; the first that yields a user wins (``union`` authenticator):

1. **Front proxy** (requestheader): the client certificate was issued by the requestheader CA and,
   when ``allowed_names`` is set, its CommonName is listed. The user is then read from the
   ``X-Remote-User`` / ``X-Remote-Group`` / ``X-Remote-Extra-<key>`` (/ ``X-Remote-Uid``) headers
   (names configurable). Those headers are ignored on any other connection.
2. **Client certificate**: issued by the client CA; user = CommonName, groups = Organizations.
3. **Bearer token**: ``Authorization: Bearer ...`` checked with a ``TokenReview`` against the API
   server, answers (positive and negative) cached for ``cache_ttl`` seconds, keyed by a hash.

If none applies and none failed, the request is ``system:anonymous`` (groups
``system:unauthenticated``) when anonymous access is enabled (k8s.io/apiserver's default for
delegated authentication), and authorization decides; a failure (a certificate from the wrong CA
for a step, a rejected token, an unreachable TokenReview) is a 401. Authenticated users get
``system:authenticated`` added, as ``AuthenticatedGroupAdder`` does.

Python's TLS layer verifies client certificates against the union of both CAs during the
handshake, so a certificate from an unknown CA fails the handshake instead of yielding a 401;
which CA issued an accepted certificate is then checked here with the issuer's signature
(certificates directly issued by a configured CA; intermediates are not supported).
"""

from __future__ import annotations

import hashlib
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubescope.errors import ConfigError, KubescopeError
from kubescope.log import fields

logger = logging.getLogger(__name__)

ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
AUTHENTICATED_GROUP = "system:authenticated"


@dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def with_authenticated_group(self) -> UserInfo:
        if (
            self.name == ANONYMOUS_USER
            or AUTHENTICATED_GROUP in self.groups
            or UNAUTHENTICATED_GROUP in self.groups
        ):
            return self
        return UserInfo(self.name, self.uid, (*self.groups, AUTHENTICATED_GROUP), self.extra)


ANONYMOUS = UserInfo(ANONYMOUS_USER, groups=(UNAUTHENTICATED_GROUP,))


class AuthenticationError(KubescopeError):
    """The request carries credentials that do not authenticate: answer 401."""


def load_pem_certificates(pem: str | bytes, what: str) -> list[x509.Certificate]:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise ConfigError(
            f"{what}: not a PEM certificate bundle ({e}); pass the CA certificate(s) in PEM"
        ) from e
    return certs


@dataclass(frozen=True)
class RequestHeaderConfig:
    """``--requestheader-*`` (or the ``extension-apiserver-authentication`` ConfigMap)."""

    ca: tuple[x509.Certificate, ...]
    ca_pem: str = field(repr=False, default="")
    allowed_names: tuple[str, ...] = ()
    username_headers: tuple[str, ...] = ("x-remote-user",)
    uid_headers: tuple[str, ...] = ()
    group_headers: tuple[str, ...] = ("x-remote-group",)
    extra_prefixes: tuple[str, ...] = ("x-remote-extra-",)


@dataclass(frozen=True)
class AuthConfig:
    """What the authenticators trust; replaced as a whole when the ConfigMap changes."""

    client_ca: tuple[x509.Certificate, ...] = ()
    client_ca_pem: str = field(repr=False, default="")
    requestheader: RequestHeaderConfig | None = None

    @property
    def all_ca_pem(self) -> str:
        parts = [self.client_ca_pem]
        if self.requestheader is not None:
            parts.append(self.requestheader.ca_pem)
        return "\n".join(p.strip() for p in parts if p.strip())


def config_from_configmap(data: Mapping[str, str]) -> tuple[str, RequestHeaderConfig | None]:
    """Client CA PEM and requestheader settings from ``kube-system/extension-apiserver-authentication``."""
    client_ca = data.get("client-ca-file", "")
    rh_pem = data.get("requestheader-client-ca-file", "")
    rh = None
    if rh_pem.strip():

        def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = data.get(key)
            if raw is None or raw == "":
                return default
            try:
                value = msgspec.json.decode(raw, type=list[str])
            except msgspec.DecodeError as e:
                raise ConfigError(
                    f"configmap kube-system/extension-apiserver-authentication: {key} is not a JSON list "
                    f"of strings: {e}"
                ) from e
            return tuple(value)

        rh = RequestHeaderConfig(
            ca=tuple(load_pem_certificates(rh_pem, "requestheader-client-ca-file (configmap)")),
            ca_pem=rh_pem,
            allowed_names=strings("requestheader-allowed-names", ()),
            username_headers=strings("requestheader-username-headers", ("x-remote-user",)),
            uid_headers=strings("requestheader-uid-headers", ()),
            group_headers=strings("requestheader-group-headers", ("x-remote-group",)),
            extra_prefixes=strings("requestheader-extra-headers-prefix", ("x-remote-extra-",)),
        )
    return client_ca, rh


def _issued_by(cert: x509.Certificate, cas: Sequence[x509.Certificate]) -> bool:
    for ca in cas:
        if cert.issuer != ca.subject:
            continue
        try:
            cert.verify_directly_issued_by(ca)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return True
    return False


def _common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def _allows_client_auth(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku


class _TokenReviewUser(msgspec.Struct, gc=False):
    username: str = ""
    uid: str = ""
    groups: list[str] = msgspec.field(default_factory=list)
    extra: dict[str, list[str]] = msgspec.field(default_factory=dict)


class _TokenReviewStatus(msgspec.Struct, gc=False):
    authenticated: bool = False
    user: _TokenReviewUser = msgspec.field(default_factory=_TokenReviewUser)
    error: str = ""


class _TokenReview(msgspec.Struct, gc=False):
    status: _TokenReviewStatus = msgspec.field(default_factory=_TokenReviewStatus)


_token_review_decoder = msgspec.json.Decoder(_TokenReview)

Poster = Callable[[str, bytes], Awaitable[bytes]]
"""POST a JSON body to an API path, return the response body (raises on failure)."""


class TokenReviewer:
    """Bearer tokens checked by ``TokenReview``, with a positive and negative cache."""

    def __init__(
        self, post: Poster, cache_ttl: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._post = post
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._cache: dict[bytes, tuple[float, UserInfo | None, str]] = {}
        self.requests = 0
        self.cache_hits = 0

    async def review(self, token: str) -> UserInfo:
        """The token's user; raises :class:`AuthenticationError` when rejected or not checkable."""
        key = hashlib.sha256(token.encode()).digest()
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            self.cache_hits += 1
            user, error = hit[1], hit[2]
        else:
            user, error = await self._ask(token)
            if len(self._cache) > 10_000:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[key] = (now + self.cache_ttl, user, error)
        if user is None:
            raise AuthenticationError(error or "invalid bearer token")
        return user

    async def _ask(self, token: str) -> tuple[UserInfo | None, str]:
        body = msgspec.json.encode(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        )
        self.requests += 1
        try:
            raw = await self._post("/apis/authentication.k8s.io/v1/tokenreviews", body)
            review = _token_review_decoder.decode(raw)
        except (KubescopeError, msgspec.DecodeError) as e:
            # not cached: the next request asks again
            logger.warning("token review failed", extra=fields(error=str(e)))
            raise AuthenticationError(f"token review failed: {e}") from e
        st = review.status
        if not st.authenticated or not st.user.username:
            return None, st.error or "invalid bearer token"
        u = st.user
        extra = tuple(sorted((k, tuple(v)) for k, v in u.extra.items()))
        return UserInfo(u.username, u.uid, tuple(u.groups), extra), ""


@dataclass
class Authenticator:
    """Resolve a request's user (see the module docstring for the order)."""

    config: AuthConfig = field(default_factory=AuthConfig)
    tokens: TokenReviewer | None = None
    anonymous: bool = True
    _certs: dict[bytes, x509.Certificate] = field(default_factory=dict, repr=False)

    def _cert(self, der: bytes) -> x509.Certificate:
        cert = self._certs.get(der)
        if cert is None:
            cert = x509.load_der_x509_certificate(der)
            if len(self._certs) > 1000:
                self._certs.clear()
            self._certs[der] = cert
        return cert

    async def authenticate(self, headers: Mapping[str, str], peer_der: bytes | None) -> UserInfo:
        errors: list[str] = []
        cfg = self.config
        cert = self._cert(peer_der) if peer_der else None
        if cert is not None and cfg.requestheader is not None:
            user = self._front_proxy(cert, cfg.requestheader, headers, errors)
            if user is not None:
                return user.with_authenticated_group()
        if cert is not None and cfg.client_ca:
            if _issued_by(cert, cfg.client_ca) and _allows_client_auth(cert):
                cn = _common_name(cert)
                if cn:
                    orgs = tuple(
                        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
                    )
                    return UserInfo(cn, groups=orgs).with_authenticated_group()
            else:
                errors.append("x509: certificate signed by unknown authority")
        auth = headers.get("Authorization", "")
        if auth:
            parts = auth.split(" ", 2)
            if len(parts) >= 2 and parts[0].lower() == "bearer" and parts[1]:
                if self.tokens is None:
                    errors.append("bearer tokens cannot be checked: no API server to send TokenReviews to")
                else:
                    try:
                        return (await self.tokens.review(parts[1])).with_authenticated_group()
                    except AuthenticationError as e:
                        errors.append(str(e))
        if errors:
            raise AuthenticationError("; ".join(errors))
        if self.anonymous:
            return ANONYMOUS
        raise AuthenticationError("no credentials")

    @staticmethod
    def _front_proxy(
        cert: x509.Certificate, rh: RequestHeaderConfig, headers: Mapping[str, str], errors: list[str]
    ) -> UserInfo | None:
        if not _issued_by(cert, rh.ca):
            errors.append("x509: certificate signed by unknown authority (requestheader)")
            return None
        if rh.allowed_names:
            cn = _common_name(cert)
            if cn not in rh.allowed_names:
                errors.append(f"x509: subject with cn={cn} is not in the allowed list")
                return None
        name = ""
        for h in rh.username_headers:
            name = headers.get(h, "").strip()
            if name:
                break
        if not name:
            return None
        uid = ""
        for h in rh.uid_headers:
            uid = headers.get(h, "").strip()
            if uid:
                break
        groups: list[str] = []
        getall = getattr(headers, "getall", None)
        for h in rh.group_headers:
            values = getall(h, []) if getall is not None else ([headers[h]] if h in headers else [])
            groups.extend(values)
        extra: dict[str, list[str]] = {}
        for k in headers:
            lk = k.lower()
            for prefix in rh.extra_prefixes:
                if lk.startswith(prefix.lower()):
                    key = urllib.parse.unquote(lk[len(prefix) :])
                    values = getall(k, []) if getall is not None else [headers[k]]
                    extra.setdefault(key, [])
                    for v in values:
                        if v not in extra[key]:
                            extra[key].append(v)
                    break
        return UserInfo(name, uid, tuple(groups), tuple(sorted((k, tuple(v)) for k, v in extra.items())))
