"""ConfigMap families, from KSM's internal/store/configmap_test.go cases."""

from tests.state.ksm import assert_ksm_equal, label_names, render

START = "2017-08-01T06:30:18Z"  # 1501569018


def test_allowlisted_labels_and_annotations() -> None:
    obj = {
        "metadata": {
            "name": "configmap1",
            "namespace": "ns1",
            "resourceVersion": "BBBBB",
            "annotations": {"app": "mysql-server", "app.k8s.io/owner": "@foo"},
            "labels": {"excluded": "me", "app": "mysql-server"},
        }
    }
    got = render("configmaps", obj, labels=["app"], annotations=["app.k8s.io/owner"])
    want = """
        # HELP kube_configmap_annotations Kubernetes annotations converted to Prometheus labels.
        # HELP kube_configmap_labels [STABLE] Kubernetes labels converted to Prometheus labels.
        # HELP kube_configmap_info [STABLE] Information about configmap.
        # HELP kube_configmap_metadata_resource_version Resource version representing a specific version of the configmap.
        # TYPE kube_configmap_annotations gauge
        # TYPE kube_configmap_labels gauge
        # TYPE kube_configmap_info gauge
        # TYPE kube_configmap_metadata_resource_version gauge
        kube_configmap_annotations{annotation_app_k8s_io_owner="@foo",configmap="configmap1",namespace="ns1"} 1
        kube_configmap_labels{configmap="configmap1",label_app="mysql-server",namespace="ns1"} 1
        kube_configmap_info{configmap="configmap1",namespace="ns1"} 1
    """
    assert_ksm_equal(
        got,
        want,
        names=[
            "kube_configmap_annotations",
            "kube_configmap_labels",
            "kube_configmap_info",
            "kube_configmap_metadata_resource_version",
        ],
    )
    assert label_names(got, "kube_configmap_labels") == [["namespace", "configmap", "label_app"]]


def test_created_and_numeric_resource_version() -> None:
    obj = {
        "metadata": {
            "name": "configmap2",
            "namespace": "ns2",
            "creationTimestamp": START,
            "resourceVersion": "10596",
        }
    }
    got = render("configmaps", obj)
    want = """
        # HELP kube_configmap_info [STABLE] Information about configmap.
        # HELP kube_configmap_created [STABLE] Unix creation timestamp
        # HELP kube_configmap_metadata_resource_version Resource version representing a specific version of the configmap.
        # TYPE kube_configmap_info gauge
        # TYPE kube_configmap_created gauge
        # TYPE kube_configmap_metadata_resource_version gauge
        kube_configmap_info{configmap="configmap2",namespace="ns2"} 1
        kube_configmap_created{configmap="configmap2",namespace="ns2"} 1.501569018e+09
        kube_configmap_metadata_resource_version{configmap="configmap2",namespace="ns2"} 10596
    """
    assert_ksm_equal(
        got,
        want,
        names=["kube_configmap_info", "kube_configmap_created", "kube_configmap_metadata_resource_version"],
    )
