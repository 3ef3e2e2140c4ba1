"""The flusher: one worker thread that folds every store's pending changes into its blocks.

It paces the reflectors (backpressure while a sync renders faster than it compresses), flushes on
a timer and before each scrape, and hands freed memory back when the work stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kubescope.memory import Trimmer
from kubescope.state.flush import FlushResult, FlushWork
from kubescope.state.store import ResourceStore


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
