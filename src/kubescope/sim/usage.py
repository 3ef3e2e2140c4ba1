"""How much CPU and memory the simulated containers, pods and nodes use: a pure, seeded model.

Every usage curve is ``base * (1 + sum(a_i * sin(w_i * (t - EPOCH) + p_i)))``: a few waves with
periods from a minute (noise between two housekeeping ticks) through tens of minutes (load swings)
to a day (the diurnal cycle). The sum of the amplitudes stays below 1, so a rate is never negative,
and the curve has a closed-form integral: cumulative CPU at any time costs a handful of ``cos``
calls, whatever the time since the container started. Nothing is stepped or stored per tick, so the
kubelets evaluate a node only when someone asks for it.

Bases follow the pod spec, as real usage does:

* CPU: a share of the container's CPU request (most containers use 5-40 % of it, a few run hot),
  5-50 millicores without a request; the peak never passes 95 % of a CPU limit;
* memory: 40-90 % of the memory request (30-70 % of the limit without a request, 20-200 MiB
  without either), gently varying (a few percent), page-aligned, peaking below 95 % of the limit;
* a pod adds its sandbox (the pause container: ~0.1 millicores, 300-700 KiB);
* a node adds its system share (kubelet, container runtime, kernel: 2-6 % of its CPUs, 350 MiB plus
  2-4 % of its memory), so node usage is always above the sum of its pods.

Over days, a container's CPU follows its workload's *shape* (:class:`Workload`, :func:`shape`), a
factor constant over each five-minute cell of the clock (so the integral stays a sum of closed
forms):

* **weekly**: weekends run at :data:`WEEKEND` of weekdays' load, with six-hour ramps in and out;
* **bursts**: one workload in :data:`BURSTY_SHARE` runs :data:`BURST_FACTOR` times its load for
  :data:`BURST_SECONDS` each day, at a time of its own;
* **idle**: one workload in :data:`IDLE_SHARE` barely runs (:data:`IDLE_CPU` cores plus its noise).

Which workloads burst or idle is drawn from the seed and the workload's namespace and name
(:func:`workload_name` reads it from a pod), so every pod of a workload, across restarts and
rollouts, behaves alike, and the simulated kubelets (:mod:`kubescope.sim.kubelet`), the
fast-forwarded history (:mod:`kubescope.sim.fleet`) and every test's truth are the same model.

Parameters come from a stream of uniform numbers keyed by the simulator's seed and the object's
identity (pod uid and container name, node name): the same cluster gives the same curves on every run.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

EPOCH = 1_700_000_000.0
"""Wave phases are taken from here, so a curve's shape does not depend on when the simulator starts."""

PAGE = 4096
MIB = 1 << 20
TWO_PI = 2 * math.pi
_cos = math.cos
_sin = math.sin


def draws(n: int, *key: object) -> Iterator[float]:
    """``n`` uniform numbers in [0, 1) fixed by ``key`` (BLAKE2b of the key and a counter): ~20x
    cheaper than seeding ``random.Random`` with a string, which matters for 150,000 containers."""
    base = "/".join([str(k) for k in key]).encode()
    out: list[float] = []
    block = 0
    while n > 0:
        take = min(n, 16)
        digest = hashlib.blake2b(base + b"#%d" % block, digest_size=4 * take).digest()
        out += [x * _SCALE for x in struct.unpack(f"<{take}I", digest)]
        n -= take
        block += 1
    return iter(out)


_SCALE = 1 / 4294967296.0


def _between(it: Iterator[float], lo: float, hi: float) -> float:
    return lo + (hi - lo) * next(it)


@dataclass(frozen=True, slots=True)
class Curve:
    """``base * (1 + sum(a * sin(w * (t - EPOCH) + p)))`` for waves ``(a, w, p)``."""

    base: float
    waves: tuple[tuple[float, float, float], ...]
    _primitive: tuple[tuple[float, float, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # (a / w, w, p): the coefficients of the integral's cosine terms
        object.__setattr__(self, "_primitive", tuple((a / w, w, p) for a, w, p in self.waves))

    @property
    def peak(self) -> float:
        return self.base * (1 + sum(a for a, _, _ in self.waves))

    def at(self, t: float) -> float:
        x = t - EPOCH
        acc = 1.0
        for a, w, p in self.waves:
            acc += a * _sin(w * x + p)
        return self.base * acc

    def integral(self, t0: float, t1: float) -> float:
        """The integral over ``[t0, t1]`` (core-seconds for a rate in cores; 0 when ``t1 <= t0``)."""
        if t1 <= t0:
            return 0.0
        # differences of cosines, not of two large primitives, so rounding stays at the nanosecond
        x0, x1 = t0 - EPOCH, t1 - EPOCH
        acc = x1 - x0
        for k, w, p in self._primitive:
            acc += k * (_cos(w * x0 + p) - _cos(w * x1 + p))
        return max(0.0, self.base * acc)


def _waves(
    it: Iterator[float], spec: tuple[tuple[float, float, float, float], ...]
) -> tuple[tuple[float, float, float], ...]:
    """One wave per ``(min period s, max period s, min amplitude, max amplitude)``: 3 draws each."""
    return tuple(
        (_between(it, alo, ahi), TWO_PI / _between(it, plo, phi), _between(it, 0, TWO_PI))
        for plo, phi, alo, ahi in spec
    )


CPU_WAVES = ((30.0, 120.0, 0.08, 0.22), (600.0, 2400.0, 0.08, 0.25), (43200.0, 86400.0, 0.05, 0.25))
"""Noise between ticks, load swings, the day: amplitudes add up to at most 0.72."""
MEMORY_WAVES = ((300.0, 1800.0, 0.01, 0.04), (7200.0, 28800.0, 0.01, 0.05))


@dataclass(frozen=True, slots=True)
class ContainerModel:
    cpu: Curve
    """Cores."""
    memory: Curve
    """Bytes."""

    def working_set(self, t: float) -> int:
        return max(PAGE, int(self.memory.at(t)) // PAGE * PAGE)


def container_model(
    seed: int,
    uid: str,
    name: str,
    cpu_request: float | None,
    cpu_limit: float | None,
    memory_request: int | None,
    memory_limit: int | None,
    *,
    idle: bool = False,
) -> ContainerModel:
    """A container's curves from its resources (cores and bytes; None when not set); an ``idle``
    workload's container runs at :data:`IDLE_CPU` (with its noise)."""
    it = draws(20, seed, uid, name)
    cpu_waves = _waves(it, CPU_WAVES)
    amp = 1 + sum(a for a, _, _ in cpu_waves)
    hot, share_hot, share = next(it) < 0.05, _between(it, 0.8, 1.3), 0.03 + 0.5 * next(it) ** 2
    if cpu_request:
        # a skewed share: most containers idle along, one in twenty runs near (or past) its request
        cpu = cpu_request * (share_hot if hot else share)
    else:
        cpu = 0.005 + 0.045 * next(it)
    if cpu_limit:
        cpu = min(cpu, 0.95 * cpu_limit / amp)
    mem_waves = _waves(it, MEMORY_WAVES)
    mem_amp = 1 + sum(a for a, _, _ in mem_waves)
    if memory_request:
        mem = memory_request * _between(it, 0.4, 0.9)
    elif memory_limit:
        mem = memory_limit * _between(it, 0.3, 0.7)
    else:
        mem = _between(it, 20, 200) * MIB
    if memory_limit:
        mem = min(mem, 0.95 * memory_limit / mem_amp)
    if idle:
        cpu = IDLE_CPU
    return ContainerModel(Curve(cpu, cpu_waves), Curve(mem, mem_waves))


@dataclass(frozen=True, slots=True)
class SandboxModel:
    """What a pod uses besides its containers (the pause container and the pod cgroup)."""

    cpu: float
    """Cores, constant."""
    memory: int
    """Bytes, constant."""


def sandbox_model(seed: int, uid: str) -> SandboxModel:
    it = draws(2, seed, uid, "sandbox")
    return SandboxModel(_between(it, 0.00005, 0.0002), int(_between(it, 300, 700)) * 1024)


@dataclass(frozen=True, slots=True)
class NodeModel:
    """A node's own usage on top of its pods' (system daemons, kernel)."""

    cpu: Curve
    memory: Curve

    def working_set(self, t: float) -> int:
        return max(PAGE, int(self.memory.at(t)) // PAGE * PAGE)


def node_model(seed: int, name: str, cpus: float, memory: int) -> NodeModel:
    it = draws(17, seed, "node", name)
    cpu = Curve(max(cpus, 1.0) * _between(it, 0.02, 0.06), _waves(it, CPU_WAVES))
    mem = Curve(350 * MIB + memory * _between(it, 0.02, 0.04), _waves(it, MEMORY_WAVES))
    return NodeModel(cpu, mem)


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``: which nodes a "share of nodes" fault picks, where in
    the housekeeping period a series is sampled."""
    return next(draws(1, *parts))


# -- shapes over days -------------------------------------------------------------------------------

DAY = 86400
WEEK = 7 * DAY
STEP = 300
"""The cell a shape factor is constant over (seconds, aligned to the Unix epoch)."""
WEEKEND = 0.55
RAMP = 6 * 3600
BURSTY_SHARE = 1 / 7
BURST_FACTOR = 3.0
BURST_SECONDS = 1200
IDLE_SHARE = 0.1
IDLE_CPU = 0.0012
"""Cores an idle workload's container uses (1.2 millicores, plus its waves)."""


@dataclass(frozen=True, slots=True)
class Workload:
    """What a workload's pods do over days."""

    idle: bool = False
    burst_at: int | None = None
    """Seconds into each day (UTC) its burst starts (a multiple of :data:`STEP`); None: no burst."""


def workload_traits(seed: int, namespace: str, name: str) -> Workload:
    it = draws(3, seed, "workload", namespace, name)
    idle = next(it) < IDLE_SHARE
    bursty = next(it) < BURSTY_SHARE
    at = int(next(it) * (DAY - BURST_SECONDS) // STEP * STEP)
    return Workload(idle and not bursty, at if bursty and not idle else None)


def workload_name(meta: dict[str, object], labels: dict[str, object] | None = None) -> str:
    """The workload a pod belongs to, from its controller reference: a ReplicaSet's name without
    its pod-template hash (its Deployment's name), any other controller's name; a pod without a
    controller is its own workload."""
    for ref in meta.get("ownerReferences") or ():  # type: ignore[attr-defined]
        if isinstance(ref, dict) and ref.get("controller"):
            owner = str(ref.get("name") or "")
            tmpl = str((labels or {}).get("pod-template-hash") or "")
            if ref.get("kind") == "ReplicaSet" and tmpl and owner.endswith("-" + tmpl):
                return owner[: -len(tmpl) - 1]
            return owner
    return str(meta.get("name") or "")


def weekly(t: float) -> float:
    """Weekdays 1, weekends :data:`WEEKEND`, six-hour ramps down on Saturday morning and up on
    Monday morning (UTC)."""
    day = (int(t // DAY) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    into = t % DAY
    if day == 5:
        return 1 - (1 - WEEKEND) * min(1.0, into / RAMP)
    if day == 6:
        return WEEKEND
    if day == 0:
        return WEEKEND + (1 - WEEKEND) * min(1.0, into / RAMP)
    return 1.0


def shape(w: Workload, cell: int) -> float:
    """The factor of the cell starting at ``cell`` (a multiple of :data:`STEP`)."""
    f = weekly(cell + STEP / 2)
    if w.burst_at is not None and w.burst_at <= cell % DAY < w.burst_at + BURST_SECONDS:
        f *= BURST_FACTOR
    return f


class Demand:
    """A container's cumulative CPU demand (core-seconds) from ``start``: its curve times its
    workload's shape from ``shaped_from`` on (before it, the curve alone: nobody watched then).

    Cells are added in order from a checkpoint that only moves forward, so reading the counter as
    time goes on costs a cell or two, and the same times give the same values however they are
    read."""

    __slots__ = ("_cell", "_cum", "curve", "shaped_from", "start", "workload")

    def __init__(self, curve: Curve, workload: Workload, start: float, shaped_from: float) -> None:
        self.curve = curve
        self.workload = workload
        self.start = start
        self.shaped_from = max(start, shaped_from)
        self._cell = self.shaped_from
        """The checkpoint: the cumulative demand at this time is ``_cum``."""
        self._cum = curve.integral(start, self.shaped_from)

    def shaped(self, t0: float, t1: float) -> float:
        """The shaped integral over ``[t0, t1]`` (``t0 >= shaped_from``), cell by cell."""
        total = 0.0
        a = t0
        while a < t1:
            cell = int(a // STEP * STEP)
            b = min(t1, cell + STEP)
            total += shape(self.workload, cell) * self.curve.integral(a, b)
            a = b
        return total

    def at(self, t: float) -> float:
        if t <= self.shaped_from:
            return self.curve.integral(self.start, t)
        # move the checkpoint to the last cell boundary not after t, whole cells at a time
        edge = t // STEP * STEP
        while self._cell < edge:
            nxt = min(edge, (self._cell // STEP + 1) * STEP)
            self._cum += self.shaped(self._cell, nxt)
            self._cell = nxt
        if t >= self._cell:
            return self._cum + self.shaped(self._cell, t)
        return self._cum - self.shaped(t, self._cell)
