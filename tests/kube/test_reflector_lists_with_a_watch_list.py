"""Watch-list (sendInitialEvents): the initial events are the list, the same stream then watches;
a server without watch-lists is asked once per client; big lists stream object by object."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from tests.kube.conftest import FAST, Recorder, until
from tests.kube.fakeapi import FakeApi, Fault, Pod
from tests.kube.test_reflector_lists_in_pages_then_watches import PageRecorder


def versions(fake: FakeApi) -> dict[str, str]:
    return {uid: o["metadata"]["resourceVersion"] for uid, o in fake.objects.items()}


async def test_initial_events_are_the_list_and_the_stream_goes_on(fake: FakeApi, start: Any) -> None:
    fake.watch_list = True
    for i in range(250):
        fake.add(i)
    run = start(sink=PageRecorder())
    await run.synced()
    sink: PageRecorder = run.sink
    assert sink.versions() == versions(fake)
    assert sink.calls[0] == ("begin", "", "") and sink.calls[-1] == ("end", "", "")
    assert sum(sink.pages) == 250 and len(sink.pages) < 250  # handed over in runs, as list pages
    st = run.stats
    # the watch-list counts as one list (KSM's list-error alerts see failing relists) and one watch
    assert (st.lists_ok, st.watches_ok, st.syncs, st.listed, st.added) == (1, 1, 1, 250, 0)
    assert st.last_list_mode == "watch-list" and run.reflector.resource_version == str(fake.rv)
    [q] = [q for _, q, _ in fake.requests]
    assert q["sendInitialEvents"] == "true" and q["resourceVersionMatch"] == "NotOlderThan"
    assert q["allowWatchBookmarks"] == "true" and "resourceVersion" not in q
    # the same connection now delivers changes
    fake.add(1000)
    fake.modify(7)
    fake.delete(8)
    await until(lambda: sink.versions() == versions(fake), what="events on the watch-list stream")
    assert (st.added, st.modified, st.deleted, st.watches_ok) == (1, 1, 1, 1)
    assert run.reflector.resource_version == str(fake.rv)


async def test_a_big_read_of_initial_events_is_decoded_and_handed_over_in_runs(
    fake: FakeApi, start: Any
) -> None:
    """However many events one network read holds, at most ``hand_over`` of them are decoded and
    alive at once (a sync's peak of short-lived objects is what its allocator keeps after it)."""
    fake.watch_list = True
    for i in range(700):
        fake.add(i)
    run = start(sink=PageRecorder(), options=dataclasses.replace(FAST, hand_over=64))
    await run.synced()
    sink: PageRecorder = run.sink
    assert sink.versions() == versions(fake)
    assert sum(sink.pages) == 700 and max(sink.pages) <= 2 * 64 - 1, sink.pages


async def test_a_stream_cut_before_the_end_bookmark_lists_again(fake: FakeApi, start: Any) -> None:
    fake.watch_list = True
    for i in range(30):
        fake.add(i)
    fake.faults["watch"].append(
        Fault(200, body=b'{"type":"ADDED","object":' + b'{"metadata":{"uid":"x"}}}\n')
    )
    run = start()
    await run.synced()
    assert run.stats.syncs == 1 and run.sink.begins == 2  # the cut one never ended
    assert (run.stats.lists_ok, run.stats.lists_error) == (1, 1)
    assert run.sink.versions() == versions(fake)


async def test_a_relist_by_watch_list_drops_what_vanished(fake: FakeApi, start: Any) -> None:
    fake.watch_list = True
    for i in range(20):
        fake.add(i)
    run = start()
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    fake.silent = True
    fake.drop_watches()
    fake.delete(3)
    fake.compacted = fake.rv + 1
    fake.silent = False
    await until(lambda: run.stats.syncs == 2, what="relist")
    assert "uid-00003" not in run.sink.objects and run.sink.versions() == versions(fake)
    assert run.stats.relists == 1 and run.stats.gone == 1 and run.stats.lists_ok == 2


async def test_a_server_without_watch_lists_is_asked_once_per_client(
    fake: FakeApi, client: KubeClient
) -> None:
    for i in range(10):
        fake.add(i)
    reflectors = [
        Reflector(client, api_path="/api/v1", resource="pods", item_type=Pod, sink=Recorder(), options=FAST)
        for _ in range(5)
    ]
    tasks = [asyncio.get_running_loop().create_task(r.run()) for r in reflectors]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.synced.wait() for r in reflectors)), 60)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    probes = [q for _, q, _ in fake.requests if "sendInitialEvents" in q]
    assert len(probes) == 1 and client.features.watch_list is False
    assert sum(r.stats.lists_ok for r in reflectors) == 5
    assert all(r.stats.last_list_mode == "list" for r in reflectors)


async def test_a_list_answered_whole_is_decoded_as_it_arrives(fake: FakeApi, start: Any) -> None:
    # resourceVersion=0 from a watch cache: limit ignored, one response of ~1.4 MB (two windows)
    fake.watch_cache = True
    for i in range(4000):
        fake.add(i)
    run = start(sink=PageRecorder())
    await run.synced(within=30)
    assert run.stats.lists_ok == 1 and run.sink.versions() == versions(fake)
    assert len(run.sink.pages) >= 2  # handed over window by window, not once the body was whole


async def test_object_limit_lists_even_where_watch_lists_are_served(fake: FakeApi, start: Any) -> None:
    fake.watch_list = True
    for i in range(50):
        fake.add(i)
    run = start(object_limit=5)
    await run.synced()
    assert len(run.sink) == 5 and run.stats.last_list_mode == "list"
    assert not [q for _, q, _ in fake.requests if "sendInitialEvents" in q]
