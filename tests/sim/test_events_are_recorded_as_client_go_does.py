"""The simulator's components record events as client-go's recorders do: the legacy one (kubelets,
kube-controller-manager) counts repeats on one Event, combines the 10th distinct message, and
throttles a source's events about one object (25, then one per 5 minutes); the events.k8s.io one
(the scheduler) turns isomorphic events into a series written at the second occurrence, every 30
minutes and when it ends. The ground truth keeps every emission and what became of it."""

from __future__ import annotations

from typing import Any

from kubescope.sim.control.events import EventRecorder
from kubescope.sim.control.runtime import ControlPlane
from kubescope.sim.eventsv1 import to_core_v1, to_events_v1
from kubescope.sim.store import ObjectStore

Obj = dict[str, Any]
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


def setup() -> tuple[Clock, ObjectStore, ControlPlane, EventRecorder]:
    clock = Clock()
    store = ObjectStore(clock=clock)
    plane = ControlPlane(store, 1, clock)
    rec = plane.add(EventRecorder(plane))
    plane.events = rec
    return clock, store, plane, rec


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1"}}


def events(store: ObjectStore) -> list[Obj]:
    return sorted(
        (store.get("events", *k) for k in store.keys("events")), key=lambda e: e["metadata"]["name"]
    )


def test_a_repeated_event_is_one_event_counted() -> None:
    clock, store, _, rec = setup()
    kubelet = rec.reporter("kubelet", "node-1")
    for i in range(3):
        clock.t = T0 + 10 * i
        kubelet.emit(
            POD,
            "Warning",
            "BackOff",
            "Back-off restarting failed container app in pod web-1_shop(u-1)",
            field_path="spec.containers{app}",
        )
    [e] = events(store)
    assert e["count"] == 3
    assert [x.uid for x in rec.truth.items] == [e["metadata"]["uid"]] * 3
    assert rec.truth.items[-1].resource_version == e["metadata"]["resourceVersion"]
    assert (e["firstTimestamp"], e["lastTimestamp"]) == ("2027-01-15T08:00:00Z", "2027-01-15T08:00:20Z")
    assert e["source"] == {"component": "kubelet", "host": "node-1"} and e["eventTime"] is None
    assert (e["reportingComponent"], e["reportingInstance"]) == ("kubelet", "node-1")
    assert e["involvedObject"] == {
        "kind": "Pod",
        "apiVersion": "v1",
        "namespace": "shop",
        "name": "web-1",
        "uid": "u-1",
        "fieldPath": "spec.containers{app}",
    }
    assert e["metadata"]["name"].startswith("web-1.") and e["metadata"]["namespace"] == "shop"
    assert [x.outcome for x in rec.truth.items] == ["created", "updated", "updated"]


def test_the_tenth_distinct_message_is_combined() -> None:
    _, store, _, rec = setup()
    r = rec.reporter("kubelet", "node-1")
    for i in range(12):
        r.emit(POD, "Warning", "Unhealthy", f"Readiness probe failed: attempt {i}")
    combined = [e for e in events(store) if e["message"].startswith("(combined from similar events): ")]
    assert len(events(store)) == 10 and len(combined) == 1 and combined[0]["count"] == 3
    assert [x.outcome for x in rec.truth.items][8:] == ["created", "aggregated", "aggregated", "aggregated"]


def test_a_source_may_write_25_events_about_an_object_then_one_per_5_minutes() -> None:
    clock, store, _, rec = setup()
    r = rec.reporter("kubelet", "node-1")
    for _ in range(30):
        r.emit(POD, "Warning", "BackOff", "Back-off restarting failed container")
    [e] = events(store)
    assert e["count"] == 25
    assert [x.outcome for x in rec.truth.items].count("dropped") == 5
    assert all(x.resource_version == "" for x in rec.truth.items if x.outcome == "dropped")
    clock.t += 301  # one token back: the next write carries the count kept meanwhile
    r.emit(POD, "Warning", "BackOff", "Back-off restarting failed container")
    assert events(store)[0]["count"] == 31
    # another source, its own budget
    rec.reporter("kubelet", "node-2").emit(
        POD, "Normal", "Pulled", "Container image already present on machine"
    )
    assert len(events(store)) == 2


def test_an_expired_event_is_created_again_under_its_name() -> None:
    _, store, _, rec = setup()
    r = rec.reporter("horizontal-pod-autoscaler")
    r.emit(POD, "Normal", "SuccessfulRescale", "New size: 3; reason: cpu above target")
    [e] = events(store)
    store.delete("events", "shop", e["metadata"]["name"])  # its TTL ran out
    r.emit(POD, "Normal", "SuccessfulRescale", "New size: 3; reason: cpu above target")
    [again] = events(store)
    assert again["metadata"]["name"] == e["metadata"]["name"] and again["count"] == 2
    # the truth says which Event version each emission became: a new one, not an update
    first, second = rec.truth.items
    assert [first.outcome, second.outcome] == ["created", "created"]
    assert (first.uid, second.uid) == (
        e["metadata"]["uid"],
        again["metadata"]["uid"],
    ) and first.uid != second.uid
    assert second.resource_version == again["metadata"]["resourceVersion"]


def test_isomorphic_events_become_a_series() -> None:
    clock, store, plane, rec = setup()
    sched = rec.reporter("default-scheduler", "default-scheduler-cp-1", series=True)

    def fail() -> None:
        sched.emit(
            POD,
            "Warning",
            "FailedScheduling",
            "0/6 nodes are available: 6 Insufficient cpu.",
            action="Scheduling",
        )

    fail()
    [e] = events(store)
    assert "series" not in e and e["eventTime"] == "2027-01-15T08:00:00.000000Z"
    assert (e["firstTimestamp"], e["lastTimestamp"], e["source"]) == (None, None, {})
    assert (e["action"], e["reportingComponent"], e["reportingInstance"]) == (
        "Scheduling",
        "default-scheduler",
        "default-scheduler-cp-1",
    )
    rv = e["metadata"]["resourceVersion"]
    clock.t += 5
    fail()
    assert events(store)[0]["series"] == {"count": 2, "lastObservedTime": "2027-01-15T08:00:05.000000Z"}
    rv2 = events(store)[0]["metadata"]["resourceVersion"]
    for _ in range(8):  # later occurrences cost no write
        clock.t += 60
        fail()
        plane.tick()
    assert events(store)[0]["metadata"]["resourceVersion"] == rv2 != rv
    while clock.t < T0 + 1801:  # the 30-minute heartbeat writes the count
        clock.t += 30
        plane.tick()
        if clock.t < T0 + 1790:
            fail()
    assert events(store)[0]["series"]["count"] > 10
    quiet_from = clock.t
    while clock.t < quiet_from + 800:  # quiet for more than 6 minutes: written a last time, forgotten
        clock.t += 30
        plane.tick()
    final = events(store)[0]["series"]["count"]
    assert final == sum(1 for x in rec.truth.items if x.reason == "FailedScheduling")
    fail()
    assert len(events(store)) == 2
    outcomes = [x.outcome for x in rec.truth.items]
    assert outcomes[:3] == ["created", "updated", "counted"] and outcomes[-1] == "created"


def test_the_truth_is_queried_by_what_it_is_about() -> None:
    _, _, _, rec = setup()
    rec.reporter("kubelet", "node-1").emit(
        POD, "Normal", "Pulled", "Container image already present on machine"
    )
    rec.reporter("replicaset-controller").emit(
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-5d", "namespace": "shop"}},
        "Normal", "SuccessfulCreate", "Created pod: web-1",
    )  # fmt: skip
    assert [e.reason for e in rec.truth.query(kind="ReplicaSet")] == ["SuccessfulCreate"]
    assert [e.reason for e in rec.truth.query(component="kubelet", namespace="shop")] == ["Pulled"]
    first = next(iter(rec.truth.query()))
    assert [e.reason for e in rec.truth.query(since=first.seq)] == ["SuccessfulCreate"]
    assert list(rec.truth.query(limit=0)) == [] and len(list(rec.truth.query(limit=1))) == 1
    view = first.view()
    assert (
        view["regarding"]["name"] == "web-1"
        and view["outcome"] == "created"
        and view["reportingController"] == "kubelet"
    )


def test_one_event_two_api_versions() -> None:
    _, store, _, rec = setup()
    rec.reporter("default-scheduler", "default-scheduler-cp", series=True).emit(
        POD, "Normal", "Scheduled", "Successfully assigned shop/web-1 to node-1", action="Binding"
    )
    rec.reporter("kubelet", "node-1").emit(
        POD, "Normal", "Pulled", "Container image already present on machine"
    )
    new, old = sorted(events(store), key=lambda e: e["reason"], reverse=True)
    v1 = to_events_v1(new)
    assert v1["apiVersion"] == "events.k8s.io/v1" and v1["regarding"]["name"] == "web-1"
    assert (v1["note"], v1["reportingController"], v1["action"]) == (
        "Successfully assigned shop/web-1 to node-1",
        "default-scheduler",
        "Binding",
    )
    # Go writes a zero metav1.Time as null and an empty struct as {}, omitempty or not
    assert v1["deprecatedFirstTimestamp"] is None and v1["deprecatedSource"] == {}
    assert "deprecatedCount" not in v1 and v1["eventTime"] == new["eventTime"]
    assert list(v1)[3:] == ["eventTime", "reportingController", "reportingInstance", "action", "reason",
                            "regarding", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp",
                            "deprecatedLastTimestamp"]  # fmt: skip
    legacy = to_events_v1(old)
    assert legacy["eventTime"] is None and legacy["deprecatedCount"] == 1
    assert legacy["deprecatedSource"] == {"component": "kubelet", "host": "node-1"}
    assert to_core_v1(legacy) == old
    assert to_core_v1(v1) == new
