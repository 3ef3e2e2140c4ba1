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
        """What a kubelet's collector writes: every family, HELP/TYPE lines, series sorted by labels."""
        ts = int(now * 1000)
        started = STARTED_MS / 1000
        series = sorted((c, ns, name) for ns, name, cs in self.by_node[node] for c in cs)
        pods = sorted((ns, name) for ns, name, _ in self.by_node[node])
        out: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            out.append(f"# HELP {name} [STABLE] {text}\n# TYPE {name} {kind}\n")

        family(
            "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the container"
        )
        for c, ns, name in series:
            millicores = self.truth.containers[(ns, name)][c][0]
            out.append(
                f'container_cpu_usage_seconds_total{{container="{c}",namespace="{ns}",pod="{name}"}} '
                f"{cumulative(millicores, ts)} {ts}\n"
            )
        family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes")
        for c, ns, name in series:
            nbytes = self.truth.containers[(ns, name)][c][1]
            out.append(
                f'container_memory_working_set_bytes{{container="{c}",namespace="{ns}",pod="{name}"}} {nbytes} {ts}\n'
            )
        family(
            "container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds"
        )
        for c, ns, name in series:
            out.append(
                f'container_start_time_seconds{{container="{c}",namespace="{ns}",pod="{name}"}} {started:.3f}\n'
            )
        family("container_swap_usage_bytes", "gauge", "Current amount of the container swap usage in bytes")
        for c, ns, name in series:
            out.append(
                f'container_swap_usage_bytes{{container="{c}",namespace="{ns}",pod="{name}"}} 0 {ts}\n'
            )
        family(
            "node_cpu_usage_seconds_total",
            "counter",
            "Cumulative cpu time consumed by the node in core-seconds",
        )
        out.append(f"node_cpu_usage_seconds_total {cumulative(self.truth.node_millicores[node], ts)} {ts}\n")
        family("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes")
        out.append(f"node_memory_working_set_bytes {self.truth.node_bytes[node]} {ts}\n")
        family("node_swap_usage_bytes", "gauge", "Current swap usage of the node in bytes")
        out.append(f"node_swap_usage_bytes 0 {ts}\n")
        family(
            "pod_cpu_usage_seconds_total",
            "counter",
            "Cumulative cpu time consumed by the pod in core-seconds",
        )
        for ns, name in pods:
            out.append(
                f'pod_cpu_usage_seconds_total{{namespace="{ns}",pod="{name}"}} '
                f"{cumulative(self.truth.pod_millicores((ns, name)), ts)} {ts}\n"
            )
        family("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes")
        for ns, name in pods:
            out.append(
                f'pod_memory_working_set_bytes{{namespace="{ns}",pod="{name}"}} {self.truth.pod_bytes((ns, name))} {ts}\n'
            )
        family(
            "resource_scrape_error",
            "gauge",
            "1 if there was an error while getting container metrics, 0 otherwise",
        )
        out.append("resource_scrape_error 0\n")
        return "".join(out).encode()

    async def _serve(self, request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        node = self._port_node[port]
        self.requests[node] = self.requests.get(node, 0) + 1
        return web.Response(body=self.body(node, time.time()), content_type="text/plain")
