"""Credentials: when they are refreshed, and what a failed refresh leaves in place (no subprocess)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubescope.errors import ConfigError
from kubescope.kube.config import Connection, Source
from kubescope.kube.credentials import Credentials


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


class Resolver:
    """Stands in for the loader subprocess: hands out token-1, token-2... or fails."""

    def __init__(self, clock: Clock, ttl: float | None = 100.0) -> None:
        self.clock = clock
        self.ttl = ttl
        self.calls = 0
        self.fail = False

    def first(self) -> Connection:
        return self.make(0)

    def make(self, n: int) -> Connection:
        expiry = self.clock() + self.ttl if self.ttl else None
        return Connection(server="http://127.0.0.1:1", authorization=f"Bearer token-{n}", expiry=expiry)

    async def __call__(self, source: Source, environ: Any) -> Connection:
        self.calls += 1
        if self.fail:
            raise ConfigError("exec: process returned 1")
        return self.make(self.calls)


SOURCE = Source("kubeconfig", kubeconfig="/kc")


async def test_exec_credentials_refresh_shortly_before_expiry() -> None:
    clock = Clock()
    res = Resolver(clock, ttl=100)
    creds = Credentials(res.first(), source=SOURCE, resolver=res, clock=clock)
    g0 = creds.generation
    clock.t += 79
    await creds.ensure_fresh()
    assert res.calls == 0 and creds.headers["Authorization"] == "Bearer token-0"
    clock.t += 1.5  # inside the last 20% of the lifetime
    await creds.ensure_fresh()
    assert res.calls == 1 and creds.headers["Authorization"] == "Bearer token-1"
    assert creds.generation == g0 + 1 and creds.refreshes == 1


async def test_failed_refresh_keeps_the_old_credentials_and_retries_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    res = Resolver(clock, ttl=100)
    creds = Credentials(res.first(), source=SOURCE, resolver=res, clock=clock)
    res.fail = True
    clock.t += 90
    await creds.ensure_fresh()
    assert creds.headers["Authorization"] == "Bearer token-0" and creds.refresh_failures == 1
    await creds.ensure_fresh()
    assert res.calls == 1  # not again before RETRY_FAILED_REFRESH
    res.fail = False
    clock.t += 10
    await creds.ensure_fresh()
    assert creds.headers["Authorization"] == "Bearer token-2"
    assert "token-0" not in caplog.text


async def test_401_refreshes_once_per_generation() -> None:
    clock = Clock()
    res = Resolver(clock, ttl=None)
    creds = Credentials(res.first(), source=SOURCE, resolver=res, clock=clock)
    gen = creds.generation
    assert not await creds.unauthorized(gen)  # just loaded: a new run would give the same answer
    clock.t += 2
    assert await creds.unauthorized(gen)
    assert res.calls == 1
    # a second request that failed with the old credentials retries without another run
    assert await creds.unauthorized(gen)
    assert res.calls == 1


async def test_fixed_credentials_are_never_refreshed() -> None:
    creds = Credentials(Connection(server="http://127.0.0.1:1", authorization="Bearer x"))
    await creds.ensure_fresh()
    assert not await creds.unauthorized(creds.generation)


async def test_token_file_is_re_read_every_minute(tmp_path: Path) -> None:
    clock = Clock()
    token = tmp_path / "token"
    token.write_text("one\n")
    creds = Credentials(
        Connection(server="http://127.0.0.1:1", token_file=str(token)),
        source=Source("in-cluster", service_account_dir=str(tmp_path)),
        clock=clock,
    )
    assert creds.headers == {"Authorization": "Bearer one"}
    token.write_text("two")
    clock.t += 30
    await creds.ensure_fresh()
    assert creds.headers == {"Authorization": "Bearer one"}
    clock.t += 31
    await creds.ensure_fresh()
    assert creds.headers == {"Authorization": "Bearer two"}
    token.unlink()  # a missing file keeps the last token
    clock.t += 61
    await creds.ensure_fresh()
    assert creds.headers == {"Authorization": "Bearer two"}
