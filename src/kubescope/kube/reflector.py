"""The reflector: keep a consumer's view of one resource in step with the API server.

client-go's ``tools/cache/reflector.go`` semantics, on :class:`~kubescope.kube.client.KubeClient`:

1. **List**, paginated (``limit``, default 500, then ``continue``), decoding each page into
   ``KubeList[T]`` as it arrives and handing its items to the sink, so at most one page of raw body
   is held. ``resourceVersion=0`` on the first page when ``use_cache`` (kube-state-metrics'
   ``--use-apiserver-cache``: served from the API server's watch cache, which ignores ``limit``),
   otherwise a consistent read. The sink hears ``replace_begin()`` before the first item and
   ``replace_end()`` after the last, and drops whatever was not upserted in between: a relist never
   empties the consumer's state.
2. **Watch** from the list's resourceVersion with ``allowWatchBookmarks=true`` and a
   ``timeoutSeconds`` drawn from [5, 10) minutes (client-go's spread). Every event and bookmark
   advances the resourceVersion; ADDED/MODIFIED become ``upsert``, DELETED ``delete``.
3. **Recover**: a clean end of the watch re-watches from the last resourceVersion; an ERROR event
   or HTTP answer with 410 (``Expired``/``Gone``, also an expired ``continue`` token in the middle
   of a list) relists at once; disconnects, timeouts, 429 and 5xx re-watch after a capped
   exponential backoff with jitter that honours ``Retry-After``; other API errors (401, 403...)
   relist after the backoff, as client-go does. A stream that delivers no byte, not even a
   bookmark, for ``inactivity_timeout`` seconds is dropped and re-watched.
4. **Bad input never stops it**: an object that fails to decode in a list page is skipped (the
   page is re-decoded item by item through ``RawList``), as is a malformed watch line; both are
   logged (rate-limited) and counted in ``stats.decode_errors``.

The reflector keeps no objects. ``synced`` is set after the first complete list; ``stats.syncs``
and the ``on_synced`` callback mark every complete (re)list. ``stats`` is a plain object the
exporters read for their self metrics (kube-state-metrics' ``kube_state_metrics_list_total`` and
``_watch_total`` count one list per page request and one watch per request, by success or error).

Decoding uses the consumer's msgspec Struct ``T``, which must have ``metadata`` with
``resource_version`` (such as :class:`~kubescope.model.meta.ObjectMeta`) and should declare only
the fields the consumer reads: a watch event then costs about 10-25 µs to decode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from kubescope.errors import (
    ApiStatusError,
    DecodeError,
    GoneError,
    KubeError,
    ServerError,
    TooManyRequests,
    TransportError,
    TransportTimeout,
    status_error,
    truncate,
)
from kubescope.kube.client import KubeClient
from kubescope.kube.retry import Backoff, RetryPolicy
from kubescope.log import fields
from kubescope.model.meta import KubeList, ListMeta, RawList, RawWatchEvent, Status, WatchEvent

logger = logging.getLogger(__name__)

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    """What a reflector feeds. Implemented by the state-metrics store, the resource-metrics
    pipeline and :class:`Mirror`."""

    def replace_begin(self) -> None:
        """A (re)list starts: objects will be upserted again."""

    def upsert(self, obj: T_contra) -> None:
        """ADDED/MODIFIED, or an item of a list page."""

    def delete(self, obj: T_contra) -> None:
        """DELETED (obj is the last state)."""

    def replace_end(self) -> None:
        """The (re)list is complete: the sink drops every object not upserted since replace_begin."""

    # A sink may also define ``upsert_page(objs: list[T])``, called instead of ``upsert`` for each
    # item of a list page (the state-metrics store renders a page's new objects together).


@dataclass(frozen=True)
class ReflectorOptions:
    """Tuning shared by all reflectors of a process."""

    page_size: int = 500
    """``limit`` of each list page: about 3 MB of pods, decoded in about 10 ms, so the event loop
    never blocks for long."""
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
    """Watch requests answered 2xx (kube_state_metrics_watch_total{result="success"})."""
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
    """Objects upserted from list pages."""
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


class _RVMeta(msgspec.Struct, rename="camel", gc=False):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""


class _RVObject(msgspec.Struct, gc=False):
    """Just enough of an object to name it in a log line and keep its resourceVersion."""

    metadata: _RVMeta = msgspec.field(default_factory=_RVMeta)


_raw_event_decoder = msgspec.json.Decoder(RawWatchEvent)
_raw_list_decoder = msgspec.json.Decoder(RawList)
_status_decoder = msgspec.json.Decoder(Status)
_rv_decoder = msgspec.json.Decoder(_RVObject)


def _should_log(n: int) -> bool:
    """Log the first 10 decode errors of a reflector, then every 1000th."""
    return n <= 10 or n % 1000 == 0


def _check_item_type(item_type: type) -> None:
    info = msgspec.inspect.type_info(item_type)
    if isinstance(info, msgspec.inspect.StructType):
        for f in info.fields:
            if (
                f.name == "metadata"
                and isinstance(f.type, msgspec.inspect.StructType)
                and any(g.name == "resource_version" for g in f.type.fields)
            ):
                return
    raise TypeError(
        f"reflector item type {item_type!r} must be a msgspec Struct with a 'metadata' Struct field "
        "that has 'resource_version' (e.g. kubescope.model.meta.ObjectMeta)"
    )


def resource_path(api_path: str, resource: str, namespace: str | None = None) -> str:
    """``/api/v1/pods``, ``/apis/apps/v1/namespaces/ns/deployments``..."""
    base = api_path.rstrip("/")
    return f"{base}/namespaces/{namespace}/{resource}" if namespace else f"{base}/{resource}"


class Reflector(Generic[T]):
    """List and watch one resource into a :class:`Sink`. ``await run()`` until cancelled."""

    def __init__(
        self,
        client: KubeClient,
        *,
        api_path: str,
        resource: str,
        item_type: type[T],
        sink: Sink[T],
        namespace: str | None = None,
        field_selector: str = "",
        label_selector: str = "",
        use_cache: bool = False,
        object_limit: int = 0,
        name: str = "",
        options: ReflectorOptions | None = None,
        on_synced: Callable[[int], None] | None = None,
        pace: Callable[[], Awaitable[None]] | None = None,
        dec_hook: Callable[[type, Any], Any] | None = None,
    ) -> None:
        if dec_hook is None:
            _check_item_type(item_type)
        # else: an untyped item (custom resources), built by dec_hook; it must still carry a
        # ``metadata`` with ``resource_version`` and ``uid``, which the hook guarantees
        self.client = client
        self.sink = sink
        self.item_type = item_type
        self.namespace = namespace or ""
        self.name = name or resource
        self.use_cache = use_cache
        self.object_limit = object_limit
        self.options = options or ReflectorOptions()
        self.on_synced = on_synced
        # backpressure: awaited after every list page and watch batch, so a sink that buffers
        # work (the state-metrics store) can hold the reflector until it has caught up
        self.pace = pace
        self.path = resource_path(api_path, resource, namespace)
        self.stats = ReflectorStats()
        self.synced = asyncio.Event()
        self._base_params: dict[str, str] = {}
        if field_selector:
            self._base_params["fieldSelector"] = field_selector
        if label_selector:
            self._base_params["labelSelector"] = label_selector
        self._backoff = Backoff(self.options.retry)
        item: Any = item_type
        self._page_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            KubeList[item], dec_hook=dec_hook
        )
        self._event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            WatchEvent[item], dec_hook=dec_hook
        )
        self._item_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(item_type, dec_hook=dec_hook)
        self._log = fields(resource=self.name, namespace=self.namespace or "*")

    @property
    def resource_version(self) -> str:
        return self.stats.resource_version

    # -- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """List, then watch, forever; recover from every failure. Cancel the task to stop."""
        stats = self.stats
        need_list = True
        gone_in_a_row = 0
        while True:
            if need_list:
                try:
                    await self._list()
                except asyncio.CancelledError:
                    raise
                except GoneError as e:
                    stats.gone += 1
                    gone_in_a_row += 1
                    logger.debug("list expired, listing again", extra=self._with(error=str(e)))
                    if gone_in_a_row > 1:
                        await self._sleep(e)
                    continue
                except (KubeError, DecodeError) as e:
                    gone_in_a_row = 0
                    logger.warning("list failed", extra=self._with(path=self.path, error=str(e)))
                    await self._sleep(e)
                    continue
                gone_in_a_row = 0
                need_list = False
            if await self._watch():
                need_list = True
                stats.relists += 1

    async def _sleep(self, error: BaseException | None = None) -> None:
        retry_after = error.retry_after if isinstance(error, ApiStatusError) else None
        delay = self._backoff.next_delay(retry_after)
        logger.debug("backing off", extra=self._with(seconds=round(delay, 3)))
        await asyncio.sleep(delay)

    def _with(self, **kv: Any) -> dict[str, Any]:
        return {"fields": {**self._log["fields"], **kv}}

    # -- list ----------------------------------------------------------------------------------

    async def _list(self) -> None:
        stats = self.stats
        sink = self.sink
        started = time.monotonic()
        limit = str(self.object_limit or self.options.page_size)
        params = {**self._base_params, "limit": limit}
        if self.use_cache:
            params["resourceVersion"] = "0"
        began = False
        count = 0
        rv = ""
        # The next page is requested as soon as this one's continue token is decoded, so the server
        # serves it while this page's objects go to the sink: at 1,000 nodes x 30 pods that hides
        # ~60 round trips of the server building a page of 500 pods. Two pages at most are held:
        # the one being applied (decoded) and the next one's raw bytes.
        ahead: asyncio.Task[bytes] | None = None
        try:
            body = await self._get_page(params)
            while True:
                items, meta = self._decode_page(body)
                del body
                rv = meta.resource_version
                if meta.continue_ and not self.object_limit:
                    params = {**self._base_params, "limit": limit, "continue": meta.continue_}
                    ahead = asyncio.ensure_future(self._get_page(params))
                if self.object_limit and len(items) > self.object_limit:
                    items = items[: self.object_limit]
                if not began:
                    self._sink_call(sink.replace_begin)
                    began = True
                self._apply_page(items)
                count += len(items)
                del items
                if self.pace is not None:
                    await self.pace()
                if ahead is None:
                    break
                body = await ahead
                ahead = None
        finally:
            if ahead is not None:  # this list failed or was cancelled: nobody will read that page
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
        self._sink_call(sink.replace_end)
        stats.resource_version = rv
        stats.listed += count
        stats.syncs += 1
        stats.last_list_objects = count
        stats.last_list_seconds = time.monotonic() - started
        logger.info(
            "list complete",
            extra=self._with(
                objects=count, rv=rv, seconds=round(stats.last_list_seconds, 3), syncs=stats.syncs
            ),
        )
        self.synced.set()
        if self.on_synced is not None:
            self.on_synced(stats.syncs)

    def _apply_page(self, items: list[Any]) -> None:
        """Upsert a page's items: at once if the sink takes pages (``upsert_page``), else one by one."""
        upsert_page = getattr(self.sink, "upsert_page", None)
        if upsert_page is not None:
            try:
                upsert_page(items)
                return
            except Exception as e:  # upserts are idempotent: apply them one by one to isolate it
                logger.warning(
                    "sink failed on a list page, applying its items one by one",
                    extra=self._with(error=repr(e)[:300]),
                )
        upsert = self.sink.upsert
        for obj in items:
            try:
                upsert(obj)
            except Exception as e:
                self._sink_failed("upsert", obj, e)

    async def _get_page(self, params: dict[str, str]) -> bytes:
        try:
            body = await self.client.get(self.path, params)
        except KubeError:
            self.stats.lists_error += 1
            raise
        self.stats.lists_ok += 1
        self.stats.bytes_read += len(body)
        return body

    def _decode_page(self, body: bytes) -> tuple[list[Any], ListMeta]:
        try:
            page = self._page_decoder.decode(body)
            return page.items, page.metadata
        except msgspec.ValidationError:
            pass  # some item does not fit T: isolate it below
        except msgspec.DecodeError as e:
            raise DecodeError(f"list {self.path}: the response is not valid JSON: {e}") from None
        try:
            raw = _raw_list_decoder.decode(body)
        except msgspec.DecodeError as e:
            raise DecodeError(f"list {self.path}: the response is not a list: {e}") from None
        items: list[Any] = []
        decode = self._item_decoder.decode
        for r in raw.items:
            try:
                items.append(decode(r))
            except msgspec.DecodeError as e:
                self._decode_failed("object in list page skipped", r, e)
        return items, raw.metadata

    # -- watch ---------------------------------------------------------------------------------

    async def _watch(self) -> bool:
        """One watch request; True if a relist is needed, False to watch again."""
        stats = self.stats
        opts = self.options
        params = {
            **self._base_params,
            "watch": "true",
            "resourceVersion": stats.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(int(opts.min_watch_timeout * (1.0 + random.random()))),
        }
        started = time.monotonic()
        lines = 0
        opened = False
        try:
            async with self.client.stream(
                self.path,
                params,
                read_timeout=opts.inactivity_timeout or None,
                on_oversized=self._oversized,
            ) as stream:
                opened = True
                stats.watches_ok += 1
                handle = self._handle_line
                next_batch = stream.next_batch
                counted = 0
                while batch := await next_batch():
                    lines += len(batch)
                    stats.bytes_read += stream.bytes_read - counted
                    counted = stream.bytes_read
                    for line in batch:
                        handle(line)
                    if self.pace is not None:
                        await self.pace()
        except asyncio.CancelledError:
            raise
        except GoneError as e:
            stats.gone += 1
            if not opened:
                stats.watches_error += 1
            logger.debug(
                "watch expired, relisting", extra=self._with(rv=params["resourceVersion"], error=str(e))
            )
            return True
        except TransportTimeout as e:
            if opened:
                stats.inactivity_timeouts += 1
                logger.info(
                    "watch silent for too long, reconnecting",
                    extra=self._with(seconds=opts.inactivity_timeout, rv=stats.resource_version),
                )
                return False
            stats.watches_error += 1
            logger.warning("watch failed", extra=self._with(error=str(e)))
            await self._sleep(e)
            return False
        except (TransportError, TooManyRequests, ServerError) as e:
            if not opened:
                stats.watches_error += 1
            if opened and lines and isinstance(e, TransportError):
                # a stream that made progress broke: like client-go, just watch again
                logger.info("watch connection lost, reconnecting", extra=self._with(error=str(e)))
                return False
            logger.warning("watch failed", extra=self._with(error=str(e)))
            await self._sleep(e)
            return False
        except ApiStatusError as e:
            if not opened:
                stats.watches_error += 1
            logger.warning("watch failed, relisting", extra=self._with(error=str(e)))
            await self._sleep(e)
            return True
        if lines == 0 and time.monotonic() - started < opts.very_short_watch:
            logger.warning(
                "watch ended immediately without events", extra=self._with(rv=stats.resource_version)
            )
            await self._sleep()
        return False

    def _handle_line(self, line: bytes) -> None:
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
                self._raise_status(_raw_event_decoder.decode(line).object)
            else:
                self._decode_failed(f"watch event of unknown type {t!r} skipped", line, None)
                return
        except ApiStatusError:
            raise
        except Exception as e:
            self._sink_failed(t.lower(), obj, e)
        rv = obj.metadata.resource_version
        if rv:
            stats.resource_version = rv

    def _slow_line(self, line: bytes) -> None:
        """A line that does not decode into ``WatchEvent[T]``: blank, ERROR, or malformed."""
        if not line.strip():
            return
        try:
            raw = _raw_event_decoder.decode(line)
        except msgspec.DecodeError as e:
            self._decode_failed("malformed watch line skipped", line, e)
            return
        if raw.type == "ERROR":
            self._raise_status(raw.object)
        try:
            head: _RVObject | None = _rv_decoder.decode(raw.object)
        except msgspec.DecodeError:
            head = None
        if raw.type == "BOOKMARK" and head is not None:
            self.stats.bookmarks += 1
        else:
            try:
                self._item_decoder.decode(raw.object)
            except msgspec.DecodeError as e:
                self._decode_failed(f"{raw.type} event with a malformed object skipped", raw.object, e)
        # the skipped event still moves the stream on: resuming before it would only fail again
        if head is not None and head.metadata.resource_version:
            self.stats.resource_version = head.metadata.resource_version

    def _raise_status(self, raw: msgspec.Raw | bytes) -> None:
        try:
            st = _status_decoder.decode(raw)
        except msgspec.DecodeError:
            st = Status(code=500, message="undecodable ERROR event: " + truncate(bytes(raw)))
        retry_after = (
            float(st.details.retry_after_seconds) if st.details and st.details.retry_after_seconds else None
        )
        raise status_error(
            st.code or 500, st.reason, st.message or "watch ERROR event", retry_after=retry_after
        )

    # -- failures of single items ----------------------------------------------------------------

    def _decode_failed(self, what: str, data: bytes | msgspec.Raw, error: Exception | None) -> None:
        self.stats.decode_errors += 1
        n = self.stats.decode_errors
        if not _should_log(n):
            return
        try:
            head: _RVObject | None = _rv_decoder.decode(data)
        except msgspec.DecodeError:
            head = None
        kv: dict[str, Any] = {"decode_errors": n}
        if head is not None and head.metadata.name:
            kv.update(
                name=head.metadata.name, object_namespace=head.metadata.namespace, uid=head.metadata.uid
            )
        if error is not None:
            kv["error"] = str(error)
        # never the content: a Secret's data would end up in the log
        kv["bytes"] = len(data)
        logger.warning(what, extra=self._with(**kv))

    def _oversized(self, size: int) -> None:
        self.stats.decode_errors += 1
        if _should_log(self.stats.decode_errors):
            logger.warning(
                "watch line longer than max_line_size skipped",
                extra=self._with(bytes=size, max_line_size=self.client.settings.max_line_size),
            )

    def _sink_failed(self, op: str, obj: Any, error: Exception) -> None:
        self.stats.sink_errors += 1
        if _should_log(self.stats.sink_errors):
            meta = getattr(obj, "metadata", None)
            logger.error(
                "sink failed on an object, skipped",
                exc_info=error,
                extra=self._with(op=op, name=getattr(meta, "name", ""), uid=getattr(meta, "uid", "")),
            )

    def _sink_call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as e:
            self.stats.sink_errors += 1
            logger.error("sink failed", exc_info=e, extra=self._with(op=getattr(fn, "__name__", "?")))


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
