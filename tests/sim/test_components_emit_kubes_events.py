"""The control plane's components emit the events their Kubernetes counterparts emit (reasons,
messages, sources, the object and container they are about), through client-go's recorders;
events expire a TTL after their last write; a crash-loop storm is a storm of events; the ground
truth of every emission is queryable over ``/_sim/events``."""

from __future__ import annotations

import collections
from typing import Any

from kubescope.sim.defaults import apply_defaults
from kubescope.sim.live import LiveCluster
from kubescope.sim.store import ObjectStore
from tests.sim.clusters import Clock, generated, objs

Obj = dict[str, Any]


def still_cluster(ttl: float = 3600.0, seed: int = 3) -> tuple[ObjectStore, LiveCluster]:
    store = generated(seed, 6, 10, clock=Clock(0.05))
    live = LiveCluster(store, seed=seed, rate=0, world=False, event_ttl=ttl)
    live.start_up()
    return store, live


def deployment(name: str, replicas: int, image: str = "registry.example/shop/basket:2.1") -> Obj:
    labels = {"app": name}
    d = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }
    apply_defaults("deployments.apps", d, lambda: "")
    return d


def events(store: ObjectStore) -> list[Obj]:
    return [e for e in objs(store, "events") if e["metadata"]["creationTimestamp"] > "2027-01-15T08:00:00Z"]


def about(store: ObjectStore, kind: str, name_prefix: str) -> list[tuple[str, str, str]]:
    return sorted(
        (e["reason"], e["message"], e["source"].get("component") or e["reportingComponent"])
        for e in events(store)
        if e["involvedObject"]["kind"] == kind and e["involvedObject"]["name"].startswith(name_prefix)
    )


def test_a_new_deployment_tells_its_story() -> None:
    store, live = still_cluster()
    store.create("deployments.apps", deployment("basket", 2))
    live.settle(30)
    rs = next(r for r in objs(store, "replicasets.apps") if r["metadata"]["name"].startswith("basket-"))
    pods = sorted(
        p["metadata"]["name"] for p in objs(store, "pods") if p["metadata"]["name"].startswith("basket-")
    )
    assert about(store, "Deployment", "basket") == [
        (
            "ScalingReplicaSet",
            f"Scaled up replica set {rs['metadata']['name']} from 0 to 2",
            "deployment-controller",
        )
    ]
    assert about(store, "ReplicaSet", "basket") == [
        ("SuccessfulCreate", f"Created pod: {p}", "replicaset-controller") for p in pods
    ]
    reasons = collections.Counter(r for r, _, _ in about(store, "Pod", "basket-"))
    assert reasons == {"Scheduled": 2, "Pulling": 2, "Pulled": 2, "Created": 2, "Started": 2}
    pulled = next(
        e for e in events(store) if e["reason"] == "Pulled" and e["involvedObject"]["name"] == pods[0]
    )
    assert pulled["message"].startswith('Successfully pulled image "registry.example/shop/basket:2.1" in ')
    assert pulled["involvedObject"]["fieldPath"] == "spec.containers{basket}"
    assert (
        pulled["source"]["component"] == "kubelet" and pulled["source"]["host"] == pulled["reportingInstance"]
    )
    scheduled = next(
        e for e in events(store) if e["reason"] == "Scheduled" and e["involvedObject"]["name"] == pods[0]
    )
    node = store.get("pods", "default", pods[0])["spec"]["nodeName"]
    assert scheduled["message"] == f"Successfully assigned default/{pods[0]} to {node}"
    assert scheduled["action"] == "Binding" and scheduled["eventTime"] and scheduled["firstTimestamp"] is None
    assert scheduled["reportingComponent"] == "default-scheduler"
    # a pod deleted: its kubelet stops it, its ReplicaSet replaces it
    store.delete("pods", "default", pods[0])
    live.settle(40)
    assert ("Killing", "Stopping container basket", "kubelet") in about(store, "Pod", pods[0])
    assert sum(1 for r, _, _ in about(store, "ReplicaSet", "basket") if r == "SuccessfulCreate") == 3
    # the image is on its node now, unless the new pod went elsewhere
    truth = live.cluster.events.truth
    assert all(e.outcome in ("created", "updated", "counted") for e in truth.items)


def test_a_crash_loop_grows_one_back_off_event() -> None:
    store, live = still_cluster()
    victim = next(p for p in objs(store, "pods") if p["status"].get("phase") == "Running" and p["metadata"].get("ownerReferences") and p["spec"].get("restartPolicy", "Always") == "Always")  # fmt: skip
    key = (victim["metadata"]["namespace"], victim["metadata"]["name"])
    live.cluster.machines.break_container(key, 0, 1, "Error")
    live.settle(600)
    name = victim["spec"]["containers"][0]["name"]
    backoffs = [
        e for e in events(store) if e["reason"] == "BackOff" and e["involvedObject"]["name"] == key[1]
    ]
    assert len(backoffs) == 1, backoffs
    e = backoffs[0]
    assert e["type"] == "Warning" and e["count"] >= 5
    assert (
        e["message"]
        == f"Back-off restarting failed container {name} in pod {key[1]}_{key[0]}({victim['metadata']['uid']})"
    )
    assert e["lastTimestamp"] > e["firstTimestamp"]
    started = next(
        x for x in events(store) if x["reason"] == "Started" and x["involvedObject"]["name"] == key[1]
    )
    assert started["count"] >= 3 and started["message"] == f"Started container {name}"


def test_a_lost_node_and_its_return() -> None:
    store, live = still_cluster()
    node = next(
        n
        for n in objs(store, "nodes")
        if "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"]
    )
    name = node["metadata"]["name"]
    ready_pods = [p for p in objs(store, "pods") if p["spec"].get("nodeName") == name and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]  # fmt: skip
    live.cluster.machines.kubelet(name, alive=False)
    live.settle(60)
    assert about(store, "Node", name) == [
        ("NodeNotReady", f"Node {name} status is now: NodeNotReady", "node-controller"),
        ("RegisteredNode", f"Node {name} event: Registered Node {name} in Controller", "node-controller"),
    ]
    lost = next(
        e for e in events(store) if e["reason"] == "NodeNotReady" and e["involvedObject"]["kind"] == "Node"
    )
    assert lost["involvedObject"] == {
        "kind": "Node",
        "name": name,
        "uid": node["metadata"]["uid"],
        "apiVersion": "v1",
    }
    not_ready = [
        e for e in events(store) if e["reason"] == "NodeNotReady" and e["involvedObject"]["kind"] == "Pod"
    ]
    assert len(not_ready) == len(ready_pods) and all(
        e["type"] == "Warning" and e["message"] == "Node is not ready" for e in not_ready
    )
    live.cluster.machines.kubelet(name, alive=True)
    live.settle(10)
    back = [(r, m, s) for r, m, s in about(store, "Node", name) if s == "kubelet"]
    assert back == [
        ("NodeReady", f"Node {name} status is now: NodeReady", "kubelet"),
        ("Starting", "Starting kubelet.", "kubelet"),
    ]


def test_the_node_controller_registers_every_node_and_removes_a_deleted_one() -> None:
    """kube-controller-manager's node lifecycle controller, on its first monitor pass, says
    RegisteredNode of every node (as it does each time it starts), and RemovingNode of a node
    deleted on the next pass (RecordNodeEvent: a Normal event, the node's uid, in "default")."""
    store, live = still_cluster()
    live.settle(10)  # the first monitor pass (every 5 s)
    uids = {n["metadata"]["name"]: n["metadata"]["uid"] for n in objs(store, "nodes")}
    truth = live.cluster.events.truth

    def said(reason: str) -> dict[str, tuple[Obj, Any]]:
        out = {}
        for e in events(store):
            if e["reason"] == reason:
                [t] = [t for t in truth.items if t.uid == e["metadata"]["uid"]]
                out[e["involvedObject"]["name"]] = (e, t)
        return out

    registered = said("RegisteredNode")
    assert set(registered) == set(uids)
    for name, (e, t) in registered.items():
        assert e["involvedObject"] == {"kind": "Node", "name": name, "uid": uids[name], "apiVersion": "v1"}
        assert e["type"] == "Normal" and e["count"] == 1
        assert e["message"] == f"Node {name} event: Registered Node {name} in Controller"
        assert e["source"] == {"component": "node-controller"} and e["metadata"]["namespace"] == "default"
        assert (t.component, t.reason, t.type, t.outcome) == (
            "node-controller",
            "RegisteredNode",
            "Normal",
            "created",
        )
        assert t.regarding == e["involvedObject"] and t.event == e["metadata"]["name"]
    # later passes register nothing again
    live.settle(20)
    assert len(said("RegisteredNode")) == len(uids) and sum(
        t.reason == "RegisteredNode" for t in truth.items
    ) == len(uids)
    gone = next(n for n in uids if "control-plane" not in n)
    store.delete("nodes", "", gone)
    live.settle(10)
    removing = said("RemovingNode")
    assert list(removing) == [gone]
    e, t = removing[gone]
    assert e["involvedObject"] == {"kind": "Node", "name": gone, "uid": uids[gone], "apiVersion": "v1"}
    assert (
        e["message"] == f"Node {gone} event: Removing Node {gone} from Controller" and e["type"] == "Normal"
    )
    assert (t.component, t.reason, t.outcome) == ("node-controller", "RemovingNode", "created")


def test_events_expire_a_ttl_after_their_last_write() -> None:
    store, live = still_cluster(ttl=120)
    generated_events = set(store.keys("events"))
    assert generated_events
    store.create("deployments.apps", deployment("basket", 1))
    live.settle(30)
    made = {(e["metadata"]["namespace"], e["metadata"]["name"]) for e in events(store)}
    assert made
    live.settle(60)
    assert made <= set(store.keys("events"))
    live.settle(60)  # 120 s after they were written: gone, and the generated ones (written long ago)
    assert not made & set(store.keys("events"))
    assert not generated_events & set(store.keys("events"))
    assert live.counts["event-ttl"] >= len(made) + len(generated_events)


def test_a_crash_loop_storm_is_a_storm_of_events() -> None:
    _store, live = still_cluster()
    truth = live.cluster.events.truth
    assert live.storm(40) == {"crashlooping": 40}
    before = truth.total
    live.settle(60)
    storm = truth.total - before
    # every pod: BackOff at once, Pulled, Created and Started 10 s later, BackOff when it dies
    # again (1-10 s on), the same 20 s later, BackOff: 7 to 9 in the first minute
    assert 40 * 6 <= storm <= 40 * 9, storm
    by_reason = collections.Counter(e.reason for e in truth.items if e.seq > before)
    assert {"BackOff", "Pulled", "Created", "Started"} <= set(by_reason)
    assert live.storm(0) == {"crashlooping": 0, "fixed": 40}
