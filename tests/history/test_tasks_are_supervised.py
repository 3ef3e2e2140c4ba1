"""Every background task of the history server is supervised: killed, it makes /readyz fail naming
it; restarted, /readyz recovers (the watches list again)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kubescope.history.app import HistoryServer, ServeSettings, Settings
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.sim.process import SimulatorProcess
from tests.simfixtures import simulator

sim = simulator(nodes=1, pods_per_node=2, seed=4, kubelets=False)


@pytest.fixture
async def server(sim: SimulatorProcess, tmp_path: Path) -> AsyncIterator[HistoryServer]:
    client = await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig))
    settings = Settings(
        db=str(tmp_path / "history.db"),
        serve=ServeSettings(bind_address="127.0.0.1", secure_port=0, cert_dir=str(tmp_path / "certs")),
    )
    srv = HistoryServer(settings, client)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()
        await client.close()
        gc.collect()


async def readyz(srv: HistoryServer, path: str = "/readyz") -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(f"https://127.0.0.1:{srv.port}{path}", ssl=False) as r:
        return r.status, await r.text()


async def eventually(cond: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_each_task_killed_fails_readiness_then_restarts(server: HistoryServer) -> None:
    async def ready() -> bool:
        return (await readyz(server))[0] == 200

    await eventually(ready, "watches synced")
    sup = server.server.supervisor

    async def settled() -> bool:
        return "announce-ready" not in sup.states

    await eventually(settled, "ready announced")
    names = sorted(sup.states)
    assert names == [
        "recording-loop",
        "reflector/jobs",
        "reflector/pods",
        "reflector/replicasets",
        "tls-reload",
    ]
    for name in names:
        lists = server._reflectors[0].stats.syncs
        sup.kill(name, RuntimeError(f"{name} crashed"), hold=True)
        code, body = await readyz(server, "/readyz?verbose")
        assert code == 500 and f"[-]task/{name} failed: reason withheld\n" in body, (name, body)
        sup.restart_now(name)
        await eventually(ready, f"{name} restarted")
        if name == "reflector/pods":

            async def relisted(before: int = lists) -> bool:
                return server._reflectors[0].stats.syncs > before

            await eventually(relisted, "the pods are listed again")
