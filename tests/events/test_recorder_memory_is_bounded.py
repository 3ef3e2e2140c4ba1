"""The recorder's memory does not grow with the archive: what it keeps between batches (the caches
of interned strings, objects and uids) is bounded, so writing three times as many events about
three times as many objects retains no more than writing the first third did; and a flood of
events is held back at the buffer's bound (tests/events/test_recorder_loses_and_duplicates_nothing.py
checks that bound while the database is down)."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from kubescope.events import interning
from kubescope.events.store import EventStore
from tests.events.conftest import record

BATCH = 500


def _write(store: EventStore, first: int, batches: int) -> None:
    for b in range(first, first + batches):
        # every event about an object never seen before: what a large, busy cluster looks like to
        # a recorder that has run for weeks
        recs = [record(name=f"app-{b}-{i}", ns=f"ns-{i % 50}") for i in range(BATCH)]
        store.write(recs, "s", b + 1)


def _held() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_what_the_store_keeps_between_batches_is_bounded(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interning, "OBJECTS_LIMIT", 2000)  # the real bound, reached sooner
    interning._object_uid_bytes.cache_clear()
    store = EventStore(str(tmp_path) + "/events.db")  # type: ignore[operator]
    tracemalloc.start()
    try:
        _write(store, 0, 12)  # 6,000 objects: every cache at its bound
        warm = _held()
        _write(store, 100, 24)  # 12,000 more
        grown = _held() - warm
    finally:
        tracemalloc.stop()
        store.close()
    # the memory kept after 12,000 more objects is what was kept after the first 6,000 (caches
    # that grew with the archive kept ~500 bytes per object: ~6 MiB here)
    assert grown < 1 << 20, f"{grown / 2**20:.2f} MiB more retained after 12,000 more objects"
    assert len(store.interner.objects) <= 2000 + BATCH, len(store.interner.objects)
    assert len(store.interner.strings) <= interning.STRINGS_LIMIT, len(store.interner.strings)
    cached = interning._object_uid_bytes.cache_info().currsize
    assert cached <= 4096, cached
