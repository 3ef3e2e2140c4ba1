"""Decode a Kubernetes list response object by object as it arrives, in bounded memory.

msgspec decodes one whole document at a time: a list answered in one response (a
``resourceVersion=0`` list served from kube-apiserver's watch cache ignores ``limit``: 30,000 pods
come as one 220 MB body) would need the whole body, then every object of it, at once (651 MB peak
RSS measured against a real kube-apiserver). :class:`ListDecoder` takes the body chunk by chunk;
once more than a *window* (1 MiB) of items is buffered, the buffer is cut at the last item
boundary within a window and that run of items is decoded by one msgspec call, then the next
window's, each only once the consumer took the run before it, so memory holds a network read of
text and one window of objects (~300 pods), whatever the size of the list or of a read (aiohttp
hands over up to ~2 MiB at once).

No library splits a JSON array at C speed (msgspec has no streaming decoder; ijson builds dicts, at
orjson's speed or worse), so the boundary is found with ``bytes.rfind``: kube-apiserver writes
compact JSON and every item of a list begins the same way, up to its name (``{"metadata":
{"name":"`` for built-in kinds, ``{"apiVersion":"g/v","kind":"K","metadata":{"name":"`` for
custom resources), so ``},`` followed by the first item's beginning marks the end of an item. Those
bytes never occur inside a string (JSON escapes every quote in one), but they do between the
objects of a nested array that begin the same way (a StatefulSet's ``volumeClaimTemplates``): such
a cut does not decode, and the boundary before it is tried. Measured on 30,000 simulated pods
(101 MB): 0.31 CPU-s through 1 MiB windows against 0.84 s for one msgspec call on the whole body,
which allocates every object at once.

Items that are valid JSON but do not fit the item type are decoded one by one and reported to
``on_skip``, as the reflector does for a list page; a body that is not JSON raises
:class:`~kubescope.errors.DecodeError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import msgspec

from kubescope.errors import DecodeError
from kubescope.model.meta import KubeList, ListMeta, RawList

T = TypeVar("T")

WINDOW = 1 << 20
"""Bytes of items buffered before a run of them is cut and decoded."""
MAX_BUFFER = 64 << 20
"""Bytes of items buffered without an item boundary before the body is refused (one object bigger
than this, or a body that is not a list as kube-apiserver writes one)."""

_ITEMS = re.compile(rb'"items"\s*:\s*(\[|null)')
_NAME = b'"name":"'
_METADATA = b'"metadata":{'
_PREFIX_SEARCH = 4096
"""How far into the first item its ``"metadata":{`` is looked for."""
_TRIES = 8
"""Boundaries tried per window before more of the body is awaited."""


class _Head(msgspec.Struct):
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)


class ListDecoder(Generic[T]):
    """Feed a list response's body with :meth:`feed`, then call :meth:`finish`; each returns the
    items decoded so far (in body order). :attr:`metadata` is the list's ``metadata`` (its
    ``resourceVersion`` and ``continue`` token) once known: after the head for kube-apiserver,
    which writes it before the items, after :meth:`finish` otherwise."""

    def __init__(
        self,
        item_type: Any,
        *,
        dec_hook: Callable[[type, Any], Any] | None = None,
        on_skip: Callable[[bytes | msgspec.Raw, Exception], None] | None = None,
        window: int = WINDOW,
        max_buffer: int = MAX_BUFFER,
        what: str = "list",
    ) -> None:
        self._items: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[item_type], dec_hook=dec_hook)
        self._item: msgspec.json.Decoder[Any] = msgspec.json.Decoder(item_type, dec_hook=dec_hook)
        self._tail: msgspec.json.Decoder[Any] = msgspec.json.Decoder(KubeList[item_type], dec_hook=dec_hook)
        self._on_skip = on_skip
        self._window = window
        self._max = max_buffer
        self._what = what
        self._buf = bytearray()
        # index in _buf of the byte before the next undecoded item: the '[' of the items array,
        # then the ',' after the last decoded one; -1 until the items array is found
        self._start = -1
        self._boundary: bytes | None = None
        self._null_items = False
        self._next_cut = 0
        self.metadata = ListMeta()
        self.bytes = 0
        self.items = 0

    def feed(self, data: bytes) -> Iterator[list[T]]:
        """Take the next chunk of the body (at once: :attr:`metadata` is known after it); return
        the runs of items it completed (often none), each of at most about a window of text and
        decoded only when the iteration reaches it, so the consumer can be done with one run's
        objects before the next are made. A run not taken stays buffered for the next call."""
        self.bytes += len(data)
        self._buf += data
        if self._start < 0 and not self._find_items():
            if len(self._buf) > self._max:
                raise DecodeError(f"{self._what}: no items array in the first {len(self._buf)} bytes")
            return iter(())
        return self._runs()

    def _runs(self) -> Iterator[list[T]]:
        while not self._null_items and len(self._buf) >= self._next_cut:
            if self._boundary is None and not self._find_boundary():
                return
            out = self._cut()
            # after a cut, once a window more is buffered; after a failure (no boundary that
            # decodes), not before another window came: a malformed body costs one attempt per window
            self._next_cut = (self._start if out is not None else len(self._buf)) + self._window
            if out is None and len(self._buf) - self._start > self._max:
                raise DecodeError(
                    f"{self._what}: no item boundary in {len(self._buf) - self._start} bytes "
                    "(an object larger than that, or not a list as kube-apiserver writes one)"
                )
            if out:
                yield out

    def finish(self) -> list[T]:
        """The body ended: decode what is left (the last items and the list's closing bytes: less
        than a window once every run :meth:`feed` returned was taken)."""
        buf = self._buf
        self._buf = bytearray()
        if self._start < 0 or self._null_items:
            # no items array, or "items":null: a small body, decoded whole
            try:
                head = msgspec.json.decode(buf, type=_Head)
            except msgspec.DecodeError as e:
                raise DecodeError(f"{self._what}: the response is not a list: {e}") from None
            self.metadata = head.metadata
            return []
        # what is left is '[' or ',', the last items, ']' and the rest of the list object: put back
        # in front what a list object begins with, and decode that as a list
        rest = b'{"items":[' + bytes(memoryview(buf)[self._start + 1 :])
        try:
            page = self._tail.decode(rest)
            items = list(page.items)
        except msgspec.ValidationError:
            try:
                raw = msgspec.json.decode(rest, type=RawList)
            except msgspec.DecodeError as e:
                raise DecodeError(f"{self._what}: the response is not a list: {e}") from None
            page = raw
            items = self._one_by_one(raw.items)
        except msgspec.DecodeError as e:
            raise DecodeError(f"{self._what}: the response is not valid JSON: {e}") from None
        if page.metadata.resource_version or page.metadata.continue_:
            self.metadata = page.metadata  # written after the items (not by kube-apiserver)
        self.items += len(items)
        return items

    # -- internals -----------------------------------------------------------------------------

    def _find_items(self) -> bool:
        m = _ITEMS.search(self._buf)
        if m is None:
            return False
        try:
            head = msgspec.json.decode(bytes(self._buf[: m.start()]) + b'"items":[]}', type=_Head)
            self.metadata = head.metadata
        except msgspec.DecodeError:
            pass  # the metadata comes after the items, or the head is odd: finish() decides
        if m.group(1) == b"null":
            self._null_items = True
        self._start = m.end() - 1
        self._next_cut = self._start + self._window
        return True

    def _find_boundary(self) -> bool:
        """Learn how items begin from the first one: ``},`` + its bytes up to its name."""
        buf = self._buf
        first = self._start + 1
        while first < len(buf) and buf[first] in b" \t\r\n":
            first += 1
        k = buf.find(_METADATA, first, first + _PREFIX_SEARCH)
        if k < 0:
            if len(buf) - first < _PREFIX_SEARCH:
                return False
            # no metadata near the start: the first key alone ({"key")
            q = buf.find(b'"', first + 2)
            if buf[first : first + 2] != b'{"' or q < 0:
                raise DecodeError(f"{self._what}: the items are not JSON objects")
            self._boundary = b"}," + bytes(buf[first : q + 1])
            return True
        end = k + len(_METADATA)
        if buf[end : end + len(_NAME)] == _NAME:
            end += len(_NAME)
        self._boundary = b"}," + bytes(buf[first:end])
        return True

    def _cut(self) -> list[T] | None:
        """Decode the items up to the last boundary within a window that decodes (or, with none
        there, an item bigger than a window, the buffer's last); None if none did."""
        assert self._boundary is not None
        buf = self._buf
        start = self._start
        end = min(len(buf), start + self._window + len(self._boundary))
        for _ in range(_TRIES):
            pos = buf.rfind(self._boundary, start + 1, end)
            if pos < 0:
                if end >= len(buf):
                    return None
                end = len(buf)
                continue
            # pos: the '}' ending an item; pos + 1: the ',' before the next one
            window = buf[start : pos + 2]
            window[0] = 0x5B  # [
            window[-1] = 0x5D  # ]
            try:
                items: list[T] = self._items.decode(window)
            except msgspec.ValidationError:
                items = self._one_by_one(msgspec.json.decode(window, type=list[msgspec.Raw]))
            except msgspec.DecodeError:
                end = pos + len(self._boundary) - 1  # a nested array's boundary: try the one before
                continue
            del buf[start : pos + 1]  # keep the ',' as the next window's first byte
            self.items += len(items)
            return items
        return None

    def _one_by_one(self, raws: list[msgspec.Raw]) -> list[T]:
        out: list[T] = []
        decode = self._item.decode
        for r in raws:
            try:
                out.append(decode(r))
            except msgspec.DecodeError as e:
                if self._on_skip is not None:
                    self._on_skip(r, e)
        return out
