"""The object store's watch cache: the bounded history of changes that watches resume from, and
the open watches each change is fanned out to, as kube-apiserver's watch cache keeps them.

Every change is recorded once (:meth:`WatchCache.record`) with one global resourceVersion; the
history keeps the last ``size`` of them, and a watch may start from any resourceVersion at or after
:attr:`WatchCache.floor` (older ones get 410 Gone). A change reaches only the watchers of its
resource; a pod's reaches only the watchers of its node when they select one
(:data:`~kubescope.sim.entries.TRIGGERS`). An event line is encoded once for all the watchers it
goes to.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping

import msgspec

from kubescope.apiserver.selectors import FieldSelector, LabelSelector
from kubescope.sim.entries import TRIGGERS, Event, trigger_value

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


class Watcher:
    """One open watch: a queue of event lines for a resource, filtered by namespace and selectors.

    Selector transitions follow kube-apiserver's watch cache: an object that starts matching arrives
    as ADDED, one that stops matching as DELETED (carrying its previous content at the event's
    resourceVersion). Queue items are ``(type, payload)``; types starting with ``_`` are markers the
    HTTP layer turns into lines of its own (initial-events-end bookmarks, malformed lines).
    """

    def __init__(
        self,
        res: str,
        namespace: str,
        labels: LabelSelector | None,
        fields: FieldSelector | None,
        max_queue: int = 200_000,
    ) -> None:
        self.res = res
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.queue: collections.deque[tuple[str, bytes, bytes]] = collections.deque()
        """``(type, object bytes, event line or b"")``: the line is encoded once for all watchers."""
        self.wake = asyncio.Event()
        self.closed = False
        self.close_reason = ""
        self.max_queue = max_queue

    def matches(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        if self.labels is not None and not self.labels.matches(labels):
            return False
        return self.fields is None or self.fields.matches(fields)

    def offer(self, ev: Event, lines: dict[str, bytes] | None = None) -> None:
        """Queue ``ev`` if it concerns this watch; ``lines`` shares encoded lines between watchers."""
        if self.closed or (self.namespace and ev.namespace != self.namespace):
            return
        if ev.type == "DELETED":
            if self.matches(ev.labels, ev.fields):
                self.push("DELETED", ev.raw, _line(lines, "DELETED", ev.raw))
            return
        now = self.matches(ev.labels, ev.fields)
        before = ev.old is not None and self.matches(ev.old.labels, ev.old.fields)
        if now:
            typ = "MODIFIED" if before else "ADDED"
            self.push(typ, ev.raw, _line(lines, typ, ev.raw))
        elif before:
            assert ev.old is not None
            raw = with_resource_version(ev.old.raw, ev.rv)
            self.push("DELETED", raw, event_line("DELETED", raw))

    def push(self, typ: str, raw: bytes, line: bytes = b"") -> None:
        self.queue.append((typ, raw, line))
        if len(self.queue) > self.max_queue:
            self.close("watcher too slow")
        self.wake.set()

    def close(self, reason: str = "") -> None:
        self.closed = True
        self.close_reason = reason
        self.wake.set()


def with_resource_version(raw: bytes, rv: int) -> bytes:
    obj = _dec.decode(raw)
    obj["metadata"]["resourceVersion"] = str(rv)
    return _enc.encode(obj)


def event_line(typ: str, raw: bytes) -> bytes:
    return b'{"type":"' + typ.encode() + b'","object":' + raw + b"}\n"


def _line(lines: dict[str, bytes] | None, typ: str, raw: bytes) -> bytes:
    if lines is None:
        return b""
    line = lines.get(typ)
    if line is None:
        line = lines[typ] = event_line(typ, raw)
    return line


class WatchCache:
    """The history of changes and the open watches of one store."""

    def __init__(self, size: int) -> None:
        self.history: collections.deque[Event] = collections.deque()
        self.size = max(1, size)
        self.floor = 1
        """Watches may start from any resourceVersion >= this; older ones get 410 Gone."""
        self.watchers: dict[str, set[Watcher]] = {}
        """Watchers by resource, except those reached through a trigger index (below)."""
        self._trigger_watchers: dict[str, dict[str, set[Watcher]]] = {r: {} for r in TRIGGERS}
        self._closed_reason: str | None = None

    def record(self, ev: Event) -> None:
        """Keep ``ev`` in the history and queue it to every watcher it concerns."""
        if len(self.history) >= self.size:
            self.floor = self.history.popleft().rv
        self.history.append(ev)
        res, old = ev.res, ev.old
        watchers = self.watchers.get(res)
        by_value = self._trigger_watchers.get(res)
        if by_value:
            # kube-apiserver's trigger functions: a pod event reaches only the watchers of its node
            field = TRIGGERS[res]
            targets = set(by_value.get(ev.fields.get(field, ""), ()))
            if old is not None:
                targets |= by_value.get(old.fields.get(field, ""), set())
            if watchers:
                targets |= watchers
            watchers = targets
        if watchers:
            lines: dict[str, bytes] = {}
            for w in list(watchers):
                w.offer(ev, lines)

    def since(self, rv: int, current: int) -> list[Event] | None:
        """Events after ``rv`` still in the history (``current``: the store's resourceVersion);
        None when ``rv`` is older than what is kept."""
        if rv < self.floor:
            return None
        if rv >= current:
            return []
        out = []
        for ev in reversed(self.history):
            if ev.rv <= rv:
                break
            out.append(ev)
        out.reverse()
        return out

    def add_watcher(self, w: Watcher) -> None:
        if self._closed_reason is not None:
            w.close(self._closed_reason)
        value = trigger_value(w.res, w.fields)
        if value is not None:
            self._trigger_watchers[w.res].setdefault(value, set()).add(w)
        else:
            self.watchers.setdefault(w.res, set()).add(w)

    def remove_watcher(self, w: Watcher) -> None:
        value = trigger_value(w.res, w.fields)
        if value is not None:
            ws = self._trigger_watchers[w.res].get(value)
            if ws is not None:
                ws.discard(w)
                if not ws:
                    del self._trigger_watchers[w.res][value]
        else:
            self.watchers.get(w.res, set()).discard(w)

    def all_watchers(self) -> list[Watcher]:
        out = [w for ws in self.watchers.values() for w in ws]
        out += [w for by_value in self._trigger_watchers.values() for ws in by_value.values() for w in ws]
        return out

    def close_watchers(self, reason: str = "", *, for_good: bool = False) -> int:
        """Close every open watch; ``for_good`` (shutting down) also closes watches opened later at
        once, so a client re-watching on a kept-alive connection cannot hold the shutdown."""
        if for_good:
            self._closed_reason = reason or "shutting down"
        ws = self.all_watchers()
        for w in ws:
            w.close(reason)
        return len(ws)

    def watcher_count(self) -> int:
        return len(self.all_watchers())
