"""One recording cycle: the Metrics API's nodes and pods, turned into samples for the store.

Each cycle makes one LIST of all NodeMetrics and one of all PodMetrics (metrics.k8s.io, served by
kubescope resource-metrics or metrics-server), as the dashboard's metrics-scraper does. Every item
becomes samples at the item's own ``timestamp`` (the kubelet's sample time, not the cycle's):

* a node: its CPU and memory;
* a pod: each container's CPU and memory, and the pod's (the sum of its containers, as
  ``kubectl top pod`` shows it), under the pod's UID from :class:`~.pods.PodCatalog`.

A sample whose timestamp is not newer than the series' last one is skipped (the source had not
refreshed since the previous cycle: metrics-server's own resolution may be longer than ours), so
a series never holds a duplicate. Pods the catalog does not know yet (created between its watch
event and this LIST) are skipped and counted; they are recorded from the next cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import msgspec
import numpy as np

from kubescope.errors import DecodeError
from kubescope.history.pods import PodCatalog
from kubescope.history.series import CPU_UNIT, PodInfo, SeriesKey
from kubescope.history.store import LAG, HistoryStore
from kubescope.model.metrics_api import NodeMetricsList, PodMetricsList
from kubescope.model.quantity import QuantityError, parse_quantity
from kubescope.model.timefmt import rfc3339_unix

logger = logging.getLogger(__name__)

I64 = np.int64


NODE_DECODER = msgspec.json.Decoder(NodeMetricsList)
POD_DECODER = msgspec.json.Decoder(PodMetricsList)


@dataclass
class CycleStats:
    samples: int = 0
    nodes: int = 0
    pods: int = 0
    duplicates: int = 0
    stale: int = 0
    """Samples more than :data:`~kubescope.history.store.LAG` from the cycle (a stuck source)."""
    unknown_pods: int = 0
    bad_items: int = 0
    no_rate: int = 0
    """Kubelet points without a CPU rate (``--source=kubelets``: a first point, a restart, a glitch)."""
    errors: list[str] = field(default_factory=list)


@dataclass
class Batch:
    """Samples of one cycle, ready for :meth:`HistoryStore.append`."""

    keys: list[tuple[SeriesKey, PodInfo | None]] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    values: list[int] = field(default_factory=list)

    def add(self, key: SeriesKey, pod: PodInfo | None, ts: int, value: int) -> None:
        self.keys.append((key, pod))
        self.ts.append(ts)
        self.values.append(value)


def _cpu(s: str) -> int:
    return round(parse_quantity(s) * CPU_UNIT)


def _memory(s: str) -> int:
    return int(parse_quantity(s))


def _ts(s: str) -> int:
    t = rfc3339_unix(s)
    if t is None:
        raise DecodeError(f"timestamp {s!r} is not RFC 3339")
    return t


def node_samples(body: bytes, batch: Batch, stats: CycleStats) -> None:
    try:
        items = NODE_DECODER.decode(body).items
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise DecodeError(f"NodeMetricsList: {e}") from e
    for item in items:
        name = item.metadata.name
        try:
            ts, cpu, mem = _ts(item.timestamp), _cpu(item.usage.cpu), _memory(item.usage.memory)
        except (DecodeError, QuantityError, ValueError) as e:
            stats.bad_items += 1
            stats.errors.append(f"node {name}: {e}")
            continue
        batch.add(SeriesKey("node", "cpu", name), None, ts, cpu)
        batch.add(SeriesKey("node", "memory", name), None, ts, mem)
        stats.nodes += 1


def pod_samples(body: bytes, catalog: PodCatalog, batch: Batch, stats: CycleStats) -> None:
    try:
        items = POD_DECODER.decode(body).items
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise DecodeError(f"PodMetricsList: {e}") from e
    for item in items:
        meta = item.metadata
        pod = catalog.lookup(meta.namespace, meta.name)
        if pod is None:
            stats.unknown_pods += 1
            continue
        try:
            ts = _ts(item.timestamp)
            usage = [(c.name, _cpu(c.usage.cpu), _memory(c.usage.memory)) for c in item.containers]
        except (DecodeError, QuantityError, ValueError) as e:
            stats.bad_items += 1
            stats.errors.append(f"pod {meta.namespace}/{meta.name}: {e}")
            continue
        if not usage:
            continue
        for name, cpu, mem in usage:
            batch.add(SeriesKey("container", "cpu", pod.uid, name), pod, ts, cpu)
            batch.add(SeriesKey("container", "memory", pod.uid, name), pod, ts, mem)
        batch.add(SeriesKey("pod", "cpu", pod.uid), pod, ts, sum(u[1] for u in usage))
        batch.add(SeriesKey("pod", "memory", pod.uid), pod, ts, sum(u[2] for u in usage))
        stats.pods += 1


class Recorder:
    """Feeds batches into the store, skipping samples that are not newer than their series' last."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        last = store.last_samples()
        self.last = np.zeros(max(last, default=0) + 1, I64)
        """Newest sample time by series id (0: none): 8 bytes a series, where a dict of ints took ~100."""
        if last:
            self.last[np.fromiter(last.keys(), I64, len(last))] = np.fromiter(last.values(), I64, len(last))

    def write(self, t: int, batch: Batch, stats: CycleStats) -> None:
        if not batch.keys:
            return
        ts = np.array(batch.ts, I64)
        off = np.abs(ts - t) > LAG
        if off.any():
            stats.stale += int(off.sum())
            keep_items = np.flatnonzero(~off).tolist()
            batch = Batch(
                [batch.keys[i] for i in keep_items], [batch.ts[i] for i in keep_items],
                [batch.values[i] for i in keep_items],
            )  # fmt: skip
            ts = ts[~off]
            if not batch.keys:
                return
        sids = np.array(self.store.series_ids(batch.keys, min(batch.ts)), I64)
        values = np.array(batch.values, I64)
        if int(sids.max()) >= self.last.size:
            grown = np.zeros(max(int(sids.max()) + 1, 2 * self.last.size), I64)
            grown[: self.last.size] = self.last
            self.last = grown
        keep = ts > self.last[sids]
        # a series may appear twice in one batch (a list answered with a duplicate item): the
        # first new sample wins
        cand = np.flatnonzero(keep)
        _, first = np.unique(sids[cand], return_index=True)
        keep[:] = False
        keep[cand[first]] = True
        stats.duplicates += int(sids.size - keep.sum())
        sids, ts, values = sids[keep], ts[keep], values[keep]
        if sids.size:
            self.store.append(t, sids, ts, values)
            self.last[sids] = ts
        stats.samples += int(sids.size)
