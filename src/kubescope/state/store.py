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
* A flush writes at ISA-L's fast level; a member that then stays unchanged for a while is
  rewritten by the flusher in its idle time at libdeflate's denser level (the same text in ~8 %
  fewer bytes; see :meth:`ResourceStore.age`).
* A gzip scrape is the concatenation of members (RFC 1952 allows a gzip stream of several members;
  Go's ``gzip.Reader``, which Prometheus uses, reads them all), sent without recompressing. A plain
  scrape inflates the members one by one while streaming, so it never holds the whole body.

Consistency: a scrape first flushes what is pending, then takes a snapshot of immutable member
references. Later updates build new members; the snapshot keeps streaming the old ones. A relist
(:meth:`ResourceStore.replace_begin`/``replace_end``) upserts every listed object and only then drops
those not seen, so a scrape never sees a half-cleared store.

The parts: :mod:`kubescope.state.blocks` (blocks, parked texts, the gzip codec),
:mod:`kubescope.state.flush` (the pure fold of pending changes into members) and
:mod:`kubescope.state.flusher` (the worker thread that runs it and paces the reflectors); this
module is the index of objects to slots and the reflector sink.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubescope.log import fields
from kubescope.state.blocks import DEFAULT_LEVEL, Block, FreshRun, Rendered, inflate
from kubescope.state.changes import ChangeDetector
from kubescope.state.family import Family, ResourceSpec
from kubescope.state.flush import Densified, FlushResult, FlushWork, Ripe, flush_block
from kubescope.state.render import ObjectRenderer, TextsFn
from kubescope.state.sharding import Sharding
from kubescope.state.uidindex import UidIndex

logger = logging.getLogger(__name__)

DEFAULT_BLOCK_SIZE = 256


@dataclass
class StoreStats:
    """Counters for self metrics (read by the telemetry server)."""

    upserts: int = 0
    deletes: int = 0
    render_errors: int = 0
    flushes: int = 0
    flushed_raw_bytes: int = 0
    dropped_by_shard: int = 0
    densified: int = 0
    densify_saved_bytes: int = 0


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
        # uid -> block number * block_size + slot, with no Python object per entry (see UidIndex)
        self.index = UidIndex()
        self.blocks: list[Block] = []
        self._free: array[int] = array("q")  # free slot numbers (a list would hold an int each)
        self.dirty: set[Block] = set()
        self.pending_bytes = 0
        # during a relist: per slot number, 1 once its object was listed (a set would hold an int each)
        self._listed: bytearray | None = None
        self._on_dirty = on_dirty
        self._ages = 0  # calls of age (see LONG_PERIODS)
        renderer = ObjectRenderer(self.families)
        self._texts = renderer.texts
        self._identity = spec.identity
        self._changes = ChangeDetector.for_families(renderer)

    # -- the reflector sink protocol --------------------------------------------------------

    def replace_begin(self) -> None:
        self._listed = bytearray()

    def _mark_listed(self, loc: int) -> None:
        listed = self._listed
        if listed is not None:
            if loc >= len(listed):
                listed.extend(bytes(loc + 1 - len(listed)))
            listed[loc] = 1

    def upsert(self, obj: Any) -> None:
        uid: str = obj.metadata.uid
        if not self.sharding.keep(uid):
            self.stats.dropped_by_shard += 1
            return
        loc = self.index.get(uid)
        if loc is not None and self._changes is not None:
            self._update(loc, obj)
            return
        rendered = self._render(obj)
        if rendered is None:
            return
        if loc is None:
            loc = self._allocate(uid)
        self._mark_listed(loc)
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

    def _update(self, loc: int, obj: Any) -> None:
        """Upsert an object the store holds: render only the families reading fields whose
        fingerprint changed (all of them the first time: the fingerprints are not known yet)."""
        changes = self._changes
        assert changes is not None
        self._mark_listed(loc)
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
        new: dict[str, Any] = {}
        again: list[Any] = []  # a uid listed twice, or already in the store
        keep = self.sharding.keep
        held = self.index.get
        for obj in objs:
            uid: str = obj.metadata.uid
            if not keep(uid):
                self.stats.dropped_by_shard += 1
                continue
            if uid in new or held(uid) is not None:
                again.append(obj)
            else:
                new[uid] = obj
        if new:
            self._insert_new(list(new), list(new.values()))
        for obj in again:
            self.upsert(obj)

    def _insert_new(self, uids: list[str], objs: list[Any]) -> None:
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
        locs = [self._allocate(uid) for uid in uids]
        if self._listed is not None:
            for loc in locs:
                self._mark_listed(loc)
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
        self._delete_uid(obj.metadata.uid)

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is None:
            return
        n = len(listed)
        for uid in [u for u, loc in self.index.items() if loc >= n or not listed[loc]]:
            self._delete_uid(uid)

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

    def _delete_uid(self, uid: str) -> None:
        loc = self.index.pop(uid)
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

    def _allocate(self, uid: str) -> int:
        size = self.block_size
        if self._free:
            loc = self._free.pop()
        else:
            first = len(self.blocks) * size
            self.blocks.append(Block(size, self.nfam))
            # hand out slots in ascending order
            self._free.extend(range(first + size - 1, first, -1))
            loc = first
        self.index.add(uid, loc)
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
        return flush_block(block, pending, fresh, self.nfam, self.level)

    def install(self, result: FlushResult) -> None:
        """Publish a flush result (on the event loop): new members, then settle pending entries."""
        block = result.block
        written = 0
        for f, member in result.members:
            bit = 1 << f
            if not block.loose & bit and block.members[f]:  # it was made dense: it changes still
                block.rewritten |= bit
            block.members[f] = member
            written |= bit
        if written:  # written at the fast level: dense again once they stay quiet (see age)
            block.loose |= written
            block.recent |= written
            block.recent_long |= written
            block.ripe &= ~written
        block.rows = result.rows
        block.code = result.code
        block.packed = result.packed
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

    # -- making quiet members dense -----------------------------------------------------------
    #
    # A flush writes members at ISA-L's fast level (1), which keeps a sync and a stream of updates
    # cheap; a member that then stays unchanged for a whole period of the flusher's ``quiet``
    # seconds is *ripe*, and the flusher rewrites it, in its idle time, at libdeflate's denser
    # level (the same text, ~8 % fewer bytes at rest; any deflate level is the same gzip to a
    # reader). Per (block, family) the state is a few bits (Block.loose, recent, ripe, ...), so a
    # busy family of a block (container statuses) does not keep its quiet ones fast. A member
    # written again after it was made dense waits for a whole long period (LONG_PERIODS periods)
    # from then on: a family that changes every few seconds would otherwise be recompressed at
    # 7.5x the cost of its flushes after each change.

    LONG_PERIODS = 8

    def age(self) -> None:
        """A period of the flusher's ``quiet`` seconds ended: members written at the fast level and
        not during the period become ripe (those rewritten after being made dense: not during the
        long period that ends now, every :data:`LONG_PERIODS` calls)."""
        self._ages += 1
        long_end = self._ages % self.LONG_PERIODS == 0
        for block in self.blocks:
            if block.loose:
                block.ripe |= block.loose & ~block.recent & ~block.rewritten
                block.recent = 0
                if long_end:
                    block.ripe |= block.loose & block.rewritten & ~block.recent_long
            if long_end:
                block.recent_long = 0

    def take_ripe(self, budget: int) -> list[Ripe]:
        """Ripe members, about ``budget`` compressed bytes of them (they stay ripe until
        :meth:`install_dense`)."""
        out: list[Ripe] = []
        n = 0
        for block in self.blocks:
            ripe = block.ripe
            while ripe:
                low = ripe & -ripe
                ripe ^= low
                member = block.members[low.bit_length() - 1]
                if not member:  # every text of the family deleted: nothing to rewrite
                    block.ripe &= ~low
                    block.loose &= ~low
                    continue
                out.append((block, low.bit_length() - 1, member))
                n += len(member)
                if n >= budget:
                    return out
        return out

    def install_dense(self, done: Sequence[Densified]) -> None:
        """Put dense members in place of the ripe ones they were made from (on the event loop). A
        member a flush replaced meanwhile stays as the flush wrote it: its text is newer."""
        saved = 0
        for block, f, old, dense in done:
            if block.members[f] is not old:
                continue  # rewritten since taken (and no longer ripe): the newer text stays
            bit = 1 << f
            block.loose &= ~bit
            block.ripe &= ~bit
            if len(dense) < len(old):
                block.members[f] = dense
                saved += len(old) - len(dense)
                self.stats.densified += 1
        self.stats.densify_saved_bytes += saved

    def flush_sync(self) -> None:
        """Flush everything in the calling thread (tests, render command, start-up)."""
        while self.dirty:
            for block, pending, fresh in self.take_dirty():
                self.install(self.flush_work(block, pending, fresh))

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index)

    def compressed_bytes(self) -> int:
        return sum(b.compressed_bytes() for b in self.blocks)

    def snapshot(self) -> Snapshot:
        """Member references for a scrape (flush first to include pending changes)."""
        members: list[list[bytes]] = []
        for f in range(self.nfam):
            members.append([m for b in self.blocks if (m := b.members[f])])
        return Snapshot(self.spec, self.families, members, len(self.index))

    def text(self) -> str:
        """Every line of this store, family by family, without headers (tests, debugging)."""
        self.flush_sync()
        snap = self.snapshot()
        return "".join(inflate(m).decode() for ms in snap.members for m in ms)
