"""Current usage and the last 15 minutes of it, from the Metrics API (metrics.k8s.io).

Every ``interval`` the poller makes one LIST of all NodeMetrics and one of all PodMetrics, as the
dashboard's metrics-scraper does, and writes one column of a ring: a row per node or pod (pods by
namespace/name, the Metrics API's key), ``window`` seconds of columns, CPU in millicores and memory in
bytes, NaN where an object had no sample. Lists sort on the current values and draw their
sparklines from the ring, so a list page asks nothing of anyone. Pods' rows are float16 (at 30,000
pods and 15-second polls 30,000 x 61 x 2 x 2 bytes = 7 MiB), in units that keep every value a pod
can have within float16's range (units of 16 millicores: up to 1,048 cores; of 64 MiB: up to 4 TiB) at 0.05 %
relative precision, more than a sparkline or a 15-minute chart draws; the newest values, which
lists show and sort on, are float64. Nodes' rows (few, up to 24 TiB each) are float32.

When the Metrics API fails, the ring keeps what it had (ageing out) and :attr:`Usage.error` says why;
pages show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np

from kubescope.console.units import bytes_of, millicores_of
from kubescope.errors import DecodeError, KubeError
from kubescope.kube.client import KubeClient
from kubescope.kube.listing import ListPages
from kubescope.log import fields
from kubescope.model.metrics_api import NodeMetrics, PodMetrics

logger = logging.getLogger(__name__)

METRICS = "/apis/metrics.k8s.io/v1beta1"
NOT_YET = "the first poll of the Metrics API has not finished yet"
DECODE_WINDOW = 256 << 10
"""Bytes of a Metrics API answer decoded at once (about 700 PodMetrics)."""


class Ring:
    """Rows of keyed series over the last ``columns`` polls (see the module docstring).

    Everything per row lives in numpy arrays (the series, and the newest sample each row had within
    the window, which lists sort on), so a poll allocates no Python object per row beyond its key's
    first appearance; rows of keys unseen for a whole window are reused. A poll is written column by
    column: :meth:`begin`, :meth:`put` per object as the answer is decoded, :meth:`commit` (or
    :meth:`abort` when the answer broke off: the ring is as before, less its oldest column).
    """

    def __init__(self, columns: int, rows: int = 256, compact: bool = False) -> None:
        self.columns = columns
        self.dtype = np.float16 if compact else np.float32
        """float16 rows store millicores / :data:`CPU_UNIT` and bytes / :data:`MEM_UNIT`."""
        self.cpu_unit, self.mem_unit = (CPU_UNIT, MEM_UNIT) if compact else (1.0, 1.0)
        self.cpu = np.full((rows, columns), np.nan, self.dtype)
        self.mem = np.full((rows, columns), np.nan, self.dtype)
        self.times = np.full(columns, np.nan)
        self.head = -1
        """The column written last."""
        self.slots: dict[str, int] = {}
        self.keys: list[str | None] = []
        """slot -> its key (None: free)."""
        self.latest = np.full((rows, 3), np.nan)
        """slot -> its newest (millicores, bytes, poll time) within the window: what lists sort on."""
        self._exact = np.full((rows, 2), np.nan)
        """slot -> (millicores, bytes) as put in the poll being written, unrounded (the newest)."""
        self._free: list[int] = []
        self._open: tuple[int, int] | None = None
        """While a poll is written: (its column, the head before it)."""

    def _slot(self, key: str) -> int:
        slot = self.slots.get(key)
        if slot is not None:
            return slot
        if self._free:
            slot = self._free.pop()
            self.keys[slot] = key
        else:
            slot = len(self.keys)
            self.keys.append(key)
            if slot >= self.cpu.shape[0]:
                self._grow()
        self.slots[key] = slot
        return slot

    def reserve(self, rows: int) -> None:
        """Room for ``rows`` keys (and a sixteenth more) before a poll, grown in one step: the
        console knows from its watches how many pods a poll will bring."""
        if rows > self.cpu.shape[0]:
            self._grow(rows + rows // 16 - self.cpu.shape[0])

    def _grow(self, more: int = 0) -> None:
        # by a quarter: at 30,000 pods a doubling would leave up to 15 MiB of rows unused
        more = more or max(256, self.cpu.shape[0] // 4)
        self.cpu = np.vstack([self.cpu, np.full((more, self.columns), np.nan, self.dtype)])
        self.mem = np.vstack([self.mem, np.full((more, self.columns), np.nan, self.dtype)])
        self.latest = np.vstack([self.latest, np.full((more, 3), np.nan)])
        self._exact = np.vstack([self._exact, np.full((more, 2), np.nan)])

    def begin(self, t: float) -> None:
        """Start a poll taken at ``t``: its column replaces the oldest."""
        col = (self.head + 1) % self.columns
        self._open = (col, self.head)
        self.head = col
        self.times[col] = t
        self.cpu[:, col] = np.nan
        self.mem[:, col] = np.nan

    def put(self, key: str, millicores: float, nbytes: float) -> None:
        assert self._open is not None, "put outside begin/commit"
        slot = self._slot(key)
        col = self._open[0]
        self.cpu[slot, col] = millicores / self.cpu_unit
        self.mem[slot, col] = nbytes / self.mem_unit
        exact = self._exact
        exact[slot, 0] = millicores
        exact[slot, 1] = nbytes

    def commit(self) -> None:
        """End the poll: its samples become the rows' newest; keys unseen for a window are dropped."""
        assert self._open is not None, "commit without begin"
        col = self._open[0]
        self._open = None
        n = len(self.keys)
        seen = ~np.isnan(self.cpu[:n, col])
        latest = self.latest[:n]
        latest[seen, :2] = self._exact[:n][seen]
        latest[seen, 2] = self.times[col]
        # a key put in a poll that was aborted has no newest sample: it goes like an expired one
        stale = ~(latest[:, 2] >= self.times[col] - self.window_seconds())
        for slot in np.flatnonzero(stale).tolist():
            key = self.keys[slot]
            if key is None:
                continue
            del self.slots[key]
            self.keys[slot] = None
            self.cpu[slot] = np.nan
            self.mem[slot] = np.nan
            self.latest[slot] = np.nan
            self._free.append(slot)

    def abort(self) -> None:
        """Forget the poll begun last (its answer broke off)."""
        if self._open is None:
            return
        col, head = self._open
        self._open = None
        self.times[col] = np.nan
        self.cpu[:, col] = np.nan
        self.mem[:, col] = np.nan
        self.head = head if head >= 0 or not np.isnan(self.times).all() else -1

    def write(self, t: float, values: dict[str, tuple[float, float]]) -> None:
        """One whole poll: ``key -> (millicores, bytes)``."""
        self.begin(t)
        for key, (c, m) in values.items():
            self.put(key, c, m)
        self.commit()

    def window_seconds(self) -> float:
        t = self.times[~np.isnan(self.times)]
        if t.size < 2:
            return math.inf
        return float(t.max() - t.min()) * self.columns / max(1, int(t.size) - 1)

    def order(self) -> np.ndarray:
        """Column indexes oldest first."""
        if self.head < 0:
            return np.zeros(0, np.int64)
        idx = (np.arange(self.columns) + self.head + 1) % self.columns
        return np.asarray(idx[~np.isnan(self.times[idx])], np.int64)

    def current(self, key: str) -> tuple[float | None, float | None]:
        """The newest sample of a key within the window (None: none)."""
        slot = self.slots.get(key)
        if slot is None:
            return _NONE
        c, m, t = self.latest[slot].tolist()
        return _NONE if t != t else (c, m)

    def __len__(self) -> int:
        return len(self.slots)

    def series(self, keys: Sequence[str], what: str) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) oldest first, summed over ``keys`` (NaN where none had a sample)."""
        idx = self.order()
        data = self.cpu if what == "cpu" else self.mem
        slots = [s for s in (self.slots.get(k) for k in keys) if s is not None]
        if not slots:
            return self.times[idx], np.full(idx.size, np.nan)
        block = data[np.ix_(np.array(slots, np.int64), idx)].astype(np.float64)
        block *= self.cpu_unit if what == "cpu" else self.mem_unit
        present = ~np.isnan(block)
        total = np.where(present, block, 0.0).sum(axis=0)
        return self.times[idx], np.where(present.any(axis=0), total, np.nan)


_NONE: tuple[None, None] = (None, None)
CPU_UNIT = 16.0
"""Millicores per unit of a float16 row: float16's largest value, 65,504, is 1,048 cores; a
microcore still has full precision."""
MEM_UNIT = float(1 << 26)
"""Bytes per unit of a float16 row (64 MiB): up to 4 TiB, 4 KiB at full precision."""


def pod_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


class _Sliced:
    """A client whose bodies are read at most ``size`` bytes at a time.

    A read returns everything received (up to twice the 1 MiB read buffer when the Metrics API
    answers faster than the poll decodes), and the list decoder decodes all it was given at once: in
    slices of a window, a poll holds a window's objects (about 700 PodMetrics) instead of up to 5,000
    (4 MB more at the poll's peak, at 30,000 pods)."""

    def __init__(self, client: KubeClient, size: int) -> None:
        self.client = client
        self.size = size

    def body(self, path: str, params: Any = None) -> _SlicedBody:
        return _SlicedBody(self.client.body(path, params), self.size)


class _SlicedBody:
    def __init__(self, body: Any, size: int) -> None:
        self.inner = body
        self.size = size
        self.left = memoryview(b"")

    async def open(self) -> None:
        await self.inner.open()

    def close(self) -> None:
        self.left = memoryview(b"")
        self.inner.close()

    async def read(self) -> bytes:
        if not self.left:
            self.left = memoryview(await self.inner.read())
        out, self.left = self.left[: self.size], self.left[self.size :]
        return bytes(out)


class Usage:
    """The Metrics API's view, polled (see the module docstring)."""

    def __init__(
        self,
        client: KubeClient,
        *,
        interval: float,
        window: float = 900.0,
        clock: Callable[[], float] = time.time,
        on_poll: Callable[[], object] | None = None,
        size_hint: Callable[[], tuple[int, int]] | None = None,
        window_bytes: int = DECODE_WINDOW,
    ) -> None:
        self.size_hint = size_hint
        """How many (nodes, pods) the cluster has now: the rings' rows are reserved from it."""
        self.client = client
        self.on_poll = on_poll
        """Called after each poll that succeeded (the console trims freed memory there)."""
        self.window = window_bytes
        self.interval = interval
        columns = max(2, math.ceil(window / interval) + 1)
        self.nodes = Ring(columns, 64)
        self.pods = Ring(columns, 1024, compact=True)
        self.clock = clock
        self.error = NOT_YET
        self.last_ok = 0.0
        self.polls = 0
        self.failures = 0

    async def poll(self) -> None:
        t = self.clock()
        counts = [0, 0]
        try:
            # the two answers stream in together, each decoded a window at a time straight into its
            # ring's new column: no whole body and no list of 30,000 decoded objects is ever held
            if self.size_hint is not None:
                hint = self.size_hint()
                self.nodes.reserve(hint[0])
                self.pods.reserve(hint[1])
            self.nodes.begin(t)
            self.pods.begin(t)
            done = await asyncio.gather(
                self._read(self.nodes, "nodes", NodeMetrics, counts, 0),
                self._read(self.pods, "pods", PodMetrics, counts, 1),
                return_exceptions=True,  # both end before the rings are committed or aborted
            )
            for outcome in done:
                if isinstance(outcome, BaseException):
                    raise outcome
        except (KubeError, msgspec.DecodeError, msgspec.ValidationError, DecodeError) as e:
            self.nodes.abort()
            self.pods.abort()
            self.failures += 1
            if self.error in ("", NOT_YET):  # log the change to failing, not every failed poll
                logger.warning("Metrics API unavailable", extra=fields(error=str(e)[:300]))
            self.error = f"the Metrics API (metrics.k8s.io) did not answer: {str(e)[:200]}"
            return
        except BaseException:
            self.nodes.abort()
            self.pods.abort()
            raise
        self.nodes.commit()
        self.pods.commit()
        self.polls += 1
        self.last_ok = t
        if self.error:
            logger.info("Metrics API polled", extra=fields(nodes=counts[0], pods=counts[1]))
        self.error = ""
        if self.on_poll is not None:
            self.on_poll()

    async def _read(self, ring: Ring, resource: str, item: type[Any], counts: list[int], i: int) -> None:
        sliced = _Sliced(self.client, self.window)
        pages: ListPages[Any] = ListPages(sliced, f"{METRICS}/{resource}", {}, item, window=self.window)  # type: ignore[arg-type]
        put = ring.put
        async with contextlib.aclosing(pages.runs()) as runs:
            async for objs, _ in runs:
                for o in objs:
                    if resource == "nodes":
                        c, m = millicores_of(o.usage.cpu), bytes_of(o.usage.memory)
                        if c is not None and m is not None:
                            put(o.metadata.name, c, m)
                            counts[i] += 1
                        continue
                    total_c = total_m = 0.0
                    for cm in o.containers:
                        c, m = millicores_of(cm.usage.cpu), bytes_of(cm.usage.memory)
                        if c is None or m is None:
                            break
                        total_c += c
                        total_m += m
                    else:
                        if o.containers:
                            put(pod_key(o.metadata.namespace, o.metadata.name), total_c, total_m)
                            counts[i] += 1

    async def run(self) -> None:
        """Poll forever (a supervised task)."""
        while True:
            started = time.monotonic()
            await self.poll()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
