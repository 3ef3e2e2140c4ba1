"""Ingress families: every case of KSM's ``internal/store/ingress_test.go`` (v2.20), the family list,
both ``kube_ingress_path`` label layouts with their order, and odd backends."""

from __future__ import annotations

from typing import Any

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

START = "2017-08-01T06:30:18Z"  # 1501569018
ALL = [
    "kube_ingress_info",
    "kube_ingress_metadata_resource_version",
    "kube_ingress_created",
    "kube_ingress_labels",
    "kube_ingress_path",
    "kube_ingress_tls",
]
HEADERS = """
    # HELP kube_ingress_created [STABLE] Unix creation timestamp
    # HELP kube_ingress_info [STABLE] Information about ingress.
    # HELP kube_ingress_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # HELP kube_ingress_metadata_resource_version Resource version representing a specific version of ingress.
    # HELP kube_ingress_path [STABLE] Ingress host, paths and backend service information.
    # HELP kube_ingress_tls [STABLE] Ingress TLS host and secret information.
    # TYPE kube_ingress_created gauge
    # TYPE kube_ingress_info gauge
    # TYPE kube_ingress_labels gauge
    # TYPE kube_ingress_metadata_resource_version gauge
    # TYPE kube_ingress_path gauge
    # TYPE kube_ingress_tls gauge
"""


def test_family_names_order_and_stability() -> None:
    spec = all_resources()["ingresses"]
    assert (spec.group, spec.version, spec.namespaced, spec.default) == (
        "networking.k8s.io",
        "v1",
        True,
        True,
    )
    assert [(f.name, f.stability) for f in spec.families(FamilyOptions())] == [
        ("kube_ingress_info", "STABLE"),
        ("kube_ingress_annotations", "ALPHA"),
        ("kube_ingress_labels", "STABLE"),
        ("kube_ingress_created", "STABLE"),
        ("kube_ingress_metadata_resource_version", "ALPHA"),
        ("kube_ingress_path", "STABLE"),
        ("kube_ingress_tls", "STABLE"),
    ]


def test_default_class_and_allowlisted_annotation() -> None:
    obj = {
        "metadata": {
            "name": "ingress1",
            "namespace": "ns1",
            "resourceVersion": "000000",
            "annotations": {"app": "mysql-server", "app.k8s.io/owner": "@foo"},
        }
    }
    want = """
        # HELP kube_ingress_info [STABLE] Information about ingress.
        # HELP kube_ingress_annotations Kubernetes annotations converted to Prometheus labels.
        # HELP kube_ingress_labels [STABLE] Kubernetes labels converted to Prometheus labels.
        # HELP kube_ingress_metadata_resource_version Resource version representing a specific version of ingress.
        # TYPE kube_ingress_info gauge
        # TYPE kube_ingress_annotations gauge
        # TYPE kube_ingress_labels gauge
        # TYPE kube_ingress_metadata_resource_version gauge
        kube_ingress_info{namespace="ns1",ingress="ingress1",ingressclass="_default"} 1
        kube_ingress_metadata_resource_version{namespace="ns1",ingress="ingress1"} 0
        kube_ingress_annotations{annotation_app_k8s_io_owner="@foo",namespace="ns1",ingress="ingress1"} 1
    """
    got = render("ingresses", obj, annotations=["app.k8s.io/owner"])
    names = [
        "kube_ingress_info",
        "kube_ingress_metadata_resource_version",
        "kube_ingress_annotations",
        "kube_ingress_labels",
    ]
    assert_ksm_equal(got, want, names)


def _ksm(obj: dict[str, Any], lines: str) -> None:
    assert_ksm_equal(render("ingresses", obj), HEADERS + lines, ALL)


def test_created_and_resource_version() -> None:
    obj = {
        "metadata": {
            "name": "ingress2",
            "namespace": "ns2",
            "creationTimestamp": START,
            "resourceVersion": "123456",
        }
    }
    _ksm(
        obj,
        """
        kube_ingress_info{namespace="ns2",ingress="ingress2",ingressclass="_default"} 1
        kube_ingress_created{namespace="ns2",ingress="ingress2"} 1.501569018e+09
        kube_ingress_metadata_resource_version{namespace="ns2",ingress="ingress2"} 123456
        """,
    )


def test_non_numeric_resource_version() -> None:
    obj = {
        "metadata": {
            "name": "ingress3",
            "namespace": "ns3",
            "creationTimestamp": START,
            "labels": {"test-3": "test-3"},
            "resourceVersion": "abcdef",
        }
    }
    _ksm(
        obj,
        """
        kube_ingress_info{namespace="ns3",ingress="ingress3",ingressclass="_default"} 1
        kube_ingress_created{namespace="ns3",ingress="ingress3"} 1.501569018e+09
        """,
    )


INGRESS4 = {
    "metadata": {
        "name": "ingress4",
        "namespace": "ns4",
        "creationTimestamp": START,
        "labels": {"test-4": "test-4"},
        "resourceVersion": "abcdef",
    },
    "spec": {
        "rules": [
            {
                "host": "somehost",
                "http": {
                    "paths": [
                        {
                            "path": "/somepath",
                            "backend": {"service": {"name": "someservice", "port": {"number": 1234}}},
                            "pathType": "Exact",
                        },
                        {
                            "path": "/somepath2",
                            "backend": {"resource": {"kind": "somekind", "name": "somename"}},
                        },
                    ]
                },
            },
            {"host": "somehost2"},
        ]
    },
}


def test_paths_with_service_and_resource_backends() -> None:
    _ksm(
        INGRESS4,
        """
        kube_ingress_info{namespace="ns4",ingress="ingress4",ingressclass="_default"} 1
        kube_ingress_created{namespace="ns4",ingress="ingress4"} 1.501569018e+09
        kube_ingress_path{namespace="ns4",ingress="ingress4",host="somehost",path="/somepath",path_type="Exact",service_name="someservice",service_port="1234"} 1
        kube_ingress_path{namespace="ns4",ingress="ingress4",host="somehost",path="/somepath2",path_type="",resource_api_group="",resource_kind="somekind",resource_name="somename"} 1
        """,
    )


def test_path_label_order_per_backend() -> None:
    got = render("ingresses", INGRESS4)
    assert label_names(got, "kube_ingress_path") == [
        ["namespace", "ingress", "host", "path", "path_type", "service_name", "service_port"],
        [
            "namespace",
            "ingress",
            "host",
            "path",
            "path_type",
            "resource_api_group",
            "resource_kind",
            "resource_name",
        ],
    ]


def test_tls_hosts() -> None:
    obj = {
        "metadata": {
            "name": "ingress5",
            "namespace": "ns5",
            "creationTimestamp": START,
            "labels": {"test-5": "test-5"},
            "resourceVersion": "abcdef",
        },
        "spec": {"tls": [{"hosts": ["somehost1", "somehost2"], "secretName": "somesecret"}]},
    }
    _ksm(
        obj,
        """
        kube_ingress_info{namespace="ns5",ingress="ingress5",ingressclass="_default"} 1
        kube_ingress_created{namespace="ns5",ingress="ingress5"} 1.501569018e+09
        kube_ingress_tls{namespace="ns5",ingress="ingress5",tls_host="somehost1",secret="somesecret"} 1
        kube_ingress_tls{namespace="ns5",ingress="ingress5",tls_host="somehost2",secret="somesecret"} 1
        """,
    )
    assert label_names(render("ingresses", obj), "kube_ingress_tls")[0] == [
        "namespace",
        "ingress",
        "tls_host",
        "secret",
    ]


def test_ingress_class_name() -> None:
    obj = {
        "metadata": {
            "name": "ingress6",
            "namespace": "ns6",
            "creationTimestamp": START,
            "resourceVersion": "123456",
        },
        "spec": {"ingressClassName": "test"},
    }
    _ksm(
        obj,
        """
        kube_ingress_info{namespace="ns6",ingress="ingress6",ingressclass="test"} 1
        kube_ingress_created{namespace="ns6",ingress="ingress6"} 1.501569018e+09
        kube_ingress_metadata_resource_version{namespace="ns6",ingress="ingress6"} 123456
        """,
    )


def test_ingress_class_annotation() -> None:
    obj = {
        "metadata": {
            "name": "ingress7",
            "namespace": "ns7",
            "creationTimestamp": START,
            "resourceVersion": "123456",
            "annotations": {"kubernetes.io/ingress.class": "test"},
        }
    }
    _ksm(
        obj,
        """
        kube_ingress_info{namespace="ns7",ingress="ingress7",ingressclass="test"} 1
        kube_ingress_created{namespace="ns7",ingress="ingress7"} 1.501569018e+09
        kube_ingress_metadata_resource_version{namespace="ns7",ingress="ingress7"} 123456
        """,
    )


def test_annotation_wins_over_class_name_even_when_empty() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "i", "namespace": "n", "annotations": {"kubernetes.io/ingress.class": "legacy"}},
        "spec": {"ingressClassName": "modern"},
    }
    assert sample_value(render("ingresses", obj), "kube_ingress_info", {"ingressclass": "legacy"}) == 1
    obj["metadata"]["annotations"]["kubernetes.io/ingress.class"] = ""
    assert sample_value(render("ingresses", obj), "kube_ingress_info", {"ingressclass": ""}) == 1


def test_named_port_api_group_default_backend_and_missing_backend() -> None:
    obj = {
        "metadata": {"name": "i", "namespace": "n"},
        "spec": {
            # the default backend is not a path: no series for it
            "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/a",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "a", "port": {"name": "http"}}},
                            },
                            {
                                "path": "/b",
                                "pathType": "ImplementationSpecific",
                                "backend": {
                                    "resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "b"}
                                },
                            },
                            # invalid for the API (no backend): KSM would crash; no series here
                            {"path": "/c", "pathType": "Prefix", "backend": {}},
                        ]
                    }
                }
            ],
        },
    }
    got = render("ingresses", obj)
    assert (
        'kube_ingress_path{namespace="n",ingress="i",host="",path="/a",path_type="Prefix",service_name="a",service_port="0"} 1\n'
        in got
    )
    assert (
        sample_value(got, "kube_ingress_path", {"path": "/b", "resource_api_group": "k8s.example.com"}) == 1
    )
    assert sample_value(got, "kube_ingress_path", {"path": "/c"}) is None
    assert sample_value(got, "kube_ingress_path", {"service_name": "fallback"}) is None
