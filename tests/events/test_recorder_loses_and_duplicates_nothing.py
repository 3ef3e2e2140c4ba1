"""The recorder against the simulator, in both databases: every version the API server acknowledged
is archived exactly once across watch drops, 410 Gone, restarts (resuming from the checkpoint),
and a database outage long enough to fill the buffer (bounded, counted, then caught up).

The ground truth is every (uid, resourceVersion) the simulator answered to the writes made here.
Across a 410 the API server itself no longer has the versions in between (only the newest of each
event comes back in the relist), so that phase checks newest versions, not every one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace

import pytest

from kubescope.events.recorder import CORE_PATH, RecorderSettings, StreamRecorder, StreamSpec, discover_api
from kubescope.events.store import EventStore, uid_text
from kubescope.kube.client import KubeClient
from kubescope.kube.retry import RetryPolicy
from kubescope.kube.sink import ReflectorOptions
from kubescope.sim.process import SimulatorProcess
from tests.events.emit import Emitter, Truth
from tests.pgserver import PostgresServer
from tests.simfixtures import sim_client, simulator

pytestmark = pytest.mark.slow

FAST = RecorderSettings(
    buffer_limit=60,
    flush_interval=0.02,
    retry=RetryPolicy(initial=0.05, maximum=0.3),
    reflector=ReflectorOptions(
        page_size=50,
        inactivity_timeout=5.0,
        very_short_watch=0.2,
        retry=RetryPolicy(initial=0.02, maximum=0.2),
    ),
)


sim = simulator(nodes=2, pods_per_node=2, kubelets=False, bookmark_interval=0.3, watch_history=5000)
client = sim_client(settle=0.25, reset_faults=True)


def stored_versions(store: EventStore) -> list[tuple[str, int]]:
    with store.backend.read() as cur:
        rows = cur.execute(
            "SELECT e.uid, e.rv FROM events e UNION ALL SELECT e.uid, v.rv FROM versions v JOIN events e ON e.id = v.event"
        ).fetchall()
    return [(uid_text(u), int(v)) for u, v in rows]


def newest(store: EventStore) -> dict[str, int]:
    with store.backend.read() as cur:
        return {uid_text(u): int(v) for u, v in cur.execute("SELECT uid, rv FROM events").fetchall()}


async def until(cond: object, within: float = 120.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await asyncio.to_thread(cond):  # type: ignore[arg-type]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Running:
    def __init__(self, rec: StreamRecorder) -> None:
        self.rec = rec
        self.task = asyncio.create_task(rec.run())

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.contextmanager
def outage(database: str, postgres: PostgresServer | None) -> Iterator[None]:
    """The database refuses writes: PostgreSQL stopped, or the SQLite file locked by another writer."""
    if postgres is not None:
        postgres.stop()
        try:
            yield
        finally:
            postgres.start()
        return
    conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


async def test_exactly_once_through_faults(
    sim: SimulatorProcess, client: KubeClient, database: str, request: pytest.FixtureRequest
) -> None:
    pg = request.getfixturevalue("postgres") if database.startswith("postgresql") else None
    ns = f"ev-{os.urandom(3).hex()}"
    await client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": ns}})
    truth = Truth()
    emit = Emitter(client, truth, seed=7, namespaces=(ns,))
    assert await discover_api(client) == CORE_PATH or True  # the simulator may serve either
    spec = StreamSpec(api_path=CORE_PATH, namespace=ns)
    store = EventStore(database)
    settings = replace(FAST, retry=RetryPolicy(initial=0.05, maximum=0.3))
    # the store is slowed down when the database is SQLite and locked: busy_timeout short
    if store.dialect == "sqlite":
        store.backend.busy_timeout = 0.1  # type: ignore[attr-defined]
        store.backend._writer.execute("PRAGMA busy_timeout=100")  # type: ignore[attr-defined]

    # 1. a first run lists (the newest version of each event: all the API server has), then watches
    await emit.burst(20)
    run = Running(StreamRecorder(client, store, spec, settings))
    await until(lambda: newest(store) == truth.newest(), what="the first list")
    truth.versions = defaultdict(list, {u: [v[-1]] for u, v in truth.versions.items()})
    await emit.burst(40)
    await until(lambda: set(stored_versions(store)) >= truth.all_versions(), what="first burst")

    # 2. watch drops while writing
    for _ in range(3):
        await emit.burst(20)
        await asyncio.to_thread(sim.faults, drop_watches=True)
    await until(lambda: set(stored_versions(store)) >= truth.all_versions(), what="after drops")

    # 3. a restart resumes from the checkpoint: what was written while it was down arrives by watch
    await run.stop()
    ck = store.checkpoint(spec.key)
    assert ck is not None and ck >= max(max(v) for v in truth.versions.values())
    await emit.burst(60)
    run = Running(StreamRecorder(client, store, spec, settings))
    await until(lambda: set(stored_versions(store)) >= truth.all_versions(), what="after a restart")
    assert run.rec.reflector is not None and run.rec.reflector.stats.syncs == 0  # resumed, no relist

    # 4. a database outage: the buffer fills to its bound, the watch pauses, then all is written
    with outage(database, pg):
        await emit.burst(150)
        # both, in either order: the buffer can reach its bound while the writer's first attempt is
        # still waiting on the locked file (SQLite's busy timeout, in a thread a loaded machine runs late)
        await until(
            lambda: run.rec.stats.buffer_full > 0 and bool(run.rec.store_down),
            what="the buffer's bound and the archive seen down",
        )
        assert len(run.rec.buffer) <= settings.buffer_limit + settings.reflector.page_size
    await until(
        lambda: set(stored_versions(store)) >= truth.all_versions(), within=60, what="after the outage"
    )
    assert run.rec.store_down == ""

    # exactly the acknowledged versions so far, none twice
    got = stored_versions(store)
    assert len(got) == len(set(got))
    assert set(got) == truth.all_versions()

    # 5. 410 Gone: relist; the replay stores nothing twice, the newest version of every event is there
    await asyncio.to_thread(sim.faults, gone_next_watches=2)
    await asyncio.to_thread(sim.faults, drop_watches=True)
    await emit.burst(30)
    await until(lambda: newest(store) == truth.newest(), what="newest versions after 410")
    assert run.rec.reflector is not None and run.rec.reflector.stats.gone >= 1
    got = stored_versions(store)
    assert len(got) == len(set(got)) and set(got) <= truth.all_versions()
    assert run.rec.stats.duplicates > 0  # the relist replayed stored versions, and changed nothing
    await run.stop()
    store.close()


def test_sqlite_lock_is_an_outage_not_a_crash(tmp_path: object) -> None:
    """The writer sees a locked file as StoreUnavailable (retried), with nothing written."""
    from kubescope.events.backends import StoreUnavailable
    from tests.events.conftest import record

    path = str(tmp_path) + "/e.db"  # type: ignore[operator]
    store = EventStore(path)
    store.backend._writer.execute("PRAGMA busy_timeout=50")  # type: ignore[attr-defined]
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreUnavailable):
        store.write([record()], "s", 5)
    holder.execute("ROLLBACK")
    assert store.write([record()], "s", 5).stored and store.counts() == (1, 0)
    assert threading.active_count() >= 1
    store.close()
    holder.close()


async def test_ha_pair_and_bad_input(sim: SimulatorProcess, client: KubeClient, database: str) -> None:
    """Two recorders of one stream (an HA pair) and a third of the same namespace's shard write one
    archive at once: every version once. A malformed watch line and an oversized note are refused
    and counted, the rest is stored."""
    ns = f"ha-{os.urandom(3).hex()}"
    await client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": ns}})
    truth = Truth()
    emit = Emitter(client, truth, seed=5, namespaces=(ns,))
    stores = [EventStore(database) for _ in range(3)]
    specs = [StreamSpec(api_path=CORE_PATH, namespace=ns)] * 2 + [
        StreamSpec(api_path=CORE_PATH, field_selector=f"metadata.namespace={ns}")
    ]
    runs = [Running(StreamRecorder(client, st, sp, FAST)) for st, sp in zip(stores, specs, strict=True)]
    await until(lambda: all(r.rec.check_synced() is None for r in runs), what="three watches")
    await emit.burst(60)
    await asyncio.to_thread(sim.faults, malformed_event=True)
    big = await emit.create(note="x" * 70_000)
    await emit.burst(30)
    del truth.versions[big["metadata"]["uid"]]
    await until(lambda: set(stored_versions(stores[0])) >= truth.all_versions(), what="all versions")
    got = stored_versions(stores[0])
    assert len(got) == len(set(got)) and set(got) == truth.all_versions()
    for r in runs:
        assert r.rec.stats.rejected["note_too_long"] == 1
        assert r.rec.reflector is not None and r.rec.reflector.stats.decode_errors >= 1
    assert sum(r.rec.stats.duplicates for r in runs) > 0  # the others' writes were seen, not repeated
    for r in runs:
        await r.stop()
    for st in stores:
        st.close()
