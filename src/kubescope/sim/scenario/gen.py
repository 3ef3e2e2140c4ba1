"""The generator's state and draws: its RNG and clock, the names of what later objects refer to, and
the constants the cluster is made of. The order of draws defines what a seed generates: a change
that draws once more (or less) shifts every later object (see ``test_scenario_generator``)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubescope.sim.objects.meta import object_meta, owner_ref, rfc3339

Obj = dict[str, Any]

ZONES = ("zone-a", "zone-b", "zone-c")
INSTANCE_TYPES = (("m5.xlarge", 4, 16), ("m5.2xlarge", 8, 32), ("c5.4xlarge", 16, 32), ("r5.2xlarge", 8, 64))
APPS = (
    "api",
    "web",
    "worker",
    "cart",
    "checkout",
    "search",
    "auth",
    "billing",
    "catalog",
    "gateway",
    "notifier",
    "ingest",
    "scheduler",
    "reports",
    "media",
    "profile",
    "orders",
    "payments",
    "inventory",
    "analytics",
)
IMAGES = {
    "api": "registry.example.com/shop/api",
    "web": "registry.example.com/shop/web",
    "worker": "registry.example.com/shop/worker",
}
KUBE_VERSION = "v1.36.1"


@dataclass(frozen=True)
class ScenarioConfig:
    """What to generate. ``start`` is the cluster's "now" (unix seconds); 0 means the current time."""

    seed: int = 1
    """Seed of every random draw; default 1. The same seed and sizes give the same objects."""
    nodes: int = 20
    """Nodes, control planes included; default 20."""
    pods_per_node: int = 15
    """Pods per node on average (``nodes * pods_per_node`` pods in all, spread over the workers);
    default 15."""
    start: float = 0.0
    """The cluster's "now" in unix seconds (creation times are drawn before it); default 0, the
    current time; tests pin it so timestamps do not move."""
    control_planes: int = 0
    """Control-plane nodes; 0 picks 1 for small clusters, 3 from 50 nodes."""
    node_ips: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Node addresses by name (where the simulated kubelets will listen); the others get
    ``172.20.x.y``. Nodes' InternalIP and their pods' ``hostIP`` (``podIP`` with ``hostNetwork``)."""

    def control_plane_count(self) -> int:
        n = self.nodes
        cps = self.control_planes or (1 if n < 50 else 3)
        return min(cps, max(1, n - 1)) if n > 1 else 1

    def node_names(self) -> list[str]:
        """The nodes' names, in the order they are generated."""
        cps = self.control_plane_count()
        return [f"control-plane-{i + 1}" if i < cps else f"node-{i - cps + 1:04d}" for i in range(self.nodes)]

    def now(self) -> float:
        return float(int(self.start or time.time()))


@dataclass
class Placement:
    """Which node a pod lands on: round robin over schedulable workers, skipping full nodes."""

    nodes: list[str]
    capacity: int
    _load: dict[str, int] = field(default_factory=dict)
    _i: int = 0

    def pick(self) -> str:
        for _ in range(len(self.nodes)):
            n = self.nodes[self._i % len(self.nodes)]
            self._i += 1
            if self._load.get(n, 0) < self.capacity:
                self._load[n] = self._load.get(n, 0) + 1
                return n
        n = self.nodes[self._i % len(self.nodes)]
        self._i += 1
        self._load[n] = self._load.get(n, 0) + 1
        return n


class Gen:
    """The generator's state: RNG, clock and the indexes later objects refer to."""

    def __init__(self, cfg: ScenarioConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.now = cfg.now()
        self.node_names: list[str] = []
        self.node_ip: dict[str, str] = {}
        self.node_zone: dict[str, str] = {}
        self.ip_seq = 0
        self.namespaces: list[str] = []

    # -- small helpers ---------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ago(self, lo: float, hi: float) -> float:
        return self.now - self.rng.uniform(lo, hi)

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    def pod_ip(self) -> str:
        self.ip_seq += 1
        return f"10.{64 + (self.ip_seq >> 16) % 64}.{(self.ip_seq >> 8) & 255}.{self.ip_seq & 255}"

    def identity(self, created: float | None = None) -> tuple[str, str]:
        """A new object's uid and creation time (drawn in this order; ``created`` when given)."""
        uid = self.uid()
        return uid, rfc3339(created if created is not None else self.ago(3600, 86400 * 60))

    def meta(
        self,
        name: str,
        namespace: str = "",
        *,
        created: float | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        owner: tuple[str, str, str, str] | None = None,
        generation: int | None = None,
    ) -> Obj:
        uid, stamp = self.identity(created)
        return object_meta(
            name,
            namespace,
            uid=uid,
            created=stamp,
            labels=labels,
            annotations=annotations,
            owner=owner_ref(*owner) if owner else None,
            generation=generation,
        )
