"""Answering custom and external metric requests: registry lookup, object listing, query, cache.

:class:`MetricsService` turns one request (already parsed from its path and query, see
:mod:`kubescope.custom_metrics.routes`) into ``(status code, JSON body)``. The steps follow prometheus-adapter's
providers (``GetMetricByName``, ``GetMetricBySelector``, ``GetExternalMetric``), with the answer
semantics of :mod:`kubescope.custom_metrics.answers` and every answer cached per (rule, namespace, objects or
selector, metric selector) in an :class:`~kubescope.custom_metrics.cache.AnswerCache`: HPAs asking again within
the TTL cost no query, identical requests in flight share one, and a failing backend is covered by the
last answer for a bounded time.

Status bodies use the custom-metrics-apiserver's wording: ``the server could not find the metric
http_requests for pods web-1`` (404), ``unable to fetch metrics`` (500), selector errors as 400.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubescope.apiserver import status
from kubescope.apiserver.selectors import SelectorError, parse_label_selector
from kubescope.custom_metrics.answers import (
    AnswerError,
    Sample,
    custom_items,
    encode_custom,
    encode_external,
    external_items,
    not_found,
    values_by_name,
)
from kubescope.custom_metrics.cache import AnswerCache, BackendFailure, Outcome
from kubescope.custom_metrics.mapper import GroupResource, ResourceInfo
from kubescope.custom_metrics.matchers import (
    MatcherError,
    Requirement,
    parse_requirements,
    to_label_selector,
    to_matchers,
)
from kubescope.custom_metrics.naming import ConversionError
from kubescope.custom_metrics.promclient import PrometheusError
from kubescope.custom_metrics.query import QueryBuildError, build_external, build_query
from kubescope.custom_metrics.registry import CUSTOM_GROUP, EXTERNAL_GROUP, Registry, SeriesBinding
from kubescope.custom_metrics.selfmetrics import SelfMetrics
from kubescope.errors import KubeError
from kubescope.log import fields

logger = logging.getLogger(__name__)

Answer = tuple[int, bytes]


class Querier(Protocol):
    async def query(self, promql: str, *, timeout: float | None = None) -> tuple[str, list[Sample]]: ...


ObjectLister = Callable[[ResourceInfo, str, str], Awaitable[list[str]]]
"""``(resource, namespace, label selector) -> object names`` (a Kubernetes list)."""

Forwarder = Callable[[str, str, str], Awaitable[Answer]]
"""``(namespace, metric, label selector) -> answer`` from ``--upstream-external-metrics``."""


@dataclass(frozen=True, slots=True)
class CustomRequest:
    version: str
    namespace: str
    """The request's namespace; empty for cluster-scoped objects and for ``namespaces/<ns>/metrics``."""
    resource: str
    """As written in the path: ``pods``, ``deployments.apps``, ``namespaces``."""
    name: str
    """An object name, or ``*``."""
    metric: str
    label_selector: str = ""
    metric_label_selector: str = ""


@dataclass
class CustomResult:
    """A computed custom answer; bodies per API version are encoded on first use."""

    items: list[tuple[str, float]]
    info: ResourceInfo
    namespace: str
    metric: str
    selector: dict[str, Any] | None
    at: float
    bodies: dict[str, bytes] = field(default_factory=dict)

    def body(self, version: str) -> bytes:
        b = self.bodies.get(version)
        if b is None:
            b = self.bodies[version] = encode_custom(
                version, self.items, self.info, self.namespace, self.metric, self.selector, self.at
            )
        return b


def _parse_group_resource(s: str) -> GroupResource:
    """``schema.ParseGroupResource``: ``deployments.apps`` -> (apps, deployments)."""
    resource, _, group = s.partition(".")
    return GroupResource(group, resource)


def _status(e: AnswerError) -> Answer:
    if e.code == 500:
        return status.internal_error(e.message)
    return status.status(e.code, e.reason, e.message)


@dataclass
class MetricsService:
    querier: Querier
    list_objects: ObjectLister
    cache: AnswerCache[Any]
    metrics: SelfMetrics
    registry: Registry
    query_timeout: float = 3.0
    forward_external: Forwarder | None = None
    clock: Callable[[], float] = time.time

    # -- custom.metrics.k8s.io --------------------------------------------------------------------

    async def custom(self, req: CustomRequest) -> tuple[Answer, str]:
        """The answer and the rule that produced it (for self metrics)."""
        try:
            if req.label_selector:
                parse_label_selector(req.label_selector)
            reqs = parse_requirements(req.metric_label_selector)
            to_matchers(reqs)
        except (SelectorError, MatcherError) as e:
            return status.bad_request(str(e)), ""
        gr = _parse_group_resource(req.resource)
        reg = self.registry
        binding = reg.lookup_custom(gr, bool(req.namespace), req.metric)
        if binding is None:
            return status.status(
                404, "NotFound", f"the server could not find the metric {req.metric} for {gr}"
            ), ""
        info = reg.mapper.resource_for(gr)
        key = ("c", info.group_resource, req.namespace, req.name, req.metric, req.label_selector, tuple(reqs))
        rule = binding.namer.where

        async def compute() -> CustomResult | AnswerError:
            return await self._compute_custom(req, binding, info, reqs)

        value, _ = await self._cached(key, compute)
        if isinstance(value, AnswerError):
            return _status(value), rule
        return (200, value.body(req.version)), rule

    async def _compute_custom(
        self, req: CustomRequest, b: SeriesBinding, info: ResourceInfo, reqs: list[Requirement]
    ) -> CustomResult | AnswerError:
        now = self.clock()
        selector = to_label_selector(reqs)
        if req.name == "*":
            try:
                names = await self.list_objects(info, req.namespace, req.label_selector)
            except KubeError as e:
                logger.warning(
                    "unable to list matching resources",
                    extra=fields(resource=str(info.group_resource), namespace=req.namespace, error=str(e)),
                )
                raise BackendFailure(f"unable to list matching resources: {e}") from e
            if not names:
                return CustomResult([], info, req.namespace, req.metric, selector, now)
        else:
            names = [req.name]
        try:
            promql, label = build_query(
                b.namer.query, b.conv, b.series, info.group_resource, req.namespace, reqs, names
            )
        except (QueryBuildError, ConversionError, MatcherError) as e:
            return self._rule_error(b, e)
        kind, samples = await self._query(b, promql)
        if kind != "vector":
            return AnswerError(
                500,
                "InternalError",
                f"unable to fetch metrics: {b.namer.where}: the query returned a {kind}, not an instant vector "
                f"by {label}",
            )
        values = values_by_name(samples, label)
        items = custom_items(values, names, null_as_zero=b.namer.rule.null_as_zero)
        if not items:
            reason = "nan" if any(n in values for n in names) else "empty"
            self.metrics.no_data.labels(b.namer.where, reason).inc()
            why = (
                "the query returned no samples for it"
                if reason == "empty"
                else "its value is NaN or infinite"
            )
            target = f"{info.group_resource}" if req.name == "*" else f"{info.group_resource} {req.name}"
            return not_found(f"the server could not find the metric {req.metric} for {target}: {why}")
        return CustomResult(items, info, req.namespace, req.metric, selector, now)

    # -- external.metrics.k8s.io --------------------------------------------------------------------

    async def external(self, namespace: str, metric: str, label_selector: str) -> tuple[Answer, str]:
        binding = self.registry.external.get(metric)
        if binding is None and self.forward_external is not None:
            # the upstream judges its own selectors (KEDA's scaledobject.keda.sh/name is no Prometheus label)
            return await self.forward_external(namespace, metric, label_selector), "upstream"
        try:
            reqs = parse_requirements(label_selector)
            to_matchers(reqs)
        except (SelectorError, MatcherError) as e:
            return status.bad_request(str(e)), ""
        if binding is None:
            return (
                status.status(
                    404,
                    "NotFound",
                    f"the server could not find the metric {metric} for namespace {namespace}",
                ),
                "",
            )
        rule = binding.namer.where
        key = ("e", metric, namespace, tuple(reqs))

        async def compute() -> bytes | AnswerError:
            return await self._compute_external(binding, namespace, metric, reqs, label_selector)

        value, _ = await self._cached(key, compute)
        if isinstance(value, AnswerError):
            return _status(value), rule
        return (200, value), rule

    async def _compute_external(
        self, b: SeriesBinding, namespace: str, metric: str, reqs: list[Requirement], selector: str
    ) -> bytes | AnswerError:
        try:
            promql = build_external(
                b.namer.query, b.conv, b.series, namespace, reqs, namespaced=b.namer.namespaced
            )
        except (QueryBuildError, ConversionError, MatcherError) as e:
            return self._rule_error(b, e)
        kind, samples = await self._query(b, promql)
        if kind not in ("vector", "scalar"):
            return AnswerError(
                500, "InternalError", f"unable to fetch metrics: {b.namer.where}: the query returned a {kind}"
            )
        describe = f"{metric} ({b.namer.where}) in namespace {namespace}" + (
            f" with selector {selector}" if selector else ""
        )
        try:
            items = external_items(
                samples,
                aggregation=b.namer.rule.series_aggregation,
                null_as_zero=b.namer.rule.null_as_zero,
                now=self.clock(),
                describe=describe,
            )
        except AnswerError as e:
            if e.code == 404:
                reason = "empty" if not samples else "nan"
                self.metrics.no_data.labels(b.namer.where, reason).inc()
            return e
        return encode_external(metric, items)

    # -- shared -------------------------------------------------------------------------------------

    async def _cached(
        self, key: tuple[Any, ...], compute: Callable[[], Awaitable[Any]]
    ) -> tuple[Any, Outcome]:
        try:
            value, outcome = await self.cache.get(key, compute)
        except BackendFailure as e:
            self.metrics.cache.labels("miss").inc()
            return AnswerError(500, "InternalError", str(e)), Outcome("miss")
        self.metrics.cache.labels(outcome.kind).inc()
        if outcome.kind == "stale":
            self.metrics.stale_age.observe(outcome.age)
            logger.info("backend failing: served a stale answer", extra=fields(age=f"{outcome.age:.1f}s"))
        return value, outcome

    async def _query(self, b: SeriesBinding, promql: str) -> tuple[str, list[Sample]]:
        rule = b.namer.where
        timeout = b.namer.rule.query_timeout or self.query_timeout
        t0 = time.perf_counter()
        try:
            return await self.querier.query(promql, timeout=timeout)
        except PrometheusError as e:
            self.metrics.query_errors.labels(rule, e.kind).inc()
            logger.warning("unable to fetch metrics from prometheus", extra=fields(rule=rule, error=str(e)))
            raise BackendFailure(f"unable to fetch metrics: {e}") from e
        finally:
            self.metrics.query_seconds.labels(rule).observe(time.perf_counter() - t0)

    def _rule_error(self, b: SeriesBinding, e: Exception) -> AnswerError:
        logger.warning("unable to construct query", extra=fields(rule=b.namer.where, error=str(e)))
        return AnswerError(500, "InternalError", f"unable to fetch metrics: {b.namer.where}: {e}")

    # -- discovery ----------------------------------------------------------------------------------

    def resource_list(self, group: str, version: str) -> bytes | None:
        return self.registry.documents.get((group, version))


__all__ = ["CUSTOM_GROUP", "EXTERNAL_GROUP", "CustomRequest", "MetricsService"]
