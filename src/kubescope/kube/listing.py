"""One LIST of a resource: its pages requested one ahead, each body decoded object by object as it
arrives (:class:`~kubescope.kube.liststream.ListDecoder`).

The reflector's list path, apart from what it does with the objects: :meth:`ListPages.runs`
yields runs of decoded objects as the bytes come, and says where each page ends. The next page is
requested as soon as the current one's ``continue`` token is known (kube-apiserver writes it in the
list's head, before the items), so the server builds it while this one is decoded and applied: at
1,000 nodes x 30 pods that hid ~60 round trips when lists were paged by 500. At most two bodies
are open, this one and the next one's, whose unread bytes wait in the socket buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, Generic, TypeVar

import msgspec

from kubescope.errors import KubeError
from kubescope.kube.client import BodyStream, KubeClient
from kubescope.kube.liststream import WINDOW, ListDecoder

T = TypeVar("T")


class ListPages(Generic[T]):
    """A LIST of ``path`` with ``params`` (``limit``, ``resourceVersion``...), page by page.

    ``limit`` > 0 (kube-state-metrics' ``--object-limit``): one page, cut at that many objects even
    when the server sends more (a watch cache ignores ``limit``), its ``continue`` token ignored.
    After the iteration, :attr:`resource_version` is the list's; :attr:`pages_ok`,
    :attr:`pages_failed` and :attr:`bytes` count requests and body bytes (read them also after a
    failure).
    """

    def __init__(
        self,
        client: KubeClient,
        path: str,
        params: Mapping[str, str],
        item_type: Any,
        *,
        dec_hook: Callable[[type, Any], Any] | None = None,
        on_skip: Callable[[bytes | msgspec.Raw, Exception], None] | None = None,
        limit: int = 0,
        window: int = WINDOW,
    ) -> None:
        self.client = client
        self.path = path
        self.params = dict(params)
        self.item_type = item_type
        self.dec_hook = dec_hook
        self.on_skip = on_skip
        self.limit = limit
        self.window = window
        self.resource_version = ""
        self.pages_ok = 0
        self.pages_failed = 0
        self.bytes = 0

    async def runs(self) -> AsyncGenerator[tuple[list[T], bool], None]:
        """``(objects, page_end)``: the objects decoded since the last run, and whether the page
        ended with them (the last run of a page may be empty)."""
        ahead: asyncio.Task[BodyStream] | None = None
        body: BodyStream | None = None
        left = self.limit or -1
        try:
            body = await self._open(self.params)
            while True:
                dec: ListDecoder[T] = ListDecoder(
                    self.item_type,
                    dec_hook=self.dec_hook,
                    on_skip=self.on_skip,
                    window=self.window,
                    what=f"list {self.path}",
                )
                while left and (data := await body.read()):
                    runs = dec.feed(data)
                    del data
                    if ahead is None and dec.metadata.continue_ and not self.limit:
                        ahead = self._next(dec.metadata.continue_)
                    for items in runs:  # each decoded once the one before was applied
                        items, left = _cut(items, left)
                        yield items, False
                        del items
                        if not left:
                            break
                items = dec.finish() if left else []
                body.close()
                self.bytes += dec.bytes
                items, left = _cut(items, left)
                self.resource_version = dec.metadata.resource_version
                if ahead is None and dec.metadata.continue_ and not self.limit:
                    ahead = self._next(dec.metadata.continue_)
                yield items, True
                if ahead is None:
                    return
                body = await ahead
                ahead = None
        finally:
            if body is not None:
                body.close()
            if ahead is not None:  # this list failed or was cancelled: nobody will read that page
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    (await ahead).close()

    def _next(self, token: str) -> asyncio.Task[BodyStream]:
        # client-go's pager: no resourceVersion with a continue token (the API server refuses both)
        q = {k: v for k, v in self.params.items() if k not in ("resourceVersion", "resourceVersionMatch")}
        q["continue"] = token
        return asyncio.ensure_future(self._open(q))

    async def _open(self, params: dict[str, str]) -> BodyStream:
        body = self.client.body(self.path, params)
        try:
            await body.open()
        except KubeError:
            self.pages_failed += 1
            raise
        self.pages_ok += 1
        return body


def _cut(items: list[T], left: int) -> tuple[list[T], int]:
    """At most ``left`` of ``items`` (all when ``left`` < 0) and what is left after them."""
    if left < 0:
        return items, left
    items = items[:left]
    return items, left - len(items)
