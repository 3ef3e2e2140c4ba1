"""The history questions answered by a Prometheus-compatible query API (Prometheus, VictoriaMetrics,
Thanos, Mimir) instead of the embedded store: ``--prometheus-url``.

The expressions are :mod:`kubescope.history.promql`'s; this module sends them (``query_range`` for
lines and buckets, ``query`` for a partial bucket and for window-wide extremes) and shapes the
answers exactly as the embedded store's (docs/history.md), so clients cannot tell the two apart
except by ``sources``. Owners, requests and limits come from the server's pod watch
(:class:`~kubescope.history.pods.PodCatalog`), as Prometheus' cAdvisor series carry none.

Recommendations pool, per workload and container, the CPU rates of every pod at a step of
``max(resolution, window / 11,000)`` (what one ``query_range`` may return; VPA's Prometheus
history provider pools its rates the same way, at one hour) and take the memory peak from the raw
samples (``max_over_time``), so a spike between two steps is not missed.

Every request runs under ``timeout`` (also sent as Prometheus' own ``timeout``); an unreachable or
failing backend is :class:`BackendError` (HTTP 503 naming the backend), never a hang or a 500.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
import numpy as np

from kubescope.errors import ConfigError, KubescopeError, truncate
from kubescope.history import promql
from kubescope.history.answers import stamps
from kubescope.history.pods import PodCatalog
from kubescope.history.promql import PromQLSettings
from kubescope.history.query import intervals, sample_intervals
from kubescope.history.questions import IdleOptions, RecommendOptions, cpu_quantity, mem_quantity
from kubescope.history.request import BadRequest, Range, Target, parse_metric
from kubescope.history.series import CPU_UNIT
from kubescope.model.gofmt import go_duration
from kubescope.model.timefmt import format_time

MAX_POINTS = 11_000
MAX_ANSWER = 256 << 20
"""Bytes of one answer read at most (a question over a huge cluster fails instead of filling memory)."""
EPSILON = 0.001
"""Evaluation times sit a millisecond before a bucket's end: a subquery's window ``(e - w, e]`` then
holds the grid points of ``[start, end)``."""


class BackendError(KubescopeError):
    """The query API did not answer (HTTP 503 to the client)."""


@dataclass(frozen=True)
class BackendSettings:
    url: str
    ca_file: str = ""
    token_file: str = ""
    timeout: float = 30.0
    promql: PromQLSettings = field(default_factory=PromQLSettings)


class _Envelope(msgspec.Struct):
    status: str = ""
    data: Any = None
    errorType: str = ""
    error: str = ""


_decode = msgspec.json.Decoder(_Envelope)
Series = tuple[dict[str, str], np.ndarray, np.ndarray]
"""Labels, evaluation times (int seconds, bucket starts once shifted) and values."""


class PromBackend:
    """The history questions over a Prometheus-compatible API. Create and close in the event loop."""

    def __init__(self, settings: BackendSettings, catalog: PodCatalog) -> None:
        self.settings = settings
        self.s = settings.promql
        self.catalog = catalog
        self.base = settings.url.rstrip("/")
        if not self.base.startswith(("http://", "https://")):
            raise ConfigError(f"--prometheus-url={settings.url!r}: expected an http:// or https:// URL")
        self._ssl: ssl.SSLContext | None = None
        if settings.ca_file:
            try:
                self._ssl = ssl.create_default_context(cafile=settings.ca_file)
            except (OSError, ssl.SSLError) as e:
                raise ConfigError(f"--prometheus-ca-file={settings.ca_file}: {e}") from None
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            # the connector's transports close on the loop's next turn (aiohttp's graceful shutdown)
            await asyncio.sleep(0.05)

    def _headers(self) -> dict[str, str]:
        if not self.settings.token_file:
            return {}
        try:  # read at every request: a rotated token is picked up
            with open(self.settings.token_file) as f:
                return {"Authorization": f"Bearer {f.read().strip()}"}
        except OSError as e:
            raise BackendError(f"--prometheus-token-file={self.settings.token_file}: {e}") from None

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout))
        params = {**params, "timeout": f"{self.settings.timeout:g}s"}
        url = self.base + path
        try:
            async with self._session.post(
                url, data=params, headers=self._headers(), ssl=self._ssl if self._ssl is not None else True
            ) as r:
                status = r.status
                parts: list[bytes] = []
                size = 0
                async for chunk in r.content.iter_any():
                    size += len(chunk)
                    if size > MAX_ANSWER:
                        raise BackendError(
                            f"the query API at {self.base} answered more than {MAX_ANSWER >> 20} MiB"
                        )
                    parts.append(chunk)
                body = b"".join(parts)
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise BackendError(
                f"the query API at {self.base} did not answer: {e or type(e).__name__}"
            ) from None
        try:
            env = _decode.decode(body)
        except msgspec.DecodeError:
            raise BackendError(
                f"the query API at {self.base} answered {status}: {truncate(body, 200)}"
            ) from None
        if env.status != "success":
            raise BackendError(
                f"the query API at {self.base} answered {status}: {env.errorType}: {env.error}"
            )
        return env.data

    async def matrix(self, expr: str, start: float, end: float, step: int) -> list[Series]:
        data = await self._get(
            "/api/v1/query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)},
        )
        return [_series(item["metric"], item["values"]) for item in data.get("result") or ()]

    async def vector(self, expr: str, at: float) -> list[Series]:
        data = await self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})
        return [_series(item["metric"], [item["value"]]) for item in data.get("result") or ()]

    # -- points and aggregations ---------------------------------------------------------------

    async def points(self, target: Target, metric_name: str, rng: Range, now: int) -> dict[str, Any]:
        metric, field, unit = parse_metric(metric_name, target)
        if field != "usage":
            raise BadRequest(f"{metric_name}: requests and limits are answered by the embedded store only")
        expr = promql.line(self.s, target, metric)
        res = self.s.resolution
        if rng.step is None:
            end = min(rng.end, now)
            if (end - rng.start) // res > MAX_POINTS:
                raise BadRequest(f"raw points over {end - rng.start}s are more than {MAX_POINTS}: add a step")
            raw = await self.matrix(expr, rng.start, end, res)
            return self._answer(target, metric_name, unit, rng, {"value": raw}, None)
        got = await self._buckets(expr, ["average"], rng, now)
        return self._answer(target, metric_name, unit, rng, got, rng.step)

    async def aggregated(
        self, target: Target, aggs: list[str], metric_name: str, rng: Range, now: int
    ) -> dict[str, Any]:
        metric, field, unit = parse_metric(metric_name, target)
        if field != "usage":
            raise BadRequest(
                f"{metric_name} is a setting, not a measurement: ask for its points, not aggregations"
            )
        expr = promql.line(self.s, target, metric)
        got = await self._buckets(expr, aggs, rng, now)
        return self._answer(target, metric_name, unit, rng, got, rng.step, aggregated=True)

    async def _buckets(self, expr: str, fields: list[str], rng: Range, now: int) -> dict[str, list[Series]]:
        """Per field, the buckets of ``expr``: whole ones with one ``query_range`` each, a partial
        first or last one (the range's edges, or now) with an instant query over what it holds."""
        assert rng.step is not None
        step, res = rng.step, self.s.resolution
        end = min(rng.end, now)
        first = rng.start - rng.start % step
        whole = [t for t in range(first, end + 1, step) if t >= rng.start and t + step <= end]
        partial = [
            (max(t, rng.start), min(t + step, end))
            for t in range(first, end + 1, step)
            if (t < rng.start or t + step > end) and min(t + step, end) > max(t, rng.start)
        ]
        jobs: list[tuple[str, Any]] = []
        for f in fields:
            if whole:
                q = promql.over_time(f, expr, step, res)
                jobs.append((f, self._whole(q, whole[0], whole[-1], step)))
            for lo, hi in partial:
                q = promql.over_time(f, expr, hi - lo, res)
                jobs.append((f, self._at(q, hi - EPSILON, lo)))
        results = await asyncio.gather(*(j for _, j in jobs))
        out: dict[str, list[Series]] = {f: [] for f in fields}
        for (f, _), got in zip(jobs, results, strict=True):
            out[f].extend(got)
        return out

    async def _whole(self, expr: str, first: int, last: int, step: int) -> list[Series]:
        """Buckets ``first .. last`` (their starts), evaluated a millisecond before their ends."""
        got = await self.matrix(expr, first + step - EPSILON, last + step - EPSILON, step)
        return [(labels, ts - step, v) for labels, ts, v in got]

    async def _at(self, expr: str, at: float, start: int) -> list[Series]:
        """One partial bucket starting at ``start``, evaluated at ``at``."""
        return [
            (labels, np.full(ts.size, start, np.int64), v) for labels, ts, v in await self.vector(expr, at)
        ]

    def _answer(
        self, target: Target, name: str, unit: str, rng: Range, got: dict[str, list[Series]],
        step: int | None, *, aggregated: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        by = promql.by_labels(target)
        keys = list(target.names) if by else [""]
        per: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {k: {} for k in keys}
        for f, series in got.items():
            merged: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
            for labels, ts, v in series:
                merged.setdefault(labels.get(by, "") if by else "", []).append((ts, v))
            for k, parts in merged.items():
                if k in per:
                    ts = np.concatenate([p[0] for p in parts])
                    v = np.concatenate([p[1] for p in parts])
                    order = np.argsort(ts, kind="stable")
                    per[k][f] = (ts[order], v[order])
        res = self.s.resolution
        source = [
            {
                "start": format_time(rng.start),
                "end": format_time(rng.end),
                "resolution": go_duration(res * 10**9),
            }
        ]
        items = []
        for k in keys:
            cols = per[k]
            base: dict[str, Any] = {
                "metricName": name,
                "unit": unit,
                "start": format_time(rng.start),
                "end": format_time(rng.end),
            }
            if not aggregated:
                ts, v = cols.get("value") or cols.get("average") or (np.zeros(0, np.int64), np.zeros(0))
                gaps = sample_intervals(ts, 2 * res) if step is None else intervals(ts, step)
                base["step"] = go_duration(step * 10**9) if step else None
                base["metricPoints"] = [
                    {"timestamp": t, "value": _value(unit, x)}
                    for t, x in zip(stamps(ts), v.tolist(), strict=True)
                ]
            else:
                assert step is not None
                times = (
                    np.unique(np.concatenate([c[0] for c in cols.values()]))
                    if cols
                    else np.zeros(0, np.int64)
                )
                buckets = []
                for i, t in enumerate(stamps(times)):
                    b: dict[str, Any] = {"timestamp": t}
                    pct: dict[str, float] = {}
                    for f, (fts, fv) in cols.items():
                        j = np.searchsorted(fts, times[i])
                        if j >= fts.size or fts[j] != times[i] or math.isnan(fv[j]):
                            continue
                        if f == "count":
                            b["count"] = int(fv[j])
                        elif f in promql.OVER_TIME and f.isdigit():
                            pct[f] = _value(unit, float(fv[j]))
                        else:
                            b[f] = _value(unit, float(fv[j]))
                    if pct:
                        b["percentiles"] = pct
                    buckets.append(b)
                gaps = intervals(times, step)
                base["bucketSize"] = go_duration(step * 10**9)
                base["buckets"] = buckets
            base["intervals"] = [{"start": format_time(a), "end": format_time(b)} for a, b in gaps]
            base["sources"] = source
            base["series"] = self._series(target, k)
            items.append(base)
        if not by:
            return items[0]
        return {
            "items": [
                {("name" if by == "pod" else "uid"): k, **item} for k, item in zip(keys, items, strict=True)
            ]
        }

    def _series(self, target: Target, key: str) -> list[dict[str, str]]:
        info = None
        if target.scope == "node":
            return [{"node": target.names[0]}]
        if target.scope == "pod":
            info = self.catalog.lookup(target.namespace, key or target.names[0])
        elif target.scope == "pod-id":
            info = self.catalog.by_uid.get(key or target.names[0])
        if info is None:
            return []
        d = {"namespace": info.namespace, "pod": info.name, "uid": info.uid, "container": target.container,
             "node": info.node, "ownerKind": info.owner_kind, "ownerName": info.owner_name}  # fmt: skip
        return [{k: v for k, v in d.items() if v}]

    # -- questions -----------------------------------------------------------------------------

    def _workloads(self, namespace: str) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The workloads the pod watch knows, with each container's current requests and limits."""
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        for info in list(self.catalog.by_uid.values()):
            if not info.owner_kind or (namespace and info.namespace != namespace):
                continue
            # a ReplicaSet or Job seen after its pods still leads to its Deployment or CronJob
            kind, name = self.catalog.owner(info.namespace, info.owner_kind, info.owner_name)
            specs = out.setdefault((info.namespace, kind, name), {})
            for name, cpu_req, cpu_lim, mem_req, mem_lim in info.requests:
                specs[name] = (cpu_req, cpu_lim, mem_req, mem_lim)
        return out

    async def recommendations(self, opts: RecommendOptions, now: int) -> dict[str, Any]:
        start = now - opts.window
        res = self.s.resolution
        step = max(res, math.ceil(opts.window / MAX_POINTS / res) * res)
        workloads = self._workloads(opts.namespace)
        match = promql.WorkloadMatcher(list(workloads))
        cpu_q = promql.containers(self.s, opts.namespace, "cpu")
        mem_q = promql.containers(self.s, opts.namespace, "memory")
        peak_q = promql.container_peaks(self.s, opts.namespace, opts.window)
        cpu, mem, peaks = await asyncio.gather(
            self.matrix(cpu_q, start, now, step),
            self.matrix(mem_q, start, now, step),
            self.vector(peak_q, now),
        )
        pools: dict[tuple[str, str, str, str], dict[str, list[np.ndarray]]] = {}
        peak: dict[tuple[str, str, str, str], float] = {}
        for metric, series in (("cpu", cpu), ("memory", mem), ("peak", peaks)):
            for labels, _, v in series:
                owner = match(labels.get("namespace", ""), labels.get("pod", ""))
                if owner is None:
                    continue
                key = (labels["namespace"], owner[0], owner[1], labels.get("container", ""))
                if metric == "peak":
                    peak[key] = max(peak.get(key, 0.0), float(v.max()))
                else:
                    pools.setdefault(key, {"cpu": [], "memory": []})[metric].append(v[~np.isnan(v)])
        k = 1 + opts.margin
        by_workload: dict[tuple[str, str, str], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for key in sorted(pools):
            ns, kind, name, container = key
            c = np.concatenate(pools[key]["cpu"]) if pools[key]["cpu"] else np.zeros(0)
            m = np.concatenate(pools[key]["memory"]) if pools[key]["memory"] else np.zeros(0)
            target: dict[str, str] = {}
            lower: dict[str, str] = {}
            upper: dict[str, str] = {}
            if c.size:
                p50, pt, p95 = np.quantile(c, [0.5, opts.cpu_percentile, 0.95]).tolist()
                target["cpu"], lower["cpu"], upper["cpu"] = (
                    cpu_quantity(x * k * CPU_UNIT / 1000) for x in (pt, p50, p95)
                )
            if m.size:
                top = peak.get(key, float(m.max()))  # the raw samples' peak inside the window
                p90 = float(np.quantile(m, 0.9))
                target["memory"], lower["memory"], upper["memory"] = (
                    mem_quantity(x * k) for x in (top, p90, top)
                )
            rec = {"containerName": container, "target": target, "lowerBound": lower, "upperBound": upper,
                   "uncappedTarget": dict(target)}  # fmt: skip
            spec = workloads.get((ns, kind, name), {}).get(container)
            cur: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
            if spec is not None:
                for kind_, metric, v in (("requests", "cpu", spec[0]), ("limits", "cpu", spec[1]),
                                         ("requests", "memory", spec[2]), ("limits", "memory", spec[3])):  # fmt: skip
                    if v is not None:
                        cur[kind_][metric] = cpu_quantity(v) if metric == "cpu" else mem_quantity(v)
            detail = {"containerName": container, "samples": {"cpu": int(c.size), "memory": int(m.size)},
                      "current": cur}  # fmt: skip
            by_workload.setdefault((ns, kind, name), []).append((rec, detail))
        window = {"start": format_time(start), "end": format_time(now)}
        items = [
            {"namespace": ns, "kind": kind, "name": name, "window": window,
             "status": {"recommendation": {"containerRecommendations": [r for r, _ in recs]}},
             "containers": [d for _, d in recs]}
            for (ns, kind, name), recs in sorted(by_workload.items())
        ]  # fmt: skip
        return {"kind": "RecommendationList", "window": window,
                "options": {"cpuPercentile": opts.cpu_percentile, "margin": opts.margin}, "items": items}  # fmt: skip

    async def idle(self, opts: IdleOptions, now: int) -> dict[str, Any]:
        start = now - opts.duration
        res = self.s.resolution
        line = promql.pods_cpu(self.s, opts.namespace)
        d = opts.duration
        peak, avg, count, first = await asyncio.gather(
            *(self.vector(promql.over_time(f, line, d, res), now) for f in ("maximum", "average", "count")),
            self.vector(f"min_over_time(timestamp({line})[{d}s:{res}s])", now),
        )
        match = promql.WorkloadMatcher(list(self._workloads(opts.namespace)))
        stats: dict[tuple[str, str, str], dict[str, list[float]]] = {}
        for what, series in (("max", peak), ("avg", avg), ("count", count), ("first", first)):
            for labels, _, v in series:
                owner = match(labels.get("namespace", ""), labels.get("pod", ""))
                if owner is not None:
                    s = stats.setdefault(
                        (labels["namespace"], *owner), {"max": [], "avg": [], "count": [], "first": []}
                    )
                    s[what].append(float(v[0]))
        items = []
        for (ns, kind, name), s in sorted(stats.items()):
            if not s["first"] or min(s["first"]) > start + res or not s["max"]:
                continue
            if max(s["max"]) >= opts.cpu_threshold:
                continue
            n = sum(s["count"])
            total = sum(a * c for a, c in zip(s["avg"], s["count"], strict=False))
            items.append({"namespace": ns, "kind": kind, "name": name, "pods": len(s["max"]),
                          "since": format_time(min(s["first"])),
                          "cpu": {"maximum": round(max(s["max"]), 3), "average": round(total / n, 3) if n else 0.0},
                          "samples": int(n)})  # fmt: skip
        return {"kind": "IdleList", "window": {"start": format_time(start), "end": format_time(now)},
                "options": {"cpuThreshold": opts.cpu_threshold, "duration": opts.duration}, "items": items}  # fmt: skip


def _series(labels: dict[str, str], values: list[list[Any]]) -> Series:
    ts = np.array([float(t) for t, _ in values], np.float64)
    v = np.array([float(x) for _, x in values], np.float64)
    return labels, np.rint(ts).astype(np.int64), v


def _value(unit: str, x: float) -> float | int:
    return round(x, 3) if unit == "millicores" else round(x)
