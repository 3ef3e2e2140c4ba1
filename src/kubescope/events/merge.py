"""Live and archived events as one view: pure, no I/O.

The API server's events (its TTL, an hour by default) and the archive's are merged by uid: the
newest version (highest resourceVersion) wins, whichever side holds it; an archived event the API
server no longer has is marked expired. When the API server could not be asked (``live`` is
None), nothing is marked.

Pages are ordered by (last seen, uid bytes), the archive's order; the next page starts after the
last item given. The archive is read a page at a time (``limit`` rows from the position): an
archived event superseded by a newer live version is dropped at its old position and shown at the
live version's (later) one, so no event is given twice across pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubescope.events.model import Record
from kubescope.events.store import uid_bytes


def order(r: Record) -> tuple[int, bytes]:
    return (r.seen, uid_bytes(r.uid))


def merge(
    archived: Sequence[Record],
    live: Sequence[Record] | None,
    *,
    after: tuple[int, str] | None,
    limit: int,
    archive_full: bool,
    pending: Sequence[Record] = (),
) -> tuple[list[tuple[Record, bool]], tuple[int, str] | None]:
    """(items as (record, expired), the position to continue from or None).

    ``archived``: the archive's page from ``after`` (already filtered); ``archive_full``: whether it
    returned ``limit`` rows (more may follow). ``live``: every live event matching the question.
    ``pending``: the versions the recorder received and has not committed yet (filtered): the
    archive's side too, so an event the API server deleted before the archive held it is not
    missing from both (shown expired, as it will be once written).
    """
    live_by_uid = {r.uid: r for r in live} if live is not None else {}
    start = (after[0], uid_bytes(after[1])) if after is not None else None
    # beyond the archive page's last row, an archived event could still come first: stop there
    edge = order(archived[-1]) if archive_full and archived else None
    if pending:
        newest = {r.uid: r for r in archived}
        for r in pending:
            old = newest.get(r.uid)
            if (old is None or r.rv > old.rv) and (start is None or order(r) > start):
                newest[r.uid] = r
        archived = list(newest.values())
    merged: dict[str, tuple[Record, bool]] = {}
    for r in archived:
        newer = live_by_uid.get(r.uid)
        if newer is not None and newer.rv > r.rv:
            continue  # shown at the live version's position
        merged[r.uid] = (r, live is not None and newer is None)
    for r in live_by_uid.values():
        if r.uid in merged:
            continue
        if start is not None and order(r) <= start:
            continue
        merged[r.uid] = (r, False)
    items = sorted(merged.values(), key=lambda it: order(it[0]))
    if edge is not None:
        items = [it for it in items if order(it[0]) <= edge]
    more = archive_full
    if limit and len(items) > limit:
        items = items[:limit]
        more = True
    nxt = None
    if more and items:
        last = items[-1][0]
        nxt = (last.seen, last.uid)
    return items, nxt
