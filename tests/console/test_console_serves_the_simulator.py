"""The console against the simulator, without the Metrics API, history or the event archive: every
page serves what the watches hold, each missing source is named on the page instead of its data, and
bad input is a clear 400 or 404 page (never a traceback)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from kubescope.console.app import Console, Settings
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.sim.process import SimulatorProcess
from tests.simfixtures import simulator

pytestmark = pytest.mark.slow


sim = simulator(nodes=3, pods_per_node=6, seed=5, kubelets=False)


@pytest.fixture
async def console(sim: SimulatorProcess) -> AsyncIterator[str]:
    client = await KubeClient.connect(KubeSettings(kubeconfig=str(sim.kubeconfig)))
    # a loopback simulator on a loaded shared machine can take seconds to answer: the timeout bounds a
    # hang, it is not what these tests measure
    c = Console(Settings(host="127.0.0.1", port=0, usage_interval=1, source_timeout=15), client)
    server = c.server()
    await server.start()
    url = f"http://127.0.0.1:{server.port('console')}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                async with http.get(url + "/readyz") as r:
                    if r.status == 200:
                        break
                await asyncio.sleep(0.1)
        yield url
    finally:
        await server.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as r:
        return r.status, await r.text()


async def test_lists_hold_the_clusters_objects(console: str, sim: SimulatorProcess) -> None:
    pods = sim.request("GET", "/api/v1/pods")["items"]
    status, html = await get(console + "/pods?per=500")
    assert status == 200
    assert f"({len(pods)} in all)" in html
    for p in pods[:5]:
        assert f'href="/pods/{p["metadata"]["namespace"]}/{p["metadata"]["name"]}"' in html
    ns = pods[0]["metadata"]["namespace"]
    status, html = await get(console + f"/pods?ns={ns}&per=500")
    expected = sum(1 for p in pods if p["metadata"]["namespace"] == ns)
    assert f"({expected} in all)" in html
    for path in ("/", "/nodes", "/namespaces", "/workloads", "/autoscalers"):
        status, html = await get(console + path)
        assert status == 200, (path, html)


async def test_missing_sources_are_named_not_hidden(console: str, sim: SimulatorProcess) -> None:
    pod = sim.request("GET", "/api/v1/pods")["items"][0]["metadata"]
    deadline = time.monotonic() + 60
    while True:  # until the first poll of the Metrics API has failed and the APIServices are listed
        status, html = await get(console + f"/pods/{pod['namespace']}/{pod['name']}")
        if ("did not answer" in html and "not listed yet" not in html) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert status == 200
    assert "Current usage unavailable: the Metrics API (metrics.k8s.io) did not answer" in html
    assert "the event archive unavailable: no APIService serves events.kubescope.io: live events only" in html
    status, body = await get(
        console + f"/api/charts/pods/{pod['namespace']}/{pod['name']}?metric=cpu&range=6h"
    )
    assert status == 200
    assert "history unavailable: no APIService serves history.kubescope.io" in body
    assert "the 6h range needs kubescope history" in body
    status, html = await get(console + "/")
    assert re.search(
        r"usage history \(kubescope history\)</td><td>no APIService serves history.kubescope.io", html
    )


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/pods?sort=colour", 400, "sort=&#39;colour&#39;: sort by one of"),
        ("/pods?label=app+in+(x", 400, "is not a label selector"),
        ("/nodes/no-such-node", 404, "no node &#39;no-such-node&#39;"),
        ("/pods/default/nothing?range=1h", 404, "no pod &#39;nothing&#39; in namespace &#39;default&#39;"),
        ("/workloads/default/gadgets/x", 400, "&#39;gadgets&#39; is not a workload kind"),
        ("/?range=3y", 400, "range=&#39;3y&#39; is not one of the ranges"),
        ("/api/charts/cluster?metric=disk", 400, "metric=&#39;disk&#39;: use cpu or memory"),
        ("/no/such/page", 404, "no page at /no/such/page"),
    ],
)
async def test_bad_input_gets_a_clear_page(console: str, path: str, status: int, message: str) -> None:
    got, html = await get(console + path)
    assert got == status, html
    if path.startswith("/api/"):
        message = message.replace("&#39;", "'")
    assert message in html
    assert "Traceback" not in html


async def test_the_console_is_read_only(console: str) -> None:
    async with aiohttp.ClientSession() as http, http.post(console + "/pods", data=b"x") as r:
        assert r.status == 405
        assert "read-only" in await r.text()


async def test_live_events_that_do_not_answer_say_so() -> None:
    """No archive and an API server that does not answer in time: the note names both, and the wait."""
    from kubescope.console.sources import Events, Unavailable

    class Stalled:
        async def get(self, path: str, params: dict[str, str]) -> bytes:
            await asyncio.sleep(10)
            return b""

    events = Events(Stalled(), lambda group: (False, f"no APIService serves {group}"), timeout=0.05)  # type: ignore[arg-type]
    with pytest.raises(Unavailable) as got:
        await events.find("default", {"regarding.name": "web"}, 3600)
    assert str(got.value) == (
        "the event archive unavailable: no APIService serves events.kubescope.io; "
        "the API server's events failed too: no answer within 0.05s"
    )
