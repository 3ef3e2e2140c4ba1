"""A small, scriptable Kubernetes API server for client and reflector tests (real sockets).

It serves ``/api/v1/pods`` and ``/api/v1/namespaces/<ns>/pods`` (list with ``limit``/``continue``,
watch with ``resourceVersion``, bookmarks on demand, watch-list streams when ``watch_list`` is set,
422 Invalid for them otherwise, as kube-apiserver with its WatchList feature off; ``watch_cache``
answers ``resourceVersion=0`` lists whole, ignoring ``limit``, as kube-apiserver's watch cache
does) and ``/version``, optionally over TLS with
bearer-token or client-certificate authentication. Tests script faults: status answers for the
next requests, expired continue tokens, compaction (410), malformed list items and watch lines,
silent or dropped watch connections. Everything it answered is in ``requests``.

The full churn/consistency tests run against the real simulator (``kubescope.sim``); this fake is
for the precise, deterministic edge cases.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from kubescope.model.meta import ObjectMeta, Wire


@dataclass
class Fault:
    """One scripted answer instead of the normal one."""

    status: int
    reason: str = ""
    message: str = "injected"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def response(self) -> web.Response:
        body = self.body
        if body is None:
            body = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": self.message,
                    "reason": self.reason,
                    "code": self.status,
                }
            ).encode()
        return web.Response(
            status=self.status, body=body, headers=self.headers, content_type="application/json"
        )


class PodSpec(Wire):
    node_name: str = ""


class PodStatus(Wire):
    phase: str = ""


class Pod(Wire):
    """The slim pod the tests decode into."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)


def pod(
    i: int, rv: int, *, ns: str = "default", node: str = "node-0", phase: str = "Running"
) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": f"pod-{i}",
            "namespace": ns,
            "uid": f"uid-{i:05d}",
            "resourceVersion": str(rv),
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": f"a{i % 3}"},
        },
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": phase},
    }


class FakeApi:
    def __init__(self) -> None:
        self.rv = 100
        self.objects: dict[str, dict[str, Any]] = {}
        self.raw_items: dict[str, bytes] = {}
        """uid -> bytes served in lists instead of the object's JSON (malformed items)."""
        self.timeline: list[tuple[int, bytes]] = []
        self.compacted = 0
        """Watches from a resourceVersion below this get an ERROR 410 event."""
        self.faults: dict[str, list[Fault]] = {"list": [], "watch": [], "continue": [], "other": []}
        self.requests: list[tuple[str, dict[str, str], Mapping[str, str]]] = []
        self.tokens: set[str] | None = None
        """Accepted bearer tokens; None: no authentication."""
        self.client_cns: set[str] = set()
        self.gzip = False
        """Compress list answers (the API server does above 128 KiB when the client accepts gzip)."""
        self.continue_delay = 0.0
        """Seconds to wait before answering a list page with a continue token."""
        self.silent = False
        """Open watches but never write to them (for inactivity tests)."""
        self.watch_rvs: list[int] = []
        """Per watch request that got past the faults, the resourceVersion it asked for."""
        self.watch_list = False
        """Serve watch-lists (``sendInitialEvents=true``); refuse them with 422 otherwise."""
        self.watch_cache = False
        """Answer ``resourceVersion=0`` lists in one response, whatever their ``limit``."""
        self.discovery: dict[str, list[str]] = {"/api/v1": ["pods"]}
        """Group-version path -> the resources its APIResourceList names (list and watch); other
        group-versions answer kube-apiserver's plain-text 404."""
        self.pods_answer: Fault | None = None
        """Every pods request answered this (403 Forbidden, 404 NotFound) while set."""
        self._changed = asyncio.Event()
        self._watches: set[web.StreamResponse] = set()
        self._close = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.scheme = "http"
        self._snapshots: dict[str, list[bytes]] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> FakeApi:
        app = web.Application()
        app.router.add_get("/version", self._version)
        app.router.add_route("*", "/echo", self._echo)
        app.router.add_get("/api/{version}", self._discovery)
        app.router.add_get("/apis/{group}/{version}", self._discovery)
        app.router.add_get("/api/v1/pods", self._pods)
        app.router.add_get("/api/v1/namespaces/{ns}/pods", self._pods)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.scheme = "https" if ssl_context else "http"
        return self

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.end_watches()
        self.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- state changes ----------------------------------------------------------------------------

    def _emit(self, type_: str, obj: dict[str, Any]) -> None:
        self.timeline.append((self.rv, json.dumps({"type": type_, "object": obj}).encode() + b"\n"))
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def add(self, i: int, **kw: Any) -> dict[str, Any]:
        self.rv += 1
        obj = pod(i, self.rv, **kw)
        self.objects[obj["metadata"]["uid"]] = obj
        self._emit("ADDED", obj)
        return obj

    def modify(self, i: int, phase: str = "Succeeded") -> dict[str, Any]:
        self.rv += 1
        obj = self.objects[f"uid-{i:05d}"]
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = str(self.rv)
        obj["status"]["phase"] = phase
        self.objects[obj["metadata"]["uid"]] = obj
        self._emit("MODIFIED", obj)
        return obj

    def delete(self, i: int) -> dict[str, Any]:
        self.rv += 1
        obj = self.objects.pop(f"uid-{i:05d}")
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._emit("DELETED", obj)
        return obj

    def bookmark(self) -> None:
        self.rv += 1
        obj = {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": str(self.rv)}}
        self._emit("BOOKMARK", obj)

    def inject(self, line: bytes) -> None:
        """A raw line for the watches open now (and those that resume from before it)."""
        self.timeline.append((self.rv, line if line.endswith(b"\n") else line + b"\n"))
        self._notify()

    def error_event(self, code: int, reason: str, message: str = "injected") -> None:
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        self.inject(json.dumps({"type": "ERROR", "object": status}).encode())

    def end_watches(self) -> None:
        """End every open watch cleanly (as timeoutSeconds would)."""
        self._close.set()
        self._close = asyncio.Event()

    def drop_watches(self) -> None:
        """Abort every open watch connection (no clean end)."""
        for resp in list(self._watches):
            tr = resp._req.transport if resp._req is not None else None  # type: ignore[attr-defined]
            if tr is not None:
                tr.abort()
        self._watches.clear()

    @property
    def open_watches(self) -> int:
        return len(self._watches)

    # -- handlers ---------------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> web.Response | None:
        if self.tokens is None and not self.client_cns:
            return None
        header = request.headers.get("Authorization", "")
        if self.tokens is not None and header.startswith("Bearer ") and header[7:] in self.tokens:
            return None
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if peer and self.client_cns:
            cns = {v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"}
            if cns & self.client_cns:
                return None
        return Fault(401, "Unauthorized", "Unauthorized").response()

    async def _echo(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query), request.headers))
        body = await request.read()
        if self.faults["other"]:
            return self.faults["other"].pop(0).response()
        return web.json_response(
            {
                "method": request.method,
                "contentType": request.headers.get("Content-Type", ""),
                "body": body.decode(),
            }
        )

    async def _version(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query), request.headers))
        denied = self._auth(request)
        if denied is not None:
            return denied
        if self.faults["other"]:
            return self.faults["other"].pop(0).response()
        return web.json_response({"major": "1", "minor": "37", "gitVersion": "v1.37.0-fake"})

    async def _discovery(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query), request.headers))
        names = self.discovery.get(request.path)
        if names is None:
            return web.Response(status=404, text="404 page not found\n")
        gv = request.path.removeprefix("/apis/").removeprefix("/api/")
        resources = [{"name": n, "namespaced": True, "kind": "X", "verbs": ["get", "list", "watch"]} for n in names]
        resources.append({"name": "pods/status", "namespaced": True, "kind": "Pod", "verbs": ["get"]})
        return web.json_response({"kind": "APIResourceList", "groupVersion": gv, "resources": resources})

    async def _pods(self, request: web.Request) -> web.StreamResponse:
        q = dict(request.query)
        self.requests.append((request.path, q, request.headers))
        denied = self._auth(request)
        if denied is not None:
            return denied
        if self.pods_answer is not None:
            return self.pods_answer.response()
        ns = request.match_info.get("ns", "")
        if q.get("watch") == "true":
            if "sendInitialEvents" in q and not self.watch_list:
                return Fault(
                    422,
                    "Invalid",
                    'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is '
                    "forbidden for watch unless the WatchList feature gate is enabled",
                ).response()
            if self.faults["watch"]:
                return self.faults["watch"].pop(0).response()
            return await self._watch(request, q)
        if "continue" in q and self.faults["continue"]:
            return self.faults["continue"].pop(0).response()
        if "continue" in q and self.continue_delay:
            await asyncio.sleep(self.continue_delay)
        if "continue" not in q and self.faults["list"]:
            return self.faults["list"].pop(0).response()
        return self._list(q, ns)

    def _list(self, q: dict[str, str], ns: str) -> web.Response:
        limit = int(q.get("limit", "0") or 0)
        if self.watch_cache and q.get("resourceVersion") == "0":
            limit = 0
        token = q.get("continue", "")
        if token:
            rv_s, offset_s = token.split(":")
            items = self._snapshots[rv_s]
            offset = int(offset_s)
        else:
            rv_s = str(self.rv)
            items = [
                self.raw_items.get(uid) or json.dumps(o).encode()
                for uid, o in sorted(self.objects.items())
                if not ns or o["metadata"]["namespace"] == ns
            ]
            self._snapshots[rv_s] = items
            offset = 0
        end = offset + limit if limit else len(items)
        page = items[offset:end]
        meta: dict[str, Any] = {"resourceVersion": rv_s}
        if end < len(items):
            meta["continue"] = f"{rv_s}:{end}"
        body = b'{"kind":"PodList","apiVersion":"v1","metadata":' + json.dumps(meta).encode()
        body += b',"items":[' + b",".join(page) + b"]}"
        resp = web.Response(body=body, content_type="application/json")
        if self.gzip:
            resp.enable_compression()
        return resp

    async def _watch_list(self, request: web.Request, q: dict[str, str]) -> web.StreamResponse:
        """ADDED for every object, the initial-events-end bookmark, then a watch from there."""
        assert q.get("resourceVersionMatch") == "NotOlderThan" and q.get("allowWatchBookmarks") == "true"
        self.watch_rvs.append(-1)
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        ns = request.match_info.get("ns", "")
        rv = self.rv
        lines = [
            b'{"type":"ADDED","object":' + (self.raw_items.get(uid) or json.dumps(o).encode()) + b"}\n"
            for uid, o in sorted(self.objects.items())
            if not ns or o["metadata"]["namespace"] == ns
        ]
        end = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(rv), "annotations": {"k8s.io/initial-events-end": "true"}},
        }
        lines.append(json.dumps({"type": "BOOKMARK", "object": end}).encode() + b"\n")
        self._watches.add(resp)
        try:
            for i in range(0, len(lines), 7):  # several writes: lines split across reads
                await resp.write(b"".join(lines[i : i + 7]))
            return await self._follow(resp, rv, q)
        except ConnectionResetError:
            return resp
        finally:
            self._watches.discard(resp)

    async def _watch(self, request: web.Request, q: dict[str, str]) -> web.StreamResponse:
        if "sendInitialEvents" in q:
            return await self._watch_list(request, q)
        rv = int(q.get("resourceVersion") or 0)
        self.watch_rvs.append(rv)
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        self._watches.add(resp)
        try:
            if rv < self.compacted:
                status = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": f"too old resource version: {rv} ({self.compacted})",
                    "reason": "Expired",
                    "code": 410,
                }
                await resp.write(json.dumps({"type": "ERROR", "object": status}).encode() + b"\n")
                return resp
            return await self._follow(resp, rv, q)
        except ConnectionResetError:
            pass
        finally:
            self._watches.discard(resp)
        return resp

    async def _follow(self, resp: web.StreamResponse, rv: int, q: dict[str, str]) -> web.StreamResponse:
        """Write the timeline's events after ``rv`` as they come, until the watch ends."""
        pos = 0
        while pos < len(self.timeline) and self.timeline[pos][0] <= rv:
            pos += 1
        close = self._close
        while True:
            if not self.silent:
                while pos < len(self.timeline):
                    line = self.timeline[pos][1]
                    pos += 1
                    await resp.write(line)
            changed = self._changed
            waiters = [asyncio.ensure_future(changed.wait()), asyncio.ensure_future(close.wait())]
            timeout = float(q.get("timeoutSeconds", "600"))
            done, pending = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
            if close.is_set() or not done:
                break
        await resp.write_eof()
        return resp
