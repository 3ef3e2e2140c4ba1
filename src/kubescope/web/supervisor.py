"""One owner for every background task of a server: started through it, watched, restarted or
reported, and stopped in one place.

A :class:`Task` names a coroutine function and what its death means:

* ``RESTART`` (default): the task is started again after a capped exponential backoff (1 s, 2 s,
  4 s ... ``max_backoff``; the count resets once a run lasted ``max_backoff``). While it is down,
  ``/readyz`` fails naming it (``task/<name>``).
* ``FATAL``: the task is not restarted; ``/readyz`` and ``/livez`` fail naming it, so the kubelet
  restarts the container.
* ``oneshot=True``: returning is success (the task is forgotten); otherwise returning counts as
  a death, since a long-running loop that returns has stopped doing its job.

Each death is logged as one structured line (``task died``: task, error, where it was raised,
what happens next; the traceback only at debug level) and counted in
``kubescope_task_failures_total{task}``; restarts in ``kubescope_task_restarts_total{task}``;
``kubescope_task_up{task}`` is 1 while a task runs.

Tasks can be added and removed while the server runs (:meth:`Supervisor.start` /
:meth:`Supervisor.stop`), e.g. a reflector per resource that reconfiguration adds or drops.
:meth:`Supervisor.kill` makes a running task die with an error, as a crash would (tests and
fault drills); a task cancelled by anyone but the supervisor also counts as dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
import traceback
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kubescope.log import fields

logger = logging.getLogger(__name__)


class Policy(enum.Enum):
    RESTART = "restart"
    FATAL = "fatal"


RESTART = Policy.RESTART
FATAL = Policy.FATAL


@dataclass(frozen=True)
class Task:
    """A background task: ``run`` is called (again after each death under ``RESTART``)."""

    name: str
    run: Callable[[], Coroutine[Any, Any, None]]
    policy: Policy = RESTART
    oneshot: bool = False
    initial_backoff: float = 1.0
    max_backoff: float = 60.0


class Killed(Exception):
    """The error a task dies of when :meth:`Supervisor.kill` is called."""


@dataclass
class TaskState:
    spec: Task
    task: asyncio.Task[None] | None = None
    up: bool = False
    failures: int = 0
    restarts: int = 0
    consecutive: int = 0
    last_error: str = ""
    failed_for_good: bool = False
    started_at: float = 0.0
    kill_with: BaseException | None = None
    hold: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class Supervisor:
    """Starts, watches and stops :class:`Task` s (see the module docstring)."""

    states: dict[str, TaskState] = field(default_factory=dict)
    _inner: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    # -- control ---------------------------------------------------------------------------

    def start(self, spec: Task) -> None:
        """Run ``spec`` under supervision (a task of the same name is replaced)."""
        old = self.states.get(spec.name)
        if old is not None and old.task is not None and not old.task.done():
            raise ValueError(f"task {spec.name!r} is already running; stop it first")
        st = TaskState(spec)
        self.states[spec.name] = st
        st.task = asyncio.get_running_loop().create_task(self._keep(st), name=f"supervised:{spec.name}")

    async def stop(self, name: str) -> None:
        """Stop one task and forget it."""
        st = self.states.pop(name, None)
        if st is not None and st.task is not None:
            st.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await st.task

    async def stop_all(self) -> None:
        """Cancel every task and wait for them (shutdown)."""
        tasks = [st.task for st in self.states.values() if st.task is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self.states.clear()

    def kill(self, name: str, error: BaseException | None = None, *, hold: bool = False) -> None:
        """Make the running task ``name`` die of ``error`` (default :class:`Killed`), as a crash
        would; with ``hold``, a ``RESTART`` task stays down until :meth:`restart_now`."""
        st = self.states[name]
        inner = self._inner.get(name)
        if inner is None or not st.up:
            raise ValueError(f"task {name!r} is not running")
        st.kill_with = error or Killed(f"task {name} killed")
        st.hold = hold
        inner.cancel()

    def restart_now(self, name: str) -> None:
        """Restart a task waiting for its backoff (or held down by :meth:`kill`) at once."""
        st = self.states[name]
        st.hold = False
        st.wake.set()

    # -- the watch loop ------------------------------------------------------------------

    async def _keep(self, st: TaskState) -> None:
        spec = st.spec
        backoff = spec.initial_backoff
        while True:
            st.up, st.started_at, st.kill_with = True, time.monotonic(), None
            inner = asyncio.get_running_loop().create_task(spec.run(), name=spec.name)
            self._inner[spec.name] = inner
            error: BaseException | None
            try:
                await asyncio.shield(inner)
                error = None
            except asyncio.CancelledError:
                if not inner.done():  # we are being stopped: stop the task with us
                    inner.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await inner
                    st.up = False
                    raise
                error = st.kill_with or asyncio.CancelledError("cancelled from outside the supervisor")
            except Exception as e:
                error = e
            finally:
                if self._inner.get(spec.name) is inner:
                    del self._inner[spec.name]
            st.up = False
            if error is None and spec.oneshot:
                self.states.pop(spec.name, None)
                return
            ran = time.monotonic() - st.started_at
            if ran >= spec.max_backoff:
                st.consecutive, backoff = 0, spec.initial_backoff
            st.failures += 1
            st.consecutive += 1
            st.last_error = _describe(error)
            if spec.policy is FATAL:
                st.failed_for_good = True
                _log_death(spec, error, st, "not restarted: liveness and readiness now fail")
                return
            _log_death(spec, error, st, "held down" if st.hold else f"restarting in {backoff:g}s")
            st.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(st.wake.wait(), None if st.hold else backoff)
            backoff = min(backoff * 2, spec.max_backoff)
            st.restarts += 1

    # -- what health checks and self metrics read -------------------------------------------

    def readiness(self) -> Iterator[tuple[str, str | None]]:
        """``task/<name>`` for every task that is down (a health check group)."""
        for name, st in sorted(self.states.items()):
            if not st.up:
                yield f"task/{name}", _down(st)

    def liveness(self) -> Iterator[tuple[str, str | None]]:
        """``task/<name>`` for every ``FATAL`` task that died."""
        for name, st in sorted(self.states.items()):
            if st.failed_for_good:
                yield f"task/{name}", _down(st)

    def collect(self) -> Iterable[Metric]:
        failures = CounterMetricFamily(
            "kubescope_task_failures", "Deaths of supervised background tasks.", labels=["task"]
        )
        restarts = CounterMetricFamily(
            "kubescope_task_restarts", "Restarts of supervised background tasks.", labels=["task"]
        )
        up = GaugeMetricFamily("kubescope_task_up", "1 while a supervised task runs.", labels=["task"])
        for name, st in sorted(self.states.items()):
            failures.add_metric([name], st.failures)
            restarts.add_metric([name], st.restarts)
            up.add_metric([name], 1 if st.up else 0)
        return [failures, restarts, up]


def _down(st: TaskState) -> str:
    return f"died {st.failures} time(s), last: {st.last_error}" if st.failures else "not running"


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "returned (a long-running task must not return)"
    text = str(error)
    return f"{error.__class__.__name__}: {text}" if text else error.__class__.__name__


def _where(error: BaseException | None) -> str:
    """``file:line`` where the error was raised (the innermost frame of its traceback)."""
    tb = error.__traceback__ if error is not None else None
    frames = traceback.extract_tb(tb) if tb is not None else []
    if not frames:
        return ""
    f = frames[-1]
    parts = f.filename.replace("\\", "/").split("/")
    short = "/".join(parts[parts.index("kubescope") :]) if "kubescope" in parts else parts[-1]
    return f"{short}:{f.lineno}"


def _log_death(spec: Task, error: BaseException | None, st: TaskState, then: str) -> None:
    logger.error(
        "task died",
        extra=fields(task=spec.name, error=st.last_error, at=_where(error), failures=st.failures, then=then),
    )
    if error is not None and logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "task traceback",
            extra=fields(
                task=spec.name,
                traceback="".join(traceback.format_exception(error)).replace("\n", "\\n"),
            ),
        )
