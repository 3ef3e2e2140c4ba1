"""Fixtures for the kube tests: a fake API server on loopback, a client for it, a recording sink."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection
from kubescope.kube.reflector import Reflector
from kubescope.kube.retry import RetryPolicy
from kubescope.kube.sink import Mirror, ReflectorOptions
from tests.kube.fakeapi import FakeApi, Pod

FAST = ReflectorOptions(
    page_size=100,
    inactivity_timeout=5.0,
    very_short_watch=0.2,
    retry=RetryPolicy(initial=0.02, maximum=0.1, jitter=0.0),
)


async def until(cond: Callable[[], bool], within: float = 60.0, what: str = "condition") -> None:
    """Wait for ``cond``. ``within`` is not a timing check (tests check behaviour, not timings):
    only how long a correct program may take on a loaded 2-core machine before the test gives up."""
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.005)


class Recorder(Mirror[Any]):
    """A Mirror that also records every call: (op, uid, resourceVersion)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, str]] = []
        self.begins = 0

    def replace_begin(self) -> None:
        self.begins += 1
        self.calls.append(("begin", "", ""))
        super().replace_begin()

    def upsert(self, obj: Any) -> None:
        self.calls.append(("upsert", obj.metadata.uid, obj.metadata.resource_version))
        super().upsert(obj)

    def delete(self, obj: Any) -> None:
        self.calls.append(("delete", obj.metadata.uid, obj.metadata.resource_version))
        super().delete(obj)

    def replace_end(self) -> None:
        self.calls.append(("end", "", ""))
        super().replace_end()


@pytest.fixture
async def fake() -> AsyncIterator[FakeApi]:
    api = await FakeApi().start()
    yield api
    await api.stop()


@pytest.fixture
async def client(fake: FakeApi) -> AsyncIterator[KubeClient]:
    c = KubeClient.from_connection(Connection(server=fake.url))
    yield c
    await c.close()


class Running:
    """A reflector task with its sink; cancelled at teardown."""

    def __init__(self, reflector: Reflector[Any], sink: Recorder) -> None:
        self.reflector = reflector
        self.sink = sink
        self.task = asyncio.get_running_loop().create_task(reflector.run())

    @property
    def stats(self) -> Any:
        return self.reflector.stats

    async def synced(self, within: float = 5.0) -> None:
        await asyncio.wait_for(self.reflector.synced.wait(), within)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def start(client: KubeClient) -> AsyncIterator[Callable[..., Running]]:
    running: list[Running] = []

    def _start(**kw: Any) -> Running:
        sink = kw.pop("sink") if "sink" in kw else Recorder()
        kw.setdefault("options", FAST)
        kw.setdefault("item_type", Pod)
        r: Reflector[Any] = Reflector(client, api_path="/api/v1", resource="pods", sink=sink, **kw)
        run = Running(r, sink)
        running.append(run)
        return run

    yield _start
    for r in running:
        await r.stop()
