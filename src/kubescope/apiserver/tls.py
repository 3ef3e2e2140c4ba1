"""Serving TLS for an aggregated API server: load ``--tls-cert-file``/``--tls-private-key-file``, or
self-sign into ``--cert-dir`` as k8s.io/apiserver's ``MaybeDefaultWithSelfSignedCerts`` does.

Self-signed material: a CA ``localhost-ca@<unix time>`` and a serving certificate
``localhost@<unix time>`` it signs, for ``localhost`` and ``127.0.0.1`` (plus any extra names),
valid one year; ``<cert-dir>/apiserver.crt`` holds the certificate then the CA, ``apiserver.key``
the key (0600). Existing files are reused, so restarts keep the same certificate. The APIService
then needs ``insecureSkipTLSVerify: true`` (or the CA as ``caBundle``), as metrics-server's does.

The server context requests (but does not require) a client certificate when client CAs are
known (``--client-ca-file``, ``--requestheader-client-ca-file`` or the cluster's
``extension-apiserver-authentication`` ConfigMap): the front proxy authenticates that way.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubescope.errors import ConfigError
from kubescope.log import fields

logger = logging.getLogger(__name__)

TLS_VERSIONS = {
    "VersionTLS10": ssl.TLSVersion.TLSv1,
    "VersionTLS11": ssl.TLSVersion.TLSv1_1,
    "VersionTLS12": ssl.TLSVersion.TLSv1_2,
    "VersionTLS13": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True)
class ServingCert:
    cert_file: str
    key_file: str
    generated: bool = False


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def generate_self_signed(
    host: str = "localhost", ips: tuple[str, ...] = ("127.0.0.1",), dns: tuple[str, ...] = ()
) -> tuple[bytes, bytes]:
    """``(certificate chain PEM, key PEM)``: a serving certificate signed by a fresh CA."""
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
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.minimum_version = TLS_VERSIONS[min_version]
    except KeyError:
        raise ConfigError(f"--tls-min-version={min_version}: use one of {', '.join(TLS_VERSIONS)}") from None
    try:
        ctx.load_cert_chain(cert.cert_file, cert.key_file)
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
