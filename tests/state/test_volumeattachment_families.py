"""VolumeAttachment families: KSM's ``internal/store/volumeattachment_test.go`` (v2.20), the family
list, ``metadata_<key>`` labels, labels without an allowlist, and label order."""

from __future__ import annotations

from kubescope.state.family import FamilyOptions
from kubescope.state.registry import all_resources
from tests.state.ksm import assert_ksm_equal, label_names, render, sample_value

NAME = "csi-5ff16a1ad085261021e21c6cb3a6defb979a8794f25a4f90f6285664cff37224"
FAMILIES = [
    "kube_volumeattachment_labels",
    "kube_volumeattachment_info",
    "kube_volumeattachment_created",
    "kube_volumeattachment_spec_source_persistentvolume",
    "kube_volumeattachment_status_attached",
    "kube_volumeattachment_status_attachment_metadata",
]


def test_family_names_order_and_stability() -> None:
    spec = all_resources()["volumeattachments"]
    assert (spec.group, spec.version, spec.namespaced) == ("storage.k8s.io", "v1", False)
    fams = spec.families(FamilyOptions())
    assert [f.name for f in fams] == FAMILIES
    assert all(f.stability == "ALPHA" and f.type == "gauge" for f in fams)


def test_ksm_case() -> None:
    obj = {
        "metadata": {"generation": 2, "name": NAME, "labels": {"app": "foobar"}},
        "spec": {
            "attacher": "cinder.csi.openstack.org",
            "nodeName": "node1",
            "source": {"persistentVolumeName": "pvc-44f6ff3f-ba9b-49c4-9b95-8b01c4bd4bab"},
        },
        "status": {"attached": True, "attachmentMetadata": {"DevicePath": "/dev/sdd"}},
    }
    want = f"""
        # HELP kube_volumeattachment_created Unix creation timestamp
        # HELP kube_volumeattachment_info Information about volumeattachment.
        # HELP kube_volumeattachment_labels Kubernetes labels converted to Prometheus labels.
        # HELP kube_volumeattachment_spec_source_persistentvolume PersistentVolume source reference.
        # HELP kube_volumeattachment_status_attached Information about volumeattachment.
        # HELP kube_volumeattachment_status_attachment_metadata volumeattachment metadata.
        # TYPE kube_volumeattachment_created gauge
        # TYPE kube_volumeattachment_info gauge
        # TYPE kube_volumeattachment_labels gauge
        # TYPE kube_volumeattachment_spec_source_persistentvolume gauge
        # TYPE kube_volumeattachment_status_attached gauge
        # TYPE kube_volumeattachment_status_attachment_metadata gauge
        kube_volumeattachment_info{{attacher="cinder.csi.openstack.org",node="node1",volumeattachment="{NAME}"}} 1
        kube_volumeattachment_labels{{label_app="foobar",volumeattachment="{NAME}"}} 1
        kube_volumeattachment_spec_source_persistentvolume{{volumeattachment="{NAME}",volumename="pvc-44f6ff3f-ba9b-49c4-9b95-8b01c4bd4bab"}} 1
        kube_volumeattachment_status_attached{{volumeattachment="{NAME}"}} 1
        kube_volumeattachment_status_attachment_metadata{{metadata_device_path="/dev/sdd",volumeattachment="{NAME}"}} 1
    """
    got = render("volumeattachments", obj)
    assert_ksm_equal(got, want, FAMILIES)
    assert label_names(got, "kube_volumeattachment_info") == [["volumeattachment", "attacher", "node"]]


def test_minimal_object_still_writes_labels_attached_and_metadata() -> None:
    got = render("volumeattachments", {"metadata": {"name": "va"}})
    # labels and attachment metadata are written even when empty (no allowlist applies here)
    assert 'kube_volumeattachment_labels{volumeattachment="va"} 1\n' in got
    assert 'kube_volumeattachment_status_attachment_metadata{volumeattachment="va"} 1\n' in got
    assert 'kube_volumeattachment_status_attached{volumeattachment="va"} 0\n' in got
    assert 'kube_volumeattachment_info{volumeattachment="va",attacher="",node=""} 1\n' in got
    assert sample_value(got, "kube_volumeattachment_spec_source_persistentvolume") is None
    assert sample_value(got, "kube_volumeattachment_created") is None


def test_metadata_keys_sorted_sanitized_and_conflicting() -> None:
    obj = {
        "metadata": {"name": "va", "labels": {"b": "2", "a.b/c": "1"}},
        "status": {"attachmentMetadata": {"devicePath": "/dev/b", "device-path": "/dev/a", "lun": "3"}},
    }
    got = render("volumeattachments", obj)
    assert label_names(got, "kube_volumeattachment_status_attachment_metadata") == [
        [
            "volumeattachment",
            "metadata_device_path_conflict1",
            "metadata_device_path_conflict2",
            "metadata_lun",
        ]
    ]
    # sorted keys: "device-path" < "devicePath"
    assert (
        sample_value(
            got,
            "kube_volumeattachment_status_attachment_metadata",
            {"metadata_device_path_conflict1": "/dev/a"},
        )
        == 1
    )
    assert label_names(got, "kube_volumeattachment_labels") == [
        ["volumeattachment", "label_a_b_c", "label_b"]
    ]
