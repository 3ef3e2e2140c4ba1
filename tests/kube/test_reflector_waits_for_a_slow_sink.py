"""Backpressure: ``pace`` is awaited after every list page and watch batch, and holds the reflector."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.kube.conftest import Recorder, until
from tests.kube.fakeapi import FakeApi


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
    # held after the first page: begin + 100 upserts, nothing more, no second page requested
    assert len(sink.calls) == 101 and calls == [101]
    assert len([q for _, q, _ in fake.requests if q.get("watch") != "true"]) == 1
    gate.set()
    await run.synced()
    assert calls == [101, 201, 251]  # once per page (100, 100, 50)
    assert sink.calls[-1] == ("end", "", "")


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
