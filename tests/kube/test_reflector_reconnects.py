"""Dead, dropped, refused, throttled and failing watches: reconnect, back off, never lose events."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection
from kubescope.kube.reflector import Reflector
from kubescope.kube.retry import RetryPolicy
from tests.kube.conftest import FAST, Recorder, until
from tests.kube.fakeapi import FakeApi, Fault, Pod


def versions(fake: FakeApi) -> dict[str, str]:
    return {uid: o["metadata"]["resourceVersion"] for uid, o in fake.objects.items()}


async def test_inactivity_timeout_reconnects_a_silent_watch(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    fake.silent = True
    run = start(options=replace(FAST, inactivity_timeout=0.3))
    await run.synced()
    await until(lambda: run.stats.inactivity_timeouts >= 2, what="two inactivity timeouts")
    assert run.stats.lists_ok == 1 and run.stats.relists == 0
    fake.add(2)  # missed by the silent stream, delivered by the next one from the same resourceVersion
    fake.silent = False
    await until(lambda: "uid-00002" in run.sink.objects, what="event after reconnect")
    assert run.stats.watches_ok >= 3 and run.stats.watches_error == 1  # the refused watch-list


async def test_bytes_keep_a_watch_alive(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    run = start(options=replace(FAST, inactivity_timeout=0.4))
    await run.synced()
    for _ in range(8):
        fake.bookmark()
        await asyncio.sleep(0.1)
    assert run.stats.inactivity_timeouts == 0 and run.stats.watches_ok == 1


async def test_dropped_connection_resumes_from_last_rv_without_relist(fake: FakeApi, start: Any) -> None:
    for i in range(20):
        fake.add(i)
    run = start()
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    fake.modify(1)
    await until(lambda: run.reflector.resource_version == str(fake.rv), what="event")
    fake.silent = True
    fake.drop_watches()
    fake.modify(2)
    fake.delete(3)
    fake.silent = False
    await until(lambda: run.sink.versions() == versions(fake), what="resync after drop")
    assert run.stats.lists_ok == 1 and run.stats.relists == 0
    sink: Recorder = run.sink
    events = [c for c in sink.calls if c[0] != "begin" and c[0] != "end"][20:]
    assert len(events) == len(set(events)) == 3  # nothing applied twice


async def test_throttling_and_server_errors_back_off_and_rewatch(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    fake.faults["watch"] += [
        Fault(429, "TooManyRequests", "slow down", headers={"Retry-After": "1"}),
        Fault(500, "InternalError"),
        Fault(503, "ServiceUnavailable"),
    ]
    t0 = time.monotonic()
    run = start()
    await until(lambda: fake.open_watches == 1, what="watch after faults")
    assert time.monotonic() - t0 >= 1.0  # Retry-After was honoured
    # the refused watch-list, then the 3 faults
    assert run.stats.watches_error == 1 + 3 and run.stats.lists_ok == 1 and run.stats.relists == 0
    fake.add(2)
    await until(lambda: len(run.sink) == 2, what="event")


async def test_list_errors_are_retried(fake: FakeApi, start: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake.add(1)
    fake.faults["list"] += [Fault(500, "InternalError", "etcd timeout"), Fault(403, "Forbidden", "no")]
    with caplog.at_level(logging.WARNING, logger="kubescope.kube.reflector"):
        run = start()
        await run.synced()
    assert run.stats.lists_error == 2 and run.stats.lists_ok == 1 and len(run.sink) == 1
    failures = [r for r in caplog.records if r.getMessage().startswith("list failed")]
    assert [r.getMessage() for r in failures] == [
        "list failed",
        "list failed: forbidden, retrying with backoff",
    ]
    assert "500 InternalError: GET /api/v1/pods: etcd timeout" in failures[0].fields["error"]  # type: ignore[attr-defined]
    assert not run.reflector.unavailable  # the list that succeeded cleared it


async def test_a_watch_that_ends_at_once_backs_off(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    fake.faults["watch"] += [Fault(200, body=b"") for _ in range(3)]
    policy = RetryPolicy(initial=0.05, maximum=1.0, jitter=0.0)
    t0 = time.monotonic()
    run = start(options=replace(FAST, retry=policy))
    await until(lambda: fake.open_watches == 1, what="watch")
    assert time.monotonic() - t0 >= 0.05 + 0.1 + 0.2
    await until(lambda: run.stats.watches_ok == 4, what="4th watch counted")
    assert run.stats.relists == 0


async def test_unreachable_server_is_retried_quietly(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = KubeClient.from_connection(Connection(server=f"http://127.0.0.1:{port}"))
    refl: Reflector[Pod] = Reflector(
        client, api_path="/api/v1", resource="pods", item_type=Pod, sink=Recorder(), options=FAST
    )
    with caplog.at_level(logging.WARNING, logger="kubescope.kube.reflector"):
        task = asyncio.get_running_loop().create_task(refl.run())
        # the watch-list is asked for first, and again: the server never said it had none
        await until(lambda: refl.stats.watches_error >= 3, what="3 attempts")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await client.close()
    assert not refl.synced.is_set()
    msg = caplog.records[0].fields["error"]  # type: ignore[attr-defined]
    assert msg.startswith(f"GET /api/v1/pods: 127.0.0.1:{port}: Connection refused")
