"""KubeClient: headers it sends, bodies it returns, and the error class for every failure."""

from __future__ import annotations

import json
import socket

import pytest

from kubescope import __version__
from kubescope.errors import (
    ApiStatusError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    ServerError,
    TooManyRequests,
    TransportError,
    TransportTimeout,
    UnauthorizedError,
)
from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection
from tests.kube.fakeapi import FakeApi, Fault


async def test_sends_json_accept_user_agent_and_gzip(fake: FakeApi, client: KubeClient) -> None:
    assert await client.check() == "v1.37.0-fake"
    headers = fake.requests[-1][2]
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == f"kubescope/{__version__}"
    assert "gzip" in headers["Accept-Encoding"]
    assert "Authorization" not in headers


async def test_gzip_answers_are_inflated(fake: FakeApi, client: KubeClient) -> None:
    for i in range(300):
        fake.add(i)
    plain = await client.get("/api/v1/pods")
    fake.gzip = True
    assert await client.get("/api/v1/pods") == plain
    assert len(json.loads(plain)["items"]) == 300


async def test_request_sends_a_json_body(client: KubeClient) -> None:
    got = json.loads(await client.request("POST", "/echo", None, {"kind": "Thing", "n": 1}))
    assert got == {"method": "POST", "contentType": "application/json", "body": '{"kind":"Thing","n":1}'}


async def test_create_tells_created_from_already_there(fake: FakeApi, client: KubeClient) -> None:
    assert await client.create("/echo", {"kind": "Thing"}, exist_ok=True) is True
    fake.faults["other"].append(Fault(409, "AlreadyExists", 'things "a" already exists'))
    assert await client.create("/echo", {"kind": "Thing"}, exist_ok=True) is False
    fake.faults["other"].append(Fault(409, "AlreadyExists", 'things "a" already exists'))
    with pytest.raises(ApiStatusError, match="already exists"):
        await client.create("/echo", {"kind": "Thing"})
    fake.faults["other"].append(Fault(403, "Forbidden", "forbidden"))
    with pytest.raises(ForbiddenError):
        await client.create("/echo", {"kind": "Thing"}, exist_ok=True)
    assert [r[0] for r in fake.requests[-4:]] == ["/echo"] * 4


@pytest.mark.parametrize(
    ("fault", "cls", "text"),
    [
        (Fault(404, "NotFound", 'pods "x" not found'), NotFoundError, 'GET /version: pods "x" not found'),
        (Fault(403, "Forbidden", "forbidden"), ForbiddenError, "403 Forbidden"),
        (Fault(410, "Expired", "too old resource version"), GoneError, "410 Expired"),
        (Fault(410, "Gone", "gone"), GoneError, "gone"),
        (Fault(500, "InternalError", "etcd"), ServerError, "500 InternalError"),
        (Fault(504, body=b"<html>upstream timed out</html>"), ServerError, "upstream timed out"),
        (Fault(422, "Invalid", "bad"), ApiStatusError, "422 Invalid"),
    ],
)
async def test_status_answers_map_to_error_classes(
    fake: FakeApi, client: KubeClient, fault: Fault, cls: type[Exception], text: str
) -> None:
    fake.faults["other"].append(fault)
    with pytest.raises(cls) as info:
        await client.get("/version")
    assert type(info.value) is cls
    assert text in str(info.value)


async def test_retry_after_from_header_or_status_details(fake: FakeApi, client: KubeClient) -> None:
    fake.faults["other"].append(Fault(429, "TooManyRequests", "slow", headers={"Retry-After": "3"}))
    with pytest.raises(TooManyRequests) as info:
        await client.get("/version")
    assert info.value.retry_after == 3.0
    body = {
        "kind": "Status",
        "code": 429,
        "reason": "TooManyRequests",
        "message": "slow",
        "details": {"retryAfterSeconds": 7},
    }
    fake.faults["other"].append(Fault(429, body=json.dumps(body).encode()))
    with pytest.raises(TooManyRequests) as info:
        await client.get("/version")
    assert info.value.retry_after == 7.0


async def test_unauthorized_with_fixed_credentials_is_not_retried_and_hides_the_token(fake: FakeApi) -> None:
    fake.tokens = {"the-right-token"}
    secret = "wrong-token-0123456789abcdef"
    conn = Connection(server=fake.url, authorization=f"Bearer {secret}")
    assert secret not in repr(conn)
    async with KubeClient.from_connection(conn) as client:
        with pytest.raises(UnauthorizedError) as info:
            await client.get("/version")
    assert secret not in str(info.value)
    assert len(fake.requests) == 1


async def test_refused_connection_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with KubeClient.from_connection(Connection(server=f"http://127.0.0.1:{port}")) as client:
        with pytest.raises(TransportError) as info:
            await client.get("/version")
    assert not isinstance(info.value, TransportTimeout)
    assert f"127.0.0.1:{port}" in str(info.value)


async def test_silent_stream_times_out(fake: FakeApi, client: KubeClient) -> None:
    fake.silent = True
    async with client.stream("/api/v1/pods", {"watch": "true"}, read_timeout=0.2) as lines:
        with pytest.raises(TransportTimeout, match="timed out"):
            await lines.next_batch()


async def test_stream_yields_lines_across_reads(fake: FakeApi, client: KubeClient) -> None:
    for i in range(50):
        fake.add(i)
    fake.end_watches()
    got: list[bytes] = []
    async with client.stream("/api/v1/pods", {"watch": "true", "resourceVersion": "100"}) as lines:
        fake.end_watches()
        async for line in lines:
            got.append(line)
    assert [json.loads(x)["object"]["metadata"]["name"] for x in got] == [f"pod-{i}" for i in range(50)]
