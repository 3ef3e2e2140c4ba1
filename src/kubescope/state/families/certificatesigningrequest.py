"""CertificateSigningRequest families (``kube_certificatesigningrequest_*``); identity labels
``certificatesigningrequest,signer_name``.

``_condition`` always writes three series, ``approved``, ``denied`` and ``failed``, each valued
with the *number* of conditions of that type (the status of a condition is not looked at).
``_cert_length`` is the length in bytes of the issued certificate (0 until issued).

Sample::

    kube_certificatesigningrequest_condition{certificatesigningrequest="csr-8vx2q",signer_name="kubernetes.io/kube-apiserver-client-kubelet",condition="approved"} 1
    kube_certificatesigningrequest_cert_length{certificatesigningrequest="csr-8vx2q",signer_name="kubernetes.io/kube-apiserver-client-kubelet"} 1147
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    labels_family,
)
from kubescope.state.text import esc, gf


class CSRCondition(Wire):
    type: str = ""


class CSRSpec(Wire):
    signer_name: str = ""


class CSRStatus(Wire):
    conditions: list[CSRCondition] = msgspec.field(default_factory=list)
    certificate: str = ""
    """Base64 of the PEM bytes, kept encoded: only its decoded length is reported."""


class CertificateSigningRequest(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: CSRSpec = msgspec.field(default_factory=CSRSpec)
    status: CSRStatus = msgspec.field(default_factory=CSRStatus)


def _identity(o: CertificateSigningRequest) -> str:
    return f'certificatesigningrequest="{esc(o.metadata.name)}",signer_name="{esc(o.spec.signer_name)}"'


def _condition(o: CertificateSigningRequest, lp: str) -> str:
    approved = denied = failed = 0
    for c in o.status.conditions:
        t = c.type
        if t == "Approved":
            approved += 1
        elif t == "Denied":
            denied += 1
        elif t == "Failed":
            failed += 1
    return (
        f'{lp},condition="approved"}} {gf(approved)}\n'
        f'{lp},condition="denied"}} {gf(denied)}\n'
        f'{lp},condition="failed"}} {gf(failed)}\n'
    )


def decoded_length(b64: str) -> int:
    """Bytes encoded by standard (padded) base64 text, which may carry line breaks as Go accepts."""
    n = len(b64)
    if "\n" in b64 or "\r" in b64:
        b64 = b64.replace("\n", "").replace("\r", "")
        n = len(b64)
    if n == 0:
        return 0
    pad = 2 if b64.endswith("==") else 1 if b64.endswith("=") else 0
    # unpadded input (len % 4 != 0) is rejected by the API; count its whole characters anyway
    return n * 3 // 4 - pad


def _cert_length(o: CertificateSigningRequest, lp: str) -> str:
    return f"{lp}}} {gf(decoded_length(o.status.certificate))}\n"


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_certificatesigningrequest"
    return [
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        created_family(p),
        Family(
            f"{p}_condition",
            "The number of each certificatesigningrequest condition",
            "gauge",
            "STABLE",
            _condition,
        ),
        Family(f"{p}_cert_length", "Length of the issued cert", "gauge", "STABLE", _cert_length),
    ]


RESOURCE = ResourceSpec(
    name="certificatesigningrequests",
    group="certificates.k8s.io",
    version="v1",
    kind="CertificateSigningRequest",
    namespaced=False,
    struct=CertificateSigningRequest,
    identity=_identity,
    families=families,
)
