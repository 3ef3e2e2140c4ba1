"""Paginated lists as etcd and kube-apiserver serve them: snapshots, pages and continue tokens.

A paginated list reads from a snapshot taken at its first page (:class:`Snapshot`), so every page
of one list reflects its resourceVersion, as etcd guarantees; a snapshot lives
:data:`SNAPSHOT_TTL` seconds (etcd's compaction), after which its token gets 410 Expired with a
token that continues at the latest state. Tokens are kube-apiserver's (base64 JSON with ``v``,
``rv``, ``start``) plus the snapshot's id and offset.
"""

from __future__ import annotations

import base64
import itertools
import time
from dataclasses import dataclass
from typing import Any

import msgspec

from kubescope.apiserver.selectors import FieldSelector, LabelSelector
from kubescope.sim.entries import Entry, selected
from kubescope.sim.errors import BadRequest

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

SNAPSHOT_TTL = 300.0
"""Seconds a paginated list's snapshot lives (etcd's default compaction interval is 5 minutes)."""


@dataclass
class Snapshot:
    """A list's frozen view: the sorted keys in range and a copy of the table (both C-level copies,
    ~6 ms for 150,000 pods; entries are immutable, so sharing them is safe)."""

    rv: int
    keys: list[tuple[str, str]]
    table: dict[tuple[str, str], Entry]
    created: float


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: encoded items and the list metadata kube-apiserver would send."""

    rv: int
    items: list[bytes]
    continue_token: str = ""
    remaining: int | None = None


class Snapshots:
    """The snapshots of paginated lists in progress, by id."""

    def __init__(self) -> None:
        self._by_id: dict[str, Snapshot] = {}
        self._ids = itertools.count(1)

    def keep(self, snap: Snapshot) -> str:
        """Keep ``snap``; its id, for the list's continue token."""
        sid = str(next(self._ids))
        self._by_id[sid] = snap
        return sid

    def get(self, sid: str) -> Snapshot | None:
        return self._by_id.get(sid)

    def pop(self, sid: str) -> None:
        self._by_id.pop(sid, None)

    def expire(self) -> None:
        """Forget the snapshots older than :data:`SNAPSHOT_TTL`."""
        now = time.monotonic()
        for sid in [s for s, sn in self._by_id.items() if now - sn.created > SNAPSHOT_TTL]:
            del self._by_id[sid]

    def clear(self) -> None:
        """Forget every snapshot (what etcd's compaction does to lists in progress)."""
        self._by_id.clear()

    def __len__(self) -> int:
        return len(self._by_id)


def read_page(
    snap: Snapshot,
    sid: str,
    offset: int,
    labels: LabelSelector | None,
    fields: FieldSelector | None,
    limit: int,
) -> Page:
    """The page of ``snap`` from ``offset`` on: up to ``limit`` (0: all) matching items, and a
    continue token when more match after them (none: the list is done with ``snap``)."""
    keys, table = snap.keys, snap.table
    out: list[bytes] = []
    i, n = offset, len(keys)
    last_key: tuple[str, str] = ("", "")
    unfiltered = labels is None and fields is None
    while i < n and (not limit or len(out) < limit):
        key = keys[i]
        e = table[key]
        i += 1
        if unfiltered or selected(e, labels, fields):
            out.append(e.raw)
            last_key = key
    more = False
    if limit and i < n:
        more = unfiltered or any(selected(table[k], labels, fields) for k in itertools.islice(keys, i, None))
    if not more:
        return Page(snap.rv, out)
    remaining = n - i if unfiltered else None
    return Page(snap.rv, out, encode_continue(snap.rv, sid, i, last_key), remaining)


INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)


def encode_continue(rv: int, sid: str, offset: int, last_key: tuple[str, str]) -> str:
    """kube-apiserver's token (base64 JSON with ``v``, ``rv``, ``start``) plus our snapshot id."""
    token: dict[str, Any] = {
        "v": "meta.k8s.io/v1",
        "rv": rv,
        "start": f"{last_key[0]}/{last_key[1]}\x00",
    }
    if sid:
        token["sid"] = sid
        token["off"] = offset
    return base64.urlsafe_b64encode(_enc.encode(token)).decode().rstrip("=")


def decode_continue(token: str) -> dict[str, Any]:
    try:
        pad = "=" * (-len(token) % 4)
        d = _dec.decode(base64.urlsafe_b64decode(token + pad))
    except (ValueError, msgspec.DecodeError) as e:
        raise BadRequest(f"continue key is not valid: {e}") from e
    if not isinstance(d, dict):
        raise BadRequest("continue key is not valid: not an object")
    if d.get("v") != "meta.k8s.io/v1":
        raise BadRequest("continue key is not valid: server does not recognize this encoded key")
    return d


def start_key(start: str) -> tuple[str, str] | None:
    """The ``start`` of a token ("namespace/name\\x00") as a sort key to continue after."""
    start = start.rstrip("\x00")
    if not start:
        return None
    ns, _, name = start.partition("/")
    return (ns, name)
