"""LimitRange families: KSM's ``internal/store/limitrange_test.go`` (v2.20), family list, label order,
several items and every constraint."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

T1500 = "2017-07-14T02:40:00Z"  # 1500000000

HEADERS = """
    # HELP kube_limitrange_created [STABLE] Unix creation timestamp
    # TYPE kube_limitrange_created gauge
    # HELP kube_limitrange [STABLE] Information about limit range.
    # TYPE kube_limitrange gauge
"""


def test_family_names_order_and_stability() -> None:
    fams = all_resources()["limitranges"].families(FamilyOptions())
    assert [(f.name, f.stability, f.type) for f in fams] == [
        ("kube_limitrange", "STABLE", "gauge"),
        ("kube_limitrange_created", "STABLE", "gauge"),
    ]


def test_every_constraint_of_a_pod_limit() -> None:
    mem = {"memory": "2.1G"}
    obj = {
        "metadata": {"name": "quotaTest", "namespace": "testNS", "creationTimestamp": T1500},
        "spec": {
            "limits": [
                {
                    "type": "Pod",
                    "max": mem,
                    "min": mem,
                    "default": mem,
                    "defaultRequest": mem,
                    "maxLimitRequestRatio": mem,
                }
            ]
        },
    }
    want = (
        HEADERS
        + """
        kube_limitrange_created{limitrange="quotaTest",namespace="testNS"} 1.5e+09
        kube_limitrange{constraint="default",limitrange="quotaTest",namespace="testNS",resource="memory",type="Pod"} 2.1e+09
        kube_limitrange{constraint="defaultRequest",limitrange="quotaTest",namespace="testNS",resource="memory",type="Pod"} 2.1e+09
        kube_limitrange{constraint="max",limitrange="quotaTest",namespace="testNS",resource="memory",type="Pod"} 2.1e+09
        kube_limitrange{constraint="maxLimitRequestRatio",limitrange="quotaTest",namespace="testNS",resource="memory",type="Pod"} 2.1e+09
        kube_limitrange{constraint="min",limitrange="quotaTest",namespace="testNS",resource="memory",type="Pod"} 2.1e+09
    """
    )
    assert_ksm_equal(render("limitranges", obj), want)


def test_items_of_several_types_label_order_and_cpu_precision() -> None:
    obj = {
        "metadata": {"name": "lr", "namespace": "n"},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "max": {"cpu": "2", "memory": "1Gi"},
                    "defaultRequest": {"cpu": "250m"},
                },
                {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "bogus"}},
            ]
        },
    }
    got = render("limitranges", obj)
    assert label_names(got, "kube_limitrange")[0] == [
        "namespace",
        "limitrange",
        "resource",
        "type",
        "constraint",
    ]
    assert (
        sample_value(got, "kube_limitrange", {"type": "Container", "resource": "cpu", "constraint": "max"})
        == 2
    )
    assert (
        sample_value(got, "kube_limitrange", {"type": "Container", "resource": "memory", "constraint": "max"})
        == 1073741824
    )
    assert (
        sample_value(
            got, "kube_limitrange", {"type": "Container", "resource": "cpu", "constraint": "defaultRequest"}
        )
        == 0.25
    )
    assert 'constraint="min"} 1.073741824e+09\n' in got
    # an invalid quantity drops its own series only; no created series without a timestamp
    assert sample_value(got, "kube_limitrange", {"resource": "storage", "constraint": "max"}) is None
    assert len([ln for ln in got.splitlines() if ln.startswith("kube_limitrange{")]) == 4
    assert "kube_limitrange_created{" not in got


def test_no_limits_no_series() -> None:
    got = render("limitranges", {"metadata": {"name": "lr", "namespace": "n"}, "spec": {}})
    assert_ksm_equal(got, HEADERS)
