"""Events in both API versions, as kube-apiserver serves them from one storage: core/v1 at
``/api/v1/.../events`` and events.k8s.io/v1 at ``/apis/events.k8s.io/v1/.../events`` (listed by
discovery), each with its own field names and field selectors (``regarding.*`` and
``reportingController`` for events.k8s.io, ``involvedObject.*`` and ``reportingComponent`` for
core; the other version's spelling is 400 ``field label not supported``); writes in either
version are the same Event."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from tests.sim.conftest import Api

Obj = dict[str, Any]
V1 = "/apis/events.k8s.io/v1"

LEGACY = {
    "metadata": {"name": "web-0.1", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0", "uid": "u-1",
                       "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
    "reason": "BackOff",
    "message": "Back-off restarting failed container web in pod web-0_default(u-1)",
    "type": "Warning",
    "source": {"component": "kubelet", "host": "node-1"},
    "reportingComponent": "kubelet",
    "reportingInstance": "node-1",
    "count": 4,
    "firstTimestamp": "2026-12-06T10:00:00Z",
    "lastTimestamp": "2026-12-06T10:03:00Z",
}  # fmt: skip

SERIES = {
    "metadata": {"name": "web-1.2", "namespace": "default"},
    "eventTime": "2026-12-06T10:00:00.000000Z",
    "series": {"count": 3, "lastObservedTime": "2026-12-06T10:02:00.000000Z"},
    "reportingController": "default-scheduler",
    "reportingInstance": "default-scheduler-cp-1",
    "action": "Scheduling",
    "reason": "FailedScheduling",
    "regarding": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "u-2", "apiVersion": "v1"},
    "note": "0/3 nodes are available: 3 Insufficient cpu.",
    "type": "Warning",
}


def q(selector: str) -> str:
    return "?fieldSelector=" + urllib.parse.quote(selector)


async def test_one_event_two_versions(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces/default/events", LEGACY)
    created = await api.ok("POST", f"{V1}/namespaces/default/events", SERIES)
    assert created["apiVersion"] == "events.k8s.io/v1" and created["note"] == SERIES["note"]
    # the legacy event read as events.k8s.io/v1
    e = await api.ok("GET", f"{V1}/namespaces/default/events/web-0.1")
    assert e["kind"] == "Event" and e["apiVersion"] == "events.k8s.io/v1"
    assert e["regarding"]["fieldPath"] == "spec.containers{web}" and "involvedObject" not in e
    assert (e["note"], e["reportingController"], e["deprecatedCount"]) == (
        LEGACY["message"], "kubelet", 4,
    )  # fmt: skip
    assert e["deprecatedSource"] == {"component": "kubelet", "host": "node-1"}
    assert e["deprecatedFirstTimestamp"] == "2026-12-06T10:00:00Z" and e["eventTime"] is None
    # the series event read as core/v1
    c = await api.ok("GET", "/api/v1/namespaces/default/events/web-1.2")
    assert c["apiVersion"] == "v1" and c["involvedObject"]["name"] == "web-1"
    assert (c["message"], c["reportingComponent"], c["series"]["count"]) == (SERIES["note"], "default-scheduler", 3)
    # one list, two shapes
    v1 = await api.ok("GET", f"{V1}/events")
    assert v1["kind"] == "EventList" and v1["apiVersion"] == "events.k8s.io/v1"
    assert sorted(i["regarding"]["name"] for i in v1["items"]) == ["web-0", "web-1"]
    core = await api.ok("GET", "/api/v1/events")
    assert core["metadata"]["resourceVersion"] and len(core["items"]) == 2


async def test_field_selectors_as_kube_apiserver_converts_them(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces/default/events", LEGACY)
    await api.ok("POST", f"{V1}/namespaces/default/events", SERIES)

    async def names(base: str, selector: str) -> list[str]:
        doc = await api.ok("GET", base + q(selector))
        return sorted(i["metadata"]["name"] for i in doc["items"])

    assert await names(f"{V1}/events", "regarding.name=web-1") == ["web-1.2"]
    assert await names(f"{V1}/namespaces/default/events", "regarding.kind=Pod,type=Warning") == ["web-0.1", "web-1.2"]
    assert await names(f"{V1}/events", "reportingController=kubelet") == ["web-0.1"]
    assert await names(f"{V1}/events", "regarding.fieldPath=spec.containers{web}") == ["web-0.1"]
    assert await names(f"{V1}/events", "reason!=BackOff") == ["web-1.2"]
    assert await names(f"{V1}/events", "source=default-scheduler") == ["web-1.2"]
    assert await names("/api/v1/events", "involvedObject.uid=u-1") == ["web-0.1"]
    assert await names("/api/v1/events", "reportingComponent=default-scheduler") == ["web-1.2"]
    for base, wrong in ((f"{V1}/events", "involvedObject.name"), ("/api/v1/events", "regarding.name"),
                        (f"{V1}/events", "note"), (f"{V1}/events", "reportingComponent")):  # fmt: skip
        code, doc = await api.call("GET", base + q(f"{wrong}=x"))
        assert code == 400 and doc["message"] == f"field label not supported: {wrong}", (base, doc)


async def test_a_watch_in_events_k8s_io_v1(api: Api) -> None:
    async def write() -> None:
        await api.ok("POST", "/api/v1/namespaces/default/events", LEGACY)
        await api.ok("POST", "/api/v1/namespaces/default/events", {**LEGACY, "metadata": {"name": "other.1"},
                     "involvedObject": {**LEGACY["involvedObject"], "name": "other"}})  # fmt: skip
        await api.ok(
            "PATCH",
            f"{V1}/namespaces/default/events/web-0.1",
            {"deprecatedCount": 5},
            content_type="application/merge-patch+json",
        )

    got = await api.watch(
        f"{V1}/namespaces/default/events?watch=true&" + q("regarding.name=web-0")[1:],
        lambda evs: len(evs) >= 2,
        during=write,
    )
    assert [e["type"] for e in got] == ["ADDED", "MODIFIED"]
    assert all(e["object"]["apiVersion"] == "events.k8s.io/v1" for e in got)
    assert got[1]["object"]["deprecatedCount"] == 5 and got[1]["object"]["regarding"]["name"] == "web-0"
    stored = await api.ok("GET", "/api/v1/namespaces/default/events/web-0.1")
    assert stored["count"] == 5 and stored["message"] == LEGACY["message"]


async def test_discovery_lists_events_k8s_io_v1(api: Api) -> None:
    group = await api.ok("GET", "/apis/events.k8s.io")
    assert group["preferredVersion"]["groupVersion"] == "events.k8s.io/v1"
    resources = await api.ok("GET", V1)
    ev = next(r for r in resources["resources"] if r["name"] == "events")
    assert ev["kind"] == "Event" and ev["namespaced"] and "watch" in ev["verbs"]
    groups = await api.ok("GET", "/apis")
    assert "events.k8s.io" in {g["name"] for g in groups["groups"]}
    code, raw, _ = await api.raw(
        "GET", "/apis", headers={"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}
    )
    assert code == 200 and any(g["metadata"]["name"] == "events.k8s.io" for g in json.loads(raw)["items"])
