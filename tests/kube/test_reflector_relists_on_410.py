"""410 Gone / Expired, in a watch ERROR event, a watch answer or a list continue token, relists."""

from __future__ import annotations

from typing import Any

from tests.kube.conftest import Recorder, until
from tests.kube.fakeapi import FakeApi, Fault


def versions(fake: FakeApi) -> dict[str, str]:
    return {uid: o["metadata"]["resourceVersion"] for uid, o in fake.objects.items()}


async def test_error_event_410_relists_and_drops_what_vanished(fake: FakeApi, start: Any) -> None:
    for i in range(250):
        fake.add(i)
    run = start()
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    sink: Recorder = run.sink
    # while the reflector is cut off, objects change and history is compacted away
    fake.silent = True
    fake.drop_watches()
    fake.delete(3)
    fake.modify(4)
    fake.add(900)
    fake.compacted = fake.rv
    fake.silent = False
    await until(lambda: run.stats.syncs == 2, what="relist")
    assert sink.versions() == versions(fake)
    assert "uid-00003" not in sink.objects
    assert run.stats.gone == 1 and run.stats.relists == 1
    assert sink.begins == 2
    # the relist is not older than what was seen (client-go: served by the watch cache, whole)
    lists = [q for _, q, _ in fake.requests if q.get("watch") != "true" and "continue" not in q]
    assert lists[0] == {"limit": "100", "resourceVersion": "0"}
    assert lists[1] == {"resourceVersion": str(fake.compacted - 3)}


async def test_http_410_on_watch_relists(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    fake.faults["watch"].append(Fault(410, "Expired", "too old resource version"))
    run = start()
    await until(lambda: run.stats.syncs == 2, what="relist")
    assert run.stats.watches_error == 1 + 1 and run.stats.gone == 1  # the refused watch-list, the 410
    await until(lambda: fake.open_watches == 1, what="watch")


async def test_gone_reason_also_relists(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    run = start()
    await run.synced()
    await until(lambda: fake.open_watches == 1, what="watch")
    fake.error_event(410, "Gone")
    await until(lambda: run.stats.syncs == 2, what="relist")


async def test_expired_continue_token_restarts_the_list(fake: FakeApi, start: Any) -> None:
    for i in range(350):
        fake.add(i)
    fake.faults["continue"].append(Fault(410, "Expired", "The provided continue parameter is too old"))
    seen: list[int] = []
    run = start(on_synced=seen.append)
    await run.synced()
    sink: Recorder = run.sink
    assert sink.versions() == versions(fake)
    assert seen == [1]  # the broken list never counted as a sync
    assert run.stats.lists_error == 1 and run.stats.gone == 1 and run.stats.lists_ok == 1 + 4
    assert sink.begins == 2 and sink.calls[-1] == ("end", "", "")
    # the restart began from the first page again
    firsts = [q for _, q, _ in fake.requests if q.get("watch") != "true" and "continue" not in q]
    assert len(firsts) == 2


async def test_other_api_errors_on_watch_back_off_then_relist(fake: FakeApi, start: Any) -> None:
    fake.add(1)
    fake.faults["watch"].append(Fault(403, "Forbidden", 'pods is forbidden: User "x" cannot watch'))
    run = start()
    await until(lambda: run.stats.syncs == 2, what="relist")
    assert run.stats.watches_error == 1 + 1 and run.stats.gone == 0 and run.stats.relists == 1
