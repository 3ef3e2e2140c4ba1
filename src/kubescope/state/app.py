"""The running state-metrics exporter: watches, stores, servers and reconfiguration.

One :class:`StateExporter` owns, per enabled resource, one :class:`ResourceStore` per watched
namespace (one store for all namespaces by default) fed by one reflector each, the
:class:`Flusher` that compresses changes, and a :class:`kubescope.web.Server` with KSM's two
listeners: the main one (``/metrics``, ``/healthz``, ``/livez``) and the telemetry one (self
metrics, ``/readyz``). Reflectors, the flusher and the CRD watch are supervised tasks of that
server: a dead one is restarted, and ``/readyz`` names it while it is down.

Health answers keep KSM's words (``OK``; 503 on failure) with the kube-style lists (``?verbose``,
``/readyz/<check>``): ``/healthz`` is always OK while the process serves; ``/livez`` fails when
the API server's ``/livez`` does (as KSM proxies it); ``/readyz`` waits for every resource's
initial list (``informer-sync``) and for every supervised task to run.

Reconfiguration (``--config`` file changes, automatic sharding) compares the new settings with the
running ones per resource: a resource whose families, allowlists, selectors and namespaces are
unchanged keeps its store and its watch; others are rebuilt; listeners restart only if their
address or TLS changed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from aiohttp import web

from kubescope import __version__
from kubescope import web as core
from kubescope.errors import KubeError
from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from kubescope.kube.sink import ReflectorOptions
from kubescope.log import fields
from kubescope.state import exposition as ex
from kubescope.state.custom import CustomResources
from kubescope.state.discovery import INTERVAL, Discovery, unavailable
from kubescope.state.family import FamilyOptions, ResourceSpec
from kubescope.state.flusher import Flusher
from kubescope.state.registry import all_resources
from kubescope.state.scrapes import STALL, ScrapeLimiter, deadlines
from kubescope.state.selfmetrics import ConfigState, ResourceView, SelfMetrics, register
from kubescope.state.settings import StateSettings
from kubescope.state.store import ResourceStore, Snapshot

if TYPE_CHECKING:
    from kubescope.state.crs import CRSConfig, CustomResourceSpec

logger = logging.getLogger(__name__)

LANDING = """<html>
<head><title>kubescope state-metrics</title></head>
<body>
<h1>kubescope state-metrics</h1>
<ul>
<li><a href="metrics">metrics</a></li>
<li><a href="healthz">healthz</a></li>
<li><a href="livez">livez</a></li>
</ul>
</body>
</html>
"""

TELEMETRY_LANDING = """<html>
<head><title>kubescope state-metrics telemetry</title></head>
<body>
<h1>kubescope state-metrics telemetry</h1>
<ul>
<li><a href="metrics">metrics</a></li>
<li><a href="readyz">readyz</a></li>
</ul>
</body>
</html>
"""


@dataclass
class ResourceRuntime:
    """One enabled resource: its stores (one per watched namespace) and their reflectors."""

    spec: ResourceSpec
    key: tuple[Any, ...]
    stores: list[ResourceStore] = field(default_factory=list)
    reflectors: list[Reflector[Any]] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    """Names of the supervised reflector tasks."""

    def snapshot(self) -> Snapshot:
        snaps = [s.snapshot() for s in self.stores]
        if len(snaps) == 1:
            return snaps[0]
        members = [[m for sn in snaps for m in sn.members[f]] for f in range(len(self.stores[0].families))]
        return Snapshot(self.spec, self.stores[0].families, members, sum(sn.objects for sn in snaps))

    def synced(self) -> bool:
        return bool(self.reflectors) and all(r.synced.is_set() for r in self.reflectors)

    def settled(self) -> bool:
        """Every watch synced or unable to list (403/404): what /readyz waits for."""
        return bool(self.reflectors) and all(r.synced.is_set() or r.unavailable for r in self.reflectors)

    def unavailable(self) -> set[str]:
        """Why some of its watches cannot list (``forbidden``, ``not found``), if any."""
        return {r.unavailable for r in self.reflectors if r.unavailable}

    async def stop(self, supervisor: core.Supervisor) -> None:
        for name in self.tasks:
            await supervisor.stop(name)
        self.tasks.clear()


def _runtime_key(s: StateSettings, resource: str, spec: ResourceSpec) -> tuple[Any, ...]:
    """Everything that, if changed, requires rebuilding a resource's store and watch."""
    fams = tuple(f.name for f in served_families(s, resource, spec))
    opts = s.family_options(resource)
    return (
        fams,
        # a custom resource's metrics come from its configuration, not from its family names alone
        spec.config if _is_custom(spec) else None,
        opts.labels.entries,
        opts.annotations.entries,
        s.field_selector(resource, spec),
        s.namespaces if spec.namespaced else (),
        s.shard,
        s.total_shards,
        s.use_apiserver_cache,
        s.object_limit,
        s.block_size,
        s.watch_list,
    )


class StateExporter:
    """The exporter. ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        settings: StateSettings,
        client: KubeClient,
        *,
        web_config: core.WebConfig | None = None,
        authorizer: Callable[[web.Request], Awaitable[int]] | None = None,
        crs_config: CRSConfig | None = None,
        crs_config_bytes: bytes | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.web_config = web_config or core.load_web_config(settings.tls_config)
        self.authorizer = authorizer
        self.runtimes: dict[str, ResourceRuntime] = {}
        self.discovery = Discovery(client)
        self._apply_lock = asyncio.Lock()
        # custom resources (Custom Resource State): discovered from CRDs, by KSM's store name
        self.custom_specs: dict[str, CustomResourceSpec] = {}
        self.custom = CustomResources(
            client,
            settings,
            self._apply_custom,
            config=crs_config,
            config_bytes=crs_config_bytes,
            on_object_error=_crs_object_error,
        )
        self.flusher = Flusher(self._stores, interval=settings.flush_interval)
        self._configured = False
        self.scrape_pool = ThreadPoolExecutor(2, thread_name_prefix="kubescope-scrape")
        self.configs: list[ConfigState] = []
        self.collector = SelfMetrics(
            resources=self._views,
            shard=lambda: (self.settings.shard, self.settings.total_shards),
            configs=self.configs,
            flush_seconds=lambda: self.flusher.flush_seconds_total,
            unavailable=self.unavailable,
        )
        self.collector.crs_events = self.custom.crds.events
        self.collector.crs_cache = self.custom.cache_size
        if self.custom.state is not None:
            self.configs.append(self.custom.state)
        self.server = self._server()
        self.http_hist, self.scrape_hist = register(self.server.metrics, self.collector)
        self.scrapes = ScrapeLimiter(max_plain=settings.max_plain_scrapes)
        self.server.metrics.register(self.scrapes)
        self.started = time.monotonic()

    # -- stores and watches ----------------------------------------------------------------

    def _stores(self) -> list[ResourceStore]:
        return [s for rt in self.runtimes.values() for s in rt.stores]

    def _views(self) -> Iterable[ResourceView]:
        for name, rt in sorted(self.runtimes.items()):
            yield ResourceView(name, rt.spec.go_type, _getter(rt.stores), _getter(rt.reflectors))

    def _spec(self, resource: str) -> ResourceSpec:
        spec = all_resources().get(resource)
        return spec if spec is not None else self.custom_specs[resource]

    def _wanted(self, s: StateSettings) -> list[str]:
        served = [r for r in s.resources if self.discovery.served(r)]
        return [*served, *sorted(self.custom_specs)]

    async def _rediscover(self) -> None:
        """Read again the group-versions of resources not served and of those listed with 404."""
        while True:
            await asyncio.sleep(INTERVAL)
            specs = {
                r: self._spec(r)
                for r in self.settings.resources
                if not self.discovery.served(r)
                or "not found" in (rt.unavailable() if (rt := self.runtimes.get(r)) else ())
            }
            if specs and await self.discovery.check(specs):
                await self.apply_settings(self.settings)

    def unavailable(self) -> list[tuple[str, str]]:
        """(resource, reason) of every enabled resource that cannot be listed (self metrics)."""
        states = [(name, u) for name, rt in sorted(self.runtimes.items()) for u in sorted(rt.unavailable())]
        return unavailable(self.discovery, states)

    def _build(self, resource: str) -> ResourceRuntime:
        s = self.settings
        spec = self._spec(resource)
        fams = served_families(s, resource, spec)
        rt = ResourceRuntime(spec, _runtime_key(s, resource, spec))
        namespaces: Sequence[str] = s.namespaces if (spec.namespaced and s.namespaces) else ("",)
        for ns in namespaces:
            store = ResourceStore(
                spec, fams, sharding=s.sharding, block_size=s.block_size, on_dirty=self.flusher.poke
            )
            refl: Reflector[Any] = Reflector(
                self.client,
                api_path=spec.api_path,
                resource=spec.resource,
                item_type=spec.struct,
                dec_hook=getattr(spec, "dec_hook", None),
                sink=store,
                namespace=ns or None,
                field_selector=s.field_selector(resource, spec),
                use_cache=s.use_apiserver_cache,
                object_limit=s.object_limit,
                name=resource,
                pace=self.flusher.pace,
                options=ReflectorOptions(watch_list=s.watch_list),
            )
            rt.stores.append(store)
            rt.reflectors.append(refl)
            task = f"reflector/{resource}" + (f"/{ns}" if ns else "")
            self.server.supervisor.start(core.Task(task, refl.run))
            rt.tasks.append(task)
        return rt

    async def apply_settings(self, new: StateSettings) -> None:
        """Bring the watched resources in line with ``new``, keeping what did not change."""
        async with self._apply_lock:
            old_runtimes = self.runtimes
            self.settings = new
            self.custom.settings = new
            wanted = self._wanted(new)
            keep: dict[str, ResourceRuntime] = {}
            for r in wanted:
                rt = old_runtimes.get(r)
                if rt is not None and rt.key == _runtime_key(new, r, self._spec(r)):
                    keep[r] = rt
            for r, rt in old_runtimes.items():
                if keep.get(r) is not rt:
                    await rt.stop(self.server.supervisor)
                    logger.info("resource stopped", extra=fields(resource=r))
            self.runtimes = {r: keep.get(r) or self._build(r) for r in wanted}
            self.flusher.interval = new.flush_interval

    async def _apply_custom(self, specs: dict[str, CustomResourceSpec]) -> None:
        """CRDs or the CRS configuration changed: watch exactly these custom resources now."""
        self.custom_specs = dict(specs)
        await self.apply_settings(self.settings)

    def ready(self) -> bool:
        """Every resource that can be listed has been (not served or forbidden ones are not waited for)."""
        return self.custom.synced() and all(rt.settled() for rt in self.runtimes.values())

    def _informer_sync(self) -> str | None:
        if not self._configured:
            return "starting"
        pending = sorted(n for n, rt in self.runtimes.items() if not rt.settled())
        if not self.custom.synced():
            pending.insert(0, "customresourcedefinitions")
        return "waiting for the initial sync of: " + ", ".join(pending) if pending else None

    async def _apiserver_livez(self) -> str | None:
        # KSM proxies the API server's /livez: unhealthy when we cannot reach it
        try:
            await asyncio.wait_for(self.client.get("/livez"), 5)
        except (KubeError, TimeoutError) as e:
            return f"API server /livez failed: {e}"
        return None

    async def wait_synced(self, timeout: float | None = None) -> None:
        async def _wait() -> None:
            for rt in list(self.runtimes.values()):
                for r in rt.reflectors:
                    await r.synced.wait()

        await asyncio.wait_for(_wait(), timeout)

    # -- HTTP ------------------------------------------------------------------------------

    async def handle_metrics(self, request: web.Request) -> web.StreamResponse:
        t0 = time.perf_counter()
        neg = ex.negotiate(request.headers.get("Accept", ""))
        gz = self.settings.enable_gzip_encoding and ex.wants_gzip(request.headers.get("Accept-Encoding", ""))
        names = ex.select(
            sorted(self.runtimes),
            {k: request.query.getall(k) for k in ("resources", "exclude_resources") if k in request.query},
        )
        admission = self.scrapes.admit(gz)
        if admission is None:
            return self.scrapes.refusal(gz)
        with admission:
            await self.flusher.flush_now()
            if not gz:
                # a plain scrape's buffers (its threads' heaps) come on top of what the heaps hold
                # free: give back first what earlier work freed (all of a sync's, just after it)
                self.flusher.trimmer.idle()
            snaps = [self.runtimes[n].snapshot() for n in names if n in self.runtimes]
            headers = {"Content-Length": str(ex.body_length(snaps, openmetrics=neg.openmetrics, gz=gz))}
            if gz:
                headers["Content-Encoding"] = "gzip"
            chunks = ex.scrape_chunks(snaps, openmetrics=neg.openmetrics, gz=gz, executor=self.scrape_pool)
            write_timeout = self.settings.server_write_timeout
            resp = await core.stream_response(
                request,
                deadlines(
                    request, chunks, admission, stall=min(STALL, write_timeout), deadline=write_timeout
                ),
                content_type=neg.content_type,
                headers=headers,
            )
        dt = time.perf_counter() - t0
        # a plain scrape inflated the whole body chunk by chunk
        self.flusher.trimmer.note(resp.body_length)
        self.http_hist.labels("metrics", request.method.lower()).observe(dt)
        self.scrape_hist.labels(
            "gzip" if gz else "identity", "openmetrics" if neg.openmetrics else "text"
        ).observe(dt)
        return resp

    def _server(self) -> core.Server:
        s = self.settings
        middlewares = []
        if self.authorizer is not None:
            middlewares.append(core.authorizer_middleware(self.authorizer, lambda p: p == "/metrics"))
        return core.Server(
            "state-metrics",
            listeners=[
                core.Listener(
                    "metrics",
                    routes=[core.get("/metrics", self.handle_metrics), core.get("/", _html(LANDING))],
                    host=s.host,
                    port=s.port,
                    port_flag="--port",
                    host_flag="--host",
                    tls=self.web_config,
                    middlewares=middlewares,
                    health=("healthz", "livez"),
                    health_style=core.KSM,
                    keepalive_timeout=s.server_idle_timeout,
                ),
                core.Listener(
                    "telemetry",
                    routes=[core.get("/", _html(TELEMETRY_LANDING))],
                    host=s.telemetry_host,
                    port=s.telemetry_port,
                    port_flag="--telemetry-port",
                    host_flag="--telemetry-host",
                    tls=self.web_config,
                    middlewares=middlewares,
                    health=("readyz",),
                    health_style=core.KSM,
                    metrics=True,
                    keepalive_timeout=s.server_idle_timeout,
                ),
            ],
            tasks=[core.Task("flusher", self.flusher.run)],
            checks=[
                core.HealthCheck("informer-sync", self._informer_sync, ("readyz",)),
                core.HealthCheck("apiserver", self._apiserver_livez, ("livez",)),
            ],
            on_stop=[self._close],
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the listeners (a taken port fails first), start the watches, then serve."""
        s = self.settings
        await self.server.bind()
        await self.discovery.check({r: self._spec(r) for r in s.resources}, startup=True)
        await self.apply_settings(s)
        self.server.supervisor.start(core.Task("discovery", self._rediscover))
        for task in self.custom.tasks():
            self.server.supervisor.start(task)
        self._configured = True
        await self.server.start()
        logger.info(
            "state-metrics started",
            extra=fields(
                version=__version__, resources=len(s.resources), shard=s.shard, total_shards=s.total_shards
            ),
        )

    @property
    def ports(self) -> tuple[int, int]:
        return self.server.port("metrics"), self.server.port("telemetry")

    async def stop(self) -> None:
        await self.server.stop()

    async def _close(self) -> None:
        self.runtimes = {}
        await self.flusher.stop()
        self.scrape_pool.shutdown(wait=False, cancel_futures=True)


def served_families(s: StateSettings, resource: str, spec: ResourceSpec) -> list[Any]:
    """The families served for a resource: the metric allow/deny lists apply to custom ones too."""
    if _is_custom(spec):
        return [f for f in spec.families(FamilyOptions()) if s.metric_filter.keep(f)]
    return s.families(resource)


def _is_custom(spec: ResourceSpec) -> TypeGuard[CustomResourceSpec]:
    """Whether ``spec`` is a custom resource's. Its module is imported only with Custom Resource
    State configured (:mod:`kubescope.state.custom`): without it, no spec can be one."""
    crs = sys.modules.get("kubescope.state.crs.resources")
    return crs is not None and isinstance(spec, crs.CustomResourceSpec)


def _crs_object_error(family: str, message: str, verbosity: int) -> None:
    # KSM logs these at klog verbosity errorLogV: a debug line here
    logger.debug("custom resource metric skipped", extra=fields(metric=family, error=message, v=verbosity))


def _getter(items: list[Any]) -> Callable[[], Iterable[Any]]:
    return lambda: items


def _html(text: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="text/html")

    return page
