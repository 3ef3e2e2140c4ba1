"""The simulator's control endpoints, ``/_sim/<name>`` (admin only): faults, stats, and whatever
the simulator's parts register (the kubelets' truth, the churn's controls...).

A part registers an endpoint in one line, ``sim.api.add_control(name, get, post)``: ``get`` answers
``GET /_sim/<name>``; ``post``, when given, receives ``POST /_sim/<name>``'s JSON body. What they
return is sent as JSON; a :class:`~kubescope.errors.ConfigError` they raise is a 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kubescope.apiserver import status as st
from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.sim.api import responses
from kubescope.sim.api.context import ApiContext
from kubescope.sim.api.watching import DROPPED, MALFORMED
from kubescope.sim.auth import MASTERS, User
from kubescope.sim.errors import BadRequest, NotFound

Get = Callable[[], Awaitable[Any]]
Post = Callable[[Any], Awaitable[Any]]


class ControlRoutes:
    """``/_sim/<name>`` endpoints by name."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.gets: dict[str, Get] = {}
        self.posts: dict[str, Post] = {}
        self.add("faults", self._faults, self._set_faults)
        self.add("stats", self._stats)

    def add(self, name: str, get: Get, post: Post | None = None) -> None:
        self.gets[name] = get
        if post is not None:
            self.posts[name] = post

    async def handle(self, request: web.Request, user: User) -> web.Response:
        if MASTERS not in user.groups:
            code, body = st.forbidden(RequestInfo(path=request.path, verb=request.method.lower()), user.name)
            return responses.respond(code, body)
        name = request.path[len("/_sim/") :].strip("/")
        post = self.posts.get(name)
        if request.method == "POST" and post is not None:
            return responses.respond_json(200, await post(await request.json()))
        get = self.gets.get(name)
        if get is None:
            raise NotFound(f"no simulator control endpoint {name!r}")
        return responses.respond_json(200, await get())

    async def _faults(self) -> Any:
        return self.ctx.faults.as_dict()

    async def _set_faults(self, changes: Any) -> Any:
        if not isinstance(changes, dict):
            raise BadRequest("expected a JSON object of fault settings")
        store = self.ctx.store
        self.ctx.faults.update(changes)
        if changes.get("drop_watches"):
            store.close_watchers(DROPPED)
        if changes.get("malformed_event"):
            for w in store.all_watchers():
                w.push(MALFORMED, b"")
        return self.ctx.faults.as_dict()

    async def _stats(self) -> Any:
        store, c = self.ctx.store, self.ctx.counters
        return {
            "resourceVersion": store.resource_version,
            "historyFloor": store.history_floor,
            "objects": {r: store.count(r) for r in sorted(store.objects) if store.count(r)},
            "watchers": store.watcher_count(),
            "requests": c.requests,
            "watchesOpened": c.watches_opened,
            "errorsInjected": c.errors_injected,
            "internalErrors": c.internal_errors,
        }
