"""Shards are chosen as kube-state-metrics chooses them: jump hash (go-jump) of FNV-64a of the UID."""

from __future__ import annotations

import pytest

from kubescope.state.sharding import Sharding, fnv64a, jump_hash

# the reference C++ implementation's outputs, as go-jump's tests list them: Hash(key, n) for n = 1..
JUMP_VECTORS = {
    0: [0] * 20,
    1: [0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17],
    0xDEADBEEF: [0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16],
    0x0DDC0FFEEBADF00D: [0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15],
}


@pytest.mark.parametrize("key", list(JUMP_VECTORS))
def test_jump_hash_matches_the_reference(key: int) -> None:
    assert [jump_hash(key, n) for n in range(1, len(JUMP_VECTORS[key]) + 1)] == JUMP_VECTORS[key]


def test_fnv64a_standard_vectors() -> None:
    assert fnv64a(b"") == 0xCBF29CE484222325
    assert fnv64a(b"a") == 0xAF63DC4C8601EC8C
    assert fnv64a(b"foobar") == 0x85944171F73967E8


def test_ksm_own_case_lands_in_shard_zero_of_two() -> None:
    # kube-state-metrics pkg/sharding TestSharding: UID "test_uid", 2 shards -> shard 0 keeps it
    assert Sharding(0, 2).keep("test_uid") and not Sharding(1, 2).keep("test_uid")


@pytest.mark.parametrize("total", [2, 3, 5, 8])
def test_every_uid_lands_in_exactly_one_shard(total: int) -> None:
    uids = [f"5b1c7c1e-{i:04x}-4000-8000-{i * 7919:012x}" for i in range(2000)]
    owners = [[s for s in range(total) if Sharding(s, total).keep(u)] for u in uids]
    assert all(len(o) == 1 for o in owners)
    counts = [sum(1 for o in owners if o[0] == s) for s in range(total)]
    assert min(counts) > 0.8 * len(uids) / total  # jump hash spreads evenly


def test_one_shard_keeps_everything() -> None:
    assert Sharding(0, 1).keep("anything") and not Sharding(0, 1).enabled
