"""Resources the API server does not serve, or forbids listing, do not keep /readyz at 503: they are
skipped (not served: from discovery, checked again) or retried without being waited for (403/404),
each named once in the log and in kubescope_state_resource_unavailable."""

from __future__ import annotations

import argparse
import logging
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
from tests.kube.conftest import until
from tests.kube.fakeapi import FakeApi, Fault

# the landing pages are routed as lambdas returning coroutines (aiohttp deprecates that)
pytestmark = pytest.mark.filterwarnings("ignore:Bare functions are deprecated:DeprecationWarning")

NOT_FOUND = Fault(404, "NotFound", "the server could not find the requested resource")
FORBIDDEN = Fault(403, "Forbidden", 'pods is forbidden: User "ksm" cannot list resource "pods"')


@pytest.fixture
async def fake() -> AsyncIterator[FakeApi]:
    api = await FakeApi().start()
    yield api
    await api.stop()


@pytest.fixture
async def exporter(fake: FakeApi, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Callable[..., Any]]:
    monkeypatch.setattr(app_module, "INTERVAL", 0.2)  # discovery read again every 0.2 s
    started: list[StateExporter] = []
    client = KubeClient.from_connection(Connection(server=fake.url))

    async def start(*flags: str) -> StateExporter:
        p = argparse.ArgumentParser()
        state_flags.configure(p)
        s = st.from_args(
            p.parse_args(["--host=127.0.0.1", "--port=0", "--telemetry-host=127.0.0.1", "--telemetry-port=0", *flags])
        )
        ex = StateExporter(s, client)
        await ex.start()
        started.append(ex)
        return ex

    yield start
    for ex in started:
        await ex.stop()
    await client.close()


async def readyz(ex: StateExporter) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{ex.ports[1]}/readyz") as r:
        return r.status, await r.text()


async def telemetry(ex: StateExporter) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{ex.ports[1]}/metrics") as r:
        return await r.text()


async def test_a_resource_not_served_is_skipped_and_watched_once_it_appears(
    fake: FakeApi, exporter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add(1)
    fake.discovery = {"/api/v1": []}  # an API server without pods (nor the admissionregistration group)
    with caplog.at_level(logging.WARNING):
        ex = await exporter("--resources=pods,mutatingadmissionpolicies")
    assert await readyz(ex) == (200, "OK")
    assert ex.runtimes == {}
    assert ex.unavailable() == [("mutatingadmissionpolicies", "not_served"), ("pods", "not_served")]
    skipped = [r for r in caplog.records if r.getMessage() == "resource not served by the API server, skipped"]
    assert [r.fields["resource"] for r in skipped] == ["mutatingadmissionpolicies", "pods"]  # type: ignore[attr-defined]
    assert [r.fields["group_version"] for r in skipped] == ["admissionregistration.k8s.io/v1", "v1"]  # type: ignore[attr-defined]
    tel = await telemetry(ex)
    assert 'kubescope_state_resource_unavailable{reason="not_served",resource="pods"} 1' in tel
    assert not [q for p, q, _ in fake.requests if p == "/api/v1/pods"]  # never asked for

    # an upgrade: the API server serves pods now
    fake.discovery = {"/api/v1": ["pods"]}
    await until(lambda: "pods" in ex.runtimes and ex.ready(), what="pods watched")
    await until(lambda: len(ex.runtimes["pods"].stores[0]) == 1, what="pods synced")
    assert ex.unavailable() == [("mutatingadmissionpolicies", "not_served")]

    # and stops serving them: the list is answered 404, discovery agrees, the metrics go
    fake.discovery = {"/api/v1": []}
    fake.pods_answer = NOT_FOUND
    fake.compacted = fake.rv + 1
    fake.drop_watches()
    await until(lambda: "pods" not in ex.runtimes, what="pods dropped")
    assert ("pods", "not_served") in ex.unavailable()


async def test_a_forbidden_resource_is_not_waited_for_and_synced_once_allowed(
    fake: FakeApi, exporter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add(1)
    fake.pods_answer = FORBIDDEN
    with caplog.at_level(logging.WARNING):
        ex = await exporter("--resources=pods")
        await until(ex.ready, what="ready without pods")
    assert ex.unavailable() == [("pods", "forbidden")]
    assert await readyz(ex) == (200, "OK")
    assert 'kubescope_state_resource_unavailable{reason="forbidden",resource="pods"} 1' in await telemetry(ex)
    failures = [r for r in caplog.records if "forbidden" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]  # once, not at every retry
    assert "cannot list resource" in failures[0].fields["error"]  # type: ignore[attr-defined]
    # RBAC fixed: the retries (with backoff) get through
    fake.pods_answer = None
    await until(ex.runtimes["pods"].synced, what="pods synced once allowed")
    assert ex.unavailable() == []
    assert len(ex.runtimes["pods"].stores[0]) == 1


async def test_readiness_waits_for_resources_that_can_be_listed(fake: FakeApi, exporter: Any) -> None:
    fake.add(1)
    fake.continue_delay = 0.0
    fake.faults["list"] += [Fault(500, "InternalError", "etcd timeout")] * 2  # failing, not forbidden
    ex = await exporter("--resources=pods")
    status, text = await readyz(ex)
    assert status == 503 and "informer-sync failed" in text
    await until(ex.ready, what="ready after the retries")
