"""What a reflector feeds (:class:`Sink`), how it is tuned (:class:`ReflectorOptions`) and what it
counts (:class:`ReflectorStats`); a sink that keeps every object (:class:`Mirror`) and one-off
complete lists (:func:`list_objects`), for tests, tools and consumers that want the objects
themselves (the exporters keep none)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from kubescope.errors import DecodeError
from kubescope.kube.client import KubeClient
from kubescope.kube.retry import RetryPolicy
from kubescope.model.meta import KubeList

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    """What a reflector feeds. Implemented by the state-metrics store, the resource-metrics
    pipeline and :class:`~kubescope.kube.mirror.Mirror`."""

    def replace_begin(self) -> None:
        """A (re)list starts: objects will be upserted again."""

    def upsert(self, obj: T_contra) -> None:
        """ADDED/MODIFIED, or an object of a (re)list."""

    def delete(self, obj: T_contra) -> None:
        """DELETED (obj is the last state)."""

    def replace_end(self) -> None:
        """The (re)list is complete: the sink drops every object not upserted since replace_begin."""

    # A sink may also define ``upsert_page(objs: list[T])``, called instead of ``upsert`` for each
    # object of a (re)list (the state-metrics store renders a page's new objects together).


@dataclass(frozen=True)
class ReflectorOptions:
    """Tuning shared by all reflectors of a process."""

    page_size: int = 500
    """``limit`` of each list page (about 3 MB of pods), client-go's pager's."""
    hand_over: int = 256
    """Objects of a (re)list handed to the sink at once (``upsert_page``), and lines of a
    watch-list's initial events decoded at once. Fewer decoded objects alive at once leave fewer
    allocator arenas behind the initial sync, which long-lived objects then pin: at 1,000 nodes x
    30 pods the state-metrics exporter ended its sync with 44 arenas of small objects instead of 54
    at 500 (RSS 142 vs 151 MiB), for the same CPU, and with 30 instead of 53-66 once a network read
    (up to ~2 MiB, ~700 pods) was no longer decoded whole (RSS 125 vs 146-150 MiB); the
    state-metrics store fills one block (256 objects by default) per run. 64 (with blocks of 128)
    left 25-26 arenas instead of 29-30, but the flusher's glibc heap outgrew 64 MiB during the sync
    (peak RSS +5 MiB) and kept ~2 MiB more after it: no gain."""
    watch_list: bool = True
    """(Re)list with a watch-list stream where the server offers one."""
    min_watch_timeout: float = 300.0
    """Watches ask the server to end them after a random ``timeoutSeconds`` in [this, 2x this),
    client-go's way of spreading reconnects."""
    inactivity_timeout: float = 180.0
    """Seconds without a byte on a watch before it is considered dead and re-opened. The API server
    sends a bookmark about every minute (``defaultBookmarkFrequency``); 0 disables the check."""
    very_short_watch: float = 1.0
    """A watch that ends cleanly sooner than this without a single line counts as a failure and
    backs off (client-go's "very short watch"), so a misbehaving server is not hammered."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(slots=True)
class ReflectorStats:
    """Counters for self metrics; plain attributes, read without locking (one event loop)."""

    lists_ok: int = 0
    """List page requests answered 2xx (kube_state_metrics_list_total{result="success"})."""
    lists_error: int = 0
    """List page requests that failed (kube_state_metrics_list_total{result="error"})."""
    watches_ok: int = 0
    """Watch requests answered 2xx, watch-lists included (kube_state_metrics_watch_total)."""
    watches_error: int = 0
    """Watch requests that failed before the stream started."""
    relists: int = 0
    """Lists started after the initial sync (410 Gone, API errors)."""
    gone: int = 0
    """410 Gone / Expired answers and ERROR events."""
    inactivity_timeouts: int = 0
    """Watches dropped for silence longer than the inactivity timeout."""
    decode_errors: int = 0
    """Objects and watch lines skipped because they could not be decoded."""
    sink_errors: int = 0
    """Sink calls that raised (a consumer bug; the reflector goes on)."""
    listed: int = 0
    """Objects upserted by (re)lists: list pages and watch-list initial events."""
    added: int = 0
    modified: int = 0
    deleted: int = 0
    bookmarks: int = 0
    syncs: int = 0
    """Complete (re)lists."""
    resource_version: str = ""
    """The last resourceVersion seen (list, event or bookmark)."""
    bytes_read: int = 0
    """Bytes of list bodies and watch lines received (after decompression)."""
    last_list_objects: int = 0
    last_list_seconds: float = 0.0
    last_list_mode: str = ""
    """How the last (re)list was made: ``watch-list`` or ``list``."""


class Mirror(Generic[T]):
    """A sink keeping every object by uid: for tests and consumers that want the objects."""

    def __init__(self) -> None:
        self.objects: dict[str, T] = {}
        self.replaces = 0
        self._listed: set[str] | None = None

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, obj: T) -> None:
        uid: str = obj.metadata.uid  # type: ignore[attr-defined]
        self.objects[uid] = obj
        if self._listed is not None:
            self._listed.add(uid)

    def delete(self, obj: T) -> None:
        uid: str = obj.metadata.uid  # type: ignore[attr-defined]
        if uid in self.objects:
            del self.objects[uid]

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is not None:
            for uid in [u for u in self.objects if u not in listed]:
                del self.objects[uid]
        self.replaces += 1

    def __len__(self) -> int:
        return len(self.objects)

    def versions(self) -> dict[str, str]:
        """uid -> resourceVersion of every object held."""
        return {uid: o.metadata.resource_version for uid, o in self.objects.items()}  # type: ignore[attr-defined]


async def list_objects(
    client: KubeClient,
    path: str,
    item_type: type[T],
    *,
    params: Mapping[str, str] | None = None,
    page_size: int = 500,
) -> tuple[list[T], str]:
    """A complete paginated LIST of ``path``: the objects and the list's resourceVersion.

    Strict (a malformed object raises :class:`DecodeError`); for one-off reads and tests.
    """
    item: Any = item_type
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(KubeList[item])
    base = dict(params or {})
    q = {**base, "limit": str(page_size)} if page_size else base
    out: list[T] = []
    while True:
        body = await client.get(path, q)
        try:
            page = decoder.decode(body)
        except msgspec.DecodeError as e:
            raise DecodeError(f"list {path}: {e}") from None
        del body
        out.extend(page.items)
        if not page.metadata.continue_:
            return out, page.metadata.resource_version
        q = {**base, "limit": str(page_size), "continue": page.metadata.continue_}
