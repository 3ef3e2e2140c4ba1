"""The console's HTTP surface: one URL per view, HTML rendered on the server (Jinja2 templates, escaped
by default), a JSON answer per chart, the vendored static files.

::

    /                                     overview                     ?range=
    /nodes  /namespaces  /workloads  /pods  /autoscalers              lists (see lists.py for the filters)
    /nodes/{name}                         node                          ?range=
    /pods/{ns}/{name}                     pod                           ?range=
    /workloads/{ns}/{kind}/{name}         workload (kind: deployments, statefulsets, ...)  ?range=
    /autoscalers/{ns}/{name}              HorizontalPodAutoscaler       ?range=
    /api/charts/cluster                   chart JSON  ?metric=cpu|memory&range=
    /api/charts/{nodes|pods|workloads}/...  and /api/charts/autoscalers/{ns}/{name}?range=
    /static/...                           console.css, console.js, vendor/uplot (MIT, see its LICENSE)

Bad input (an unknown range, filter or parameter) is a 400 page saying what is accepted, an unknown
object a 404 page naming it; anything unexpected is logged and a 500 page says so: never a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jinja2
import msgspec
from aiohttp import web

from kubescope.console import charts, lists, units
from kubescope.console.chartdata import ChartData, NotFound
from kubescope.console.charts import BadInput
from kubescope.console.cluster import KIND_PATHS
from kubescope.console.details import Details
from kubescope.log import fields

logger = logging.getLogger(__name__)

NAV = (("/", "Overview"), ("/nodes", "Nodes"), ("/namespaces", "Namespaces"), ("/workloads", "Workloads"),
       ("/pods", "Pods"), ("/autoscalers", "Autoscalers"))  # fmt: skip
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kubescope.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(units=units, nav=NAV, ranges=list(charts.RANGES))
    env.filters["when"] = _when
    return env


def _when(t: float | None) -> str:
    if not t:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + "Z"


LIST_PAGES: dict[str, tuple[str, Any, tuple[str, ...], tuple[str, ...]]] = {
    "pods": ("Pods", lists.pods, ("ns", "label", "node", "q", "status"), lists.POD_SORTS),
    "nodes": ("Nodes", lists.nodes, ("label", "q", "status"), lists.NODE_SORTS),
    "namespaces": ("Namespaces", lists.namespaces, ("label", "q", "status"), lists.NAMESPACE_SORTS),
    "workloads": ("Workloads", lists.workloads, ("ns", "label", "kind", "q"), lists.WORKLOAD_SORTS),
}


class Pages:
    def __init__(self, details: Details, charts_: ChartData, *, title: str = "kubescope console") -> None:
        self.details = details
        self.charts = charts_
        self.cluster = details.cluster
        self.usage = details.usage
        self.env = environment()
        self.title = title
        self.static = resources.files("kubescope.console") / "static"

    # -- rendering -----------------------------------------------------------------------------------

    def render(self, request: web.Request, template: str, code: int = 200, /, **values: Any) -> web.Response:
        notes = list(values.pop("notes", ()))
        if not self.cluster.synced():
            notes.insert(0, "Still listing the cluster's objects: lists are incomplete for a moment.")
        if self.usage.error:
            notes.append(f"Current usage unavailable: {self.usage.error}")
        html = self.env.get_template(template).render(
            title=self.title, path=request.path, notes=[n for n in notes if n], now=time.time(), **values
        )
        return web.Response(
            text=html, status=code, content_type="text/html", charset="utf-8",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                     "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"},
        )  # fmt: skip

    def error(self, request: web.Request, status: int, message: str) -> web.Response:
        if request.path.startswith("/api/"):
            return web.json_response({"error": message}, status=status, headers={"Cache-Control": "no-store"})
        return self.render(request, "error.html", status, heading={400: "Bad request", 404: "Not found"}.get(status, "Error"),
                           message=message)  # fmt: skip

    def guarded(self, handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except BadInput as e:
                return self.error(request, 400, str(e))
            except NotFound as e:
                return self.error(request, 404, str(e))
            except web.HTTPException:
                raise
            except Exception as e:  # a bug: say so, log it, keep serving
                logger.exception("console page failed", extra=fields(path=request.path))
                return self.error(
                    request,
                    500,
                    f"the console failed to build this page ({e.__class__.__name__}); see its log",
                )

        return run

    # -- pages ------------------------------------------------------------------------------------------

    async def overview(self, request: web.Request) -> web.StreamResponse:
        _only(request, "range")
        range_name, _, _ = charts.parse_range(request.query.get("range"))
        view = await self.details.overview()
        return self.render(request, "overview.html", range=range_name, **view)

    def list_page(self, name: str) -> Handler:
        heading, build, allowed, sorts = LIST_PAGES[name]

        async def page(request: web.Request) -> web.StreamResponse:
            q = lists.parse_query(request.query, allowed=allowed, sorts=sorts)
            result = build(self.cluster, self.usage, q, time.time())
            namespaces = sorted(n.metadata.name for n in self.cluster.namespaces.values())
            return self.render(request, f"list_{name}.html", heading=heading, page=result, q=q, base=f"/{name}",
                               namespaces=namespaces, allowed=allowed, kinds=list(KIND_PATHS))  # fmt: skip

        return page

    async def node(self, request: web.Request) -> web.StreamResponse:
        _only(request, "range")
        range_name, _, _ = charts.parse_range(request.query.get("range"))
        view = await self.details.node(request.match_info["name"])
        return self.render(request, "node.html", range=range_name, **view)

    async def pod(self, request: web.Request) -> web.StreamResponse:
        _only(request, "range")
        range_name, _, _ = charts.parse_range(request.query.get("range"))
        view = await self.details.pod(request.match_info["ns"], request.match_info["name"])
        return self.render(request, "pod.html", range=range_name, **view)

    async def workload(self, request: web.Request) -> web.StreamResponse:
        _only(request, "range")
        range_name, _, _ = charts.parse_range(request.query.get("range"))
        m = request.match_info
        view = await self.details.workload(m["ns"], m["kind"], m["name"])
        return self.render(request, "workload.html", range=range_name, **view)

    async def autoscalers(self, request: web.Request) -> web.StreamResponse:
        _only(request, "ns", "q")
        view = self.details.autoscalers(request.query.get("ns", ""), request.query.get("q", ""))
        namespaces = sorted(n.metadata.name for n in self.cluster.namespaces.values())
        return self.render(request, "autoscalers.html", namespaces=namespaces, ns=request.query.get("ns", ""),
                           text=request.query.get("q", ""), **view)  # fmt: skip

    async def autoscaler(self, request: web.Request) -> web.StreamResponse:
        _only(request, "range")
        range_name, _, _ = charts.parse_range(request.query.get("range"))
        view = await self.details.autoscaler(request.match_info["ns"], request.match_info["name"])
        return self.render(request, "autoscaler.html", range=range_name, **view)

    async def chart(self, request: web.Request) -> web.StreamResponse:
        what = request.match_info["what"]
        path = tuple(p for p in request.match_info["tail"].split("/") if p)
        query = dict(request.query)
        if what == "autoscalers":
            _only(request, "range")
            if len(path) != 2:
                raise NotFound("an autoscaler chart is /api/charts/autoscalers/{namespace}/{name}")
            body = await self.charts.replicas_chart(path[0], path[1], query)
        else:
            _only(request, "range", "metric")
            if what not in ("cluster", "nodes", "pods", "workloads"):
                raise NotFound(f"no chart kind {what!r}: use cluster, nodes, pods, workloads or autoscalers")
            body = await self.charts.usage_chart(what, path, query)
        return web.Response(body=msgspec.json.encode(body), content_type="application/json",
                            headers={"Cache-Control": "no-store"})  # fmt: skip

    async def static_file(self, request: web.Request) -> web.StreamResponse:
        rel = request.match_info["file"]
        parts = rel.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise NotFound(f"no static file {rel!r}")
        node = self.static
        for p in parts:
            node = node / p
        if not node.is_file():
            raise NotFound(f"no static file {rel!r}")
        kind = {"js": "text/javascript", "css": "text/css", "txt": "text/plain"}.get(
            rel.rsplit(".", 1)[-1], "text/plain"
        )
        if rel.endswith("LICENSE"):
            kind = "text/plain"
        return web.Response(
            body=node.read_bytes(), content_type=kind, headers={"Cache-Control": "public, max-age=3600"}
        )

    def routes(self) -> list[web.RouteDef]:
        g = self.guarded
        out = [
            web.get("/", g(self.overview)),
            web.get("/nodes/{name}", g(self.node)),
            web.get("/pods/{ns}/{name}", g(self.pod)),
            web.get("/workloads/{ns}/{kind}/{name}", g(self.workload)),
            web.get("/autoscalers", g(self.autoscalers)),
            web.get("/autoscalers/{ns}/{name}", g(self.autoscaler)),
            web.get("/api/charts/{what}{tail:(/.*)?}", g(self.chart)),
            web.get("/static/{file:.+}", g(self.static_file)),
        ]
        out += [web.get(f"/{name}", g(self.list_page(name))) for name in LIST_PAGES]
        return out


def _only(request: web.Request, *allowed: str) -> None:
    for k in request.query:
        if k not in allowed:
            raise BadInput(f"unknown parameter {k!r}: this page takes {', '.join(allowed) or 'none'}")
