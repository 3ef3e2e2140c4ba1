"""Named health checks behind ``/healthz``, ``/livez`` and ``/readyz``, as k8s.io/apiserver serves them.

``GET /readyz`` answers ``ok`` (200) when every check passes; with ``?verbose`` it lists them::

    [+]ping ok
    [+]log ok
    [+]informer-sync ok
    readyz check passed

A failing check makes it fail (500 by default) with the list (``[-]name failed: reason withheld``)
and ``readyz check failed``; the reason goes to the log and to ``/readyz/<name>``, which runs one
check (``ok`` or ``internal server error: <reason>``). ``?exclude=name`` (repeatable or
comma-separated) skips a check.

A check is a function returning an error text or None, or an awaitable of one (an async check,
such as a probe of the API server, runs with a deadline). Checks must be cheap: probes call them
every few seconds. A *group* contributes checks that come and go (the supervisor lists each task
that is down, ``task/<name>``): a group yields ``(name, error)`` pairs and is consulted on every
probe.

Servers choose the answer's words: kube style (``ok``, failure 500) or kube-state-metrics style
(``OK``, failure 503); the lists are the same.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from kubescope.log import fields

logger = logging.getLogger(__name__)

CheckResult = str | None
Check = Callable[[], CheckResult | Awaitable[CheckResult]]
"""Returns None when healthy, else the reason (logged, never shown in the aggregated answer)."""
Group = Callable[[], Iterable[tuple[str, CheckResult]]]
"""Yields ``(check name, error or None)`` for checks that exist only sometimes."""

ENDPOINTS = ("healthz", "livez", "readyz")
CHECK_TIMEOUT = 5.0
"""Seconds an async check may take before it counts as failed."""


@dataclass(frozen=True)
class Style:
    """How an endpoint words its answers: ``ok_body`` on success, ``fail_status`` on failure."""

    ok_body: str = "ok"
    fail_status: int = 500


KUBE = Style()
KSM = Style("OK", 503)


@dataclass
class _Entry:
    name: str
    check: Check | None = None
    group: Group | None = None


@dataclass
class HealthChecks:
    """The checks of one server, per endpoint, in registration order."""

    entries: dict[str, list[_Entry]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})

    def add(self, name: str, check: Check, *endpoints: str) -> None:
        """Register ``check`` on ``endpoints`` (all three when none are named, like AddHealthChecks)."""
        for e in endpoints or ENDPOINTS:
            self.entries[e].append(_Entry(name, check=check))

    def add_group(self, name: str, group: Group, *endpoints: str) -> None:
        """Register checks that come and go (see the module docstring)."""
        for e in endpoints or ENDPOINTS:
            self.entries[e].append(_Entry(name, group=group))

    def names(self, endpoint: str) -> list[str]:
        return [e.name for e in self.entries[endpoint] if e.check is not None]

    async def results(self, endpoint: str) -> list[tuple[str, CheckResult]]:
        """Every check of ``endpoint`` run now: ``(name, error or None)`` in order."""
        out: list[tuple[str, CheckResult]] = []
        for entry in self.entries[endpoint]:
            if entry.check is not None:
                out.append((entry.name, await _run(entry.check)))
            elif entry.group is not None:
                try:
                    out.extend(entry.group())
                except Exception as e:  # a broken group reports failure, never breaks the probe
                    out.append((entry.name, f"{e.__class__.__name__}: {e}"))
        return out

    async def failures(self, endpoint: str) -> list[tuple[str, str]]:
        return [(n, err) for n, err in await self.results(endpoint) if err]

    async def run(
        self, endpoint: str, sub: str, query: Mapping[str, str], style: Style = KUBE
    ) -> tuple[int, str]:
        """``(status, body)`` for ``/<endpoint>`` or ``/<endpoint>/<sub>``."""
        results = await self.results(endpoint)
        if sub:
            for name, err in results:
                if name == sub:
                    if err:
                        return style.fail_status, f"internal server error: {err}\n"
                    return 200, style.ok_body
            return 404, "404 page not found\n"
        excluded: set[str] = set()
        for raw in _getall(query, "exclude"):
            excluded.update(x.strip() for x in raw.split(",") if x.strip())
        lines: list[str] = []
        failed: list[str] = []
        for name, err in results:
            if name in excluded:
                lines.append(f"[+]{name} excluded: ok\n")
            elif err:
                lines.append(f"[-]{name} failed: reason withheld\n")
                failed.append(f"{name}: {err}")
            else:
                lines.append(f"[+]{name} ok\n")
        unknown = excluded - {n for n, _ in results}
        if unknown:
            logger.info(
                "some health checks cannot be excluded", extra=fields(no_match=",".join(sorted(unknown)))
            )
        if failed:
            logger.info(f"{endpoint} check failed", extra=fields(checks="; ".join(failed)))
            return style.fail_status, "".join(lines) + f"{endpoint} check failed\n"
        if "verbose" in query:
            return 200, "".join(lines) + f"{endpoint} check passed\n"
        return 200, style.ok_body

    def routes(self, endpoints: Iterable[str] = ENDPOINTS, style: Style = KUBE) -> list[web.RouteDef]:
        """``GET /<endpoint>`` and ``GET /<endpoint>/<check>`` (check names may hold ``/``)."""

        async def handle(request: web.Request) -> web.Response:
            endpoint = request.path.strip("/").split("/", 1)[0]
            code, text = await self.run(endpoint, request.match_info.get("check", ""), request.query, style)
            return web.Response(
                status=code,
                text=text,
                headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
            )

        out = []
        for e in endpoints:
            out.append(web.get(f"/{e}", handle))
            out.append(web.get(f"/{e}/{{check:.+}}", handle))
        return out


async def _run(check: Check) -> CheckResult:
    try:
        result = check()
        if inspect.isawaitable(result):
            return await asyncio.wait_for(result, CHECK_TIMEOUT)
        return result
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g}s"
    except Exception as e:  # a broken check reports failure, never breaks the probe
        return f"{e.__class__.__name__}: {e}"


def _getall(query: Mapping[str, str], key: str) -> list[str]:
    getall = getattr(query, "getall", None)
    if getall is not None:
        values: list[str] = getall(key, [])
        return values
    v = query.get(key)
    return [v] if v is not None else []


def ping() -> CheckResult:
    return None


def log_check() -> CheckResult:
    """The ``log`` check: logging must not be stuck (flushing every handler returns)."""
    for h in logging.getLogger("kubescope").handlers:
        h.flush()
    return None
