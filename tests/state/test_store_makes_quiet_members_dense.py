"""Members that stop changing are rewritten at the dense level: the same text in fewer bytes, and
never an older or a deleted object's text when a flush rewrites the member meanwhile."""

from __future__ import annotations

import asyncio
import copy
import gzip
from typing import Any

from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.state.blocks import inflate
from kubescope.state.exposition import scrape_chunks
from kubescope.state.family import FamilyOptions
from kubescope.state.flush import densify
from kubescope.state.flusher import Flusher
from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object, render_text
from kubescope.state.store import ResourceStore
from tests.state.ksm import normalize

SPEC = all_resources()["pods"]
FAMS = SPEC.families(FamilyOptions())
PODS = [o for r, o in generate(ScenarioConfig(seed=3, nodes=4, pods_per_node=30, start=1.7e9)) if r == "pods"]


def store() -> ResourceStore:
    s = ResourceStore(SPEC, FAMS, block_size=32)
    s.upsert_page([decode_object(SPEC, o) for o in PODS])
    s.flush_sync()
    return s


def expected(pods: list[dict[str, Any]]) -> list[str]:
    text = render_text([(SPEC, FAMS, [decode_object(SPEC, o) for o in pods])])
    return [line for line in normalize(text) if not line.startswith("#")]


def densify_all(s: ResourceStore) -> None:
    while ripe := s.take_ripe(64 << 10):
        s.install_dense(densify(ripe))


def restarted(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["metadata"]["resourceVersion"] = "99"
    for c in pod["status"].get("containerStatuses", []):
        c["restartCount"] = c.get("restartCount", 0) + 7
    return pod


def test_members_quiet_for_a_whole_period_become_dense_with_the_same_text() -> None:
    s = store()
    before = s.compressed_bytes()
    s.age()  # the period the sync wrote them in ends: nothing is ripe yet
    assert s.take_ripe(1 << 30) == []
    s.age()  # a whole period without writes
    densify_all(s)
    assert s.stats.densified > 0
    assert s.compressed_bytes() == before - s.stats.densify_saved_bytes
    assert s.compressed_bytes() < before * 0.97
    assert normalize(s.text()) == expected(PODS)
    # every member is dense now: nothing ripe, nothing loose
    s.age()
    assert s.take_ripe(1 << 30) == []
    assert all(b.loose == 0 for b in s.blocks)


def test_a_member_written_during_the_period_stays_fast_and_the_others_ripen() -> None:
    s = store()
    s.age()
    s.upsert(decode_object(SPEC, restarted(PODS[0])))
    s.flush_sync()
    s.age()
    ripe = s.take_ripe(1 << 30)
    block = s.blocks[0]
    written = {f for b, f, _ in ripe if b is block}
    restarts = [f.name for f in FAMS].index("kube_pod_container_status_restarts_total")
    assert restarts not in written
    assert written  # the block's other families did not change
    s.install_dense(densify(ripe))
    s.age()  # now the rewritten member has had a whole quiet period too
    assert [(b, f) for b, f, _ in s.take_ripe(1 << 30)] == [(block, restarts)]


def test_a_member_rewritten_while_being_made_dense_keeps_its_new_text() -> None:
    s = store()
    s.age()
    s.age()
    ripe = s.take_ripe(1 << 30)
    done = densify(ripe)  # in the flusher thread, say; meanwhile on the event loop:
    pods = list(PODS)
    pods[1] = restarted(pods[1])  # a changed object
    s.upsert(decode_object(SPEC, pods[1]))
    s.delete(decode_object(SPEC, pods[2]))  # a deleted one
    del pods[2]
    s.flush_sync()
    rewritten = {(id(b), f) for b, f, m in ripe if b.members[f] is not m}
    assert rewritten
    s.install_dense(done)
    # neither the old text of the changed object nor the deleted object came back
    assert normalize(s.text()) == expected(pods)
    # only the rewritten members are still fast (a dense member no smaller is not kept, but done)
    loose = {(id(b), f) for b in s.blocks for f in range(len(FAMS)) if b.loose >> f & 1}
    assert loose == rewritten
    # the rewritten members ripen again after a whole quiet period of their own
    s.age()
    assert s.take_ripe(1 << 30) == []
    s.age()
    assert {(id(b), f) for b, f, _ in s.take_ripe(1 << 30)} == rewritten


async def test_the_flusher_makes_quiet_members_dense_in_its_idle_time() -> None:
    holder: list[ResourceStore] = []
    flusher = Flusher(lambda: holder, interval=0.02, quiet=0.05, densify_slice=4096)
    s = ResourceStore(SPEC, FAMS, block_size=32, on_dirty=flusher.poke)
    holder.append(s)
    s.upsert_page([decode_object(SPEC, o) for o in PODS])
    flusher.start()
    try:
        await flusher.flush_now()
        fast = s.compressed_bytes()
        for _ in range(3000):
            if s.stats.densified and not any(b.loose for b in s.blocks):
                break
            await asyncio.sleep(0.02)
        assert not any(b.loose for b in s.blocks)
        assert s.compressed_bytes() < fast * 0.97
        # both encodings of a scrape still carry the render's text
        await flusher.flush_now()
        gz = b"".join([p async for c in scrape_chunks([s.snapshot()], openmetrics=False, gz=True) for p in c])
        plain = b"".join(
            [p async for c in scrape_chunks([s.snapshot()], openmetrics=False, gz=False) for p in c]
        )
        assert gzip.decompress(gz) == plain
        assert [ln for ln in normalize(plain.decode()) if not ln.startswith("#")] == expected(PODS)
        assert all(inflate(m) for b in s.blocks for m in b.members if m)
    finally:
        await flusher.stop()


async def test_the_flusher_leaves_members_fast_while_changes_are_pending_or_scrapes_come() -> None:
    holder: list[ResourceStore] = []
    flusher = Flusher(lambda: holder, quiet=3600.0)
    s = store()
    holder.append(s)
    s.age()
    s.age()
    loop = asyncio.get_running_loop()
    await flusher.flush_now()  # a scrape, just now
    assert await flusher._densify_until(loop.time() + 60) == (True, False)
    flusher.quiet = 0.0  # no scrape for a while now, but a change is pending
    s.upsert(decode_object(SPEC, restarted(PODS[5])))
    assert await flusher._densify_until(loop.time() + 60) == (True, False)
    assert s.stats.densified == 0
    s.flush_sync()
    assert await flusher._densify_until(loop.time() + 60) == (False, True)
    assert s.stats.densified > 0
    await flusher.stop()


def test_a_member_that_changes_again_after_being_made_dense_waits_a_long_period() -> None:
    s = store()
    s.age()
    s.age()
    densify_all(s)
    restarts = [f.name for f in FAMS].index("kube_pod_container_status_restarts_total")
    block = s.blocks[0]
    pod = PODS[0]
    for _ in range(2):  # written again, twice within a long period
        pod = restarted(pod)
        s.upsert(decode_object(SPEC, pod))
        s.flush_sync()
        s.age()
    assert block.rewritten >> restarts & 1
    while s._ages % s.LONG_PERIODS:  # the rest of this long period, quiet: it was written in it
        assert s.take_ripe(1 << 30) == []
        s.age()
    assert s.take_ripe(1 << 30) == []
    for _ in range(s.LONG_PERIODS - 1):  # a whole long period without writes
        s.age()
        assert s.take_ripe(1 << 30) == []
    s.age()
    assert [(b, f) for b, f, _ in s.take_ripe(1 << 30)] == [(block, restarts)]
    densify_all(s)
    assert normalize(s.text()) == expected([pod, *PODS[1:]])
