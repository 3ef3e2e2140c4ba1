"""The scraper against kubelets on loopback sockets: good, garbage, truncated, oversized, slow and
failing answers fail only their node (counted by reason), with the stagger, the concurrency bound,
the address and port rules, the path annotation and the credentials metrics-server uses."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import random
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubescope.apiserver.selectors import parse_label_selector
from kubescope.kube.config import Connection
from kubescope.kube.credentials import Credentials
from kubescope.kubelet.scraper import MAX_DELAY_MS, ScrapeError, Scraper, target_url
from kubescope.resource.inventory import PATH_ANNOTATION, NodeCache, node_info
from kubescope.resource.selfmetrics import SelfMetrics
from kubescope.resource.settings import KubeletSettings
from tests.apiserver.certs import issue, make_ca
from tests.resource.helpers import decode_structs, node

GOOD = (
    b"# TYPE node_cpu_usage_seconds_total counter\n"
    b"node_cpu_usage_seconds_total 10 1700000000000\n"
    b"node_memory_working_set_bytes 2048 1700000000000\n"
    b'container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p-NODE"} 1 1700000000000\n'
    b'container_memory_working_set_bytes{container="c",namespace="ns",pod="p-NODE"} 1024 1700000000000\n'
    b'container_start_time_seconds{container="c",namespace="ns",pod="p-NODE"} 1600000000\n'
)


BOMB = gzip.compress(b"\n" * (64 << 20), 6)
"""64 MiB of blank lines (valid text) in 64 KiB."""


@dataclass
class Kubelet:
    """One fake kubelet: answers with ``behaviour`` and records what it was asked."""

    behaviour: str = "good"
    paths: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    connections: int = 0
    port: int = 0
    errors: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    """Server ends of the connections, closed when the test ends (kept-alive ones stay open)."""


async def start_kubelet(
    k: Kubelet, name: str, ssl_ctx: ssl.SSLContext | None = None
) -> asyncio.AbstractServer:
    """A raw HTTP/1.1 server, so a body can be cut short or drip."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        k.connections += 1
        k.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *hdrs = head.decode().split("\r\n")
                k.paths.append(line.split()[1])
                k.auth.append(
                    next((h.split(": ", 1)[1] for h in hdrs if h.lower().startswith("authorization")), "")
                )
                k.in_flight += 1
                k.max_in_flight = max(k.max_in_flight, k.in_flight)
                try:
                    await answer(writer, name)
                finally:
                    k.in_flight -= 1
                if k.behaviour in ("truncated", "garbage-close", "gzip-bomb"):
                    break
                if k.behaviour == "close-idle":
                    await asyncio.sleep(0.05)
                    break  # the kubelet drops the idle kept connection before the next request
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(writer: asyncio.StreamWriter, name: str) -> None:
        body = GOOD.replace(b"NODE", name.encode())
        b = k.behaviour
        if b == "slow":
            await asyncio.sleep(0.05)
        if b == "hang":
            await asyncio.sleep(30)
        if b == "garbage":
            body = b"<html><body>hello</body></html>\n"
        if b == "error-varying":
            k.errors += 1
            body = f"internal error #{k.errors}\n".encode()
        if b == "bad-samples":
            body += body.splitlines(keepends=True)[3]  # the container's CPU sample twice
            body += b'container_memory_working_set_bytes{container="d",namespace="ns",pod="q"} NaN 1\n'
        if b == "huge":
            body = body * 1000
        encoding = ""
        if b == "gzip":
            body = gzip.compress(body)
            encoding = "Content-Encoding: gzip\r\n"
        if b == "gzip-bomb":
            body = BOMB
            encoding = "Content-Encoding: gzip\r\n"
        status = "500 Internal Server Error" if b in ("error", "error-varying") else "200 OK"
        length = len(body) + (500 if b == "truncated" else 0)
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n{encoding}Content-Length: {length}\r\n\r\n".encode()
        )
        writer.write(body)
        await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_ctx)
    k.port = server.sockets[0].getsockname()[1]
    return server


@pytest.fixture
async def kubelets() -> AsyncIterator[Callable[..., asyncio.Future[dict[str, Kubelet]]]]:
    servers: list[asyncio.AbstractServer] = []
    made: list[Kubelet] = []

    async def make(behaviours: dict[str, str], ssl_ctx: ssl.SSLContext | None = None) -> dict[str, Kubelet]:
        out = {}
        for name, b in behaviours.items():
            k = Kubelet(b)
            servers.append(await start_kubelet(k, name, ssl_ctx))
            out[name] = k
            made.append(k)
        return out

    yield make  # type: ignore[misc]
    for s in servers:
        s.close()
    for k in made:
        for w in k.writers:
            w.close()
    for k in made:
        for w in k.writers:
            with contextlib.suppress(Exception):
                await w.wait_closed()
    for s in servers:
        await s.wait_closed()


def cache_for(kubelets: dict[str, Kubelet], annotations: dict[str, str] | None = None) -> NodeCache:
    nc = NodeCache()
    nodes, _ = decode_structs(
        [node(n, {"pool": n[:3]}, port=k.port, annotations=annotations) for n, k in kubelets.items()], []
    )
    nc.replace_begin()
    for n in nodes:
        nc.upsert(n)
    nc.replace_end()
    return nc


def settings(**kw: object) -> KubeletSettings:
    base: dict[str, object] = {
        "preferred_address_types": ("InternalIP",),
        "use_node_status_port": True,
        "completely_insecure": True,
        "request_timeout": 1.0,
        "max_response_bytes": 16 << 10,
    }
    base.update(kw)
    return KubeletSettings(**base)  # type: ignore[arg-type]


async def test_a_bad_node_never_stops_the_cycle(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]],
) -> None:
    ks = await kubelets(
        {
            "good-1": "good",
            "good-2": "slow",
            "garbage": "garbage",
            "truncated": "truncated",
            "huge": "huge",
            "error": "error",
            "hang": "hang",
        }
    )
    metrics = SelfMetrics(5.0)
    s = Scraper(settings(), cache_for(ks), metrics, resolution=5.0, rng=random.Random(1))
    try:
        result = await s.scrape()
    finally:
        await s.close()
    assert result.attempted == 7 and result.scraped == 2
    assert set(result.nodes) == {"good-1", "good-2"}
    assert set(result.pods) == {("ns", "p-good-1"), ("ns", "p-good-2")}
    assert metrics.scrape_errors == {"parse": 1, "truncated": 1, "too_large": 1, "http_500": 1, "timeout": 1}
    assert (metrics.kubelet_ok, metrics.kubelet_failed) == (2, 5)
    assert set(metrics.nodes) == set(ks)
    text = metrics.render().decode()
    assert 'metrics_server_kubelet_request_total{success="false"} 5' in text
    assert 'kubescope_resource_kubelet_scrape_errors_total{reason="timeout"} 1' in text


async def test_concurrency_is_bounded(kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]]) -> None:
    ks = await kubelets({f"n{i}": "slow" for i in range(6)})
    in_flight = 0
    peak = 0
    s = Scraper(settings(max_concurrent=2), cache_for(ks), SelfMetrics(5.0), resolution=5.0)
    original = s.fetch

    async def counting(info):  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(info)
        finally:
            in_flight -= 1

    s.fetch = counting  # type: ignore[method-assign]
    try:
        result = await s.scrape()
    finally:
        await s.close()
    assert result.scraped == 6
    assert peak == 2


async def test_stagger_is_metrics_servers(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]],
) -> None:
    ks = await kubelets({f"n{i}": "good" for i in range(3)})

    class Recording(random.Random):
        bounds: list[int] = []  # noqa: RUF012

        def randrange(self, stop: int) -> int:  # type: ignore[override]
            self.bounds.append(stop)
            return 0

    rng = Recording()
    s = Scraper(settings(), cache_for(ks), SelfMetrics(5.0), resolution=5.0, rng=rng)
    try:
        await s.scrape()
    finally:
        await s.close()
    assert rng.bounds == [24, 24, 24]  # min(8 ms x 3 nodes, 4 s)
    assert min(8 * 5000, MAX_DELAY_MS) == 4000


@pytest.mark.parametrize(("keepalive", "connections"), [(False, 3), (True, 1), (None, 1)])
async def test_connection_per_scrape_unless_keepalive(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]], keepalive: bool | None, connections: int
) -> None:
    ks = await kubelets({"a": "good"})
    s = Scraper(settings(keepalive=keepalive), cache_for(ks), SelfMetrics(5.0), resolution=5.0)
    try:
        for _ in range(3):
            assert (await s.scrape()).scraped == 1
    finally:
        await s.close()
    assert ks["a"].paths == ["/metrics/resource"] * 3
    assert ks["a"].connections == connections


async def test_node_selector_and_path_annotation(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]],
) -> None:
    ks = await kubelets({"gpu-1": "good", "cpu-1": "good"})
    nc = cache_for(ks, annotations={PATH_ANNOTATION: "/custom/resource"})
    s = Scraper(
        settings(node_selector=parse_label_selector("pool=gpu")), nc, SelfMetrics(5.0), resolution=5.0
    )
    try:
        result = await s.scrape()
    finally:
        await s.close()
    assert set(result.nodes) == {"gpu-1"}
    assert ks["gpu-1"].paths == ["/custom/resource"]
    assert ks["cpu-1"].paths == []


async def test_https_with_ca_bearer_token_and_insecure_mode(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]], tmp_path: Path
) -> None:
    ca = make_ca("kubelet-ca")
    serving = issue(ca, "kubelet", client=False, ips=("127.0.0.1",))
    cert, key = serving.write(tmp_path, "kubelet")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    ks = await kubelets({"tls": "good"}, server_ctx)
    creds = Credentials(Connection(server="https://127.0.0.1:1", authorization="Bearer sa-token"))
    (tmp_path / "ca.crt").write_bytes(ca.pem)
    variants = {
        "ca flag": settings(completely_insecure=False, certificate_authority=str(tmp_path / "ca.crt")),
        "insecure": settings(completely_insecure=False, insecure_tls=True),
    }
    for what, ksettings in variants.items():
        s = Scraper(ksettings, cache_for(ks), SelfMetrics(5.0), resolution=5.0, credentials=creds)
        try:
            assert (await s.scrape()).scraped == 1, what
        finally:
            await s.close()
    assert ks["tls"].auth == ["Bearer sa-token", "Bearer sa-token"]
    # without the CA the kubelet's certificate is refused
    s = Scraper(
        settings(completely_insecure=False),
        cache_for(ks),
        SelfMetrics(5.0),
        resolution=5.0,
        credentials=creds,
    )
    try:
        assert (await s.scrape()).scraped == 0
        assert s.metrics.scrape_errors == {"connect": 1}
    finally:
        await s.close()


def test_addresses_ports_and_proxy_urls() -> None:
    (n,) = decode_structs([node("n1", port=10999, ip="10.0.0.5")], [])[0]
    info = node_info(n)
    assert target_url(info, settings(completely_insecure=False, use_node_status_port=False)) == (
        "https://10.0.0.5:10250/metrics/resource"
    )
    assert target_url(info, settings()) == "http://10.0.0.5:10999/metrics/resource"
    assert target_url(info, settings(preferred_address_types=("Hostname", "InternalIP"))) == (
        "http://n1:10999/metrics/resource"
    )
    assert target_url(info, settings(via_apiserver=True), "https://api:6443/") == (
        "https://api:6443/api/v1/nodes/n1/proxy/metrics/resource"
    )
    with pytest.raises(ScrapeError, match=r"no address matched types \[ExternalIP\]"):
        target_url(info, settings(preferred_address_types=("ExternalIP",)))
    (v6,) = decode_structs([node("n2", ip="fd00::1")], [])[0]
    assert (
        target_url(node_info(v6), settings(use_node_status_port=False))
        == "http://[fd00::1]:10250/metrics/resource"
    )


async def test_duplicate_pods_keep_the_first_report() -> None:
    from kubescope.kubelet.parser import NodeBatch, parse_body
    from kubescope.kubelet.scraper import CycleResult

    s = Scraper(settings(), NodeCache(), SelfMetrics(5.0), resolution=5.0)
    body = GOOD.replace(b"NODE", b"x")
    result = CycleResult()
    first = parse_body(body, 0)
    second = parse_body(body.replace(b"1024 ", b"2048 "), 0)
    s._merge(result, "a", first)
    s._merge(result, "b", NodeBatch(None, second.pods, 0, 0))
    assert result.pods[("ns", "p-x")]["c"].mem == 1024
    assert s.metrics.duplicate_points == 1


def test_auto_keeps_connections() -> None:
    auto = Scraper(settings(keepalive=None), NodeCache(), SelfMetrics(5.0), resolution=5.0)
    assert auto.keepalive_for(1) and auto.keepalive_for(5000)
    forced = Scraper(settings(keepalive=False), NodeCache(), SelfMetrics(5.0), resolution=5.0)
    assert not forced.keepalive_for(5000)


async def test_kept_connection_closed_by_the_kubelet_is_replaced(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]],
) -> None:
    ks = await kubelets({"a": "close-idle"})
    s = Scraper(settings(), cache_for(ks), SelfMetrics(5.0), resolution=5.0)
    try:
        for _ in range(3):
            await asyncio.sleep(0.1)  # the kubelet has closed the previous connection by now
            assert (await s.scrape()).scraped == 1
    finally:
        await s.close()
    assert ks["a"].connections == 3
    assert s.metrics.scrape_errors == {}


async def test_compressed_answers_are_inflated_within_the_size_cap(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]],
) -> None:
    ks = await kubelets({"gz": "gzip", "bomb": "gzip-bomb"})
    s = Scraper(settings(max_response_bytes=1 << 20), cache_for(ks), SelfMetrics(5.0), resolution=5.0)
    try:
        result = await s.scrape()
    finally:
        await s.close()
    assert set(result.nodes) == {"gz"}
    assert s.metrics.scrape_errors == {"too_large": 1}
    # the bomb stopped within one inflation step (64 KiB) past the cap, not after 64 MiB
    good = len(GOOD.replace(b"NODE", b"gz"))
    assert s.metrics.bytes_read <= good + (1 << 20) + (64 << 10)


async def test_a_failing_kubelet_is_logged_when_its_state_changes(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]], caplog: pytest.LogCaptureFixture
) -> None:
    ks = await kubelets({"flaky": "error-varying"})
    s = Scraper(settings(), cache_for(ks), SelfMetrics(5.0), resolution=5.0)

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]

    with caplog.at_level(logging.INFO, logger="kubescope.kubelet.scraper"):
        try:
            for _ in range(3):  # a different error body every time
                assert (await s.scrape()).scraped == 0
            assert logged() == ["failed to scrape node"]
            ks["flaky"].behaviour = "good"
            for _ in range(2):
                assert (await s.scrape()).scraped == 1
            assert logged() == ["failed to scrape node", "scraping node works again"]
            ks["flaky"].behaviour = "garbage"
            for _ in range(2):
                await s.scrape()
        finally:
            await s.close()
    assert logged() == ["failed to scrape node", "scraping node works again", "failed to scrape node"]
    assert s.metrics.scrape_errors == {"http_500": 3, "parse": 2}


async def test_duplicate_series_and_nan_values_are_counted_and_logged_once(
    kubelets: Callable[..., asyncio.Future[dict[str, Kubelet]]], caplog: pytest.LogCaptureFixture
) -> None:
    ks = await kubelets({"odd": "bad-samples"})
    s = Scraper(settings(), cache_for(ks), SelfMetrics(5.0), resolution=5.0)
    with caplog.at_level(logging.WARNING, logger="kubescope.kubelet.scraper"):
        try:
            for _ in range(3):
                result = await s.scrape()
                assert set(result.pods) == {("ns", "p-odd")}  # the NaN container's pod is dropped
        finally:
            await s.close()
    assert s.metrics.bad_samples == {"duplicate": 3, "nan": 3}
    reasons = sorted(r.__dict__["fields"]["reason"] for r in caplog.records)
    assert reasons == ["duplicate", "nan"]
    text = s.metrics.render().decode()
    assert 'kubescope_resource_kubelet_bad_samples_total{reason="duplicate"} 3' in text


def test_node_cpu_capacity_is_read_from_its_status() -> None:
    nodes, _ = decode_structs([node("a", cpu="3500m"), node("b", cpu="4"), node("c"), node("d", cpu="x")], [])
    assert [node_info(n).cpu_capacity for n in nodes] == [3_500_000_000, 4_000_000_000, 0, 0]
