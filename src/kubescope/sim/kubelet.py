"""Simulated kubelets: every node's ``/metrics/resource``, ``/metrics/cadvisor`` (:mod:`.cadvisor`)
and ``/healthz``, on its own loopback address.

**Where they listen.** Node *i* (nodes sorted by name, then in order of appearance) gets the
address ``127.B.(i // 250 + 1).(i % 250 + 1)`` and the kubelet's port, 10250: distinct addresses on
one port, as real kubelets have. ``B`` is picked at start-up (from the process id, moving on while
some address of the plan is taken, so simulators running side by side do not collide); when no
block can be bound on 10250, every node gets a free port instead. Each node is written back to the
store as a kubelet reports itself: ``status.addresses`` InternalIP = its address (Hostname and
InternalDNS kept), ``status.daemonEndpoints.kubeletEndpoint.Port`` = its port, so metrics-server
(``--kubelet-preferred-address-types=InternalIP``, ``--kubelet-use-node-status-port`` or the default
port), Prometheus and the API server's node proxy find it. Measured: a listener costs ~2 KiB and
~15 µs to open (5,000 nodes: 9 MiB, 0.1 s), so one per node is cheap; a node whose Ready condition is
not True has its listener closed (a dead kubelet refuses connections) until it is Ready again.

**TLS and who may ask.** With the simulator's PKI, serving certificates come from the cluster CA,
one per :data:`CERT_GROUP` nodes (their IP and DNS SANs), created when a listener first needs it. Authentication is the kubelet's
(x509 client certificates signed by the cluster CA first, then bearer tokens the simulator
accepts; anonymous requests are refused) and answers ``401 Unauthorized``; authorization asks the
simulator's policy for verb ``get`` on ``nodes/metrics`` (``/metrics/...``) or ``nodes/healthz``
then ``nodes/proxy`` (``/healthz``), named after the node, and refuses with the kubelet's
``403 Forbidden (user=U, verb=get, resource=nodes, subresource(s)=[metrics])``. With
``--insecure-http`` they serve plain HTTP to everyone.

**What they report.** The kubelet's resource collector (``pkg/kubelet/metrics/collectors``) as a
v1.36 kubelet writes it: families sorted by name, ``# HELP`` with the stability level, series
sorted by label values, float values in Go's shortest form, millisecond timestamps on every
sample but ``container_start_time_seconds`` and ``resource_scrape_error``; the deprecated
``scrape_error`` is hidden since 1.30 (deprecated in 1.29.0) and not written. A node reports
its Running pods (``spec.nodeName``) and their running containers (sidecar init containers
included), read from the store and followed through its watch hooks: new pods appear at the
first sample taken after they started, deleted or finished ones vanish at once.

Values come from :mod:`kubescope.sim.usage` (what each container wants, shaped over days by its
workload), accounted by :mod:`kubescope.sim.cgroups` as a node's cgroups count it: a node never
reports more CPU than it has between two samples, a container never more than its limit. Stats are
collected on a housekeeping tick
(``--kubelet-housekeeping``, default 10 s, as cAdvisor's): tick *k* is at ``start + k * period``,
and each pod (and the node) is sampled at a fixed offset before it, so different series carry
different timestamps, as from a real kubelet. Container CPU counters run from the container's
start (``status.containerStatuses[].state.running.startedAt``) and restart from zero with a new
start time when the container restarts; the pod's counter spans its containers' restarts, the
node's its pods' comings and goings, and every working set is summed upwards, so node >= sum of
pods >= sum of containers, always. A node's text is rendered on demand, once per tick (or after
its pods changed), and kept until the next tick; gzip-compressed too when asked for.

**Faults** (``POST /_sim/faults``, :mod:`kubescope.sim.faults`): each ``kubelet_*_fraction`` picks
that share of nodes (a stable choice per node, changed with the fault ``seed``), restricted to
``kubelet_nodes`` when given: ``slow`` (answer after ``kubelet_slow_seconds``), ``error`` (500),
``garbage`` (200 with bytes that are not the text format), ``truncate`` (half the body, then the
connection is cut), ``scrape_error`` (200 with only ``resource_scrape_error 1``, as when the
kubelet cannot read its stats), ``down`` (every connection is reset, on every path and before
authentication: a dead kubelet answers nothing), ``stale`` (the stats stop updating: the same
samples and timestamps at every request, as with a stuck housekeeping).

**Truth.** ``GET /_sim/truth`` on the API server returns what every kubelet reports now (sample
timestamps, cumulative CPU in nanoseconds, working sets, per node, pod and container) with the
previous tick's samples and the rates metrics-server derives from the two
(``(cpu - prev cpu) / (ts - prev ts)``, truncated to nano-cores), so tests compare
``kubectl top`` against it. ``GET /_sim/kubelets`` gives the addresses and the serving counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import random
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubescope import web as core
from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.errors import DecodeError
from kubescope.log import fields
from kubescope.model.gofmt import go_float
from kubescope.model.quantity import cpu_cores, int_value
from kubescope.model.timefmt import parse_time
from kubescope.sim import cgroups
from kubescope.sim.auth import AuthConfig, User
from kubescope.sim.cadvisor import render as render_cadvisor
from kubescope.sim.faults import Faults
from kubescope.sim.kubeletplan import KUBELET_PORT, Plan, bind, plan
from kubescope.sim.pki import ClusterPKI, write_private
from kubescope.sim.store import NotFound, ObjectStore, SimError
from kubescope.sim.usage import (
    ContainerModel,
    Demand,
    NodeModel,
    SandboxModel,
    Workload,
    container_model,
    node_model,
    sandbox_model,
    stable_fraction,
    workload_name,
    workload_traits,
)

if TYPE_CHECKING:
    from kubescope.sim.server import Simulator

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
CERT_GROUP = 8
"""Nodes per serving certificate. A real kubelet's certificate names its own node (a few SANs); a
client pays for every SAN of the certificate it gets (parsing, hostname matching, asyncio's
``getpeercert`` dict: ~220 µs a handshake with 500 SANs), so groups stay small. Measured: 1.8 ms
and 31 KiB per certificate and context, 5,000 nodes: 1.1 s and 19 MiB."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
"""What client_golang's promhttp answers a text-format scrape with (prometheus/common's FmtText
plus the name escaping scheme)."""

_HELP_TYPE = {
    "container_cpu_usage_seconds_total": (
        "STABLE",
        "Cumulative cpu time consumed by the container in core-seconds",
        "counter",
    ),
    "container_memory_working_set_bytes": ("STABLE", "Current working set of the container in bytes", "gauge"),
    "container_start_time_seconds": ("STABLE", "Start time of the container since unix epoch in seconds", "gauge"),
    "container_swap_limit_bytes": (
        "ALPHA",
        "Current amount of the container swap limit in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "container_swap_usage_bytes": (
        "ALPHA",
        "Current amount of the container swap usage in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "node_cpu_usage_seconds_total": ("STABLE", "Cumulative cpu time consumed by the node in core-seconds", "counter"),
    "node_memory_working_set_bytes": ("STABLE", "Current working set of the node in bytes", "gauge"),
    "node_swap_usage_bytes": (
        "ALPHA",
        "Current swap usage of the node in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "pod_cpu_usage_seconds_total": ("STABLE", "Cumulative cpu time consumed by the pod in core-seconds", "counter"),
    "pod_memory_working_set_bytes": ("STABLE", "Current working set of the pod in bytes", "gauge"),
    "pod_swap_usage_bytes": (
        "ALPHA",
        "Current amount of the pod swap usage in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "resource_scrape_error": (
        "STABLE",
        "1 if there was an error while getting container metrics, 0 otherwise",
        "gauge",
    ),
}  # fmt: skip
FAMILIES = tuple(sorted(_HELP_TYPE))
_HEADER = {name: f"# HELP {name} [{s}] {h}\n# TYPE {name} {t}\n" for name, (s, h, t) in _HELP_TYPE.items()}

_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
KUBELET_FAULTS = ("down", "slow", "error", "garbage", "truncate", "scrape_error", "stale")
"""The kubelet faults, in the order a request meets them; ``kubelet_<name>_fraction`` in Faults."""


def _label_value(v: str) -> str:
    """The text format's escaping of a label value (names from the API never need it)."""
    if "\\" in v or '"' in v or "\n" in v:
        v = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return v


def _float(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'g', -1, 64)``: ``repr`` gives the same shortest digits, and
    the same fixed layout between 1e-4 and 1e6 (Go switches to exponents outside that range)."""
    if 1e-4 <= v < 1e6:
        r = repr(v)
        return r[:-2] if r.endswith(".0") else r
    return go_float(v)


def _bytes(v: int) -> str:
    """Go's shortest ``'g'`` of a byte count (exact up to 15 digits, which covers 999 TB)."""
    s = str(v)
    if v < 1_000_000 or len(s) > 15:
        return s if v < 1_000_000 else go_float(v)
    digits = s.rstrip("0")
    return f"{digits[0]}.{digits[1:]}e+{len(s) - 1:02d}" if len(digits) > 1 else f"{digits}e+{len(s) - 1:02d}"


# -- what the kubelet knows of its pods -----------------------------------------------------------


Resources = tuple[float | None, float | None, int | None, int | None]
"""CPU request and limit (cores), memory request and limit (bytes); None when not set."""


@dataclass(slots=True, eq=False)
class Container:
    name: str
    labels: str
    """``{container="c",namespace="ns",pod="p"}``"""
    pod: Pod
    resources: Resources
    started: float
    """Start of the running instance, unix seconds (sub-second part from the runtime)."""
    restarts: int
    _model: ContainerModel | None = None
    _demand: Demand | None = None
    _start_text: str = ""
    served: float = 0.0
    """Core-seconds counted for this instance up to ``acct_t`` (:mod:`.cgroups`)."""
    last_demand: float = 0.0
    acct_t: float = -1.0
    """When it was last accounted (-1: not yet)."""
    cid: str = ""
    """The runtime's container id (cAdvisor's ``name`` and the last part of its cgroup)."""
    image: str = ""

    # the model and what derives from it are built at the first sample, not at start-up:
    # 150,000 containers at ~45 µs each would add seconds to it

    @property
    def model(self) -> ContainerModel:
        m = self._model
        if m is None:
            pod = self.pod
            m = pod.models.get(self.name)
            if m is None:
                m = pod.models[self.name] = container_model(
                    pod.seed, pod.uid, self.name, *self.resources, idle=pod.workload.idle
                )
            self._model = m
        return m

    @property
    def demand(self) -> Demand:
        """What this instance wants, cumulative from its start (core-seconds)."""
        d = self._demand
        if d is None:
            d = self._demand = Demand(self.model.cpu, self.pod.workload, self.started, self.pod.shaped_from)
        return d

    @property
    def start_text(self) -> str:
        """``container_start_time_seconds``' value."""
        if not self._start_text:
            self._start_text = go_float(self.started)
        return self._start_text


@dataclass(slots=True, eq=False)
class Pod:
    namespace: str
    name: str
    uid: str
    labels: str
    """``{namespace="ns",pod="p"}``"""
    started: float
    offset: float
    """Seconds before each tick at which this pod's stats are taken."""
    sandbox: SandboxModel
    seed: int
    workload: Workload = field(default_factory=Workload)
    shaped_from: float = 0.0
    """When the workload's shape starts applying (the kubelets' start: nobody watched before)."""
    models: dict[str, ContainerModel | None] = field(default_factory=dict)
    """Containers the kubelet has seen run, with their models once built."""
    running: dict[str, Container] = field(default_factory=dict)
    retired: float = 0.0
    """Core-seconds of container instances that have ended (the pod cgroup keeps counting them)."""
    sandbox_served: float = 0.0
    acct_t: float = -1.0
    reported: float = 0.0
    """The pod counter's last reported value (core-seconds)."""
    cgroup: str = ""
    """``/kubepods[/burstable|/besteffort]/pod<uid>`` (by QoS class, as the kubelet makes it)."""


@dataclass(slots=True)
class Series:
    """One series' sample: collection time, cumulative CPU (ns), working set (bytes)."""

    ts_ms: int
    cpu_ns: int
    memory: int


@dataclass(slots=True)
class NodeSample:
    tick: int
    node: Series
    pods: list[tuple[Pod, Series]]
    """Sorted by namespace and name, as the pod families list them."""
    containers: list[tuple[Container, Series]]
    """Sorted by container, namespace and pod name, as the container families list them."""


@dataclass(slots=True, eq=False)
class Node:
    name: str
    index: int
    model: NodeModel
    boot: float
    offset: float
    ip: str = ""
    port: int = 0
    ready: bool = True
    pods: dict[tuple[str, str], Pod] = field(default_factory=dict)
    retired: float = 0.0
    """Core-seconds of pods that have left the node."""
    server: asyncio.AbstractServer | None = None
    layout: tuple[list[Pod], list[Container]] | None = None
    """Pods and containers in text order; None when they changed since the last render."""
    body_tick: int = -1
    body: bytes = b""
    body_gz: bytes = b""
    frozen: int | None = None
    """The tick a ``stale`` node's stats stopped at."""
    requests: int = 0
    cpus: float = 1.0
    """Capacity: what its counters can grow by per second at most."""
    system_served: float = 0.0
    acct_t: float = -1.0
    last_tick: int | None = None
    """The newest tick accounted (:mod:`.cgroups`)."""
    samples: dict[int, NodeSample] = field(default_factory=dict)
    """The last accounted ticks' samples (and a ``stale`` node's frozen one)."""


@dataclass
class FarmStats:
    requests: int = 0
    renders: int = 0
    render_seconds: float = 0.0
    bytes_served: int = 0
    unauthorized: int = 0
    forbidden: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KUBELET_FAULTS, 0))


# -- the farm ---------------------------------------------------------------------------------------


class KubeletFarm:
    """Every node's kubelet: state followed from the store, samples, rendering, listeners."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        seed: int = 1,
        housekeeping: float = 10.0,
        auth: AuthConfig | None = None,
        faults: Faults | None = None,
        pki: ClusterPKI | None = None,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.time,
        plan: Plan | None = None,
    ) -> None:
        self.store = store
        self.plan = plan
        """Where to listen, when decided before the cluster was generated (:func:`plan`)."""
        self.seed = seed
        self.period = max(0.05, float(housekeeping))
        self.auth = auth
        self.faults = faults or Faults()
        self.pki = pki
        self.host = host
        self.clock = clock
        self.epoch = clock()
        """Tick 0: housekeeping ticks are at ``epoch + k * period``."""
        self.nodes: dict[str, Node] = {}
        self.pod_node: dict[tuple[str, str], str] = {}
        self.by_address: dict[tuple[str, int], Node] = {}
        self.stats = FarmStats()
        self.block = 0
        self.port = KUBELET_PORT
        self._next_index = 0
        self._contexts: dict[int, ssl.SSLContext] = {}
        self._fault_key: tuple[Any, ...] | None = None
        self._faulty: dict[str, frozenset[str]] = {f: frozenset() for f in KUBELET_FAULTS}
        self._listener: core.RunningListener | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self.closed = False
        self._garbage = random.Random(seed).randbytes(3000)
        self._state_dir = Path(".")

    # -- following the store ----------------------------------------------------------------

    def load(self) -> None:
        """Take in the store's nodes and pods and start following their changes."""
        for o in sorted(self.store.iter_objects("nodes"), key=lambda o: str(o["metadata"]["name"])):
            self._add_node(o)
        now = self.clock()
        for ns, name in self.store.keys("pods"):
            try:
                self._observe_pod(self.store.get("pods", ns, name), now)
            except NotFound:
                continue
        self.store.add_hook("nodes", self._on_node)
        self.store.add_hook("pods", self._on_pod)

    def _add_node(self, o: Obj) -> Node:
        meta, status = o["metadata"], o.get("status") or {}
        name = str(meta["name"])
        cap = status.get("capacity") or {}
        try:
            cpus = cpu_cores(str(cap.get("cpu", "1")))
            memory = int_value(str(cap.get("memory", "4Gi")))
        except DecodeError:
            cpus, memory = 1.0, 4 << 30
        try:
            boot = parse_time(str(meta.get("creationTimestamp")))
        except (TypeError, ValueError):
            boot = self.clock()
        node = Node(
            name=name,
            index=self._next_index,
            model=node_model(self.seed, name, cpus, memory),
            boot=boot,
            offset=self._offset("node", name),
            ready=_ready(o),
            cpus=cpus,
        )
        self._next_index += 1
        self.nodes[name] = node
        return node

    def _offset(self, *key: object) -> float:
        return stable_fraction(self.seed, "offset", *key) * min(0.5 * self.period, 5.0)

    def _on_node(self, typ: str, o: Obj) -> None:
        if self.closed:
            return
        name = str(o["metadata"]["name"])
        node = self.nodes.get(name)
        if typ == "DELETED":
            if node is not None:
                self._drop_node(node)
            return
        if node is None:
            node = self._add_node(o)
            self._fault_key = None  # a "share of nodes" fault may cover the new node
            if self._listener is not None:
                node.ip, node.port = self.address_of(node.index), self.port
                self.by_address[(node.ip, node.port)] = node
                if node.ready:
                    self._listen(node)
                self._advertise(node)
            return
        ready = _ready(o)
        if ready != node.ready:
            node.ready = ready
            if self._listener is not None:
                if ready:
                    self._listen(node)
                else:
                    self._unlisten(node)

    def _drop_node(self, node: Node) -> None:
        self._unlisten(node)
        self.by_address.pop((node.ip, node.port), None)
        for key in list(node.pods):
            self.pod_node.pop(key, None)
        del self.nodes[node.name]

    def _on_pod(self, typ: str, o: Obj) -> None:
        if self.closed:
            return
        if typ == "DELETED":
            meta = o["metadata"]
            self._retire((str(meta.get("namespace", "")), str(meta["name"])), self.clock())
        else:
            self._observe_pod(o, self.clock())

    def _retire(self, key: tuple[str, str], now: float) -> None:
        name = self.pod_node.pop(key, None)
        node = self.nodes.get(name) if name else None
        if node is None:
            return
        pod = node.pods.pop(key, None)
        if pod is not None:
            cgroups.retire_pod(node, pod)
            node.layout = None

    def _observe_pod(self, o: Obj, now: float) -> None:
        """Bring the kubelet's view of one pod in line with the object."""
        meta, spec, status = o["metadata"], o.get("spec") or {}, o.get("status") or {}
        key = (str(meta.get("namespace", "")), str(meta["name"]))
        uid = str(meta.get("uid", ""))
        node_name = str(spec.get("nodeName") or "")
        node = self.nodes.get(node_name)
        have = self.pod_node.get(key)
        pod = self.nodes[have].pods.get(key) if have and have in self.nodes else None
        if pod is not None and (have != node_name or pod.uid != uid):
            self._retire(key, now)
            pod = None
        if node is None or status.get("phase") != "Running":
            if pod is not None:
                self._retire(key, now)
            return
        running = _running_containers(status)
        is_new = False
        if pod is None:
            try:
                started = parse_time(str(status.get("startTime") or meta.get("creationTimestamp")))
            except (TypeError, ValueError):
                started = now
            pod = Pod(
                namespace=key[0],
                name=key[1],
                uid=uid,
                labels=f'{{namespace="{_label_value(key[0])}",pod="{_label_value(key[1])}"}}',
                started=started,
                offset=self._offset("pod", uid),
                sandbox=sandbox_model(self.seed, uid),
                seed=self.seed,
                workload=workload_traits(self.seed, key[0], workload_name(meta, meta.get("labels"))),
                shaped_from=self.epoch,
                cgroup=_pod_cgroup(uid, str(status.get("qosClass") or "")),
            )
            node.pods[key] = pod
            self.pod_node[key] = node_name
            is_new = True
        changed = is_new
        ids = _container_ids(status, spec)
        for cname, (started_at, restarts) in running.items():
            started = started_at + stable_fraction(self.seed, uid, cname, restarts)
            c = pod.running.get(cname)
            if c is not None and c.started == started:
                continue
            pod.models.setdefault(cname, None)
            if c is not None:
                # a restart: the pod's counter keeps the ended instance's time, the container's restarts
                cgroups.retire_container(c)
            pod.running[cname] = Container(
                name=cname,
                labels=f'{{container="{_label_value(cname)}",namespace="{_label_value(key[0])}",'
                f'pod="{_label_value(key[1])}"}}',
                pod=pod,
                resources=c.resources if c is not None else _resources(spec, cname),
                started=started,
                restarts=restarts,
                _model=c._model if c is not None else None,
                cid=ids.get(cname, ("", ""))[0] or _container_id(uid, cname, restarts),
                image=ids.get(cname, ("", ""))[1],
            )
            changed = True
        for cname in [c for c in pod.running if c not in running]:
            c = pod.running.pop(cname)
            cgroups.retire_container(c)
            changed = True
        if changed:
            node.layout = None

    # -- samples and text ----------------------------------------------------------------------

    def tick(self, now: float | None = None) -> int:
        t = self.clock() if now is None else now
        return max(0, int((t - self.epoch) // self.period))

    def tick_time(self, k: int) -> float:
        return self.epoch + k * self.period

    def node_tick(self, node: Node, now: float | None = None) -> int:
        self.sync_faults()
        return node.frozen if node.frozen is not None else self.tick(now)

    def sample(self, node: Node, k: int) -> NodeSample:
        """What ``node``'s kubelet collected at tick ``k`` (from its current pods).

        Counters are accounted forward (:mod:`.cgroups`): a tick after the last one is accounted
        (the one before it first, so a sample always has its predecessor for rates), an accounted
        one is kept (the last three, and a ``stale`` node's frozen one); an older tick than kept
        gives the oldest kept sample."""
        got = node.samples.get(k)
        last = node.last_tick
        if got is not None and not (k == last and node.layout is None):
            return got
        if last is not None and k < last:
            older = [t for t in node.samples if t <= k]
            return node.samples[max(older) if older else min(node.samples)]
        if last is not None and k - 1 > last:
            self._account(node, k - 1)
        # the newest tick again after the node's pods changed: the same counters, the pods as they
        # are now (a deleted pod vanishes at once, a new one shows with what it used so far)
        return self._account(node, k)

    def _account(self, node: Node, k: int) -> NodeSample:
        layout = node.layout
        if layout is None:
            pods_sorted = sorted(node.pods.values(), key=lambda p: (p.namespace, p.name))
            containers_sorted = sorted(
                (c for p in pods_sorted for c in p.running.values()),
                key=lambda c: (c.name, c.pod.namespace, c.pod.name),
            )
            layout = node.layout = (pods_sorted, containers_sorted)
        t_k = self.tick_time(k)
        span = (k - node.last_tick) * self.period if node.last_tick is not None else None
        sampled = cgroups.step(node, t_k, span)
        series: dict[int, Series] = {}
        pods: list[tuple[Pod, Series]] = []
        pods_cpu = 0.0
        pods_mem = 0
        for pod, mine in sampled:
            ts = t_k - pod.offset
            ts_ms = int(ts * 1000)
            mem = pod.sandbox.memory
            for c in mine:
                ws = c.model.working_set(ts)
                mem += ws
                series[id(c)] = Series(ts_ms, int(c.served * 1e9), ws)
            cpu = cgroups.pod_counter(pod)
            pod.reported = cpu
            pods_cpu += cpu
            pods_mem += mem
            pods.append((pod, Series(ts_ms, int(cpu * 1e9), mem)))
        containers = [(c, series[id(c)]) for c in layout[1] if id(c) in series]
        ts = t_k - node.offset
        cpu = node.system_served + node.retired + pods_cpu
        node_series = Series(int(ts * 1000), int(cpu * 1e9), node.model.working_set(ts) + pods_mem)
        s = NodeSample(k, node_series, pods, containers)
        node.last_tick = k
        node.samples[k] = s
        for old in [t for t in node.samples if t < k - 3 and t != node.frozen]:
            del node.samples[old]
        return s

    def render(self, s: NodeSample) -> bytes:
        """The text of one sample, exactly as the kubelet's collector and promhttp write it."""
        out: list[str] = []
        add = out.append
        containers = s.containers
        if containers:
            add(_HEADER["container_cpu_usage_seconds_total"])
            for c, cs in containers:
                add(f"container_cpu_usage_seconds_total{c.labels} {_float(cs.cpu_ns / 1e9)} {cs.ts_ms}\n")
            add(_HEADER["container_memory_working_set_bytes"])
            for c, cs in containers:
                add(f"container_memory_working_set_bytes{c.labels} {_bytes(cs.memory)} {cs.ts_ms}\n")
            add(_HEADER["container_start_time_seconds"])
            for c, _ in containers:
                add(f"container_start_time_seconds{c.labels} {c.start_text}\n")
            add(_HEADER["container_swap_limit_bytes"])
            for c, cs in containers:
                add(f"container_swap_limit_bytes{c.labels} 0 {cs.ts_ms}\n")
            add(_HEADER["container_swap_usage_bytes"])
            for c, cs in containers:
                add(f"container_swap_usage_bytes{c.labels} 0 {cs.ts_ms}\n")
        n = s.node
        add(_HEADER["node_cpu_usage_seconds_total"])
        add(f"node_cpu_usage_seconds_total {_float(n.cpu_ns / 1e9)} {n.ts_ms}\n")
        add(_HEADER["node_memory_working_set_bytes"])
        add(f"node_memory_working_set_bytes {_bytes(n.memory)} {n.ts_ms}\n")
        add(_HEADER["node_swap_usage_bytes"])
        add(f"node_swap_usage_bytes 0 {n.ts_ms}\n")
        if s.pods:
            add(_HEADER["pod_cpu_usage_seconds_total"])
            for p, ps in s.pods:
                add(f"pod_cpu_usage_seconds_total{p.labels} {_float(ps.cpu_ns / 1e9)} {ps.ts_ms}\n")
            add(_HEADER["pod_memory_working_set_bytes"])
            for p, ps in s.pods:
                add(f"pod_memory_working_set_bytes{p.labels} {_bytes(ps.memory)} {ps.ts_ms}\n")
            add(_HEADER["pod_swap_usage_bytes"])
            for p, ps in s.pods:
                add(f"pod_swap_usage_bytes{p.labels} 0 {ps.ts_ms}\n")
        add(_HEADER["resource_scrape_error"])
        add("resource_scrape_error 0\n")
        return "".join(out).encode()

    def body(self, node: Node, gzip: bool = False, *, cadvisor: bool = False) -> bytes:
        """The node's current text (cached until the next tick or a change of its pods);
        ``/metrics/cadvisor``'s with ``cadvisor`` (rendered for each request: few ask for it)."""
        k = self.node_tick(node)
        if cadvisor:
            text = render_cadvisor(self.sample(node, k))
            if not gzip:
                return text
            c = zlib.compressobj(1, zlib.DEFLATED, 31)
            return c.compress(text) + c.flush()
        if node.body_tick != k or node.layout is None:
            t0 = time.perf_counter()
            node.body = self.render(self.sample(node, k))
            node.body_gz = b""
            node.body_tick = k
            self.stats.renders += 1
            self.stats.render_seconds += time.perf_counter() - t0
        if gzip:
            if not node.body_gz:
                c = zlib.compressobj(1, zlib.DEFLATED, 31)
                node.body_gz = c.compress(node.body) + c.flush()
            return node.body_gz
        return node.body

    # -- faults --------------------------------------------------------------------------------

    def sync_faults(self) -> None:
        """Re-pick the nodes each kubelet fault hits when the fault settings changed."""
        f = self.faults
        key = (f.seed, f.kubelet_nodes, *(getattr(f, f"kubelet_{n}_fraction") for n in KUBELET_FAULTS))
        if key == self._fault_key:
            return
        self._fault_key = key
        allowed = {n.strip() for n in f.kubelet_nodes.split(",") if n.strip()}
        for name in KUBELET_FAULTS:
            frac = float(getattr(f, f"kubelet_{name}_fraction"))
            self._faulty[name] = frozenset(
                n
                for n in self.nodes
                if frac > 0 and (not allowed or n in allowed) and stable_fraction(f.seed, name, n) < frac
            )
        k = self.tick()
        for node in self.nodes.values():
            stale = node.name in self._faulty["stale"]
            if stale and node.frozen is None:
                node.frozen = k
            elif not stale and node.frozen is not None:
                node.frozen = None
                node.layout = None

    def faulty(self, name: str, node: str) -> bool:
        return node in self._faulty[name]

    # -- truth ---------------------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        """Every kubelet's current samples, the previous tick's, and the rates metrics-server
        computes from them (see the module docstring)."""
        now = self.clock()
        out: dict[str, Any] = {}
        for name in sorted(self.nodes):
            node = self.nodes[name]
            k = self.node_tick(node, now)
            cur = self.sample(node, k)
            prev = self.sample(node, k - 1) if k > 0 else None
            before_pods = {id(p): ps for p, ps in prev.pods} if prev else {}
            before_containers = {id(c): cs for c, cs in prev.containers} if prev else {}
            pods: dict[str, Any] = {}
            for p, ps in cur.pods:
                pods[f"{p.namespace}/{p.name}"] = _series(ps, before_pods.get(id(p))) | {"containers": {}}
            for c, cs in cur.containers:
                # a container that started after the previous sample has no previous point
                pods[f"{c.pod.namespace}/{c.pod.name}"]["containers"][c.name] = _series(
                    cs, before_containers.get(id(c))
                ) | {"startTime": c.started, "restarts": c.restarts}
            out[name] = _series(cur.node, prev.node if prev else None) | {
                "address": node.ip,
                "port": node.port,
                "ready": node.ready,
                "tick": k,
                "faults": sorted(f for f in KUBELET_FAULTS if self.faulty(f, name)),
                "pods": pods,
            }
        return {"time": now, "housekeeping": self.period, "tick": self.tick(now), "nodes": out}

    def summary(self) -> dict[str, Any]:
        s = self.stats
        return {
            "nodes": len(self.nodes),
            "listening": sum(1 for n in self.nodes.values() if n.server is not None),
            "port": self.port,
            "block": f"127.{self.block}.0.0/16" if self.block else "",
            "housekeeping": self.period,
            "tick": self.tick(),
            "tls": self.pki is not None,
            "requests": s.requests,
            "unauthorized": s.unauthorized,
            "forbidden": s.forbidden,
            "renders": s.renders,
            "renderSeconds": round(s.render_seconds, 3),
            "bytesServed": s.bytes_served,
            "faultsInjected": dict(s.faults),
            "addresses": {n.name: f"{n.ip}:{n.port}" for n in self.nodes.values()},
        }

    # -- serving -------------------------------------------------------------------------------

    def address_of(self, index: int) -> str:
        return Plan(self.block, self.port).address(index)

    def listener_spec(self) -> core.Listener:
        """The web core's listener the kubelets are served by: one application, a socket per node
        added and removed as nodes come and go (:meth:`start` takes it running, without sockets)."""
        return core.Listener("kubelets", routes=[core.route("*", "/{tail:.*}", self.handle)])

    async def start(self, state_dir: Path, listener: core.RunningListener) -> None:
        self._state_dir = state_dir
        self._listener = listener
        self._choose_block()
        pending = []
        for node in self.nodes.values():
            node.ip = self.address_of(node.index)
            node.port = self.port
            if node.ready:
                pending.append(self._listen(node))
            else:
                self.by_address[(node.ip, node.port)] = node
        await asyncio.gather(*(t for t in pending if t is not None), return_exceptions=True)
        for node in self.nodes.values():
            self._advertise(node)
        self._loop_task = asyncio.create_task(self._housekeeping(), name="kubelet-housekeeping")

    def _choose_block(self) -> None:
        """Where the kubelets listen: the plan made before the cluster was generated (its nodes
        and pods carry those addresses), else a new one."""
        chosen = self.plan or plan(len(self.nodes))
        self.block, self.port = chosen.block, chosen.port

    def _context(self, index: int) -> ssl.SSLContext | None:
        if self.pki is None:
            return None
        blk = index // CERT_GROUP
        ctx = self._contexts.get(blk)
        if ctx is None:
            ips = tuple(self.address_of(i) for i in range(blk * CERT_GROUP, (blk + 1) * CERT_GROUP))
            names = tuple(sorted(n.name for n in self.nodes.values() if n.index // CERT_GROUP == blk))
            kp = self.pki.ca.issue(f"kubescope-kubelets-{blk}", server=True, ips=ips, dns=names)
            crt = self._state_dir / f"kubelet-serving-{self.block}-{blk}.crt"
            key = self._state_dir / f"kubelet-serving-{self.block}-{blk}.key"
            write_private(crt, kp.cert_pem)
            write_private(key, kp.key_pem)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(crt), str(key))
            ctx.load_verify_locations(cadata=self.pki.ca.pem.decode())
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.set_alpn_protocols(["http/1.1"])
            self._contexts[blk] = ctx
        return ctx

    def _listen(self, node: Node) -> asyncio.Task[asyncio.AbstractServer] | None:
        """Open the node's listener (the socket is bound and listening on return)."""
        if node.server is not None or self._listener is None or self.closed:
            return None
        if not node.ip:
            node.ip = self.address_of(node.index)
        port = node.port or self.port
        try:
            sock = bind(node.ip, port)
        except OSError as e:
            if port == 0:
                raise
            logger.warning(
                "kubelet address taken; using a free port",
                extra=fields(node=node.name, address=f"{node.ip}:{port}", error=str(e)),
            )
            sock = bind(node.ip, 0)
        self.by_address.pop((node.ip, node.port), None)
        node.port = int(sock.getsockname()[1])
        self.by_address[(node.ip, node.port)] = node
        listener = self._listener
        task = asyncio.get_running_loop().create_task(listener.add_socket(sock, self._context(node.index)))
        task.add_done_callback(functools.partial(self._listening, node))
        return task

    def _listening(self, node: Node, t: asyncio.Task[asyncio.AbstractServer]) -> None:
        if t.cancelled() or t.exception() is not None:
            logger.error("kubelet listener failed", extra=fields(node=node.name, error=repr(t.exception())))
            return
        server = t.result()
        if self.closed or node.server is not None or not node.ready or node.name not in self.nodes:
            server.close()
            return
        node.server = server

    def _unlisten(self, node: Node) -> None:
        if node.server is not None:
            node.server.close()
            if self._listener is not None:
                with contextlib.suppress(ValueError):
                    self._listener.extra.remove(node.server)  # a node that flaps must not pile up
            node.server = None

    def _advertise(self, node: Node) -> None:
        """Write the node's kubelet address and port into its status, as a kubelet reports them."""

        def set_endpoint(o: Obj, ip: str = node.ip, port: int = node.port, name: str = node.name) -> None:
            st = o.setdefault("status", {})
            addrs = [a for a in st.get("addresses") or [] if a.get("type") not in ("InternalIP", "Hostname")]
            st["addresses"] = [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
                *addrs,
            ]
            st.setdefault("daemonEndpoints", {})["kubeletEndpoint"] = {"Port": port}

        try:
            self.store.modify("nodes", "", node.name, set_endpoint)
        except SimError as e:
            logger.warning("cannot advertise a kubelet", extra=fields(node=node.name, error=str(e)))

    async def _housekeeping(self) -> None:
        """At every tick: apply fault changes, and drop texts of earlier ticks (memory)."""
        while True:
            k = self.tick()
            await asyncio.sleep(max(0.01, self.tick_time(k + 1) - self.clock()))
            try:
                self.sync_faults()
                current = self.tick()
                for node in self.nodes.values():
                    if node.body and node.frozen is None and node.body_tick < current:
                        node.body = node.body_gz = b""
                        node.body_tick = -1
            except Exception as e:  # the loop must survive a bug in one pass
                logger.exception("kubelet housekeeping failed", extra=fields(error=repr(e)))

    async def stop(self) -> None:
        self.closed = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for node in self.nodes.values():
            self._unlisten(node)
        self._listener = None  # the simulator's server drains and closes it

    # -- the HTTP side ---------------------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> User | None:
        assert self.auth is not None
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if peer:
            subject = peer.get("subject", ())
            cn = next((v for rdn in subject for k, v in rdn if k == "commonName"), "")
            if cn:
                orgs = tuple(v for rdn in subject for k, v in rdn if k == "organizationName")
                return User(cn, orgs).with_defaults()
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            return self.auth.authenticate_token(header[7:].strip())
        return None

    def _authorize(self, user: User, node: Node, method: str, path: str) -> str:
        """ "" when allowed, else the kubelet's Forbidden message."""
        assert self.auth is not None
        verb = _VERBS.get(method, "")
        if _subpath(path, "/metrics"):
            subresources = ["metrics"]
        elif _subpath(path, "/healthz"):
            subresources = ["healthz", "proxy"]
        elif _subpath(path, "/stats"):
            subresources = ["stats"]
        else:
            subresources = ["proxy"]
        for sub in subresources:
            info = RequestInfo(
                path=path, verb=verb, is_resource_request=True, api_prefix="api", version="v1",
                resource="nodes", subresource=sub, name=node.name,
            )  # fmt: skip
            if self.auth.authorize(user, info)[0]:
                return ""
        return f"Forbidden (user={user.name}, verb={verb}, resource=nodes, subresource(s)=[{' '.join(subresources)}])"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport else None
        node = self.by_address.get((sockname[0], int(sockname[1]))) if sockname else None
        if node is None:
            return web.Response(status=404, text="404 page not found\n")
        self.stats.requests += 1
        node.requests += 1
        self.sync_faults()
        if not node.ready or self.faulty("down", node.name):
            # a dead kubelet answers nothing: no 401, no /healthz
            self.stats.faults["down"] += 1
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError  # nothing is answered on a reset connection
        if self.pki is not None:
            user = self._authenticate(request)
            if user is None:
                self.stats.unauthorized += 1
                return _plain(401, "Unauthorized")
            refusal = self._authorize(user, node, request.method, request.path)
            if refusal:
                self.stats.forbidden += 1
                return _plain(403, refusal)
        path = request.path
        if _subpath(path, "/healthz"):
            return _plain(200, "ok")
        if path not in ("/metrics/resource", "/metrics/cadvisor"):
            return _plain(404, "404 page not found\n")
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "405: Method Not Allowed")
        name = node.name
        if self.faulty("slow", name) and self.faults.kubelet_slow_seconds > 0:
            self.stats.faults["slow"] += 1
            await asyncio.sleep(self.faults.kubelet_slow_seconds)
        if self.faulty("error", name):
            self.stats.faults["error"] += 1
            return _plain(
                500,
                "Internal Server Error: simulated kubelet failure (kubescope fault kubelet_error_fraction)\n",
            )
        if self.faulty("garbage", name):
            self.stats.faults["garbage"] += 1
            return web.Response(body=self._garbage, headers={"Content-Type": CONTENT_TYPE})
        if self.faulty("scrape_error", name):
            self.stats.faults["scrape_error"] += 1
            text = _HEADER["resource_scrape_error"] + "resource_scrape_error 1\n"
            return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})
        if self.faulty("stale", name):
            self.stats.faults["stale"] += 1
        gz = "gzip" in request.headers.get("Accept-Encoding", "")
        body = self.body(node, gzip=gz, cadvisor=path == "/metrics/cadvisor")
        headers = {"Content-Type": CONTENT_TYPE}
        if gz:
            headers["Content-Encoding"] = "gzip"
        if self.faulty("truncate", name):
            self.stats.faults["truncate"] += 1
            resp = web.StreamResponse(headers=headers)
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            await asyncio.sleep(0.01)  # let the half reach the client before the cut
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError
        self.stats.bytes_served += len(body)
        return web.Response(body=body, headers=headers)


# -- helpers -------------------------------------------------------------------------------------


def _ready(o: Obj) -> bool:
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _running_containers(status: Obj) -> dict[str, tuple[float, int]]:
    """``name -> (startedAt, restartCount)`` of the pod's running containers and sidecars."""
    out: dict[str, tuple[float, int]] = {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            running = (cs.get("state") or {}).get("running")
            if running is None or not cs.get("name"):
                continue
            try:
                started = parse_time(str(running.get("startedAt")))
            except (TypeError, ValueError):
                continue
            out[str(cs["name"])] = (started, int(cs.get("restartCount") or 0))
    return out


def _pod_cgroup(uid: str, qos: str) -> str:
    """The pod's cgroup as the kubelet's cgroupfs driver names it."""
    parent = {"Guaranteed": "/kubepods", "BestEffort": "/kubepods/besteffort"}.get(qos, "/kubepods/burstable")
    return f"{parent}/pod{uid}"


def _container_ids(status: Obj, spec: Obj) -> dict[str, tuple[str, str]]:
    """``name -> (container id without its runtime prefix, image)`` from the pod's statuses and
    spec (the spec's image: what the kubelet's cAdvisor labels carry)."""
    images = {
        str(c.get("name")): str(c.get("image") or "")
        for c in (*(spec.get("initContainers") or ()), *(spec.get("containers") or ()))
    }
    out: dict[str, tuple[str, str]] = {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            name = str(cs.get("name") or "")
            cid = str(cs.get("containerID") or "").partition("://")[2]
            out[name] = (cid, images.get(name, str(cs.get("image") or "")))
    return out


def _container_id(uid: str, name: str, restarts: int) -> str:
    """A stable 64-hex id for a container whose status has none."""
    return hashlib.sha256(f"{uid}/{name}/{restarts}".encode()).hexdigest()


def _resources(spec: Obj, name: str) -> Resources:
    res: Obj = {}
    for c in (*(spec.get("initContainers") or ()), *(spec.get("containers") or ())):
        if c.get("name") == name:
            res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}

    def q(d: Obj, k: str, fn: Callable[[str], Any]) -> Any:
        try:
            return fn(str(d[k])) if d.get(k) is not None else None
        except DecodeError:
            return None

    return (
        q(req, "cpu", cpu_cores),
        q(lim, "cpu", cpu_cores),
        q(req, "memory", int_value),
        q(lim, "memory", int_value),
    )


def _series(s: Series, prev: Series | None) -> dict[str, Any]:
    """A sample for /_sim/truth, with metrics-server's rate when a previous sample exists.

    The rate is computed from the values as the text carries them (``float(v) * 1e9`` truncated,
    as metrics-server's decoder does) over the millisecond timestamps."""
    d: dict[str, Any] = {"timestamp": s.ts_ms, "cpu": s.cpu_ns, "memory": s.memory}
    if prev is None or prev.ts_ms >= s.ts_ms:
        return d
    cur, before = _parsed(s.cpu_ns), _parsed(prev.cpu_ns)
    window_ns = (s.ts_ms - prev.ts_ms) * 1_000_000
    d["previous"] = {"timestamp": prev.ts_ms, "cpu": prev.cpu_ns}
    d["usage"] = {
        "cpu": int((cur - before) / (window_ns / 1e9)) if cur >= before else None,
        "memory": s.memory,
    }
    d["window"] = window_ns
    return d


def _parsed(cpu_ns: int) -> int:
    return int(float(_float(cpu_ns / 1e9)) * 1e9)


def _subpath(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8")


# -- the simulator's hook ----------------------------------------------------------------------------


async def start_for_simulator(sim: Simulator) -> Callable[[], Awaitable[None]] | None:
    """Start a kubelet for every node of the simulator's store (see the module docstring)."""
    s = sim.settings
    farm = KubeletFarm(
        sim.store,
        seed=s.seed,
        housekeeping=s.kubelet_housekeeping,
        auth=sim.auth,
        faults=sim.faults,
        pki=sim.pki,
        plan=getattr(sim, "kubelet_plan", None),
    )
    farm.load()
    directory = sim.pki.directory if sim.pki is not None else sim.state_dir
    await farm.start(Path(directory), await sim.serve_listener(farm.listener_spec(), sockets=[]))

    async def truth() -> Any:
        return farm.truth()

    async def kubelets() -> Any:
        return farm.summary()

    sim.api.add_control("truth", truth)
    sim.api.add_control("kubelets", kubelets)
    logger.info(
        "kubelets listening",
        extra=fields(nodes=len(farm.nodes), block=farm.block, port=farm.port, tls=farm.pki is not None),
    )
    return farm.stop
