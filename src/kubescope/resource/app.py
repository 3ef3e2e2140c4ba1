"""The running resource-metrics server: watches, the scrape loop, storage and the HTTPS API.

:class:`ResourceMetricsServer` wires the parts together and owns their lifecycle:

1. delegated authentication configuration: ``--client-ca-file`` / ``--requestheader-*`` flags, or
   the ``kube-system/extension-apiserver-authentication`` ConfigMap (re-read every minute; new CAs
   are trusted from the next handshake);
2. the serving certificate (given or self-signed into ``--cert-dir``) and the HTTPS listener,
   started at once so discovery answers while the caches fill;
3. reflectors for nodes and running pods (``fieldSelector=status.phase=Running``);
4. once both have synced, a cycle every ``--metric-resolution`` on a fixed grid (a late cycle
   makes the next start at once, missed ones are dropped, like Go's ticker): scrape every node,
   then replace the storage with the result;
5. on SIGTERM: ``/readyz`` fails (``shutdown``), requests are still served for
   ``--shutdown-delay-duration``, then listeners stop, in-flight requests drain, tasks end.

Health checks: ``ping``, ``log``, ``poststarthook/max-in-flight-filter`` everywhere;
``metric-storage-ready``, ``metric-informer-sync`` and ``shutdown`` on readyz;
``metric-collection-timely`` on livez; ``metadata-informer-sync`` on all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from kubescope import __version__
from kubescope.apiserver import health
from kubescope.apiserver.authn import (
    AuthConfig,
    Authenticator,
    RequestHeaderConfig,
    TokenReviewer,
    config_from_configmap,
    load_pem_certificates,
)
from kubescope.apiserver.authz import Authorizer
from kubescope.apiserver.server import HTTPSListener, Pipeline
from kubescope.apiserver.tls import add_client_cas, ensure_serving_cert, server_context
from kubescope.errors import ConfigError, KubeError, NotFoundError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.kube.reflector import Reflector
from kubescope.log import fields
from kubescope.memory import release_free_memory
from kubescope.resource.api import MetricsAPI, routes
from kubescope.resource.inventory import Node, NodeCache, Pod, PodCache
from kubescope.resource.openapi import OpenAPI
from kubescope.resource.scraper import Scraper
from kubescope.resource.selfmetrics import SelfMetrics
from kubescope.resource.settings import Settings
from kubescope.resource.storage import MetricsStorage

logger = logging.getLogger(__name__)

AUTH_CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
AUTH_REFRESH_SECONDS = 60.0


class _ConfigMap(msgspec.Struct, gc=False):
    data: dict[str, str] = msgspec.field(default_factory=dict)


def _poster(client: KubeClient) -> Callable[[str, bytes], Awaitable[bytes]]:
    async def post(path: str, body: bytes) -> bytes:
        return await client.request("POST", path, body=body)

    return post


class ResourceMetricsServer:
    def __init__(self, settings: Settings, client: KubeClient) -> None:
        self.settings = settings
        self.client = client
        self.authn_client = client
        self.authz_client = client
        self.storage = MetricsStorage(settings.resolution_ns)
        self.nodes = NodeCache()
        self.pods = PodCache()
        self.metrics = SelfMetrics(settings.metric_resolution)
        self.metrics.storage_points = lambda: (len(self.storage.node_prev), self.storage.container_points)
        self.metrics.rate_errors = lambda: dict(self.storage.rate_errors)
        self.metrics.auth = self._auth_counters
        self.api = MetricsAPI(
            self.storage,
            self.nodes,
            self.pods,
            node_selector=settings.kubelet.node_selector,
            freshness=self.metrics.freshness,
        )
        self.scraper = Scraper(
            settings.kubelet,
            self.nodes,
            self.metrics,
            resolution=settings.metric_resolution,
            credentials=client.credentials,
            apiserver_credentials=client.credentials,
        )
        self.authenticator = Authenticator(anonymous=settings.auth.anonymous)
        self.authorizer = Authorizer(
            post=None,
            always_allow_paths=settings.auth.always_allow_paths,
            authorized_ttl=settings.auth.authorized_ttl,
            unauthorized_ttl=settings.auth.unauthorized_ttl,
        )
        self.health = health.HealthChecks()
        self.listener: HTTPSListener | None = None
        self.port = 0
        self.tick_last_start = 0.0
        self.cycles = 0
        self.shutting_down = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._reflectors: list[Reflector[object]] = []
        self._ssl_ctx: ssl.SSLContext | None = None
        self._configmap_data: dict[str, str] | None = None
        self._was_ready = False
        self._prerender: asyncio.Task[None] | None = None

    # -- start-up -------------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        a = s.auth
        if a.authentication_kubeconfig:
            self.authn_client = await KubeClient.connect(KubeSettings(kubeconfig=a.authentication_kubeconfig))
        if a.authorization_kubeconfig:
            self.authz_client = await KubeClient.connect(KubeSettings(kubeconfig=a.authorization_kubeconfig))
        self.authenticator.tokens = TokenReviewer(_poster(self.authn_client), cache_ttl=a.token_cache_ttl)
        self.authorizer.post = _poster(self.authz_client)
        self.authenticator.config = await self._auth_config(initial=True)

        self.scraper.prepare()
        cert = ensure_serving_cert(
            s.serving.tls_cert_file, s.serving.tls_private_key_file, s.serving.cert_dir
        )
        ctx = server_context(
            cert, self.authenticator.config.all_ca_pem, s.serving.tls_min_version, s.serving.tls_ciphers
        )
        self._ssl_ctx = ctx
        self._register_checks()
        app = self.build_app()
        self.listener = HTTPSListener(app, s.serving.bind_address, s.serving.secure_port, ctx)
        await self.listener.start()
        self.port = self.listener.bound_port

        node_reflector: Reflector[Node] = Reflector(
            self.client, api_path="/api/v1", resource="nodes", item_type=Node, sink=self.nodes, name="nodes"
        )
        pod_reflector: Reflector[Pod] = Reflector(
            self.client,
            api_path="/api/v1",
            resource="pods",
            item_type=Pod,
            sink=self.pods,
            field_selector="status.phase=Running",
            name="pods",
        )
        self._reflectors = [node_reflector, pod_reflector]  # type: ignore[list-item]
        for r in (node_reflector, pod_reflector):
            self._tasks.append(asyncio.create_task(r.run(), name=f"reflector {r.name}"))
        self._tasks.append(asyncio.create_task(self._scrape_loop(), name="scrape loop"))
        if not (a.skip_lookup or (a.client_ca_file and a.requestheader_client_ca_file)):
            self._tasks.append(asyncio.create_task(self._refresh_auth_loop(), name="auth config refresh"))
        logger.info(
            "serving metrics.k8s.io",
            extra=fields(
                address=s.serving.bind_address, port=self.port, resolution=f"{s.metric_resolution:g}s"
            ),
        )

    async def _fetch_configmap(self) -> dict[str, str]:
        raw = await self.authn_client.get(AUTH_CONFIGMAP)
        return msgspec.json.decode(raw, type=_ConfigMap).data

    async def _auth_config(self, *, initial: bool) -> AuthConfig:
        a = self.settings.auth
        client_ca_pem = ""
        rh: RequestHeaderConfig | None = None
        if a.client_ca_file:
            client_ca_pem = _read(a.client_ca_file, "--client-ca-file")
        if a.requestheader_client_ca_file:
            pem = _read(a.requestheader_client_ca_file, "--requestheader-client-ca-file")
            rh = RequestHeaderConfig(
                ca=tuple(load_pem_certificates(pem, "--requestheader-client-ca-file")),
                ca_pem=pem,
                allowed_names=a.requestheader_allowed_names,
                username_headers=a.requestheader_username_headers,
                uid_headers=a.requestheader_uid_headers,
                group_headers=a.requestheader_group_headers,
                extra_prefixes=a.requestheader_extra_headers_prefix,
            )
        need_lookup = not a.skip_lookup and not (a.client_ca_file and a.requestheader_client_ca_file)
        if need_lookup:
            try:
                data = await self._fetch_configmap()
                self._configmap_data = data
                cm_client_ca, cm_rh = config_from_configmap(data)
                if not a.client_ca_file:
                    client_ca_pem = cm_client_ca
                if not a.requestheader_client_ca_file:
                    rh = cm_rh
            except (KubeError, msgspec.DecodeError, ConfigError) as e:
                what = "configmap kube-system/extension-apiserver-authentication"
                hint = (
                    " (not found: is this an API server with front-proxy authentication?)"
                    if isinstance(e, NotFoundError)
                    else ""
                )
                if not initial:
                    raise
                if not a.tolerate_lookup_failure:
                    raise ConfigError(
                        f"unable to load {what}{hint}: {e}; grant the "
                        "extension-apiserver-authentication-reader "
                        "role, pass --requestheader-client-ca-file/--client-ca-file, or "
                        "--authentication-tolerate-lookup-failure / --authentication-skip-lookup"
                    ) from e
                logger.warning(
                    "error looking up in-cluster authentication configuration; continuing without it",
                    extra=fields(error=str(e)),
                )
        client_ca = (
            tuple(load_pem_certificates(client_ca_pem, "client-ca-file")) if client_ca_pem.strip() else ()
        )
        return AuthConfig(client_ca=client_ca, client_ca_pem=client_ca_pem, requestheader=rh)

    async def _refresh_auth_loop(self) -> None:
        while True:
            await asyncio.sleep(AUTH_REFRESH_SECONDS)
            before = self._configmap_data
            try:
                cfg = await self._auth_config(initial=False)
            except (KubeError, msgspec.DecodeError, ConfigError) as e:
                logger.warning("cannot refresh the authentication configuration", extra=fields(error=str(e)))
                continue
            if self._configmap_data != before:
                self.authenticator.config = cfg
                if self._ssl_ctx is not None:
                    add_client_cas(self._ssl_ctx, cfg.all_ca_pem)
                logger.info("authentication configuration changed and was reloaded")

    # -- HTTP -----------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        pipeline = Pipeline(
            self.authenticator,
            self.authorizer,
            observe=self.metrics.request,
            max_inflight=self.settings.serving.max_requests_inflight,
        )
        return make_app(pipeline, self.api, self.health, self.metrics)

    def _register_checks(self) -> None:
        h = self.health
        h.add("ping", health.ping)
        h.add("log", health.log_check)
        # a post-start hook passes once the server (and with it the max-in-flight filter) is serving
        h.add(
            "poststarthook/max-in-flight-filter",
            lambda: None if self.listener is not None and self.port else "not finished",
        )
        h.add("metric-storage-ready", self._storage_ready, "readyz")
        h.add("metric-informer-sync", self._informers_synced, "readyz")
        h.add("metric-collection-timely", self._collection_timely, "livez")
        h.add("metadata-informer-sync", self._pod_informer_synced)
        h.add("shutdown", lambda: "process is shutting down" if self.shutting_down else None, "readyz")

    def _storage_ready(self) -> str | None:
        return None if self.storage.ready() else "no metrics to serve"

    def _informers_synced(self) -> str | None:
        if not self.nodes.synced:
            return "cache for node informer has not synced"
        if not self.pods.synced:
            return "cache for pod informer has not synced"
        return None

    def _pod_informer_synced(self) -> str | None:
        return None if self.pods.synced else "1 informers not started yet: [/v1, Resource=pods]"

    def _collection_timely(self) -> str | None:
        last = self.tick_last_start
        limit = 1.5 * self.settings.metric_resolution
        if last and time.time() - last > limit:
            return "metric collection didn't finish on time"
        return None

    def _auth_counters(self) -> dict[str, int]:
        out: dict[str, int] = {}
        t = self.authenticator.tokens
        if t is not None:
            out["tokenreview:sent"] = t.requests
            out["tokenreview:cached"] = t.cache_hits
        out["subjectaccessreview:sent"] = self.authorizer.requests
        out["subjectaccessreview:cached"] = self.authorizer.cache_hits
        return out

    # -- the cycle ------------------------------------------------------------------------------

    async def _scrape_loop(self) -> None:
        for r in self._reflectors:
            await r.synced.wait()
        period = self.settings.metric_resolution
        next_at = time.monotonic()
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end the cycle: log it, count it, go on next time
                self.metrics.scrape_error("cycle_exception")
                logger.exception("scrape cycle failed")
            next_at += period
            behind = time.monotonic() - next_at
            if behind > 0:
                # like a Go ticker: at most one tick is pending, the missed ones are dropped
                next_at += (behind // period) * period

    async def _after_cycle(self) -> None:
        await self.api.prerender()
        # a cycle frees what it parsed and the previous generation's parts (tens of MB at 1,000
        # nodes): glibc keeps freed pages below the heap top unless asked. Walking the heap costs
        # a few ms once per resolution.
        release_free_memory()

    async def tick(self) -> None:
        self.tick_last_start = time.time()
        t0 = time.monotonic()
        result = await self.scraper.scrape()
        await self.storage.store_async(
            result.nodes, result.pods, node_of=result.node_of, capacity=result.capacity
        )
        elapsed = time.monotonic() - t0
        if self._prerender is not None and not self._prerender.done():
            self._prerender.cancel()
        self._prerender = asyncio.create_task(self._after_cycle(), name="prerender")
        self.cycles += 1
        m = self.metrics
        m.tick.observe(elapsed)
        m.last_cycle_nodes = result.attempted
        m.last_cycle_scraped = result.scraped
        m.last_cycle_seconds = elapsed
        m.forget_nodes(self.nodes.nodes)
        logger.debug(
            "scrape finished",
            extra=fields(duration=f"{elapsed:.3f}s", nodes=len(result.nodes), pods=len(result.pods)),
        )
        ready = self.storage.ready()
        if ready != self._was_ready:
            self._was_ready = ready
            if ready:
                logger.info("metric storage is ready")
            else:
                logger.info(
                    "metric storage is not ready",
                    extra=fields(
                        node_metrics=self.storage.node_ready(), pod_metrics=self.storage.pod_ready()
                    ),
                )

    # -- shutdown -------------------------------------------------------------------------------

    async def stop(self) -> None:
        self.shutting_down = True
        if self.settings.serving.shutdown_delay > 0:
            await asyncio.sleep(self.settings.serving.shutdown_delay)
        if self.listener is not None:
            await self.listener.stop()
        if self._prerender is not None:
            self._tasks.append(self._prerender)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.scraper.close()
        for c in {id(x): x for x in (self.authn_client, self.authz_client)}.values():
            if c is not self.client:
                await c.close()


def make_app(
    pipeline: Pipeline, api: MetricsAPI, checks: health.HealthChecks, metrics: SelfMetrics
) -> web.Application:
    """The HTTPS application: Metrics API, discovery, OpenAPI, health, /metrics and /version."""
    app = web.Application(middlewares=[pipeline.middleware()], client_max_size=1 << 20)
    app.add_routes(routes(api, OpenAPI()))

    async def healthz(request: web.Request) -> web.Response:
        endpoint = request.path.strip("/").split("/", 1)[0]
        code, text = checks.run(endpoint, request.match_info.get("check", ""), request.query)
        return web.Response(
            status=code,
            text=text,
            headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
        )

    async def self_metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
        )

    major, minor, *_ = [*__version__.split("."), "0", "0"][:3]
    version_body = msgspec.json.encode(
        {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{__version__}",
            "gitCommit": "",
            "gitTreeState": "",
            "buildDate": "",
            "goVersion": "",
            "compiler": "cpython",
            "platform": "linux/amd64",
        }
    )

    async def version(request: web.Request) -> web.Response:
        return web.Response(body=version_body, headers={"Content-Type": "application/json"})

    for e in health.ENDPOINTS:
        app.router.add_get(f"/{e}", healthz)
        app.router.add_get(f"/{e}/{{check}}", healthz)
    app.router.add_get("/metrics", self_metrics)
    app.router.add_get("/version", version)
    return app


def _read(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f"{flag}={path}: cannot read: {e}") from e
