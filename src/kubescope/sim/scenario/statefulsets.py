"""A StatefulSet with its claims, the volumes bound to them, their attachments, its pods and its
headless Service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.objects.meta import rfc3339
from kubescope.sim.scenario.gen import ZONES, Gen, Placement
from kubescope.sim.scenario.namespaces import serviceaccount
from kubescope.sim.scenario.pods import app_template, make_pod, pod_state
from kubescope.sim.scenario.services import app_service

Obj = dict[str, Any]


def app_statefulset(g: Gen, ns: str, app: str, replicas: int, place: Placement) -> Iterator[tuple[str, Obj]]:
    t = app_template(g, app)
    sc = g.rng.choice(("standard", "fast-ssd", "local-storage", "nfs"))
    sts_meta = g.meta(app, ns, labels={"app": app}, generation=g.rng.randrange(1, 5))
    rev = f"{app}-{g.hexid(10)}"
    pods = []
    pvcs, pvs = [], []
    for i in range(replicas):
        claim = f"data-{app}-{i}"
        pv_name = f"pvc-{g.uid()}"
        size = g.rng.choice(("10Gi", "20Gi", "50Gi", "100Gi"))
        pvc_meta = g.meta(
            claim,
            ns,
            labels={"app": app},
            annotations={
                "pv.kubernetes.io/bind-completed": "yes",
                "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
            },
        )
        bound = g.rng.random() < 0.97
        pvcs.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": pvc_meta,
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                    "storageClassName": sc,
                    "volumeMode": "Filesystem",
                    **({"volumeName": pv_name} if bound else {}),
                },
                "status": (
                    {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}}
                    if bound
                    else {"phase": "Pending"}
                ),
            }
        )
        if bound:
            source: Obj
            if sc == "local-storage":
                source = {"local": {"path": f"/mnt/disks/{g.suffix()}", "fsType": "ext4"}}
            elif sc == "nfs":
                source = {"nfs": {"server": "nfs.storage.internal", "path": f"/exports/{ns}/{claim}"}}
            else:
                source = {
                    "csi": {
                        "driver": "ebs.csi.aws.com",
                        "volumeHandle": f"vol-{g.hexid(17)}",
                        "fsType": "ext4",
                        "volumeAttributes": {
                            "storage.kubernetes.io/csiProvisionerIdentity": "1700000000000-ebs"
                        },
                    }
                }
            pvs.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": g.meta(
                        pv_name,
                        labels={"topology.kubernetes.io/zone": g.rng.choice(ZONES)},
                        annotations={"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"},
                    ),
                    "spec": {
                        "capacity": {"storage": size},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Delete" if sc != "local-storage" else "Retain",
                        "storageClassName": sc,
                        "volumeMode": "Filesystem",
                        "claimRef": {
                            "apiVersion": "v1",
                            "kind": "PersistentVolumeClaim",
                            "name": claim,
                            "namespace": ns,
                            "uid": pvc_meta["uid"],
                        },
                        **source,
                    },
                    "status": {"phase": "Bound", "lastPhaseTransitionTime": rfc3339(g.ago(3600, 86400))},
                }
            )
        node = place.pick()
        pods.append(
            make_pod(
                g,
                f"{app}-{i}",
                ns,
                t,
                node,
                ("apps/v1", "StatefulSet", app, sts_meta["uid"]),
                {
                    "controller-revision-hash": rev,
                    "statefulset.kubernetes.io/pod-name": f"{app}-{i}",
                    "apps.kubernetes.io/pod-index": str(i),
                },
                pod_state(g),
                pvc=claim,
            )
        )
        if bound and sc not in {"nfs", "local-storage"}:
            yield (
                "volumeattachments.storage.k8s.io",
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "VolumeAttachment",
                    "metadata": g.meta(f"csi-{g.hexid(64)}"),
                    "spec": {
                        "attacher": "ebs.csi.aws.com",
                        "nodeName": node,
                        "source": {"persistentVolumeName": pv_name},
                    },
                    "status": {
                        "attached": True,
                        "attachmentMetadata": {"devicePath": f"/dev/xvd{'abcdefgh'[i % 8]}"},
                    },
                },
            )
    ready = sum(
        1
        for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])
    )
    gen = sts_meta["generation"]
    yield (
        "statefulsets.apps",
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": sts_meta,
            "spec": {
                "replicas": replicas,
                "serviceName": app,
                "selector": {"matchLabels": {"app": app}},
                "podManagementPolicy": "OrderedReady",
                "template": {"metadata": {"labels": t.labels}, "spec": {"containers": t.containers}},
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "storageClassName": sc,
                            "resources": {"requests": {"storage": "10Gi"}},
                        },
                    }
                ],
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                **({"ordinals": {"start": 0}} if g.rng.random() < 0.5 else {}),
            },
            "status": {
                "replicas": replicas,
                "readyReplicas": ready,
                "currentReplicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": ready,
                "observedGeneration": gen,
                "currentRevision": rev,
                "updateRevision": rev,
                "collisionCount": 0,
            },
        },
    )
    yield from serviceaccount(g, ns, app)
    for o in pvcs:
        yield "persistentvolumeclaims", o
    for o in pvs:
        yield "persistentvolumes", o
    for p in pods:
        yield "pods", p
    yield from app_service(g, ns, app, pods, headless=True)
