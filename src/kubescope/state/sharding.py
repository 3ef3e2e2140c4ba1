"""Shard selection identical to kube-state-metrics: jump consistent hash of FNV-64a of the UID.

``keep(uid)`` is ``jump.Hash(fnv64a(uid), total) == shard`` (dgryski/go-jump), so a kubescope shard
holds exactly the objects the same KSM shard would (KSM's README says "md5 modulo"; its code does
this).
"""

from __future__ import annotations

from dataclasses import dataclass

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def fnv64a(data: bytes) -> int:
    h = _FNV_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK
    return h


def jump_hash(key: int, buckets: int) -> int:
    """Lamping & Veach's jump consistent hash, with go-jump's float arithmetic."""
    b = -1
    j = 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & _MASK
        j = int(float(b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


@dataclass(frozen=True)
class Sharding:
    """``--shard`` / ``--total-shards``."""

    shard: int = 0
    total: int = 1

    @property
    def enabled(self) -> bool:
        return self.total > 1

    def keep(self, uid: str) -> bool:
        if self.total <= 1:
            return True
        return jump_hash(fnv64a(uid.encode()), self.total) == self.shard
