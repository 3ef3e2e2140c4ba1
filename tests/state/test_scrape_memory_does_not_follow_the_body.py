"""What a scrape in flight holds does not follow the body's size: a plain scrape inflates a unit
only when the one before it was taken (a reader that stops stops the inflating), into buffers of
each member's exact length, and a gzip scrape hands over the store's own members, never copies."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from kubescope.state import exposition as ex
from kubescope.state.render import decode_object
from kubescope.state.store import ResourceStore
from tests.state.test_store_compressed_blocks import SPEC, cm, store


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def filled(n: int = 400) -> ResourceStore:
    s = store(block_size=8)
    for i in range(n):
        s.upsert(decode_object(SPEC, cm(i)))
    s.flush_sync()
    return s


async def test_a_plain_scrape_inflates_only_a_few_units_ahead_of_its_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ex, "PLAIN_UNIT", 1)  # one member per unit: many units
    snap = filled().snapshot()
    units = sum(1 for _ in ex._units([snap], False, False))
    assert units > 10 * ex.INFLATE_AHEAD
    pool = CountingExecutor()
    try:
        chunks = ex.scrape_chunks([snap], openmetrics=False, gz=False, executor=pool)
        first = await anext(chunks)
        assert first  # the reader stops here, holding the first unit
        assert pool.submitted == 1 + ex.INFLATE_AHEAD
        rest = [p async for c in chunks for p in c]
        assert pool.submitted == units
        gz = b"".join([p async for c in ex.scrape_chunks([snap], openmetrics=False, gz=True) for p in c])
        assert b"".join([*first, *rest]) == gzip.decompress(gz)
    finally:
        pool.shutdown()


async def test_plain_parts_are_the_members_texts_as_they_are() -> None:
    snap = filled().snapshot()
    members = [m for ms in snap.members for m in ms if m]
    parts = [p async for c in ex.scrape_chunks([snap], openmetrics=False, gz=False) for p in c]
    texts = [p for p in parts if not p.startswith(b"# HELP")]
    assert [len(t) for t in texts] == [ex.member_size(m) for m in members]
    assert texts == [gzip.decompress(m) for m in members]
    assert sum(map(len, parts)) == ex.body_length([snap], openmetrics=False, gz=False)


async def test_a_gzip_scrape_hands_over_the_stores_members_not_copies() -> None:
    snap = filled().snapshot()
    members = {id(m) for ms in snap.members for m in ms if m}
    parts = [p async for c in ex.scrape_chunks([snap], openmetrics=True, gz=True) for p in c]
    handed = [p for p in parts if id(p) in members]
    assert len(handed) == len(members)
    # the rest are the families' headers and the EOF marker, a few hundred bytes each
    assert all(len(p) < 1024 for p in parts if id(p) not in members)
    assert sum(map(len, parts)) == ex.body_length([snap], openmetrics=True, gz=True)
