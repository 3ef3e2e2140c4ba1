"""The live cluster (control plane and churn) against the real ObjectStore: deterministic for a
seed, every kind of change happens, and once the controllers caught up their view holds (owners
count their pods, endpoints list exactly the live pods with their readiness, totals stay near
where they started)."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest

from kubescope.model.timefmt import rfc3339_unix
from kubescope.sim.churn.rates import WEIGHTS
from kubescope.sim.churn.users import OBJECTS_KEPT
from kubescope.sim.live import LiveCluster
from kubescope.sim.store import ObjectStore
from tests.sim.clusters import Clock, generated, objs
from tests.sim.consistency import check_controllers, is_ready

Obj = dict[str, Any]


def cluster(
    seed: int = 3, nodes: int = 12, pods_per_node: int = 15, clock: bool = True, step: float = 0.25
) -> ObjectStore:
    """A generated cluster in a store; on a test clock moving ``step`` seconds per reading unless
    ``clock`` is False (wall time)."""
    return generated(seed, nodes, pods_per_node, clock=Clock(step) if clock else None)


async def until(cond: Any, what: Any, within: float = 60.0) -> None:
    """Until ``cond()``: a deadline for a stuck task, not a speed the machine must reach (``what()``
    says why it failed, at the time it did)."""
    deadline = time.monotonic() + within
    while not cond():
        assert time.monotonic() < deadline, what()
        await asyncio.sleep(0.05)


def live(store: ObjectStore, seed: int, weights: dict[str, int] | None = None, **kw: Any) -> LiveCluster:
    """A live cluster on the store's clock, with every kind of change frequent unless ``weights``."""
    return LiveCluster(store, seed=seed, rate=100, weights=weights or WEIGHTS, **kw)


def everything(store: ObjectStore) -> dict[str, dict[tuple[str, str], Obj]]:
    return {res: {k: store.get(res, *k) for k in sorted(store.keys(res))} for res in sorted(store.objects)}


def test_same_seed_same_cluster_different_seed_different() -> None:
    runs = []
    for seed in (7, 7, 8):
        store = cluster()
        engine = live(store, seed)
        assert engine.step(600) == 600
        runs.append((everything(store), dict(engine.counts)))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]


def test_every_kind_happens_and_counts_add_up() -> None:
    engine = live(cluster(), 1)
    made = engine.step(1500)
    assert made == 1500
    assert all(engine.counts[k] > 0 for k in WEIGHTS), {k: engine.counts[k] for k in WEIGHTS}
    assert sum(engine.counts[k] for k in WEIGHTS) == made
    # the draws follow the weights (readiness dominates, node outages are rare)
    assert engine.counts["pod_readiness"] > engine.counts["node_readiness"] * 4
    # and every part of the control plane wrote
    for part in (
        "kubelet",
        "kubelet-lease",
        "kubelet-status",
        "scheduler",
        "replicaset",
        "deployment",
        "endpoints",
    ):
        assert engine.counts[part] > 0, part
    assert engine.counts["writes"] >= made


def test_owners_endpoints_and_totals_follow_the_pods() -> None:
    # 0.1 s per clock reading: at 0.25 s, a lively step's work (~50 readings, the events' included)
    # takes longer than the kubelets' 10 s lease renewals can follow, and the node controller loses
    # nodes for the test clock's sake, their pods pending: no Deployment would be at rest
    store = cluster(step=0.1)
    before = collections.Counter(res for res in store.objects for _ in store.keys(res))
    running_before = sum(1 for p in objs(store, "pods") if _running(p))
    serving_before = sum(1 for p in objs(store, "pods") if _serving(p))
    engine = live(store, 11)
    engine.step(2000)

    checked = check_controllers(lambda res: objs(store, res))
    assert checked["owner references"] > 150 and checked["replicasets"] > 20, checked
    assert checked["endpointslices"] > 20 and checked["endpoints"] > 20, checked
    assert checked["deployments at rest"] > 10, checked

    # totals stay near where they started: the workloads' running pods (not counting those a
    # rollout surges or that terminate), the namespaces
    serving = sum(1 for p in objs(store, "pods") if _serving(p))
    assert abs(serving - serving_before) <= max(8, serving_before // 10), (serving_before, serving)
    after = collections.Counter(res for res in store.objects for _ in store.keys(res))
    assert abs(after["namespaces"] - before["namespaces"]) <= 2
    # a Deployment keeps revisionHistoryLimit old ReplicaSets at most
    by_deployment = collections.Counter(
        ref["uid"]
        for rs in objs(store, "replicasets.apps")
        for ref in rs["metadata"].get("ownerReferences") or ()
        if ref.get("kind") == "Deployment"
    )
    for d in objs(store, "deployments.apps"):
        assert by_deployment[d["metadata"]["uid"]] <= d["spec"]["revisionHistoryLimit"] + 1, d["metadata"][
            "name"
        ]
    # objects the churn creates (ConfigMaps, Secrets, Events) are deleted past a bounded backlog
    made = sum(after[r] - before[r] for r in ("configmaps", "secrets"))
    assert 0 <= made <= OBJECTS_KEPT, made
    # a CronJob keeps at most its history limits of finished Jobs, plus the ones running
    by_cronjob = collections.Counter(
        ref["uid"]
        for j in objs(store, "jobs.batch")
        for ref in j["metadata"].get("ownerReferences") or ()
        if ref.get("kind") == "CronJob"
    )
    for cj in objs(store, "cronjobs.batch"):
        spec = cj["spec"]
        limit = spec.get("successfulJobsHistoryLimit", 3) + spec.get("failedJobsHistoryLimit", 1) + 2
        assert by_cronjob[cj["metadata"]["uid"]] <= limit, cj["metadata"]["name"]
    # (pods terminating after a rollout still run: not counted)
    running_after = sum(1 for p in objs(store, "pods") if _running(p))
    assert abs(running_after - running_before) <= max(10, running_before // 10)


def _serving(p: Obj) -> bool:
    """A workload's (not a Job's) running pod that is not being deleted."""
    owner = (p["metadata"].get("ownerReferences") or [{}])[0].get("kind")
    return (
        owner in ("ReplicaSet", "StatefulSet", "DaemonSet")
        and p["status"].get("phase") == "Running"
        and not p["metadata"].get("deletionTimestamp")
    )


def test_restarts_only_count_up_and_keep_the_last_termination() -> None:
    store = cluster()
    restarts = {
        (p["metadata"]["uid"], c["name"]): c.get("restartCount", 0)
        for p in objs(store, "pods")
        for c in (p.get("status") or {}).get("containerStatuses") or ()
    }
    engine = live(store, 5, {"pod_restart": 1, "pod_crashloop": 1})
    engine.step(400)
    grew = 0
    for p in objs(store, "pods"):
        for c in (p.get("status") or {}).get("containerStatuses") or ():
            was = restarts.get((p["metadata"]["uid"], c["name"]))
            if was is None:
                continue
            assert c["restartCount"] >= was
            if c["restartCount"] > was:
                grew += 1
                term = c["lastState"]["terminated"]
                assert term["finishedAt"] >= term["startedAt"]
                state = c["state"]
                if "running" in state:
                    assert state["running"]["startedAt"] >= term["finishedAt"]
                else:
                    assert state["waiting"]["reason"] == "CrashLoopBackOff"
                    assert not c["ready"]
    assert grew >= 100


def test_containers_of_never_restart_pods_do_not_restart() -> None:
    store = cluster()

    def restarts() -> dict[tuple[str, str], tuple[str, int, bool]]:
        return {
            (p["metadata"]["uid"], c["name"]): (
                p["spec"].get("restartPolicy", "Always"),
                c.get("restartCount", 0),
                "waiting" in c["state"],
            )
            for p in objs(store, "pods")
            if p["status"].get("phase") == "Running"
            for c in p["status"].get("containerStatuses") or ()
        }

    # CronJobs run (their Jobs' pods are restartPolicy Never) and nothing completes them
    engine = live(store, 8, {"pod_restart": 4, "pod_crashloop": 2, "cronjob_run": 1})
    engine.step(50)
    before = restarts()
    assert sum(1 for policy, _, _ in before.values() if policy == "Never") >= 3
    engine.step(1500)
    grew = {k: v for k, v in restarts().items() if k in before and (v[1] > before[k][1] or v[2])}
    assert grew and all(policy != "Never" for policy, _, _ in grew.values()), grew


def test_autoscaled_deployments_scale_within_their_hpa_bounds() -> None:
    store = cluster()
    engine = live(store, 3, {"scale": 1})
    engine.step(1500)
    hpas = [
        h
        for h in objs(store, "horizontalpodautoscalers.autoscaling")
        if h["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    ]
    assert hpas
    for h in hpas:
        d = store.get("deployments.apps", h["metadata"]["namespace"], h["spec"]["scaleTargetRef"]["name"])
        low, high = h["spec"].get("minReplicas", 1), h["spec"]["maxReplicas"]
        assert low <= d["spec"]["replicas"] <= high, (h["metadata"]["name"], d["spec"]["replicas"], low, high)
        assert h["status"]["currentReplicas"] == h["status"]["desiredReplicas"] == d["spec"]["replicas"]


def test_node_outage_marks_its_pods_not_ready_and_recovery_restores_them() -> None:
    store = cluster()
    engine = live(store, 2, {"node_readiness": 1})
    engine.step(1)
    assert engine.world is not None
    (down,) = list(engine.world.down_nodes)
    held = [p.key for p in engine.cluster.pods.on_node(down) if p.ready]
    assert held

    # its kubelet stopped renewing the Lease: 40 s later (the grace period; on the store's clock,
    # which moves with the work done) the node lifecycle controller marks it
    def ready_condition() -> Obj:
        conditions = store.get("nodes", "", down)["status"]["conditions"]
        return next(c for c in conditions if c["type"] == "Ready")  # type: ignore[no-any-return]

    for _ in range(120):
        if ready_condition()["status"] != "True":
            break
        engine.settle(1)
    ready = ready_condition()
    renewed = store.get("leases.coordination.k8s.io", "kube-node-lease", down)["spec"]["renewTime"]
    marked, last = rfc3339_unix(ready["lastTransitionTime"]), rfc3339_unix(renewed)
    assert marked is not None and last is not None and marked - last >= 40, (ready, renewed)
    node = store.get("nodes", "", down)
    assert ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown"
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"} in node["spec"]["taints"]
    assert not any(is_ready(store.get("pods", *k)) for k in held)
    while engine.world.down_nodes:
        engine.step(1)
    node = store.get("nodes", "", down)
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    assert not any(t["key"] == "node.kubernetes.io/unreachable" for t in node["spec"].get("taints") or ())
    assert all(is_ready(store.get("pods", *k)) for k in held if store.exists("pods", *k))


def test_pods_deleted_by_someone_else_are_replaced_and_leave_endpoints() -> None:
    store = cluster()
    engine = live(store, 4, {"hpa_status": 1})
    engine.start_up()
    victims = [
        p.key
        for p in sorted(engine.cluster.pods.pods.values(), key=lambda p: p.key)
        if p.owner and p.owner[0] == "ReplicaSet" and p.ready
    ][:10]
    before = len(store.keys("pods"))
    for ns, name in victims:
        store.delete("pods", ns, name, grace_period=0)  # kubectl delete --force
    engine.step(1)
    gone = {name for _, name in victims}
    for sl in objs(store, "endpointslices.discovery.k8s.io"):
        assert not gone & {ep["targetRef"]["name"] for ep in sl.get("endpoints") or ()}
    # their ReplicaSets made new ones at once
    assert len(store.keys("pods")) == before
    check_controllers(lambda res: objs(store, res))


def test_writes_count_what_watchers_see() -> None:
    # one write = one resourceVersion = one watch event; updates that change nothing are not writes
    store = cluster()
    engine = live(store, 6)
    engine.start_up()
    rv = store.resource_version
    engine.step(1000)
    assert engine.counts["writes"] == store.resource_version - rv
    assert engine.counts["writes"] > 1000


async def test_task_keeps_its_write_rate_and_stops() -> None:
    store = cluster(nodes=6, pods_per_node=10, clock=False)
    engine = LiveCluster(store, seed=9, rate=400)
    engine.start_up()
    rv = store.resource_version
    started = time.monotonic()
    engine.start()
    # it writes (however slowly a loaded machine runs it) ...
    deadline = started + 60
    while engine.counts["writes"] < 120:
        assert time.monotonic() < deadline, engine.counts
        await asyncio.sleep(0.05)
    await engine.stop()
    elapsed = time.monotonic() - started
    # ... and never above its rate: the rate is writes per second (what watchers receive), not changes
    writes = engine.counts["writes"]
    assert writes <= 400 * elapsed + 60, (writes, elapsed)
    assert store.resource_version - rv == writes
    # by default the world's changes follow real rates: HPAs report most often
    assert sum(engine.counts[k] for k in WEIGHTS) <= writes
    assert engine.counts["hpa_status"] > 0
    done = store.resource_version
    await asyncio.sleep(0.2)
    assert store.resource_version == done


async def test_rate_changes_live_and_zero_pauses() -> None:
    store = cluster(nodes=6, pods_per_node=10, clock=False)
    engine = LiveCluster(store, seed=9, rate=400)
    engine.start()
    try:
        await asyncio.sleep(0.3)
        engine.set_rate(0)
        paused = store.resource_version
        await asyncio.sleep(0.3)
        assert store.resource_version == paused
        assert engine.achieved() < 400
        engine.set_rate(1000)
        # it writes again (however slowly a loaded machine runs it)
        await until(
            lambda: store.resource_version - paused >= 100,
            lambda: f"no writes after the pause: {engine.counts}",
        )
        with pytest.raises(ValueError, match="must be >= 0"):
            engine.set_rate(float("nan"))
    finally:
        await engine.stop()


async def test_a_failing_change_does_not_stop_the_task() -> None:
    store = cluster(nodes=6, pods_per_node=10, clock=False)
    engine = LiveCluster(store, seed=9, rate=400, weights={"configmap": 1, "pod_readiness": 1})
    assert engine.world is not None

    def broken() -> bool:
        raise RuntimeError("a bug in one kind of change")

    engine.world._actions["configmap"] = broken
    task = engine.start()
    try:
        await until(
            lambda: task.done() or (engine.counts["errors"] >= 5 and engine.counts["pod_readiness"] >= 20),
            lambda: f"the other changes did not go on: {engine.counts}",
        )
        assert not task.done(), task
    finally:
        await engine.stop()


def test_cronjob_history_keeps_succeeded_and_failed_jobs_apart() -> None:
    store = cluster()

    def history() -> dict[str, collections.Counter[str]]:
        out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for j in objs(store, "jobs.batch"):
            owner = next((r["name"] for r in j["metadata"].get("ownerReferences") or ()), None)
            conds = {c["type"] for c in j.get("status", {}).get("conditions") or () if c["status"] == "True"}
            if owner is not None:
                out[owner][
                    "failed" if "Failed" in conds else "complete" if "Complete" in conds else "running"
                ] += 1
        return out

    failed_before = {cj: n["failed"] for cj, n in history().items() if n["failed"]}
    assert failed_before, "the scenario has a CronJob with a failed Job"
    engine = live(store, 12, {"cronjob_run": 1, "job_complete": 1})
    engine.step(600)
    assert engine.counts["cronjob_run"] >= 100
    limits = {
        cj["metadata"]["name"]: (
            cj["spec"]["successfulJobsHistoryLimit"],
            cj["spec"]["failedJobsHistoryLimit"],
        )
        for cj in objs(store, "cronjobs.batch")
    }
    after = history()
    for cj, (keep_complete, keep_failed) in limits.items():
        assert after[cj]["complete"] == keep_complete, (cj, after[cj])
        # no run fails here: the failed Jobs within failedJobsHistoryLimit stay
        assert after[cj]["failed"] == min(failed_before.get(cj, 0), keep_failed), (cj, after[cj])


def test_a_rollout_is_observed_at_once() -> None:
    store = cluster()
    engine = live(store, 13, {"rollout": 1, "scale": 1})
    for _ in range(300):
        engine.step(1)
        for d in objs(store, "deployments.apps"):
            assert d["status"].get("observedGeneration") == d["metadata"]["generation"], d["metadata"]["name"]
    # about a hundred (the count follows the random path, which every event written moves)
    assert engine.counts["rollout"] >= 90


def test_bad_settings_are_refused() -> None:
    store = cluster(nodes=3, pods_per_node=5)
    with pytest.raises(ValueError, match="must be >= 0"):
        LiveCluster(store, seed=1, rate=-1)
    with pytest.raises(ValueError, match="unknown churn kinds"):
        LiveCluster(store, seed=1, rate=1, weights={"meteor_strike": 1})


def _running(p: Obj) -> bool:
    return (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
