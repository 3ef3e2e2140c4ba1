"""Serving TLS from apiserver-style options: ``--tls-cert-file``/``--tls-private-key-file``, or a
certificate self-signed into ``--cert-dir`` as k8s.io/apiserver's ``MaybeDefaultWithSelfSignedCerts``
does; ``--tls-min-version``, ``--tls-cipher-suites`` (Go names) and ``--client-ca-file``.

Self-signed material: a CA ``localhost-ca@<unix time>`` and a serving certificate
``localhost@<unix time>`` it signs, for ``localhost`` and ``127.0.0.1`` (plus any extra names),
valid one year; ``<cert-dir>/<pair>.crt`` holds the certificate then the CA, ``<pair>.key`` the key
(0600). Existing files are reused, so restarts keep the same certificate. (An APIService then needs
``insecureSkipTLSVerify: true`` or the CA as ``caBundle``, as metrics-server's does.)

The certificate and key files are loaded again when they change (:class:`ServingContext`).

Client certificates are requested (not required) once client CAs are known, and verified when
given, as the generic apiserver does: authentication (the certificate's user) is the request
pipeline's business. The Prometheus web-config file (:mod:`.webconfig`) is the other way to
configure a listener's TLS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from kubescope.errors import ConfigError
from kubescope.log import fields

logger = logging.getLogger(__name__)

TLS_VERSIONS = {
    "VersionTLS10": ssl.TLSVersion.TLSv1,
    "VersionTLS11": ssl.TLSVersion.TLSv1_1,
    "VersionTLS12": ssl.TLSVersion.TLSv1_2,
    "VersionTLS13": ssl.TLSVersion.TLSv1_3,
}
GO_CIPHERS = {
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
"""Go's TLS 1.2 cipher suite names -> OpenSSL's (TLS 1.3 suites are not configurable in Go either)."""


def openssl_ciphers(names: tuple[str, ...] | list[str], what: str = "--tls-cipher-suites") -> str:
    """An OpenSSL cipher string from Go names; an unknown name is a ConfigError naming ``what``."""
    out = []
    for n in names:
        if n not in GO_CIPHERS:
            raise ConfigError(
                f"{what}: unknown or unsupported cipher suite {n!r}; use Go names such as "
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            )
        out.append(GO_CIPHERS[n])
    return ":".join(dict.fromkeys(out))


class ServingContext(ssl.SSLContext):
    """A server context that remembers its certificate and key files, so that a rotated pair
    (cert-manager, a renewed Secret) is loaded again while serving (:meth:`reload_if_changed`;
    the serving core checks every few seconds), as k8s.io/apiserver and exporter-toolkit do.
    Connections already open keep the certificate they were made with."""

    cert_file: str = ""
    key_file: str = ""
    _stamp: tuple[float, int, float, int] | None = None

    def load_pair(self, cert_file: str, key_file: str) -> None:
        stamp = _stamp(cert_file, key_file)
        self.load_cert_chain(cert_file, key_file)
        self.cert_file, self.key_file, self._stamp = cert_file, key_file, stamp

    def reload_if_changed(self) -> bool:
        """Load the pair again if either file changed; ConfigError (the old pair kept) if unusable."""
        if not self.cert_file:
            return False
        try:
            stamp = _stamp(self.cert_file, self.key_file)
        except OSError as e:
            raise ConfigError(f"cannot read the serving certificate {self.cert_file}: {e.strerror}") from e
        if stamp == self._stamp:
            return False
        try:
            self.load_cert_chain(self.cert_file, self.key_file)
        except (ssl.SSLError, OSError) as e:
            raise ConfigError(
                f"cannot load the new serving certificate {self.cert_file} / {self.key_file}: {e}"
            ) from e
        self._stamp = stamp
        return True


def _stamp(cert_file: str, key_file: str) -> tuple[float, int, float, int]:
    c, k = os.stat(cert_file), os.stat(key_file)
    return c.st_mtime, c.st_size, k.st_mtime, k.st_size


@dataclass(frozen=True)
class ServingCert:
    cert_file: str
    key_file: str
    generated: bool = False


@dataclass(frozen=True)
class TLSOptions:
    """apiserver-style serving TLS options (flags of the same names; see :mod:`.flags`)."""

    cert_file: str = ""
    key_file: str = ""
    cert_dir: str = ""
    """Self-sign into this directory when no certificate is given ("" with no certificate: plain HTTP)."""
    min_version: str = "VersionTLS12"
    cipher_suites: tuple[str, ...] = ()
    client_ca_file: str = ""
    pair_name: str = "apiserver"

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file or self.key_file or self.cert_dir)

    def validate(self) -> None:
        """Everything checkable without touching files: raises ConfigError naming the flag."""
        if bool(self.cert_file) != bool(self.key_file):
            raise ConfigError("--tls-cert-file and --tls-private-key-file must be given together")
        if self.min_version not in TLS_VERSIONS:
            raise ConfigError(f"--tls-min-version={self.min_version}: use one of {', '.join(TLS_VERSIONS)}")
        openssl_ciphers(self.cipher_suites)
        if self.client_ca_file and not self.enabled:
            raise ConfigError("--client-ca-file needs TLS: give --tls-cert-file/--tls-private-key-file")

    def context(self, client_ca_pem: str = "") -> ssl.SSLContext | None:
        """The server context (None for plain HTTP); client CAs from ``--client-ca-file`` and
        ``client_ca_pem`` (e.g. the cluster's authentication ConfigMap)."""
        self.validate()
        if not self.enabled:
            return None
        cert = ensure_serving_cert(self.cert_file, self.key_file, self.cert_dir, self.pair_name)
        pem = client_ca_pem
        if self.client_ca_file:
            pem = read_text(self.client_ca_file, "--client-ca-file") + "\n" + pem
        return server_context(cert, pem, self.min_version, openssl_ciphers(self.cipher_suites))


def read_text(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f"{flag}={path}: cannot read: {e.strerror or e}") from e


def generate_self_signed(
    host: str = "localhost", ips: tuple[str, ...] = ("127.0.0.1",), dns: tuple[str, ...] = ()
) -> tuple[bytes, bytes]:
    """``(certificate chain PEM, key PEM)``: a serving certificate signed by a fresh CA."""
    # imported here: servers that never self-sign do not pay for cryptography's import
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def _name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = dt.datetime.now(dt.UTC)
    stamp = int(now.timestamp())
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{host}-ca@{stamp}")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(host)] if not _is_ip(host) else []
    names += [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{host}@{stamp}"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, key_pem


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


def ensure_serving_cert(
    cert_file: str,
    key_file: str,
    cert_dir: str,
    pair_name: str = "apiserver",
    extra_dns: tuple[str, ...] = (),
) -> ServingCert:
    """The files to serve with: the given pair, an existing pair in ``cert_dir``, or a new one there."""
    if cert_file or key_file:
        if not (cert_file and key_file):
            raise ConfigError("--tls-cert-file and --tls-private-key-file must be given together")
        for f, flag in ((cert_file, "--tls-cert-file"), (key_file, "--tls-private-key-file")):
            if not os.path.isfile(f):
                raise ConfigError(f"{flag}={f}: file not found")
        return ServingCert(cert_file, key_file)
    d = Path(cert_dir)
    crt, key = d / f"{pair_name}.crt", d / f"{pair_name}.key"
    if crt.is_file() and key.is_file():
        return ServingCert(str(crt), str(key))
    try:
        d.mkdir(parents=True, exist_ok=True)
        chain, key_pem = generate_self_signed(dns=extra_dns)
        crt.write_bytes(chain)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key_pem)
    except OSError as e:
        raise ConfigError(
            f"--cert-dir={cert_dir}: cannot write a self-signed certificate ({e}); "
            "point --cert-dir at a writable directory or pass --tls-cert-file/--tls-private-key-file"
        ) from e
    logger.info("generated self-signed serving certificate", extra=fields(cert=str(crt), key=str(key)))
    return ServingCert(str(crt), str(key), generated=True)


def server_context(
    cert: ServingCert, client_ca_pem: str = "", min_version: str = "VersionTLS12", ciphers: str = ""
) -> ServingContext:
    ctx = ServingContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.minimum_version = TLS_VERSIONS[min_version]
    except KeyError:
        raise ConfigError(f"--tls-min-version={min_version}: use one of {', '.join(TLS_VERSIONS)}") from None
    try:
        ctx.load_pair(cert.cert_file, cert.key_file)
    except (ssl.SSLError, OSError) as e:
        raise ConfigError(
            f"cannot load the serving certificate {cert.cert_file} / {cert.key_file}: {e}"
        ) from e
    if ciphers:
        try:
            ctx.set_ciphers(ciphers)
        except ssl.SSLError as e:
            raise ConfigError(f"--tls-cipher-suites: {e}") from e
    ctx.set_alpn_protocols(["http/1.1"])
    add_client_cas(ctx, client_ca_pem)
    return ctx


def add_client_cas(ctx: ssl.SSLContext, pem: str) -> None:
    """Trust ``pem`` for client certificates from the next handshake on (CAs are only ever added)."""
    if not pem.strip():
        return
    try:
        ctx.load_verify_locations(cadata=pem)
    except (ssl.SSLError, ValueError) as e:
        raise ConfigError(f"invalid client CA bundle: {e}") from e
    ctx.verify_mode = ssl.CERT_OPTIONAL
