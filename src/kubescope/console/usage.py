"""Current usage and the last 15 minutes of it, from the Metrics API (metrics.k8s.io).

Every ``interval`` the poller makes one LIST of all NodeMetrics and one of all PodMetrics, as the
dashboard's metrics-scraper does, and writes one column of a ring: a row per node or pod (pods by
namespace/name, the Metrics API's key), ``window`` seconds of columns, CPU in millicores and memory in
bytes as float32, NaN where an object had no sample. Lists sort on the current values and draw their
sparklines from the ring, so a list page asks nothing of anyone; at 30,000 pods and 15-second polls
the ring is 30,000 x 60 x 2 x 4 bytes = 14 MiB.

When the Metrics API fails, the ring keeps what it had (ageing out) and :attr:`Usage.error` says why;
pages show it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence

import msgspec
import numpy as np

from kubescope.console import wire
from kubescope.console.units import bytes_of, millicores_of
from kubescope.errors import DecodeError, KubeError
from kubescope.kube.client import KubeClient
from kubescope.log import fields

logger = logging.getLogger(__name__)

METRICS = "/apis/metrics.k8s.io/v1beta1"
NOT_YET = "the first poll of the Metrics API has not finished yet"
_nodes = msgspec.json.Decoder(wire.NodeMetricsList)
_pods = msgspec.json.Decoder(wire.PodMetricsList)


class Ring:
    """Rows of keyed series over the last ``columns`` polls (see the module docstring)."""

    def __init__(self, columns: int, rows: int = 256) -> None:
        self.columns = columns
        self.cpu = np.full((rows, columns), np.nan, np.float32)
        self.mem = np.full((rows, columns), np.nan, np.float32)
        self.times = np.full(columns, np.nan)
        self.head = -1
        """The column written last."""
        self.slots: dict[str, int] = {}
        self.latest: dict[str, tuple[float, float, float]] = {}
        """key -> its newest (millicores, bytes, poll time) within the window: what lists sort on."""
        self._free: list[int] = []

    def _slot(self, key: str) -> int:
        slot = self.slots.get(key)
        if slot is not None:
            return slot
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self.slots)
            if slot >= self.cpu.shape[0]:
                grow = self.cpu.shape[0]
                pad = np.full((grow, self.columns), np.nan, np.float32)
                self.cpu = np.vstack([self.cpu, pad])
                self.mem = np.vstack([self.mem, pad.copy()])
        self.slots[key] = slot
        return slot

    def write(self, t: float, values: dict[str, tuple[float, float]]) -> None:
        """One poll: ``key -> (millicores, bytes)``; keys unseen for a whole window are dropped."""
        col = (self.head + 1) % self.columns
        self.head = col
        self.times[col] = t
        self.cpu[:, col] = np.nan
        self.mem[:, col] = np.nan
        for key, (c, m) in values.items():
            slot = self._slot(key)
            self.cpu[slot, col] = c
            self.mem[slot, col] = m
            self.latest[key] = (c, m, t)
        horizon = t - self.window_seconds()
        for key in [k for k, v in self.latest.items() if v[2] < horizon]:
            slot = self.slots.pop(key)
            del self.latest[key]
            self.cpu[slot] = np.nan
            self.mem[slot] = np.nan
            self._free.append(slot)

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
        v = self.latest.get(key)
        return _NONE if v is None else (v[0], v[1])

    def series(self, keys: Sequence[str], what: str) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) oldest first, summed over ``keys`` (NaN where none had a sample)."""
        idx = self.order()
        data = self.cpu if what == "cpu" else self.mem
        slots = [s for s in (self.slots.get(k) for k in keys) if s is not None]
        if not slots:
            return self.times[idx], np.full(idx.size, np.nan)
        block = data[np.ix_(np.array(slots, np.int64), idx)].astype(np.float64)
        present = ~np.isnan(block)
        total = np.where(present, block, 0.0).sum(axis=0)
        return self.times[idx], np.where(present.any(axis=0), total, np.nan)


_NONE: tuple[None, None] = (None, None)


def pod_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


class Usage:
    """The Metrics API's view, polled (see the module docstring)."""

    def __init__(
        self,
        client: KubeClient,
        *,
        interval: float,
        window: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.interval = interval
        columns = max(2, math.ceil(window / interval) + 1)
        self.nodes = Ring(columns, 64)
        self.pods = Ring(columns, 1024)
        self.clock = clock
        self.error = NOT_YET
        self.last_ok = 0.0
        self.polls = 0
        self.failures = 0

    async def poll(self) -> None:
        t = self.clock()
        try:
            nodes_body, pods_body = await asyncio.gather(
                self.client.get(f"{METRICS}/nodes"), self.client.get(f"{METRICS}/pods")
            )
            nodes = _nodes.decode(nodes_body).items
            pods = _pods.decode(pods_body).items
        except (KubeError, msgspec.DecodeError, msgspec.ValidationError, DecodeError) as e:
            self.failures += 1
            if self.error in ("", NOT_YET):  # log the change to failing, not every failed poll
                logger.warning("Metrics API unavailable", extra=fields(error=str(e)[:300]))
            self.error = f"the Metrics API (metrics.k8s.io) did not answer: {str(e)[:200]}"
            return
        node_values = {}
        for n in nodes:
            c, m = millicores_of(n.usage.cpu), bytes_of(n.usage.memory)
            if c is not None and m is not None:
                node_values[n.metadata.name] = (c, m)
        pod_values = {}
        for p in pods:
            cs = [(millicores_of(c.usage.cpu), bytes_of(c.usage.memory)) for c in p.containers]
            if cs and all(c is not None and m is not None for c, m in cs):
                pod_values[pod_key(p.metadata.namespace, p.metadata.name)] = (
                    sum(c for c, _ in cs if c is not None),
                    sum(m for _, m in cs if m is not None),
                )
        self.nodes.write(t, node_values)
        self.pods.write(t, pod_values)
        self.polls += 1
        self.last_ok = t
        if self.error:
            logger.info("Metrics API polled", extra=fields(nodes=len(node_values), pods=len(pod_values)))
        self.error = ""

    async def run(self) -> None:
        """Poll forever (a supervised task)."""
        while True:
            started = time.monotonic()
            await self.poll()
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
