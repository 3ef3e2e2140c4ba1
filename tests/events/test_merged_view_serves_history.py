"""The merged view over HTTPS against the simulator, in both databases: list and get, namespaced
and all namespaces, every field selector, time ranges, limit/continue without a duplicate or a
gap, Table output, live and archived merged by uid with archived-only events marked expired, and
every bad question a 400 naming its parameter."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubescope.apiserver.options import APIServerOptions, ServingOptions
from kubescope.events import query
from kubescope.events.app import EventsServer, Settings
from kubescope.events.recorder import RecorderSettings
from kubescope.events.render import EXPIRED
from kubescope.sim.process import SimulatorProcess
from kubescope.web.tls import TLSOptions
from tests.events.emit import Emitter, Truth
from tests.simfixtures import connect, simulator

pytestmark = pytest.mark.slow

BASE = "/apis/events.kubescope.io/v1"


sim = simulator(nodes=2, pods_per_node=2, kubelets=False, bookmark_interval=0.3)


class Served:
    def __init__(self, server: EventsServer, port: int, token: str, truth: Truth, ns: str) -> None:
        self.server = server
        self.port = port
        self.token = token
        self.truth = truth
        self.ns = ns

    def get(self, path: str, accept: str = "application/json", **params: str) -> tuple[int, Any]:
        url = f"https://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}", "Accept": accept})
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            with e:
                return e.code, json.loads(e.read())

    async def aget(self, path: str, accept: str = "application/json", **params: str) -> tuple[int, Any]:
        return await asyncio.to_thread(self.get, path, accept, **params)


@pytest.fixture
async def served(sim: SimulatorProcess, database: str, tmp_path: Any) -> AsyncIterator[Served]:
    client = await connect(sim)
    ns = f"ev-{os.urandom(3).hex()}"
    await client.request("POST", "/api/v1/namespaces", body={"metadata": {"name": ns}})
    truth = Truth()
    emit = Emitter(client, truth, seed=3, namespaces=(ns,))
    await emit.burst(60, repeat_share=0.3)
    settings = Settings(
        database=database, namespaces=(ns,), api="v1", recorder=RecorderSettings(flush_interval=0.02),
        apiserver=APIServerOptions(
            ServingOptions(bind_address="127.0.0.1", secure_port=0, tls=TLSOptions(cert_dir=str(tmp_path / "certs")))
        ),
    )  # fmt: skip
    events = EventsServer(settings, client)
    server = await events.start()
    s = Served(events, server.port("https"), sim.token, truth, ns)
    s.emit = emit  # type: ignore[attr-defined]
    for _ in range(400):
        if sum(r.stats.stored for r in events.recorders) >= len(truth.versions):
            break
        await asyncio.sleep(0.05)
    yield s
    await server.stop()
    await client.close()
    # the TLS connections of the stopped watches were closed without draining them: their shutdown
    # completes in the next loop iterations (aiohttp's advice for a graceful close), before this
    # test's loop ends
    await asyncio.sleep(0.25)


async def test_list_get_table_and_selectors(served: Served) -> None:
    s = served
    code, body = await s.aget(f"{BASE}/namespaces/{s.ns}/events")
    assert code == 200 and body["kind"] == "EventList" and body["apiVersion"] == "events.kubescope.io/v1"
    uids = {i["metadata"]["uid"]: i for i in body["items"]}
    assert set(uids) == set(s.truth.versions)
    for uid, item in uids.items():
        assert int(item["metadata"]["resourceVersion"]) == s.truth.versions[uid][-1]
        live = s.truth.objects[uid]
        assert item["regarding"]["name"] == live["involvedObject"]["name"]
        assert item["note"] == live["message"] and item["reason"] == live["reason"]
        assert item["deprecatedCount"] == live["count"]
        assert item["reportingController"] == live["reportingComponent"]
        assert EXPIRED not in (item["metadata"].get("annotations") or {})
    times = [(i["deprecatedLastTimestamp"]) for i in body["items"]]
    assert times == sorted(times)

    # all namespaces: the same events (only this namespace has any)
    code, every = await s.aget(f"{BASE}/events", fieldSelector=f"metadata.namespace={s.ns}")
    assert code == 200 and {i["metadata"]["uid"] for i in every["items"]} == set(uids)

    # field selectors, each against the truth
    one = next(iter(uids.values()))
    pod = one["regarding"]["name"]
    for sel, pred in [
        (f"regarding.name={pod}", lambda o: o["involvedObject"]["name"] == pod),
        (f"regarding.name!={pod}", lambda o: o["involvedObject"]["name"] != pod),
        ("regarding.kind=Pod", lambda o: True),
        (
            f"regarding.uid={one['regarding']['uid']}",
            lambda o: o["involvedObject"]["uid"] == one["regarding"]["uid"],
        ),
        (f"regarding.namespace={s.ns}", lambda o: True),
        ("reason=BackOff", lambda o: o["reason"] == "BackOff"),
        ("type=Warning", lambda o: o["type"] == "Warning"),
        ("type=Warning,reason!=BackOff", lambda o: o["type"] == "Warning" and o["reason"] != "BackOff"),
        ("reportingController=kubelet", lambda o: o["reportingComponent"] == "kubelet"),
        ("reason=NoSuchReason", lambda o: False),
        (
            f"metadata.name={one['metadata']['name']}",
            lambda o: o["metadata"]["name"] == one["metadata"]["name"],
        ),
    ]:
        code, got = await s.aget(f"{BASE}/namespaces/{s.ns}/events", fieldSelector=sel)
        assert code == 200, got
        want = {u for u, o in s.truth.objects.items() if pred(o)}
        assert {i["metadata"]["uid"] for i in got["items"]} == want, sel

    # get
    code, ev = await s.aget(f"{BASE}/namespaces/{s.ns}/events/{one['metadata']['name']}")
    assert code == 200 and ev["metadata"]["uid"] == one["metadata"]["uid"]
    code, missing = await s.aget(f"{BASE}/namespaces/{s.ns}/events/nope.123")
    assert code == 404 and missing["reason"] == "NotFound"

    # Table, as kubectl asks for it
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    code, tab = await s.aget(
        f"{BASE}/namespaces/{s.ns}/events", accept, fieldSelector=f"regarding.name={pod}"
    )
    assert code == 200 and tab["kind"] == "Table"
    names = [c["name"] for c in tab["columnDefinitions"]]
    assert names[:4] == ["Last Seen", "Type", "Reason", "Object"] and "Message" in names
    assert all(r["cells"][3] == f"pod/{pod}" for r in tab["rows"]) and tab["rows"]


async def test_metrics_count_occurrences_by_namespace_kind_reason_type(served: Served) -> None:
    s = served
    want: dict[tuple[str, str, str, str], int] = {}
    for o in s.truth.objects.values():
        key = (o["metadata"]["namespace"], "Pod", o["reason"], o["type"])
        want[key] = want.get(key, 0) + o["count"]

    def text() -> str:
        url = f"https://127.0.0.1:{s.port}/metrics"
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {s.token}"})
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.read().decode()  # type: ignore[no-any-return]

    body = await asyncio.to_thread(text)
    got = {}
    for line in body.splitlines():
        if line.startswith("kubescope_events_total{"):
            labels = dict(kv.split("=", 1) for kv in line[line.index("{") + 1 : line.index("}")].split(","))
            key = tuple(labels[k].strip('"') for k in ("namespace", "kind", "reason", "type"))
            got[key] = int(float(line.rsplit(" ", 1)[1]))
    assert got == want
    assert "kubescope_events_checkpoint_resource_version{" in body


async def test_pages_cover_everything_once(served: Served) -> None:
    s = served
    seen: list[str] = []
    cont = ""
    pages = 0
    while True:
        params = {"limit": "7", **({"continue": cont} if cont else {})}
        code, body = await s.aget(f"{BASE}/namespaces/{s.ns}/events", **params)
        assert code == 200, body
        assert len(body["items"]) <= 7
        seen += [i["metadata"]["uid"] for i in body["items"]]
        pages += 1
        cont = body["metadata"].get("continue", "")
        if not cont:
            break
    assert pages > 3 and len(seen) == len(set(seen)) and set(seen) == set(s.truth.versions)


async def test_expired_events_are_marked_and_time_ranges_apply(served: Served) -> None:
    s = served
    emit: Emitter = s.emit  # type: ignore[attr-defined]
    # the API server deletes one (its TTL): the archive keeps it, marked
    uid, obj = next(iter(s.truth.objects.items()))
    m = obj["metadata"]
    await emit.client.request("DELETE", f"/api/v1/namespaces/{m['namespace']}/events/{m['name']}")
    code, body = await s.aget(f"{BASE}/namespaces/{s.ns}/events")
    items = {i["metadata"]["uid"]: i for i in body["items"]}
    assert items[uid]["metadata"]["annotations"][EXPIRED] == "true"
    assert sum(EXPIRED in (i["metadata"].get("annotations") or {}) for i in items.values()) == 1
    code, ev = await s.aget(f"{BASE}/namespaces/{s.ns}/events/{m['name']}")
    assert code == 200 and ev["metadata"]["annotations"][EXPIRED] == "true"
    # a newer live version than the archive's wins: recording stopped, then the event repeats
    server = s.server.server
    assert server is not None
    for r in s.server.recorders:
        await server.supervisor.stop(f"record {r.name}")
    uid2, obj2 = list(s.truth.objects.items())[1]
    await emit.repeat(obj2)
    code, body = await s.aget(
        f"{BASE}/namespaces/{s.ns}/events", fieldSelector=f"metadata.name={obj2['metadata']['name']}"
    )
    [item] = body["items"]
    assert int(item["metadata"]["resourceVersion"]) == s.truth.versions[uid2][-1]
    assert item["deprecatedCount"] == s.truth.objects[uid2]["count"] and EXPIRED not in (
        item["metadata"].get("annotations") or {}
    )
    # time ranges: the future is empty, the last day has everything
    code, body = await s.aget(f"{BASE}/namespaces/{s.ns}/events", since="2099-01-01T00:00:00Z")
    assert code == 200 and body["items"] == []
    code, body = await s.aget(f"{BASE}/namespaces/{s.ns}/events", since="1d")
    assert len(body["items"]) == len(s.truth.versions)
    code, body = await s.aget(f"{BASE}/namespaces/{s.ns}/events", until="2000-01-01T00:00:00Z")
    assert body["items"] == []


async def test_an_event_deleted_before_it_is_archived_is_never_missing(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API server deletes an event the recorder received but has not committed yet (here each
    write takes 0.3 s more, what a slow disk or a busy PostgreSQL does): read at once, the merged
    view shows it expired, never missing from both sides, every time."""
    s = served
    emit: Emitter = s.emit  # type: ignore[attr-defined]
    store = s.server.store
    write = store.write

    def slow_write(*args: Any, **kw: Any) -> Any:
        import time

        time.sleep(0.3)  # in the recorder's writer thread
        return write(*args, **kw)

    monkeypatch.setattr(store, "write", slow_write)
    held = 0
    for _ in range(8):
        obj = await emit.create()
        uid, m = obj["metadata"]["uid"], obj["metadata"]
        # the recorder's watch has it (received: pending or committed) before the API server deletes
        # it: the merged view's promise starts there (the watch's own latency is not the archive's)
        for _ in range(1000):
            pending = {r.uid for r in s.server._pending()}
            if uid in pending or await asyncio.to_thread(query.get, store, m["namespace"], m["name"]):
                break
            await asyncio.sleep(0.01)
        held += uid in pending
        await emit.client.request("DELETE", f"/api/v1/namespaces/{m['namespace']}/events/{m['name']}")
        code, body = await s.aget(
            f"{BASE}/namespaces/{s.ns}/events", fieldSelector=f"metadata.name={m['name']}"
        )
        assert code == 200, body
        assert [i["metadata"]["uid"] for i in body["items"]] == [uid], body
        assert body["items"][0]["metadata"]["annotations"][EXPIRED] == "true", body
        code, ev = await s.aget(f"{BASE}/namespaces/{s.ns}/events/{m['name']}")
        assert code == 200 and ev["metadata"]["uid"] == uid, ev
        assert ev["metadata"]["annotations"][EXPIRED] == "true", ev
    assert held, "no event was read while uncommitted: the test did not test the window"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"fieldSelector": "involvedObject.name=x"}, '"involvedObject.name" is not a known field selector'),
        ({"fieldSelector": "reason"}, "invalid selector"),
        ({"since": "yesterday"}, "since='yesterday': not a time"),
        ({"since": "1h", "until": "2d"}, "is after until"),
        ({"limit": "ten"}, "limit='ten': not a number"),
        ({"continue": "garbage!"}, "continue: not a token"),
        ({"watch": "true"}, "watch is not supported"),
    ],
)
async def test_bad_questions_are_400s_naming_the_parameter(
    served: Served, params: dict[str, str], says: str
) -> None:
    code, body = await served.aget(f"{BASE}/namespaces/{served.ns}/events", **params)
    assert code in (400, 405) and body["kind"] == "Status" and says in body["message"], body


async def test_continue_token_belongs_to_its_question(served: Served) -> None:
    code, body = await served.aget(f"{BASE}/namespaces/{served.ns}/events", limit="2")
    token = body["metadata"]["continue"]
    code, other = await served.aget(
        f"{BASE}/namespaces/{served.ns}/events",
        **{"limit": "2", "continue": token, "fieldSelector": "type=Warning"},
    )
    assert code == 400 and "another question" in other["message"]
