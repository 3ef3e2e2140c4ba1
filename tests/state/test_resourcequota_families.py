"""ResourceQuota families: every case of KSM's ``internal/store/resourcequota_test.go`` (v2.20), the
family list, label order and odd quantities."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

T1500 = "2017-07-14T02:40:00Z"  # 1500000000

HEADERS = """
    # HELP kube_resourcequota [STABLE] Information about resource quota.
    # HELP kube_resourcequota_annotations Kubernetes annotations converted to Prometheus labels.
    # TYPE kube_resourcequota gauge
    # HELP kube_resourcequota_created [STABLE] Unix creation timestamp
    # HELP kube_resourcequota_labels [STABLE] Kubernetes labels converted to Prometheus labels.
    # TYPE kube_resourcequota_annotations gauge
    # TYPE kube_resourcequota_created gauge
    # TYPE kube_resourcequota_labels gauge
"""


def test_family_names_order_and_stability() -> None:
    fams = all_resources()["resourcequotas"].families(FamilyOptions())
    assert [(f.name, f.stability) for f in fams] == [
        ("kube_resourcequota_created", "STABLE"),
        ("kube_resourcequota", "STABLE"),
        ("kube_resourcequota_annotations", "ALPHA"),
        ("kube_resourcequota_labels", "STABLE"),
    ]
    assert all(f.type == "gauge" for f in fams)


def test_created_only_when_status_empty() -> None:
    obj = {"metadata": {"name": "quotaTest", "namespace": "testNS", "creationTimestamp": T1500}, "status": {}}
    want = (
        HEADERS
        + """
        kube_resourcequota_created{namespace="testNS",resourcequota="quotaTest"} 1.5e+09
    """
    )
    assert_ksm_equal(render("resourcequotas", obj), want)


HARD = {
    "cpu": "4.3",
    "memory": "2.1G",
    "storage": "10G",
    "pods": "9",
    "services": "8",
    "replicationcontrollers": "7",
    "resourcequotas": "6",
    "secrets": "5",
    "configmaps": "4",
    "persistentvolumeclaims": "3",
    "services.nodeports": "2",
    "services.loadbalancers": "1",
}
USED = {
    "cpu": "2.1",
    "memory": "500M",
    "storage": "9G",
    "pods": "8",
    "services": "7",
    "replicationcontrollers": "6",
    "resourcequotas": "5",
    "secrets": "4",
    "configmaps": "3",
    "persistentvolumeclaims": "2",
    "services.nodeports": "1",
    "services.loadbalancers": "0",
}


def test_hard_and_used_from_status_only() -> None:
    obj = {
        "metadata": {"name": "quotaTest", "namespace": "testNS"},
        # spec.hard is not read: only status is exported
        "spec": {"hard": {**HARD, "limits.cpu": "99"}},
        "status": {"hard": HARD, "used": USED},
    }
    want = (
        HEADERS
        + """
        kube_resourcequota{namespace="testNS",resource="configmaps",resourcequota="quotaTest",type="hard"} 4
        kube_resourcequota{namespace="testNS",resource="configmaps",resourcequota="quotaTest",type="used"} 3
        kube_resourcequota{namespace="testNS",resource="cpu",resourcequota="quotaTest",type="hard"} 4.3
        kube_resourcequota{namespace="testNS",resource="cpu",resourcequota="quotaTest",type="used"} 2.1
        kube_resourcequota{namespace="testNS",resource="memory",resourcequota="quotaTest",type="hard"} 2.1e+09
        kube_resourcequota{namespace="testNS",resource="memory",resourcequota="quotaTest",type="used"} 5e+08
        kube_resourcequota{namespace="testNS",resource="persistentvolumeclaims",resourcequota="quotaTest",type="hard"} 3
        kube_resourcequota{namespace="testNS",resource="persistentvolumeclaims",resourcequota="quotaTest",type="used"} 2
        kube_resourcequota{namespace="testNS",resource="pods",resourcequota="quotaTest",type="hard"} 9
        kube_resourcequota{namespace="testNS",resource="pods",resourcequota="quotaTest",type="used"} 8
        kube_resourcequota{namespace="testNS",resource="replicationcontrollers",resourcequota="quotaTest",type="hard"} 7
        kube_resourcequota{namespace="testNS",resource="replicationcontrollers",resourcequota="quotaTest",type="used"} 6
        kube_resourcequota{namespace="testNS",resource="resourcequotas",resourcequota="quotaTest",type="hard"} 6
        kube_resourcequota{namespace="testNS",resource="resourcequotas",resourcequota="quotaTest",type="used"} 5
        kube_resourcequota{namespace="testNS",resource="secrets",resourcequota="quotaTest",type="hard"} 5
        kube_resourcequota{namespace="testNS",resource="secrets",resourcequota="quotaTest",type="used"} 4
        kube_resourcequota{namespace="testNS",resource="services",resourcequota="quotaTest",type="hard"} 8
        kube_resourcequota{namespace="testNS",resource="services",resourcequota="quotaTest",type="used"} 7
        kube_resourcequota{namespace="testNS",resource="services.loadbalancers",resourcequota="quotaTest",type="hard"} 1
        kube_resourcequota{namespace="testNS",resource="services.loadbalancers",resourcequota="quotaTest",type="used"} 0
        kube_resourcequota{namespace="testNS",resource="services.nodeports",resourcequota="quotaTest",type="hard"} 2
        kube_resourcequota{namespace="testNS",resource="services.nodeports",resourcequota="quotaTest",type="used"} 1
        kube_resourcequota{namespace="testNS",resource="storage",resourcequota="quotaTest",type="hard"} 1e+10
        kube_resourcequota{namespace="testNS",resource="storage",resourcequota="quotaTest",type="used"} 9e+09
    """
    )
    assert_ksm_equal(render("resourcequotas", obj), want)


def test_allowlisted_annotations_and_labels() -> None:
    obj = {
        "metadata": {
            "name": "quotaTest",
            "namespace": "testNS",
            "creationTimestamp": T1500,
            "annotations": {"foo": "bar"},
            "labels": {"hello": "world"},
        },
        "status": {},
    }
    want = (
        HEADERS
        + """
        kube_resourcequota_annotations{annotation_foo="bar",namespace="testNS",resourcequota="quotaTest"} 1
        kube_resourcequota_created{namespace="testNS",resourcequota="quotaTest"} 1.5e+09
        kube_resourcequota_labels{label_hello="world",namespace="testNS",resourcequota="quotaTest"} 1
    """
    )
    assert_ksm_equal(render("resourcequotas", obj, labels=["hello"], annotations=["foo"]), want)


def test_resource_label_is_raw_and_label_order() -> None:
    obj = {
        "metadata": {"name": "q", "namespace": "n"},
        "status": {
            "hard": {"count/deployments.apps": "10", "requests.nvidia.com/gpu": "4", "requests.cpu": "1500m"},
            "used": {"count/deployments.apps": "3"},
        },
    }
    got = render("resourcequotas", obj)
    # not sanitized, unlike node and pod resource labels
    assert (
        sample_value(got, "kube_resourcequota", {"resource": "count/deployments.apps", "type": "hard"}) == 10
    )
    assert (
        sample_value(got, "kube_resourcequota", {"resource": "requests.nvidia.com/gpu", "type": "hard"}) == 4
    )
    assert sample_value(got, "kube_resourcequota", {"resource": "requests.cpu", "type": "hard"}) == 1.5
    assert (
        sample_value(got, "kube_resourcequota", {"resource": "count/deployments.apps", "type": "used"}) == 3
    )
    assert set(map(tuple, label_names(got, "kube_resourcequota"))) == {
        ("namespace", "resourcequota", "resource", "type")
    }


def test_quantity_precision_and_invalid_values() -> None:
    obj = {
        "metadata": {"name": "q", "namespace": "n"},
        "status": {
            # milli precision rounds up; beyond MaxMilliValue the integer value is used
            "hard": {"cpu": "1n", "memory": "1Ei", "huge": "9223372036854775807", "bad": "12 apples"},
            "used": {"cpu": "0"},
        },
    }
    got = render("resourcequotas", obj)
    assert sample_value(got, "kube_resourcequota", {"resource": "cpu", "type": "hard"}) == 0.001
    assert sample_value(got, "kube_resourcequota", {"resource": "memory", "type": "hard"}) == 2.0**60
    assert 'resource="memory",type="hard"} 1.152921504606847e+18\n' in got
    assert 'resource="huge",type="hard"} 9.223372036854776e+18\n' in got
    # an invalid quantity (never sent by a real API server) drops only its own series
    assert sample_value(got, "kube_resourcequota", {"resource": "bad"}) is None
    assert sample_value(got, "kube_resourcequota", {"resource": "cpu", "type": "used"}) == 0


def test_odd_keys_are_escaped() -> None:
    obj = {"metadata": {"name": 'q"1', "namespace": "n\\s"}, "status": {"hard": {'we"ird\n': "1"}}}
    got = render("resourcequotas", obj)
    assert (
        'kube_resourcequota{namespace="n\\\\s",resourcequota="q\\"1",resource="we\\"ird\\n",type="hard"} 1\n'
        in got
    )
