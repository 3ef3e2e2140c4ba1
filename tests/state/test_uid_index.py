"""The store's uid index: exact answers whatever the uids' form or hashes, bounded under churn."""

from __future__ import annotations

import gc
import sys
import uuid

import pytest

from kubescope.state import uidindex
from kubescope.state.uidindex import UidIndex


def _uids(n: int, seed: int = 0) -> list[str]:
    return [
        str(uuid.UUID(int=(seed << 64) + i * 0x9E3779B97F4A7C15 % (1 << 64), version=4)) for i in range(n)
    ]


def test_add_get_pop_and_items() -> None:
    ix = UidIndex()
    uids = _uids(1000)
    for slot, u in enumerate(uids):
        ix.add(u, slot)
    assert len(ix) == 1000
    assert all(ix.get(u) == slot for slot, u in enumerate(uids))
    assert ix.get(_uids(1, seed=7)[0]) is None
    assert ix.pop(uids[3]) == 3
    assert ix.pop(uids[3]) is None
    assert uids[3] not in ix and uids[4] in ix
    assert sorted(ix.items()) == sorted((u, s) for s, u in enumerate(uids) if s != 3)


def test_uids_of_any_form_are_kept_apart() -> None:
    canonical = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    forms = [
        canonical,
        canonical.upper(),
        canonical.replace("-", ""),
        "x",
        "",
        "0a1b2c3d-4e5f-6789-abcd-ef012345678\u00e9",
    ]
    ix = UidIndex()
    for slot, u in enumerate(forms):
        ix.add(u, slot)
    assert [ix.get(u) for u in forms] == list(range(len(forms)))
    assert ix.pop(canonical.upper()) == 1
    assert [ix.get(u) for u in forms] == [0, None, 2, 3, 4, 5]
    assert sorted(s for _, s in ix.items()) == [0, 2, 3, 4, 5]


def test_hash_collisions_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    # every uid hashes alike: the first is in the table, the others must still be found exactly
    monkeypatch.setattr(uidindex, "hash", lambda s: 12345, raising=False)
    ix = UidIndex()
    uids = _uids(50)
    for slot, u in enumerate(uids):
        ix.add(u, slot)
    assert [ix.get(u) for u in uids] == list(range(50))
    assert ix.pop(uids[0]) == 0  # the one in the table
    assert ix.get(uids[0]) is None and ix.get(uids[1]) == 1
    ix.add(uids[0], 60)  # back, into the freed cell
    assert ix.pop(uids[7]) == 7
    assert [ix.get(u) for u in uids] == [60, *range(1, 7), None, *range(8, 50)]
    assert len(ix) == 49


def test_memory_stays_bounded_while_objects_keep_being_replaced() -> None:
    """Deleted entries leave tombstones in the C table: they must not pile up, nor may the index
    keep Python objects per entry."""
    ix = UidIndex()
    live = _uids(2000)
    for slot, u in enumerate(live):
        ix.add(u, slot)
    gc.collect()
    blocks = sys.getallocatedblocks()
    capacity = ix._map.capacity
    for round_ in range(1, 41):  # 80,000 objects replaced, 2,000 held at any time
        fresh = _uids(2000, seed=round_)
        for u, f in zip(live, fresh, strict=True):
            slot = ix.pop(u)
            assert slot is not None
            ix.add(f, slot)
        live = fresh
    assert len(ix) == 2000
    assert all(ix.get(u) is not None for u in live)
    assert ix._map.capacity <= 2 * capacity
    assert len(ix._map) <= 2000 * 3 // 2 + 64  # tombstones included
    gc.collect()
    assert sys.getallocatedblocks() - blocks < 200  # no Python object per entry


def test_items_give_back_each_uid_exactly() -> None:
    """Canonical UUIDs are kept as 16 bytes: only their exact spelling packs, and unpacks as itself."""
    canonical = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    forms = [
        canonical,
        "00000000-0000-0000-0000-000000000001",  # digits only
        "0A1b2c3d-4e5f-6789-abcd-ef0123456789",  # one capital
        "0a1b2c3d-4e5f-6789-abcd-ef01234567 9",  # a space (bytes.fromhex skips spaces)
        "0a1b2c3d-4e5f-6789-abcd-ef0123-56789",  # a fifth dash
        "0a1b2c3d-4e5f-6789-abcd-ef012345678g",  # not hex
        "0a1b2c3d4-e5f-6789-abcd-ef0123456789",  # a dash moved
    ]
    assert [uidindex.packed(u) is not None for u in forms] == [True, True] + [False] * 5
    ix = UidIndex()
    for slot, u in enumerate(forms):
        ix.add(u, slot)
    assert sorted(ix.items()) == sorted((u, s) for s, u in enumerate(forms))
    assert [ix.get(u) for u in forms] == list(range(len(forms)))
    assert ix.get(canonical.upper()) is None
