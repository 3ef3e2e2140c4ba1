"""Series discovery in the background: what metrics exist, refreshed every relist interval.

prometheus-adapter's ``cachingMetricsLister`` and ``periodicMetricLister``: every
``--metrics-relist-interval`` each distinct ``seriesQuery`` (rules sharing one are asked once) goes to
``/api/v1/series`` with ``start = now - --metrics-max-age``, all at once; the answers, reduced to
distinct (name, label names) shapes, and the REST mapper (refreshed every ``--discovery-interval``)
make a new :class:`~kubescope.custom_metrics.registry.Registry`, swapped in whole. Requests never trigger
discovery, so discovery documents answer in O(1) whatever the number of series.

A selector whose listing fails keeps its previous series (the original drops the whole update), so
one slow or broken rule does not hide every metric; the failure is logged and counted. Readiness
waits for the first complete discovery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from kubescope.custom_metrics.mapper import RESTMapper
from kubescope.custom_metrics.naming import MetricNamer
from kubescope.custom_metrics.promclient import PrometheusError
from kubescope.custom_metrics.registry import (
    CUSTOM_GROUP,
    EXTERNAL_GROUP,
    Registry,
    SeriesShape,
    build_registry,
    shapes,
)
from kubescope.custom_metrics.selfmetrics import SelfMetrics
from kubescope.errors import KubeError
from kubescope.log import fields

logger = logging.getLogger(__name__)

SeriesLister = Callable[[Sequence[str], float], Awaitable[list[dict[str, str]]]]
"""``(selectors, start) -> series`` (``PrometheusClient.series``)."""
MapperLoader = Callable[[], Awaitable[RESTMapper]]


class Relister:
    def __init__(
        self,
        list_series: SeriesLister,
        load_mapper: MapperLoader,
        custom_rules: Sequence[MetricNamer],
        external_rules: Sequence[MetricNamer],
        metrics: SelfMetrics,
        *,
        relist_interval: float,
        max_age: float,
        mapper_interval: float,
        on_registry: Callable[[Registry], None],
        upstream_names: Callable[[], Sequence[str]] = lambda: (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.list_series = list_series
        self.load_mapper = load_mapper
        self.custom_rules = list(custom_rules)
        self.external_rules = list(external_rules)
        self.metrics = metrics
        self.relist_interval = relist_interval
        self.max_age = max_age
        self.mapper_interval = mapper_interval
        self.on_registry = on_registry
        self.upstream_names = upstream_names
        self.clock = clock
        self.mapper: RESTMapper | None = None
        self.mapper_at = 0.0
        self.series: dict[str, list[SeriesShape]] = {}
        self.complete = asyncio.Event()
        """Set after the first discovery in which every selector answered."""
        self.attempted = asyncio.Event()
        """Set after the first discovery round, whatever its outcome (readiness: see the app)."""
        self.last_error = ""
        self._reported_unresolved: set[str] = set()

    async def refresh_mapper(self) -> None:
        try:
            self.mapper = await self.load_mapper()
            self.mapper_at = time.monotonic()
        except KubeError as e:
            if self.mapper is None:
                raise
            logger.warning("cannot refresh the REST mapper, keeping the last one", extra=fields(error=str(e)))

    async def relist(self) -> Registry:
        """One discovery; returns (and publishes) the new registry."""
        t0 = time.perf_counter()
        if self.mapper is None or time.monotonic() - self.mapper_at >= self.mapper_interval:
            await self.refresh_mapper()
        assert self.mapper is not None
        selectors = list(dict.fromkeys(n.series_query for n in [*self.custom_rules, *self.external_rules]))
        start = self.clock() - self.max_age
        results = await asyncio.gather(
            *(self.list_series([s], start) for s in selectors), return_exceptions=True
        )
        failed = []
        for sel, res in zip(selectors, results, strict=True):
            if isinstance(res, PrometheusError):
                failed.append(f"{sel}: {res}")
                continue
            if isinstance(res, BaseException):
                raise res
            # CPU-bound over every series: in a thread, so requests keep being served meanwhile
            self.series[sel] = await asyncio.to_thread(shapes, res)
        reg = await asyncio.to_thread(
            build_registry,
            self.mapper,
            self.custom_rules,
            [self.series.get(n.series_query, []) for n in self.custom_rules],
            self.external_rules,
            [self.series.get(n.series_query, []) for n in self.external_rules],
            list(self.upstream_names()),
        )
        self.on_registry(reg)
        took = time.perf_counter() - t0
        m = self.metrics
        m.discovery_seconds.set(took)
        m.series.set(sum(len(v) for v in self.series.values()))
        m.metrics.labels(CUSTOM_GROUP).set(len(reg.custom))
        m.metrics.labels(EXTERNAL_GROUP).set(len(reg.external))
        for u in reg.unresolved:
            if u not in self._reported_unresolved:
                self._reported_unresolved.add(u)
                logger.warning(
                    "an override names a resource the cluster does not serve; waiting for it",
                    extra=fields(override=u),
                )
        if failed:
            m.discovery_errors.inc()
            self.last_error = "; ".join(failed)
            logger.warning("series discovery failed for some selectors, keeping their last series",
                           extra=fields(errors=self.last_error))  # fmt: skip
        else:
            self.last_error = ""
            m.discovery_success.set(self.clock())
            self.complete.set()
            logger.info(
                "series discovered",
                extra=fields(selectors=len(selectors), series=sum(len(v) for v in self.series.values()),
                             custom=len(reg.custom), external=len(reg.external), seconds=f"{took:.3f}"),
            )  # fmt: skip
        return reg

    async def run(self) -> None:
        """Relist every interval until cancelled; a failing round is retried at the next one (or after
        5 s while nothing was ever discovered)."""
        while True:
            try:
                await self.relist()
            except (KubeError, PrometheusError) as e:
                self.metrics.discovery_errors.inc()
                self.last_error = str(e)
                logger.warning("series discovery failed", extra=fields(error=str(e)))
            self.attempted.set()
            delay = self.relist_interval if self.complete.is_set() else min(5.0, self.relist_interval)
            await asyncio.sleep(delay)
