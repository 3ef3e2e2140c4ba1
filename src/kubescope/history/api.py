"""The history API's HTTP surface: Oldtimer's paths under the aggregated group and ``/api/v1/historical``.

Every path below ``/apis/history.kubescope.io/v1alpha1`` (what ``kubectl get --raw`` reaches
through the aggregation layer) is also served below ``/api/v1/historical`` (Heapster's Oldtimer
prefix) on the same port::

    {prefix}[/namespaces/{ns}[/pods/{pod} | /pod-list/{a,b} | /{deployments,statefulsets,...}/{name}]
             | /nodes/{node} | /pod-id/{uid} | /pod-id-list/{uids}][/containers/{c}]
        /metrics/                                        the metrics kept for that target
        /metrics/{metric}?start&end&step                 points
        /metrics-aggregated/{aggs}/{metric}?start&end&bucket
    {prefix}[/namespaces/{ns}]/recommendations?window&cpuPercentile&margin
    {prefix}[/namespaces/{ns}]/idle?duration&cpuThreshold

Queries run in worker threads (SQLite and numpy release the GIL for most of their work), so a
long question never stalls the recorder or other requests. Bad requests are 400 with a message
saying what to change; anything unexpected is logged and answered 500, never a dropped connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver import status
from kubescope.apiserver.pipeline import json_response, status_response
from kubescope.history import answers, questions
from kubescope.history.query import Engine
from kubescope.history.request import (
    BadRequest,
    parse_aggregations,
    parse_duration,
    parse_range,
    parse_target,
)
from kubescope.log import fields

logger = logging.getLogger(__name__)

GROUP = "history.kubescope.io"
VERSION = "v1alpha1"
PREFIXES = (f"/apis/{GROUP}/{VERSION}", "/api/v1/historical")
_encoder = msgspec.json.Encoder()

RESOURCES = [
    {"name": "metrics", "singularName": "", "namespaced": True, "kind": "MetricResult", "verbs": ["get"]},
    {"name": "pods/metrics", "singularName": "", "namespaced": True, "kind": "MetricResult", "verbs": ["get"]},
    {"name": "nodes/metrics", "singularName": "", "namespaced": False, "kind": "MetricResult", "verbs": ["get"]},
    {"name": "recommendations", "singularName": "", "namespaced": True, "kind": "RecommendationList", "verbs": ["get"]},
    {"name": "idle", "singularName": "", "namespaced": True, "kind": "IdleList", "verbs": ["get"]},
]  # fmt: skip


def discovery_documents() -> dict[str, bytes]:
    group = {
        "kind": "APIGroup", "apiVersion": "v1", "name": GROUP,
        "versions": [{"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}],
        "preferredVersion": {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION},
    }  # fmt: skip
    return {
        "/apis": _encoder.encode({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}),
        f"/apis/{GROUP}": _encoder.encode(group),
        f"/apis/{GROUP}/{VERSION}": _encoder.encode(
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": f"{GROUP}/{VERSION}",
                "resources": RESOURCES,
            }
        ),
    }


class HistoryAPI:
    def __init__(self, engine: Engine, *, observe: Callable[[str, int, float], None] | None = None) -> None:
        self.engine = engine
        self.observe = observe
        self.documents = discovery_documents()

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        """``(status, body, kind)`` for a path below a prefix (synchronous: run it in a thread)."""
        parts = [p for p in path.split("/") if p]
        target, rest = parse_target(parts)
        if not rest:
            raise BadRequest(f"nothing asked of {target.describe()}: add /metrics/, /metrics-aggregated/..., "
                             "/recommendations or /idle")  # fmt: skip
        now = self.engine.now()
        head = rest[0]
        if head in ("recommendations", "idle"):
            if target.scope not in ("cluster", "namespace") or len(rest) > 1:
                raise BadRequest(
                    f"{head} is asked of the cluster or of a namespace, not of {target.describe()}"
                )
            store = self.engine.store
            if head == "recommendations":
                window = parse_duration(query["window"], "window") if query.get("window") else 14 * 86400
                pct = _number(query, "cpuPercentile", 90.0, 1, 99.9) / 100
                margin = _number(query, "margin", 15.0, 0, 1000) / 100
                out = questions.recommendations(
                    store, questions.RecommendOptions(window, pct, margin, target.namespace), now
                )
            else:
                duration = (
                    parse_duration(query["duration"], "duration") if query.get("duration") else 7 * 86400
                )
                threshold = _number(query, "cpuThreshold", 5.0, 0, 1e9)
                out = questions.idle(store, questions.IdleOptions(duration, threshold, target.namespace), now)
            return 200, _encoder.encode(out), head
        if head == "metrics":
            if len(rest) == 1:
                return 200, _encoder.encode({"metrics": answers.metric_names(target)}), "list"
            rng = parse_range(query, step_key="step", now=now)
            return (
                200,
                _encoder.encode(answers.points(self.engine, target, "/".join(rest[1:]), rng)),
                "points",
            )
        if head == "metrics-aggregated":
            if len(rest) < 3:
                raise BadRequest(
                    "metrics-aggregated/{aggregations}/{metric}: e.g. metrics-aggregated/p95,max/cpu/usage_rate"
                )
            aggs = parse_aggregations(rest[1])
            q = dict(query)
            q.setdefault("bucket", "1h")
            rng = parse_range(q, step_key="bucket", now=now)
            body = answers.aggregated(self.engine, target, aggs, "/".join(rest[2:]), rng)
            return 200, _encoder.encode(body), "aggregated"
        raise BadRequest(
            f"unknown path segment {head!r}: expected metrics, metrics-aggregated, recommendations or idle"
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        doc = self.documents.get(path.rstrip("/") or path)
        if doc is not None:
            return json_response(200, doc)
        for prefix in PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                break
        else:
            return status_response(status.path_not_found())
        if request.method not in ("GET", "HEAD"):
            return status_response(status.method_not_allowed())
        t0 = time.perf_counter()
        kind = "error"
        try:
            code, body, kind = await asyncio.to_thread(self.answer, path[len(prefix) :], dict(request.query))
        except BadRequest as e:
            code, body = status.bad_request(str(e))
        except Exception as e:  # a bug: answer 500 and keep serving
            logger.exception("history request failed", extra=fields(path=path))
            code, body = status.internal_error(f"the history query failed: {e}")
        if self.observe is not None:
            self.observe(kind, code, time.perf_counter() - t0)
        return json_response(code, body)


def _number(query: dict[str, str], key: str, default: float, lo: float, hi: float) -> float:
    if key not in query:
        return default
    try:
        v = float(query[key])
    except ValueError:
        raise BadRequest(f"{key}={query[key]!r} is not a number") from None
    if not lo <= v <= hi:
        raise BadRequest(f"{key}={query[key]} is out of range [{lo:g}, {hi:g}]")
    return v


def routes(api: HistoryAPI) -> list[web.RouteDef]:
    return [
        web.get("/apis", api.handle),
        web.get("/apis/{tail:.*}", api.handle),
        web.get("/api/{tail:.*}", api.handle),
    ]


__all__: list[Any] = ["GROUP", "PREFIXES", "VERSION", "HistoryAPI", "routes"]
