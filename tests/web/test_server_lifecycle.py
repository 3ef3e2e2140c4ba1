"""The core's lifecycle over real sockets: bind first (a taken port names its flag), plain and TLS
listeners side by side, one application on many sockets, health endpoints in kube and KSM words,
and the graceful shutdown sequence (readiness false, delay, stop accepting, drain, cancel)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from kubescope import web
from kubescope.errors import BindError
from kubescope.web.listeners import bind_sockets
from tests.web.helpers import PKI, fetch, running, url


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


def test_a_taken_port_names_the_flag() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            BindError,
            match=rf"--secure-port={port}: cannot listen on 127.0.0.1:{port}: address already in use",
        ):
            bind_sockets("127.0.0.1", port, "--secure-port")


async def test_bind_happens_before_serving_and_nothing_leaks_on_failure() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        srv = web.Server(
            "t",
            listeners=[
                web.Listener("a", host="127.0.0.1"),
                web.Listener(
                    "b", host="127.0.0.1", port=taken.getsockname()[1], port_flag="--telemetry-port"
                ),
            ],
        )
        with pytest.raises(BindError, match="--telemetry-port"):
            await srv.start()
        assert srv.running == {}


async def test_every_address_is_one_port_for_all_families() -> None:
    socks = bind_sockets("::", 0)
    try:
        assert len({s.getsockname()[1] for s in socks}) == 1
    finally:
        for s in socks:
            s.close()


async def test_plain_and_tls_listeners_and_many_sockets(tmp_path: Path) -> None:
    pki = PKI.create(tmp_path)
    tls = web.TLSOptions(cert_file=pki.server[0], key_file=pki.server[1])
    srv = web.Server(
        "t",
        listeners=[
            web.Listener("plain", routes=[web.get("/", hello)], host="127.0.0.1"),
            web.Listener("secure", routes=[web.get("/", hello)], host="127.0.0.1", tls=tls.context()),
        ],
    )
    async with running(srv):
        assert (await fetch(url(srv, "plain")))[0::2] == (200, b"hello")
        assert (await fetch(url(srv, "secure"), ssl_ctx=pki.client_ssl()))[0::2] == (200, b"hello")
        extra = bind_sockets("127.0.0.2", 0)[0]
        handle = await srv.listener("plain").add_socket(extra, None)
        port = extra.getsockname()[1]
        assert (await fetch(f"http://127.0.0.2:{port}/"))[0::2] == (200, b"hello")
        handle.close()
        await handle.wait_closed()
        with pytest.raises(aiohttp.ClientConnectionError):
            await fetch(f"http://127.0.0.2:{port}/")


async def test_a_listener_serving_only_added_sockets(tmp_path: Path) -> None:
    """As the simulator's kubelets: one application, no address of its own, one socket per node,
    each with its own TLS context, opened and closed while the server runs."""
    pki = PKI.create(tmp_path)
    ctx = web.TLSOptions(cert_file=pki.server[0], key_file=pki.server[1]).context()
    srv = web.Server("t", listeners=[web.Listener("kubelets", routes=[web.get("/", hello)], bind=False)])
    async with running(srv):
        assert srv.listener("kubelets").sockets == []
        node_a, node_b = bind_sockets("127.0.0.3", 0)[0], bind_sockets("127.0.0.4", 0)[0]
        a = await srv.listener("kubelets").add_socket(node_a, ctx)
        await srv.listener("kubelets").add_socket(node_b, None)
        port_a, port_b = node_a.getsockname()[1], node_b.getsockname()[1]
        client = pki.client_ssl()
        client.check_hostname = False  # the test certificate names 127.0.0.1 only
        assert (await fetch(f"https://127.0.0.3:{port_a}/", ssl_ctx=client))[0::2] == (200, b"hello")
        assert (await fetch(f"http://127.0.0.4:{port_b}/"))[0::2] == (200, b"hello")
        a.close()  # a node goes away
        await a.wait_closed()
        with pytest.raises(aiohttp.ClientConnectionError):
            await fetch(f"https://127.0.0.3:{port_a}/", ssl_ctx=client)
    with pytest.raises(aiohttp.ClientConnectionError):  # the others close with the server
        await fetch(f"http://127.0.0.4:{port_b}/")


async def test_health_endpoints_in_kube_and_ksm_words() -> None:
    bad: list[str] = []

    async def slow_ok() -> str | None:
        await asyncio.sleep(0)
        return None

    srv = web.Server(
        "t",
        listeners=[
            web.Listener("kube", host="127.0.0.1", health=("healthz", "livez", "readyz")),
            web.Listener("ksm", host="127.0.0.1", health=("readyz",), health_style=web.KSM),
        ],
        checks=[
            web.HealthCheck("informer-sync", lambda: bad[0] if bad else None, ("readyz",)),
            web.HealthCheck("poststarthook/ready", slow_ok),
        ],
    )
    async with running(srv):
        assert (await fetch(url(srv, "kube", "/readyz")))[0::2] == (200, b"ok")
        assert (await fetch(url(srv, "ksm", "/readyz")))[0::2] == (200, b"OK")
        _, headers, body = await fetch(url(srv, "kube", "/readyz?verbose"))
        assert body.decode() == (
            "[+]ping ok\n[+]log ok\n[+]informer-sync ok\n[+]poststarthook/ready ok\n[+]shutdown ok\n"
            "readyz check passed\n"
        )
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert (await fetch(url(srv, "kube", "/livez/poststarthook/ready")))[0::2] == (200, b"ok")
        assert (await fetch(url(srv, "kube", "/livez/nothing")))[0] == 404
        bad.append("waiting for the initial sync of: pods")
        code, _, body = await fetch(url(srv, "kube", "/readyz"))
        assert code == 500 and "[-]informer-sync failed: reason withheld\n" in body.decode()
        assert (await fetch(url(srv, "ksm", "/readyz")))[0] == 503
        code, _, body = await fetch(url(srv, "kube", "/readyz/informer-sync"))
        assert (code, body) == (500, b"internal server error: waiting for the initial sync of: pods\n")
        code, _, body = await fetch(url(srv, "kube", "/readyz?exclude=informer-sync&verbose"))
        assert code == 200 and "[+]informer-sync excluded: ok\n" in body.decode()
        assert (await fetch(url(srv, "kube", "/livez")))[0] == 200  # a readyz check only


async def test_graceful_shutdown_in_order() -> None:
    events: list[str] = []
    release = asyncio.Event()
    entered = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="finished")

    async def background() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            events.append("task cancelled")

    async def closing_watches() -> None:
        events.append("before drain")
        release.set()

    async def close_clients() -> None:
        events.append("stopped")

    srv = web.Server(
        "t",
        listeners=[
            web.Listener("main", routes=[web.get("/slow", slow)], host="127.0.0.1", health=("readyz",))
        ],
        tasks=[web.Task("bg", background)],
        shutdown_delay=0.3,
        before_drain=[closing_watches],
        on_stop=[close_clients],
    )
    await srv.start()
    port = srv.port("main")
    in_flight = asyncio.create_task(fetch(f"http://127.0.0.1:{port}/slow"))
    await entered.wait()
    stopping = asyncio.create_task(srv.stop())
    await asyncio.sleep(0)
    # during the delay: still serving, but not ready
    code, _, body = await fetch(f"http://127.0.0.1:{port}/readyz?verbose")
    assert code == 500 and "[-]shutdown failed: reason withheld" in body.decode()
    await stopping
    assert (await in_flight)[0::2] == (200, b"finished")  # drained, not cut
    assert events == ["before drain", "task cancelled", "stopped"]
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(f"http://127.0.0.1:{port}/readyz")


async def test_a_signal_stops_gracefully_and_a_second_one_hurries() -> None:
    srv = web.Server(
        "t", listeners=[web.Listener("main", host="127.0.0.1", health=("readyz",))], shutdown_delay=60
    )
    serving = asyncio.create_task(srv.serve())
    await until(lambda: bool(srv.running) and srv.listener("main").runner is not None)
    os.kill(os.getpid(), signal.SIGTERM)
    await until(lambda: srv.shutting_down)
    code, _, body = await fetch(url(srv, "main", "/readyz?verbose"))  # still serving, not ready
    assert code == 500 and "[-]shutdown failed" in body.decode()
    os.kill(os.getpid(), signal.SIGTERM)  # the operator insists: no 60 s delay
    assert await asyncio.wait_for(serving, 60) == 0
    with pytest.raises(aiohttp.ClientConnectionError):
        await fetch(url(srv, "main", "/readyz"))


async def test_announce_comes_once_a_signal_would_be_handled() -> None:
    # a SIGTERM sent the moment a server says it is up (a ready file, a printed address) is a
    # graceful stop, not the default action's kill
    announced: list[bool] = []

    def announce() -> None:
        announced.append(srv._serving)
        os.kill(os.getpid(), signal.SIGTERM)

    srv = web.Server("t", listeners=[web.Listener("main", host="127.0.0.1")])
    assert await asyncio.wait_for(srv.serve(announce), 60) == 0
    assert announced == [True] and srv._stopped


async def until(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60  # not a timing check: how long a loaded machine may take
    while not cond():
        assert time.monotonic() < deadline, "not reached"
        await asyncio.sleep(0.01)
