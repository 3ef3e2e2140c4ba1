"""The supervisor: a task that dies is restarted with capped exponential backoff and named by
/readyz while down; a FATAL one fails /livez and /readyz for good; every death is one log line and
a counted self metric; tasks come and go at run time."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from kubescope import web
from kubescope.web.supervisor import Supervisor
from tests.web.helpers import fetch, running, url


class Loop:
    """A long-running task that counts its starts and can be told to crash."""

    def __init__(self) -> None:
        self.starts = 0
        self.crash = asyncio.Event()
        self.started = asyncio.Event()

    async def run(self) -> None:
        self.starts += 1
        self.started.set()
        await self.crash.wait()
        self.crash.clear()
        raise RuntimeError("disk on fire")


def probe_server(*tasks: web.Task) -> web.Server:
    return web.Server(
        "t",
        listeners=[web.Listener("main", host="127.0.0.1", health=("livez", "readyz"), metrics=True)],
        tasks=tasks,
    )


async def until(cond: object, what: str) -> None:
    deadline = time.monotonic() + 60  # not a timing check: how long a loaded machine may take
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.005)


async def test_a_dead_task_is_named_by_readyz_then_restarted(caplog: pytest.LogCaptureFixture) -> None:
    loop = Loop()
    srv = probe_server(web.Task("worker", loop.run))
    async with running(srv):
        await until(lambda: loop.starts == 1, "started")
        assert (await fetch(url(srv, "main", "/readyz")))[0] == 200
        caplog.set_level(logging.INFO, "kubescope")
        srv.supervisor.kill("worker", RuntimeError("disk on fire"), hold=True)
        await until(lambda: not srv.supervisor.states["worker"].up, "down")
        code, _, body = await fetch(url(srv, "main", "/readyz?verbose"))
        assert code == 500 and "[-]task/worker failed: reason withheld\n" in body.decode()
        code, _, body = await fetch(url(srv, "main", "/readyz/task/worker"))
        assert (code, body) == (
            500,
            b"internal server error: died 1 time(s), last: RuntimeError: disk on fire\n",
        )
        assert (await fetch(url(srv, "main", "/livez")))[0] == 200  # restartable: liveness holds
        deaths = [r for r in caplog.records if r.getMessage() == "task died"]
        assert len(deaths) == 1 and deaths[0].fields["task"] == "worker"  # type: ignore[attr-defined]
        assert deaths[0].fields["error"] == "RuntimeError: disk on fire"  # type: ignore[attr-defined]
        srv.supervisor.restart_now("worker")
        await until(lambda: loop.starts == 2, "restarted")
        assert (await fetch(url(srv, "main", "/readyz")))[0] == 200
        _, _, text = await fetch(url(srv, "main", "/metrics"))
        assert 'kubescope_task_failures_total{task="worker"} 1\n' in text.decode()
        assert 'kubescope_task_restarts_total{task="worker"} 1\n' in text.decode()
        assert 'kubescope_task_up{task="worker"} 1\n' in text.decode()


async def test_restarts_back_off_exponentially_up_to_a_cap() -> None:
    loop = Loop()
    sup = Supervisor()
    sup.start(web.Task("worker", loop.run, initial_backoff=0.01, max_backoff=0.04))
    waits = []
    try:
        for n in range(1, 6):
            await until(lambda n=n: loop.starts == n, f"start {n}")  # type: ignore[misc]
            t0 = asyncio.get_running_loop().time()
            loop.crash.set()
            await until(lambda n=n: loop.starts == n + 1, f"restart {n}")  # type: ignore[misc]
            waits.append(asyncio.get_running_loop().time() - t0)
    finally:
        await sup.stop_all()
    # 0.01, 0.02, 0.04, then capped at 0.04: each wait at least its backoff
    for got, least in zip(waits, (0.01, 0.02, 0.04, 0.04, 0.04), strict=True):
        assert got >= least * 0.9, waits
    assert sup.states == {}


async def test_a_fatal_task_fails_liveness_and_stays_dead() -> None:
    loop = Loop()
    srv = probe_server(web.Task("migrator", loop.run, policy=web.FATAL))
    async with running(srv):
        await until(lambda: loop.starts == 1, "started")
        loop.crash.set()
        await until(lambda: srv.supervisor.states["migrator"].failed_for_good, "dead")
        code, _, body = await fetch(url(srv, "main", "/livez?verbose"))
        assert code == 500 and "[-]task/migrator failed" in body.decode()
        assert (await fetch(url(srv, "main", "/readyz")))[0] == 500
        await asyncio.sleep(0.05)
        assert loop.starts == 1


async def test_returning_is_a_death_unless_oneshot() -> None:
    done = []

    async def once() -> None:
        done.append(1)

    sup = Supervisor()
    sup.start(web.Task("report", once, oneshot=True))
    sup.start(web.Task("loop", once, initial_backoff=3600))
    try:
        await until(lambda: "report" not in sup.states, "a oneshot task is forgotten when done")
        await until(lambda: sup.states["loop"].failures == 1, "a returning loop is a death")
        assert dict(sup.readiness()) == {
            "task/loop": "died 1 time(s), last: returned (a long-running task must not return)"
        }
    finally:
        await sup.stop_all()


async def test_tasks_are_added_and_stopped_at_run_time() -> None:
    loop = Loop()
    sup = Supervisor()
    sup.start(web.Task("a", loop.run))
    await until(lambda: loop.starts == 1, "started")
    with pytest.raises(ValueError, match="already running"):
        sup.start(web.Task("a", loop.run))
    await sup.stop("a")
    assert sup.states == {} and list(sup.readiness()) == []
    # cancelling a task behind the supervisor's back is a death, not a stop
    sup.start(web.Task("b", loop.run, initial_backoff=3600))
    await until(lambda: loop.starts == 2, "started again")
    sup._inner["b"].cancel()
    await until(lambda: sup.states["b"].failures == 1, "counted")
    await sup.stop_all()
