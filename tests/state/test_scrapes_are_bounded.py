"""Scrapes in flight are bounded whatever the clients do: plain ones beyond --max-plain-scrapes get
503 with Retry-After at once, a client that stops reading is cut off (its slot and memory given
back), and every answer carries an exact Content-Length."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection
from kubescope.state import app as app_module
from kubescope.state import flags as state_flags
from kubescope.state import settings as st
from kubescope.state.app import StateExporter
from kubescope.state.scrapes import ScrapeLimiter
from tests.kube.conftest import until
from tests.kube.fakeapi import FakeApi

pytestmark = pytest.mark.filterwarnings("ignore:Bare functions are deprecated:DeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeApi]:
    api = await FakeApi().start()
    for i in range(6000):  # ~8 MB of plain text: more than the socket buffers of a stalled reader
        api.add(i, ns=f"namespace-with-a-long-name-{i % 50}", node=f"node-{i % 100}")
    yield api
    await api.stop()


@pytest.fixture
async def exporter(fake: FakeApi, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Callable[..., Any]]:
    monkeypatch.setattr(app_module, "STALL", 2.0)
    started: list[StateExporter] = []
    client = KubeClient.from_connection(Connection(server=fake.url))

    async def start(*flags: str) -> StateExporter:
        p = argparse.ArgumentParser()
        state_flags.configure(p)
        s = st.from_args(
            p.parse_args(
                ["--host=127.0.0.1", "--port=0", "--telemetry-host=127.0.0.1", "--telemetry-port=0", *flags]
            )
        )
        ex = StateExporter(s, client)
        await ex.start()
        await until(ex.ready, what="synced")
        started.append(ex)
        return ex

    yield start
    for ex in started:
        await ex.stop()
    await client.close()


async def scrape(ex: StateExporter, encoding: str = "identity") -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as s,
        s.get(f"http://127.0.0.1:{ex.ports[0]}/metrics", headers={"Accept-Encoding": encoding}) as r,
    ):
        return r.status, dict(r.headers), await r.read()


def test_the_limiter_admits_up_to_its_bounds() -> None:
    lim = ScrapeLimiter(max_plain=2, max_total=3)
    a, b = lim.admit(gz=False), lim.admit(gz=False)
    assert a is not None and b is not None
    assert lim.admit(gz=False) is None  # a third plain one
    c = lim.admit(gz=True)  # gzip still fits under the total
    assert c is not None and lim.admit(gz=True) is None  # the total
    resp = lim.refusal(gz=False)
    assert resp.status == 503 and resp.headers["Retry-After"] == "1"
    with a:
        pass
    assert lim.admit(gz=False) is not None  # a's slot came back
    assert lim.refused == {"gzip": 1, "identity": 1}


async def test_answers_have_an_exact_length_and_agree(exporter: Any) -> None:
    ex = await exporter("--resources=pods")
    status, headers, plain = await scrape(ex)
    assert status == 200 and "Transfer-Encoding" not in headers
    assert int(headers["Content-Length"]) == len(plain) > 6 << 20
    status, headers, gz = await scrape(ex, "gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(gz)
    assert gzip.decompress(gz) == plain


async def test_plain_scrapes_beyond_the_limit_are_refused_at_once(exporter: Any) -> None:
    ex = await exporter("--resources=pods", "--max-plain-scrapes=2")
    answers = await asyncio.gather(*(scrape(ex) for _ in range(8)))
    ok = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 503]
    assert len(ok) >= 2 and len(ok) + len(refused) == 8 and refused
    assert all(a[1]["Retry-After"] == "1" and b"--max-plain-scrapes" in a[2] for a in refused)
    assert all(len(a[2]) == int(a[1]["Content-Length"]) for a in ok)  # the admitted ones are whole
    # gzip scrapes are not held back by plain ones
    assert (await scrape(ex, "gzip"))[0] == 200
    assert ex.scrapes.refused["identity"] == len(refused) and ex.scrapes.in_flight["identity"] == 0


async def test_stalled_readers_are_cut_off_and_their_slots_given_back(exporter: Any) -> None:
    ex = await exporter("--resources=pods", "--max-plain-scrapes=2")
    stalled = []
    for _ in range(2):  # send a request, never read the answer
        sock = socket.create_connection(("127.0.0.1", ex.ports[0]))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n")
        stalled.append(sock)
    try:
        await until(lambda: ex.scrapes.in_flight["identity"] == 2, what="both admitted")
        assert (await scrape(ex))[0] == 503  # no slot while they hold them
        await until(lambda: ex.scrapes.in_flight["identity"] == 0, what="stalled readers cut off")
        assert ex.scrapes.aborted[("identity", "stalled")] == 2
        status, headers, body = await scrape(ex)
        assert status == 200 and len(body) == int(headers["Content-Length"])
    finally:
        for sock in stalled:
            sock.close()


async def test_a_plain_scrape_first_gives_back_what_the_heaps_hold_free(exporter: Any) -> None:
    # no background flush, so no idle trim: only scrapes trim here
    ex = await exporter("--resources=pods", "--flush-interval=3600")
    trimmer = ex.flusher.trimmer
    trimmer.note(1)  # churn below the threshold: nothing trimmed yet
    trims = trimmer.trims
    assert (await scrape(ex, "gzip"))[0] == 200
    assert trimmer.trims == trims  # a gzip scrape allocates next to nothing
    assert (await scrape(ex))[0] == 200
    assert trimmer.trims == trims + 1  # the plain scrape trimmed before inflating
