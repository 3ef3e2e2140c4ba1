"""The simulator on the serving core: kube-style health endpoints anyone may read, a supervised
APIService availability loop that readiness names when it is down, self metrics behind the API's
authorization, and one graceful shutdown that closes open watches first."""

from __future__ import annotations

import asyncio
import time

from tests.sim.conftest import Api


async def test_health_is_kube_style_and_needs_no_credentials(tls_api: Api) -> None:
    code, body, _ = await tls_api.raw("GET", "/readyz?verbose", token="")
    text = body.decode()
    assert code == 200 and "[+]ping ok" in text and text.rstrip().endswith("readyz check passed")
    code, body, _ = await tls_api.raw("GET", "/livez", token="")
    assert (code, body) == (200, b"ok")
    # everything else still wants credentials
    code, _, _ = await tls_api.raw("GET", "/api/v1/namespaces", token="")
    assert code == 401


async def test_a_dead_availability_loop_is_restarted_and_readiness_says_so(api: Api) -> None:
    supervisor = api.sim.server.supervisor
    supervisor.kill("apiservice-availability", hold=True)
    await asyncio.sleep(0.1)
    code, body, _ = await api.raw("GET", "/readyz?verbose")
    assert code == 500 and "[-]task/apiservice-availability failed" in body.decode()
    supervisor.restart_now("apiservice-availability")
    deadline = time.monotonic() + 60
    while (await api.raw("GET", "/readyz"))[0] != 200:
        assert time.monotonic() < deadline, "readiness did not come back"
        await asyncio.sleep(0.05)


async def test_metrics_need_authorization_and_carry_the_servers_self_metrics(tls_api: Api) -> None:
    code, _, _ = await tls_api.raw("GET", "/metrics", token="alice-token")  # no rule gives alice /metrics
    assert code == 403
    code, body, _ = await tls_api.raw("GET", "/metrics", token="monitor-token")
    text = body.decode()
    assert code == 200
    assert 'kubescope_task_up{task="apiservice-availability"} 1' in text
    assert "process_resident_memory_bytes " in text
    assert 'kubernetes_feature_enabled{name="WatchList",stage="BETA"} 1' in text


async def test_shutdown_ends_open_watches_cleanly(api: Api) -> None:
    path = "/api/v1/namespaces/default/configmaps?watch=true"
    async with api.session.get(api.url + path, headers=api._headers(None, None), ssl=api.ssl) as r:
        assert r.status == 200
        stop = asyncio.create_task(api.sim.stop())
        # the chunked body ends cleanly: a watch left to the drain deadline is cut (a payload error)
        body = await asyncio.wait_for(r.content.read(), 30)
        await stop
    assert body == b""
