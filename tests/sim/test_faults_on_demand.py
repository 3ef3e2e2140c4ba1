"""Faults set live through POST /_sim/faults, and GET /_sim/stats."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from kubescope.errors import ConfigError
from kubescope.sim.faults import Faults
from tests.sim.conftest import Api, configmap

CMS = "/api/v1/namespaces/default/configmaps"


async def test_control_needs_an_admin(tls_api: Api) -> None:
    code, doc = await tls_api.call("POST", "/_sim/faults", {"error_fraction": 1}, token="bob-token")
    assert code == 403 and doc["reason"] == "Forbidden"
    code, _ = await tls_api.call("GET", "/_sim/stats", token="")
    assert code == 401


async def test_unknown_or_bad_settings_are_refused_whole(api: Api) -> None:
    code, doc = await api.call("POST", "/_sim/faults", {"error_fraction": 0.5, "nonsense": 1})
    assert code == 400 and "unknown fault 'nonsense'" in doc["message"]
    code, doc = await api.call("POST", "/_sim/faults", {"error_fraction": 2})
    assert code == 400 and "between 0 and 1" in doc["message"]
    assert (await api.ok("GET", "/_sim/faults"))["error_fraction"] == 0.0


async def test_429_with_retry_after_then_reset(api: Api) -> None:
    await api.ok("POST", "/_sim/faults", {"error_fraction": 1, "error_code": 429, "retry_after": 3})
    code, raw, headers = await api.raw("GET", CMS)
    doc = json.loads(raw)
    assert (code, doc["reason"], headers["Retry-After"]) == (429, "TooManyRequests", "3")
    assert doc["details"] == {"retryAfterSeconds": 3}
    await api.ok("POST", "/_sim/faults", {"reset": True})
    assert (await api.raw("GET", CMS))[0] == 200


async def test_500s_for_a_share_of_requests(api: Api) -> None:
    await api.ok("POST", "/_sim/faults", {"error_fraction": 0.5, "error_code": 500, "seed": 7})
    codes = [(await api.raw("GET", CMS))[0] for _ in range(40)]
    assert set(codes) == {200, 500}
    assert 8 <= codes.count(500) <= 32
    _, raw, _ = next((c, r, h) for c, r, h in [await api.raw("GET", CMS) for _ in range(20)] if c == 500)
    assert json.loads(raw)["reason"] == "InternalError"
    assert (await api.ok("GET", "/_sim/stats"))["errorsInjected"] >= 8


async def test_delays(api: Api) -> None:
    await api.ok("POST", "/_sim/faults", {"delay_fraction": 1, "delay_seconds": 0.3})
    t0 = time.monotonic()
    await api.ok("GET", CMS)
    assert time.monotonic() - t0 >= 0.3


async def test_next_watches_get_410(api: Api) -> None:
    await api.ok("POST", "/_sim/faults", {"gone_next_watches": 2})
    for _ in range(2):
        evs = await api.watch(f"{CMS}?watch=true&resourceVersion=1", lambda e: False)
        assert evs[0]["type"] == "ERROR" and evs[0]["object"]["code"] == 410
        assert evs[0]["object"]["reason"] == "Expired"
    evs = await api.watch(f"{CMS}?watch=true&timeoutSeconds=1", lambda e: False)
    assert evs == []


async def test_drop_watches_cuts_open_streams(api: Api) -> None:
    async def drop() -> None:
        await asyncio.sleep(0.1)
        assert api.sim.store.watcher_count() == 1
        await api.ok("POST", "/_sim/faults", {"drop_watches": True})

    # a stream left open would end at the helper's deadline with a TimeoutError, not cut mid-body
    with pytest.raises(aiohttp.ClientPayloadError):
        await api.watch(
            f"{CMS}?watch=true", lambda e: False, during=lambda: asyncio.ensure_future(drop()), timeout=30
        )
    assert api.sim.store.watcher_count() == 0


async def test_malformed_line_then_the_stream_goes_on(api: Api) -> None:
    lines: list[bytes] = []
    async with api.session.get(
        api.url + CMS + "?watch=true&resourceVersion=" + str(api.sim.store.resource_version)
    ) as r:
        await api.ok("POST", "/_sim/faults", {"malformed_event": True})
        await api.ok("POST", CMS, configmap("after"))
        while len(lines) < 2:
            lines.append(await asyncio.wait_for(r.content.readline(), 60))
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])
    assert json.loads(lines[1])["object"]["metadata"]["name"] == "after"


async def test_stats(api: Api) -> None:
    await api.ok("POST", CMS, configmap("a"))
    stats = await api.ok("GET", "/_sim/stats")
    assert stats["objects"]["configmaps"] == 1
    assert stats["objects"]["namespaces"] == 4
    assert stats["resourceVersion"] == api.sim.store.resource_version
    assert stats["watchers"] == 0 and stats["requests"] >= 2


def test_kubelet_fault_fields_are_plain_settings() -> None:
    f = Faults()
    f.update({"kubelet_slow_fraction": "0.5", "kubelet_slow_seconds": 2, "kubelet_error_fraction": 0.1})
    assert (f.kubelet_slow_fraction, f.kubelet_slow_seconds, f.kubelet_error_fraction) == (0.5, 2.0, 0.1)
    with pytest.raises(ConfigError, match="expected a number"):
        f.update({"kubelet_garbage_fraction": "lots"})


async def test_a_bug_answers_a_500_status_and_is_counted(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> dict:
        raise KeyError("nope")

    api.sim.api.add_control("broken", broken)
    code, doc = await api.call("GET", "/_sim/broken")
    assert code == 500 and doc["reason"] == "InternalError" and "KeyError" in doc["message"]
    assert (await api.ok("GET", "/_sim/stats"))["internalErrors"] == 1
    assert "request failed" in caplog.text
