"""The simulator's certificates, laid out as kubeadm does: a cluster CA signing the API server's
serving certificate (and, in the kubelet farm, the kubelets'), and a separate front-proxy CA signing
the client certificate the aggregation layer presents to extension API servers
(CN ``front-proxy-client``).

Everything is generated in memory at start-up (ECDSA P-256, fast) and written to a private
directory only where a file is needed (ssl's ``load_cert_chain`` wants paths).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes


@dataclass
class CA:
    name: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def create(cls, cn: str) -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cn, cert, key)

    @classmethod
    def load(cls, cert_pem: bytes, key_pem: bytes) -> CA:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(cert.subject.rfc4514_string(), cert, key)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def issue(
        self,
        cn: str,
        *,
        server: bool = False,
        client: bool = False,
        ips: tuple[str, ...] = (),
        dns: tuple[str, ...] = (),
        orgs: tuple[str, ...] = (),
    ) -> KeyPair:
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
        now = dt.datetime.now(dt.UTC)
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        return KeyPair(
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )


def write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


@dataclass
class ClusterPKI:
    """All the simulator's TLS material, with files in ``directory``."""

    directory: Path
    ca: CA
    front_proxy_ca: CA
    serving: KeyPair
    front_proxy_client: KeyPair
    kubelet_client: KeyPair
    _kubelet_ctx: ssl.SSLContext | None = None

    @classmethod
    def create(cls, directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ClusterPKI:
        directory.mkdir(parents=True, exist_ok=True)
        ca = CA.create("kubescope-sim-ca")
        fp = CA.create("kubescope-sim-front-proxy-ca")
        ips = tuple(h for h in hosts if _is_ip(h))
        dns = (
            *tuple(h for h in hosts if not _is_ip(h)),
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
        )
        serving = ca.issue("kube-apiserver", server=True, ips=ips, dns=dns)
        fpc = fp.issue("front-proxy-client", client=True)
        kc = ca.issue("kube-apiserver-kubelet-client", client=True, orgs=("system:masters",))
        pki = cls(directory, ca, fp, serving, fpc, kc)
        for name, data in (
            ("ca.crt", ca.pem),
            ("ca.key", ca.key_pem()),
            ("front-proxy-ca.crt", fp.pem),
            ("apiserver.crt", serving.cert_pem),
            ("apiserver.key", serving.key_pem),
            ("front-proxy-client.crt", fpc.cert_pem),
            ("front-proxy-client.key", fpc.key_pem),
            ("apiserver-kubelet-client.crt", kc.cert_pem),
            ("apiserver-kubelet-client.key", kc.key_pem),
        ):
            write_private(directory / name, data)
        return pki

    def path(self, name: str) -> str:
        return str(self.directory / name)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.path("apiserver.crt"), self.path("apiserver.key"))
        ctx.set_alpn_protocols(["http/1.1"])
        # client certificates (signed by the cluster CA) are an accepted way to authenticate
        ctx.load_verify_locations(cadata=self.ca.pem.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def front_proxy_client_context(self, ca_bundle: bytes | None, insecure: bool) -> ssl.SSLContext:
        """The aggregation layer's client side towards an extension API server."""
        ctx = ssl.create_default_context()
        if insecure or not ca_bundle:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.load_verify_locations(cadata=ca_bundle.decode())
        ctx.load_cert_chain(self.path("front-proxy-client.crt"), self.path("front-proxy-client.key"))
        return ctx

    def kubelet_client_context(self) -> ssl.SSLContext:
        """kube-apiserver towards kubelets: its client certificate; kubelet serving certificates are
        not verified (no ``--kubelet-certificate-authority``, kubeadm's default)."""
        if self._kubelet_ctx is None:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.load_cert_chain(
                self.path("apiserver-kubelet-client.crt"), self.path("apiserver-kubelet-client.key")
            )
            self._kubelet_ctx = ctx
        return self._kubelet_ctx


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True
