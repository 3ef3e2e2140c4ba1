"""Objects and watch lines that fail to decode are skipped, logged and counted; nothing else stops."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection, KubeSettings
from kubescope.kube.reflector import Reflector
from tests.kube.conftest import FAST, Recorder, until
from tests.kube.fakeapi import FakeApi, Pod, pod


async def test_malformed_object_in_list_page_is_skipped(
    fake: FakeApi, start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(150):
        fake.add(i)
    bad = pod(42, 999)
    bad["metadata"]["labels"] = ["not", "a", "map"]
    fake.raw_items["uid-00042"] = json.dumps(bad).encode()
    with caplog.at_level(logging.WARNING, logger="kubescope.kube.reflector"):
        run = start()
        await run.synced()
    sink: Recorder = run.sink
    assert len(sink) == 149 and "uid-00042" not in sink.objects
    assert run.stats.decode_errors == 1 and run.stats.listed == 149
    rec = next(r for r in caplog.records if "list page skipped" in r.getMessage())
    assert rec.fields["name"] == "pod-42" and rec.fields["uid"] == "uid-00042"  # type: ignore[attr-defined]
    assert "Expected `object`" in rec.fields["error"]  # type: ignore[attr-defined]


async def test_a_page_that_is_not_json_fails_the_list_and_it_is_retried(fake: FakeApi, start: Any) -> None:
    from tests.kube.fakeapi import Fault

    fake.add(1)
    fake.faults["list"].append(Fault(200, body=b'{"kind":"PodList","items":[{"metadata":'))
    run = start()
    await run.synced()
    assert len(run.sink) == 1 and run.stats.lists_ok == 2


async def test_malformed_watch_lines_are_skipped_and_the_stream_goes_on(
    fake: FakeApi, start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add(1)
    run = start()
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    with caplog.at_level(logging.WARNING, logger="kubescope.kube.reflector"):
        fake.inject(b"this is not json")
        fake.inject(b"")  # a blank line is not an error
        broken = pod(2, fake.rv + 1)
        broken["status"] = {"phase": 7}
        fake.inject(json.dumps({"type": "ADDED", "object": broken}).encode())
        fake.inject(json.dumps({"type": "SURPRISE", "object": pod(3, fake.rv + 1)}).encode())
        fake.add(4)
        await until(lambda: "uid-00004" in run.sink.objects, what="event after the bad lines")
    assert run.stats.decode_errors == 3
    assert run.stats.watches_ok == 1 and run.stats.lists_ok == 1  # no reconnect, no relist
    assert "uid-00002" not in run.sink.objects
    msgs = [r.getMessage() for r in caplog.records]
    assert "malformed watch line skipped" in msgs
    assert "ADDED event with a malformed object skipped" in msgs
    assert "watch event of unknown type 'SURPRISE' skipped" in msgs


async def test_oversized_watch_line_is_skipped(fake: FakeApi) -> None:
    settings = KubeSettings(read_bufsize=64 << 10, max_line_size=64 << 10)
    client = KubeClient.from_connection(Connection(server=fake.url), settings)
    sink = Recorder()
    refl: Reflector[Pod] = Reflector(
        client, api_path="/api/v1", resource="pods", item_type=Pod, sink=sink, options=FAST
    )
    import asyncio

    task = asyncio.get_running_loop().create_task(refl.run())
    try:
        await asyncio.wait_for(refl.synced.wait(), 60)
        await until(lambda: fake.open_watches == 1, what="watch")
        big = pod(1, fake.rv + 1)
        big["metadata"]["annotations"] = {"big": "x" * (300 << 10)}
        fake.inject(json.dumps({"type": "ADDED", "object": big}).encode())
        fake.add(2)
        await until(lambda: "uid-00002" in sink.objects, what="event after the big line")
        assert "uid-00001" not in sink.objects
        assert refl.stats.decode_errors == 1 and refl.stats.watches_ok == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()


class Exploding(Recorder):
    def upsert(self, obj: Any) -> None:
        if obj.metadata.name == "pod-2":
            raise RuntimeError("consumer bug")
        super().upsert(obj)


async def test_a_failing_sink_call_is_counted_and_the_reflector_goes_on(
    fake: FakeApi, start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(4):
        fake.add(i)
    with caplog.at_level(logging.ERROR, logger="kubescope.kube.reflector"):
        run = start(sink=Exploding())
        await run.synced()
        await until(lambda: fake.open_watches == 1, what="watch")
        fake.modify(2)
        fake.add(9)
        await until(lambda: "uid-00009" in run.sink.objects, what="event")
    assert run.stats.sink_errors == 2 and len(run.sink) == 4
    assert run.reflector.resource_version == str(fake.rv)
