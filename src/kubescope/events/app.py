"""The running events server: recorders, retention and the merged view on one
:class:`kubescope.web.Server`.

1. the archive is opened first (a bad path or URL stops the start, naming ``--database``);
2. the HTTPS listener serves the aggregated API through :class:`~kubescope.apiserver.server.AggregatedAPI`
   (delegated TokenReview/SubjectAccessReview, front-proxy and client CAs from the flags or the
   ``extension-apiserver-authentication`` ConfigMap), plus ``/metrics`` and kube-style health;
3. one supervised task per stream (``--namespace`` repeated: one watch each; none: all
   namespaces, minus ``--exclude-namespace``), one for retention (every minute);
4. ``/readyz`` fails until every stream is in step with the API server and while the archive
   refuses writes; self metrics count events by namespace, kind, reason and type.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kubescope import web
from kubescope.apiserver.options import APIServerOptions
from kubescope.apiserver.server import AggregatedAPI
from kubescope.events import retention
from kubescope.events.api import EventsAPI
from kubescope.events.model import Record
from kubescope.events.recorder import RecorderSettings, StreamRecorder, StreamSpec, discover_api
from kubescope.events.store import EventStore
from kubescope.kube.client import KubeClient
from kubescope.log import fields

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    database: str = "events.db"
    namespaces: tuple[str, ...] = ()
    exclude_namespaces: tuple[str, ...] = ()
    api: str = "auto"
    """``auto`` (events.k8s.io/v1 where served), ``events.k8s.io/v1`` or ``v1`` (core)."""
    record: bool = True
    retention: retention.Retention = field(default_factory=retention.Retention)
    recorder: RecorderSettings = field(default_factory=RecorderSettings)
    apiserver: APIServerOptions = field(default_factory=APIServerOptions)


class EventsServer:
    def __init__(self, settings: Settings, client: KubeClient | None) -> None:
        self.settings = settings
        self.client = client
        self.store = EventStore(settings.database)
        self.api = EventsAPI(self.store, client, pending=self._pending)
        self.recorders: list[StreamRecorder] = []
        self.retention = retention.RetentionStats()
        self.apiserver = (
            AggregatedAPI(settings.apiserver, client, metric_prefix="kubescope_events") if client else None
        )
        self.server: web.Server | None = None

    def _specs(self, api_path: str) -> list[StreamSpec]:
        s = self.settings
        if s.namespaces:
            return [StreamSpec(api_path, ns) for ns in s.namespaces]
        sel = ",".join(f"metadata.namespace!={ns}" for ns in s.exclude_namespaces)
        return [StreamSpec(api_path, "", sel)]

    async def build(self) -> web.Server:
        tasks = [web.Task("retention", self._retention)]
        checks = [web.HealthCheck("archive", self._archive_check, ("readyz",))]
        if self.settings.record and self.client is not None:
            api = self.settings.api
            path = (
                await discover_api(self.client)
                if api == "auto"
                else ("/api/v1" if api == "v1" else "/apis/events.k8s.io/v1")
            )
            for spec in self._specs(path):
                rec = StreamRecorder(self.client, self.store, spec, self.settings.recorder)
                self.recorders.append(rec)
                tasks.append(web.Task(f"record {spec.key}", rec.run))
            checks.append(web.HealthCheck("informer-sync", self._synced, ("readyz",)))
        a = self.apiserver
        assert a is not None, "the server needs a Kubernetes client (delegated authentication)"
        self.server = web.Server(
            "events", listeners=[a.listener(self.api.routes())], tasks=[*a.tasks(), *tasks],
            checks=[*a.checks(), *checks], collectors=[*a.collectors(), Collector(self)], on_stop=[self._close],
            shutdown_delay=self.settings.apiserver.serving.shutdown_delay,
        )  # fmt: skip
        return self.server

    async def start(self) -> web.Server:
        """Build, bind (a taken port fails first), read the authentication configuration, serve."""
        server = await self.build()
        await server.bind()
        assert self.apiserver is not None
        await self.apiserver.prepare()
        await server.start()
        return server

    async def _close(self) -> None:
        if self.apiserver is not None:
            await self.apiserver.close()
        await asyncio.to_thread(self.store.close)

    def _pending(self) -> list[Record]:
        return [r for rec in self.recorders for r in rec.pending()]

    def _synced(self) -> str | None:
        for r in self.recorders:
            problem = r.check_synced()
            if problem:
                return problem
        return None

    def _archive_check(self) -> str | None:
        for r in self.recorders:
            problem = r.check_store()
            if problem:
                return problem
        return None

    async def _retention(self) -> None:
        while True:
            try:
                await asyncio.to_thread(retention.apply, self.store, self.settings.retention, self.retention)
            except Exception as e:  # the archive down: try again next time
                logger.warning("retention pass failed", extra=fields(error=str(e)))
            await asyncio.sleep(60)


class Collector:
    """Self metrics: events by namespace, kind, reason and type, and the recorder's counters."""

    def __init__(self, server: EventsServer) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        recs = self.server.recorders
        ev = CounterMetricFamily(
            "kubescope_events", "Event occurrences recorded (series counts included), by the regarding object's "
            "namespace and kind, reason and type", labels=["namespace", "kind", "reason", "type"],
        )  # fmt: skip
        total: dict[tuple[str, str, str, str], int] = {}
        for r in recs:
            for k, n in r.stats.occurrences.items():
                total[k] = total.get(k, 0) + n
        for key, n in sorted(total.items()):
            ev.add_metric(list(key), n)
        yield ev
        simple = [
            ("kubescope_events_versions_stored", "Event versions written to the archive", "stored"),
            (
                "kubescope_events_duplicates",
                "Event versions received again and not written (replays)",
                "duplicates",
            ),
            (
                "kubescope_events_buffer_full",
                "Times the buffer reached its bound and the watch was paused",
                "buffer_full",
            ),
            (
                "kubescope_events_store_failures",
                "Archive writes that failed and were retried",
                "store_failures",
            ),
            (
                "kubescope_events_expired_seen",
                "Events the API server deleted (TTL) while watched",
                "expired_seen",
            ),
        ]
        for name, help_text, attr in simple:
            c = CounterMetricFamily(name, help_text, labels=["stream"])
            for r in recs:
                c.add_metric([r.name], getattr(r.stats, attr))
            yield c
        rej = CounterMetricFamily("kubescope_events_rejected", "Events refused, by reason", labels=["reason"])
        reasons: dict[str, int] = {}
        for r in recs:
            for why, n in r.stats.rejected.items():
                reasons[why] = reasons.get(why, 0) + n
            if r.reflector is not None:
                reasons["undecodable"] = reasons.get("undecodable", 0) + r.reflector.stats.decode_errors
        for why, n in sorted(reasons.items()):
            rej.add_metric([why], n)
        yield rej
        buf = GaugeMetricFamily(
            "kubescope_events_buffered", "Events in memory, waiting or being written", labels=["stream"]
        )
        ck = GaugeMetricFamily(
            "kubescope_events_checkpoint_resource_version",
            "The stream's last stored resourceVersion",
            labels=["stream"],
        )
        for r in recs:
            buf.add_metric([r.name], len(r.buffer))
            ck.add_metric([r.name], r.stats.checkpoint)
        yield buf
        yield ck
        size = GaugeMetricFamily(
            "kubescope_events_archive_bytes", "Bytes the archive takes (last retention pass)"
        )
        size.add_metric([], self.server.retention.last_size)
        yield size
        deleted = CounterMetricFamily(
            "kubescope_events_retention_deleted", "Events deleted by retention", labels=["by"]
        )
        deleted.add_metric(["age"], self.server.retention.deleted_age)
        deleted.add_metric(["size"], self.server.retention.deleted_size)
        yield deleted
