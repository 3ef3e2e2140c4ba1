"""The running console: watches, the Metrics API poller and the pages, as one :class:`kubescope.web.Server`.

Parts and their lifecycle:

1. one reflector per resource the pages show (pods, nodes, namespaces, the six workload kinds,
   HorizontalPodAutoscalers, APIServices), each a supervised task filling :class:`~.cluster.Cluster`;
   a resource the API server does not serve (or forbids) stays empty and the rest works;
2. the Metrics API poller (:class:`~.usage.Usage`), a supervised task;
3. the listener: plain HTTP, TLS from the apiserver-style flags, or a Prometheus web-config file
   (TLS and basic auth), the read-only guard and, with ``--login-token-file``, the login
   (:mod:`.auth`); health endpoints and self metrics beside the pages;
4. ``/readyz`` passes once pods and nodes are listed.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from kubescope import web as ksweb
from kubescope.console import auth, wire
from kubescope.console.chartdata import ChartData
from kubescope.console.cluster import WORKLOAD_KINDS, Cluster, Table
from kubescope.console.details import Details
from kubescope.console.pages import Pages
from kubescope.console.sources import Events, History
from kubescope.console.usage import Usage
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.kube.reflector import Reflector
from kubescope.memory import release_free_memory


@dataclass(frozen=True)
class Settings:
    """What ``kubescope console`` was asked to do (the flags, validated)."""

    kube: KubeSettings = field(default_factory=KubeSettings)
    host: str = "0.0.0.0"
    port: int = 8090
    tls: ssl.SSLContext | ksweb.WebConfig | None = None
    login_token_file: str = ""
    session_seconds: float = 12 * 3600
    usage_interval: float = 30.0
    source_timeout: float = 5.0
    health_urls: tuple[tuple[str, str], ...] = ()
    """(name, URL) of exporters whose readiness the overview shows (``--health-url``)."""
    shutdown_delay: float = 0.0


def _trim(_syncs: int) -> None:
    release_free_memory()


def _reflector(
    client: KubeClient,
    api: str,
    resource: str,
    kind: type[Any],
    sink: Table[Any, Any],
    on_synced: Callable[[int], None] | None = None,
) -> ksweb.Task:
    r = Reflector(
        client, api_path=api, resource=resource, item_type=kind, sink=sink, name=resource, on_synced=on_synced
    )
    return ksweb.Task(f"watch-{resource}", r.run)


def _probe(
    name: str, url: str, session: Callable[[], aiohttp.ClientSession]
) -> Callable[[], Awaitable[tuple[str, bool, str]]]:
    async def probe() -> tuple[str, bool, str]:
        try:
            async with session().get(url, timeout=aiohttp.ClientTimeout(total=2), ssl=False) as r:
                text = (await r.text())[:200].strip()
                return name, r.status == 200, f"{r.status} {text}".strip()
        except (aiohttp.ClientError, TimeoutError) as e:
            return name, False, f"{url}: {e.__class__.__name__} {e}".strip()

    return probe


class Console:
    def __init__(self, settings: Settings, client: KubeClient) -> None:
        self.settings = settings
        self.client = client
        self.cluster = Cluster()
        c = self.cluster
        # a poll frees what it decoded (and a (re)list of pods what it listed): glibc keeps freed
        # pages below the heap top unless asked; walking the heap costs a few ms per poll
        self.usage = Usage(
            client,
            interval=settings.usage_interval,
            on_poll=release_free_memory,
            size_hint=lambda: (len(c.nodes), len(c.pods)),
        )
        t = settings.source_timeout
        available = self.cluster.apiservice_available
        self.history = History(client, available, timeout=t)
        self.events = Events(client, available, timeout=t)
        self._session: aiohttp.ClientSession | None = None
        probes = tuple(_probe(n, u, self._http) for n, u in settings.health_urls)
        self.details = Details(client, self.cluster, self.usage, self.history, self.events, probes)
        self.pages = Pages(self.details, ChartData(self.cluster, self.usage, self.history, self.events))
        secure = settings.tls is not None
        self.login = (
            auth.Login(settings.login_token_file, session_seconds=settings.session_seconds, secure=secure)
            if settings.login_token_file else None
        )  # fmt: skip

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def tasks(self) -> list[ksweb.Task]:
        c, client = self.cluster, self.client
        out = [
            _reflector(client, "/api/v1", "pods", wire.Pod, c.pods, _trim),
            _reflector(client, "/api/v1", "nodes", wire.Node, c.nodes),
            _reflector(client, "/api/v1", "namespaces", wire.Namespace, c.namespaces),
            _reflector(client, "/apis/autoscaling/v2", "horizontalpodautoscalers", wire.HPA, c.hpas),
            _reflector(
                client, "/apis/apiregistration.k8s.io/v1", "apiservices", wire.APIService, c.apiservices
            ),
        ]
        for resource, (gv, kind) in WORKLOAD_KINDS.items():
            out.append(_reflector(client, f"/apis/{gv}", resource, wire.Workload, c.workloads[kind]))
        out.append(ksweb.Task("metrics-api-poller", self.usage.run))
        return out

    def _not_found(self, app: web.Application) -> None:
        async def unknown(request: web.Request) -> web.StreamResponse:
            return self.pages.error(request, 404, f"no page at {request.path}: start from the overview at /")

        app.router.add_route("GET", "/{tail:.*}", unknown)

    def server(self) -> ksweb.Server:
        s = self.settings
        listener = ksweb.Listener(
            "console",
            routes=[*auth.routes(self.login), *self.pages.routes()],
            host=s.host,
            port=s.port,
            port_flag="--port",
            tls=s.tls,
            middlewares=[auth.middleware(self.login)],
            health=("healthz", "livez", "readyz"),
            metrics=True,
            setup=self._not_found,
        )
        return ksweb.Server(
            "console",
            listeners=[listener],
            tasks=self.tasks(),
            checks=[ksweb.HealthCheck("informers", self._synced, ("readyz",))],
            shutdown_delay=s.shutdown_delay,
            on_stop=[self.close],
        )

    def _synced(self) -> str | None:
        missing = [n for n, t in (("pods", self.cluster.pods), ("nodes", self.cluster.nodes)) if not t.synced]
        return f"not listed yet: {', '.join(missing)}" if missing else None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self.client.close()
        # aiohttp closes TLS transports in the background: its documented graceful close waits a
        # moment, else the event loop's end finds a dozen watch sockets still open
        await asyncio.sleep(0.25)


async def serve(settings: Settings) -> int:
    client = await KubeClient.connect(settings.kube)
    console = Console(settings, client)
    try:
        return await console.server().serve()
    finally:
        await asyncio.shield(console.close())
