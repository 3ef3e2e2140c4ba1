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
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver import status
from kubescope.apiserver.pipeline import json_response, status_response
from kubescope.history import answers, questions
from kubescope.history.promsource import BackendError, PromBackend
from kubescope.history.query import Engine
from kubescope.history.request import (
    NODE_METRICS,
    BadRequest,
    Range,
    Target,
    parse_aggregations,
    parse_duration,
    parse_metric,
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


@dataclass(frozen=True)
class Question:
    """A parsed request: what is asked (``list``, ``points``, ``aggregated``, ``recommendations``,
    ``idle``) of which target, with its parameters checked."""

    kind: str
    target: Target
    metric: str = ""
    aggs: tuple[str, ...] = ()
    rng: Range | None = None
    recommend: questions.RecommendOptions | None = None
    idle: questions.IdleOptions | None = None


def parse(path: str, query: dict[str, str], now: int) -> Question:
    """The question a path below a prefix asks (:class:`BadRequest` naming the fix if it is wrong)."""
    parts = [p for p in path.split("/") if p]
    target, rest = parse_target(parts)
    if not rest:
        raise BadRequest(f"nothing asked of {target.describe()}: add /metrics/, /metrics-aggregated/..., "
                         "/recommendations or /idle")  # fmt: skip
    head = rest[0]
    if head in ("recommendations", "idle"):
        if target.scope not in ("cluster", "namespace") or len(rest) > 1:
            raise BadRequest(f"{head} is asked of the cluster or of a namespace, not of {target.describe()}")
        if head == "recommendations":
            window = parse_duration(query["window"], "window") if query.get("window") else 14 * 86400
            pct = _number(query, "cpuPercentile", 90.0, 1, 99.9) / 100
            margin = _number(query, "margin", 15.0, 0, 1000) / 100
            opts = questions.RecommendOptions(window, pct, margin, target.namespace)
            return Question(head, target, recommend=opts)
        duration = parse_duration(query["duration"], "duration") if query.get("duration") else 7 * 86400
        threshold = _number(query, "cpuThreshold", 5.0, 0, 1e9)
        return Question(head, target, idle=questions.IdleOptions(duration, threshold, target.namespace))
    if head == "metrics":
        if len(rest) == 1:
            return Question("list", target)
        metric = "/".join(rest[1:])
        parse_metric(metric, target)
        return Question("points", target, metric, rng=parse_range(query, step_key="step", now=now))
    if head == "metrics-aggregated":
        if len(rest) < 3:
            raise BadRequest(
                "metrics-aggregated/{aggregations}/{metric}: e.g. metrics-aggregated/p95,max/cpu/usage_rate"
            )
        aggs = tuple(parse_aggregations(rest[1]))
        q = dict(query)
        q.setdefault("bucket", "1h")
        metric = "/".join(rest[2:])
        parse_metric(metric, target)
        return Question("aggregated", target, metric, aggs, parse_range(q, step_key="bucket", now=now))
    raise BadRequest(
        f"unknown path segment {head!r}: expected metrics, metrics-aggregated, recommendations or idle"
    )


class HistoryAPI:
    """Answers from the embedded store (``engine``) or, given ``remote``, from a Prometheus-compatible
    query API (:class:`~kubescope.history.promsource.PromBackend`), in the same shapes."""

    def __init__(
        self, engine: Engine | None, *, remote: PromBackend | None = None,
        observe: Callable[[str, int, float], None] | None = None, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        if engine is None and remote is None:
            raise ValueError("an engine or a remote backend")
        self.engine = engine
        self.remote = remote
        self.observe = observe
        self.clock = clock
        self.documents = discovery_documents()

    def now(self) -> int:
        return self.engine.now() if self.engine is not None else int(self.clock())

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        """``(status, body, kind)`` from the embedded store (synchronous: run it in a thread)."""
        assert self.engine is not None
        now = self.now()
        q = parse(path, query, now)
        if q.kind == "recommendations":
            assert q.recommend is not None
            out = questions.recommendations(self.engine.store, q.recommend, now)
        elif q.kind == "idle":
            assert q.idle is not None
            out = questions.idle(self.engine.store, q.idle, now)
        elif q.kind == "list":
            out = {"metrics": answers.metric_names(q.target)}
        elif q.kind == "points":
            assert q.rng is not None
            out = answers.points(self.engine, q.target, q.metric, q.rng)
        else:
            assert q.rng is not None
            out = answers.aggregated(self.engine, q.target, list(q.aggs), q.metric, q.rng)
        return 200, _encoder.encode(out), q.kind

    async def answer_remote(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        """``(status, body, kind)`` from the remote backend."""
        assert self.remote is not None
        now = self.now()
        q = parse(path, query, now)
        r = self.remote
        out: Any
        if q.kind == "recommendations":
            assert q.recommend is not None
            out = await r.recommendations(q.recommend, now)
        elif q.kind == "idle":
            assert q.idle is not None
            out = await r.idle(q.idle, now)
        elif q.kind == "list":
            out = {"metrics": list(NODE_METRICS)}
        elif q.kind == "points":
            assert q.rng is not None
            out = await r.points(q.target, q.metric, q.rng, now)
        else:
            assert q.rng is not None
            out = await r.aggregated(q.target, list(q.aggs), q.metric, q.rng, now)
        return 200, _encoder.encode(out), q.kind

    async def respond(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        """``(status, body, kind)`` for a path below a prefix, errors included."""
        kind = "error"
        try:
            if self.remote is not None:
                return await self.answer_remote(path, query)
            return await asyncio.to_thread(self.answer, path, query)
        except BadRequest as e:
            code, body = status.bad_request(str(e))
        except BackendError as e:
            code, body = status.status(503, "ServiceUnavailable", str(e))
        except Exception as e:  # a bug: answer 500 and keep serving
            logger.exception("history request failed", extra=fields(path=path))
            code, body = status.internal_error(f"the history query failed: {e}")
        return code, body, kind

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
        code, body, kind = await self.respond(path[len(prefix) :], dict(request.query))
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
