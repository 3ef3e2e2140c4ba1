"""Workload objects made from other objects' templates: ReplicaSets (from Deployments), Jobs (from
CronJobs), the pod-template hash that names a ReplicaSet."""

from __future__ import annotations

from typing import Any

import msgspec

from kubescope.sim.objects.meta import object_meta, owner_ref
from kubescope.sim.objects.names import SUFFIX_ALPHABET
from kubescope.sim.objects.pods import deep

Obj = dict[str, Any]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
_canonical = msgspec.json.Encoder(order="sorted")


def pod_template_hash(template: Obj, collisions: int = 0) -> str:
    """The ``pod-template-hash`` of a template: FNV-1a (32 bits) of its canonical JSON, written as
    the deployment controller writes its hash (the decimal digits mapped onto the name alphabet).
    Go hashes its own printing of the struct, so the values differ from a real cluster's; the form
    and the stability (same template, same hash) are the same."""
    h = 0x811C9DC5
    for b in _canonical.encode(template) + str(collisions).encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return "".join(SUFFIX_ALPHABET[ord(ch) % len(SUFFIX_ALPHABET)] for ch in str(h))


def equal_ignoring_hash(a: Obj, b: Obj) -> bool:
    """Whether two pod templates are the same but for the ``pod-template-hash`` label (the
    deployment controller's ``EqualIgnoreHash``), without copying either."""
    if a.get("spec") != b.get("spec"):
        return False
    am, bm = a.get("metadata") or {}, b.get("metadata") or {}
    if any(am.get(k) != bm.get(k) for k in set(am) | set(bm) if k != "labels"):
        return False
    al, bl = am.get("labels") or {}, bm.get("labels") or {}
    return {k: v for k, v in al.items() if k != HASH_LABEL} == {
        k: v for k, v in bl.items() if k != HASH_LABEL
    }


def replica_set(
    name: str,
    namespace: str,
    *,
    uid: str,
    created: str,
    owner: Obj,
    labels: dict[str, str],
    annotations: dict[str, str],
    selector: dict[str, str],
    template: Obj,
    replicas: int,
    generation: int = 1,
    status: Obj | None = None,
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": object_meta(
            name,
            namespace,
            uid=uid,
            created=created,
            labels=labels,
            owner=owner,
            generation=generation,
            annotations=annotations,
        ),
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector}, "template": template},
        "status": status if status is not None else {"replicas": 0, "observedGeneration": generation},
    }


def new_replica_set(
    deployment: Obj,
    *,
    uid: str,
    created: str,
    revision: int,
    replicas: int,
    max_replicas: int,
    collisions: int = 0,
) -> Obj:
    """The ReplicaSet the deployment controller creates for the Deployment's current template:
    named after the template's hash, labelled and selected with it."""
    meta, spec = deployment["metadata"], deployment.get("spec") or {}
    pth = pod_template_hash(spec.get("template") or {}, collisions)
    template = deep(spec.get("template") or {})
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = dict(tmeta.get("labels") or {}, **{HASH_LABEL: pth})
    selector = dict(((spec.get("selector") or {}).get("matchLabels")) or {}, **{HASH_LABEL: pth})
    return replica_set(
        f"{meta['name']}-{pth}",
        meta.get("namespace", ""),
        uid=uid,
        created=created,
        owner=owner_ref("apps/v1", "Deployment", meta["name"], meta.get("uid", "")),
        labels=dict(tmeta["labels"]),
        annotations={
            REVISION: str(revision),
            "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 1)),
            "deployment.kubernetes.io/max-replicas": str(max_replicas),
        },
        selector=selector,
        template=template,
        replicas=replicas,
    )


def job_from_cronjob(cronjob: Obj, *, name: str, uid: str, created: str, manual: bool) -> Obj:
    """A Job from a CronJob's ``jobTemplate``, owned by it: what the CronJob controller makes at a
    scheduled time, or ``kubectl create job --from=cronjob/NAME`` (``manual``) makes. The API's
    defaulting then generates its selector and labels from ``uid``."""
    meta, spec = cronjob["metadata"], cronjob.get("spec") or {}
    jt = spec.get("jobTemplate") or {}
    annotations = dict((jt.get("metadata") or {}).get("annotations") or {})
    if manual:
        annotations["cronjob.kubernetes.io/instantiate"] = "manual"
    else:
        annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] = created
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": object_meta(
            name,
            meta.get("namespace", ""),
            uid=uid,
            created=created,
            labels=dict((jt.get("metadata") or {}).get("labels") or {}),
            annotations=annotations,
            owner=owner_ref("batch/v1", "CronJob", meta["name"], meta.get("uid", "")),
            generation=1,
        ),
        "spec": deep(jt.get("spec") or {}),
    }
