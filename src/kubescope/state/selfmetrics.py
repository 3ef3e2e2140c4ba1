"""Self metrics of ``kubescope state-metrics`` (telemetry port): KSM's families, then ours.

Counters are read at collection time from plain attributes (reflector and store stats), so the hot
paths never touch prometheus_client objects.

KSM's: ``kube_state_metrics_build_info``, ``_list_total``/``_watch_total{result,resource}``,
``_list_objects``, ``_shard_ordinal``, ``_total_shards``, ``_config_hash``,
``_last_config_reload_successful``, ``_last_config_reload_success_timestamp_seconds``,
``_custom_resource_state_*``, and ``http_request_duration_seconds{handler="metrics"}``.
Ours (``kubescope_state_*``): events applied, decode and render errors per resource, objects and
bytes held, flush work, scrape durations by encoding, sync state.
"""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kubescope import __version__, web


def md5_metric_value(data: bytes) -> float:
    """KSM's md5HashAsMetricValue: the first 48 bits of the md5, little endian, as a float."""
    return float(int.from_bytes(hashlib.md5(data).digest()[:6], "little"))  # noqa: S324 - not security


@dataclass
class ConfigState:
    """What KSM reports about one watched configuration file."""

    type: str
    filename: str
    successful: bool = False
    success_time: float = 0.0
    hash: float = 0.0

    def loaded(self, data: bytes) -> None:
        self.successful = True
        self.success_time = time.time()
        self.hash = md5_metric_value(data)

    def failed(self) -> None:
        self.successful = False


@dataclass
class ResourceView:
    """What the collector needs to know about one resource (filled by the app)."""

    name: str
    go_type: str
    stores: Callable[[], Iterable[Any]]
    reflectors: Callable[[], Iterable[Any]]


@dataclass(eq=False)
class SelfMetrics(Collector):
    resources: Callable[[], Iterable[ResourceView]]
    shard: Callable[[], tuple[int, int]]
    configs: list[ConfigState] = field(default_factory=list)
    flush_seconds: Callable[[], float] = lambda: 0.0
    crs_events: dict[str, int] = field(default_factory=lambda: {"add": 0, "update": 0, "delete": 0})
    crs_cache: Callable[[], int] = lambda: 0
    unavailable: Callable[[], Iterable[tuple[str, str]]] = lambda: ()
    """(resource, reason) of enabled resources that cannot be listed: ``not_served``, ``forbidden``,
    ``not_found``."""

    def collect(self) -> Iterator[Metric]:
        b = GaugeMetricFamily(
            "kube_state_metrics_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, goversion from which "
            "kube_state_metrics was built, and the goos and goarch for the build.",
            labels=[
                "branch",
                "client_go_version",
                "goarch",
                "goos",
                "goversion",
                "revision",
                "tags",
                "version",
            ],
        )
        b.add_metric(
            [
                "",
                "kubescope",
                platform.machine(),
                platform.system().lower(),
                "python" + platform.python_version(),
                "",
                "",
                "v" + __version__,
            ],
            1,
        )
        yield b

        lists = CounterMetricFamily(
            "kube_state_metrics_list",
            "Number of total resource list calls in kube-state-metrics",
            labels=["result", "resource"],
        )
        watches = CounterMetricFamily(
            "kube_state_metrics_watch",
            "Number of total resource watch calls in kube-state-metrics",
            labels=["result", "resource"],
        )
        objs = GaugeMetricFamily(
            "kube_state_metrics_list_objects",
            "Number of resources listed in kube-state-metrics",
            labels=["resource"],
        )
        applied = CounterMetricFamily(
            "kubescope_state_events",
            "Watch events and list items applied to the store, by type.",
            labels=["resource", "type"],
        )
        decode_err = CounterMetricFamily(
            "kubescope_state_decode_errors",
            "Objects or watch lines that could not be decoded and were skipped.",
            labels=["resource"],
        )
        render_err = CounterMetricFamily(
            "kubescope_state_render_errors",
            "Objects whose metrics could not be rendered and were skipped.",
            labels=["resource"],
        )
        dense = CounterMetricFamily(
            "kubescope_state_dense_members",
            "Compressed members the flusher rewrote at the dense level once their text stopped changing.",
            labels=["resource"],
        )
        dense_saved = CounterMetricFamily(
            "kubescope_state_dense_saved_bytes",
            "Compressed bytes those dense rewrites saved (when written).",
            labels=["resource"],
        )
        held = GaugeMetricFamily(
            "kubescope_state_bytes_held",
            "Bytes of metric text held, compressed and pending compression.",
            labels=["resource", "kind"],
        )
        count = GaugeMetricFamily(
            "kubescope_state_objects", "Objects exported, per resource.", labels=["resource"]
        )
        synced = GaugeMetricFamily(
            "kubescope_state_synced",
            "1 once every watch of the resource has completed its initial list.",
            labels=["resource"],
        )
        relists = CounterMetricFamily(
            "kubescope_state_relists",
            "Lists after the initial one (410 Gone, errors), per resource.",
            labels=["resource"],
        )
        for rv in self.resources():
            refl = list(rv.reflectors())
            stores = list(rv.stores())
            s = {
                k: sum(_stat(r, k) for r in refl)
                for k in (
                    "lists_ok",
                    "lists_error",
                    "watches_ok",
                    "watches_error",
                    "decode_errors",
                    "relists",
                    "added",
                    "modified",
                    "deleted",
                    "listed",
                )
            }
            lists.add_metric(["success", rv.go_type], s["lists_ok"])
            lists.add_metric(["error", rv.go_type], s["lists_error"])
            watches.add_metric(["success", rv.go_type], s["watches_ok"])
            watches.add_metric(["error", rv.go_type], s["watches_error"])
            objs.add_metric([rv.go_type], sum(len(st) for st in stores))
            for t in ("added", "modified", "deleted", "listed"):
                applied.add_metric([rv.name, t], s[t])
            decode_err.add_metric([rv.name], s["decode_errors"])
            render_err.add_metric([rv.name], sum(st.stats.render_errors for st in stores))
            dense.add_metric([rv.name], sum(st.stats.densified for st in stores))
            dense_saved.add_metric([rv.name], sum(st.stats.densify_saved_bytes for st in stores))
            held.add_metric([rv.name, "compressed"], sum(st.compressed_bytes() for st in stores))
            held.add_metric([rv.name, "pending"], sum(st.pending_bytes for st in stores))
            count.add_metric([rv.name], sum(len(st) for st in stores))
            synced.add_metric([rv.name], 1 if refl and all(_synced(r) for r in refl) else 0)
            relists.add_metric([rv.name], s["relists"])
        yield from (lists, watches, objs)

        shard, total = self.shard()
        o = GaugeMetricFamily(
            "kube_state_metrics_shard_ordinal",
            "Current sharding ordinal/index of this instance",
            labels=["shard_ordinal"],
        )
        o.add_metric([str(shard)], shard)
        yield o
        yield GaugeMetricFamily(
            "kube_state_metrics_total_shards", "Number of total shards this instance is aware of", value=total
        )

        h = GaugeMetricFamily(
            "kube_state_metrics_config_hash",
            "Hash of the currently loaded configuration.",
            labels=["type", "filename"],
        )
        ok = GaugeMetricFamily(
            "kube_state_metrics_last_config_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            labels=["type", "filename"],
        )
        ts = GaugeMetricFamily(
            "kube_state_metrics_last_config_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            labels=["type", "filename"],
        )
        for c in self.configs:
            h.add_metric([c.type, c.filename], c.hash)
            ok.add_metric([c.type, c.filename], 1 if c.successful else 0)
            ts.add_metric([c.type, c.filename], c.success_time)
        yield from (h, ok, ts)

        for kind, help_ in (
            ("add", "Number of times that the CRD informer triggered the add event."),
            ("update", "Number of times that the CRD informer triggered the update event."),
            ("delete", "Number of times that the CRD informer triggered the remove event."),
        ):
            yield CounterMetricFamily(
                f"kube_state_metrics_custom_resource_state_{kind}_events",
                help_,
                value=self.crs_events.get(kind, 0),
            )
        yield GaugeMetricFamily(
            "kube_state_metrics_custom_resource_state_cache",
            "Net amount of CRDs affecting the cache currently.",
            value=self.crs_cache(),
        )
        yield from (applied, decode_err, render_err, dense, dense_saved, held, count, synced, relists)
        gone = GaugeMetricFamily(
            "kubescope_state_resource_unavailable",
            "1 for an enabled resource that cannot be listed: not served by the API server (skipped, "
            "checked again every minute), or its list answered 403 or 404 (retried with backoff); "
            "/readyz does not wait for these.",
            labels=["resource", "reason"],
        )
        for resource, reason in self.unavailable():
            gone.add_metric([resource, reason], 1)
        yield gone
        yield CounterMetricFamily(
            "kubescope_state_flush_seconds",
            "Wall time spent folding changes into compressed blocks.",
            value=self.flush_seconds(),
        )


def _stat(reflector: Any, name: str) -> int:
    stats = getattr(reflector, "stats", None)
    return int(getattr(stats, name, 0) or 0)


def _synced(reflector: Any) -> bool:
    ev = getattr(reflector, "synced", None)
    return bool(ev is not None and ev.is_set())


def register(metrics: web.SelfMetrics, collector: SelfMetrics) -> tuple[Histogram, Histogram]:
    """Add the collector, KSM's request histogram and ours to the server's self metrics."""
    reg = metrics.registry
    metrics.register(collector)
    http = Histogram(
        "http_request_duration_seconds",
        "A histogram of requests for kube-state-metrics metrics handler.",
        ["handler", "method"],
        registry=reg,
    )
    scrape = Histogram(
        "kubescope_state_scrape_duration_seconds",
        "Time to serve a full /metrics response, by encoding.",
        ["encoding", "format"],
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        registry=reg,
    )
    return http, scrape
