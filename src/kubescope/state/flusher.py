"""The flusher: one worker thread that folds every store's pending changes into its blocks.

It paces the reflectors (backpressure while a sync renders faster than it compresses), flushes on
a timer and before each scrape, makes members that stopped changing dense in its idle time, and
hands freed memory back when the work stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kubescope.memory import Trimmer
from kubescope.state.flush import FlushResult, FlushWork, densify
from kubescope.state.store import ResourceStore


@dataclass
class Flusher:
    """Folds pending changes into compressed blocks on one worker thread.

    Flushes when pending text exceeds ``max_pending_bytes`` (bounding memory during the initial
    sync), every ``interval`` seconds otherwise, and on demand before a scrape
    (:meth:`flush_now`). One thread, so flushes of a block never race.

    In the time left between flushes it rewrites the members that were not written for a period
    of ``quiet`` seconds at the dense level (:meth:`ResourceStore.age`; every member some seconds
    after a sync), ``densify_slice`` compressed bytes at a time (~12 ms of its thread's CPU), and
    only while nothing is pending and no scrape came for ``quiet`` seconds: it never delays a flush
    or a scrape by more than one slice, and takes no CPU from a sync, a burst of updates or scrapes.
    """

    stores: Callable[[], Sequence[ResourceStore]]
    interval: float = 1.0
    max_pending_bytes: int = 4 << 20
    quiet: float = 2.0
    densify_slice: int = 256 << 10
    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="kubescope-flush")
    )
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _progress: asyncio.Event = field(default_factory=asyncio.Event)
    trimmer: Trimmer = field(default_factory=Trimmer)
    _task: asyncio.Task[None] | None = None
    flush_seconds_total: float = 0.0
    densify_seconds_total: float = 0.0
    _scraped: float = float("-inf")  # loop time of the last flush_now (a scrape's)

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
        self._scraped = asyncio.get_running_loop().time()
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
        loop = asyncio.get_running_loop()
        aged = loop.time()
        ripe = False  # whether members may be ripe (take_ripe tells)
        while True:
            deadline = loop.time() + self.interval
            densified = False
            if ripe:
                ripe, densified = await self._densify_until(deadline)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - loop.time()))
            self._wake.clear()
            async with self._lock:
                flushed = await self._flush_locked()
            if loop.time() - aged >= self.quiet:
                aged = loop.time()
                for store in self.stores():
                    store.age()
                ripe = True
            if not flushed and not densified:
                # a quiet moment after work (end of a sync, of a burst, of densifying): give
                # freed pages back
                self.trimmer.idle()

    async def _densify_until(self, deadline: float) -> tuple[bool, bool]:
        """Make ripe members dense, a slice at a time, until ``deadline``, a wake, pending changes
        or a scrape. Returns whether members may still be ripe and whether any slice ran."""
        loop = asyncio.get_running_loop()
        worked = False
        while loop.time() < deadline:
            if self._wake.is_set() or self.pending_bytes() or loop.time() - self._scraped < self.quiet:
                return True, worked
            async with self._lock:
                for store in list(self.stores()):
                    ripe = store.take_ripe(self.densify_slice)
                    if ripe:
                        break
                else:
                    return False, worked
                t0 = loop.time()
                done = await loop.run_in_executor(self._executor, densify, ripe)
                store.install_dense(done)
                self.densify_seconds_total += loop.time() - t0
                self.trimmer.note(sum(len(m) for _, _, m in ripe))
                worked = True
        return True, worked

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
