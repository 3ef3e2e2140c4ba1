"""Recording: one watch of Events per stream into the archive, exactly once.

A :class:`StreamRecorder` owns one stream (the events of one namespace, or of all, through
``events.k8s.io/v1`` or ``core/v1``):

1. it reads the stream's checkpoint, the last resourceVersion whose events are all stored, and
   watches from there (:class:`~kubescope.kube.reflector.Reflector` with ``resume_from``); with no
   checkpoint, or when the API server answers 410 Gone, it (re)lists: the replay is harmless
   because the archive is idempotent on (uid, resourceVersion);
2. ADDED and MODIFIED events go into a bounded in-memory :class:`Buffer`; DELETED (the API
   server's TTL) only moves the stream on;
3. the writer takes everything buffered together with the watch's resourceVersion at that
   instant, and writes both in one transaction: after a kill -9 the checkpoint never claims an
   event that was not stored, and never misses one that was;
4. while the database is down the batch is retried with capped backoff and the buffer fills;
   at its bound the watch is no longer read (the reflector's ``pace``) until the writes succeed,
   so memory stays bounded, every hit of the bound is counted, and nothing is dropped: what the
   API server sends meanwhile waits in the connection or is read again from the last
   resourceVersion seen.

Events that cannot be archived whole (:func:`~kubescope.events.model.check`) are refused, logged
with their name and counted; the rest of the batch is stored.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubescope.events.backends import StoreUnavailable
from kubescope.events.model import (
    MAX_NOTE_BYTES,
    BadEvent,
    CoreEvent,
    Record,
    V1Event,
    check,
    to_record,
)
from kubescope.events.store import EventStore, WriteResult
from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from kubescope.kube.retry import Backoff, RetryPolicy
from kubescope.kube.sink import ReflectorOptions
from kubescope.log import fields
from kubescope.memory import Trimmer

logger = logging.getLogger(__name__)

_WRITER: concurrent.futures.ThreadPoolExecutor | None = None
_TRIMMER = Trimmer(threshold=32 << 20)
BYTES_PER_EVENT = 2000
"""About what a decoded event and its record take while buffered: freed memory counted for the trimmer."""


def _writer() -> concurrent.futures.ThreadPoolExecutor:
    """One thread for every recorder's conversions and writes (the store serializes writes anyway):
    one glibc arena instead of one per pool thread, which kept tens of MiB of freed memory."""
    global _WRITER
    if _WRITER is None:
        _WRITER = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="events-writer")
    return _WRITER


async def _in_writer(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_writer(), fn, *args)


V1_PATH = "/apis/events.k8s.io/v1"
CORE_PATH = "/api/v1"


@dataclass(frozen=True)
class StreamSpec:
    """What one recorder watches."""

    api_path: str = V1_PATH
    namespace: str = ""
    field_selector: str = ""

    @property
    def key(self) -> str:
        """The checkpoint's name: the same watch in any recorder (an HA pair) shares it."""
        ns = f"/namespaces/{self.namespace}" if self.namespace else ""
        sel = f"?fieldSelector={self.field_selector}" if self.field_selector else ""
        return f"{self.api_path}{ns}/events{sel}"


@dataclass(frozen=True)
class RecorderSettings:
    buffer_limit: int = 4_000
    """Events held in memory at most (written or waiting): about 2.5 KiB each while decoded and
    converted, so the process stays well under 100 MiB whatever the archive does; at the bound the
    watch waits. Half of it is written at once (see ``_write_loop``): 4,000 keeps the CPU per
    event of 10,000 with a 0.2 s flush (measured; written at a quarter, 2-10 % more: smaller
    transactions) for ~14 MiB less at the peak."""
    flush_interval: float = 0.2
    """Seconds between writes while events arrive: one transaction takes all that came meanwhile."""
    max_note_bytes: int = MAX_NOTE_BYTES
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(initial=0.2, maximum=10.0))
    reflector: ReflectorOptions = field(default_factory=ReflectorOptions)


@dataclass
class RecorderStats:
    """Counters read by the self metrics (plain attributes: one event loop)."""

    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    expired_seen: int = 0
    buffer_full: int = 0
    store_failures: int = 0
    writes: int = 0
    write_seconds: float = 0.0
    checkpoint: int = 0
    occurrences: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    """(namespace, kind, reason, type) -> occurrences."""


class Buffer:
    """The reflector's sink: events waiting to be written, bounded (see the module docstring)."""

    def __init__(self, limit: int, stats: RecorderStats) -> None:
        self.limit = limit
        self.stats = stats
        self.items: list[Any] = []
        self.in_flight = 0
        self.flying: list[list[Any]] = []
        """The batches being written (taken, not yet committed)."""
        self.arrived = asyncio.Event()
        self.batch = max(1, limit // 2)
        """Events that make a batch worth writing at once, without waiting for the flush interval."""
        self.batch_ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._logged = -1e9

    def __len__(self) -> int:
        return len(self.items) + self.in_flight

    def replace_begin(self) -> None:
        pass  # an archive drops nothing when the API server relists

    def replace_end(self) -> None:
        pass

    def upsert(self, obj: Any) -> None:
        items = self.items
        items.append(obj)
        self.arrived.set()
        if len(items) >= self.batch:
            self.batch_ready.set()

    def delete(self, obj: Any) -> None:
        self.stats.expired_seen += 1  # TTL expiry: the archive keeps it

    def take(self) -> list[Any]:
        items, self.items = self.items, []
        self.in_flight += len(items)
        self.flying.append(items)
        self.arrived.clear()
        self.batch_ready.clear()
        return items

    def done(self, items: list[Any]) -> None:
        self.in_flight -= len(items)
        self.flying = [b for b in self.flying if b is not items]
        if len(self) < self.limit:
            self._room.set()

    def pending(self) -> list[Any]:
        """Every event received and not yet committed, oldest first: the merged view shows them
        (the API server may have deleted one already; the archive does not have it yet)."""
        return [obj for batch in self.flying for obj in batch] + self.items

    async def pace(self) -> None:
        """Awaited by the reflector after each batch: holds it while the buffer is at its bound."""
        if len(self) < self.limit:
            return
        self.stats.buffer_full += 1
        self._room.clear()
        now = time.monotonic()
        if now - self._logged > 60:  # a slow archive hits the bound on every batch: once a minute
            self._logged = now
            logger.warning(
                "event buffer full, pausing the watch until the archive catches up",
                extra=fields(buffered=len(self), limit=self.limit, times=self.stats.buffer_full),
            )
        await self._room.wait()


def convert(items: list[Any], max_note_bytes: int, stats: RecorderStats) -> list[Record]:
    out = []
    for obj in items:
        try:
            r = to_record(obj)
            check(r, max_note_bytes)
        except BadEvent as e:
            reason = "note_too_long" if "max-note-bytes" in str(e) else "malformed"
            stats.rejected[reason] += 1
            n = sum(stats.rejected.values())
            if n <= 10 or n % 1000 == 0:
                logger.warning("event refused, not archived", extra=fields(error=str(e), refused=n))
            continue
        out.append(r)
    return out


class StreamRecorder:
    """See the module docstring. ``await run()`` until cancelled."""

    def __init__(
        self,
        client: KubeClient,
        store: EventStore,
        spec: StreamSpec,
        settings: RecorderSettings | None = None,
        *,
        on_write: Callable[[WriteResult], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.spec = spec
        self.settings = settings or RecorderSettings()
        self.stats = RecorderStats()
        self.buffer = Buffer(self.settings.buffer_limit, self.stats)
        self.on_write = on_write
        self.reflector: Reflector[Any] | None = None
        self.store_down = ""
        """Why the last write failed, while it keeps failing."""
        self._backoff = Backoff(self.settings.retry)

    @property
    def name(self) -> str:
        return self.spec.key

    async def run(self) -> None:
        rv = await self._with_store(self.store.checkpoint, self.spec.key)
        self.stats.checkpoint = rv or 0
        item_type: Any = V1Event if self.spec.api_path == V1_PATH else CoreEvent
        self.reflector = Reflector(
            self.client, api_path=self.spec.api_path, resource="events", item_type=item_type, sink=self.buffer,
            namespace=self.spec.namespace or None, field_selector=self.spec.field_selector,
            name=self.spec.key, options=self.settings.reflector, pace=self.buffer.pace,
            resume_from=str(rv) if rv else "",
        )  # fmt: skip
        logger.info("recording events", extra=fields(stream=self.spec.key, resume_from=rv or "(list)"))
        watch = asyncio.create_task(self.reflector.run(), name=f"watch {self.spec.key}")
        try:
            await self._write_loop(watch)
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)

    async def _with_store(self, fn: Callable[..., Any], *args: Any) -> Any:
        while True:
            try:
                result = await _in_writer(fn, *args)
            except StoreUnavailable as e:
                self._store_failed(e)
                await asyncio.sleep(self._backoff.next_delay())
                continue
            self._store_back()
            return result

    def _store_failed(self, e: StoreUnavailable) -> None:
        self.stats.store_failures += 1
        if not self.store_down:
            logger.warning(
                "archive unavailable, keeping events in memory and retrying",
                extra=fields(stream=self.spec.key, error=str(e), buffered=len(self.buffer)),
            )
        self.store_down = str(e) or "unavailable"

    def _store_back(self) -> None:
        if self.store_down:
            logger.info("archive available again", extra=fields(stream=self.spec.key))
        self.store_down = ""
        self._backoff.reset()

    async def _write_loop(self, watch: asyncio.Task[None]) -> None:
        assert self.reflector is not None
        flush = self.settings.flush_interval
        while True:
            if watch.done():
                watch.result()  # the reflector never ends on its own: surface its failure
            if not self.buffer.items:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.buffer.arrived.wait(), timeout=1.0)
            rv_text = self.reflector.resource_version
            rv = int(rv_text) if rv_text.isdigit() else None
            if not self.buffer.items and (rv is None or rv == self.stats.checkpoint):
                continue
            t0 = time.monotonic()
            await self.write_once()
            # a trickle waits out the flush interval (one transaction for all of it); a flood is
            # written as soon as half the buffer waits, so the watch reads on meanwhile
            # instead of filling the buffer to its bound and pausing
            rest = flush - (time.monotonic() - t0)
            if rest > 0 and not self.buffer.batch_ready.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.buffer.batch_ready.wait(), timeout=rest)

    async def write_once(self) -> None:
        """Write what is buffered with the watch's resourceVersion as the checkpoint."""
        assert self.reflector is not None
        rv_text = self.reflector.resource_version
        items = self.buffer.take()
        try:
            records = await _in_writer(convert, items, self.settings.max_note_bytes, self.stats)
            rv = int(rv_text) if rv_text.isdigit() else None
            result: WriteResult = await self._with_store(self.store.write, records, self.spec.key, rv)
        finally:
            self.buffer.done(items)
            _TRIMMER.note(len(items) * BYTES_PER_EVENT)
        s = self.stats
        s.writes += 1
        s.write_seconds += result.seconds
        s.stored += len(result.stored)
        s.duplicates += result.duplicates
        if rv is not None:
            s.checkpoint = max(s.checkpoint, rv)
        for r, n in result.occurrences:
            if n:
                s.occurrences[(r.namespace, r.regarding.kind or "", r.reason, r.type)] += n
        if self.on_write is not None:
            self.on_write(result)

    def pending(self) -> list[Record]:
        """The events received and not yet committed, as records (what cannot be archived left out)."""
        out = []
        for obj in self.buffer.pending():
            try:
                out.append(to_record(obj))
            except BadEvent:
                continue
        return out

    def check_synced(self) -> str | None:
        r = self.reflector
        if r is None or not r.synced.is_set():
            return f"events of {self.spec.key} not in step with the API server yet"
        return None

    def check_store(self) -> str | None:
        return f"archive unavailable: {self.store_down}" if self.store_down else None


async def discover_api(client: KubeClient) -> str:
    """``events.k8s.io/v1`` where the API server serves it, else ``core/v1``."""
    import msgspec

    from kubescope.errors import ApiStatusError

    try:
        body = await client.get(V1_PATH)
        doc = msgspec.json.decode(body)
        if any(r.get("name") == "events" for r in doc.get("resources", [])):
            return V1_PATH
    except ApiStatusError as e:
        if e.code not in (403, 404):
            raise
    except msgspec.DecodeError:
        pass
    logger.info("events.k8s.io/v1 not served, recording core/v1 events")
    return CORE_PATH
