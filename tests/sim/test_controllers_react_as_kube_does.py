"""The control plane reacts to what clients do, as kube-controller-manager and the kubelets do:
deleted StatefulSet and DaemonSet pods come back, a pod terminates within its grace period
(Terminating, then gone), a scaled Deployment gets and loses pods, a new Deployment gets a
ReplicaSet and running pods, and the churn's default mix leaves most pods running for days."""

from __future__ import annotations

from typing import Any

from kubescope.sim.live import LiveCluster
from kubescope.sim.store import ObjectStore
from tests.sim.clusters import Clock, generated, objs
from tests.sim.consistency import check_controllers, is_ready

Obj = dict[str, Any]


def still_cluster(nodes: int = 6, pods_per_node: int = 10, seed: int = 3) -> tuple[ObjectStore, LiveCluster]:
    """A generated cluster whose control plane runs, without churn (``--controllers``)."""
    store = generated(seed, nodes, pods_per_node, clock=Clock(0.05))
    live = LiveCluster(store, seed=seed, rate=0, world=False)
    live.start_up()
    return store, live


def owned_by(store: ObjectStore, kind: str, name: str) -> list[Obj]:
    return [
        p
        for p in objs(store, "pods")
        if any(r["kind"] == kind and r["name"] == name for r in p["metadata"].get("ownerReferences") or ())
    ]


def test_a_deleted_statefulset_pod_comes_back_under_its_name() -> None:
    store, live = still_cluster()
    sts = next(
        s
        for s in objs(store, "statefulsets.apps")
        if all(is_ready(p) for p in owned_by(store, "StatefulSet", s["metadata"]["name"]))
    )
    ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
    victim = f"{name}-0"
    uid = store.get("pods", ns, victim)["metadata"]["uid"]
    store.delete("pods", ns, victim)
    live.plane.drain()
    # terminating first: the same name is not reused until the old pod is gone
    assert store.get("pods", ns, victim)["metadata"]["uid"] == uid
    live.settle(60)
    again = store.get("pods", ns, victim)
    assert again["metadata"]["uid"] != uid and again["status"]["phase"] == "Running" and is_ready(again)
    assert again["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == victim
    assert again["spec"]["hostname"] == victim
    assert store.get("statefulsets.apps", ns, name)["status"]["readyReplicas"] == sts["spec"]["replicas"]


def test_a_deleted_daemonset_pod_comes_back_on_its_node() -> None:
    store, live = still_cluster()
    ds = objs(store, "daemonsets.apps")[0]
    ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
    victim = owned_by(store, "DaemonSet", name)[0]
    node = victim["spec"]["nodeName"]
    store.delete("pods", ns, victim["metadata"]["name"], grace_period=0)
    live.settle(30)
    on_node = [p for p in owned_by(store, "DaemonSet", name) if p["spec"].get("nodeName") == node]
    assert len(on_node) == 1 and on_node[0]["metadata"]["uid"] != victim["metadata"]["uid"]
    assert on_node[0]["status"]["phase"] == "Running"
    affinity = on_node[0]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert affinity["nodeSelectorTerms"][0]["matchFields"][0]["values"] == [node]
    assert store.get("daemonsets.apps", ns, name)["status"]["currentNumberScheduled"] == len(
        objs(store, "nodes")
    )


def test_a_pod_terminates_within_its_grace_period_then_goes() -> None:
    store, live = still_cluster()
    pod = next(
        p
        for p in objs(store, "pods")
        if is_ready(p) and p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    )
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    rs = pod["metadata"]["ownerReferences"][0]["name"]
    store.delete("pods", ns, name)
    marked = store.get("pods", ns, name)
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30 and marked["metadata"]["deletionTimestamp"]
    live.settle(0.2)
    # its ReplicaSet replaced it at once; its Service's slice lists it as terminating meanwhile
    assert (
        len([p for p in owned_by(store, "ReplicaSet", rs) if not p["metadata"].get("deletionTimestamp")])
        == (store.get("replicasets.apps", ns, rs)["spec"]["replicas"])
    )
    eps = [
        ep
        for sl in objs(store, "endpointslices.discovery.k8s.io")
        for ep in sl.get("endpoints") or ()
        if ep["targetRef"]["name"] == name
    ]
    if store.exists("pods", ns, name):
        assert eps and eps[0]["conditions"] == {"ready": False, "serving": True, "terminating": True}
    live.settle(40)
    assert not store.exists("pods", ns, name)
    check_controllers(lambda res: objs(store, res))


def test_scaling_a_deployment_makes_and_removes_running_pods() -> None:
    store, live = still_cluster()
    d = next(
        d
        for d in objs(store, "deployments.apps")
        if d["spec"]["replicas"] >= 2 and not d["spec"].get("paused")
    )
    ns, name, replicas = d["metadata"]["namespace"], d["metadata"]["name"], d["spec"]["replicas"]

    def running() -> int:
        return sum(
            1
            for rs in objs(store, "replicasets.apps")
            if rs["metadata"]["ownerReferences"][0]["name"] == name and rs["metadata"]["namespace"] == ns
            for p in owned_by(store, "ReplicaSet", rs["metadata"]["name"])
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
        )

    before = running()
    store.modify("deployments.apps", ns, name, lambda o: o["spec"].update(replicas=replicas + 3))
    live.settle(30)
    assert running() == before + 3
    st = store.get("deployments.apps", ns, name)["status"]
    assert st["replicas"] == replicas + 3 and st["observedGeneration"] == d["metadata"]["generation"] + 1
    store.modify("deployments.apps", ns, name, lambda o: o["spec"].update(replicas=1))
    live.settle(60)
    assert running() == 1
    check_controllers(lambda res: objs(store, res))


def test_a_new_deployment_gets_a_replicaset_and_ready_pods() -> None:
    store, live = still_cluster()
    labels = {"app": "fresh"}
    store.create(
        "deployments.apps",
        {
            "metadata": {"name": "fresh", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                },
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    live.settle(30)
    (rs,) = [r for r in objs(store, "replicasets.apps") if r["metadata"]["name"].startswith("fresh-")]
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    pods = owned_by(store, "ReplicaSet", rs["metadata"]["name"])
    assert len(pods) == 3 and all(is_ready(p) and p["spec"]["nodeName"] for p in pods)
    assert all(
        p["metadata"]["labels"]["pod-template-hash"] == rs["metadata"]["labels"]["pod-template-hash"]
        for p in pods
    )
    d = store.get("deployments.apps", "default", "fresh")
    assert d["status"]["readyReplicas"] == d["status"]["updatedReplicas"] == 3
    assert {c["type"]: c["reason"] for c in d["status"]["conditions"]} == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }


def test_the_default_churn_leaves_most_pods_running_for_days() -> None:
    """The demo's cluster at its rate (20 writes/s for a minute): churn used to restart nearly every
    container, so ``kubectl top pod`` (which skips restarted containers) showed 12 of 29 pods."""
    store = generated(2, 6, 5, clock=Clock(0.05))  # a seed whose cluster has crash-looping pods
    restarts = {p["metadata"]["uid"]: _restarts(p) for p in objs(store, "pods")}
    crashlooping = {p["metadata"]["uid"] for p in objs(store, "pods") if _crashlooping(p)}
    live = LiveCluster(store, seed=2, rate=20)
    live.start_up()
    while live.counts["writes"] < 20 * 60:
        live.step(1)
    assert live.world is not None
    crashlooping |= {
        store.get("pods", *k)["metadata"]["uid"] for k in live.world.crashing if store.exists("pods", *k)
    }
    running = [p for p in objs(store, "pods") if p["status"].get("phase") == "Running"]
    restarted = [
        p
        for p in running
        if _restarts(p) > restarts.get(p["metadata"]["uid"], 0) and p["metadata"]["uid"] not in crashlooping
    ]
    # a crash-looping pod goes on crash-looping; of the others, hardly any restarted in a minute
    assert len(restarted) <= max(1, len(running) // 20), (len(restarted), len(running), dict(live.counts))
    assert crashlooping, "a few pods crash-loop"


def _restarts(p: Obj) -> int:
    return sum(c.get("restartCount", 0) for c in p["status"].get("containerStatuses") or ())


def _crashlooping(p: Obj) -> bool:
    return any(
        (c.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
        for c in p["status"].get("containerStatuses") or ()
    )
