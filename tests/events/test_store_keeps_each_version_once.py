"""The archive keeps every (uid, resourceVersion) exactly once, in both databases: replays change
nothing, newer versions replace the newest one and move it to the versions, older ones arriving late
are kept as versions; the checkpoint only moves forward and is written with the batch."""

from __future__ import annotations

from msgspec import structs

from kubescope.events.store import EventStore, uid_bytes, uid_text
from tests.events.conftest import record


def test_uids_round_trip() -> None:
    for u in (
        "0b7c6a1e-8f7a-4c1e-9c55-0a1b2c3d4e5f",
        "node-1",
        "x" * 15,
        "",
        "0B7C6A1E-8F7A-4C1E-9C55-0A1B2C3D4E5F",
    ):
        b = uid_bytes(u)
        assert uid_text(b) == u
        assert (len(b) == 16) == (u == "0b7c6a1e-8f7a-4c1e-9c55-0a1b2c3d4e5f")


def test_replay_stores_nothing_twice(store: EventStore) -> None:
    batch = [record(name=f"web-{i}") for i in range(50)]
    r1 = store.write(batch, "s", 10)
    assert len(r1.stored) == 50 and r1.duplicates == 0
    r2 = store.write(batch + batch[:5], "s", 11)
    assert r2.stored == [] and r2.duplicates == 50
    assert store.counts() == (50, 0)
    assert store.checkpoint("s") == 11


def test_versions_of_a_series(store: EventStore) -> None:
    first = record(reason="BackOff", note="Back-off restarting failed container", rv=100)
    uid = first.uid
    v2 = structs.replace(first, rv=105, series_count=2, series_last=first.event_time + 10_000_000)  # type: ignore[operator]
    v3 = structs.replace(
        first, rv=110, series_count=7, series_last=first.event_time + 60_000_000, note="changed"
    )  # type: ignore[operator]
    r = store.write([first, v2], "s", 105)
    assert [x.rv for x in r.stored] == [100, 105]
    assert [n for _, n in r.occurrences] == [1, 1]
    r = store.write([v3], "s", 110)
    assert [n for _, n in r.occurrences] == [5]
    # a late older version (a relist replay racing a watch): kept, adds no occurrence
    v4 = structs.replace(first, rv=103, series_count=2)
    r = store.write([v4, v2], "s", 110)
    assert [x.rv for x in r.stored] == [103] and r.duplicates == 1 and r.occurrences == []
    assert store.counts() == (1, 3)
    with store.backend.read() as cur:
        rows = cur.execute(
            "SELECT v.rv, v.count, v.note FROM versions v JOIN events e ON e.id = v.event ORDER BY v.rv"
        ).fetchall()
        newest = cur.execute(
            "SELECT rv, scount, note FROM events WHERE uid = ?", (uid_bytes(uid),)
        ).fetchone()
    assert [tuple(r) for r in rows] == [
        (100, 1, "Back-off restarting failed container"),
        (103, 2, "Back-off restarting failed container"),
        (105, 2, "Back-off restarting failed container"),
    ]
    assert tuple(newest) == (110, 7, "changed")


def test_checkpoint_only_moves_forward(store: EventStore) -> None:
    store.write([], "a", 50)
    store.write([], "a", 40)
    store.write([], "b", 7)
    assert store.checkpoint("a") == 50 and store.checkpoint("b") == 7 and store.checkpoint("c") is None
