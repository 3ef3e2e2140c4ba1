"""A Deployment with its ReplicaSets, pods, Service, ConfigMap and Secret, and now and then a
PodDisruptionBudget, a HorizontalPodAutoscaler and an Ingress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.objects import workloads
from kubescope.sim.objects.meta import owner_ref, rfc3339
from kubescope.sim.objects.workloads import HASH_LABEL, REVISION
from kubescope.sim.scenario.gen import Gen, Placement
from kubescope.sim.scenario.namespaces import serviceaccount
from kubescope.sim.scenario.pods import app_template, make_pod, pod_state
from kubescope.sim.scenario.services import app_service

Obj = dict[str, Any]


def app_deployment(g: Gen, ns: str, app: str, replicas: int, place: Placement) -> Iterator[tuple[str, Obj]]:
    t = app_template(g, app, gpu=g.rng.random() < 0.01)
    gen = g.rng.randrange(1, 12)
    dep_meta = g.meta(
        app,
        ns,
        labels={"app": app, "app.kubernetes.io/name": app},
        annotations={"deployment.kubernetes.io/revision": str(gen)},
        generation=gen,
    )
    pth = g.hexid(10)
    rs_name = f"{app}-{pth}"
    rs_uid, rs_created = g.identity()
    pods = []
    for _ in range(replicas):
        p = make_pod(
            g,
            f"{rs_name}-{g.suffix()}",
            ns,
            t,
            place.pick(),
            ("apps/v1", "ReplicaSet", rs_name, rs_uid),
            {"pod-template-hash": pth},
            pod_state(g),
        )
        pods.append(p)
    ready = sum(
        1
        for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])
    )
    template = {
        "metadata": {"labels": dict(t.labels, **{"pod-template-hash": pth})},
        "spec": {"containers": t.containers, "volumes": t.volumes},
    }
    progressing_ok = ready == replicas or g.rng.random() < 0.7
    now = rfc3339(g.ago(0, 3600))
    yield (
        "deployments.apps",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": dep_meta,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": t.labels}, "spec": template["spec"]},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                **({"paused": True} if g.rng.random() < 0.01 else {}),
            },
            "status": {
                "observedGeneration": gen,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": replicas - ready,
                "terminatingReplicas": 0,
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True" if ready == replicas else "False",
                        "lastUpdateTime": now,
                        "lastTransitionTime": now,
                        "reason": "MinimumReplicasAvailable"
                        if ready == replicas
                        else "MinimumReplicasUnavailable",
                        "message": "Deployment has minimum availability.",
                    },
                    {
                        "type": "Progressing",
                        "status": "True" if progressing_ok else "False",
                        "lastUpdateTime": now,
                        "lastTransitionTime": now,
                        "reason": "NewReplicaSetAvailable" if progressing_ok else "ProgressDeadlineExceeded",
                        "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
                    },
                ],
            },
        },
    )
    owner = owner_ref("apps/v1", "Deployment", app, dep_meta["uid"])
    yield (
        "replicasets.apps",
        workloads.replica_set(
            rs_name,
            ns,
            uid=rs_uid,
            created=rs_created,
            owner=owner,
            labels={"app": app, HASH_LABEL: pth},
            annotations={REVISION: str(gen), "deployment.kubernetes.io/desired-replicas": str(replicas)},
            selector={"app": app, HASH_LABEL: pth},
            template=template,
            replicas=replicas,
            status={
                "replicas": replicas,
                "fullyLabeledReplicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": 1,
            },
        ),
    )
    if gen > 1:
        # the previous revision, scaled down
        old = g.hexid(10)
        old_uid, old_created = g.identity()
        yield (
            "replicasets.apps",
            workloads.replica_set(
                f"{app}-{old}",
                ns,
                uid=old_uid,
                created=old_created,
                owner=dict(owner),
                labels={"app": app, HASH_LABEL: old},
                annotations={REVISION: str(gen - 1)},
                selector={"app": app, HASH_LABEL: old},
                template=template,
                replicas=0,
                generation=2,
                status={"replicas": 0, "observedGeneration": 2},
            ),
        )
    yield from serviceaccount(g, ns, app)
    yield (
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": g.meta(f"{app}-config", ns, labels={"app": app}),
            "data": {"config.yaml": f"app: {app}\nreplicas: {replicas}\n"},
        },
    )
    if g.rng.random() < 0.5:
        yield (
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": g.meta(f"{app}-credentials", ns, labels={"app": app}),
                "data": {"password": "c2VjcmV0"},
            },
        )
    for p in pods:
        yield "pods", p
    yield from app_service(g, ns, app, pods)
    if replicas >= 2 and g.rng.random() < 0.5:
        yield (
            "poddisruptionbudgets.policy",
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": g.meta(app, ns, generation=1),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
                "status": {
                    "currentHealthy": ready,
                    "desiredHealthy": 1,
                    "disruptionsAllowed": max(0, ready - 1),
                    "expectedPods": replicas,
                    "observedGeneration": 1,
                    "conditions": [
                        {
                            "type": "DisruptionAllowed",
                            "status": "True" if ready > 1 else "False",
                            "reason": "SufficientPods" if ready > 1 else "InsufficientPods",
                            "lastTransitionTime": now,
                            "observedGeneration": 1,
                            "message": "",
                        }
                    ],
                },
            },
        )
    if replicas >= 2 and g.rng.random() < 0.3:
        yield from app_hpa(g, ns, app, replicas)
    if g.rng.random() < 0.15:
        yield (
            "ingresses.networking.k8s.io",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": g.meta(app, ns, generation=1),
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": [f"{app}.{ns}.example.com"], "secretName": f"{ns}-tls"}],
                    "rules": [
                        {
                            "host": f"{app}.{ns}.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": app, "port": {"number": 80}}},
                                    },
                                    {
                                        "path": "/static",
                                        "pathType": "ImplementationSpecific",
                                        "backend": {
                                            "resource": {
                                                "apiGroup": "k8s.example.com",
                                                "kind": "StorageBucket",
                                                "name": "static-assets",
                                            }
                                        },
                                    },
                                ]
                            },
                        }
                    ],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": f"203.0.113.{g.rng.randrange(1, 254)}"}]}},
            },
        )


def app_hpa(g: Gen, ns: str, app: str, replicas: int) -> Iterator[tuple[str, Obj]]:
    now = rfc3339(g.ago(0, 600))
    cpu_util = g.rng.randrange(20, 120)
    yield (
        "horizontalpodautoscalers.autoscaling",
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": g.meta(app, ns, generation=1),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": max(1, replicas // 2),
                "maxReplicas": replicas * 3,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    },
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "500Mi"},
                        },
                    },
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "http_requests_per_second"},
                            "target": {"type": "AverageValue", "averageValue": "100"},
                        },
                    },
                    {
                        "type": "External",
                        "external": {
                            "metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": app}}},
                            "target": {"type": "Value", "value": "30"},
                        },
                    },
                ],
            },
            "status": {
                "currentReplicas": replicas,
                "desiredReplicas": replicas,
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "current": {"averageUtilization": cpu_util, "averageValue": f"{cpu_util * 2}m"},
                        },
                    },
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "current": {"averageValue": f"{g.rng.randrange(100, 600)}Mi"},
                        },
                    },
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "http_requests_per_second"},
                            "current": {"averageValue": f"{g.rng.randrange(10, 200)}"},
                        },
                    },
                    {
                        "type": "External",
                        "external": {
                            "metric": {"name": "queue_depth"},
                            "current": {"value": str(g.rng.randrange(0, 60))},
                        },
                    },
                ],
                "conditions": [
                    {
                        "type": "AbleToScale",
                        "status": "True",
                        "lastTransitionTime": now,
                        "reason": "ReadyForNewScale",
                        "message": "recommended size matches current size",
                    },
                    {
                        "type": "ScalingActive",
                        "status": "True",
                        "lastTransitionTime": now,
                        "reason": "ValidMetricFound",
                        "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization",
                    },
                    {
                        "type": "ScalingLimited",
                        "status": "False",
                        "lastTransitionTime": now,
                        "reason": "DesiredWithinRange",
                        "message": "the desired count is within the acceptable range",
                    },
                ],
            },
        },
    )
