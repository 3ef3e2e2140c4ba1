"""The lines of a watch stream, decoded into sink calls.

A watch streams one JSON event a line. :class:`WatchLines` decodes each into the consumer's
``WatchEvent[T]`` and calls the sink (ADDED/MODIFIED ``upsert``, DELETED ``delete``), advancing the
resourceVersion; a line that does not decode takes the slow path: an ERROR event raises its
status, a malformed object or line is counted and skipped (the stream moves on past it). Before a
watch-list's end bookmark the ADDED events are a (re)list's objects, handed to the sink through
:class:`~kubescope.kube.relist.Relist`, a block of lines at a time in one msgspec call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import msgspec

from kubescope.errors import ApiStatusError
from kubescope.kube.client import LineStream
from kubescope.kube.events import RVObject, bookmark_rv, raw_event_decoder, rv_decoder, status_error_of
from kubescope.kube.reflectorlog import ReflectorLog
from kubescope.kube.relist import Relist
from kubescope.kube.sink import ReflectorStats, Sink
from kubescope.model.meta import WatchEvent

INITIAL_EVENTS_END = b'"k8s.io/initial-events-end"'
"""The annotation of the bookmark that ends a watch-list's initial events."""
_NL_TO_COMMA = bytes.maketrans(b"\n", b",")


class WatchLines:
    """Watch lines of one reflector into its sink.

    ``end_initial(rv)`` is called when a watch-list's end bookmark arrives (the (re)list is
    complete at ``rv``); ``hand_over`` is how many listed objects make a run for the sink.
    """

    def __init__(
        self,
        item_type: type[Any],
        dec_hook: Callable[[type, Any], Any] | None,
        sink: Sink[Any],
        stats: ReflectorStats,
        relist: Relist,
        log: ReflectorLog,
        end_initial: Callable[[str], None],
        hand_over: int,
    ) -> None:
        self.sink = sink
        self.stats = stats
        self.relist = relist
        self.log = log
        self.end_initial = end_initial
        self.hand_over = hand_over
        item: Any = item_type
        self._event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            WatchEvent[item], dec_hook=dec_hook
        )
        self._events_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            list[WatchEvent[item]], dec_hook=dec_hook
        )
        self._item_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(item_type, dec_hook=dec_hook)

    # -- a watch-list's initial events ---------------------------------------------------------

    async def initial_events(self, stream: LineStream) -> int:
        """Read a watch-list's initial events (until its end bookmark, or the end of the stream);
        the number of lines read."""
        lines = 0
        counted = stream.bytes_read
        while self.relist.held is not None:
            block = await stream.next_block()
            if not block:
                break
            lines += block.count(b"\n") + 1
            self.stats.bytes_read += stream.bytes_read - counted
            counted = stream.bytes_read
            await self._initial_block(block)
        return lines

    async def _initial_block(self, block: bytes) -> None:
        """Complete lines of a watch-list before its end bookmark, decoded ``hand_over`` lines per
        msgspec call when they are all ADDED events (nearly always).

        One network read can hold a thousand objects (aiohttp buffers up to ~2 MiB): decoded whole,
        they would all be alive at once, and the allocator arenas of a sync's peak of short-lived
        objects stay behind it, pinned by the long-lived objects allocated meanwhile.
        """
        if INITIAL_EVENTS_END in block:
            await self._initial_batch(block.split(b"\n"))  # the end, and the watch after it
            return
        n = self.hand_over
        pos, size = 0, len(block)
        while pos <= size:
            cut = pos
            for _ in range(n):  # the end of the n-th line from pos
                cut = block.find(b"\n", cut) + 1
                if not cut:
                    cut = size + 1
                    break
            part = block[pos : cut - 1]
            pos = cut
            objs: list[Any] | None = None
            with contextlib.suppress(msgspec.DecodeError):
                events = self._events_decoder.decode(b"[" + part.translate(_NL_TO_COMMA) + b"]")
                if all(ev.type == "ADDED" for ev in events):
                    objs = [ev.object for ev in events]
                del events
            if objs is None:
                await self._initial_batch(part.split(b"\n"))  # a bookmark, an ERROR, bad input
            else:
                await self.relist.hand_over(objs, at_least=n)

    async def _initial_batch(self, batch: list[bytes]) -> None:
        """Lines of a watch-list before its end bookmark: ADDED objects are a (re)list's."""
        decode = self._event_decoder.decode
        objs: list[Any] = []
        for i, line in enumerate(batch):
            try:
                ev = decode(line)
                t = ev.type
            except msgspec.DecodeError:
                t = ""
            if t == "ADDED":
                objs.append(ev.object)
                if len(objs) >= self.hand_over:
                    await self.relist.hand_over(objs)
                    objs = []
                continue
            await self.relist.hand_over(objs)
            objs = []
            if t in ("BOOKMARK", "") and INITIAL_EVENTS_END in line:
                rv = ev.object.metadata.resource_version if t else bookmark_rv(line)
                if rv is not None:
                    self.end_initial(rv)
                    self.stats.bookmarks += 1
                    for rest in batch[i + 1 :]:  # the same stream goes on as a watch
                        self.handle(rest)
                    return
            self.handle(line)  # a bookmark, an ERROR, or a line that does not decode
        await self.relist.hand_over(objs, at_least=self.hand_over)

    # -- the watch -----------------------------------------------------------------------------

    def handle(self, line: bytes) -> None:
        """One watch line: the event applied to the sink, the resourceVersion advanced."""
        stats = self.stats
        try:
            ev = self._event_decoder.decode(line)
        except msgspec.DecodeError:
            self._slow_line(line)
            return
        t = ev.type
        obj = ev.object
        sink = self.sink
        try:
            if t == "MODIFIED":
                stats.modified += 1
                sink.upsert(obj)
            elif t == "ADDED":
                stats.added += 1
                sink.upsert(obj)
            elif t == "DELETED":
                stats.deleted += 1
                sink.delete(obj)
            elif t == "BOOKMARK":
                stats.bookmarks += 1
            elif t == "ERROR":
                raise status_error_of(raw_event_decoder.decode(line).object)
            else:
                self.log.decode_failed(f"watch event of unknown type {t!r} skipped", line, None)
                return
        except ApiStatusError:
            raise
        except Exception as e:
            self.log.sink_failed(t.lower(), obj, e)
        rv = obj.metadata.resource_version
        if rv and self.relist.held is None:
            stats.resource_version = rv

    def _slow_line(self, line: bytes) -> None:
        """A line that does not decode into ``WatchEvent[T]``: blank, ERROR, or malformed."""
        if not line.strip():
            return
        try:
            raw = raw_event_decoder.decode(line)
        except msgspec.DecodeError as e:
            self.log.decode_failed("malformed watch line skipped", line, e)
            return
        if raw.type == "ERROR":
            raise status_error_of(raw.object)
        try:
            head: RVObject | None = rv_decoder.decode(raw.object)
        except msgspec.DecodeError:
            head = None
        if raw.type == "BOOKMARK" and head is not None:
            self.stats.bookmarks += 1
        else:
            try:
                self._item_decoder.decode(raw.object)
            except msgspec.DecodeError as e:
                self.log.decode_failed(f"{raw.type} event with a malformed object skipped", raw.object, e)
        # the skipped event still moves the stream on: resuming before it would only fail again
        if head is not None and head.metadata.resource_version and self.relist.held is None:
            self.stats.resource_version = head.metadata.resource_version
