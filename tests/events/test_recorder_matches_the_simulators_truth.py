"""The recorder against the simulator's own record of every event its components emitted (the
ground truth, ``/_sim/events``), in both databases: the control plane running, a crash-loop storm
(every kubelet's BackOff, Created, Started at once; the spam filter holding writes back and the
next one carrying the count), Events expiring by their TTL and written again, through watch drops,
a restart resuming from the checkpoint and a database outage, over events.k8s.io/v1.

client-go's recorders count an Event's occurrences: the k-th emission settled on an Event (its
namespace and name) has count k (a legacy Event's ``deprecatedCount``; a series' count, 1 before
it has one). So every emission the simulator wrote is exactly one archived version: the version
of that Event with occurrence count k. None may be missing, none archived twice (two versions of
one Event with one count), none invented (a count beyond the Event's emissions). A series also
writes its count at its heartbeat and end, which the truth does not list as emissions: those
versions only have to be within the count."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from kubescope.events.recorder import V1_PATH, StreamRecorder, StreamSpec, discover_api
from kubescope.events.store import EventStore
from kubescope.kube.client import KubeClient
from kubescope.sim.process import SimulatorProcess
from kubescope.sim.tied import popen_tied
from tests.events.test_recorder_loses_and_duplicates_nothing import FAST, Running, outage, until
from tests.pgserver import PostgresServer
from tests.simfixtures import CLEAN_ENV, sim_client, simulator

pytestmark = pytest.mark.slow

WRITTEN = ("created", "updated", "aggregated")
"""The outcomes of an emission its recorder wrote (``counted``: kept in a series; ``dropped``: the
spam filter; both carried by a later write)."""
Key = tuple[str, str]


sim = simulator(
    nodes=4, pods_per_node=10, churn_rate=4, bookmark_interval=0.3, watch_history=50_000,
    extra_args=["--controllers", "--churn-mix=lively", "--event-ttl=20s"],
)  # fmt: skip
client = sim_client(settle=0.25, reset_faults=True)


def truth(sim: SimulatorProcess, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """The emissions after ``since`` (a sequence number), oldest first, paged; and the total emitted."""
    items: list[dict[str, Any]] = []
    total = 0
    while True:
        page = sim.request("POST", "/_sim/events", {"since": since, "limit": 1000})
        total = page["total"]
        if not page["items"]:
            return total, items
        items += page["items"]
        since = page["last"]


def occurrences(
    emissions: list[dict[str, Any]], start: int = 0
) -> tuple[dict[Key, set[int]], dict[Key, int]]:
    """Per Event: the occurrence counts its recorder wrote after emission ``start``, and how many
    emissions it had in all."""
    written: dict[Key, set[int]] = defaultdict(set)
    seen: dict[Key, int] = defaultdict(int)
    for e in emissions:
        key = (e["event"]["namespace"], e["event"]["name"])
        seen[key] += 1
        if e["outcome"] in WRITTEN and e["seq"] > start:
            written[key].add(seen[key])
    return written, seen


ARCHIVED = """
SELECT s.s, e.name, o.name, COALESCE(e.scount, e.dcount, 1), e.uid, e.rv
  FROM events e JOIN objects o ON o.id = e.obj JOIN strings s ON s.id = e.ns
UNION ALL
SELECT s.s, e.name, o.name, v.count, e.uid, v.rv
  FROM versions v JOIN events e ON e.id = v.event JOIN objects o ON o.id = e.obj JOIN strings s ON s.id = e.ns
"""


def archived(store: EventStore) -> dict[Key, list[int]]:
    """Per Event (namespace, name): the occurrence count of each archived version."""
    with store.backend.read() as cur:
        rows = cur.execute(ARCHIVED).fetchall()
    out: dict[Key, list[int]] = defaultdict(list)
    for ns, name, obj, count, _, _ in rows:
        out[(ns, obj + name if name.startswith(".") else name)].append(int(count))
    return out


def missing(store: EventStore, written: dict[Key, set[int]]) -> list[tuple[Key, int]]:
    got = archived(store)
    return [(k, c) for k, cs in written.items() for c in sorted(cs) if c not in got.get(k, ())]


async def storm(sim: SimulatorProcess, start: int) -> None:
    """Six running pods crash-loop from now on: wait for their kubelets' first BackOff."""
    await asyncio.to_thread(sim.request, "POST", "/_sim/events", {"storm": 6})

    def backing_off() -> bool:
        page = sim.request("POST", "/_sim/events", {"since": start, "reason": "BackOff", "limit": 1})
        return bool(page["items"])

    await until(backing_off, within=90, what="the storm's first BackOff")


async def calm(sim: SimulatorProcess, start: int) -> None:
    """Once counts grow (a restarted container's Created and Started again), the storm ends."""

    def repeated() -> bool:
        return any(e["outcome"] == "updated" for e in truth(sim, start)[1])

    await until(repeated, within=120, what="repeated events")
    await asyncio.to_thread(sim.request, "POST", "/_sim/events", {"storm": 0})


async def archived_once(sim: SimulatorProcess, store: EventStore, start: int) -> None:
    """Every emission after ``start`` its recorder wrote is archived as the version of its Event with
    its occurrence count; no Event has a count archived twice or beyond its emissions."""
    _, before = await asyncio.to_thread(truth, sim)
    written, _ = occurrences(before, start)
    reasons = {e["reason"] for e in before if e["seq"] > start}
    assert "BackOff" in reasons, reasons  # the storm, from the kubelets
    assert sum(len(c) for c in written.values()) >= 5
    await until(lambda: not missing(store, written), within=60, what="every written emission archived")
    got = archived(store)
    total, after = await asyncio.to_thread(truth, sim)
    assert total == len(after)  # nothing aged out of the truth
    _, seen = occurrences(after)
    for key, counts in got.items():
        assert len(counts) == len(set(counts)), f"{key}: a version archived twice: {sorted(counts)}"
        if key in seen:  # (the generated cluster's own Events are no component's emissions)
            assert max(counts) <= seen[key], f"{key}: counts {sorted(counts)} beyond {seen[key]} emissions"
    for key, wrote in written.items():
        assert wrote <= set(got[key]), f"{key}: written {sorted(wrote)}, archived {sorted(got[key])}"


async def test_every_emission_archived_once(
    sim: SimulatorProcess, client: KubeClient, database: str, request: pytest.FixtureRequest
) -> None:
    pg: PostgresServer | None = (
        request.getfixturevalue("postgres") if database.startswith("postgresql") else None
    )
    assert await discover_api(client) == V1_PATH  # the simulator serves events.k8s.io/v1
    spec = StreamSpec(api_path=V1_PATH)
    store = EventStore(database)
    if store.dialect == "sqlite":
        store.backend._writer.execute("PRAGMA busy_timeout=100")  # type: ignore[attr-defined]
    run = Running(StreamRecorder(client, store, spec, FAST))
    await until(lambda: run.rec.check_synced() is None, what="the first list")
    # what was emitted before is listed (each Event's newest version): the check starts after it
    start = (await asyncio.to_thread(sim.request, "GET", "/_sim/events"))["last"]
    await storm(sim, start)

    # watch drops while the storm goes on
    for _ in range(3):
        await asyncio.to_thread(sim.faults, drop_watches=True)
        await asyncio.sleep(1.5)

    # a restart resumes from the checkpoint: what was emitted meanwhile arrives by watch
    await run.stop()
    await asyncio.sleep(2)
    run = Running(StreamRecorder(client, store, spec, FAST))
    await asyncio.sleep(2)
    assert run.rec.reflector is not None and run.rec.reflector.stats.syncs == 0  # resumed, no relist

    # a database outage: buffered (bounded), then caught up
    with outage(database, pg):
        await asyncio.sleep(3)
    await calm(sim, start)

    await archived_once(sim, store, start)
    expired = await asyncio.to_thread(sim.request, "GET", "/_sim/churn")
    assert expired["counts"].get("event-ttl", 0) > 0  # some Events expired (and were archived before)
    await run.stop()
    store.close()


def start_recorder(sim: SimulatorProcess, database: str, tmp: Path) -> subprocess.Popen[bytes]:
    with open(tmp / "events.log", "ab") as log:  # the child keeps its own descriptor
        return popen_tied(
            [sys.executable, "-m", "kubescope", "events", f"--kubeconfig={sim.kubeconfig}", f"--database={database}",
             "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={tmp / 'certs'}", "--log-level=info"],
            stdout=log, stderr=log, env=CLEAN_ENV,
        )  # fmt: skip


async def test_kill_9_against_the_truth(sim: SimulatorProcess, database: str, tmp_path: Path) -> None:
    """``kubescope events`` (every namespace, events.k8s.io/v1 found by discovery) killed with
    SIGKILL three times during a storm and started again: every written emission archived once."""
    store = EventStore(database)
    proc = start_recorder(sim, database, tmp_path)
    try:
        await until(store.checkpoints, within=120, what="the first checkpoint")
        start = (await asyncio.to_thread(sim.request, "GET", "/_sim/events"))["last"]
        await storm(sim, start)
        for _ in range(3):
            await asyncio.sleep(2)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            await asyncio.sleep(1)
            proc = start_recorder(sim, database, tmp_path)
        await calm(sim, start)
        await archived_once(sim, store, start)
        assert list(store.checkpoints()) == [V1_PATH + "/events"], store.checkpoints()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        store.close()
