"""An events.k8s.io/v1 Event survives the archive field for field (as the merged view serves it);
core/v1 events are converted as kube-apiserver converts them; events that cannot be archived whole
are refused with a message naming them, counted, and leave nothing behind while the rest of the
batch is stored; retention by age and size deletes the oldest events."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest

from kubescope.events import query, retention
from kubescope.events.model import MAX_NOTE_BYTES, BadEvent, CoreEvent, V1Event, check, to_record
from kubescope.events.recorder import RecorderStats, convert
from kubescope.events.render import event_json
from kubescope.events.selection import Query
from kubescope.events.store import EventStore
from tests.events.conftest import T0, record, v1_event

FULL_V1: dict[str, Any] = {
    "kind": "Event",
    "apiVersion": "events.k8s.io/v1",
    "metadata": {
        "name": "web-0.17a8b3c4d5e6f789", "namespace": "shop", "uid": "0b7c6a1e-8f7a-4c1e-9c55-0a1b2c3d4e5f",
        "resourceVersion": "4242", "creationTimestamp": "2026-12-06T10:00:00Z",
        "labels": {"team": "checkout"}, "annotations": {"note": "x"},
    },
    "eventTime": "2026-12-06T10:00:00.123456Z",
    "series": {"count": 7, "lastObservedTime": "2026-12-06T10:30:00.654321Z"},
    "reportingController": "kubernetes.io/kubelet", "reportingInstance": "kubelet-node-7",
    "action": "Restarting", "reason": "BackOff",
    "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-0", "uid": "9d1c5c2e-1f7a-4c1e-9c55-0a1b2c3d4e5f",
                  "apiVersion": "v1", "resourceVersion": "777", "fieldPath": "spec.containers{web}"},
    "related": {"kind": "Node", "name": "node-7", "uid": "node-7", "apiVersion": "v1"},
    "note": "Back-off restarting failed container web in pod web-0_shop",
    "type": "Warning",
    "deprecatedSource": {"component": "kubelet", "host": "node-7"},
    "deprecatedFirstTimestamp": "2026-12-06T09:59:00Z",
    "deprecatedLastTimestamp": "2026-12-06T10:30:00Z",
    "deprecatedCount": 7,
}  # fmt: skip


def _served(ev: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(ev)
    out["apiVersion"] = "events.kubescope.io/v1"
    return out


def test_a_v1_event_round_trips_through_the_archive(store: EventStore) -> None:
    r = to_record(msgspec.json.decode(json.dumps(FULL_V1), type=V1Event))
    store.write([r], "s", 4242)
    [back] = query.search(store, Query(namespace="shop"))
    assert event_json(back) == _served(FULL_V1)
    # a core/v1 event reads as kube-apiserver converts it
    core = {
        "metadata": {"name": "db-1.abc", "namespace": "shop", "uid": "u-core-1", "resourceVersion": "5000",
                     "creationTimestamp": "2026-12-06T10:00:00Z"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "db-1", "uid": "p1", "apiVersion": "v1"},
        "reason": "Pulled", "message": "Container image already present", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-2"}, "count": 3,
        "firstTimestamp": "2026-12-06T09:00:00Z", "lastTimestamp": "2026-12-06T10:00:00Z", "eventTime": None,
        "reportingComponent": "kubelet", "reportingInstance": "node-2",
    }  # fmt: skip
    store.write([to_record(msgspec.json.decode(json.dumps(core), type=CoreEvent))], "s", 5000)
    got = event_json(query.get(store, "shop", "db-1.abc"))  # type: ignore[arg-type]
    assert got["regarding"] == core["involvedObject"] and got["note"] == core["message"]
    assert got["reportingController"] == "kubelet" and got["reportingInstance"] == "node-2"
    assert got["deprecatedSource"] == core["source"] and got["deprecatedCount"] == 3
    assert got["deprecatedFirstTimestamp"] == core["firstTimestamp"] and got["eventTime"] is None
    assert "series" not in got


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"note": "x" * (MAX_NOTE_BYTES + 1)}, "over --max-note-bytes"),
        (
            {"metadata": {"name": "a.b", "namespace": "ns", "uid": "", "resourceVersion": "9"}},
            "no metadata.uid",
        ),
        (
            {"metadata": {"name": "a.b", "namespace": "ns", "uid": "u", "resourceVersion": "9x"}},
            "is not a number",
        ),
        ({"eventTime": "yesterday"}, "not an RFC 3339 time"),
        ({"reason": "R" * 2000}, "reason of 2000 characters"),
    ],
)
def test_bad_events_are_refused_whole_and_the_rest_stored(
    store: EventStore, change: dict[str, Any], says: str
) -> None:
    bad = msgspec.json.decode(json.dumps({**FULL_V1, **change}), type=V1Event)
    with pytest.raises(BadEvent, match=says):
        check(to_record(bad))
    good = [v1_event(name=f"ok-{i}") for i in range(3)]
    stats = RecorderStats()
    records = convert([good[0], bad, *good[1:]], MAX_NOTE_BYTES, stats)
    assert [r.name.split(".")[0] for r in records] == ["ok-0", "ok-1", "ok-2"]
    assert sum(stats.rejected.values()) == 1
    assert len(store.write(records, "s", 10).stored) == 3 and store.counts() == (3, 0)


def test_retention_by_age_and_by_size(store: EventStore) -> None:
    day = 86400
    old = [record(name=f"old-{i}", at=T0 - 40 * day) for i in range(30)]
    new = [record(name=f"new-{i}", at=T0 - i * 60, note="n" * 2000) for i in range(300)]
    store.write(old + new, "s", 1)
    stats = retention.RetentionStats()
    retention.apply(store, retention.Retention(max_age=30 * day), stats, now=T0)
    assert stats.deleted_age == 30 and store.counts()[0] == 300
    names = {r.name.split(".")[0] for r in query.search(store, Query())}
    assert not any(n.startswith("old-") for n in names)
    with store.backend.read() as cur:  # objects no event refers to went with them
        assert cur.execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 300
    size = store.size_bytes()
    retention.apply(store, retention.Retention(max_age=0, max_bytes=size // 2), stats, now=T0)
    left = query.search(store, Query())
    assert stats.deleted_size > 0 and 0 < len(left) < 300
    # the oldest went first
    assert min(r.seen for r in left) > max(r.seen for r in new if r.name not in {x.name for x in left})
    if store.dialect == "sqlite":
        assert store.size_bytes() <= size // 2
