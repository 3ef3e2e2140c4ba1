"""Kubelets on loopback for the simulator's nodes, with a known usage model (the truth).

Each node gets an HTTPS ``/metrics/resource`` endpoint on its own port, in a background thread with
its own event loop (tests drive kubectl synchronously). Every container of every Running pod the
simulator places on that node uses a fixed CPU rate and working set, derived from its name, so
``kubectl top`` has exact expected values:

* CPU rates are ``(k + 0.3)`` millicores: kubectl rounds milli-values up, and a sum of up to three
  such containers never lands within a few nano-cores of a whole millicore, so float rounding in the
  cumulative counters cannot flip kubectl's output;
* working sets are whole MiB, kubectl's display unit.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

STARTED_MS = int(time.time() * 1000) - 3_600_000  # an hour ago: no fresh-container shortcut


def cumulative(millicores: float, ts_ms: int) -> str:
    """Core-seconds used since ``STARTED_MS`` at ``millicores``, printed exactly (integer arithmetic:
    a float product of a 1.7e9-second timestamp would be off by ~1e-7 s, tens of nano-cores)."""
    tenths = round(millicores * 10)  # k + 0.3 millicores -> 10k + 3 tenths of a millicore
    ns = tenths * (ts_ms - STARTED_MS) * 100  # tenths/1e4 cores x ms/1e3 s, in nano-core-seconds
    q, r = divmod(ns, 1_000_000_000)
    return f"{q}.{r:09d}"


def _h(s: str) -> int:
    return int.from_bytes(hashlib.sha256(s.encode()).digest()[:4], "big")


@dataclass
class Truth:
    node_millicores: dict[str, float] = field(default_factory=dict)
    node_bytes: dict[str, int] = field(default_factory=dict)
    containers: dict[tuple[str, str], dict[str, tuple[float, int]]] = field(default_factory=dict)
    """(namespace, pod) -> container -> (millicores, bytes)."""

    def pod_millicores(self, key: tuple[str, str]) -> float:
        return sum(c[0] for c in self.containers[key].values())

    def pod_bytes(self, key: tuple[str, str]) -> int:
        return sum(c[1] for c in self.containers[key].values())

    @staticmethod
    def kubectl_cpu(millicores: float) -> str:
        """``kubectl top``'s ``%dm`` of ``MilliValue()`` (rounded up)."""
        return f"{math.ceil(millicores)}m"

    @staticmethod
    def kubectl_memory(nbytes: int) -> str:
        return f"{nbytes // (1 << 20)}Mi"


class LoopbackKubelets:
    def __init__(self, cert_file: str, key_file: str) -> None:
        self.truth = Truth()
        self.by_node: dict[str, list[tuple[str, str, list[str]]]] = {}
        self.ports: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ctx.load_cert_chain(cert_file, key_file)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="loopback-kubelets")
        self._runners: list[web.AppRunner] = []
        self._port_node: dict[int, str] = {}

    def plan(self, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        """Assign usage to every node and to every container of every Running pod."""
        for n in nodes:
            name = n["metadata"]["name"]
            self.by_node[name] = []
            self.truth.node_millicores[name] = 200 + _h(name) % 3000 + 0.3
            self.truth.node_bytes[name] = (1024 + _h("mem" + name) % 4096) << 20
        for p in pods:
            if p.get("status", {}).get("phase") != "Running":
                continue
            node = p.get("spec", {}).get("nodeName")
            if node not in self.by_node:
                continue
            ns, name = p["metadata"]["namespace"], p["metadata"]["name"]
            containers = [c["name"] for c in p["spec"].get("containers", [])]
            self.by_node[node].append((ns, name, containers))
            self.truth.containers[(ns, name)] = {
                c: (1 + _h(f"{ns}/{name}/{c}") % 400 + 0.3, (8 + _h(f"m{ns}/{name}/{c}") % 300) << 20)
                for c in containers
            }

    def start(self) -> dict[str, int]:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(30)
        return self.ports

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics/resource", self._serve)
        for node in self.by_node:
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._ctx).start()
            self._runners.append(runner)
            port = int(runner.addresses[0][1])
            self.ports[node] = port
            self._port_node[port] = node

    def stop(self) -> None:
        async def _stop() -> None:
            for r in self._runners:
                await r.cleanup()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def body(self, node: str, now: float) -> bytes:
        ts = int(now * 1000)
        started = STARTED_MS / 1000
        lines = []
        for ns, name, containers in sorted(self.by_node[node]):
            for c in containers:
                millicores, nbytes = self.truth.containers[(ns, name)][c]
                labels = f'container="{c}",namespace="{ns}",pod="{name}"'
                lines.append(
                    f"container_cpu_usage_seconds_total{{{labels}}} {cumulative(millicores, ts)} {ts}"
                )
                lines.append(f"container_memory_working_set_bytes{{{labels}}} {nbytes} {ts}")
                lines.append(f"container_start_time_seconds{{{labels}}} {started:.3f}")
        lines.append(f"node_cpu_usage_seconds_total {cumulative(self.truth.node_millicores[node], ts)} {ts}")
        lines.append(f"node_memory_working_set_bytes {self.truth.node_bytes[node]} {ts}")
        return ("\n".join(lines) + "\n").encode()

    async def _serve(self, request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        node = self._port_node[port]
        self.requests[node] = self.requests.get(node, 0) + 1
        return web.Response(body=self.body(node, time.time()), content_type="text/plain")
