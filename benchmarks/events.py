"""Events archive benchmark: ingest into SQLite and PostgreSQL, bytes per event, RSS, and the two
query targets on an archive of 10 million events.

    .venv/bin/python benchmarks/events.py [--json OUT] [--events 100000] [--archive 10000000]

What each figure measures (issue 12's targets beside them):

* ``ingest_per_s_sqlite`` / ``ingest_per_s_postgresql``: events.k8s.io/v1 watch events (85% new
  events, 15% series updates, kubelet-like notes, about 5 events per pod) streamed as fast as a local fake API server
  (another process) writes them, through the whole recorder (reflector decode, conversion, batch
  write with the checkpoint), events stored per wall second (floor 5,000/s);
* ``paced_5000_fell_behind_*``: the same stream offered at 5,000 events/s: how often the buffer
  reached its bound (the watch paused), and ``paced_5000_lag_s_*`` how long after the last event
  was offered it was stored (floor: 0 and under a second);
* ``bytes_per_event``: the SQLite archive's pages in use per event (uid) after the ingest above,
  indexes and older versions included (floor at most 400); ``bytes_per_event_10m`` the same for
  the generated archive;
* ``object_history_s``: one pod's whole history (about 50 events over 30 days) from the 10 million
  event archive, median of 50 pods (floor 0.020 s);
* ``namespace_day_s``: one namespace's last day (about 1,700 events), median of 10 namespaces
  (floor 0.200 s);
* ``rss_mib``: peak resident memory of this process, which ran the recorder and the queries (the
  fake API server and the archive generator are other processes) (floor at most 100).

The 10 million event archive is generated inside SQLite by one SQL statement per table (30 days,
200 namespaces, 200,000 pods, the real schema and encodings), then indexed: about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FLOORS = {
    "ingest_per_s_sqlite": (">=", 5000),
    "ingest_per_s_postgresql": (">=", 5000),
    "paced_5000_fell_behind_sqlite": ("<=", 0),
    "paced_5000_fell_behind_postgresql": ("<=", 0),
    "paced_5000_lag_s_sqlite": ("<=", 1.0),
    "paced_5000_lag_s_postgresql": ("<=", 1.0),
    "bytes_per_event": ("<=", 400),
    "bytes_per_event_10m": ("<=", 400),
    "object_history_s": ("<=", 0.020),
    "namespace_day_s": ("<=", 0.200),
    "rss_mib": ("<=", 100),
}
DAY_US = 86400 * 1_000_000


# -- the fake API server (a child process) ----------------------------------------------------------


def _stream(n: int) -> list[bytes]:
    rng = random.Random(1)
    reasons = [
        ("Scheduled", "Normal", "default-scheduler", "Successfully assigned {ns}/{pod} to node-{node}"),
        ("Pulling", "Normal", "kubelet", 'Pulling image "registry.example/app-{app}:v1.{v}"'),
        (
            "Pulled",
            "Normal",
            "kubelet",
            'Successfully pulled image "registry.example/app-{app}:v1.{v}" in 1.{v}s',
        ),
        ("Created", "Normal", "kubelet", "Created container app"),
        ("Started", "Normal", "kubelet", "Started container app"),
        (
            "BackOff",
            "Warning",
            "kubelet",
            "Back-off restarting failed container app in pod {pod}_{ns}({uid})",
        ),
        ("Unhealthy", "Warning", "kubelet", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
        ("Killing", "Normal", "kubelet", "Stopping container app"),
    ]
    t0 = time.time() - 3600
    lines = []
    live: list[dict[str, object]] = []
    pods: list[tuple[str, str, str]] = []
    for i in range(n):
        rv = 100 + i
        ts = t0 + i * 0.01
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"
        if live and rng.random() < 0.15:
            ev = rng.choice(live)
            series = ev.get("series") or {"count": 1}
            ev["series"] = {"count": int(series["count"]) + 1, "lastObservedTime": iso}  # type: ignore[index]
            ev["metadata"]["resourceVersion"] = str(rv)  # type: ignore[index]
            lines.append(json.dumps({"type": "MODIFIED", "object": ev}).encode())
            continue
        if not pods or rng.random() < 0.2:  # a new pod: about 5 events each, as pods start
            pods.append(
                (
                    f"ns-{rng.randrange(200)}",
                    f"app-{rng.randrange(500)}-{uuid.uuid4().hex[:5]}",
                    str(uuid.uuid4()),
                )
            )
            if len(pods) > 3000:
                pods.pop(0)
        ns, pod, puid = pods[-1] if rng.random() < 0.5 else rng.choice(pods)
        reason, typ, ctrl, note = rng.choice(reasons)
        ev = {
            "kind": "Event", "apiVersion": "events.k8s.io/v1",
            "metadata": {"name": f"{pod}.{uuid.uuid4().hex[:16]}", "namespace": ns, "uid": str(uuid.uuid4()),
                         "resourceVersion": str(rv), "creationTimestamp": iso[:19] + "Z"},
            "eventTime": iso, "reportingController": ctrl, "reportingInstance": f"node-{rng.randrange(1000)}",
            "action": reason, "reason": reason,
            "regarding": {"kind": "Pod", "namespace": ns, "name": pod, "uid": puid, "apiVersion": "v1",
                          "resourceVersion": str(rng.randrange(10**7)), "fieldPath": "spec.containers{app}"},
            "note": note.format(ns=ns, pod=pod, node=rng.randrange(1000), app=rng.randrange(50), v=rng.randrange(30), uid=puid),
            "type": typ, "deprecatedSource": {}, "deprecatedFirstTimestamp": None, "deprecatedLastTimestamp": None,
        }  # fmt: skip
        live.append(ev)
        if len(live) > 2000:
            live.pop(0)
        lines.append(json.dumps({"type": "ADDED", "object": ev}).encode())
    return lines


def serve_fake(n: int, rate: float, port_file: str) -> None:
    """The fake API server: 422 for a watch-list, an empty list, then the stream at ``rate`` (0: as
    fast as the client reads)."""
    from aiohttp import web

    lines = _stream(n)

    async def resources(request: web.Request) -> web.Response:
        return web.json_response({"kind": "APIResourceList", "groupVersion": "events.k8s.io/v1",
                                  "resources": [{"name": "events", "namespaced": True, "kind": "Event"}]})  # fmt: skip

    async def events(request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("watch") != "true":
            return web.json_response(
                {"kind": "EventList", "metadata": {"resourceVersion": "99"}, "items": []}
            )
        if q.get("sendInitialEvents") == "true":
            return web.json_response({"kind": "Status", "code": 422, "reason": "Invalid"}, status=422)
        start = int(q.get("resourceVersion", "99")) - 99
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        t0 = time.monotonic()
        chunk = 100
        for i in range(start, len(lines), chunk):
            await resp.write(b"\n".join(lines[i : i + chunk]) + b"\n")
            if rate:
                delay = t0 + (i + chunk - start) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        await asyncio.sleep(3600)
        return resp

    app = web.Application()
    app.add_routes(
        [web.get("/apis/events.k8s.io/v1", resources), web.get("/apis/events.k8s.io/v1/events", events)]
    )

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        Path(port_file).write_text(str(port))  # noqa: ASYNC240 (once, at start)
        await asyncio.sleep(10**6)

    asyncio.run(main())


class Fake:
    def __init__(self, n: int, rate: float, d: Path) -> None:
        self.port_file = d / f"port-{uuid.uuid4().hex}"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-fake", str(n), str(rate), str(self.port_file)]
        )
        while not self.port_file.exists() or not self.port_file.read_text():
            if self.proc.poll() is not None:
                raise RuntimeError("the fake API server exited")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port_file.read_text()}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


# -- ingest ------------------------------------------------------------------------------------------


async def _record(url: str, database: str, n: int) -> tuple[float, int, float]:
    """(events stored per second, buffer-full count, seconds from the last event offered to stored)."""
    from kubescope.events.recorder import RecorderSettings, StreamRecorder, StreamSpec
    from kubescope.events.store import EventStore
    from kubescope.kube.client import KubeClient
    from kubescope.kube.config import Connection

    client = KubeClient.from_connection(Connection(server=url))
    store = EventStore(database)
    rec = StreamRecorder(client, store, StreamSpec(), RecorderSettings())
    t0 = time.monotonic()
    task = asyncio.create_task(rec.run())
    while rec.stats.stored + rec.stats.duplicates < n:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    wall = time.monotonic() - t0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await client.close()
    store.close()
    return n / wall, rec.stats.buffer_full, wall


def ingest(database: str, n: int, d: Path, rate: float = 0) -> tuple[float, int, float]:
    fake = Fake(n, rate, d)
    try:
        return asyncio.run(_record(fake.url, database, n))
    finally:
        fake.stop()


# -- the 10 million event archive (generated in a child process) ----------------------------------

GENERATE = """
import sqlite3, sys, time
from kubescope.events.store import EventStore
path, n, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
EventStore(path).close()   # the schema, as the recorder creates it
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=OFF"); db.execute("PRAGMA synchronous=OFF"); db.execute("PRAGMA cache_size=-200000")
db.execute("BEGIN")
for ix in ("events_obj", "events_ns", "events_t", "objects_key", "objects_uid"):
    db.execute(f"DROP INDEX {ix}")
db.execute("CREATE TEMP TABLE words (i INTEGER PRIMARY KEY, s TEXT)")
words = [f"ns-{i}" for i in range(200)] + ["Pod", "v1", "Normal", "Warning", "kubelet", "default-scheduler", "spec.containers{app}",
    "Scheduled", "Pulling", "Pulled", "Created", "Started", "BackOff", "Unhealthy", "Killing"] + [f"node-{i}" for i in range(1000)]
db.executemany("INSERT INTO strings (s) VALUES (?)", [(w,) for w in words])
sid = {s: i for i, s in db.execute("SELECT id, s FROM strings")}
pods, span = 200_000, 30 * 86400 * 1_000_000
db.execute("INSERT INTO objects (id, ns, name, kind, uid, api) "
           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
           "SELECT x, ? + (x - 1) % 200, 'app-' || ((x - 1) / 200) || '-' || lower(hex(randomblob(3))), ?, randomblob(16), ? FROM c",
           (pods, sid["ns-0"], sid["Pod"], sid["v1"]))
reasons = ["Scheduled", "Pulling", "Pulled", "Created", "Started", "BackOff", "Unhealthy", "Killing"]
r0 = sid["Scheduled"]
fpath = sid["spec.containers{app}"]
db.execute(f'''INSERT INTO events (id, uid, rv, ns, name, obj, t, reason, type, action, ctrl, inst, note, etime, scount, slast, created, obj_rv, fpath)
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}),
e(x, o, r, t) AS (SELECT x, (x * 7919) % {pods} + 1, (x * 31) % 8, {now * 1_000_000 - span} + x * ({span} / {n}) FROM c)
SELECT x, randomblob(16), 1000 + x, {sid["ns-0"]} + (o - 1) % 200, '.' || lower(hex(randomblob(8))), o, t,
  {r0} + r, CASE WHEN r IN (5, 6) THEN {sid["Warning"]} ELSE {sid["Normal"]} END, {r0} + r,
  CASE WHEN r = 0 THEN {sid["default-scheduler"]} ELSE {sid["kubelet"]} END, {sid["node-0"]} + x % 1000,
  CASE r WHEN 0 THEN 'Successfully assigned ns/app-' || (o / 200) || ' to node-' || (x % 1000)
         WHEN 1 THEN 'Pulling image "registry.example/app-' || (o % 50) || ':v1.' || (x % 30) || '"'
         WHEN 2 THEN 'Successfully pulled image "registry.example/app-' || (o % 50) || ':v1.' || (x % 30) || '" in 1.2s'
         WHEN 3 THEN 'Created container app' WHEN 4 THEN 'Started container app'
         WHEN 5 THEN 'Back-off restarting failed container app in pod app-' || (o / 200)
         WHEN 6 THEN 'Readiness probe failed: HTTP probe failed with statuscode: 503' ELSE 'Stopping container app' END,
  0, CASE WHEN r IN (5, 6) THEN 2 + x % 20 END, CASE WHEN r IN (5, 6) THEN 1 END, 0,
  CAST(x * 13 % 10000000 AS TEXT), {fpath}
FROM e''')
db.execute("COMMIT")
for stmt in ("CREATE UNIQUE INDEX objects_key ON objects (name, ns, kind, uid)", "CREATE INDEX objects_uid ON objects (uid)",
             "CREATE INDEX events_obj ON events (obj, t)", "CREATE INDEX events_ns ON events (ns, t)", "CREATE INDEX events_t ON events (t)"):
    db.execute(stmt)
db.execute("PRAGMA journal_mode=WAL")
db.close()
"""


def generate(path: Path, n: int, now: int) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", GENERATE, str(path), str(n), str(now)], check=True)
    return time.monotonic() - t0


def queries(path: Path, now: int) -> tuple[float, float, float]:
    from kubescope.apiserver.selectors import FieldTerm
    from kubescope.events import query
    from kubescope.events.selection import Query
    from kubescope.events.store import EventStore

    store = EventStore(str(path), read_only=True)
    rng = random.Random(5)
    with store.backend.read() as cur:
        names = [
            r[0]
            for r in cur.execute(
                "SELECT name FROM objects WHERE ns = (SELECT id FROM strings WHERE s = 'ns-7') LIMIT 500"
            ).fetchall()
        ]
    hist = []
    sizes = []
    for name in rng.sample(names, 50):
        q = Query("ns-7", (FieldTerm("regarding.kind", "Pod", True), FieldTerm("regarding.name", name, True)))
        t0 = time.perf_counter()
        got = query.search(store, q)
        hist.append(time.perf_counter() - t0)
        sizes.append(len(got))
    day = []
    for i in range(10):
        q = Query(f"ns-{i * 17}", since=now * 1_000_000 - DAY_US)
        t0 = time.perf_counter()
        got = query.search(store, q)
        day.append(time.perf_counter() - t0)
    events, _ = store.counts()
    size = store.size_bytes()
    store.close()
    print(
        f"  object history: {statistics.median(sizes):.0f} events per pod; namespace day: {len(got)} events"
    )
    return statistics.median(hist), statistics.median(day), size / events


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-fake":
        serve_fake(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    ap.add_argument("--json", default="")
    ap.add_argument("--events", type=int, default=100_000, help="events streamed in each ingest run")
    ap.add_argument("--archive", type=int, default=10_000_000, help="events in the generated archive")
    ap.add_argument("--no-postgresql", action="store_true", help="skip PostgreSQL (not installed)")
    args = ap.parse_args()
    from kubescope.memory import fix_mmap_threshold

    fix_mmap_threshold()  # as `kubescope events` does at start
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        db = d / "ingest.db"
        print(f"ingest: {args.events} events into SQLite", flush=True)
        figures["ingest_per_s_sqlite"], _, _ = ingest(str(db), args.events, d)
        from kubescope.events.store import EventStore

        store = EventStore(str(db))
        events, versions = store.counts()
        figures["bytes_per_event"] = store.size_bytes() / events
        store.close()
        print(f"  {events} events, {versions} older versions", flush=True)
        paced = min(args.events, 50_000)
        _, figures["paced_5000_fell_behind_sqlite"], wall = ingest(str(d / "paced.db"), paced, d, rate=5000)
        figures["paced_5000_lag_s_sqlite"] = max(0.0, wall - paced / 5000)
        if not args.no_postgresql:
            from tests.pgserver import PostgresServer

            with PostgresServer() as pg:
                print(f"ingest: {args.events} events into PostgreSQL", flush=True)
                figures["ingest_per_s_postgresql"], _, _ = ingest(pg.dsn, args.events, d)
                pg.reset()
                _, figures["paced_5000_fell_behind_postgresql"], wall = ingest(pg.dsn, paced, d, rate=5000)
                figures["paced_5000_lag_s_postgresql"] = max(0.0, wall - paced / 5000)
        print(f"  so far: {json.dumps(figures)}", flush=True)
        now = int(time.time())
        big = d / "archive.db"
        print(f"generating an archive of {args.archive} events", flush=True)
        figures["archive_generate_s"] = generate(big, args.archive, now)
        print("querying it", flush=True)
        figures["object_history_s"], figures["namespace_day_s"], figures["bytes_per_event_10m"] = queries(
            big, now
        )
    figures["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'figure':36} {'value':>14}   target")
    for k, v in figures.items():
        op, floor = FLOORS.get(k, ("", None))
        ok = "" if floor is None else ("ok" if (v >= floor if op == ">=" else v <= floor) else "MISSED")
        target = "" if floor is None else f"{op} {floor:g}  {ok}"
        print(f"{k:36} {v:14.4g}   {target}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
