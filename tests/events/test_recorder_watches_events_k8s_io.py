"""Where the API server serves events.k8s.io/v1 the recorder watches it (a local API server that
serves only that group's events): ADDED and the MODIFIED of a growing series are kept as versions,
the checkpoint follows the stream, and a restart resumes from it without listing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from kubescope.events import query
from kubescope.events.recorder import V1_PATH, RecorderSettings, StreamRecorder, StreamSpec, discover_api
from kubescope.events.selection import Query
from kubescope.events.store import EventStore
from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection


def _event(uid: str, rv: int, count: int | None) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "kind": "Event", "apiVersion": "events.k8s.io/v1",
        "metadata": {"name": f"web-0.{uid}", "namespace": "shop", "uid": uid, "resourceVersion": str(rv),
                     "creationTimestamp": "2026-12-06T10:00:00Z"},
        "eventTime": "2026-12-06T10:00:00.000001Z", "reportingController": "kubernetes.io/kubelet",
        "reportingInstance": "kubelet-node-1", "action": "Restarting", "reason": "BackOff",
        "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-0", "uid": "p-1", "apiVersion": "v1"},
        "note": "Back-off restarting failed container", "type": "Warning",
    }  # fmt: skip
    if count:
        ev["series"] = {"count": count, "lastObservedTime": f"2026-12-06T10:{count:02d}:00.000000Z"}
    return ev


class EventsOnlyAPI:
    """Serves events.k8s.io/v1 events: a list, then a watch from any resourceVersion."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []  # (type, object), in resourceVersion order
        self.lists = 0
        self.watch_from: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.stopping = False

    async def start(self) -> EventsOnlyAPI:
        app = web.Application()
        app.add_routes([web.get(V1_PATH, self.resources), web.get(f"{V1_PATH}/events", self.serve)])
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def resources(self, request: web.Request) -> web.Response:
        return web.json_response({"kind": "APIResourceList", "groupVersion": "events.k8s.io/v1",
                                  "resources": [{"name": "events", "namespaced": True, "kind": "Event"}]})  # fmt: skip

    async def serve(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("watch") != "true":
            self.lists += 1
            latest: dict[str, dict[str, Any]] = {}
            for _, obj in self.events:
                latest[obj["metadata"]["uid"]] = obj
            rv = self.events[-1][1]["metadata"]["resourceVersion"] if self.events else "1"
            return web.json_response(
                {"kind": "EventList", "metadata": {"resourceVersion": rv}, "items": list(latest.values())}
            )
        if q.get("sendInitialEvents") == "true":
            return web.json_response({"kind": "Status", "code": 422, "reason": "Invalid"}, status=422)
        since = int(q["resourceVersion"])
        self.watch_from.append(q["resourceVersion"])
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        sent = since
        while not self.stopping:
            for typ, obj in self.events:
                rv = int(obj["metadata"]["resourceVersion"])
                if rv > sent:
                    await resp.write(json.dumps({"type": typ, "object": obj}).encode() + b"\n")
                    sent = rv
            await asyncio.sleep(0.02)
        return resp

    async def stop(self) -> None:
        self.stopping = True  # open watches end, so the runner does not wait for them
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def api() -> AsyncIterator[EventsOnlyAPI]:
    a = await EventsOnlyAPI().start()
    yield a
    await a.stop()


async def _until(cond: Any, what: str) -> None:
    for _ in range(400):
        if cond():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def test_events_k8s_io_v1_versions_and_resume(api: EventsOnlyAPI, store: EventStore) -> None:
    client = KubeClient.from_connection(Connection(server=api.url))
    try:
        assert await discover_api(client) == V1_PATH
        settings = RecorderSettings(flush_interval=0.01)
        rec = StreamRecorder(client, store, StreamSpec(), settings)
        task = asyncio.create_task(rec.run())
        await _until(lambda: rec.check_synced() is None, "the first list")
        api.events += [
            ("ADDED", _event("a", 10, None)),
            ("MODIFIED", _event("a", 11, 2)),
            ("MODIFIED", _event("a", 12, 5)),
        ]
        await _until(lambda: rec.stats.checkpoint == 12, "the series")
        assert store.counts() == (1, 2)
        [got] = query.search(store, Query(namespace="shop"))
        assert got.series_count == 5 and got.rv == 12 and got.controller == "kubernetes.io/kubelet"
        assert [v[2] for v in query.versions(store, "a")] == [1, 2, 5]
        assert rec.stats.occurrences[("shop", "Pod", "BackOff", "Warning")] == 5
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # written while it was down; a restart watches from the checkpoint, no list
        api.events += [("MODIFIED", _event("a", 13, 6)), ("ADDED", _event("b", 14, None))]
        lists = api.lists
        rec = StreamRecorder(client, store, StreamSpec(), settings)
        task = asyncio.create_task(rec.run())
        await _until(lambda: rec.stats.checkpoint == 14, "the resumed stream")
        assert api.lists == lists and api.watch_from[-1] == "12"
        assert store.counts() == (2, 3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await client.close()
