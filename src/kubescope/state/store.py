"""The metrics store: rendered text of every object, kept gzip-compressed in blocks.

kube-state-metrics keeps each object's rendered text uncompressed (``map[uid][][]byte``) and gzips
the whole body on every scrape. At 30,000 pods that text is about 280 MB, and gzipping it costs
seconds per scrape. Here the text lives compressed, which is both leaner and faster to serve:

* Objects of one resource are assigned to *blocks* of up to ``block_size`` slots. For every family,
  a block holds one **gzip member** with the concatenated lines of its objects for that family,
  plus the per-slot byte lengths (to splice one object's lines).
* An update renders the object (pure, :class:`kubescope.state.render.ObjectRenderer`), or only
  the families reading fields that changed (:mod:`kubescope.state.changes`), and parks the new
  text in the block's ``pending`` map. A flusher thread later rewrites only the changed
  (block, family) members: inflate, compare the slots' old and new text, splice, deflate. The
  codec releases the GIL, so this runs beside the event loop on the second core.
* A gzip scrape is the concatenation of members (RFC 1952 allows a gzip stream of several members;
  Go's ``gzip.Reader``, which Prometheus uses, reads them all), sent without recompressing. A plain
  scrape inflates the members one by one while streaming, so it never holds the whole body.

Consistency: a scrape first flushes what is pending, then takes a snapshot of immutable member
references. Later updates build new members; the snapshot keeps streaming the old ones. A relist
(:meth:`ResourceStore.replace_begin`/``replace_end``) upserts every listed object and only then drops
those not seen, so a scrape never sees a half-cleared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import or_, sub
from typing import Any

# ISA-L's deflate rather than zlib's: measured on this store's own text (245 MB of pod metrics in
# 11,000 per-family block members), its level 1 compresses 7.5x faster than zlib's level 1 (0.30
# vs 2.24 s) into smaller members (38.1 vs 42.0 MB), and inflates them 5x faster (0.2 vs 1.1 s).
# The members are ordinary gzip (RFC 1952): any gzip reader, Prometheus' included, reads them.
from isal import isal_zlib

from kubescope.log import fields
from kubescope.memory import Trimmer
from kubescope.state.changes import ChangeDetector
from kubescope.state.family import Family, ResourceSpec
from kubescope.state.render import ObjectRenderer, TextsFn
from kubescope.state.sharding import Sharding

logger = logging.getLogger(__name__)

DEFAULT_BLOCK_SIZE = 128
DEFAULT_LEVEL = 1


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").fullmatch


def uid_key(uid: str, _canonical: Callable[[str], Any] = _CANONICAL_UUID) -> int | str:
    """``uid`` as a key of a store's index: a canonical (lowercase, dashed) UUID, which is what the
    API server assigns, as its 128-bit int; anything else as it is (ints and strs never compare
    equal, so the two kinds cannot collide).

    The index holds one key per object: a 128-bit int takes 48 bytes of the small-object allocator
    where the 36-character str takes 96 (at 1,000 nodes x 30 pods, 83,000 keys: 3.8 MiB). One
    compiled match decides (every update pays it: 2.4x faster than checking the dashes and
    characters in Python).
    """
    if _canonical(uid) is not None:
        return int(uid.replace("-", ""), 16)
    return uid


def gzip_member(data: bytes | memoryview, level: int = DEFAULT_LEVEL) -> bytes:
    """One complete gzip member of ``data`` (empty data -> no member at all); ``level`` is ISA-L's,
    0 to 3."""
    if not data:
        return b""
    # one call: one release of the GIL (each re-acquisition may wait out the event loop's slice)
    return isal_zlib.compress(data, level, wbits=31)


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
    nodes x 30 pods a quarter of the (block, family) rows are such.

    No per-slot hash of the text is kept: which families an update can change is known from its
    input (:mod:`kubescope.state.changes`), and whether their text did change is found by
    comparing it with the old text in the flush, which inflates the member anyway to splice it. A
    64-bit hash per (object, family) took 12.3 MiB at 1,000 nodes x 30 pods.
    """

    __slots__ = ("fresh", "lens", "members", "opened", "pending", "prints", "rows", "size")

    def __init__(self, size: int, nfam: int) -> None:
        self.size = size
        self.members: list[bytes] = [b""] * nfam
        self.rows: array[int] = array("h", [-1]) * nfam
        # 16-bit lengths until a text needs more (see _flush_block)
        self.lens: array[int] = array("H")
        # slot -> the slot's new text, or None when its object was deleted
        self.pending: dict[int, Rendered | None] = {}
        # runs of new objects rendered family by family (see ResourceStore.upsert_page); only
        # while the block was never taken for a flush and has nothing pending
        self.fresh: list[FreshRun] | tuple[()] = ()
        self.opened = False
        # per slot, the fingerprints of its object's read fields (kubescope.state.changes), slot-
        # major; made at the first update of one of the block's objects, 0 while not known
        self.prints: array[int] | None = None

    def compressed_bytes(self) -> int:
        return sum(len(m) for m in self.members)


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
        self.data = joined.encode()
        self.fams = fams
        # the n+1 byte offsets of the families' texts in data
        meta = array("q", [0])
        meta.extend(accumulate(_utf8_lens(texts, joined, self.data)))
        self.meta = meta

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


@dataclass
class FlushResult:
    block: Block
    flushed: dict[int, Rendered | None]
    members: list[tuple[int, bytes]]
    rows: array[int]
    lens: array[int]
    raw_bytes: int


def _first(item: tuple[int, Any]) -> int:
    return item[0]


def _flush_block(
    block: Block,
    pending: dict[int, Rendered | None],
    fresh: Sequence[FreshRun],
    nfam: int,
    level: int,
) -> FlushResult:
    """Rebuild the members of ``block`` that ``fresh`` runs (first) and ``pending`` changes (then)
    make. Pure apart from reading ``block``.

    Runs in the flusher thread: it only reads the block's current members/lens (which only the
    event loop replaces, after this returns) and returns the new ones.
    """
    out: dict[int, bytes] = {}
    raw = 0
    size = block.size
    code = block.lens.typecode
    if code == "H" and (
        any(r is not None and len(r) > 0xFFFF for r in pending.values())
        or any(fam is not None and max(fam[1]) > 0xFFFF for run in fresh for fam in run.families)
    ):
        code = "I"  # one object's text may not fit 16 bits: widen this block for good
    lens = _expand(block, nfam, code)
    members = block.members
    if fresh:
        # the block had no text: each family's member is its runs' texts, in slot order
        members = list(members)
        for f in range(nfam):
            base = f * size
            datas = []
            for run in fresh:
                fam = run.families[f]
                if fam is None:
                    continue
                data, ls = fam
                at = base + run.first
                lens[at : at + run.count] = ls if code == "I" else array(code, ls)
                datas.append(data)
            if datas:
                data = b"".join(datas)
                raw += len(data)
                members[f] = out[f] = gzip_member(data, level)
    # per family, the slots whose text may have changed: the families a pending text has (all of
    # them unless it is partial) where the old or the new text is not empty, found per slot with
    # C-level maps over the slot's lengths of every family (one strided slice)
    by_family: dict[int, list[tuple[int, memoryview | bytes]]] = {}
    fams = range(nfam)
    for slot, r in sorted(pending.items(), key=_first):
        old_lens = lens[slot::size]
        if r is None:
            for f in compress(fams, old_lens):
                by_family.setdefault(f, []).append((slot, b""))
            continue
        m = r.meta
        mv = memoryview(r.data)
        if r.fams is not None:  # a partial text: only these families were rendered
            for i, f in enumerate(r.fams):
                if m[i + 1] > m[i] or old_lens[f]:
                    by_family.setdefault(f, []).append((slot, mv[m[i] : m[i + 1]]))
            continue
        new_lens = map(sub, m[1:], m[:-1])
        for f in compress(fams, map(or_, new_lens, old_lens)):
            by_family.setdefault(f, []).append((slot, mv[m[f] : m[f + 1]]))
    for f, maybe in by_family.items():
        base = f * size
        if not members[f]:
            # nothing there yet (every length is 0): the member is the new texts in slot order
            for slot, text in maybe:
                lens[base + slot] = len(text)
            data = b"".join([text for _, text in maybe])
            raw += len(data)
            out[f] = gzip_member(data, level)
            continue
        old = memoryview(inflate(members[f]))
        row = lens[base : base + size]
        ends = list(accumulate(row))
        # the texts that did change (same length and bytes: unchanged)
        changed = [
            (slot, text)
            for slot, text in maybe
            if len(text) != row[slot] or old[ends[slot] - row[slot] : ends[slot]] != text
        ]
        if not changed:
            continue
        # the old text between changed slots is kept as it is; changed slots get their new text
        parts: list[bytes | memoryview] = []
        pos = 0
        for slot, text in changed:
            start = ends[slot] - row[slot]
            if start > pos:
                parts.append(old[pos:start])
            if len(text):
                parts.append(text)
            pos = ends[slot]
            lens[base + slot] = len(text)
        if pos < ends[-1]:
            parts.append(old[pos:])
        data = b"".join(parts)
        raw += len(data)
        out[f] = gzip_member(data, level)
    rows, lens = _compact(lens, nfam, size)
    return FlushResult(block, pending, list(out.items()), rows, lens, raw)


def _expand(block: Block, nfam: int, code: str) -> array[int]:
    """A copy of ``block``'s lengths (of type ``code``) with a row for every family."""
    size = block.size
    lens = array(code, bytes(array(code).itemsize * size * nfam))
    old_lens = block.lens if block.lens.typecode == code else array(code, block.lens)
    for f, r in enumerate(block.rows):
        if r >= 0:
            lens[f * size : (f + 1) * size] = old_lens[r * size : (r + 1) * size]
    return lens


def _compact(lens: array[int], nfam: int, size: int) -> tuple[array[int], array[int]]:
    """Rows and lengths without the rows of families with no text in any slot."""
    lb = lens.tobytes()
    ln = lens.itemsize * size
    zero = bytes(ln)
    rows = array("h", [-1]) * nfam
    kept = [f for f in range(nfam) if lb[f * ln : (f + 1) * ln] != zero]
    for r, f in enumerate(kept):
        rows[f] = r
    return rows, array(lens.typecode, b"".join([lb[f * ln : (f + 1) * ln] for f in kept]))


FlushWork = tuple[Block, dict[int, Rendered | None], Sequence[FreshRun]]
"""A block with the pending changes and fresh runs detached from it for one flush."""


@dataclass
class StoreStats:
    """Counters for self metrics (read by the telemetry server)."""

    upserts: int = 0
    deletes: int = 0
    render_errors: int = 0
    flushes: int = 0
    flushed_raw_bytes: int = 0
    dropped_by_shard: int = 0


@dataclass(frozen=True)
class Snapshot:
    """An immutable view of one resource for one scrape: per family, its gzip members."""

    spec: ResourceSpec
    families: Sequence[Family]
    members: list[list[bytes]]
    objects: int


class ResourceStore:
    """Rendered, compressed metric text for one resource; a reflector sink.

    Implements the reflector's sink protocol (``replace_begin``, ``upsert``, ``delete``,
    ``replace_end``). Call :meth:`flush` (or let :class:`Flusher` do it) to fold pending changes
    into the compressed blocks; :meth:`snapshot` for a scrape.
    """

    def __init__(
        self,
        spec: ResourceSpec,
        families: Sequence[Family],
        *,
        sharding: Sharding | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        level: int = DEFAULT_LEVEL,
        on_dirty: Callable[[], None] | None = None,
    ) -> None:
        self.spec = spec
        self.families = list(families)
        self.nfam = len(self.families)
        self.sharding = sharding or Sharding()
        self.block_size = block_size
        self.level = level
        self.stats = StoreStats()
        # uid key (see uid_key) -> block number * block_size + slot (an int is half a tuple's size,
        # and this map holds one entry per object)
        self.slot_of: dict[int | str, int] = {}
        self.blocks: list[Block] = []
        self._free: list[int] = []
        self.dirty: set[Block] = set()
        self.pending_bytes = 0
        self._listed: set[int | str] | None = None
        self._on_dirty = on_dirty
        renderer = ObjectRenderer(self.families)
        self._texts = renderer.texts
        self._identity = spec.identity
        self._changes = ChangeDetector.for_families(renderer)

    # -- the reflector sink protocol --------------------------------------------------------

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, obj: Any) -> None:
        uid: str = obj.metadata.uid
        if not self.sharding.keep(uid):
            self.stats.dropped_by_shard += 1
            return
        key = uid_key(uid)
        loc = self.slot_of.get(key)
        if loc is not None and self._changes is not None:
            self._update(key, loc, obj)
            return
        rendered = self._render(obj)
        if rendered is None:
            return
        if self._listed is not None:
            self._listed.add(key)
        if loc is None:
            loc = self._allocate(key)
        self._park(loc, rendered)

    def _park(self, loc: int, rendered: Rendered) -> None:
        """Hold ``rendered`` as the pending text of slot ``loc`` for the flusher."""
        block = self.blocks[loc // self.block_size]
        slot = loc % self.block_size
        if rendered.fams is not None:
            older = block.pending.get(slot)
            if older is not None:  # not flushed yet: keep its other families' texts
                rendered = rendered.over(older, self.nfam)
        block.pending[slot] = rendered
        self.pending_bytes += len(rendered)
        self.stats.upserts += 1
        self._mark(block)

    def _update(self, key: int | str, loc: int, obj: Any) -> None:
        """Upsert an object the store holds: render only the families reading fields whose
        fingerprint changed (all of them the first time: the fingerprints are not known yet)."""
        changes = self._changes
        assert changes is not None
        if self._listed is not None:
            self._listed.add(key)
        block = self.blocks[loc // self.block_size]
        width = changes.width
        at = (loc % self.block_size) * width
        prints = block.prints
        if prints is None:
            prints = block.prints = array("q", bytes(8 * width * self.block_size))
        new = changes.prints(obj)
        old = prints[at : at + width]
        if new is None or not old[0]:
            rendered = self._render(obj)
        else:
            which = changes.changed(old, new)
            if which is None:  # nothing any family reads changed
                self.stats.upserts += 1
                return
            rendered = self._render(obj, which)
        if rendered is None:
            return
        # unknown (0) when the object could not be fingerprinted: its next update renders whole
        prints[at : at + width] = new if new is not None else array("q", bytes(8 * width))
        self._park(loc, rendered)

    def upsert_page(self, objs: Sequence[Any]) -> None:
        """Upsert the items of a list page (what :meth:`upsert` does for each, faster).

        Objects new to the store that land in consecutive slots of a block never flushed (an
        initial list's, nearly all) become one :class:`FreshRun` per block (their texts joined per
        family); the others go through :meth:`upsert`. A render error falls back to :meth:`upsert`
        for the page's new objects, which counts and skips just the bad ones.
        """
        new: dict[int | str, Any] = {}
        again: list[Any] = []  # a uid listed twice, or already in the store
        keep = self.sharding.keep
        slot_of = self.slot_of
        for obj in objs:
            uid: str = obj.metadata.uid
            if not keep(uid):
                self.stats.dropped_by_shard += 1
                continue
            key = uid_key(uid)
            if key in slot_of or key in new:
                again.append(obj)
            else:
                new[key] = obj
        if new:
            self._insert_new(list(new), list(new.values()))
        for obj in again:
            self.upsert(obj)

    def _insert_new(self, keys: list[int | str], objs: list[Any]) -> None:
        try:
            ident = self._identity
            texts = self._texts
            # object by object (a group of families shares one pass over an object), then
            # transposed in C
            rows = [texts(o, ident(o)) for o in objs]
            columns = list(zip(*rows, strict=True))
        except Exception:  # some object does not render: find it (and keep the rest) one by one
            for obj in objs:
                self.upsert(obj)
            return
        if self._listed is not None:
            self._listed.update(keys)
        locs = [self._allocate(key) for key in keys]
        size = self.block_size
        n = len(locs)
        i = 0
        while i < n:
            first = locs[i]
            block = self.blocks[first // size]
            # the run of consecutive slots in this block
            j = i + 1
            while j < n and locs[j] == first + (j - i) and locs[j] // size == first // size:
                j += 1
            if not block.opened and not block.pending:
                run = FreshRun(first % size, [col[i:j] for col in columns])
                if not block.fresh:
                    block.fresh = []
                block.fresh.append(run)
                self.pending_bytes += run.nbytes
            else:
                for k in range(i, j):
                    rendered = Rendered(rows[k])
                    block.pending[locs[k] % size] = rendered
                    self.pending_bytes += len(rendered)
            self.stats.upserts += j - i
            self._mark(block)
            i = j

    def delete(self, obj: Any) -> None:
        self._delete_key(uid_key(obj.metadata.uid))

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is None:
            return
        for key in [k for k in self.slot_of if k not in listed]:
            self._delete_key(key)

    # -- internals -------------------------------------------------------------------------

    def _render(self, obj: Any, which: tuple[tuple[int, ...], TextsFn] | None = None) -> Rendered | None:
        """``obj``'s text for every family, or for the families ``which`` names (positions and
        their renderer); None when it does not render (counted, logged)."""
        try:
            ident = self._identity(obj)
            if which is not None:
                return Rendered(which[1](obj, ident), which[0])
            return Rendered(self._texts(obj, ident))
        except Exception as e:  # a malformed object must never stop the store
            self.stats.render_errors += 1
            m = getattr(obj, "metadata", None)
            logger.warning(
                "cannot render object, skipped",
                extra=fields(
                    resource=self.spec.name,
                    namespace=getattr(m, "namespace", ""),
                    name=getattr(m, "name", ""),
                    error=repr(e)[:300],
                ),
            )
            return None

    def _delete_key(self, key: int | str) -> None:
        loc = self.slot_of.pop(key, None)
        if loc is None:
            return
        block = self.blocks[loc // self.block_size]
        slot = loc % self.block_size
        block.pending[slot] = None
        if block.prints is not None:  # the slot's next object starts unknown
            w = len(block.prints) // self.block_size
            block.prints[slot * w : (slot + 1) * w] = array("q", bytes(8 * w))
        self._free.append(loc)
        self.stats.deletes += 1
        self._mark(block)

    def _allocate(self, key: int | str) -> int:
        size = self.block_size
        if self._free:
            loc = self._free.pop()
        else:
            first = len(self.blocks) * size
            self.blocks.append(Block(size, self.nfam))
            # hand out slots in ascending order
            self._free.extend(range(first + size - 1, first, -1))
            loc = first
        self.slot_of[key] = loc
        return loc

    def _mark(self, block: Block) -> None:
        if block not in self.dirty:
            self.dirty.add(block)
            if self._on_dirty is not None:
                self._on_dirty()

    # -- flushing --------------------------------------------------------------------------

    def take_dirty(self) -> list[FlushWork]:
        """Detach the pending changes of every dirty block (done on the event loop)."""
        work: list[FlushWork] = []
        for block in self.dirty:
            fresh = block.fresh
            if block.pending or fresh:
                work.append((block, dict(block.pending), fresh))
            block.fresh = ()
            block.opened = True  # runs only go to a block never flushed (see upsert_page)
        self.dirty.clear()
        self.pending_bytes = 0
        return work

    def flush_work(
        self, block: Block, pending: dict[int, Rendered | None], fresh: Sequence[FreshRun] = ()
    ) -> FlushResult:
        """The CPU-heavy part of a flush; safe to run in a worker thread."""
        return _flush_block(block, pending, fresh, self.nfam, self.level)

    def install(self, result: FlushResult) -> None:
        """Publish a flush result (on the event loop): new members, then settle pending entries."""
        block = result.block
        for f, member in result.members:
            block.members[f] = member
        block.rows = result.rows
        block.lens = result.lens
        for slot, rendered in result.flushed.items():
            if block.pending.get(slot, 0) is rendered:
                del block.pending[slot]
        if block.pending:
            self._mark(block)
        else:
            # an emptied dict keeps its grown table: ~4 KiB per block once it held a block's worth
            # of changes (2.9 MiB at 1,000 nodes x 30 pods)
            block.pending = {}
        self.stats.flushes += 1
        self.stats.flushed_raw_bytes += result.raw_bytes

    def flush_sync(self) -> None:
        """Flush everything in the calling thread (tests, render command, start-up)."""
        while self.dirty:
            for block, pending, fresh in self.take_dirty():
                self.install(self.flush_work(block, pending, fresh))

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.slot_of)

    def compressed_bytes(self) -> int:
        return sum(b.compressed_bytes() for b in self.blocks)

    def snapshot(self) -> Snapshot:
        """Member references for a scrape (flush first to include pending changes)."""
        members: list[list[bytes]] = []
        for f in range(self.nfam):
            members.append([m for b in self.blocks if (m := b.members[f])])
        return Snapshot(self.spec, self.families, members, len(self.slot_of))

    def text(self) -> str:
        """Every line of this store, family by family, without headers (tests, debugging)."""
        self.flush_sync()
        snap = self.snapshot()
        return "".join(inflate(m).decode() for ms in snap.members for m in ms)


@dataclass
class Flusher:
    """Folds pending changes into compressed blocks on one worker thread.

    Flushes when pending text exceeds ``max_pending_bytes`` (bounding memory during the initial
    sync), every ``interval`` seconds otherwise, and on demand before a scrape
    (:meth:`flush_now`). One thread, so flushes of a block never race.
    """

    stores: Callable[[], Sequence[ResourceStore]]
    interval: float = 1.0
    max_pending_bytes: int = 4 << 20
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="kubescope-flush")
    )
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _progress: asyncio.Event = field(default_factory=asyncio.Event)
    trimmer: Trimmer = field(default_factory=Trimmer)
    _task: asyncio.Task[None] | None = None
    flush_seconds_total: float = 0.0

    def pending_bytes(self) -> int:
        return sum(s.pending_bytes for s in self.stores())

    def poke(self) -> None:
        """Called by stores when a block becomes dirty: wake early if pending grew large."""
        if self.pending_bytes() >= self.max_pending_bytes:
            self._wake.set()

    async def pace(self) -> None:
        """Backpressure for reflectors (awaited after each list page and watch batch).

        Rendering outpaces compression (a sync renders ~30,000 pods/s on one core): without this,
        the whole initial list would sit uncompressed in ``pending`` (hundreds of MB at 1,000
        nodes) and the allocator would keep that peak for good. Past ``max_pending_bytes`` the
        flusher is woken; past twice that, the caller waits until the flusher has taken the
        pending changes. Rendering (event loop) and compressing (flusher thread, zlib releases the
        GIL) still overlap, and memory stays bounded by a few times ``max_pending_bytes``.
        """
        if self.pending_bytes() < self.max_pending_bytes:
            return
        self._wake.set()
        while self.pending_bytes() >= 2 * self.max_pending_bytes:
            await self._progress.wait()

    def _signal_progress(self) -> None:
        ev, self._progress = self._progress, asyncio.Event()
        ev.set()

    async def flush_now(self) -> bool:
        """Flush every store's pending changes as of now; returns when they are installed (True if
        there were any)."""
        async with self._lock:
            return await self._flush_locked()

    async def _flush_locked(self) -> bool:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        flushed = False
        for store in list(self.stores()):
            work = store.take_dirty()
            if not work:
                continue
            flushed = True
            self._signal_progress()
            results = await loop.run_in_executor(self._executor, _flush_many, store, work)
            for r in results:
                store.install(r)
                self.trimmer.note(r.raw_bytes)
        self.flush_seconds_total += loop.time() - t0
        return flushed

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            if not await self.flush_now():
                # a quiet moment after work (end of a sync, of a burst): give freed pages back
                self.trimmer.idle()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="flusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=False, cancel_futures=True)


def _flush_many(store: ResourceStore, work: list[FlushWork]) -> list[FlushResult]:
    return [store.flush_work(b, p, f) for b, p, f in work]
