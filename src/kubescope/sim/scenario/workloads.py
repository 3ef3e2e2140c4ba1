"""The workloads of a cluster: node DaemonSets, then per namespace Deployments, StatefulSets, Jobs,
pending pods, ReplicationControllers, in the proportions the package docstring gives; then the
Events about those pods (:mod:`.events`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.scenario.deployments import app_deployment
from kubescope.sim.scenario.events import history
from kubescope.sim.scenario.gen import APPS, Gen, Placement
from kubescope.sim.scenario.jobs import app_jobs
from kubescope.sim.scenario.namespaces import namespace_objects, serviceaccount
from kubescope.sim.scenario.pods import app_template, make_pod, pod_state
from kubescope.sim.scenario.statefulsets import app_statefulset

Obj = dict[str, Any]


def workload_objects(g: Gen) -> Iterator[tuple[str, Obj]]:
    """The workloads, then the Events their pods' components wrote within the hour."""
    pods: list[Obj] = []
    for res, obj in _workloads(g):
        if res == "pods":
            pods.append(obj)
        yield res, obj
    yield from history(g, pods)


def _workloads(g: Gen) -> Iterator[tuple[str, Obj]]:
    cfg = g.cfg
    total = cfg.nodes * cfg.pods_per_node
    workers = [n for n in g.node_names if not n.startswith("control-plane")] or g.node_names
    place = Placement(workers, max(cfg.pods_per_node * 2, 10))
    made = 0

    # system daemonsets: one pod per node
    ds_specs = [("kube-proxy", "kube-system"), ("cilium", "kube-system"), ("node-exporter", "monitoring")]
    if total < cfg.nodes * 4:
        ds_specs = ds_specs[:1] if total >= cfg.nodes else []
    for app, ns in ds_specs:
        t = app_template(g, app, system=True)
        t.host_network = app != "node-exporter"
        t.tolerations = [{"operator": "Exists"}]
        ds_uid = g.uid()
        n = len(g.node_names)
        ready = n - sum(1 for _ in range(n) if g.rng.random() < 0.02)
        yield (
            "daemonsets.apps",
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": dict(g.meta(app, ns, labels={"k8s-app": app}, generation=3), uid=ds_uid),
                "spec": {
                    "selector": {"matchLabels": {"k8s-app": app}},
                    "template": {
                        "metadata": {"labels": {"k8s-app": app}},
                        "spec": {"containers": t.containers},
                    },
                    "updateStrategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                    },
                },
                "status": {
                    "currentNumberScheduled": n,
                    "desiredNumberScheduled": n,
                    "numberAvailable": ready,
                    "numberMisscheduled": 0,
                    "numberReady": ready,
                    "numberUnavailable": n - ready,
                    "observedGeneration": 3,
                    "updatedNumberScheduled": n,
                },
            },
        )
        yield from serviceaccount(g, ns, app)
        for node in g.node_names:
            name = f"{app}-{g.suffix()}"
            yield (
                "pods",
                make_pod(
                    g,
                    name,
                    ns,
                    t,
                    node,
                    ("apps/v1", "DaemonSet", app, ds_uid),
                    {"k8s-app": app, "controller-revision-hash": g.hexid(10)},
                    pod_state(g),
                ),
            )
            made += 1

    # per-namespace basics
    for ns in g.namespaces:
        yield from namespace_objects(g, ns)

    remaining = max(0, total - made)
    n_sts_pods = int(remaining * 0.14)
    n_job_pods = int(remaining * 0.08)
    n_pending = int(remaining * 0.02)
    n_deploy_pods = remaining - n_sts_pods - n_job_pods - n_pending

    apps_used: dict[str, int] = {}

    def next_app(ns: str) -> str:
        base = g.rng.choice(APPS)
        k = (ns, base)
        i = apps_used.get(f"{k}", 0)
        apps_used[f"{k}"] = i + 1
        return base if i == 0 else f"{base}-{i}"

    # deployments
    while n_deploy_pods > 0:
        ns = g.rng.choice(g.namespaces)
        app = next_app(ns)
        replicas = min(n_deploy_pods, g.rng.choice((1, 2, 2, 3, 3, 3, 4, 5, 6, 8, 10)))
        n_deploy_pods -= replicas
        yield from app_deployment(g, ns, app, replicas, place)

    # statefulsets
    while n_sts_pods > 0:
        ns = g.rng.choice(g.namespaces)
        app = next_app(ns) + "-db"
        replicas = min(n_sts_pods, g.rng.choice((1, 3, 3, 5)))
        n_sts_pods -= replicas
        yield from app_statefulset(g, ns, app, replicas, place)

    # jobs, some owned by cronjobs
    while n_job_pods > 0:
        ns = g.rng.choice(g.namespaces)
        app = next_app(ns) + "-job"
        n = min(n_job_pods, g.rng.choice((1, 1, 2, 3)))
        n_job_pods -= n
        yield from app_jobs(g, ns, app, n, place)

    # unschedulable / pending standalone pods
    for _ in range(n_pending):
        ns = g.rng.choice(g.namespaces)
        t = app_template(g, "batch-runner", gpu=g.rng.random() < 0.3)
        yield "pods", make_pod(g, f"batch-runner-{g.suffix()}", ns, t, None, None, {}, "unschedulable")

    # a couple of replication controllers
    ns = g.namespaces[0]
    for i in range(2 if total >= 20 else 0):
        app = f"legacy-{i}"
        t = app_template(g, app)
        rc_uid = g.uid()
        yield (
            "replicationcontrollers",
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "metadata": dict(g.meta(app, ns, labels={"app": app}, generation=1), uid=rc_uid),
                "spec": {
                    "replicas": 1,
                    "selector": {"app": app},
                    "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": t.containers}},
                },
                "status": {
                    "replicas": 1,
                    "fullyLabeledReplicas": 1,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "observedGeneration": 1,
                },
            },
        )
