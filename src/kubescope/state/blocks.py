"""The blocks of a metrics store and the text parked in them before a flush.

A :class:`Block` holds up to ``size`` objects of one resource as one gzip member per family (see
:mod:`kubescope.state.store` for the design); :class:`Rendered` is one object's new text waiting
for the flusher, :class:`FreshRun` the texts of a list page's new objects in consecutive slots of a
block never flushed. The gzip codecs are here too (ISA-L for the members a flush writes, libdeflate
for the denser ones that replace them once their text stops changing): :mod:`kubescope.state.flush`
builds the members, the exposition sends them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from itertools import accumulate

# libdeflate (the ``deflate`` package) for the dense members: measured on this store's own text at
# 1,000 nodes x 30 pods (254 MiB in 10,187 members; CPU seconds to compress / to inflate with ISA-L):
# ISA-L level 1 40.31 MiB (0.25 / 0.16 s), ISA-L 3 40.32 (0.53), zlib 9 39.58 (3.23 / 0.38),
# libdeflate 6 37.44 (0.82 / 0.17), 8 36.96 (1.90 / 0.16), 9 36.95 (2.18), 12 36.21 (62). Half of
# the compressed bytes are the objects' uids (random hex, once in every family's member of the
# object's block: 23.7 bytes per uid and member at ISA-L level 1), which no level takes below their
# 16 bytes of entropy; libdeflate's more careful matching and Huffman codes save 8 % in all.
import deflate

# ISA-L's deflate rather than zlib's: measured on this store's own text (245 MB of pod metrics in
# 11,000 per-family block members), its level 1 compresses 7.5x faster than zlib's level 1 (0.30
# vs 2.24 s) into smaller members (38.1 vs 42.0 MB), and inflates them 5x faster (0.2 vs 1.1 s).
# The members are ordinary gzip (RFC 1952): any gzip reader, Prometheus' included, reads them.
from isal import isal_zlib

DEFAULT_LEVEL = 1
DENSE_LEVEL = 8
"""libdeflate's level for :func:`dense_member` (9 is no smaller, 10-12 take 4-33x the CPU)."""


def gzip_member(data: bytes | memoryview, level: int = DEFAULT_LEVEL) -> bytes:
    """One complete gzip member of ``data`` (empty data -> no member at all); ``level`` is ISA-L's,
    0 to 3."""
    if not data:
        return b""
    # one call: one release of the GIL (each re-acquisition may wait out the event loop's slice)
    return isal_zlib.compress(data, level, wbits=31)


def dense_member(data: bytes | memoryview) -> bytes:
    """One gzip member of ``data`` at libdeflate's :data:`DENSE_LEVEL`: ~8 % smaller than
    :func:`gzip_member`'s for 7.5x its CPU (the GIL released throughout), for text that stopped
    changing (see :class:`kubescope.state.flusher.Flusher`)."""
    if not data:
        return b""
    return bytes(deflate.gzip_compress(data, DENSE_LEVEL))


def inflate(member: bytes) -> bytes:
    """The text of one gzip member."""
    if not member:
        return b""
    return isal_zlib.decompress(member, 31)


class Block:
    """Up to ``size`` objects of one resource: one gzip member per family.

    ``lens`` holds, row-major (``row * size + slot``), the byte length of every slot's text in a
    family: one array per block rather than one per family, since each long-lived small Python
    object allocated amid a sync's churn can pin a whole allocator arena. ``rows[f]`` is family
    ``f``'s row, or -1 while no slot of the block has text in ``f`` (its lengths all 0): at 1,000
    nodes x 30 pods a quarter of the (block, family) rows are such. Only a flush reads the
    lengths, so the block keeps them deflated (``packed``, items of type ``code``): 2.49 MiB of
    lengths take 0.60 at 1,000 nodes x 30 pods, for ~10 µs per block flushed.

    No per-slot hash of the text is kept: which families an update can change is known from its
    input (:mod:`kubescope.state.changes`), and whether their text did change is found by
    comparing it with the old text in the flush, which inflates the member anyway to splice it. A
    64-bit hash per (object, family) took 12.3 MiB at 1,000 nodes x 30 pods.
    """

    __slots__ = (
        "code",
        "fresh",
        "loose",
        "members",
        "opened",
        "packed",
        "pending",
        "prints",
        "recent",
        "recent_long",
        "rewritten",
        "ripe",
        "rows",
        "size",
    )

    def __init__(self, size: int, nfam: int) -> None:
        self.size = size
        self.members: list[bytes] = [b""] * nfam
        self.rows: array[int] = array("h", [-1]) * nfam
        # 16-bit lengths until a text needs more (see flush_block)
        self.code = "H"
        self.packed = b""
        # slot -> the slot's new text, or None when its object was deleted
        self.pending: dict[int, Rendered | None] = {}
        # runs of new objects rendered family by family (see ResourceStore.upsert_page); only
        # while the block was never taken for a flush and has nothing pending
        self.fresh: list[FreshRun] | tuple[()] = ()
        self.opened = False
        # per slot, the fingerprints of its object's read fields (kubescope.state.changes), slot-
        # major; made at the first update of one of the block's objects, 0 while not known
        self.prints: array[int] | None = None
        # bit masks of families, for the densifier (ResourceStore.age, take_ripe): members a flush
        # wrote at the fast level, those written since the last period began (and since the last
        # long period began), those written again after they were made dense (they wait for a
        # long period), those not written for their whole period (to be made dense)
        self.loose = 0
        self.recent = 0
        self.recent_long = 0
        self.rewritten = 0
        self.ripe = 0

    @property
    def lens(self) -> array[int]:
        """The lengths (a copy)."""
        return array(self.code, unpack(self.packed))

    def compressed_bytes(self) -> int:
        return sum(len(m) for m in self.members)


def pack(data: bytes) -> bytes:
    """``data`` deflated (raw, ISA-L's fastest level): a block's lengths, kept packed."""
    return isal_zlib.compress(data, 1, wbits=-15) if data else b""


def unpack(packed: bytes) -> bytes:
    return isal_zlib.decompress(packed, -15) if packed else b""


def _utf8_lens(texts: Sequence[str], joined: str, data: bytes) -> Iterable[int]:
    """The UTF-8 byte lengths of ``texts``, given their join and its encoding."""
    if len(data) == len(joined):  # ASCII: characters are bytes
        return map(len, texts)
    return [len(t.encode()) for t in texts]


class Rendered:
    """One object's text for every family, or for the families ``fams`` (positions, ascending) of
    an update that can only have changed those (see :mod:`kubescope.state.changes`): one UTF-8
    buffer plus the families' byte offsets in it.

    One bytes object (allocated by malloc, not the small-object allocator) instead of a string per
    family keeps pending changes cheap to hold and free.
    """

    __slots__ = ("data", "fams", "meta")

    def __init__(self, texts: Sequence[str], fams: tuple[int, ...] | None = None) -> None:
        joined = "".join(texts)
        self.data = data = joined.encode()
        self.fams = fams
        # the n+1 byte offsets of the families' texts in data
        self.meta = array("q", accumulate(_utf8_lens(texts, joined, data), initial=0))

    def __len__(self) -> int:
        return len(self.data)

    def parts(self, nfam: int) -> dict[int, bytes]:
        """Family position -> its text."""
        m, data = self.meta, self.data
        fams = range(nfam) if self.fams is None else self.fams
        return {f: data[m[i] : m[i + 1]] for i, f in enumerate(fams)}

    def over(self, older: Rendered, nfam: int) -> Rendered:
        """This partial text laid over ``older`` (not flushed yet): the families either has."""
        if self.fams is None or self.fams == older.fams:
            return self  # it has every family the older one has
        merged = older.parts(nfam)
        merged.update(self.parts(nfam))
        fams = tuple(sorted(merged))
        out = Rendered.__new__(Rendered)
        out.data = b"".join([merged[f] for f in fams])
        out.fams = None if len(fams) == nfam else fams
        meta = array("q", [0])
        meta.extend(accumulate([len(merged[f]) for f in fams]))
        out.meta = meta
        return out


class FreshRun:
    """New objects in the consecutive slots ``first ..`` of a block that has no text yet, rendered
    family by family: per family, their joined UTF-8 text with its per-slot byte lengths (None for
    a family without text).

    A list page's new objects become runs: the per-family text is joined once for the run on the
    event loop (C-level joins and maps), where a :class:`Rendered` per object would be split
    again per (object, family) pair in the flusher.
    """

    __slots__ = ("count", "families", "first", "nbytes")

    def __init__(self, first: int, columns: Sequence[Sequence[str]]) -> None:
        self.first = first
        self.count = len(columns[0]) if columns else 0
        fams: list[tuple[bytes, array[int]] | None] = []
        nbytes = 0
        for col in columns:
            joined = "".join(col)
            if not joined:
                fams.append(None)
                continue
            data = joined.encode()
            fams.append((data, array("I", _utf8_lens(col, joined, data))))
            nbytes += len(data)
        self.families = fams
        self.nbytes = nbytes
