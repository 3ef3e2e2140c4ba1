"""Folding a block's pending changes into new gzip members: the pure, CPU-heavy part of a flush.

:func:`flush_block` only reads the block it is given and returns the new members and lengths, so
the flusher (:mod:`kubescope.state.flusher`) runs it in a worker thread while the event loop goes
on; the store installs the result on the event loop (:meth:`ResourceStore.install`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, compress
from operator import or_, sub
from typing import Any

from kubescope.state.blocks import Block, FreshRun, Rendered, dense_member, gzip_member, inflate, pack


@dataclass
class FlushResult:
    block: Block
    flushed: dict[int, Rendered | None]
    members: list[tuple[int, bytes]]
    rows: array[int]
    code: str
    packed: bytes
    raw_bytes: int


def _first(item: tuple[int, Any]) -> int:
    return item[0]


def flush_block(
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
    code = block.code
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
        text_of = inflate(members[f])
        old = memoryview(text_of)
        row = lens[base : base + size]
        ends = list(accumulate(row))
        # the texts that did change (same length and bytes: unchanged); bytes.startswith at an
        # offset compares with memcmp, where comparing two memoryviews unpacks byte by byte (5x
        # slower for a 150-byte text)
        starts = text_of.startswith
        changed = [
            (slot, text)
            for slot, text in maybe
            if len(text) != row[slot] or not starts(text, ends[slot] - row[slot])
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
    rows, kept = _compact(lens, nfam, size)
    return FlushResult(block, pending, list(out.items()), rows, code, pack(kept), raw)


def _expand(block: Block, nfam: int, code: str) -> array[int]:
    """A copy of ``block``'s lengths (of type ``code``) with a row for every family."""
    size = block.size
    lens = array(code, bytes(array(code).itemsize * size * nfam))
    old_lens = block.lens
    if old_lens.typecode != code:
        old_lens = array(code, old_lens)
    for f, r in enumerate(block.rows):
        if r >= 0:
            lens[f * size : (f + 1) * size] = old_lens[r * size : (r + 1) * size]
    return lens


def _compact(lens: array[int], nfam: int, size: int) -> tuple[array[int], bytes]:
    """Rows and lengths (their bytes) without the rows of families with no text in any slot."""
    lb = lens.tobytes()
    ln = lens.itemsize * size
    zero = bytes(ln)
    rows = array("h", [-1]) * nfam
    kept = [f for f in range(nfam) if lb[f * ln : (f + 1) * ln] != zero]
    for r, f in enumerate(kept):
        rows[f] = r
    return rows, b"".join([lb[f * ln : (f + 1) * ln] for f in kept])


FlushWork = tuple[Block, dict[int, Rendered | None], Sequence[FreshRun]]
"""A block with the pending changes and fresh runs detached from it for one flush."""

Ripe = tuple[Block, int, bytes]
"""A member to make dense: its block, its family and the member as it was taken."""

Densified = tuple[Block, int, bytes, bytes]
"""A :data:`Ripe` member with its dense equivalent (the same text)."""


def densify(ripe: Sequence[Ripe]) -> list[Densified]:
    """The dense equivalent of each member (see :func:`kubescope.state.blocks.dense_member`).
    Pure: the members are immutable, so this runs in the flusher thread while the event loop goes
    on, and :meth:`ResourceStore.install_dense` keeps a result only if its member is still there."""
    return [(block, f, member, dense_member(inflate(member))) for block, f, member in ripe]
