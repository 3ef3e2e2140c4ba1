"""A (re)list as the sink sees it: ``replace_begin``, the listed objects in runs, ``replace_end``.

The reflector lists with a LIST (page by page) or a watch-list (the initial events of a watch);
either way the objects reach the sink through :class:`Relist`, which holds them until a run is
worth handing over, applies a run at once where the sink takes pages, isolates a sink failure to
its object, and counts the (re)list in the reflector's stats.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from kubescope.kube.reflectorlog import ReflectorLog, logger
from kubescope.kube.sink import ReflectorStats, Sink


class Relist:
    """The (re)list in progress, if any, of one reflector."""

    def __init__(
        self,
        sink: Sink[Any],
        stats: ReflectorStats,
        log: ReflectorLog,
        pace: Callable[[], Awaitable[None]] | None,
    ) -> None:
        self.sink = sink
        self.stats = stats
        self.log = log
        # backpressure: awaited after every run handed over (see Reflector.pace)
        self.pace = pace
        # while a (re)list streams: the objects not yet handed to the sink, its start and count
        self.held: list[Any] | None = None
        self._retrying = False
        self._started = 0.0
        self.count = 0

    def begin(self, synced: bool) -> None:
        """A (re)list starts (``synced``: the reflector completed one before)."""
        if synced and not self._retrying:
            self.stats.relists += 1
        self._retrying = True  # until it completes: a failed (re)list is retried, not counted
        self.held = []
        self._started = time.monotonic()
        self.count = 0
        self.log.sink_call(self.sink.replace_begin)

    async def hand_over(self, items: list[Any], *, at_least: int = 1) -> None:
        """Move ``items`` (emptied) into the (re)list; pass what is held to the sink once
        ``at_least`` are.

        Nothing handed over stays referenced while the pace is awaited: every reflector of a
        process may wait there at once, and what they kept alive would add up to the sync's peak
        of short-lived objects, which the allocator keeps after it.
        """
        held = self.held
        assert held is not None
        held += items
        items.clear()
        if held and len(held) >= at_least:
            self.held = []
            self.count += len(held)
            self.apply(held)
            del held
            if self.pace is not None:
                await self.pace()

    def finish(self, rv: str, mode: str) -> None:
        """The (re)list is complete at ``rv``: the sink drops what was not listed; stats."""
        self.held = None
        self._retrying = False
        self.log.sink_call(self.sink.replace_end)
        stats = self.stats
        stats.resource_version = rv
        stats.listed += self.count
        stats.syncs += 1
        stats.last_list_objects = self.count
        stats.last_list_seconds = time.monotonic() - self._started
        stats.last_list_mode = mode
        if mode == "watch-list":
            stats.lists_ok += 1

    def apply(self, items: list[Any]) -> None:
        """Upsert a run of listed objects: at once if the sink takes pages (``upsert_page``), else
        one by one."""
        upsert_page = getattr(self.sink, "upsert_page", None)
        if upsert_page is not None:
            try:
                upsert_page(items)
                return
            except Exception as e:  # upserts are idempotent: apply them one by one to isolate it
                logger.warning(
                    "sink failed on a list page, applying its items one by one",
                    extra=self.log.extra(error=repr(e)[:300]),
                )
        upsert = self.sink.upsert
        for obj in items:
            try:
                upsert(obj)
            except Exception as e:
                self.log.sink_failed("upsert", obj, e)
