"""A small Kubernetes API server plus kubelets on loopback, for process-level resource-metrics tests.

It serves what ``kubescope resource-metrics`` talks to: node and pod lists and watches (pods with
``fieldSelector=status.phase=Running``, a pod leaving that phase is a DELETED event, as the API
server's filtered watch sends it), the ``extension-apiserver-authentication`` ConfigMap, TokenReview
and SubjectAccessReview; and one kubelet per node on its own port (``daemonEndpoints``) whose
``/metrics/resource`` follows a deterministic usage model: cumulative CPU grows at a fixed rate per
container, so the expected rate is known exactly. The simulator (``kubescope.sim``) is the full
environment; this one is small enough to script edge cases.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class Container:
    name: str
    cores: float
    """CPU rate, cores."""
    memory: int
    started: float = field(default_factory=lambda: time.time() - 3600)


@dataclass
class FakePod:
    namespace: str
    name: str
    node: str
    containers: list[Container]
    labels: dict[str, str] = field(default_factory=dict)
    phase: str = "Running"


class FakeCluster:
    def __init__(self) -> None:
        self.rv = 1
        self.nodes: dict[str, dict[str, Any]] = {}
        self.node_cores: dict[str, float] = {}
        self.pods: dict[tuple[str, str], FakePod] = {}
        self.by_node: dict[str, dict[tuple[str, str], FakePod]] = {}
        self.events: dict[str, list[tuple[int, bytes]]] = {"nodes": [], "pods": []}
        self.configmap: dict[str, str] | None = None
        self.configmap_reads = 0
        self.tokens: dict[str, tuple[str, list[str]]] = {}
        """token -> (user, groups)."""
        self.allowed: set[tuple[str, str]] = set()
        """(user, resource or path) pairs SubjectAccessReviews allow."""
        self.reviews: list[dict[str, Any]] = []
        self.kubelet_requests: dict[str, int] = {}
        self.sampled: dict[str, list[int]] = {}
        """Per node, the timestamps (ms) of the samples served, in order."""
        self.proxy_requests: list[tuple[str, str, str]] = []
        """(node, path, Authorization) of node proxy requests."""
        self.kubelet_bodies: dict[str, bytes] = {}
        """node -> body served instead of the model's (garbage tests)."""
        self._changed = asyncio.Event()
        self._ports: dict[int, str] = {}
        self._stopping = False
        self._runners: list[web.AppRunner] = []
        self.port = 0
        self._kubelet_app = web.Application()
        self._kubelet_app.router.add_get("/metrics/resource", self._kubelet)

    # -- objects --------------------------------------------------------------------------------

    def _bump(self, resource: str, type_: str, obj: dict[str, Any]) -> None:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        line = json.dumps({"type": type_, "object": obj}).encode() + b"\n"
        self.events[resource].append((self.rv, line))
        self._changed.set()
        self._changed = asyncio.Event()

    async def add_node(self, name: str, cores: float, labels: Mapping[str, str] | None = None) -> None:
        runner = web.AppRunner(self._kubelet_app, handle_signals=False, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        port = int(runner.addresses[-1][1])
        self.node_cores[name] = cores
        obj = {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": {"name": name, "labels": dict(labels or {})},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": "127.0.0.1"},
                    {"type": "Hostname", "address": name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        self.nodes[name] = obj
        self._ports[port] = name
        self._bump("nodes", "ADDED", obj)

    def pod_object(self, p: FakePod) -> dict[str, Any]:
        return {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": p.name, "namespace": p.namespace, "labels": p.labels},
            "spec": {"nodeName": p.node, "containers": [{"name": c.name} for c in p.containers]},
            "status": {"phase": p.phase},
        }

    def add_pod(self, p: FakePod) -> None:
        self.pods[(p.namespace, p.name)] = p
        self.by_node.setdefault(p.node, {})[(p.namespace, p.name)] = p
        if p.phase == "Running":
            self._bump("pods", "ADDED", self.pod_object(p))

    def set_phase(self, namespace: str, name: str, phase: str) -> None:
        p = self.pods[(namespace, name)]
        was = p.phase
        p.phase = phase
        if was == "Running" and phase != "Running":
            self._bump("pods", "DELETED", self.pod_object(p))
        elif phase == "Running" and was != "Running":
            self._bump("pods", "ADDED", self.pod_object(p))

    def delete_pod(self, namespace: str, name: str) -> None:
        p = self.pods.pop((namespace, name))
        self.by_node.get(p.node, {}).pop((namespace, name), None)
        if p.phase == "Running":
            self._bump("pods", "DELETED", self.pod_object(p))

    # -- serving --------------------------------------------------------------------------------

    async def start(self) -> FakeCluster:
        app = web.Application()
        app.router.add_get("/version", self._version)
        app.router.add_get("/api/v1/nodes", self._list_or_watch)
        app.router.add_get("/api/v1/pods", self._list_or_watch)
        app.router.add_get(
            "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication", self._configmap
        )
        app.router.add_get("/api/v1/nodes/{node}/proxy/{path:.*}", self._node_proxy)
        app.router.add_post("/apis/authentication.k8s.io/v1/tokenreviews", self._token_review)
        app.router.add_post("/apis/authorization.k8s.io/v1/subjectaccessreviews", self._sar)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners.append(runner)
        self.port = int(runner.addresses[0][1])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kubeconfig(self, token: str) -> str:
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                "users": [{"name": "rm", "user": {"token": token}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "rm"}}],
                "current-context": "fake",
            }
        )

    async def stop(self) -> None:
        self._stopping = True
        self._changed.set()
        for r in reversed(self._runners):
            await r.cleanup()

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "37", "gitVersion": "v1.37.0-fake"})

    def _items(self, resource: str, field_selector: str) -> list[dict[str, Any]]:
        if resource == "nodes":
            return list(self.nodes.values())
        pods = self.pods.values()
        if field_selector == "status.phase=Running":
            pods = [p for p in pods if p.phase == "Running"]  # type: ignore[assignment]
        return [self.pod_object(p) for p in pods]

    async def _list_or_watch(self, request: web.Request) -> web.StreamResponse:
        resource = request.path.rsplit("/", 1)[1]
        q = request.query
        if q.get("watch") not in ("1", "true"):
            return web.json_response(
                {
                    "kind": "List",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(self.rv)},
                    "items": self._items(resource, q.get("fieldSelector", "")),
                }
            )
        if "sendInitialEvents" in q:  # as kube-apiserver with its WatchList feature off
            return web.json_response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "Invalid",
                    "code": 422,
                    "message": "sendInitialEvents is forbidden for watch unless the WatchList feature gate "
                    "is enabled",
                },
                status=422,
            )
        since = int(q.get("resourceVersion") or 0)
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        deadline = time.monotonic() + float(q.get("timeoutSeconds") or 300)
        sent = since
        try:
            while time.monotonic() < deadline:
                for rv, line in self.events[resource]:
                    if rv > sent:
                        await resp.write(line)
                        sent = rv
                changed = self._changed
                try:
                    await asyncio.wait_for(changed.wait(), timeout=max(0.01, deadline - time.monotonic()))
                except TimeoutError:
                    break
                if self._stopping:
                    break
            await resp.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError, asyncio.CancelledError):
            pass  # the client went away
        return resp

    async def _configmap(self, request: web.Request) -> web.Response:
        self.configmap_reads += 1
        if self.configmap is None:
            return web.json_response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "NotFound",
                    "code": 404,
                    "message": 'configmaps "extension-apiserver-authentication" not found',
                },
                status=404,
            )
        return web.json_response({"kind": "ConfigMap", "apiVersion": "v1", "data": self.configmap})

    async def _token_review(self, request: web.Request) -> web.Response:
        body = await request.json()
        found = self.tokens.get(body["spec"]["token"])
        status: dict[str, Any] = {"authenticated": False, "error": "token not found"}
        if found is not None:
            status = {"authenticated": True, "user": {"username": found[0], "groups": found[1]}}
        return web.json_response(
            {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "status": status}
        )

    async def _sar(self, request: web.Request) -> web.Response:
        body = await request.json()
        spec = body["spec"]
        self.reviews.append(spec)
        attrs = spec.get("resourceAttributes") or spec.get("nonResourceAttributes")
        what = attrs.get("resource") or attrs.get("path")
        allowed = (spec["user"], what) in self.allowed
        return web.json_response({"kind": "SubjectAccessReview", "status": {"allowed": allowed}})

    # -- kubelets -------------------------------------------------------------------------------

    def usage_body(self, node: str, now: float) -> bytes:
        ts = int(now * 1000)
        self.sampled.setdefault(node, []).append(ts)
        t = ts / 1000
        lines = []
        for p in sorted(self.by_node.get(node, {}).values(), key=lambda p: (p.namespace, p.name)):
            if p.phase != "Running":
                continue
            for c in p.containers:
                labels = f'container="{c.name}",namespace="{p.namespace}",pod="{p.name}"'
                lines.append(
                    f"container_cpu_usage_seconds_total{{{labels}}} {c.cores * (t - c.started):.9f} {ts}"
                )
                lines.append(f"container_memory_working_set_bytes{{{labels}}} {c.memory} {ts}")
                lines.append(f"container_start_time_seconds{{{labels}}} {c.started:.9f}")
        cores = self.node_cores[node]
        lines.append(f"node_cpu_usage_seconds_total {cores * (t - 1_700_000_000):.9f} {ts}")
        lines.append(f"node_memory_working_set_bytes {2 << 30} {ts}")
        return ("\n".join(lines) + "\n").encode()

    async def _node_proxy(self, request: web.Request) -> web.Response:
        """kube-apiserver's node proxy: the kubelet's answer relayed (here: rendered directly)."""
        node = request.match_info["node"]
        self.proxy_requests.append(
            (node, "/" + request.match_info["path"], request.headers.get("Authorization", ""))
        )
        if node not in self.nodes:
            return web.json_response({"kind": "Status", "code": 404, "reason": "NotFound"}, status=404)
        return web.Response(body=self.usage_body(node, time.time()), content_type="text/plain")

    async def _kubelet(self, request: web.Request) -> web.Response:
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        node = self._ports[port]
        self.kubelet_requests[node] = self.kubelet_requests.get(node, 0) + 1
        body = self.kubelet_bodies.get(node)
        if body is None:
            body = self.usage_body(node, time.time())
        return web.Response(body=body, content_type="text/plain")
