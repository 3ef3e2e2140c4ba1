"""Which slot of a store holds the object with a given uid, kept out of Python's object heap.

A store looks every update and delete up by the object's uid. A ``dict`` of uid keys would hold
two small Python objects per object (a key and a slot number: ~80 bytes at 1,000 nodes x 30 pods,
95,000 objects, 7.3 MiB), and worse, they are created during the initial sync amid millions of
short-lived ones (decoded objects, rendered texts): CPython's small-object allocator cannot return
a 1 MiB arena while one object in it lives, so those long-lived keys spread over every arena the
sync used and pinned them (62 arenas with ~30 MiB in use after a sync on an idle machine).

Here the index is a C hash table (``preshed``: 64-bit keys to 64-bit values, open addressing, no
Python object per entry) keyed by ``hash(uid)``, plus each slot's uid in one ``bytearray`` to tell a
hash collision from a match: the UUID's 16 bytes, not its 36 characters (82,862 objects at 1,000 x
30: 1.3 MiB instead of 3.0). Nothing per object lives in the small-object allocator; a uid that is not a
canonical UUID (the API server assigns those: lowercase hex digits, dashes at 8, 13, 18 and 23) or
whose hash another uid took goes to a small ``dict`` instead.

``preshed`` keeps a deleted entry as a tombstone (its length counts them, and only a growth drops
them), so an index whose objects keep being replaced would grow without bound: this class
rebuilds the table once tombstones outnumber half the live entries. preshed also turns an empty
cell into a tombstone when asked to delete a key it does not hold: it is only asked to delete keys
it holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from preshed.maps import PreshMap

UID_BYTES = 16
"""A canonical UUID's bytes, what its slot's row keeps (:func:`packed`)."""

_MASK = (1 << 64) - 1


def packed(uid: str) -> bytes | None:
    """A canonical UUID's 16 bytes; None for any other form (the index keeps those in a dict). Exact
    both ways: :func:`unpacked` gives back the same string."""
    if len(uid) != 36 or uid[8] != "-" or uid[13] != "-" or uid[18] != "-" or uid[23] != "-":
        return None
    try:
        data = bytes.fromhex(uid.replace("-", ""))
    except ValueError:  # not hex digits (fromhex skips spaces: the length below catches those)
        return None
    # 16 bytes: the 32 other characters are all hex digits; lowercase: no other spelling matches
    return data if len(data) == UID_BYTES and uid == uid.lower() else None


def _holds(uids: bytearray, slot: int, uid: str) -> bool:
    """Whether ``slot``'s row holds ``uid`` (what :func:`packed` gives; 2.5x faster than calling it)."""
    at = slot * UID_BYTES
    return (
        uids[at : at + UID_BYTES].hex() == uid.replace("-", "")  # hex() is lowercase
        and len(uid) == 36
        and uid[8] == uid[13] == uid[18] == uid[23] == "-"
    )


def unpacked(data: bytes | bytearray) -> str:
    h = data.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class UidIndex:
    """uid -> slot number (a store's ``block * block_size + slot``), for one store."""

    __slots__ = ("_live", "_map", "_other", "_uids")

    def __init__(self) -> None:
        self._map = PreshMap()
        self._live = 0  # entries of _map (its len counts tombstones too)
        # slot * UID_BYTES: the packed uid of the object in that slot, when _map holds it
        self._uids = bytearray()
        # uids not kept in _map: not canonical UUIDs, or their hash was taken
        self._other: dict[str, int] = {}

    def __len__(self) -> int:
        return self._live + len(self._other)

    def __contains__(self, uid: str) -> bool:
        return self.get(uid) is not None

    def get(self, uid: str) -> int | None:
        """The slot of ``uid``, or None."""
        slot = self._map[hash(uid) & _MASK]
        if slot is not None and _holds(self._uids, slot, uid):
            return slot  # type: ignore[no-any-return]
        return self._other.get(uid) if self._other else None

    def add(self, uid: str, slot: int) -> None:
        """Index ``uid`` (not held) at ``slot``."""
        key = hash(uid) & _MASK
        data = packed(uid)
        if data is None or key in self._map:
            self._other[uid] = slot
            return
        at = slot * UID_BYTES
        if len(self._uids) < at + UID_BYTES:
            # room up to this slot (slots are handed out in ascending order; bytearray's own
            # growth, an eighth more, keeps this amortized without doubling the row's size)
            self._uids.extend(bytes(at + UID_BYTES - len(self._uids)))
        self._uids[at : at + UID_BYTES] = data
        self._map[key] = slot
        self._live += 1

    def pop(self, uid: str) -> int | None:
        """Remove ``uid``; its slot, or None if it was not held."""
        key = hash(uid) & _MASK
        slot = self._map[key]
        if slot is not None and _holds(self._uids, slot, uid):
            del self._map[key]  # held: preshed leaves a tombstone
            self._live -= 1
            if len(self._map) - self._live > self._live // 2 + 64:
                self._rebuild()
            return slot  # type: ignore[no-any-return]
        return self._other.pop(uid, None) if self._other else None

    def items(self) -> Iterator[tuple[str, int]]:
        """Every (uid, slot)."""
        uids = self._uids
        for slot in list(self._map.values()):
            at = slot * UID_BYTES
            yield unpacked(uids[at : at + UID_BYTES]), slot
        yield from list(self._other.items())

    def _rebuild(self) -> None:
        """A table without tombstones, at most half full."""
        size = 8
        while size < 2 * self._live:
            size *= 2
        fresh = PreshMap(size)
        for key, slot in self._map.items():
            fresh[key] = slot
        self._map = fresh
