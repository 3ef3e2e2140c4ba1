"""Answers cached per request key, concurrent identical requests coalesced, stale answers bounded.

An HPA asks for the same metric every sync period (15 s); thousands of HPAs ask at once after a
controller restart. :class:`AnswerCache` keeps each computed answer for ``ttl`` seconds (a hit costs a
dict lookup), lets requests for a key that is being computed wait for that one computation instead
of starting their own (singleflight), and, when a computation fails for a backend reason (Prometheus
down or slow, the Kubernetes API unreachable), answers the last good value if it is at most
``max_stale`` seconds old, telling the caller its age. Older answers are never served: past that
bound the failure is the answer, so an HPA stops acting on data nobody can vouch for.

Memory is bounded: at most ``max_entries`` keys; expired entries are swept when the cache is full,
then the least recently computed are dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


class BackendFailure(Exception):
    """A computation failed for a reason a stale answer may cover (wraps the cause)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    """``hit``, ``miss``, ``coalesced`` or ``stale``."""
    age: float = 0.0
    """Seconds since the answer was computed (for ``stale``: how stale)."""


HIT = Outcome("hit")
MISS = Outcome("miss")
COALESCED = Outcome("coalesced")


class AnswerCache(Generic[V]):
    def __init__(
        self,
        ttl: float,
        max_stale: float,
        *,
        max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_stale = max_stale
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._inflight: dict[Hashable, asyncio.Future[V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> tuple[V, Outcome]:
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and self.ttl > 0 and now - entry[0] < self.ttl:
            return entry[1], HIT
        pending = self._inflight.get(key)
        if pending is not None:
            # shield: one waiter giving up must not cancel the computation the others wait for
            return await asyncio.shield(pending), COALESCED
        fut: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            value = await compute()
        except BackendFailure as e:
            stale = self._stale(key)
            if stale is not None:
                fut.set_result(stale[1])
                return stale[1], Outcome("stale", self.clock() - stale[0])
            _fail(fut, e)
            raise
        except BaseException as e:
            _fail(fut, e)
            raise
        else:
            if self.ttl > 0:
                self._store(key, value)
            fut.set_result(value)
            return value, MISS
        finally:
            del self._inflight[key]

    def _stale(self, key: Hashable) -> tuple[float, V] | None:
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry[0] > self.max_stale:
            return None
        return entry

    def _store(self, key: Hashable, value: V) -> None:
        entries = self._entries
        entries.pop(key, None)  # re-insert: dict order is then computation order
        if len(entries) >= self.max_entries:
            self.sweep()
            while len(entries) >= self.max_entries:
                del entries[next(iter(entries))]
        entries[key] = (self.clock(), value)

    def sweep(self) -> int:
        """Drop entries too old to be served even stale; returns how many."""
        limit = self.clock() - max(self.ttl, self.max_stale)
        old = [k for k, (t, _) in self._entries.items() if t < limit]
        for k in old:
            del self._entries[k]
        return len(old)

    def oldest_age(self) -> float:
        if not self._entries:
            return 0.0
        return self.clock() - min(t for t, _ in self._entries.values())


def _fail(fut: asyncio.Future[V], e: BaseException) -> None:
    if isinstance(e, asyncio.CancelledError):
        fut.cancel()
    else:
        fut.set_exception(e)
    # waiters retrieve it; without waiters nobody does, so mark it retrieved
    fut.exception() if not fut.cancelled() else None
