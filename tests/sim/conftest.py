"""Fixtures for the simulator tests: an in-process simulator on a loopback port and a small client.

``api`` serves plain HTTP (no authentication, fastest); ``tls_api`` serves HTTPS with the generated
CA and bearer tokens, with users from an auth file. Both start with an empty cluster (``--nodes=0``)
unless a test builds its own :class:`SimSettings`.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from kubescope.sim.server import SimSettings, Simulator

AUTH_FILE = {
    "tokens": [
        {"token": "alice-token", "user": "alice", "groups": ["dev"]},
        {"token": "bob-token", "user": "bob", "groups": []},
        {"token": "monitor-token", "user": "prom", "groups": ["monitoring"]},
    ],
    "rules": [
        {
            "users": ["alice"],
            "verbs": ["get", "list", "watch"],
            "resources": ["pods"],
            "namespaces": ["shop"],
        },
        {"groups": ["monitoring"], "verbs": ["get"], "nonResourceURLs": ["/metrics"]},
    ],
}


class Api:
    """A client for one simulator: JSON requests, raw requests and watch streams."""

    def __init__(
        self, sim: Simulator, session: aiohttp.ClientSession, ssl_ctx: ssl.SSLContext | None
    ) -> None:
        self.sim = sim
        self.session = session
        self.url = sim.url
        self.ssl = ssl_ctx if ssl_ctx is not None else False
        self.token = sim.auth.admin_token

    def _headers(self, token: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        h = {"Accept": "application/json"}
        tok = self.token if token is None else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        h.update(extra or {})
        return h

    async def raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, aiohttp.typedefs.LooseHeaders]:
        async with self.session.request(
            method, self.url + path, data=body, headers=self._headers(token, headers), ssl=self.ssl
        ) as r:
            return r.status, await r.read(), r.headers

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs["Content-Type"] = content_type
        code, raw, _ = await self.raw(method, path, data, token=token, headers=hdrs)
        return code, (json.loads(raw) if raw.strip() else None)

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        code, doc = await self.call(method, path, body, **kw)
        assert 200 <= code < 300, f"{method} {path}: {code} {doc}"
        return doc

    async def watch(
        self,
        path: str,
        until: Callable[[list[dict[str, Any]]], bool],
        *,
        timeout: float = 60.0,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        during: Callable[[], Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Open ``path`` (a watch URL), run ``during`` once the stream is open, collect events
        until ``until(events)`` holds or the server ends the stream."""
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        async with self.session.get(
            self.url + path, headers=self._headers(token, headers), ssl=self.ssl
        ) as r:
            assert r.status == 200, await r.text()
            if during is not None:
                res = during()
                if asyncio.iscoroutine(res):
                    await res
            while not until(events):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"watch {path}: condition not met in {timeout}s; got {events}")
                line = await asyncio.wait_for(r.content.readline(), left)
                if not line:
                    break
                events.append(json.loads(line))
        return events


async def start_api(tmp: Path, **settings: Any) -> tuple[Simulator, Api]:
    defaults: dict[str, Any] = {
        "nodes": 0,
        "port": 0,
        "tls": False,
        "kubelets": False,
        "state_dir": str(tmp / "state"),
        "bookmark_interval": 0.3,
        "apiservice_check_interval": 0.2,
    }
    defaults.update(settings)
    sim = Simulator(SimSettings(**defaults))
    await sim.start()
    ctx = None
    if sim.pki is not None:
        ctx = ssl.create_default_context(cadata=sim.pki.ca.pem.decode())
    session = aiohttp.ClientSession(read_bufsize=1 << 20)
    return sim, Api(sim, session, ctx)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    sim, client = await start_api(tmp_path)
    try:
        yield client
    finally:
        await client.session.close()
        await sim.stop()


@pytest.fixture
async def tls_api(tmp_path: Path) -> AsyncIterator[Api]:
    auth = tmp_path / "auth.yaml"
    auth.write_text(yaml.safe_dump(AUTH_FILE))
    sim, client = await start_api(tmp_path, tls=True, auth_file=str(auth))
    try:
        yield client
    finally:
        await client.session.close()
        await sim.stop()


def pod(
    name: str,
    ns: str = "default",
    labels: dict[str, str] | None = None,
    node: str = "",
    phase: str = "Running",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": phase},
    }


def configmap(name: str, ns: str = "default", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }
