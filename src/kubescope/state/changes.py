"""Which of an updated object's families can have new text: fingerprints of the fields they read.

An update of a pod usually changes a few fields (a container's readiness and restart count, a
condition) and leaves the rest as it was; rendering all 59 pod families for it spends most of the
work on text that cannot have changed. Each family declares the fields it reads
(:attr:`~kubescope.state.family.Family.reads`); :class:`ChangeDetector` partitions those fields
into a few *buckets* and fingerprints each bucket of an object (its fields encoded to JSON by
msgspec in one C call, then hashed): an update re-renders only the families reading a bucket whose
fingerprint changed (:meth:`~kubescope.state.render.ObjectRenderer.only`), and nothing at all when
none did (a resync, a change of a field no family reads, such as ``managedFields``).

Buckets: the read fields grouped by their top-level field (``metadata``, ``spec``, ``status``),
except that a field read by many families (a pod's ``status.container_statuses``, its
``status.conditions``) gets a bucket of its own. Finer buckets would cost a fingerprint each on
every update, coarser ones re-render more: measured on pods at 1,000 x 30, six buckets cost ~5 us
per update where the whole render costs ~65 us (render, join, hashes).

A fingerprint is 64 bits (Python's ``hash`` of the encoded bytes), as the store's per-family text
hashes; 0 marks "not known" (a new object, a reused slot): the object is rendered whole, so a real
fingerprint of 0 only costs one full render.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from itertools import compress
from operator import attrgetter, ne
from typing import Any

import msgspec

from kubescope.state.family import Family
from kubescope.state.render import ObjectRenderer, TextsFn

OWN_BUCKET_READERS = 5
"""A field read by at least this many families is fingerprinted on its own."""


def buckets_of(families: Sequence[Family], own: int = OWN_BUCKET_READERS) -> list[tuple[str, ...]]:
    """The read fields of ``families`` partitioned into buckets (see the module docstring), in a
    stable order. Empty when some family does not declare what it reads (then every update renders
    every family)."""
    readers: dict[str, int] = {}
    for fam in families:
        if fam.reads is None:
            return []
        for path in fam.reads:
            readers[path] = readers.get(path, 0) + 1
    own_paths = sorted(p for p, n in readers.items() if n >= own)
    rest: dict[str, list[str]] = {}
    for path in sorted(readers):
        if path not in own_paths:
            rest.setdefault(path.partition(".")[0], []).append(path)
    return [(p,) for p in own_paths] + [tuple(ps) for _, ps in sorted(rest.items())]


def _getter(bucket: Sequence[str]) -> tuple[Callable[[Any], Any], Callable[[Any], Any] | None]:
    """C-level getters of a bucket's fields (:attr:`Family.reads` are dotted attribute paths):
    ``get(obj)``, or ``sub(get(obj))`` when ``sub`` is not None; either gives the same value.

    The paths of a bucket share their top-level field; fetched once, then its attributes, that is
    half the lookups of one ``attrgetter`` of the dotted paths (for the 13 fields of a pod's spec
    0.6 us of the 2.7 us its fingerprint takes).
    """
    heads = {p.partition(".")[0] for p in bucket}
    if len(heads) == 1 and all("." in p for p in bucket):
        return attrgetter(heads.pop()), attrgetter(*(p.partition(".")[2] for p in bucket))
    return attrgetter(*bucket), None


class ChangeDetector:
    """Fingerprints of an object's read fields, and the renderer of the families an update changes.

    ``prints(obj)`` gives one fingerprint per bucket (None when the object cannot be fingerprinted:
    render it whole); ``renderer(old, new)`` the positions of the families to render and the
    function rendering them, or None when no bucket changed.
    """

    __slots__ = ("_bits", "_by_mask", "_encode", "_getters", "buckets", "renderer", "width")

    def __init__(self, renderer: ObjectRenderer, buckets: Sequence[tuple[str, ...]]) -> None:
        self.renderer = renderer
        self.buckets = tuple(buckets)
        self.width = len(self.buckets)
        self._getters = [_getter(b) for b in self.buckets]
        self._encode = msgspec.json.Encoder().encode
        self._by_mask: dict[int, tuple[tuple[int, ...], TextsFn]] = {}
        self._bits = [1 << k for k in range(self.width)]

    @classmethod
    def for_families(cls, renderer: ObjectRenderer) -> ChangeDetector | None:
        """A detector for ``renderer``'s families, or None if they leave nothing to skip."""
        buckets = buckets_of(renderer.families)
        if len(buckets) < 2:
            return None  # one bucket: any change re-renders everything anyway
        return cls(renderer, buckets)

    def prints(self, obj: Any) -> array[int] | None:
        encode = self._encode
        try:
            return array(
                "q", [hash(encode(get(obj) if sub is None else sub(get(obj)))) for get, sub in self._getters]
            )
        except (AttributeError, TypeError, msgspec.EncodeError):
            return None  # a field missing or not encodable: render the object whole

    def changed(self, old: array[int], new: array[int]) -> tuple[tuple[int, ...], TextsFn] | None:
        """The families to render given the old and new fingerprints (None: nothing changed)."""
        # the bits of the buckets whose fingerprint differs, summed in C
        mask = sum(compress(self._bits, map(ne, old, new)))
        if not mask:
            return None
        got = self._by_mask.get(mask)
        if got is None:
            paths = [p for k, b in enumerate(self.buckets) if mask >> k & 1 for p in b]
            got = self._by_mask[mask] = self.renderer.only(paths)
        return got
