"""MutatingWebhookConfiguration families: every case of KSM's
``internal/store/mutatingwebhookconfiguration_test.go`` (v2.20), the family list, the cluster-scoped
``namespace=""`` identity and the client-config service labels."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

RES = "mutatingwebhookconfigurations"
P = "kube_mutatingwebhookconfiguration"
START = "2017-08-01T06:30:18Z"  # 1501569018


def test_family_names_order_and_stability() -> None:
    spec = all_resources()[RES]
    assert (spec.group, spec.version, spec.kind, spec.namespaced, spec.default) == (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        False,
        True,
    )
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == [
        f"{P}_info",
        f"{P}_created",
        f"{P}_metadata_resource_version",
        f"{P}_webhook_clientconfig_service",
    ]
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_info_and_resource_version() -> None:
    obj = {
        "metadata": {"name": "mutatingwebhookconfiguration1", "namespace": "ns1", "resourceVersion": "123456"}
    }
    want = """
        # HELP kube_mutatingwebhookconfiguration_info Information about the MutatingWebhookConfiguration.
        # HELP kube_mutatingwebhookconfiguration_metadata_resource_version Resource version representing a specific version of the MutatingWebhookConfiguration.
        # TYPE kube_mutatingwebhookconfiguration_info gauge
        # TYPE kube_mutatingwebhookconfiguration_metadata_resource_version gauge
        kube_mutatingwebhookconfiguration_info{mutatingwebhookconfiguration="mutatingwebhookconfiguration1",namespace="ns1"} 1
        kube_mutatingwebhookconfiguration_metadata_resource_version{mutatingwebhookconfiguration="mutatingwebhookconfiguration1",namespace="ns1"} 123456
    """
    assert_ksm_equal(render(RES, obj), want, [f"{P}_info", f"{P}_metadata_resource_version"])


def test_created_and_non_numeric_resource_version() -> None:
    obj = {
        "metadata": {
            "name": "mutatingwebhookconfiguration2",
            "namespace": "ns2",
            "creationTimestamp": START,
            "resourceVersion": "abcdef",
        }
    }
    want = """
        # HELP kube_mutatingwebhookconfiguration_created Unix creation timestamp.
        # HELP kube_mutatingwebhookconfiguration_info Information about the MutatingWebhookConfiguration.
        # HELP kube_mutatingwebhookconfiguration_metadata_resource_version Resource version representing a specific version of the MutatingWebhookConfiguration.
        # TYPE kube_mutatingwebhookconfiguration_created gauge
        # TYPE kube_mutatingwebhookconfiguration_info gauge
        # TYPE kube_mutatingwebhookconfiguration_metadata_resource_version gauge
        kube_mutatingwebhookconfiguration_created{mutatingwebhookconfiguration="mutatingwebhookconfiguration2",namespace="ns2"} 1.501569018e+09
        kube_mutatingwebhookconfiguration_info{mutatingwebhookconfiguration="mutatingwebhookconfiguration2",namespace="ns2"} 1
    """
    assert_ksm_equal(render(RES, obj), want, [f"{P}_created", f"{P}_info", f"{P}_metadata_resource_version"])


def test_clientconfig_service_and_url_webhooks() -> None:
    obj = {
        "metadata": {
            "name": "mutatingwebhookconfiguration3",
            "namespace": "ns3",
            "creationTimestamp": START,
            "resourceVersion": "abcdef",
        },
        "webhooks": [
            {"name": "webhook_with_service", "clientConfig": {"service": {"name": "svc", "namespace": "ns"}}},
            {"name": "webhook_with_external_url", "clientConfig": {"url": "example.com"}},
        ],
    }
    want = """
        # HELP kube_mutatingwebhookconfiguration_webhook_clientconfig_service Service used by the apiserver to connect to a mutating webhook.
        # TYPE kube_mutatingwebhookconfiguration_webhook_clientconfig_service gauge
        kube_mutatingwebhookconfiguration_webhook_clientconfig_service{webhook_name="webhook_with_external_url",namespace="ns3",service_name="",service_namespace="",mutatingwebhookconfiguration="mutatingwebhookconfiguration3"} 1
        kube_mutatingwebhookconfiguration_webhook_clientconfig_service{webhook_name="webhook_with_service",namespace="ns3",service_name="svc",service_namespace="ns",mutatingwebhookconfiguration="mutatingwebhookconfiguration3"} 1
    """
    got = render(RES, obj)
    assert_ksm_equal(got, want, [f"{P}_webhook_clientconfig_service"])
    assert (
        label_names(got, f"{P}_webhook_clientconfig_service")
        == [
            ["namespace", "mutatingwebhookconfiguration", "webhook_name", "service_name", "service_namespace"]
        ]
        * 2
    )


def test_cluster_scoped_object_has_empty_namespace_label() -> None:
    obj = {
        "metadata": {"name": "hooks", "creationTimestamp": START, "resourceVersion": "77"},
        "webhooks": [
            {
                "name": "a.example.com",
                "clientConfig": {"service": {"name": "s", "namespace": "sys", "port": 8443}},
            }
        ],
    }
    got = render(RES, obj)
    assert f'{P}_info{{namespace="",mutatingwebhookconfiguration="hooks"}} 1\n' in got
    assert sample_value(got, f"{P}_metadata_resource_version", {"namespace": ""}) == 77
    assert (
        sample_value(got, f"{P}_webhook_clientconfig_service", {"namespace": "", "service_namespace": "sys"})
        == 1
    )
    assert (
        sample_value(render(RES, {"metadata": {"name": "empty"}}), f"{P}_webhook_clientconfig_service")
        is None
    )
