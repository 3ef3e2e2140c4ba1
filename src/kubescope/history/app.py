"""The running history server: pod watches, the recording cycle, compaction and the HTTPS API.

:class:`HistoryServer` owns the parts and their lifecycle:

1. the store (opened at start; a schema or permission problem stops the start with its path);
2. delegated authentication (TokenReview), authorization (SubjectAccessReview), client and
   front-proxy CAs from flags, as every aggregated API server does, and the HTTPS listener;
3. reflectors for pods, ReplicaSets and Jobs (owners up to Deployments and CronJobs);
4. once they have synced, a cycle every ``--resolution`` on a fixed grid: one LIST of NodeMetrics
   and one of PodMetrics, samples appended in one transaction, then closed windows compacted,
   both in a worker thread; a failed LIST is logged and counted and the cycle skipped (a gap);
5. health: ``/livez`` fails when no cycle started for 3 resolutions; ``/readyz`` until the
   watches synced and the store is open.

The serving pieces are :mod:`kubescope.apiserver`'s, as resource-metrics uses them; this wiring moves
onto the web core's aggregated-API layer once that lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from kubescope.apiserver import health
from kubescope.apiserver.authn import (
    AuthConfig,
    Authenticator,
    RequestHeaderConfig,
    TokenReviewer,
    load_pem_certificates,
)
from kubescope.apiserver.authz import Authorizer
from kubescope.apiserver.server import HTTPSListener, Pipeline
from kubescope.apiserver.tls import ensure_serving_cert, server_context
from kubescope.errors import ConfigError, DecodeError, KubeError
from kubescope.history.api import HistoryAPI, routes
from kubescope.history.pods import Owned, Owners, Pod, PodCatalog
from kubescope.history.query import Engine
from kubescope.history.recording import Batch, CycleStats, Recorder, node_samples, pod_samples
from kubescope.history.store import HistoryStore, Retention
from kubescope.kube.client import KubeClient
from kubescope.kube.reflector import Reflector
from kubescope.log import fields

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeSettings:
    bind_address: str = "0.0.0.0"
    secure_port: int = 443
    cert_dir: str = "apiserver.local.config/certificates"
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""
    requestheader_client_ca_file: str = ""
    requestheader_allowed_names: tuple[str, ...] = ()
    always_allow_paths: tuple[str, ...] = ("/healthz", "/readyz", "/livez")
    anonymous: bool = True
    max_requests_inflight: int = 400


@dataclass(frozen=True)
class Settings:
    db: str = "history.db"
    resolution: float = 60.0
    retention: Retention = field(default_factory=Retention)
    window: int = 7200
    metrics_api: str = "/apis/metrics.k8s.io/v1beta1"
    record: bool = True
    serve: ServeSettings = field(default_factory=ServeSettings)


class SelfMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.cycles = Counter(
            "kubescope_history_cycles", "Recording cycles by outcome", ["outcome"], registry=r
        )
        self.samples = Counter("kubescope_history_samples", "Samples written to the store", registry=r)
        self.skipped = Counter(
            "kubescope_history_skipped_samples", "Samples not written, by reason", ["reason"], registry=r
        )
        self.cycle_seconds = Histogram(
            "kubescope_history_cycle_duration_seconds", "Recording cycle duration", registry=r
        )
        self.compaction_seconds = Histogram(
            "kubescope_history_compaction_duration_seconds", "Compaction duration", registry=r
        )
        self.store_bytes = Gauge(
            "kubescope_history_store_bytes", "Size of the store file and its WAL", registry=r
        )
        self.requests = Histogram(
            "kubescope_history_request_duration_seconds", "API request duration by kind and code", ["kind", "code"],
            registry=r,
        )  # fmt: skip

    def request(self, kind: str, code: int, seconds: float) -> None:
        self.requests.labels(kind, str(code)).observe(seconds)


class HistoryServer:
    def __init__(self, settings: Settings, client: KubeClient | None) -> None:
        self.settings = settings
        self.client = client
        self.store = HistoryStore(settings.db, retention=settings.retention, window=settings.window)
        self.engine = Engine(self.store, resolution=int(settings.resolution))
        self.metrics = SelfMetrics()
        self.api = HistoryAPI(self.engine, observe=self.metrics.request)
        self.replicasets = Owners()
        self.jobs = Owners()
        self.catalog = PodCatalog(self.replicasets, self.jobs)
        self.recorder = Recorder(self.store)
        self.health = health.HealthChecks()
        self.listener: HTTPSListener | None = None
        self.port = 0
        self.last_cycle = 0.0
        self.cycles = 0
        self.shutting_down = False
        self._reflectors: list[Reflector[Any]] = []
        self._tasks: list[asyncio.Task[Any]] = []

    # -- start and stop --------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings.serve
        authn = Authenticator(anonymous=s.anonymous)
        authz = Authorizer(post=None, always_allow_paths=s.always_allow_paths)
        if self.client is not None:
            authn.tokens = TokenReviewer(self._post)
            authz.post = self._post
        authn.config = self._auth_config()
        cert = ensure_serving_cert(s.tls_cert_file, s.tls_private_key_file, s.cert_dir)
        ctx = server_context(cert, authn.config.all_ca_pem)
        self._register_checks()
        pipeline = Pipeline(authn, authz, max_inflight=s.max_requests_inflight)
        app = web.Application(middlewares=[pipeline.middleware()])
        app.add_routes([web.get("/metrics", self._metrics), *self._health_routes(), *routes(self.api)])
        self.listener = HTTPSListener(app, s.bind_address, s.secure_port, ctx)
        await self.listener.start()
        self.port = self.listener.bound_port
        if self.settings.record and self.client is not None:
            self._reflectors = [
                Reflector(self.client, api_path="/api/v1", resource="pods", item_type=Pod, sink=self.catalog, name="pods"),
                Reflector(self.client, api_path="/apis/apps/v1", resource="replicasets", item_type=Owned,
                          sink=self.replicasets, name="replicasets"),
                Reflector(self.client, api_path="/apis/batch/v1", resource="jobs", item_type=Owned, sink=self.jobs,
                          name="jobs"),
            ]  # fmt: skip
            for r in self._reflectors:
                self._tasks.append(asyncio.create_task(r.run(), name=f"reflector {r.name}"))
            self._tasks.append(asyncio.create_task(self._loop(), name="recording loop"))
        logger.info(
            "serving history", extra=fields(port=self.port, db=self.settings.db, record=self.settings.record)
        )

    async def _post(self, path: str, body: bytes) -> bytes:
        assert self.client is not None
        return await self.client.request("POST", path, body=body)

    def _auth_config(self) -> AuthConfig:
        s = self.settings.serve
        client_ca_pem = _read(s.client_ca_file, "--client-ca-file") if s.client_ca_file else ""
        rh = None
        if s.requestheader_client_ca_file:
            pem = _read(s.requestheader_client_ca_file, "--requestheader-client-ca-file")
            rh = RequestHeaderConfig(
                ca=tuple(load_pem_certificates(pem, "--requestheader-client-ca-file")), ca_pem=pem,
                allowed_names=s.requestheader_allowed_names,
            )  # fmt: skip
        ca = tuple(load_pem_certificates(client_ca_pem, "--client-ca-file")) if client_ca_pem.strip() else ()
        return AuthConfig(client_ca=ca, client_ca_pem=client_ca_pem, requestheader=rh)

    async def stop(self) -> None:
        self.shutting_down = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.listener is not None:
            await self.listener.stop()
        self.store.close()

    # -- health and metrics ------------------------------------------------------------------------

    def _register_checks(self) -> None:
        h = self.health
        h.add("ping", health.ping)
        h.add("log", health.log_check)
        h.add("informer-sync", self._synced, "readyz")
        h.add("recording-timely", self._timely, "livez")
        h.add("shutdown", lambda: "process is shutting down" if self.shutting_down else None, "readyz")

    def _synced(self) -> str | None:
        for r in self._reflectors:
            if not r.synced.is_set():
                return f"cache for {r.name} has not synced"
        return None

    def _timely(self) -> str | None:
        if self.last_cycle and time.time() - self.last_cycle > 3 * self.settings.resolution + 30:
            return "no recording cycle started for 3 resolutions"
        return None

    def _health_routes(self) -> list[web.RouteDef]:
        out = []
        for ep in ("healthz", "livez", "readyz"):

            async def handler(request: web.Request, ep: str = ep) -> web.Response:
                code, text = self.health.run(ep, request.match_info.get("sub", ""), request.query)
                return web.Response(status=code, text=text)

            out += [web.get(f"/{ep}", handler), web.get(f"/{ep}/{{sub}}", handler)]
        return out

    async def _metrics(self, request: web.Request) -> web.Response:
        self.metrics.store_bytes.set(self.store.size_bytes())
        return web.Response(body=generate_latest(self.metrics.registry), content_type="text/plain")

    # -- recording ---------------------------------------------------------------------------------

    async def _loop(self) -> None:
        for r in self._reflectors:
            await r.synced.wait()
        period = self.settings.resolution
        next_at = time.monotonic()
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.last_cycle = time.time()
            try:
                await self.cycle()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not end recording: log it, count it, try next time
                self.metrics.cycles.labels("exception").inc()
                logger.exception("recording cycle failed")
            next_at += period
            behind = time.monotonic() - next_at
            if behind > 0:
                next_at += (behind // period + 1) * period

    async def cycle(self) -> CycleStats:
        """One recording cycle (also called by tests)."""
        assert self.client is not None
        t0 = time.perf_counter()
        stats = CycleStats()
        batch = Batch()
        base = self.settings.metrics_api
        try:
            nodes, pods = await asyncio.gather(
                self.client.get(f"{base}/nodes"), self.client.get(f"{base}/pods")
            )
            node_samples(nodes, batch, stats)
            pod_samples(pods, self.catalog, batch, stats)
        except (KubeError, DecodeError) as e:
            self.metrics.cycles.labels("list_failed").inc()
            logger.warning("cannot list the Metrics API; this cycle is a gap", extra=fields(error=str(e)))
            return stats
        for err in stats.errors[:5]:
            logger.warning("bad Metrics API item skipped", extra=fields(error=err))
        now = int(time.time())
        await asyncio.to_thread(self.recorder.write, now, batch, stats)
        comp = await asyncio.to_thread(self.store.compact)
        if comp.windows:
            self.metrics.compaction_seconds.observe(comp.seconds)
        self.metrics.samples.inc(stats.samples)
        for reason, n in (
            ("duplicate", stats.duplicates),
            ("stale", stats.stale),
            ("unknown_pod", stats.unknown_pods),
            ("bad_item", stats.bad_items),
        ):
            if n:
                self.metrics.skipped.labels(reason).inc(n)
        self.metrics.cycles.labels("ok").inc()
        self.metrics.cycle_seconds.observe(time.perf_counter() - t0)
        self.cycles += 1
        return stats


def _read(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f"{flag}={path}: {e.strerror}") from e
