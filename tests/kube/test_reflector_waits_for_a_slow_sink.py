"""Backpressure: ``pace`` is awaited after every list page and watch batch, and holds the reflector."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.kube.conftest import Recorder, until
from tests.kube.fakeapi import FakeApi, Fault


async def test_pace_holds_the_list_between_pages(fake: FakeApi, start: Any) -> None:
    for i in range(250):
        fake.add(i)
    gate = asyncio.Event()
    calls: list[int] = []

    async def pace() -> None:
        calls.append(len(run.sink.calls))
        await gate.wait()

    run = start(pace=pace)
    sink: Recorder = run.sink
    await until(lambda: len(calls) == 1, what="first page paced")
    await asyncio.sleep(0.05)
    # held after the first page: begin + 100 upserts, nothing more; the second page was requested
    # (fetched while the first was applied) but not the third
    assert len(sink.calls) == 101 and calls == [101]
    lists = [q for _, q, _ in fake.requests if q.get("watch") != "true"]
    assert len(lists) == 2 and "continue" in lists[1]
    gate.set()
    await run.synced()
    assert calls == [101, 201, 251]  # once per page (100, 100, 50)
    assert sink.calls[-1] == ("end", "", "")


async def test_stopping_a_list_cancels_the_page_requested_ahead(fake: FakeApi, start: Any) -> None:
    for i in range(250):
        fake.add(i)
    fake.continue_delay = 0.5
    gate = asyncio.Event()

    async def pace() -> None:
        await gate.wait()

    run = start(pace=pace)
    lists = lambda: [q for _, q, _ in fake.requests if q.get("watch") != "true"]  # noqa: E731
    await until(lambda: len(lists()) == 2, what="the second page requested ahead")
    await run.stop()
    ahead = [t for t in asyncio.all_tasks() if "_get_page" in repr(t.get_coro())]
    assert not ahead  # cancelled and awaited with the list, not left to finish on its own


async def test_a_failed_page_fetched_ahead_restarts_the_list(fake: FakeApi, start: Any) -> None:
    for i in range(250):
        fake.add(i)
    fake.faults["continue"].append(Fault(500, "InternalError", "etcd went away"))
    run = start()
    await run.synced()
    sink: Recorder = run.sink
    assert sink.versions() == {uid: o["metadata"]["resourceVersion"] for uid, o in fake.objects.items()}
    assert run.stats.lists_error == 1 and run.stats.syncs == 1
    assert sink.begins == 2 and sink.calls[-1] == ("end", "", "")


async def test_pace_runs_after_watch_batches(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    paced = 0

    async def pace() -> None:
        nonlocal paced
        paced += 1

    run = start(pace=pace)
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    before = paced
    fake.modify(1)
    await until(lambda: run.stats.modified == 1, what="event")
    await until(lambda: paced > before, what="paced after the batch")
