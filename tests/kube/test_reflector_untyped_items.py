"""Untyped items (custom resources): a ``dec_hook`` builds them, lists and watches work as for
Structs, and an item that is not a JSON object is skipped and counted."""

from __future__ import annotations

from typing import Any

from kubescope.state.crs import Unstructured, unstructured_dec_hook
from tests.kube.conftest import Recorder, until
from tests.kube.fakeapi import FakeApi


async def test_list_and_watch_build_unstructured_objects(fake: FakeApi, start: Any) -> None:
    for i in range(3):
        fake.add(i)
    fake.raw_items["uid-00001"] = b'"not an object"'
    run = start(item_type=Unstructured, dec_hook=unstructured_dec_hook)
    await run.synced()
    sink: Recorder = run.sink
    got = sorted(sink.objects)
    assert got == ["uid-00000", "uid-00002"]  # the malformed item skipped
    obj = sink.objects["uid-00000"]
    assert isinstance(obj, Unstructured) and obj.object["status"]["phase"]
    assert run.stats.decode_errors == 1
    await until(lambda: fake.open_watches == 1, what="watch")
    fake.modify(2, phase="Failed")
    await until(lambda: run.stats.modified == 1, what="event")
    assert sink.objects["uid-00002"].object["status"]["phase"] == "Failed"
    assert sink.objects["uid-00002"].metadata.resource_version == str(fake.rv)
