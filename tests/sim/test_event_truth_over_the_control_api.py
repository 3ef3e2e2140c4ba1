"""``/_sim/events``: the ground truth of every event the simulator's components emitted, summed up
(GET), queried (POST), matched against what clients read from the API; a storm on demand."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.sim.conftest import Api, start_api

Obj = dict[str, Any]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    sim, client = await start_api(tmp_path, nodes=3, pods_per_node=4, controllers=True)
    try:
        yield client
    finally:
        await client.session.close()
        await sim.stop()


async def test_the_truth_names_what_clients_read(api: Api) -> None:
    labels = {"app": "till"}
    await api.ok("POST", "/apis/apps/v1/namespaces/default/deployments", {
        "metadata": {"name": "till"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "till", "image": "till:1"}]}}},
    })  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        found = await api.ok("POST", "/_sim/events", {"reason": "Started", "namespace": "default"})
        if len(found["items"]) >= 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert len(found["items"]) == 2
    summary = await api.ok("GET", "/_sim/events")
    assert (
        summary["total"] >= 12
        and summary["reasons"]["Scheduled"] >= 2
        and summary["outcomes"]["created"] >= 12
    )
    # every emission written is an Event clients can read, with what it said
    page = await api.ok("POST", "/_sim/events", {"kind": "Pod", "namespace": "default", "limit": 100})
    listed = {
        (e["metadata"]["namespace"], e["metadata"]["name"]): e
        for e in (await api.ok("GET", "/api/v1/events"))["items"]
    }
    for item in page["items"]:
        assert item["outcome"] in ("created", "updated")
        e = listed[(item["event"]["namespace"], item["event"]["name"])]
        # the version it became: the Event's uid, and a resourceVersion it had
        assert item["event"]["uid"] == e["metadata"]["uid"]
        assert 0 < int(item["event"]["resourceVersion"]) <= int(e["metadata"]["resourceVersion"])
        assert (e["reason"], e["message"], e["involvedObject"]["name"]) == (
            item["reason"],
            item["note"],
            item["regarding"]["name"],
        )
    # paging by sequence
    first = await api.ok("POST", "/_sim/events", {"limit": 3})
    rest = await api.ok("POST", "/_sim/events", {"since": first["last"], "limit": 1000})
    assert [i["seq"] for i in first["items"]] + [i["seq"] for i in rest["items"]][:1] == [1, 2, 3, 4]


async def test_a_storm_on_demand_and_bad_queries(api: Api) -> None:
    out = await api.ok("POST", "/_sim/events", {"storm": 5, "limit": 0})
    assert out["storm"] == {"crashlooping": 5}
    await asyncio.sleep(1)
    back = await api.ok("POST", "/_sim/events", {"reason": "BackOff"})
    assert len({i["regarding"]["name"] for i in back["items"]}) == 5
    assert (await api.ok("POST", "/_sim/events", {"storm": 0, "limit": 0}))["storm"] == {
        "crashlooping": 0,
        "fixed": 5,
    }
    for bad in ({"reason": 3}, {"since": "x"}, {"what": 1}, {"storm": -1}, [1]):
        code, _, _ = await api.raw("POST", "/_sim/events", json.dumps(bad).encode())
        assert code == 400, bad
