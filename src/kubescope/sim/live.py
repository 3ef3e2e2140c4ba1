"""A live cluster: the control plane (:mod:`kubescope.sim.control`) reacting to changes, and the
world (:mod:`kubescope.sim.churn`) making them, at a rate of writes per second.

:class:`LiveCluster` runs as an asyncio task (:meth:`LiveCluster.run`) or is stepped (tests,
benchmarks: :meth:`LiveCluster.step`). **The rate is writes**, every create, update and delete
whoever makes it (the world, a controller, a kubelet), the unit watchers receive: each tick (50 ms)
first lets the control plane do what fell due, then spends what is left of the tick's budget on
world changes, in batches of at most ``batch`` with the API served between them, each followed by
the controllers' reactions; what a batch over- or under-spends carries to the next tick. More than
a second of budget (a starved loop, or a rate beyond the machine) is dropped and counted as
``behind``. A rate of 0 **pauses** the cluster: no write after the call returns, the control
plane's clock stops (its timers resume where they were). Without a world (``world=False``) the
control plane runs alone: a still cluster whose controllers react to what clients change.

Deterministic for a seed: with the same store, seed, clock and calls, two live clusters make the
same writes (what :meth:`step` with a test clock shows); the task's batches follow the time each
tick took, so two runs of it make the same kinds of changes, not the same bytes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from kubescope.errors import ConfigError
from kubescope.log import fields
from kubescope.sim.churn.rates import KINDS, WEIGHTS
from kubescope.sim.churn.world import World
from kubescope.sim.control.events import truth
from kubescope.sim.control.events.ttl import EVENT_TTL
from kubescope.sim.control.hpa.controller import SYNC_PERIOD
from kubescope.sim.control.hpa.metrics import MetricsClient
from kubescope.sim.control.plane import Cluster
from kubescope.sim.control.runtime import Store

if TYPE_CHECKING:
    from kubescope.sim.server import Simulator

logger = logging.getLogger(__name__)

WINDOW = 10.0
"""Seconds over which :meth:`LiveCluster.achieved` measures the write rate."""


class LiveCluster:
    """See the module docstring."""

    def __init__(
        self,
        store: Store,
        seed: int,
        rate: float,
        *,
        clock: Callable[[], float] | None = None,
        weights: dict[str, int] | None = None,
        world: bool = True,
        metrics: MetricsClient | None = None,
        hpa_period: float = SYNC_PERIOD,
        event_ttl: float = EVENT_TTL,
    ) -> None:
        """``clock``: the store's unless given (one time for the timestamps the store writes and
        the control plane's timers); ``metrics``: what the HPA controller reads the metrics APIs
        with (None: it manages no HPA, churn simulates their status); ``hpa_period``: its sync
        period; ``event_ttl``: how long Events last after their last write."""
        if not rate >= 0:
            raise ValueError(f"churn rate {rate} must be >= 0 (writes per second)")
        self.seed = seed
        self.rate = float(rate)
        self.cluster = Cluster(
            store,
            seed,
            clock if clock is not None else getattr(store, "clock", time.time),
            metrics=metrics,
            hpa_period=hpa_period,
            event_ttl=event_ttl,
        )
        self.plane = self.cluster.plane
        self.counts = self.plane.counts
        self.world = World(self.cluster, seed, weights=weights) if world else None
        self.steps = 0
        self.paused_since: float | None = None
        self._started = False
        self._task: asyncio.Task[None] | None = None
        self._storm: list[tuple[str, str]] = []
        """Pods a storm made crash-loop."""
        self._window: collections.deque[tuple[float, int]] = collections.deque()
        """(loop time, writes) after each tick of the task: the achieved rate."""

    def start_up(self) -> None:
        """Show the control plane the cluster and index the world (once)."""
        if self._started:
            return
        self._started = True
        self.cluster.start()
        if self.world is not None:
            self.world.index()
        logger.info(
            "cluster live",
            extra=fields(
                pods=len(self.cluster.pods.pods),
                nodes=len(self.cluster.nodes.nodes),
                world=self.world is not None,
                healthy=len(self.world.healthy) if self.world else 0,
            ),
        )

    # -- stepping -----------------------------------------------------------------------------

    def step(self, n: int = 1) -> int:
        """Make ``n`` world changes now, each after what fell due; then let the controllers catch
        up. Returns the changes made."""
        self.start_up()
        made = 0
        for _ in range(n):
            self.steps += 1
            self.plane.tick()
            if self.world is not None and self.world.change():
                made += 1
        self.plane.tick()
        return made

    def settle(self, seconds: float) -> None:
        """Let ``seconds`` of the clock pass without world changes, the control plane doing what
        falls due (for a test clock, whose every reading moves it on)."""
        self.start_up()
        end = self.plane.now() + seconds
        while self.plane.now() < end:
            self.plane.tick()

    # -- running ------------------------------------------------------------------------------

    async def run(self, tick: float = 0.05, batch: int = 100) -> None:
        """Write at ``rate`` writes per second until cancelled (see the module docstring)."""
        loop = asyncio.get_running_loop()
        self.start_up()
        last = loop.time()
        budget = 0.0
        per_change = 3.5
        """Writes per change, estimated as it goes (sizes the first batch of a tick)."""
        self._window.append((last, self.counts["writes"]))
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            if self.paused_since is not None:
                last = now
                continue
            budget += self.rate * (now - last)
            last = now
            cap = max(1.0, self.rate)
            if budget > cap:
                self.counts["behind"] += int(budget - cap)
                budget = cap
            budget = max(budget, -cap)  # a debt of more than a second is forgiven
            before = self.counts["writes"]
            # the control plane first, within the budget (a rate too low for what it has to do
            # leaves work queued, as an API client's QPS limit would); the world gets the rest
            self._guard(functools.partial(self.plane.tick, budget if self.world is not None else None))
            budget -= self.counts["writes"] - before
            while self.world is not None and budget >= 1 and self.rate > 0 and self.paused_since is None:
                before = self.counts["writes"]
                n = max(1, min(batch, int(budget / per_change)))
                made = self._guard(functools.partial(self._batch, n))
                spent = self.counts["writes"] - before
                if made and spent:
                    per_change += (spent / made - per_change) * 0.2
                budget -= max(1, spent)  # a batch that wrote nothing still costs one, so this ends
                if budget >= 1:
                    await asyncio.sleep(0)
            if self.world is not None and self.rate <= 0:
                budget = 0.0
            t = loop.time()
            self._window.append((t, self.counts["writes"]))
            while len(self._window) > 2 and self._window[1][0] <= t - WINDOW:
                self._window.popleft()

    def _batch(self, n: int) -> int:
        assert self.world is not None
        made = 0
        for _ in range(n):
            self.steps += 1
            if self.world.change():
                made += 1
        # the controllers react to the batch at once, whatever it costs (the next ticks pay)
        self.plane.tick()
        return made

    def _guard(self, fn: Callable[[], int]) -> int:
        """Run a batch; a bug in one change must not stop the cluster (logged and counted)."""
        try:
            return fn()
        except Exception as e:
            self.counts["errors"] += 1
            if self.counts["errors"] <= 10 or self.counts["errors"] % 1000 == 0:
                logger.exception("churn change failed", extra=fields(error=repr(e)[:200]))
            return 0

    def set_rate(self, rate: float) -> None:
        """Change the rate; 0 pauses the whole cluster (its controllers catch up on what they saw,
        then no write after this returns), any other rate resumes it, the control plane's timers
        shifted by the pause."""
        if not rate >= 0:  # also refuses NaN
            raise ValueError(f"churn rate {rate} must be >= 0 (writes per second)")
        self.rate = float(rate)
        now = self.plane.now()
        if rate == 0 and self.paused_since is None:
            # the controllers catch up on what they have seen (not on what falls due later): a
            # paused cluster is one whose controllers' view holds
            self._guard(self.plane.drain)
            self.paused_since = now
        elif rate > 0 and self.paused_since is not None:
            self.plane.resumed(now - self.paused_since)
            self.paused_since = None

    def storm(self, n: int) -> dict[str, Any]:
        """A crash-loop storm: ``n`` more running pods' first container breaks now (it dies at every
        start: BackOff, Created, Started again and again, from every kubelet at once); 0 ends the
        storm (those containers fixed)."""
        self.start_up()
        machines = self.cluster.machines
        if n == 0:
            for key in self._storm:
                machines.fix(key)
            fixed, self._storm = len(self._storm), []
            return {"crashlooping": 0, "fixed": fixed}
        candidates = sorted(
            p.key
            for p in self.cluster.pods.pods.values()
            if p.phase == "Running" and p.running and p.active and p.restart_policy != "Never"
            and p.key not in machines.broken and p.node not in machines.dead
        )  # fmt: skip
        rng = random.Random(f"{self.seed}/storm/{len(self._storm)}")
        for key in rng.sample(candidates, min(n, len(candidates))):
            machines.break_container(key, 0, 1, "Error")
            self._storm.append(key)
        return {"crashlooping": len(self._storm)}

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="churn")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.cluster.close()

    # -- reporting ----------------------------------------------------------------------------

    def achieved(self) -> float:
        """Writes per second of the running task over the last ``WINDOW`` seconds."""
        if len(self._window) < 2:
            return 0.0
        (t0, w0), (t1, w1) = self._window[0], self._window[-1]
        return (w1 - w0) / (t1 - t0) if t1 > t0 else 0.0

    def stats(self) -> dict[str, Any]:
        w = self.world
        return {
            "seed": self.seed,
            "rate": self.rate,
            "paused": self.paused_since is not None,
            "achieved": round(self.achieved(), 1),
            "steps": self.steps,
            "changes": sum(self.counts[k] for k in KINDS),
            "writes": self.counts["writes"],
            "counts": dict(sorted(self.counts.items())),
            "pods": len(self.cluster.pods.pods),
            "healthy": len(w.healthy) if w else 0,
            "flapped": len(w.flapped) if w else 0,
            "crashing": len(w.crashing) if w else 0,
            "down_nodes": len(w.down_nodes) if w else 0,
            "queued": self.plane.pending(),
            "timers": len(self.plane.timers),
        }


async def start_for_simulator(sim: Simulator) -> Callable[[], Awaitable[None]] | None:
    """The simulator's plug-in hook: the control plane (and, at ``--churn-rate`` > 0, the world)
    against its store, with ``--seed``; ``GET /_sim/churn`` shows the counters, ``POST
    /_sim/churn {"rate": R}`` changes the rate (0 pauses) and answers them."""
    s = sim.settings
    controllers = bool(getattr(s, "controllers", False))
    if s.churn_rate <= 0 and not controllers:
        return None
    weights = WEIGHTS if getattr(s, "churn_mix", "realistic") == "lively" else None
    # the HPA controller reads the metrics APIs as kube-controller-manager does: over HTTP, through
    # the API server's aggregation layer (with the admin's token)
    metrics = MetricsClient(sim.url, sim.auth.admin_token, sim.pki.ca.pem if sim.pki else None)
    live = LiveCluster(
        sim.store,
        s.seed,
        s.churn_rate,
        world=s.churn_rate > 0,
        weights=weights,
        metrics=metrics,
        hpa_period=getattr(s, "hpa_sync_period", SYNC_PERIOD),
        event_ttl=getattr(s, "event_ttl", EVENT_TTL),
    )
    live.start_up()

    async def stats() -> dict[str, Any]:
        return live.stats()

    async def control(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or set(body) - {"rate"}:
            raise ConfigError('expected a JSON object {"rate": writes per second}')
        if "rate" in body:
            rate = body["rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate >= 0:
                raise ConfigError(f"churn rate {rate!r}: expected a number >= 0 (writes per second)")
            live.set_rate(rate)
            logger.info("churn rate changed", extra=fields(rate=live.rate))
        return live.stats()

    sim.api.add_control("churn", stats, control)
    sim.api.add_control("events", *truth.control(live.cluster.events.truth, live.storm))
    live.start()
    logger.info("churn started", extra=fields(rate=s.churn_rate, seed=s.seed, world=live.world is not None))
    return live.stop
