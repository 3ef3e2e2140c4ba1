"""``metrics.k8s.io`` from Prometheus (``--resource-metrics``): prometheus-adapter's ``resourceRules``.

For clusters where Prometheus already scrapes the kubelets' cAdvisor, this serves ``kubectl top`` and
CPU/memory HPAs without a second scraper (``pkg/resourceprovider``):

* pods: the Running pods matching the request (listed from the Kubernetes API) are grouped by
  namespace; per namespace the CPU and memory ``containerQuery`` run at once, built with the pods'
  names and grouped by the resource label and ``containerLabel``; a pod is answered when both
  queries returned something for it, a container missing one of the two gets 0 for it;
* nodes: one CPU and one memory ``nodeQuery`` for all requested nodes; a node needs both;
* NaN and negative values are 0; the timestamp is the earliest sample's; the window is the rules'
  ``window``; CPU is ``NewMilliQuantity(v*1000, DecimalSI)``, memory the same in BinarySI.

The REST surface is metrics-server's: ``/nodes``, ``/nodes/<name>``, ``/pods``, ``/namespaces/<ns>/pods``
and ``/namespaces/<ns>/pods/<name>`` under ``/apis/metrics.k8s.io/{v1beta1,v1}``, ``labelSelector`` and
``fieldSelector`` passed to the object list, items sorted (pods by namespace then name), 404s worded
as metrics-server words them. Answers are cached per request like custom metrics.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from kubescope.apiserver import status
from kubescope.apiserver.selectors import SelectorError, parse_field_selector, parse_label_selector
from kubescope.custom_metrics.answers import Sample
from kubescope.custom_metrics.cache import AnswerCache, BackendFailure
from kubescope.custom_metrics.config import ResourceRule, ResourceRules
from kubescope.custom_metrics.gotemplate import Template, TemplateError
from kubescope.custom_metrics.mapper import GroupResource, RESTMapper
from kubescope.custom_metrics.naming import ConversionError, ResourceConverter, converter_from_config
from kubescope.custom_metrics.promclient import PrometheusError
from kubescope.custom_metrics.query import QueryBuildError, build_query
from kubescope.errors import ConfigError, KubeError
from kubescope.model.gofmt import go_duration
from kubescope.model.quantity import format_binary_si, format_decimal_si
from kubescope.model.timefmt import format_time

GROUP = "metrics.k8s.io"
VERSIONS = ("v1beta1", "v1")
PODS = GroupResource("", "pods")
NODES = GroupResource("", "nodes")

Obj = tuple[str, str, Mapping[str, str]]
"""(namespace, name, labels) of a listed object."""
MetaLister = Callable[[str, str, str, str], Awaitable[list[Obj]]]
"""``(resource, namespace, labelSelector, fieldSelector) -> objects`` ("pods" or "nodes")."""
Querier = Callable[[str], Awaitable[tuple[str, list[Sample]]]]


@dataclass(frozen=True)
class ResourceQuery:
    converter: ResourceConverter
    container: Template
    node: Template
    container_label: str


def _compile(rule: ResourceRule, where: str) -> ResourceQuery:
    from kubescope.custom_metrics.gotemplate import parse

    conv = converter_from_config(rule.resources, f"{where}.resources")
    out = {}
    for field, text in (("containerQuery", rule.container_query), ("nodeQuery", rule.node_query)):
        if not text.strip():
            raise ConfigError(
                f"{where}.{field}: empty: metrics.k8s.io needs both a container and a node query"
            )
        try:
            out[field] = parse(text, "metrics-query")
        except TemplateError as e:
            raise ConfigError(f"{where}.{field}: unable to parse metrics query template: {e}") from None
    return ResourceQuery(conv, out["containerQuery"], out["nodeQuery"], rule.container_label)


def compile_rules(rules: ResourceRules) -> tuple[ResourceQuery, ResourceQuery]:
    if rules.window <= 0:
        raise ConfigError(
            "resourceRules.window: must be a positive duration such as 5m (it is the served window)"
        )
    return _compile(rules.cpu, "resourceRules.cpu"), _compile(rules.memory, "resourceRules.memory")


def cpu_quantity(v: float) -> str:
    return format_decimal_si(int(v * 1000.0), -3)


def memory_quantity(v: float) -> str:
    m = int(v * 1000.0)
    if m % 1000 == 0:
        return format_binary_si(m // 1000)
    return format_decimal_si(m, -3)  # fractional bytes: BinarySI falls back to DecimalSI


def _clean(v: float) -> float:
    return 0.0 if math.isnan(v) or v < 0 else v


def _by_name(samples: Sequence[Sample], label: str) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for s in samples:
        out.setdefault(s.labels.get(label, ""), []).append(s)
    return out


class ResourceMetrics:
    def __init__(
        self,
        rules: ResourceRules,
        query: Querier,
        list_objects: MetaLister,
        mapper: Callable[[], RESTMapper],
        cache: AnswerCache[Any],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cpu, self.mem = compile_rules(rules)
        self.window = go_duration(round(rules.window * 1e9))
        self.query = query
        self.list_objects = list_objects
        self.mapper = mapper
        self.cache = cache
        self.clock = clock
        self.resource_list = {
            v: msgspec.json.encode(
                {
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": f"{GROUP}/{v}",
                    "resources": [
                        {
                            "name": "nodes",
                            "singularName": "",
                            "namespaced": False,
                            "kind": "NodeMetrics",
                            "verbs": ["get", "list"],
                        },
                        {
                            "name": "pods",
                            "singularName": "",
                            "namespaced": True,
                            "kind": "PodMetrics",
                            "verbs": ["get", "list"],
                        },
                    ],
                }
            )
            for v in VERSIONS
        }

    async def _run(self, q: ResourceQuery, template: Template, gr: GroupResource, namespace: str,
                   names: list[str], extra: Sequence[str]) -> dict[str, list[Sample]]:  # fmt: skip
        conv = q.converter.bind(self.mapper())
        promql, label = build_query(template, conv, "", gr, namespace, [], names, extra)
        kind, samples = await self.query(promql)
        if kind != "vector":
            raise BackendFailure(f"invalid or empty value of non-vector type ({kind}) returned")
        return _by_name(samples, label)

    async def handle(self, version: str, rest: list[str], query: Mapping[str, str]) -> tuple[int, bytes]:
        if not rest:
            return 200, self.resource_list[version]
        try:
            if query.get("labelSelector"):
                parse_label_selector(query["labelSelector"])
            if query.get("fieldSelector"):
                parse_field_selector(query["fieldSelector"])
        except SelectorError as e:
            return status.bad_request(str(e))
        if rest[0] == "nodes" and len(rest) <= 2:
            name = rest[1] if len(rest) == 2 else ""
            return await self._cached(
                ("n", version, name, tuple(sorted(query.items()))), lambda: self._nodes(version, name, query)
            )
        ns, tail = "", rest
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, tail = rest[1], rest[2:]
        if tail[0] == "pods" and len(tail) <= 2:
            name = tail[1] if len(tail) == 2 else ""
            return await self._cached(("p", version, ns, name, tuple(sorted(query.items()))),
                                      lambda: self._pods(version, ns, name, query))  # fmt: skip
        return status.path_not_found()

    async def _cached(
        self, key: tuple[Any, ...], compute: Callable[[], Awaitable[tuple[int, bytes]]]
    ) -> tuple[int, bytes]:
        try:
            value, _ = await self.cache.get(key, compute)
        except BackendFailure as e:
            return status.internal_error(str(e))
        answer: tuple[int, bytes] = value
        return answer

    async def _list(self, resource: str, namespace: str, query: Mapping[str, str], name: str) -> list[Obj]:
        fields = query.get("fieldSelector", "")
        if name:
            fields = ",".join(f for f in (fields, f"metadata.name={name}") if f)
        if resource == "pods":
            fields = ",".join(f for f in (fields, "status.phase=Running") if f)
        try:
            return await self.list_objects(resource, namespace, query.get("labelSelector", ""), fields)
        except KubeError as e:
            raise BackendFailure(f"unable to list {resource}: {e}") from e

    async def _pods(
        self, version: str, namespace: str, name: str, query: Mapping[str, str]
    ) -> tuple[int, bytes]:
        pods = await self._list("pods", namespace, query, name)
        by_ns: dict[str, list[str]] = {}
        for ns, n, _ in pods:
            by_ns.setdefault(ns, []).append(n)

        async def one(
            ns: str, names: list[str]
        ) -> tuple[str, dict[str, list[Sample]], dict[str, list[Sample]]]:
            cpu, mem = await asyncio.gather(
                self._run(self.cpu, self.cpu.container, PODS, ns, names, [self.cpu.container_label]),
                self._run(self.mem, self.mem.container, PODS, ns, names, [self.mem.container_label]),
            )
            return ns, cpu, mem

        try:
            results = await asyncio.gather(*(one(ns, names) for ns, names in by_ns.items()))
        except (PrometheusError, QueryBuildError, ConversionError) as e:
            raise BackendFailure(f"unable to fetch pod metrics: {e}") from e
        per_ns = {ns: (cpu, mem) for ns, cpu, mem in results}
        now = format_time(self.clock())
        items = []
        for ns, n, labels in sorted(pods, key=lambda o: (o[0], o[1])):
            cpu_s, mem_s = per_ns[ns][0].get(n), per_ns[ns][1].get(n)
            if not cpu_s or not mem_s:
                continue
            items.append(self._pod_item(version, ns, n, labels, cpu_s, mem_s, now))
        if name:
            if not pods:
                return status.not_found("", "pods", name)
            if not items:
                return status.not_found(GROUP, "podmetrics", f"{namespace}/{name}")
            return 200, msgspec.json.encode(items[0])
        return 200, msgspec.json.encode(
            {"kind": "PodMetricsList", "apiVersion": f"{GROUP}/{version}", "metadata": {}, "items": items}
        )

    def _pod_item(self, version: str, ns: str, name: str, labels: Mapping[str, str], cpu: list[Sample],
                  mem: list[Sample], now: str) -> dict[str, Any]:  # fmt: skip
        containers: dict[str, dict[str, str]] = {}
        for s in cpu:
            containers.setdefault(s.labels.get(self.cpu.container_label, ""), {})["cpu"] = cpu_quantity(
                _clean(s.value)
            )
        for s in mem:
            containers.setdefault(s.labels.get(self.mem.container_label, ""), {})["memory"] = memory_quantity(
                _clean(s.value)
            )
        for usage in containers.values():
            usage.setdefault("cpu", "0")
            usage.setdefault("memory", "0")
        ts = min(s.timestamp for s in (*cpu, *mem))
        meta: dict[str, Any] = {"name": name, "namespace": ns, "creationTimestamp": now}
        if labels:
            meta["labels"] = dict(labels)
        return {
            "kind": "PodMetrics", "apiVersion": f"{GROUP}/{version}", "metadata": meta,
            "timestamp": format_time(ts), "window": self.window,
            "containers": [{"name": c, "usage": {"cpu": u["cpu"], "memory": u["memory"]}} for c, u in sorted(containers.items())],
        }  # fmt: skip

    async def _nodes(self, version: str, name: str, query: Mapping[str, str]) -> tuple[int, bytes]:
        nodes = await self._list("nodes", "", query, name)
        names = [n for _, n, _ in nodes]
        items = []
        if names:
            try:
                cpu, mem = await asyncio.gather(
                    self._run(self.cpu, self.cpu.node, NODES, "", names, []),
                    self._run(self.mem, self.mem.node, NODES, "", names, []),
                )
            except (PrometheusError, QueryBuildError, ConversionError) as e:
                raise BackendFailure(f"unable to fetch node metrics: {e}") from e
            now = format_time(self.clock())
            for _, n, labels in sorted(nodes, key=lambda o: o[1]):
                if not cpu.get(n) or not mem.get(n):
                    continue
                c, m = cpu[n][0], mem[n][0]
                meta: dict[str, Any] = {"name": n, "creationTimestamp": now}
                if labels:
                    meta["labels"] = dict(labels)
                items.append({
                    "kind": "NodeMetrics", "apiVersion": f"{GROUP}/{version}", "metadata": meta,
                    "timestamp": format_time(min(c.timestamp, m.timestamp)), "window": self.window,
                    "usage": {"cpu": cpu_quantity(_clean(c.value)), "memory": memory_quantity(_clean(m.value))},
                })  # fmt: skip
        if name:
            if not nodes:
                return status.not_found("", "nodes", name)
            if not items:
                return status.not_found(GROUP, "nodemetrics", name)
            return 200, msgspec.json.encode(items[0])
        return 200, msgspec.json.encode(
            {"kind": "NodeMetricsList", "apiVersion": f"{GROUP}/{version}", "metadata": {}, "items": items}
        )
