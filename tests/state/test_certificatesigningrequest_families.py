"""CertificateSigningRequest families: every case of KSM's
``internal/store/certificatesigningrequest_test.go`` (v2.20), condition counting, cert length and
label order."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubescope.state.families.certificatesigningrequest import decoded_length
from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

HEADERS = """
    # HELP kube_certificatesigningrequest_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_certificatesigningrequest_labels gauge
    # HELP kube_certificatesigningrequest_created [STABLE] Unix creation timestamp
    # TYPE kube_certificatesigningrequest_created gauge
    # HELP kube_certificatesigningrequest_condition [STABLE] The number of each certificatesigningrequest condition
    # TYPE kube_certificatesigningrequest_condition gauge
    # HELP kube_certificatesigningrequest_cert_length [STABLE] Length of the issued cert
    # TYPE kube_certificatesigningrequest_cert_length gauge
"""
NAMES = [
    "kube_certificatesigningrequest_created",
    "kube_certificatesigningrequest_condition",
    "kube_certificatesigningrequest_labels",
    "kube_certificatesigningrequest_cert_length",
]
ID = 'certificatesigningrequest="certificate-test",signer_name="signer"'


def test_family_names_order_and_stability() -> None:
    spec = all_resources()["certificatesigningrequests"]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "certificates.k8s.io",
        "v1",
        False,
        True,
    )
    assert [(f.name, f.stability) for f in spec.families(FamilyOptions())] == [
        ("kube_certificatesigningrequest_annotations", "ALPHA"),
        ("kube_certificatesigningrequest_labels", "STABLE"),
        ("kube_certificatesigningrequest_created", "STABLE"),
        ("kube_certificatesigningrequest_condition", "STABLE"),
        ("kube_certificatesigningrequest_cert_length", "STABLE"),
    ]


def _csr(conditions: list[str], certificate: bytes = b"") -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": [{"type": t, "status": "True"} for t in conditions]}
    if certificate:
        status["certificate"] = base64.b64encode(certificate).decode()
    return {
        "metadata": {
            "name": "certificate-test",
            "generation": 1,
            "labels": {"cert": "test"},
            "creationTimestamp": "2017-07-14T02:40:00Z",
        },
        "status": status,
        "spec": {"signerName": "signer"},
    }


@pytest.mark.parametrize(
    ("conditions", "certificate", "approved", "denied", "failed", "length"),
    [
        ([], b"", 0, 0, 0, 0),
        (["Denied"], b"", 0, 1, 0, 0),
        (["Approved"], b"", 1, 0, 0, 0),
        (["Failed"], b"", 0, 0, 1, 0),
        (["Approved"], b"just for test", 1, 0, 0, 13),
        (["Approved", "Denied", "Failed"], b"", 1, 1, 1, 0),
        (["Approved", "Denied", "Approved", "Denied", "Failed", "Failed"], b"", 2, 2, 2, 0),
    ],
)
def test_ksm_cases(
    conditions: list[str], certificate: bytes, approved: int, denied: int, failed: int, length: int
) -> None:
    want = (
        HEADERS
        + f"""
        kube_certificatesigningrequest_created{{{ID}}} 1.5e+09
        kube_certificatesigningrequest_condition{{{ID},condition="approved"}} {approved}
        kube_certificatesigningrequest_condition{{{ID},condition="denied"}} {denied}
        kube_certificatesigningrequest_condition{{{ID},condition="failed"}} {failed}
        kube_certificatesigningrequest_cert_length{{{ID}}} {length}
    """
    )
    assert_ksm_equal(render("certificatesigningrequests", _csr(conditions, certificate)), want, NAMES)


def test_empty_status_and_status_of_a_condition_is_ignored() -> None:
    obj = {
        "metadata": {"name": "c"},
        "spec": {"signerName": "kubernetes.io/kubelet-serving"},
        "status": {"conditions": [{"type": "Approved", "status": "False"}, {"type": "Unknown-Type"}]},
    }
    got = render("certificatesigningrequests", obj)
    assert sample_value(got, "kube_certificatesigningrequest_condition", {"condition": "approved"}) == 1
    assert sample_value(got, "kube_certificatesigningrequest_condition", {"condition": "denied"}) == 0
    assert label_names(got, "kube_certificatesigningrequest_condition")[0] == [
        "certificatesigningrequest",
        "signer_name",
        "condition",
    ]
    bare = render("certificatesigningrequests", {"metadata": {"name": "c"}})
    assert (
        'kube_certificatesigningrequest_cert_length{certificatesigningrequest="c",signer_name=""} 0\n' in bare
    )
    assert sample_value(bare, "kube_certificatesigningrequest_created") is None


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 1147, 1148, 1149])
def test_cert_length_is_the_decoded_byte_count(n: int) -> None:
    pem = bytes(range(256)) * 5
    b64 = base64.b64encode(pem[:n]).decode()
    assert decoded_length(b64) == n
    assert decoded_length(base64.encodebytes(pem[:n]).decode()) == n  # line breaks are skipped, as Go does


def test_allowlisted_labels_and_annotations() -> None:
    obj = _csr([])
    obj["metadata"]["annotations"] = {"owner": "me"}
    got = render("certificatesigningrequests", obj, labels=["cert"], annotations=["owner"])
    assert label_names(got, "kube_certificatesigningrequest_labels") == [
        ["certificatesigningrequest", "signer_name", "label_cert"]
    ]
    assert sample_value(got, "kube_certificatesigningrequest_annotations", {"annotation_owner": "me"}) == 1
