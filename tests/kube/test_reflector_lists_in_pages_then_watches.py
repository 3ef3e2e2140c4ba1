"""Paginated list into the sink, then a watch from the list's resourceVersion, bookmarks included.

The fake API server refuses watch-lists (as kube-apiserver with its WatchList feature off), so the
reflector lists: ``resourceVersion=0`` first, as client-go does, paginated when the server pages."""

from __future__ import annotations

from typing import Any

from tests.kube.conftest import Recorder, until
from tests.kube.fakeapi import FakeApi


def versions(fake: FakeApi) -> dict[str, str]:
    return {uid: o["metadata"]["resourceVersion"] for uid, o in fake.objects.items()}


async def test_list_pages_then_watch_from_list_rv(fake: FakeApi, start: Any) -> None:
    for i in range(1234):
        fake.add(i)
    list_rv = str(fake.rv)
    run = start()
    await run.synced()
    sink: Recorder = run.sink
    assert sink.versions() == versions(fake)
    lists = [q for p, q, _ in fake.requests if q.get("watch") != "true"]
    assert len(lists) == 13  # 12 pages of 100 and one of 34
    assert lists[0] == {"limit": "100", "resourceVersion": "0"}
    # continue pages without a resourceVersion (the API server refuses both)
    assert all(q == {"limit": "100", "continue": q["continue"]} and q["continue"] for q in lists[1:])
    assert run.stats.lists_ok == 13 and run.stats.listed == 1234 and run.stats.syncs == 1
    # the sink heard one begin, every item, one end, in that order
    assert sink.calls[0] == ("begin", "", "") and sink.calls[-1] == ("end", "", "")
    assert len(sink.calls) == 1236

    await until(lambda: fake.open_watches == 1, what="watch")
    probe, watch = (q for p, q, _ in fake.requests if q.get("watch") == "true")
    assert probe["sendInitialEvents"] == "true" and probe["resourceVersionMatch"] == "NotOlderThan"
    assert "resourceVersion" not in probe
    assert watch["resourceVersion"] == list_rv
    assert watch["allowWatchBookmarks"] == "true"
    assert 300 <= int(watch["timeoutSeconds"]) < 600
    assert run.stats.watches_ok == 1 and run.stats.watches_error == 1  # the refused watch-list

    fake.add(5000)
    fake.modify(7)
    fake.delete(8)
    await until(lambda: sink.versions() == versions(fake), what="events applied")
    assert (run.stats.added, run.stats.modified, run.stats.deleted) == (1, 1, 1)
    assert run.reflector.resource_version == str(fake.rv)
    assert sink.calls[-3:] == [
        ("upsert", "uid-05000", str(fake.rv - 2)),
        ("upsert", "uid-00007", str(fake.rv - 1)),
        ("delete", "uid-00008", str(fake.rv)),
    ]
    assert run.stats.bytes_read > 1234 * 200


async def test_bookmarks_advance_the_resource_version(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    run = start()
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    fake.bookmark()
    await until(lambda: run.stats.bookmarks == 1, what="bookmark")
    assert run.reflector.resource_version == str(fake.rv)
    # the next watch resumes from the bookmark, not from the list
    fake.end_watches()
    await until(lambda: len(fake.watch_rvs) == 2, what="re-watch")
    assert fake.watch_rvs == [fake.rv - 1, fake.rv]
    assert run.stats.lists_ok == 1 and run.stats.relists == 0
    assert run.sink.calls[-1] == ("end", "", "")  # bookmarks never reach the sink


async def test_clean_end_of_watch_rewatches_without_relisting(fake: FakeApi, start: Any) -> None:
    for i in range(3):
        fake.add(i)
    run = start()
    await run.synced()
    for round_ in range(3):
        await until(lambda r=round_: fake.open_watches == 1 and len(fake.watch_rvs) == r + 1, what="watch")
        fake.modify(round_)
        await until(lambda: run.reflector.resource_version == str(fake.rv), what="event")
        fake.end_watches()
    await until(lambda: len(fake.watch_rvs) == 4, what="4th watch")
    assert fake.watch_rvs[1:] == [103 + 1, 103 + 2, 103 + 3]
    assert run.stats.lists_ok == 1 and run.stats.syncs == 1 and run.stats.watches_ok == 4
    assert run.sink.versions() == versions(fake)


async def test_synced_fires_after_each_complete_list(fake: FakeApi, client: Any, start: Any) -> None:
    fake.add(1)
    seen: list[int] = []
    run = start(on_synced=seen.append)
    assert not run.reflector.synced.is_set()
    await run.synced()
    assert seen == [1]
    await until(lambda: fake.open_watches == 1, what="watch")
    fake.error_event(410, "Expired")
    await until(lambda: seen == [1, 2], what="second sync")
    assert run.stats.syncs == 2 and run.stats.relists == 1


class PageRecorder(Recorder):
    """A sink that takes whole list pages, as the state-metrics store does."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.pages: list[int] = []
        self.fail = fail

    def upsert_page(self, objs: list[Any]) -> None:
        self.pages.append(len(objs))
        if self.fail:
            raise RuntimeError("broken sink")
        for o in objs:
            self.upsert(o)


async def test_a_sink_that_takes_pages_gets_each_list_page_once(fake: FakeApi, start: Any) -> None:
    for i in range(250):
        fake.add(i)
    run = start(sink=PageRecorder())
    await run.synced()
    assert run.sink.pages == [100, 100, 50]
    fake.modify(3)
    await until(lambda: run.stats.modified == 1, what="event")
    assert run.sink.pages == [100, 100, 50]  # watch events still one by one
    assert run.sink.versions() == {uid: o["metadata"]["resourceVersion"] for uid, o in fake.objects.items()}


async def test_a_page_the_sink_fails_on_is_applied_item_by_item(fake: FakeApi, start: Any) -> None:
    for i in range(150):
        fake.add(i)
    run = start(sink=PageRecorder(fail=True))
    await run.synced()
    assert run.sink.pages == [100, 50]
    assert len(run.sink.versions()) == 150
