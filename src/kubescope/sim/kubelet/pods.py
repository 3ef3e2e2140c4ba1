"""What a simulated kubelet knows of its node and pods: the records :mod:`.nodes` keeps and
samples, :mod:`.cgroups` accounts, :mod:`.text` and :mod:`.cadvisor` render and :mod:`.serving`
serves, and the readers that take them out of Pod and Node objects (pure functions of an object).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubescope.errors import DecodeError
from kubescope.model.gofmt import go_float
from kubescope.model.quantity import cpu_cores, int_value
from kubescope.model.timefmt import parse_time
from kubescope.sim.usage import ContainerModel, Demand, NodeModel, SandboxModel, Workload, container_model

Obj = dict[str, Any]

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


# -- reading Pod and Node objects -------------------------------------------------------------------


def node_ready(o: Obj) -> bool:
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def running_containers(status: Obj) -> dict[str, tuple[float, int]]:
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


def pod_cgroup(uid: str, qos: str) -> str:
    """The pod's cgroup as the kubelet's cgroupfs driver names it."""
    parent = {"Guaranteed": "/kubepods", "BestEffort": "/kubepods/besteffort"}.get(qos, "/kubepods/burstable")
    return f"{parent}/pod{uid}"


def container_ids(status: Obj, spec: Obj) -> dict[str, tuple[str, str]]:
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


def fallback_container_id(uid: str, name: str, restarts: int) -> str:
    """A stable 64-hex id for a container whose status has none."""
    return hashlib.sha256(f"{uid}/{name}/{restarts}".encode()).hexdigest()


def container_resources(spec: Obj, name: str) -> Resources:
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
