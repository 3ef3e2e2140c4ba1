"""Self metrics: one way for every server to produce them.

A server's self metrics are prometheus_client collectors in one private :class:`SelfMetrics`
registry (never the global one): the process collector, the supervisor's task counters and the
serving core's own counters are always there; a server registers its collectors (objects with a
``collect()`` yielding metric families, usually reading plain attributes the hot paths update, so
those never touch a lock) and prometheus_client metric objects (``Histogram``, ``Counter``) with
``registry=metrics.registry``.

The text is written here rather than by ``prometheus_client.generate_latest`` so that it is the
Go originals' byte for byte (kube-state-metrics' and metrics-server's self metrics come from
client_golang): sample values in Go's shortest float form (``1``, not ``1.0``), label pairs sorted
by name (``le`` last), no ``_created`` series. Histograms whose observations are bulk-counted on a hot path use
:class:`Histogram` (plain numbers, no locks; :meth:`Histogram.family` turns it into a metric family).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import HistogramMetricFamily, Metric

from kubescope.model.gofmt import go_float

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram", "summary": "summary",
          "info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}  # fmt: skip
_SKIPPED_SUFFIXES = ("_created", "_gsum", "_gcount")
_BOUNDS = ("le", "quantile")


class SelfMetrics:
    """A private registry with the process collector, rendered as client_golang renders text."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)

    def register(self, collector: Any) -> None:
        """Add a collector: anything with ``collect() -> Iterable[Metric]``."""
        self.registry.register(collector)

    def render(self) -> bytes:
        return render(self.registry.collect())

    async def handle(self, request: web.Request) -> web.Response:
        """``GET /metrics``."""
        return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE})


def render(metrics: Iterable[Metric]) -> bytes:
    """The Prometheus text format (0.0.4) of ``metrics``, as client_golang writes it."""
    out: list[str] = []
    w = out.append
    for m in metrics:
        name = m.name + "_total" if m.type == "counter" else m.name
        w(f"# HELP {name} {_escape_help(m.documentation)}\n# TYPE {name} {_TYPES.get(m.type, 'untyped')}\n")
        skipped = tuple(m.name + s for s in _SKIPPED_SUFFIXES)
        samples = [s for s in m.samples if s.name not in skipped]
        if m.type in ("histogram", "summary", "gaugehistogram"):
            samples = _go_order(m.name, samples)
        for s in samples:
            if s.labels:
                pairs = ",".join(
                    f'{k}="{_escape_value(_bound(k, v))}"' for k, v in sorted(s.labels.items(), key=_order)
                )
                w(f"{s.name}{{{pairs}}} {go_float(s.value)}")
            else:
                w(f"{s.name} {go_float(s.value)}")
            w(f" {int(float(s.timestamp) * 1000)}\n" if s.timestamp is not None else "\n")
    return "".join(out).encode()


def _go_order(name: str, samples: list[Any]) -> list[Any]:
    """Per label set (first seen first): buckets or quantiles, then ``_sum``, then ``_count``."""
    rank = {name + "_sum": 1, name + "_count": 2}
    groups: dict[tuple[tuple[str, str], ...], int] = {}
    for s in samples:
        groups.setdefault(tuple(sorted((k, v) for k, v in s.labels.items() if k not in _BOUNDS)), len(groups))

    def key(s: Any) -> tuple[int, int]:
        g = tuple(sorted((k, v) for k, v in s.labels.items() if k not in _BOUNDS))
        return groups[g], rank.get(s.name, 0)

    return sorted(samples, key=key)


def _bound(label: str, value: str) -> str:
    """``le``/``quantile`` values in Go's float form (prometheus_client writes ``1.0``)."""
    if label in _BOUNDS:
        try:
            return go_float(float(value))
        except ValueError:
            return value
    return value


def _order(pair: tuple[str, str]) -> tuple[bool, str]:
    # label pairs sorted by name, a histogram's ``le`` and a summary's ``quantile`` last
    return pair[0] in _BOUNDS, pair[0]


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Histogram:
    """A histogram as plain numbers: ``observe`` is a bisect and three additions, no lock (updated
    from the event loop only). :meth:`observe_ages` counts many observations at once."""

    __slots__ = ("buckets", "count", "counts", "sum")

    def __init__(self, buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, v: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, v)] += 1
        self.sum += v
        self.count += 1

    def observe_ages(self, now: float, times: list[float], total: float) -> None:
        """Observe ``now - t`` for every ``t`` of ``times`` (ascending, summing to ``total``) in
        O(buckets x log n): a value is within bucket ``le`` exactly when ``t >= now - le``."""
        n = len(times)
        if not n:
            return
        below = 0
        for i, le in enumerate(self.buckets):
            within = n - bisect.bisect_left(times, now - le)
            self.counts[i] += within - below
            below = within
        self.counts[-1] += n - below
        self.sum += n * now - total
        self.count += n

    def cumulative(self) -> Iterator[tuple[str, float]]:
        """``(le, cumulative count)`` pairs, ``+Inf`` last."""
        acc = 0
        for le, c in zip(self.buckets, self.counts, strict=False):
            acc += c
            yield go_float(le), acc
        yield "+Inf", self.count

    def add_to(self, family: HistogramMetricFamily, labels: Sequence[str] = ()) -> None:
        family.add_metric(list(labels), list(self.cumulative()), self.sum)

    def family(self, name: str, documentation: str) -> HistogramMetricFamily:
        """This histogram alone as a metric family (no labels)."""
        fam = HistogramMetricFamily(name, documentation)
        self.add_to(fam)
        return fam
