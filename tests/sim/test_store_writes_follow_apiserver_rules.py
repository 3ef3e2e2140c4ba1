"""Writes in the store: defaulting, conflicts, status and generation rules, finalizers, events."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from kubescope.sim.errors import AlreadyExists, Conflict, Invalid, NotFound
from kubescope.sim.store import ObjectStore
from tests.sim.conftest import configmap, pod


def deployment(name: str, replicas: int = 1, image: str = "nginx") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "a", "image": image}]}}},
        "status": {"replicas": 0},
    }


def test_create_fills_identity_and_one_global_version() -> None:
    s = ObjectStore()
    a = s.create("configmaps", configmap("a"))
    b = s.create("deployments.apps", deployment("b"))
    assert re.fullmatch(r"[0-9a-f-]{36}", a["metadata"]["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["metadata"]["creationTimestamp"])
    assert a["metadata"]["generation"] == 1
    assert int(b["metadata"]["resourceVersion"]) == int(a["metadata"]["resourceVersion"]) + 1
    assert b["apiVersion"] == "apps/v1" and b["kind"] == "Deployment"
    assert s.resource_version == int(b["metadata"]["resourceVersion"])


def test_generate_name_and_default_namespace() -> None:
    s = ObjectStore()
    o = s.create("pods", {"metadata": {"generateName": "web-"}, "spec": {}})
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", o["metadata"]["name"])
    assert o["metadata"]["namespace"] == "default"
    node = s.create("nodes", {"metadata": {"name": "n1", "namespace": "ignored"}})
    assert "namespace" not in node["metadata"]


def test_missing_name_is_invalid_and_duplicates_already_exist() -> None:
    s = ObjectStore()
    with pytest.raises(Invalid, match=r'^Pod "" is invalid: metadata.name: Required value'):
        s.create("pods", {"metadata": {}})
    s.create("deployments.apps", deployment("d"))
    with pytest.raises(AlreadyExists) as e:
        s.create("deployments.apps", deployment("d"))
    assert e.value.message == 'deployments.apps "d" already exists'
    assert e.value.details == {"name": "d", "group": "apps", "kind": "deployments"}


def test_not_found_message() -> None:
    with pytest.raises(NotFound, match=r'^pods "x" not found$'):
        ObjectStore().get("pods", "default", "x")


def test_stale_update_is_a_conflict_with_the_apiservers_words() -> None:
    s = ObjectStore()
    o = s.create("configmaps", configmap("a", k="1"))
    s.modify("configmaps", "default", "a", lambda x: x["data"].update(k="2"))
    o["data"]["k"] = "3"
    with pytest.raises(Conflict) as e:
        s.update("configmaps", o)
    assert e.value.message == (
        'Operation cannot be fulfilled on configmaps "a": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    del o["metadata"]["resourceVersion"]  # no precondition: last write wins
    assert s.update("configmaps", o)["data"] == {"k": "3"}


def test_generation_follows_spec_and_main_put_keeps_status() -> None:
    s = ObjectStore()
    d = s.create("deployments.apps", deployment("d"))
    d["status"] = {"replicas": 99}
    d["metadata"]["labels"] = {"x": "y"}
    after_meta = s.update("deployments.apps", d)
    assert after_meta["metadata"]["generation"] == 1
    assert after_meta["status"] == {"replicas": 0}  # status subresource: PUT of the object ignores it
    after_meta["spec"]["replicas"] = 3
    after_spec = s.update("deployments.apps", after_meta)
    assert after_spec["metadata"]["generation"] == 2


def test_status_update_changes_only_status() -> None:
    s = ObjectStore()
    d = s.create("deployments.apps", deployment("d"))
    d["status"] = {"replicas": 1, "readyReplicas": 1}
    d["spec"]["replicas"] = 7
    out = s.update_status("deployments.apps", d)
    assert out["status"] == {"replicas": 1, "readyReplicas": 1}
    assert out["spec"]["replicas"] == 1 and out["metadata"]["generation"] == 1


def test_noop_update_keeps_the_version_and_sends_no_event() -> None:
    s = ObjectStore()
    o = s.create("configmaps", configmap("a", k="1"))
    events: list[str] = []
    s.subscribe(lambda typ, res, obj: events.append(typ))
    again = s.update("configmaps", o)
    assert again["metadata"]["resourceVersion"] == o["metadata"]["resourceVersion"]
    assert s.modify("configmaps", "default", "a", lambda x: None) == again
    assert events == []


def test_modify_is_one_event_and_subscribe_can_stop() -> None:
    s = ObjectStore()
    seen: list[tuple[str, str, str]] = []
    stop = s.subscribe(lambda typ, res, obj: seen.append((typ, res, obj["metadata"]["name"])))
    s.create("pods", pod("p"))
    s.modify("pods", "default", "p", lambda o: o["status"].update(phase="Succeeded"))
    s.delete("pods", "default", "p")
    stop()
    s.create("pods", pod("q"))
    assert seen == [("ADDED", "pods", "p"), ("MODIFIED", "pods", "p"), ("DELETED", "pods", "p")]


def test_finalizers_hold_deletion_until_removed() -> None:
    s = ObjectStore()
    cm = configmap("a")
    cm["metadata"]["finalizers"] = ["example.com/keep"]
    s.create("configmaps", cm)
    marked = s.delete("configmaps", "default", "a")
    assert marked["metadata"]["deletionTimestamp"]
    assert s.exists("configmaps", "default", "a")
    s.modify("configmaps", "default", "a", lambda o: o["metadata"].pop("finalizers"))
    assert not s.exists("configmaps", "default", "a")


def test_delete_preconditions() -> None:
    s = ObjectStore()
    o = s.create("configmaps", configmap("a"))
    with pytest.raises(
        Conflict, match=r"Precondition failed: UID in precondition: nope, UID in object meta: "
    ):
        s.delete("configmaps", "default", "a", uid="nope")
    with pytest.raises(
        Conflict, match=r"ResourceVersion in precondition: 1, ResourceVersion in object meta: "
    ):
        s.delete("configmaps", "default", "a", resource_version="1")
    gone = s.delete("configmaps", "default", "a", uid=o["metadata"]["uid"])
    assert int(gone["metadata"]["resourceVersion"]) == s.resource_version  # the deletion's version


def test_deleting_a_namespace_deletes_its_objects() -> None:
    s = ObjectStore()
    s.create("namespaces", {"metadata": {"name": "shop"}})
    s.create("pods", pod("p", "shop"))
    s.create("pods", pod("q", "other"))
    s.create("deployments.apps", deployment("d"))
    s.delete("namespaces", "", "shop")
    assert s.keys("pods") == [("other", "q")]
    assert s.keys("deployments.apps") == []


def test_bulk_load_is_not_replayable_by_watches() -> None:
    s = ObjectStore()
    n = s.bulk_create([("pods", pod(f"p{i}")) for i in range(3)])
    assert n == 3 and s.count("pods") == 3
    assert s.history_floor == s.resource_version
    assert s.history_since(s.resource_version - 1) is None
    assert s.history_since(s.resource_version) == []


def test_history_is_bounded() -> None:
    s = ObjectStore(history=3)
    for i in range(6):
        s.create("configmaps", configmap(f"c{i}"))
    assert len(s.watch.history) == 3
    assert s.history_since(s.history_floor - 1) is None
    evs = s.history_since(s.history_floor)
    assert evs is not None and [e.rv for e in evs] == [
        s.resource_version - 2,
        s.resource_version - 1,
        s.resource_version,
    ]


def test_hooks_watch_one_resource_and_can_be_removed() -> None:
    s = ObjectStore()
    seen: list[tuple[str, str]] = []
    remove = s.add_hook("pods", lambda typ, obj: seen.append((typ, obj["metadata"]["name"])))
    s.create("pods", pod("p"))
    s.create("configmaps", configmap("c"))
    remove()
    s.delete("pods", "default", "p")
    assert seen == [("ADDED", "p")]


NOW = 1_780_000_000.0  # the stores' clock in these tests: deadlines are exact, whatever the machine's speed


def _graceful_store() -> ObjectStore:
    s = ObjectStore(clock=lambda: NOW)
    s.graceful_pods = True
    for name, node, phase in (
        ("bound", "n1", "Running"),
        ("pending", "", "Pending"),
        ("done", "n1", "Succeeded"),
    ):
        p = pod(name, node=node, phase=phase)
        p["spec"]["terminationGracePeriodSeconds"] = 30
        s.create("pods", p)
    return s


def test_a_bound_pod_is_terminated_gracefully_as_kube_apiserver_does() -> None:
    s = _graceful_store()
    events: list[str] = []
    s.add_hook("pods", lambda typ, obj: events.append(typ))
    marked = s.delete("pods", "default", "bound")
    meta = marked["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 30 and meta["generation"] == 2
    left = dt.datetime.strptime(meta["deletionTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert left == dt.datetime.fromtimestamp(NOW + 30, dt.UTC)
    assert s.exists("pods", "default", "bound") and events == ["MODIFIED"]
    # deleting again with the default period changes nothing (the deletion is pending)
    assert s.delete("pods", "default", "bound") == marked and events == ["MODIFIED"]
    # its kubelet reports the containers stopping: the pod stays until the kubelet deletes it
    s.modify("pods", "default", "bound", lambda o: o["status"].update(containerStatuses=[]))
    assert s.exists("pods", "default", "bound") and events == ["MODIFIED", "MODIFIED"]
    # a shorter period moves the deadline earlier; the kubelet's final delete (0) removes it
    shorter = s.delete("pods", "default", "bound", grace_period=5)["metadata"]
    assert (
        shorter["deletionGracePeriodSeconds"] == 5
        and shorter["deletionTimestamp"] < meta["deletionTimestamp"]
    )
    s.delete("pods", "default", "bound", grace_period=0)
    assert not s.exists("pods", "default", "bound")
    assert events == ["MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]


def test_unscheduled_finished_and_forced_pods_go_at_once() -> None:
    s = _graceful_store()
    s.delete("pods", "default", "pending")
    s.delete("pods", "default", "done")
    s.create(
        "pods", dict(pod("forced", node="n1"), spec={"nodeName": "n1", "terminationGracePeriodSeconds": 30})
    )
    s.delete("pods", "default", "forced", grace_period=0)
    assert s.keys("pods") == [("default", "bound")]
    # without kubelets to finish terminations (graceful_pods off), every pod goes at once
    s.graceful_pods = False
    s.delete("pods", "default", "bound")
    assert s.keys("pods") == []
