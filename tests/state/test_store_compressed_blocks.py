"""The compressed block store keeps exactly the text a fresh render gives, through every change."""

from __future__ import annotations

import gzip
import random

import pytest

from kubescope.state.exposition import scrape_chunks
from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object, render_text
from kubescope.state.sharding import Sharding
from kubescope.state.store import ResourceStore
from tests.state.ksm import normalize, options


def cm(i: int, rv: int = 1, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "metadata": {
            "name": f"cm-{i}",
            "namespace": f"ns-{i % 7}",
            "uid": f"uid-{i:06d}",
            "resourceVersion": str(rv),
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": labels or {"app": f"a{i % 3}"},
        }
    }


SPEC = all_resources()["configmaps"]
FAMS = SPEC.families(options(labels=["app"]))


def store(block_size: int = 8, sharding: Sharding | None = None) -> ResourceStore:
    return ResourceStore(SPEC, FAMS, block_size=block_size, sharding=sharding)


def expected(objs: dict[int, dict[str, object]]) -> list[str]:
    text = render_text([(SPEC, FAMS, [decode_object(SPEC, o) for o in objs.values()])])
    return [line for line in normalize(text) if not line.startswith("#")]


def test_random_upserts_and_deletes_match_a_fresh_render() -> None:
    rng = random.Random(7)
    s = store()
    live: dict[int, dict[str, object]] = {}
    for step in range(3000):
        i = rng.randrange(200)
        if i in live and rng.random() < 0.3:
            s.delete(decode_object(SPEC, live.pop(i)))
        else:
            # some values are not ASCII: lengths are bytes of UTF-8, not characters
            live[i] = cm(i, rv=step, labels={"app": rng.choice(["v1", "v2", "é", "日本", "v3\\n"])})
            s.upsert(decode_object(SPEC, live[i]))
        if rng.random() < 0.05:
            s.flush_sync()
    assert len(s) == len(live)
    assert normalize(s.text()) == expected(live)


def test_relist_drops_only_objects_not_listed_and_never_clears_first() -> None:
    s = store()
    objs = {i: cm(i) for i in range(50)}
    for o in objs.values():
        s.upsert(decode_object(SPEC, o))
    s.flush_sync()
    s.replace_begin()
    for i in range(25, 50):
        s.upsert(decode_object(SPEC, objs[i]))
        # mid-relist, nothing has been dropped yet
        assert len(s) == 50
    s.replace_end()
    assert len(s) == 25
    assert normalize(s.text()) == expected({i: objs[i] for i in range(25, 50)})


def test_shard_keeps_only_its_objects() -> None:
    shards = [store(sharding=Sharding(i, 3)) for i in range(3)]
    objs = {i: cm(i) for i in range(90)}
    for o in objs.values():
        for s in shards:
            s.upsert(decode_object(SPEC, o))
    assert sum(len(s) for s in shards) == 90
    union = sorted(line for s in shards for line in normalize(s.text()))
    assert union == expected(objs)


@pytest.mark.parametrize("gz", [False, True])
async def test_scrape_body_gzip_members_concatenate_to_the_plain_body(gz: bool) -> None:
    s = store(block_size=4)
    objs = {i: cm(i) for i in range(30)}
    for o in objs.values():
        s.upsert(decode_object(SPEC, o))
    s.flush_sync()
    body = b"".join([p async for c in scrape_chunks([s.snapshot()], openmetrics=True, gz=gz) for p in c])
    text = gzip.decompress(body).decode() if gz else body.decode()
    assert text.endswith("# EOF\n")
    want = render_text([(SPEC, FAMS, [decode_object(SPEC, o) for o in objs.values()])], openmetrics=True)
    assert normalize(text) == normalize(want)
    # families stay grouped: every family's samples are contiguous
    names = [line.split("{")[0] for line in text.splitlines() if not line.startswith("#")]
    order = [f.name for f in FAMS]
    assert names == sorted(names, key=order.index)


def test_unchanged_update_does_not_rewrite_members() -> None:
    s = store()
    for i in range(8):
        s.upsert(decode_object(SPEC, cm(i)))
    s.flush_sync()
    before = list(s.blocks[0].members)
    s.upsert(decode_object(SPEC, cm(3)))
    s.flush_sync()
    assert all(a is b for a, b in zip(before, s.blocks[0].members, strict=True))
    s.upsert(decode_object(SPEC, cm(3, rv=99)))
    s.flush_sync()
    changed = [a is not b for a, b in zip(before, s.blocks[0].members, strict=True)]
    assert sum(changed) == 1  # only kube_configmap_metadata_resource_version


def test_render_error_is_counted_and_skipped() -> None:
    s = store()

    class Broken:
        class metadata:
            uid = "u1"
            name = "broken"
            namespace = "x"

    s.upsert(Broken())
    assert s.stats.render_errors == 1
    assert len(s) == 0


def test_a_text_longer_than_16_bits_widens_its_block() -> None:
    s = store()
    live = {i: cm(i) for i in range(5)}
    for o in live.values():
        s.upsert(decode_object(SPEC, o))
    s.flush_sync()
    assert s.blocks[0].lens.typecode == "H"
    live[3] = cm(3, rv=2, labels={"app": "x" * 70_000})  # one kube_configmap_labels line > 64 KiB
    s.upsert(decode_object(SPEC, live[3]))
    s.flush_sync()
    assert s.blocks[0].lens.typecode == "I"
    live[1] = cm(1, rv=3, labels={"app": "changed"})
    s.upsert(decode_object(SPEC, live[1]))
    s.flush_sync()
    assert normalize(s.text()) == expected(live)


@pytest.mark.parametrize("as_page", [False, True])
def test_a_first_text_longer_than_16_bits_widens_a_new_block(as_page: bool) -> None:
    s = store()
    live = {i: cm(i, labels={"app": "x" * 70_000} if i == 1 else None) for i in range(3)}
    if as_page:
        s.upsert_page([decode_object(SPEC, o) for o in live.values()])
    else:
        for o in live.values():
            s.upsert(decode_object(SPEC, o))
    s.flush_sync()
    assert s.blocks[0].lens.typecode == "I"
    assert normalize(s.text()) == expected(live)


def test_new_members_over_scattered_slots() -> None:
    # objects deleted before the block's first flush leave holes among the slots written at once
    s = store()
    live = {i: cm(i, labels={"app": "日本" if i % 2 else "v"}) for i in range(8)}
    for o in live.values():
        s.upsert(decode_object(SPEC, o))
    for i in (2, 5):
        s.delete(decode_object(SPEC, live.pop(i)))
    s.flush_sync()
    assert normalize(s.text()) == expected(live)
    for i in (20, 21):  # the freed slots again, now with members to splice into
        live[i] = cm(i)
        s.upsert(decode_object(SPEC, live[i]))
    s.flush_sync()
    assert len(s.blocks) == 1
    assert normalize(s.text()) == expected(live)


def test_uids_are_told_apart_exactly_whatever_their_form() -> None:
    canonical = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    s = store()
    objs = {i: cm(i) for i in range(5)}
    # same hex digits, other forms: different uids, so different objects
    objs[0]["metadata"]["uid"] = canonical  # type: ignore[index]
    objs[1]["metadata"]["uid"] = canonical.upper()  # type: ignore[index]
    objs[2]["metadata"]["uid"] = canonical.replace("-", "")  # type: ignore[index]
    objs[3]["metadata"]["uid"] = "0a1b2c3d-4e5f-6789-abcd-ef012345678\u00e9"  # type: ignore[index]
    for o in objs.values():
        s.upsert(decode_object(SPEC, o))
    assert len(s) == 5
    s.delete(decode_object(SPEC, objs[0]))
    del objs[0]
    assert len(s) == 4
    assert normalize(s.text()) == expected(objs)


def test_families_without_text_in_a_block_keep_no_lengths() -> None:
    s = store()
    objs = {i: cm(i) for i in range(8)}
    for o in objs.values():
        s.upsert(decode_object(SPEC, o))
    s.flush_sync()
    block = s.blocks[0]
    # no annotation is allowlisted: kube_configmap_annotations has no text, so no row
    assert block.rows[0] == -1
    assert len(block.lens) == (s.nfam - 1) * s.block_size
    for o in objs.values():
        s.delete(decode_object(SPEC, o))
    s.flush_sync()
    assert list(block.rows) == [-1] * s.nfam
    assert len(block.lens) == 0
    assert s.text() == ""
    for i in (2, 5):
        s.upsert(decode_object(SPEC, objs[i]))
    assert normalize(s.text()) == expected({i: objs[i] for i in (2, 5)})


# -- list pages (upsert_page): new objects of a never-flushed block are rendered as one run ---------


def test_a_first_page_goes_to_fresh_runs_not_per_object_changes() -> None:
    s = store(block_size=8)
    objs = {i: cm(i) for i in range(20)}
    s.upsert_page([decode_object(SPEC, o) for o in objs.values()])
    assert [len(b.fresh) for b in s.blocks] == [1, 1, 1]
    assert all(not b.pending for b in s.blocks)
    assert s.stats.upserts == 20 and s.pending_bytes > 0
    s.flush_sync()
    assert normalize(s.text()) == expected(objs)
    assert all(not b.fresh and b.opened for b in s.blocks)


def test_random_pages_upserts_and_deletes_match_a_fresh_render() -> None:
    rng = random.Random(11)
    s = store(block_size=8)
    live: dict[int, dict[str, object]] = {}
    for step in range(1, 301):
        r = rng.random()
        if r < 0.1:  # a relist: pages of what is there now, minus some objects gone meanwhile
            for i in rng.sample(sorted(live), k=len(live) // 4):
                del live[i]
            s.replace_begin()
            items = list(live.values())
            for k in range(0, len(items), 7):
                s.upsert_page([decode_object(SPEC, o) for o in items[k : k + 7]])
            s.replace_end()
        elif r < 0.6:  # a page: new objects, known ones, a uid twice, non-ASCII text
            page = []
            for _ in range(rng.randrange(1, 20)):
                i = rng.randrange(150)
                live[i] = cm(
                    i, rv=step, labels={"app": rng.choice(["v1", "é", "日本", "x" * rng.choice([1, 300])])}
                )
                page.append(decode_object(SPEC, live[i]))
            s.upsert_page(page)
        elif r < 0.8 and live:
            i = rng.choice(sorted(live))
            s.delete(decode_object(SPEC, live.pop(i)))
        else:
            i = rng.randrange(150)
            live[i] = cm(i, rv=step)
            s.upsert(decode_object(SPEC, live[i]))
        if rng.random() < 0.2:
            s.flush_sync()
    assert len(s) == len(live)
    assert normalize(s.text()) == expected(live)


def test_pages_into_a_block_before_and_after_its_first_flush() -> None:
    s = store(block_size=8)
    objs = {i: cm(i) for i in range(11)}
    s.upsert_page([decode_object(SPEC, objs[i]) for i in range(5)])
    s.upsert_page([decode_object(SPEC, objs[i]) for i in range(5, 7)])  # not flushed yet: a 2nd run
    assert len(s.blocks[0].fresh) == 2
    s.delete(decode_object(SPEC, objs[1]))  # after the runs: applied after them
    live = {i: objs[i] for i in range(7) if i != 1}
    s.flush_sync()
    assert normalize(s.text()) == expected(live)
    s.upsert_page([decode_object(SPEC, objs[i]) for i in range(7, 11)])  # slot 1 again, 7, then a new block
    live.update({i: objs[i] for i in range(7, 11)})
    assert s.blocks[0].pending and not s.blocks[0].fresh  # a flushed block takes changes per object
    assert len(s.blocks[1].fresh) == 1
    s.flush_sync()
    assert normalize(s.text()) == expected(live)


def test_a_page_with_an_object_that_does_not_render_keeps_the_others() -> None:
    s = store()

    class Broken:
        class metadata:
            uid = "u1"
            name = "broken"
            namespace = "x"

    good = {i: cm(i) for i in range(5)}
    s.upsert_page(
        [decode_object(SPEC, good[0]), Broken(), *[decode_object(SPEC, good[i]) for i in range(1, 5)]]
    )
    assert s.stats.render_errors == 1
    assert len(s) == 5
    assert normalize(s.text()) == expected(good)


def test_a_page_respects_the_shard() -> None:
    shards = [store(sharding=Sharding(i, 3)) for i in range(3)]
    objs = {i: cm(i) for i in range(60)}
    for s in shards:
        s.upsert_page([decode_object(SPEC, o) for o in objs.values()])
    assert sum(len(s) for s in shards) == 60
    assert sum(s.stats.dropped_by_shard for s in shards) == 120
    assert sorted(line for s in shards for line in normalize(s.text())) == expected(objs)
