"""``kubescope events`` killed with SIGKILL while events stream in, three times, and started again:
every version the API server acknowledged is archived exactly once, in both databases (the
checkpoint is written in the same transaction as the events it covers)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from kubescope.events.store import EventStore
from kubescope.kube.client import KubeClient
from kubescope.sim.process import SimulatorProcess
from kubescope.sim.tied import popen_tied
from tests.events.emit import Emitter, Truth
from tests.events.test_recorder_loses_and_duplicates_nothing import newest, stored_versions, until
from tests.simfixtures import CLEAN_ENV, sim_client, simulator

pytestmark = pytest.mark.slow

sim = simulator(nodes=2, pods_per_node=2, kubelets=False, bookmark_interval=0.3, watch_history=20000)
client = sim_client(settle=0.25)


def start(sim: SimulatorProcess, database: str, ns: str, tmp: Path) -> subprocess.Popen[bytes]:
    with open(tmp / "events.log", "ab") as log:  # the child keeps its own descriptor
        return popen_tied(
            [sys.executable, "-m", "kubescope", "events", f"--kubeconfig={sim.kubeconfig}", f"--database={database}",
             f"--namespace={ns}", "--events-api=v1", "--bind-address=127.0.0.1", "--secure-port=0",
             f"--cert-dir={tmp / 'certs'}", "--log-level=info"],
            stdout=log, stderr=log, env=CLEAN_ENV,
        )  # fmt: skip


async def test_kill_9_three_times(
    sim: SimulatorProcess, client: KubeClient, database: str, tmp_path: Path
) -> None:
    ns = f"k9-{os.urandom(3).hex()}"
    await client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": ns}})
    truth = Truth()
    emit = Emitter(client, truth, seed=11, namespaces=(ns,))
    store = EventStore(database)
    proc = start(sim, database, ns, tmp_path)
    try:
        await emit.burst(10)
        await until(lambda: newest(store) == truth.newest(), within=120, what="the first list")
        truth.versions = defaultdict(list, {u: [v[-1]] for u, v in truth.versions.items()})
        for _ in range(3):
            writing = asyncio.create_task(emit.burst(80))
            await until(lambda: len(stored_versions(store)) > sum(map(len, truth.versions.values())) - 40,
                        within=120, what="progress before the kill")  # fmt: skip
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            await writing
            proc = start(sim, database, ns, tmp_path)
        await emit.burst(20)
        await until(
            lambda: set(stored_versions(store)) >= truth.all_versions(), within=120, what="all versions"
        )
        got = stored_versions(store)
        assert len(got) == len(set(got))
        assert set(got) == truth.all_versions(), (tmp_path / "events.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        store.close()
