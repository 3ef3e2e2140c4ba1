"""Application metrics: the pods of chosen Deployments serve Prometheus metrics driven by a load profile.

A Deployment opts in with the annotation ``sim.kubescope.io/app-metrics`` holding its load profile::

    shape=square,min=20,max=240,period=240s,capacity=40     # requests/s for the whole Deployment

``shape`` is ``constant`` (``rps``), ``sine`` or ``square`` (``min``, ``max``, ``period``; square holds
``max`` for the first half of each period) or ``steps`` (``values=20/240/60``, each for ``step``
seconds, repeating); ``capacity`` is what one pod handles per second (default 50). The load is shared
evenly by the Deployment's ready pods (selected by its ``spec.selector``), so more replicas mean fewer
requests per pod, as behind a Service. Each pod exposes::

    http_requests_total{code="200",method="GET"}   counter: its share of the load (0.5% answer 500)
    http_request_duration_seconds                   histogram: latency grows with the pod's
                                                    utilisation (exponential, mean 20 ms / (1 - u))
    http_requests_in_flight                         gauge: requests being served (share / capacity)
    app_queue_depth                                 gauge: its share of the Deployment's backlog,
                                                    which grows while load > capacity * ready pods
    process_start_time_seconds                      gauge

Prometheus finds the pods as it would in a cluster: ``GET /targets`` on this part's listener is an
HTTP service-discovery document whose targets carry the ``__meta_kubernetes_pod_*`` labels of
Kubernetes' pod role (namespace, name, labels, ready, phase, controller), each pointing at
``/pods/<namespace>/<name>/metrics``; :func:`scrape_config` is the job with the usual relabelling to
``namespace`` and ``pod`` labels. (Debian's Prometheus is built without Kubernetes discovery.)
The listener's port is ``--app-metrics-port`` (a free one by default); ``GET /_sim/appmetrics`` on the
API server (admin) names its URL.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubescope import web as core

if TYPE_CHECKING:
    from kubescope.sim.server import Simulator

ANNOTATION = "sim.kubescope.io/app-metrics"
DEPLOYMENTS = "deployments.apps"
PODS = "pods"
ERROR_RATIO = 0.005
BASE_LATENCY = 0.02
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class ProfileError(ValueError):
    """An app-metrics annotation that does not parse (the message names the fix)."""


def _seconds(v: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", v.strip())
    if m is None:
        raise ProfileError(f"invalid duration {v!r}: use e.g. 240s or 4m")
    return float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}[m.group(2)]


@dataclass(frozen=True)
class LoadProfile:
    shape: str = "constant"
    rps: float = 100.0
    min: float = 0.0
    max: float = 100.0
    period: float = 300.0
    values: tuple[float, ...] = ()
    step: float = 60.0
    capacity: float = 50.0

    def load(self, t: float) -> float:
        """Requests per second for the whole Deployment, ``t`` seconds after it was first seen."""
        if self.shape == "constant":
            return self.rps
        if self.shape == "sine":
            mid, amp = (self.max + self.min) / 2, (self.max - self.min) / 2
            return mid + amp * math.sin(2 * math.pi * t / self.period)
        if self.shape == "square":
            return self.max if (t % self.period) < self.period / 2 else self.min
        i = int(t // self.step) % len(self.values)
        return self.values[i]


def parse_profile(text: str) -> LoadProfile:
    """``shape=square,min=20,max=240,period=240s,capacity=40``."""
    kv: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        k, sep, v = part.partition("=")
        if not sep:
            raise ProfileError(f"{ANNOTATION}: {part!r} is not key=value")
        kv[k.strip()] = v.strip()
    shape = kv.pop("shape", "constant")
    if shape not in ("constant", "sine", "square", "steps"):
        raise ProfileError(f"{ANNOTATION}: shape {shape!r} is not one of constant, sine, square, steps")
    args: dict[str, Any] = {"shape": shape}
    try:
        for k, v in kv.items():
            if k in ("rps", "min", "max", "capacity"):
                args[k] = float(v)
            elif k in ("period", "step"):
                args[k] = _seconds(v)
            elif k == "values":
                args[k] = tuple(float(x) for x in v.split("/") if x)
            else:
                raise ProfileError(
                    f"{ANNOTATION}: unknown key {k!r} (rps, min, max, period, values, step, capacity)"
                )
    except ValueError as e:
        if isinstance(e, ProfileError):
            raise
        raise ProfileError(f"{ANNOTATION}: {e}") from None
    p = LoadProfile(**args)
    if p.shape == "steps" and not p.values:
        raise ProfileError(f"{ANNOTATION}: shape=steps needs values=a/b/c")
    if p.period <= 0 or p.step <= 0 or p.capacity <= 0:
        raise ProfileError(f"{ANNOTATION}: period, step and capacity must be positive")
    return p


def _ready(pod: Mapping[str, Any]) -> bool:
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    if meta.get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    for c in status.get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return True


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    ml = selector.get("matchLabels") or {}
    if not ml and not selector.get("matchExpressions"):
        return False
    if any(labels.get(k) != v for k, v in ml.items()):
        return False
    for e in selector.get("matchExpressions") or ():
        key, op, vals = e.get("key", ""), e.get("operator", ""), e.get("values") or []
        has = key in labels
        if (op == "In" and (not has or labels[key] not in vals)) or (
            op == "NotIn" and has and labels[key] in vals
        ):
            return False
        if (op == "Exists" and not has) or (op == "DoesNotExist" and has):
            return False
    return True


@dataclass
class PodState:
    requests: float = 0.0
    errors: float = 0.0
    started: float = field(default_factory=time.time)
    in_flight: float = 0.0
    queue: float = 0.0
    latency_sum: float = 0.0
    buckets: list[float] = field(default_factory=lambda: [0.0] * len(BUCKETS))

    def observe(self, count: float, utilisation: float) -> None:
        """``count`` requests with exponentially distributed latencies (mean grows with utilisation)."""
        mean = BASE_LATENCY / (1 - min(utilisation, 0.95))
        self.latency_sum += count * mean
        for i, le in enumerate(BUCKETS):
            self.buckets[i] += count * (1 - math.exp(-le / mean))


@dataclass
class App:
    """One opted-in Deployment: its profile, backlog and pods' counters."""

    namespace: str
    name: str
    profile: LoadProfile
    first_seen: float
    last: float
    backlog: float = 0.0
    pods: dict[str, PodState] = field(default_factory=dict)
    ready: list[Mapping[str, Any]] = field(default_factory=list)

    def advance(self, now: float) -> None:
        dt = max(0.0, now - self.last)
        self.last = now
        load = max(0.0, self.profile.load(now - self.first_seen))
        names = [p["metadata"]["name"] for p in self.ready]
        n = len(names)
        served = min(load + self.backlog / max(dt, 1e-9), self.profile.capacity * n) if n else 0.0
        self.backlog = max(0.0, self.backlog + (load - served) * dt) if n else self.backlog + load * dt
        for name in names:
            st = self.pods.setdefault(name, PodState())
            share = served / n
            st.requests += share * dt * (1 - ERROR_RATIO)
            st.errors += share * dt * ERROR_RATIO
            st.in_flight = share / self.profile.capacity
            st.observe(share * dt, st.in_flight)
            st.queue = self.backlog / n
        for gone in set(self.pods) - set(names):
            del self.pods[gone]


class AppMetrics:
    """The model over the simulator's store, and the HTTP answers."""

    def __init__(self, pods: Callable[[], Iterable[Mapping[str, Any]]],
                 deployments: Callable[[], Iterable[Mapping[str, Any]]],
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.list_pods = pods
        self.list_deployments = deployments
        self.clock = clock
        self.apps: dict[tuple[str, str], App] = {}
        self.errors: dict[tuple[str, str], str] = {}
        self.dirty = True
        self.address = ""

    def refresh(self) -> None:
        """Re-read the opted-in Deployments and their ready pods (after a store change)."""
        if not self.dirty:
            return
        self.dirty = False
        now = self.clock()
        seen: set[tuple[str, str]] = set()
        selectors: dict[tuple[str, str], Mapping[str, Any]] = {}
        for d in self.list_deployments():
            meta = d.get("metadata") or {}
            spec = (meta.get("annotations") or {}).get(ANNOTATION)
            if spec is None:
                continue
            key = (meta.get("namespace", ""), meta.get("name", ""))
            try:
                profile = parse_profile(spec)
            except ProfileError as e:
                self.errors[key] = str(e)
                continue
            self.errors.pop(key, None)
            seen.add(key)
            app = self.apps.get(key)
            if app is None:
                app = self.apps[key] = App(key[0], key[1], profile, now, now)
            elif app.profile != profile:
                app.advance(now)
                app.profile = profile
            selectors[key] = (d.get("spec") or {}).get("selector") or {}
        for key in set(self.apps) - seen:
            del self.apps[key]
        ready: dict[tuple[str, str], list[Mapping[str, Any]]] = {k: [] for k in selectors}
        for p in self.list_pods():
            meta = p.get("metadata") or {}
            ns, labels = meta.get("namespace", ""), meta.get("labels") or {}
            for key, sel in selectors.items():
                if key[0] == ns and _selects(sel, labels) and _ready(p):
                    ready[key].append(p)
        for key, pods in ready.items():
            app = self.apps[key]
            app.advance(now)  # the interval that just ended, with the pods that served it
            app.ready = sorted(pods, key=lambda p: p["metadata"]["name"])
            for p in app.ready:
                app.pods.setdefault(p["metadata"]["name"], PodState())

    def targets(self) -> list[dict[str, Any]]:
        """The HTTP service-discovery document (Prometheus' ``http_sd_configs``)."""
        self.refresh()
        out = []
        for app in self.apps.values():
            for p in app.ready:
                meta = p["metadata"]
                labels = {
                    "__metrics_path__": f"/pods/{meta['namespace']}/{meta['name']}/metrics",
                    "__meta_kubernetes_namespace": meta["namespace"],
                    "__meta_kubernetes_pod_name": meta["name"],
                    "__meta_kubernetes_pod_ready": "true",
                    "__meta_kubernetes_pod_phase": "Running",
                    "__meta_kubernetes_pod_node_name": (p.get("spec") or {}).get("nodeName", ""),
                    "__meta_kubernetes_pod_ip": (p.get("status") or {}).get("podIP", ""),
                }
                for ref in meta.get("ownerReferences") or ():
                    if ref.get("controller"):
                        labels["__meta_kubernetes_pod_controller_kind"] = ref.get("kind", "")
                        labels["__meta_kubernetes_pod_controller_name"] = ref.get("name", "")
                for k, v in (meta.get("labels") or {}).items():
                    labels["__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k)] = v
                out.append({"targets": [self.address], "labels": labels})
        return out

    def pod_metrics(self, namespace: str, name: str) -> str | None:
        self.refresh()
        now = self.clock()
        for app in self.apps.values():
            if app.namespace != namespace or name not in app.pods:
                continue
            app.advance(now)
            st = app.pods[name]
            return (
                "# HELP http_requests_total Requests handled, by method and code.\n"
                "# TYPE http_requests_total counter\n"
                f'http_requests_total{{code="200",method="GET"}} {st.requests:.3f}\n'
                f'http_requests_total{{code="500",method="GET"}} {st.errors:.3f}\n'
                + _histogram(st)
                + "# HELP http_requests_in_flight Requests being served.\n"
                "# TYPE http_requests_in_flight gauge\n"
                f"http_requests_in_flight {st.in_flight:.3f}\n"
                "# HELP app_queue_depth Requests waiting for this pod.\n"
                "# TYPE app_queue_depth gauge\n"
                f"app_queue_depth {st.queue:.3f}\n"
                "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
                "# TYPE process_start_time_seconds gauge\n"
                f"process_start_time_seconds {st.started:.3f}\n"
            )
        return None

    def truth(self) -> dict[str, Any]:
        self.refresh()
        now = self.clock()
        return {
            "targets_url": f"http://{self.address}/targets",
            "errors": {f"{k[0]}/{k[1]}": v for k, v in self.errors.items()},
            "apps": {
                f"{a.namespace}/{a.name}": {
                    "load": a.profile.load(now - a.first_seen),
                    "ready_pods": len(a.ready),
                    "backlog": a.backlog,
                }
                for a in self.apps.values()
            },
        }

    def routes(self) -> list[web.AbstractRouteDef]:
        """The listener's routes: the service discovery and each pod's metrics."""

        async def targets(request: web.Request) -> web.Response:
            return web.json_response(self.targets())

        async def metrics(request: web.Request) -> web.Response:
            text = self.pod_metrics(request.match_info["ns"], request.match_info["pod"])
            if text is None:
                return web.Response(status=404, text="no such pod serves application metrics\n")
            return web.Response(text=text, content_type="text/plain", charset="utf-8")

        return [web.get("/targets", targets), web.get("/pods/{ns}/{pod}/metrics", metrics)]


def _histogram(st: PodState) -> str:
    total = st.requests + st.errors
    lines = [
        "# HELP http_request_duration_seconds Request latency.\n",
        "# TYPE http_request_duration_seconds histogram\n",
    ]
    for le, count in zip(BUCKETS, st.buckets, strict=True):
        lines.append(f'http_request_duration_seconds_bucket{{le="{le}"}} {count:.3f}\n')
    lines.append(f'http_request_duration_seconds_bucket{{le="+Inf"}} {total:.3f}\n')
    lines.append(f"http_request_duration_seconds_sum {st.latency_sum:.6f}\n")
    lines.append(f"http_request_duration_seconds_count {total:.3f}\n")
    return "".join(lines)


def scrape_config(targets_url: str, interval: str = "1s") -> dict[str, Any]:
    """The Prometheus job for the application pods, relabelled as a ``kubernetes_sd_configs`` pod job is."""
    return {
        "job_name": "kubernetes-pods",
        "scrape_interval": interval,
        "scrape_timeout": interval,
        "http_sd_configs": [{"url": targets_url, "refresh_interval": interval}],
        "relabel_configs": [
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_label_app"], "target_label": "app"},
        ],
    }


async def start_for_simulator(sim: Simulator) -> Callable[[], Awaitable[None]]:
    """Serve the application pods on a loopback listener of their own."""
    store = sim.store
    model = AppMetrics(lambda: store.iter_objects(PODS), lambda: store.iter_objects(DEPLOYMENTS))

    def mark(_typ: str, _obj: Any) -> None:
        model.dirty = True

    removes = [store.add_hook(PODS, mark), store.add_hook(DEPLOYMENTS, mark)]
    host = sim.settings.host
    listener = await sim.serve_listener(
        core.Listener(
            "app-metrics",
            routes=model.routes(),
            host=host,
            port=sim.settings.app_metrics_port,
            port_flag="--app-metrics-port",
        )
    )
    model.address = f"{host}:{listener.port}"

    async def truth() -> Any:
        return model.truth()

    sim.api.add_control("appmetrics", truth)

    async def stop() -> None:
        for r in removes:
            r()  # the listener is drained with the simulator

    return stop
