"""WATCH over HTTP: resume from a version, bookmarks, 410 Gone, selector transitions, WatchList."""

from __future__ import annotations

import asyncio
import time

from tests.sim.conftest import Api, configmap, pod

CMS = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


async def test_watch_from_a_version_replays_later_changes_in_order(api: Api) -> None:
    a = await api.ok("POST", CMS, configmap("a"))
    rv = a["metadata"]["resourceVersion"]
    await api.ok("POST", CMS, configmap("b"))
    await api.ok("PATCH", CMS + "/a", {"data": {"k": "v"}}, content_type="application/merge-patch+json")
    await api.ok("DELETE", CMS + "/b")
    evs = await api.watch(f"{CMS}?watch=true&resourceVersion={rv}", lambda e: len(e) >= 3)
    assert types(evs) == ["ADDED", "MODIFIED", "DELETED"]
    assert [e["object"]["metadata"]["name"] for e in evs] == ["b", "a", "b"]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)


async def test_watch_without_version_starts_with_the_current_state(api: Api) -> None:
    await api.ok("POST", CMS, configmap("a"))
    await api.ok("POST", CMS, configmap("b"))

    async def change() -> None:
        await api.ok("POST", CMS, configmap("c"))

    evs = await api.watch(f"{CMS}?watch=1", lambda e: len(e) >= 3, during=change)
    assert sorted((e["type"], e["object"]["metadata"]["name"]) for e in evs) == [
        ("ADDED", "a"),
        ("ADDED", "b"),
        ("ADDED", "c"),
    ]


async def test_bookmarks_carry_only_the_version_and_the_kind(api: Api) -> None:
    rv = api.sim.store.resource_version
    t0 = time.monotonic()
    evs = await api.watch(
        f"{PODS}?watch=true&allowWatchBookmarks=true&resourceVersion={rv}", lambda e: len(e) >= 2
    )
    assert types(evs) == ["BOOKMARK", "BOOKMARK"]
    assert time.monotonic() - t0 >= 0.5  # interval 0.3 s in these tests
    # a zero Pod as Go writes it (creationTimestamp is omitzero since 1.33), at the version
    assert evs[0]["object"] == {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": str(rv)},
        "spec": {"containers": None},
        "status": {},
    }


async def test_no_bookmarks_unless_asked(api: Api) -> None:
    # the server ends the stream (the helper's own deadline, far later, would raise)
    evs = await api.watch(
        f"{PODS}?watch=true&timeoutSeconds=1&resourceVersion=1", lambda e: False, timeout=30
    )
    assert evs == []


async def test_timeout_seconds_ends_the_stream(api: Api) -> None:
    # returning at all means the server ended the stream: the helper raises at its own deadline
    # (30 s, far beyond); how soon it ends depends on the machine's load, so only the floor is checked
    t0 = time.monotonic()
    assert await api.watch(f"{PODS}?watch=true&timeoutSeconds=1", lambda e: False, timeout=30) == []
    assert time.monotonic() - t0 > 0.9


async def test_too_old_version_is_an_in_stream_410(tmp_path) -> None:
    from tests.sim.conftest import start_api

    sim, client = await start_api(tmp_path, watch_history=3)
    try:
        for i in range(6):
            await client.ok("POST", CMS, configmap(f"c{i}"))
        floor = sim.store.history_floor
        evs = await client.watch(f"{CMS}?watch=true&resourceVersion=2", lambda e: False)
        assert evs == [
            {
                "type": "ERROR",
                "object": {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": f"too old resource version: 2 ({floor})",
                    "reason": "Expired",
                    "code": 410,
                },
            }
        ]
    finally:
        await client.session.close()
        await sim.stop()


async def test_label_selector_transitions_become_added_and_deleted(api: Api) -> None:
    await api.ok("POST", PODS, pod("p", labels={"tier": "back"}))
    rv = api.sim.store.resource_version

    async def relabel() -> None:
        for tier in ("front", "front2", "back"):
            await api.ok(
                "PATCH",
                PODS + "/p",
                {"metadata": {"labels": {"tier": tier}}},
                content_type="application/merge-patch+json",
            )

    evs = await api.watch(
        f"{PODS}?watch=true&resourceVersion={rv}&labelSelector=tier+in+(front,front2)",
        lambda e: len(e) >= 3,
        during=relabel,
    )
    assert types(evs) == ["ADDED", "MODIFIED", "DELETED"]
    # the DELETED event carries the last matching state at the event's version
    assert evs[2]["object"]["metadata"]["labels"] == {"tier": "front2"}
    assert int(evs[2]["object"]["metadata"]["resourceVersion"]) == api.sim.store.resource_version


async def test_field_selector_watch_on_node_name(api: Api) -> None:
    async def make() -> None:
        await api.ok("POST", PODS, pod("a", node="n1"))
        await api.ok("POST", PODS, pod("b", node="n2"))
        await api.ok("POST", PODS, pod("c", node="n1"))

    evs = await api.watch(
        "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dn1&resourceVersion="
        + str(api.sim.store.resource_version),
        lambda e: len(e) >= 2,
        during=make,
    )
    assert [e["object"]["metadata"]["name"] for e in evs] == ["a", "c"]


async def test_namespaced_watch_sees_only_its_namespace(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "other"}})
    rv = api.sim.store.resource_version

    async def make() -> None:
        await api.ok("POST", "/api/v1/namespaces/other/configmaps", configmap("x", "other"))
        await api.ok("POST", CMS, configmap("y"))

    evs = await api.watch(f"{CMS}?watch=true&resourceVersion={rv}", lambda e: len(e) >= 1, during=make)
    assert [e["object"]["metadata"]["name"] for e in evs] == ["y"]


async def test_watch_list_sends_initial_events_then_the_end_bookmark(api: Api) -> None:
    await api.ok("POST", CMS, configmap("a"))
    await api.ok("POST", CMS, configmap("b"))
    rv = api.sim.store.resource_version
    evs = await api.watch(
        f"{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        lambda e: len(e) >= 3,
    )
    assert types(evs) == ["ADDED", "ADDED", "BOOKMARK"]
    assert evs[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert evs[2]["object"]["metadata"]["resourceVersion"] == str(rv)


async def test_watch_list_needs_not_older_than(api: Api) -> None:
    code, doc = await api.call("GET", f"{CMS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true")
    assert code == 422 and doc["reason"] == "Invalid"
    assert doc["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents '
        "requires setting resourceVersionMatch to NotOlderThan"
    )


async def test_watch_of_one_object_by_name(api: Api) -> None:
    await api.ok("POST", CMS, configmap("a"))
    await api.ok("POST", CMS, configmap("b"))
    evs = await api.watch(f"{CMS}/b?watch=true", lambda e: len(e) >= 1)
    await asyncio.sleep(0)
    assert [e["object"]["metadata"]["name"] for e in evs] == ["b"]


async def test_a_watch_list_from_a_too_new_version_waits_then_errors(api: Api) -> None:
    rv = api.sim.store.resource_version + 10
    t0 = time.monotonic()
    evs = await api.watch(
        f"{CMS}?watch=true&resourceVersion={rv}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
        lambda e: False,
        timeout=30,
    )
    assert time.monotonic() - t0 >= 2.9
    assert evs[0]["type"] == "ERROR" and evs[0]["object"]["code"] == 504
    assert evs[0]["object"]["message"].startswith(f"Too large resource version: {rv}, current: ")


async def test_a_plain_watch_from_a_too_new_version_waits_for_it_silently(api: Api) -> None:
    """The watch cache accepts it at once and sends nothing, not even bookmarks, until it is there;
    then only what comes after that version."""
    rv = api.sim.store.resource_version + 2

    async def make() -> None:
        for name in ("a", "b", "c"):
            await asyncio.sleep(0.4)
            await api.ok("POST", CMS, configmap(name))

    evs = await api.watch(
        f"{CMS}?watch=true&allowWatchBookmarks=true&resourceVersion={rv}",
        lambda e: any(x["type"] != "BOOKMARK" for x in e),
        during=make,
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs if e["type"] != "BOOKMARK"] == [
        ("ADDED", "c")
    ]
    assert all(int(e["object"]["metadata"]["resourceVersion"]) >= rv for e in evs)


async def test_one_encoded_line_is_shared_by_every_watcher(api: Api) -> None:
    from kubescope.sim.watchcache import Watcher

    store = api.sim.store
    a, b = Watcher("configmaps", "", None, None), Watcher("configmaps", "default", None, None)
    store.add_watcher(a)
    store.add_watcher(b)
    try:
        store.create("configmaps", configmap("shared"))
        (ta, _, la), (tb, _, lb) = a.queue[0], b.queue[0]
        assert ta == tb == "ADDED" and la is lb and la.startswith(b'{"type":"ADDED","object":{')
    finally:
        store.remove_watcher(a)
        store.remove_watcher(b)


async def test_legacy_watch_paths(api: Api) -> None:
    await api.ok("POST", CMS, configmap("a"))
    evs = await api.watch("/api/v1/watch/namespaces/default/configmaps", lambda e: len(e) >= 1)
    assert evs[0]["type"] == "ADDED" and evs[0]["object"]["metadata"]["name"] == "a"
    evs = await api.watch("/api/v1/watch/namespaces/default/configmaps/a", lambda e: len(e) >= 1)
    assert evs[0]["object"]["metadata"]["name"] == "a"
