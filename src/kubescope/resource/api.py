"""The ``metrics.k8s.io`` API (v1 and v1beta1, same schema): NodeMetrics and PodMetrics, get and list.

Behaviour is metrics-server's (``pkg/api``):

* lists are built from the watched objects (nodes, running pods), filtered by ``labelSelector`` on
  the object's labels and ``fieldSelector`` on ``metadata.name``/``metadata.namespace`` (other fields
  are a 400), node lists also by ``--node-selector``; objects without metrics are silently left out;
  nodes sorted by name, pods by namespace then name;
* a get of an object that is not watched answers the lister's 404 (``node "x" not found``,
  ``pods "x" not found``), of one without metrics the API's (``nodemetrics.metrics.k8s.io "x" not
  found``, ``podmetrics.metrics.k8s.io "ns/x" not found``);
* ``Accept: application/json;as=Table;g=meta.k8s.io;v=v1`` gets the Table of metrics-server's
  ``ConvertToTable``; every other Accept (protobuf first, as clients send it) gets JSON;
* watch and write verbs answer 405;
* every served item is observed in ``metrics_server_api_metric_freshness_seconds``.

:class:`MetricsAPI` computes answers as ``(status, content type, body)`` without any I/O;
:func:`routes` wires them into aiohttp.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from aiohttp import web

from kubescope.apiserver import status
from kubescope.apiserver.discovery import APIGroupSpec, APIResource, Discovery
from kubescope.apiserver.negotiation import JSON, negotiate
from kubescope.apiserver.pipeline import INFO
from kubescope.apiserver.selectors import (
    EVERYTHING,
    FieldSelector,
    LabelSelector,
    SelectorError,
    check_metadata_fields,
    parse_field_selector,
    parse_label_selector,
)
from kubescope.kubelet.parser import ZERO_TIME_NS
from kubescope.model.timefmt import format_time
from kubescope.resource.inventory import NodeCache, PodCache
from kubescope.resource.openapi import OpenAPI
from kubescope.resource.render import (
    GROUP,
    VERSIONS,
    Item,
    node_cells,
    node_usage_part,
    object_json,
    pod_cells,
    pod_usage_part,
    table_json,
)
from kubescope.resource.selfmetrics import Histogram
from kubescope.resource.storage import MetricsStorage, PodUsage, Usage

Answer = tuple[int, str, bytes]

GROUP_SPEC = APIGroupSpec(
    name=GROUP,
    versions=VERSIONS,
    resources=(APIResource("nodes", "NodeMetrics", False), APIResource("pods", "PodMetrics", True)),
)
_MAX_FRESHNESS = 9_223_372_036.854775807  # Go's time.Since(zero time): the saturated Duration


class _ListCache(NamedTuple):
    segments: list[bytes]
    times: list[float]
    """Sample times of the items (seconds, ascending), for the freshness histogram."""
    total: float
    unknown: int
    """Items without a timestamp."""


class _Part(NamedTuple):
    usage: bytes
    ts: int | None
    source: Usage | PodUsage
    """For Table cells, computed only when a Table is asked for."""

    def cells(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        s = self.source
        return pod_cells(s) if isinstance(s, PodUsage) else node_cells(s)


_Entry = tuple[bytes, bytes, "_Part", str]


def _item(head: bytes, tail: bytes, part: _Part, name: str) -> Item:
    resources, cells = part.cells()
    return Item(head, tail, part.usage, name, cells, resources)


def _error(answer: tuple[int, bytes]) -> Answer:
    return answer[0], JSON, answer[1]


class MetricsAPI:
    def __init__(
        self,
        storage: MetricsStorage,
        nodes: NodeCache,
        pods: PodCache,
        *,
        node_selector: LabelSelector = EVERYTHING,
        freshness: Histogram | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.nodes = nodes
        self.pods = pods
        self.node_selector = node_selector
        self.freshness = freshness
        self.clock = clock
        self._generation = -1
        self._node_parts: dict[str, _Part] = {}
        self._pod_parts: dict[tuple[str, str], _Part] = {}
        self._lists: dict[tuple[object, ...], _ListCache] = {}

    # -- cached usage parts ---------------------------------------------------------------------

    def _check_generation(self) -> None:
        if self.storage.generation != self._generation:
            self._generation = self.storage.generation
            self._node_parts = {}
            self._pod_parts = {}
            self._lists = {}

    def _node_part(self, name: str) -> _Part | None:
        part = self._node_parts.get(name)
        if part is None:
            u = self.storage.node_usage.get(name)
            if u is None:
                return None
            part = self._node_parts[name] = _Part(node_usage_part(u), u.ts, u)
        return part

    def _pod_part(self, key: tuple[str, str]) -> _Part | None:
        part = self._pod_parts.get(key)
        if part is None:
            u = self.storage.pod_usage.get(key)
            if u is None:
                return None
            part = self._pod_parts[key] = _Part(pod_usage_part(u), u.ts, u)
        return part

    async def prerender(self, chunk: int = 2000) -> int:
        """Render every usage part of the current storage generation ahead of requests, a chunk at a
        time so the event loop keeps answering; returns how many were rendered. Called after each
        store, so the first list of a cycle costs a join, not thousands of encodes."""
        self._check_generation()
        generation = self._generation
        done = 0
        for name in list(self.storage.node_usage):
            self._node_part(name)
        keys = list(self.storage.pod_usage)
        for i in range(0, len(keys), chunk):
            if self.storage.generation != generation:
                break  # a newer store superseded this one
            for key in keys[i : i + chunk]:
                self._pod_part(key)
            done += min(chunk, len(keys) - i)
            await asyncio.sleep(0)
        return done

    def _observe(self, now: float, ts: int | None) -> None:
        if self.freshness is not None:
            self.freshness.observe(_MAX_FRESHNESS if ts is None or ts == ZERO_TIME_NS else now - ts / 1e9)

    # -- answers --------------------------------------------------------------------------------

    @staticmethod
    def _selectors(query: Mapping[str, str]) -> tuple[LabelSelector, FieldSelector]:
        label = parse_label_selector(query.get("labelSelector", ""))
        field = parse_field_selector(query.get("fieldSelector", ""))
        check_metadata_fields(field)
        return label, field

    def list_nodes(self, version: str, query: Mapping[str, str], accept: str | None) -> Answer:
        try:
            label, field = self._selectors(query)
        except SelectorError as e:
            return _error(status.bad_request(str(e)))
        self._check_generation()
        label = label & self.node_selector
        now = self.clock()
        neg = negotiate(accept, table=True)
        if label.empty and field.empty and neg.kind == "json":
            key = ("NodeMetrics", version, None, self.storage.generation, self.nodes.version)
            return self._cached_list(key, now, lambda: self._node_parts_for(label, field))
        parts = self._node_parts_for(label, field)
        for _, _, part, _ in parts:
            self._observe(now, part.ts)
        return self._list_answer(
            kind="NodeMetrics", version=version, parts=parts, now=now, query=query, accept=accept
        )

    def _node_parts_for(self, label: LabelSelector, field: FieldSelector) -> list[_Entry]:
        nodes = self.nodes.nodes
        parts: list[_Entry] = []
        for name in self.nodes.sorted_names():
            part = self._node_part(name)
            if part is None:
                continue
            info = nodes[name]
            if not label.empty and not label.matches(info.labels):
                continue
            if not field.empty and not field.matches({"metadata.name": name}):
                continue
            parts.append((info.head, info.tail, part, name))
        return parts

    def get_node(self, version: str, name: str, query: Mapping[str, str], accept: str | None) -> Answer:
        info = self.nodes.nodes.get(name)
        if info is None:
            return _error(status.not_found("", "node", name))
        self._check_generation()
        part = self._node_part(name)
        if part is None:
            return _error(status.not_found(GROUP, "nodemetrics", name))
        now = self.clock()
        self._observe(now, part.ts)
        entry = (info.head, info.tail, part, name)
        return self._object_answer(
            kind="NodeMetrics", version=version, entry=entry, now=now, query=query, accept=accept
        )

    def list_pods(
        self, version: str, namespace: str | None, query: Mapping[str, str], accept: str | None
    ) -> Answer:
        try:
            label, field = self._selectors(query)
        except SelectorError as e:
            return _error(status.bad_request(str(e)))
        self._check_generation()
        now = self.clock()
        neg = negotiate(accept, table=True)
        if label.empty and field.empty and neg.kind == "json":
            key = ("PodMetrics", version, namespace, self.storage.generation, self.pods.version)
            return self._cached_list(key, now, lambda: self._pod_parts_for(namespace, label, field))
        parts = self._pod_parts_for(namespace, label, field)
        for _, _, part, _ in parts:
            self._observe(now, part.ts)
        return self._list_answer(
            kind="PodMetrics", version=version, parts=parts, now=now, query=query, accept=accept
        )

    def _pod_parts_for(
        self, namespace: str | None, label: LabelSelector, field: FieldSelector
    ) -> list[_Entry]:
        pods = self.pods.pods
        keys = (
            self.pods.sorted_keys()
            if namespace is None
            else [(namespace, n) for n in self.pods.namespace_names(namespace)]
        )
        usage = self.storage.pod_usage
        parts: list[_Entry] = []
        for key in keys:
            if key not in usage:
                continue
            info = pods[key]
            if not label.empty and not label.matches(info.labels):
                continue
            if not field.empty and not field.matches({"metadata.name": key[1], "metadata.namespace": key[0]}):
                continue
            part = self._pod_part(key)
            if part is None:
                continue
            parts.append((info.head, info.tail, part, key[1]))
        return parts

    def _cached_list(
        self, key: tuple[object, ...], now: float, collect: Callable[[], list[_Entry]]
    ) -> Answer:
        """A selector-free JSON list: the body is the answer's time joined between cached segments,
        and freshness is observed in bulk, so listing all pods costs one join per request."""
        cached = self._lists.get(key)
        if cached is None:
            kind, version = str(key[0]), str(key[1])
            parts = collect()
            prefix = (
                f'{{"kind":"{kind}List","apiVersion":"{GROUP}/{version}","metadata":{{}},"items":['.encode()
            )
            segments: list[bytes] = []
            pending = prefix
            for head, tail, part, _ in parts:
                segments.append(pending + head)
                pending = tail + part.usage + b","
            segments.append((pending[:-1] if parts else pending) + b"]}")
            times = sorted(p.ts / 1e9 for _, _, p, _ in parts if p.ts is not None and p.ts != ZERO_TIME_NS)
            cached = _ListCache(segments, times, math.fsum(times), len(parts) - len(times))
            if len(self._lists) > 64:
                self._lists.clear()
            self._lists[key] = cached
        if self.freshness is not None:
            self.freshness.observe_ages(now, cached.times, cached.total)
            for _ in range(cached.unknown):
                self.freshness.observe(_MAX_FRESHNESS)
        return 200, JSON, self._now_bytes(now).join(cached.segments)

    def get_pod(
        self, version: str, namespace: str, name: str, query: Mapping[str, str], accept: str | None
    ) -> Answer:
        info = self.pods.pods.get((namespace, name))
        if info is None:
            return _error(status.not_found("", "pods", name))
        self._check_generation()
        part = self._pod_part((namespace, name))
        if part is None:
            return _error(status.not_found(GROUP, "podmetrics", f"{namespace}/{name}"))
        now = self.clock()
        self._observe(now, part.ts)
        entry = (info.head, info.tail, part, name)
        return self._object_answer(
            kind="PodMetrics", version=version, entry=entry, now=now, query=query, accept=accept
        )

    # -- encoding -------------------------------------------------------------------------------

    @staticmethod
    def _now_bytes(now: float) -> bytes:
        return format_time(now).encode()

    def _list_answer(
        self,
        *,
        kind: str,
        version: str,
        parts: list[_Entry],
        now: float,
        query: Mapping[str, str],
        accept: str | None,
    ) -> Answer:
        now_b = self._now_bytes(now)
        neg = negotiate(accept, table=True)
        if neg.kind == "table":
            items = [_item(h, t, p, name) for h, t, p, name in parts]
            body = table_json(
                neg.version,
                items,
                now_b,
                include=query.get("includeObject", "Metadata"),
                kind=kind,
                version=version,
            )
            return 200, neg.content_type, body
        out = [
            b'{"kind":"',
            kind.encode(),
            b'List","apiVersion":"',
            f"{GROUP}/{version}".encode(),
            b'","metadata":{},"items":[',
        ]
        sep = False
        for head, tail, part, _ in parts:
            if sep:
                out.append(b",")
            sep = True
            out += (head, now_b, tail, part.usage)
        out.append(b"]}")
        return 200, JSON, b"".join(out)

    def _object_answer(
        self,
        *,
        kind: str,
        version: str,
        entry: tuple[bytes, bytes, _Part, str],
        now: float,
        query: Mapping[str, str],
        accept: str | None,
    ) -> Answer:
        item = _item(*entry)
        now_b = self._now_bytes(now)
        neg = negotiate(accept, table=True)
        if neg.kind == "table":
            body = table_json(
                neg.version,
                [item],
                now_b,
                include=query.get("includeObject", "Metadata"),
                kind=kind,
                version=version,
            )
            return 200, neg.content_type, body
        return 200, JSON, object_json(kind, version, item, now_b)


def _respond(answer: Answer, request: web.Request) -> web.Response:
    code, content_type, body = answer
    return web.Response(status=code, body=body, headers={"Content-Type": content_type})


def routes(api: MetricsAPI, openapi: OpenAPI) -> list[web.RouteDef]:
    """aiohttp routes for discovery, OpenAPI and the two resources under every served version."""
    discovery = Discovery(GROUP_SPEC)
    base = f"/apis/{GROUP}"

    def version_or_404(request: web.Request) -> str | None:
        v = request.match_info["version"]
        return v if v in VERSIONS else None

    def read_only(request: web.Request) -> web.Response | None:
        if request.method not in ("GET", "HEAD") or request[INFO].verb == "watch":
            return web.Response(
                status=405, body=status.method_not_allowed()[1], headers={"Content-Type": JSON}
            )
        return None

    async def apis(request: web.Request) -> web.Response:
        neg = negotiate(request.headers.get("Accept"), discovery=True)
        if neg.kind == "discovery":
            return web.Response(
                body=discovery.aggregated[neg.version], headers={"Content-Type": neg.content_type}
            )
        return web.Response(body=discovery.group_list, headers={"Content-Type": JSON})

    async def group(request: web.Request) -> web.Response:
        return web.Response(body=discovery.group_doc, headers={"Content-Type": JSON})

    async def resources(request: web.Request) -> web.Response:
        v = version_or_404(request)
        if v is None:
            return _respond(_error(status.path_not_found()), request)
        return web.Response(body=discovery.resource_lists[v], headers={"Content-Type": JSON})

    async def nodes(request: web.Request) -> web.Response:
        v = version_or_404(request)
        if v is None:
            return _respond(_error(status.path_not_found()), request)
        denied = read_only(request)
        if denied is not None:
            return denied
        name = request.match_info.get("name")
        accept = request.headers.get("Accept")
        if name is None:
            return _respond(api.list_nodes(v, request.query, accept), request)
        return _respond(api.get_node(v, name, request.query, accept), request)

    async def pods(request: web.Request) -> web.Response:
        v = version_or_404(request)
        if v is None:
            return _respond(_error(status.path_not_found()), request)
        denied = read_only(request)
        if denied is not None:
            return denied
        ns = request.match_info.get("namespace")
        name = request.match_info.get("name")
        accept = request.headers.get("Accept")
        if name is None:
            return _respond(api.list_pods(v, ns, request.query, accept), request)
        assert ns is not None
        return _respond(api.get_pod(v, ns, name, request.query, accept), request)

    async def unknown(request: web.Request) -> web.Response:
        return _respond(_error(status.path_not_found()), request)

    async def openapi_v2(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == openapi.v2_etag:
            return web.Response(status=304, headers={"ETag": openapi.v2_etag})
        return web.Response(body=openapi.v2, headers={"Content-Type": JSON, "ETag": openapi.v2_etag})

    async def openapi_v3_index(request: web.Request) -> web.Response:
        return web.Response(body=openapi.v3_index, headers={"Content-Type": JSON})

    async def openapi_v3(request: web.Request) -> web.Response:
        key = f"apis/{request.match_info['group']}/{request.match_info['version']}"
        body = openapi.v3.get(key)
        if body is None:
            return web.Response(status=404, text="404 page not found\n")
        etag = '"' + openapi.v3_hash[key] + '"'
        headers = {"Content-Type": JSON, "ETag": etag}
        if request.query.get("hash") == openapi.v3_hash[key]:
            headers["Cache-Control"] = "public, immutable"
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers=headers)

    return [
        web.get("/apis", apis),
        web.get("/apis/", apis),
        web.get(base, group),
        web.get(base + "/", group),
        web.get(base + "/{version}", resources),
        web.get(base + "/{version}/", resources),
        web.route("*", base + "/{version}/nodes", nodes),
        web.route("*", base + "/{version}/nodes/{name}", nodes),
        web.route("*", base + "/{version}/pods", pods),
        web.route("*", base + "/{version}/namespaces/{namespace}/pods", pods),
        web.route("*", base + "/{version}/namespaces/{namespace}/pods/{name}", pods),
        web.route("*", base + "/{version}/{rest:.*}", unknown),
        web.get("/openapi/v2", openapi_v2),
        web.get("/openapi/v3", openapi_v3_index),
        web.get("/openapi/v3/apis/{group}/{version}", openapi_v3),
    ]
