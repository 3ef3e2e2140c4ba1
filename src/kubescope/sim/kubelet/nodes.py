"""Every simulated kubelet's state: nodes and pods followed from the store, stats sampled on the
housekeeping tick and accounted, each node's text rendered once a tick, faults picked, the truth.

**What they report.** A node reports its Running pods (``spec.nodeName``) and their running
containers (sidecar init containers included), read from the store and followed through its watch
hooks: new pods appear at the first sample taken after they started, deleted or finished ones
vanish at once.

Values come from :mod:`kubescope.sim.usage` (what each container wants, shaped over days by its
workload), accounted by :mod:`.cgroups` as a node's cgroups count it: a node never reports more
CPU than it has between two samples, a container never more than its limit. Stats are collected on
a housekeeping tick (``--kubelet-housekeeping``, default 10 s, as cAdvisor's): tick *k* is at
``start + k * period``, and each pod (and the node) is sampled at a fixed offset before it, so
different series carry different timestamps, as from a real kubelet. Container CPU counters run
from the container's start (``status.containerStatuses[].state.running.startedAt``) and restart
from zero with a new start time when the container restarts; the pod's counter spans its
containers' restarts, the node's its pods' comings and goings, and every working set is summed
upwards, so node >= sum of pods >= sum of containers, always. A node's text (:mod:`.text`) is
rendered on demand, once per tick (or after its pods changed), and kept until the next tick;
gzip-compressed too when asked for.

**Faults** (``POST /_sim/faults``, :mod:`kubescope.sim.faults`): each ``kubelet_*_fraction`` picks
that share of nodes (a stable choice per node, changed with the fault ``seed``), restricted to
``kubelet_nodes`` when given. Picked here; :mod:`.serving` applies them to requests, but for
``stale`` (the stats stop updating: the same samples and timestamps at every request, as with a
stuck housekeeping), which freezes a node's tick here.

**Truth.** ``GET /_sim/truth`` on the API server returns what every kubelet reports now (sample
timestamps, cumulative CPU in nanoseconds, working sets, per node, pod and container) with the
previous tick's samples and the rates metrics-server derives from the two
(``(cpu - prev cpu) / (ts - prev ts)``, truncated to nano-cores), so tests compare
``kubectl top`` against it.

Nothing here does I/O but the clock it is given: listeners, TLS and who may ask are
:mod:`.serving`'s, which hears of nodes coming, going and changing readiness through
:attr:`Kubelets.on_node`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from typing import Any

from kubescope.errors import DecodeError
from kubescope.model.quantity import cpu_cores, int_value
from kubescope.model.timefmt import parse_time
from kubescope.sim.errors import NotFound
from kubescope.sim.faults import Faults
from kubescope.sim.kubelet import cgroups
from kubescope.sim.kubelet.cadvisor import render as render_cadvisor
from kubescope.sim.kubelet.pods import (
    Container,
    Node,
    NodeSample,
    Obj,
    Pod,
    Series,
    container_ids,
    container_resources,
    fallback_container_id,
    node_ready,
    pod_cgroup,
    running_containers,
)
from kubescope.sim.kubelet.text import float_text, label_value, render
from kubescope.sim.store import ObjectStore
from kubescope.sim.usage import (
    node_model,
    sandbox_model,
    stable_fraction,
    workload_name,
    workload_traits,
)

KUBELET_FAULTS = ("down", "slow", "error", "garbage", "truncate", "scrape_error", "stale")
"""The kubelet faults, in the order a request meets them; ``kubelet_<name>_fraction`` in Faults."""

NodeEvent = Callable[[str, Node], None]
"""Told ``("ADDED" | "READY" | "DELETED", node)``: a node appeared, its Ready condition flipped,
it is about to be forgotten."""


class Kubelets:
    """Every node's kubelet state: followed from the store, sampled, accounted, rendered."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        seed: int = 1,
        housekeeping: float = 10.0,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.seed = seed
        self.period = max(0.05, float(housekeeping))
        self.faults = faults or Faults()
        self.clock = clock
        self.epoch = clock()
        """Tick 0: housekeeping ticks are at ``epoch + k * period``."""
        self.nodes: dict[str, Node] = {}
        self.pod_node: dict[tuple[str, str], str] = {}
        self.on_node: NodeEvent | None = None
        """Who hears of nodes coming, going and changing readiness (the listeners)."""
        self.renders = 0
        self.render_seconds = 0.0
        self.closed = False
        self._next_index = 0
        self._fault_key: tuple[Any, ...] | None = None
        self._faulty: dict[str, frozenset[str]] = {f: frozenset() for f in KUBELET_FAULTS}

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
            ready=node_ready(o),
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
            if self.on_node is not None:
                self.on_node("ADDED", node)
            return
        ready = node_ready(o)
        if ready != node.ready:
            node.ready = ready
            if self.on_node is not None:
                self.on_node("READY", node)

    def _drop_node(self, node: Node) -> None:
        if self.on_node is not None:
            self.on_node("DELETED", node)
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
        running = running_containers(status)
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
                labels=f'{{namespace="{label_value(key[0])}",pod="{label_value(key[1])}"}}',
                started=started,
                offset=self._offset("pod", uid),
                sandbox=sandbox_model(self.seed, uid),
                seed=self.seed,
                workload=workload_traits(self.seed, key[0], workload_name(meta, meta.get("labels"))),
                shaped_from=self.epoch,
                cgroup=pod_cgroup(uid, str(status.get("qosClass") or "")),
            )
            node.pods[key] = pod
            self.pod_node[key] = node_name
            is_new = True
        changed = is_new
        ids = container_ids(status, spec)
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
                labels=f'{{container="{label_value(cname)}",namespace="{label_value(key[0])}",'
                f'pod="{label_value(key[1])}"}}',
                pod=pod,
                resources=c.resources if c is not None else container_resources(spec, cname),
                started=started,
                restarts=restarts,
                _model=c._model if c is not None else None,
                cid=ids.get(cname, ("", ""))[0] or fallback_container_id(uid, cname, restarts),
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
            node.body = render(self.sample(node, k))
            node.body_gz = b""
            node.body_tick = k
            self.renders += 1
            self.render_seconds += time.perf_counter() - t0
        if gzip:
            if not node.body_gz:
                c = zlib.compressobj(1, zlib.DEFLATED, 31)
                node.body_gz = c.compress(node.body) + c.flush()
            return node.body_gz
        return node.body

    def drop_old_texts(self) -> None:
        """Forget texts of earlier ticks (memory; a ``stale`` node keeps its frozen one)."""
        current = self.tick()
        for node in self.nodes.values():
            if node.body and node.frozen is None and node.body_tick < current:
                node.body = node.body_gz = b""
                node.body_tick = -1

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

    def close(self) -> None:
        """Stop following the store (its hooks stay, and return at once)."""
        self.closed = True


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
    return int(float(float_text(cpu_ns / 1e9)) * 1e9)
