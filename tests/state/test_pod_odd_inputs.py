"""Pod families on odd, partial and hostile input: what KSM does, and never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from kubescope.model.gofmt import go_float
from kubescope.state.families.pod import Pod, ip_family
from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from kubescope.state.render import ObjectRenderer, decode_object, render_object
from tests.state.ksm import label_names, parse_line, render, sample_value

T0 = "2017-08-01T06:30:18Z"  # 1501569018


def _samples(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_pod_with_only_a_name_emits_only_the_unconditional_families() -> None:
    got = _samples(render("pods", {"metadata": {"name": "p"}}))
    assert got == [
        'kube_pod_info{namespace="",pod="p",uid="",host_ip="",pod_ip="",node="",created_by_kind="",'
        'created_by_name="",priority_class="",host_network="false"} 1',
        'kube_pod_owner{namespace="",pod="p",uid="",owner_kind="",owner_name="",owner_is_controller=""} 1',
        'kube_pod_restart_policy{namespace="",pod="p",uid="",type=""} 1',
        'kube_pod_nodeselectors{namespace="",pod="p",uid=""} 1',
        'kube_pod_service_account{namespace="",pod="p",uid="",service_account=""} 1',
        'kube_pod_scheduler{namespace="",pod="p",uid="",name=""} 1',
    ]


def test_unknown_phase_and_qos_class_give_all_zero_state_sets() -> None:
    got = render("pods", {"metadata": {"name": "p"}, "status": {"phase": "Hibernating", "qosClass": "Gold"}})
    phases = [parse_line(x) for x in _samples(got) if x.startswith("kube_pod_status_phase{")]
    assert [(dict(p)["phase"], v) for _, p, v in phases] == [
        ("Pending", "0"),
        ("Succeeded", "0"),
        ("Failed", "0"),
        ("Unknown", "0"),
        ("Running", "0"),
    ]
    qos = [parse_line(x) for x in _samples(got) if x.startswith("kube_pod_status_qos_class{")]
    assert [(dict(p)["qos_class"], v) for _, p, v in qos] == [
        ("BestEffort", "0"),
        ("Burstable", "0"),
        ("Guaranteed", "0"),
    ]


def test_status_reason_lists_every_known_reason_in_ksm_order_plus_other() -> None:
    pod = {
        "metadata": {"name": "p"},
        "status": {
            "reason": "Mystery",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
            "containerStatuses": [{"name": "c", "state": {"terminated": {"reason": "Evicted"}}}],
        },
    }
    lines = [x for x in _samples(render("pods", pod)) if x.startswith("kube_pod_status_reason{")]
    assert [dict(parse_line(x)[1])["reason"] for x in lines] == ["Evicted", "SchedulingGated", "Other"]


def test_conditions_without_status_or_time() -> None:
    pod = {
        "metadata": {"name": "p"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled"}]},
    }
    got = render("pods", pod)
    # a missing lastTransitionTime is Go's zero time
    assert sample_value(got, "kube_pod_status_ready_time") == -62135596800
    assert [
        sample_value(got, "kube_pod_status_scheduled", {"condition": c}) for c in ("true", "false", "unknown")
    ] == [
        0,
        0,
        0,
    ]
    assert "kube_pod_status_unschedulable{" not in got


def test_null_containers_as_go_serialises_an_empty_spec() -> None:
    # PodSpec.containers has no omitempty: an empty list goes out as null
    pod = {"metadata": {"name": "p"}, "spec": {"containers": None, "volumes": []}}
    got = render("pods", pod)
    assert "kube_pod_container_resource_limits{" not in got
    assert "kube_pod_container_info{" not in got


def test_completion_time_is_the_latest_finish_and_needs_a_positive_time() -> None:
    def pod(*finished: str | None) -> dict[str, object]:
        return {
            "metadata": {"name": "p"},
            "status": {
                "containerStatuses": [
                    {"name": f"c{i}", "state": {"terminated": {"finishedAt": f}}}
                    for i, f in enumerate(finished)
                ]
            },
        }

    assert sample_value(render("pods", pod(None)), "kube_pod_completion_time") is None
    assert sample_value(
        render("pods", pod(None, T0, "2017-07-14T02:40:00Z")), "kube_pod_completion_time"
    ) == (1501569018)


def test_resource_quantities_units_and_skips() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "nodeName": "n",
            "containers": [
                {
                    "name": "c",
                    "resources": {
                        "limits": {
                            "cpu": "1e18",  # beyond milli precision: Value() is used
                            "memory": "10000T",
                            "hugepages-1Gi": "2Gi",
                            "attachable-volumes-csi-x": "3",
                            "example.com/fpga": "2",
                            "hugepages-x.io/y": "1",  # huge page and extended: two series
                            "pods": "1",
                            "kubernetes.io/batteries": "1",
                            "foo": "1",
                            "ephemeral-storage": "not-a-quantity",
                            "storage": "1.5",
                        }
                    },
                }
            ],
        },
    }
    got = render("pods", pod)
    lim = "kube_pod_container_resource_limits"
    assert sample_value(got, lim, {"resource": "cpu", "unit": "core"}) == 1e18
    assert sample_value(got, lim, {"resource": "memory", "unit": "byte"}) == 1e16
    assert sample_value(got, lim, {"resource": "hugepages_1Gi", "unit": "byte"}) == 2147483648
    assert sample_value(got, lim, {"resource": "attachable_volumes_csi_x", "unit": "byte"}) == 3
    assert sample_value(got, lim, {"resource": "example_com_fpga", "unit": "integer"}) == 2
    assert sample_value(got, lim, {"resource": "hugepages_x_io_y", "unit": "byte"}) == 1
    assert sample_value(got, lim, {"resource": "hugepages_x_io_y", "unit": "integer"}) == 1
    assert sample_value(got, lim, {"resource": "storage"}) == 2  # Value() rounds up
    for skipped in ("pods", "kubernetes_io_batteries", "foo", "ephemeral_storage"):
        assert sample_value(got, lim, {"resource": skipped}) is None
    assert (
        'kube_pod_container_resource_limits{namespace="",pod="p",uid="",container="c",node="n",resource="cpu",unit="core"} 1e+18'
        in got
    )


def test_invalid_overhead_quantities_are_skipped() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"overhead": {"cpu": "lots", "memory": "1.1.M"}}}
    got = render("pods", pod)
    assert "kube_pod_overhead_cpu_cores{" not in got
    assert "kube_pod_overhead_memory_bytes{" not in got
    # apimachinery reads a lone sign (or point) as zero
    got = render("pods", {"metadata": {"name": "p"}, "spec": {"overhead": {"cpu": ".", "memory": "-"}}})
    assert sample_value(got, "kube_pod_overhead_cpu_cores") == 0
    assert sample_value(got, "kube_pod_overhead_memory_bytes") == 0


@pytest.mark.parametrize(
    ("ip", "family"),
    [
        ("10.0.0.1", "4"),
        ("fd00::1", "6"),
        ("::ffff:10.0.0.1", "4"),
        ("fe80::1%eth0", "6"),
        ("::ffff:10.0.0.1%eth0", "4"),
        ("fe80::1%", None),
        ("10.0.0.1%eth0", None),
        ("010.0.0.1", None),
        ("10.0.0", None),
        ("", None),
        ("not-an-ip", None),
        ("1.2.3.256", None),
    ],
)
def test_ip_family_follows_go_netip(ip: str, family: str | None) -> None:
    assert ip_family(ip) == family


def test_label_values_are_escaped() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {
            "containers": [{"name": 'c"1', "image": "img\\x"}],
            "volumes": [{"name": 'v"', "ephemeral": {"volumeClaimTemplate": {}}}],
            "tolerations": [{"key": "k\n", "operator": "Exists"}],
        },
        "status": {
            "containerStatuses": [{"name": 'c"1', "state": {"waiting": {"reason": 'bad\n"reason"\\'}}}],
        },
    }
    got = render("pods", pod)
    assert (
        'kube_pod_container_status_waiting_reason{namespace="n",pod="p",uid="",container="c\\"1",'
        'reason="bad\\n\\"reason\\"\\\\"} 1\n' in got
    )
    assert 'persistentvolumeclaim="p-v\\"",ephemeral="true"} 1\n' in got
    assert 'key="k\\n",operator="Exists"' in got
    for line in _samples(got):
        parse_line(line)  # every line stays parseable


def test_timestamps_match_go_float_formatting_across_eras() -> None:
    for secs in (
        0,
        5,
        999_999,
        1_000_000,
        915_148_800,
        1_000_000_000,
        1_501_569_018,
        1_700_000_000,
        9_999_999_999,
    ):
        ts = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        got = render("pods", {"metadata": {"name": "p", "creationTimestamp": ts}})
        line = next(x for x in _samples(got) if x.startswith("kube_pod_created{"))
        assert line.rsplit(" ", 1)[1] == go_float(secs), secs
    got = render("pods", {"metadata": {"name": "p", "creationTimestamp": "2017-08-01T06:30:18.999Z"}})
    assert sample_value(got, "kube_pod_created") == 1501569018  # Unix() truncates to the second
    got = render("pods", {"metadata": {"name": "p", "creationTimestamp": "1969-12-31T23:59:59.5Z"}})
    assert sample_value(got, "kube_pod_created") == -1


def test_texts_follow_the_object_when_families_interleave() -> None:
    """Rendering family by family across objects must equal rendering object by object."""
    spec = all_resources()["pods"]
    fams = spec.families(FamilyOptions())

    def pod(i: int) -> object:
        return decode_object(
            spec,
            {
                "metadata": {"name": f"p{i}", "uid": f"u{i}"},
                "spec": {
                    "nodeName": f"n{i}",
                    "containers": [{"name": f"c{i}", "resources": {"limits": {"cpu": "1"}}}],
                },
                "status": {
                    "containerStatuses": [{"name": f"c{i}", "restartCount": i, "state": {"running": {}}}]
                },
            },
        )

    pods = [pod(i) for i in range(3)]
    by_object = [render_object(spec, fams, p) for p in pods]
    interleaved: list[list[str]] = [[] for _ in pods]
    for f in fams:
        alone = ObjectRenderer([f]).texts
        for i, p in enumerate(pods):
            interleaved[i] += alone(p, spec.identity(p))
    assert interleaved == by_object
    assert 'container="c2",node="n2"' in "".join(by_object[2])


def test_decode_skips_fields_the_families_do_not_read() -> None:
    raw = msgspec.json.encode(
        {
            "metadata": {"name": "p", "managedFields": [{"manager": "kubectl"}]},
            "spec": {
                "volumes": [{"name": "v", "ephemeral": {"volumeClaimTemplate": {"spec": {"x": [1, 2]}}}}]
            },
            "status": {"message": "m", "nominatedNodeName": "n"},
        }
    )
    pod = msgspec.json.decode(raw, type=Pod)
    assert pod.spec.volumes[0].ephemeral is not None
    assert label_names(
        render("pods", msgspec.json.decode(raw)), "kube_pod_spec_volumes_persistentvolumeclaims_info"
    )


def test_go_zero_creation_and_deletion_times_mean_unset() -> None:
    # KSM checks Time.IsZero() for these two (and only these two) timestamps
    zero = "0001-01-01T00:00:00Z"
    got = render(
        "pods",
        {
            "metadata": {"name": "p", "creationTimestamp": zero, "deletionTimestamp": zero},
            "status": {"startTime": zero},
        },
    )
    assert "kube_pod_created{" not in got
    assert "kube_pod_deletion_timestamp{" not in got
    assert sample_value(got, "kube_pod_start_time") == -62135596800
