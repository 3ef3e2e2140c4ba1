"""What the last discovery found: the metrics each rule serves, and the discovery documents.

:func:`build_registry` is prometheus-adapter's ``SetSeries`` (custom) and ``filterAndStoreMetrics``
(external) as one pure function of the rules, the cluster's REST mapper and the series each rule's
``seriesQuery`` returned. Series are reduced first to distinct (name, label names) pairs: label
values never matter here, and a cluster repeats the same shapes thousands of times.

For each custom series: every label that names a resource gives a metric ``<resource>/<name>``,
namespaced unless the resource is ``namespaces``, ``nodes``, ``persistentvolumes`` or another
cluster-scoped kind. A later rule wins over an earlier one for the same metric, as in the original.
The discovery documents (``APIResourceList`` per version) are encoded here, once per discovery, so
serving them costs nothing per request.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from kubescope.custom_metrics.mapper import CLUSTER_ONLY, GroupResource, NoMatch, RESTMapper
from kubescope.custom_metrics.naming import BoundConverter, MetricNamer
from kubescope.log import fields

logger = logging.getLogger(__name__)

CUSTOM_GROUP = "custom.metrics.k8s.io"
EXTERNAL_GROUP = "external.metrics.k8s.io"
CUSTOM_VERSIONS = ("v1beta2", "v1beta1")
EXTERNAL_VERSIONS = ("v1beta1",)

SeriesShape = tuple[str, frozenset[str]]
"""A series name and its label names (``__name__`` excluded)."""


@dataclass(frozen=True, slots=True)
class CustomMetricInfo:
    group_resource: GroupResource
    namespaced: bool
    metric: str

    def resource_name(self) -> str:
        return f"{self.group_resource}/{self.metric}"


@dataclass(frozen=True, slots=True)
class SeriesBinding:
    """The series a metric is queried from and the rule (with its bound converter) that names it."""

    series: str
    namer: MetricNamer
    conv: BoundConverter


def shapes(series: Iterable[Mapping[str, str]]) -> list[SeriesShape]:
    """Distinct (name, label names) of ``/api/v1/series`` answers, in first-seen order."""
    seen: dict[SeriesShape, None] = {}
    for s in series:
        name = s.get("__name__", "")
        seen.setdefault((name, frozenset(k for k in s if k != "__name__")), None)
    return list(seen)


@dataclass
class Registry:
    mapper: RESTMapper
    custom: dict[CustomMetricInfo, SeriesBinding] = field(default_factory=dict)
    external: dict[str, SeriesBinding] = field(default_factory=dict)
    documents: dict[tuple[str, str], bytes] = field(default_factory=dict)
    """``(group, version)`` -> encoded ``APIResourceList``."""
    unresolved: list[str] = field(default_factory=list)
    """Overrides naming resources the cluster does not serve (``rules[0]: brand: brands.cheese.io``)."""

    def lookup_custom(self, gr: GroupResource, namespaced: bool, metric: str) -> SeriesBinding | None:
        """The binding for a request's resource (any spelling the mapper knows) and metric."""
        try:
            gr = self.mapper.normalized(gr)
        except NoMatch:
            return None
        return self.custom.get(CustomMetricInfo(gr, namespaced, metric))

    def custom_names(self) -> list[str]:
        return sorted({i.resource_name() for i in self.custom})


def build_registry(
    mapper: RESTMapper,
    custom_rules: Sequence[MetricNamer],
    custom_series: Sequence[Sequence[SeriesShape]],
    external_rules: Sequence[MetricNamer],
    external_series: Sequence[Sequence[SeriesShape]],
    extra_external: Sequence[str] = (),
) -> Registry:
    """A registry from each rule's discovered series (same order as the rules).

    ``extra_external`` are metric names another adapter serves (``--upstream-external-metrics``),
    merged into the external discovery document.
    """
    reg = Registry(mapper)
    for namer, found in zip(custom_rules, custom_series, strict=True):
        conv = namer.converter.bind(mapper)
        reg.unresolved.extend(f"{namer.where}: override {u}" for u in conv.unresolved)
        for name, labels in found:
            if not namer.accepts(name):
                continue
            metric = namer.metric_name(name)
            if metric is None:
                logger.debug("unable to name series", extra=fields(rule=namer.where, series=name))
                continue
            resources, namespaced = conv.resources_for_series(labels)
            for gr in resources:
                ns = namespaced and gr not in CLUSTER_ONLY
                if ns:
                    with contextlib.suppress(NoMatch):
                        ns = mapper.resource_for(gr).namespaced
                reg.custom[CustomMetricInfo(gr, ns, metric)] = SeriesBinding(name, namer, conv)
    for namer, found in zip(external_rules, external_series, strict=True):
        conv = namer.converter.bind(mapper)
        reg.unresolved.extend(f"{namer.where}: override {u}" for u in conv.unresolved)
        for name, _labels in found:
            if not namer.accepts(name):
                continue
            metric = namer.metric_name(name)
            if metric is not None:
                reg.external[metric] = SeriesBinding(name, namer, conv)
    custom_resources = [
        {"name": i.resource_name(), "singularName": "", "namespaced": i.namespaced, "kind": "MetricValueList",
         "verbs": ["get"]}
        for i in sorted(reg.custom, key=lambda i: (i.resource_name(), i.namespaced))
    ]  # fmt: skip
    for v in CUSTOM_VERSIONS:
        reg.documents[(CUSTOM_GROUP, v)] = _resource_list(CUSTOM_GROUP, v, custom_resources)
    external_names = sorted(set(reg.external) | set(extra_external))
    external_resources = [
        {
            "name": n,
            "singularName": "",
            "namespaced": True,
            "kind": "ExternalMetricValueList",
            "verbs": ["get"],
        }
        for n in external_names
    ]
    for v in EXTERNAL_VERSIONS:
        reg.documents[(EXTERNAL_GROUP, v)] = _resource_list(EXTERNAL_GROUP, v, external_resources)
    return reg


def _resource_list(group: str, version: str, resources: list[dict[str, object]]) -> bytes:
    return msgspec.json.encode(
        {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}",
            "resources": resources,
        }
    )
