"""``/healthz``, ``/livez`` and ``/readyz`` with k8s.io/apiserver's output.

``GET /readyz`` answers ``ok`` (200) when every check passes; with ``?verbose`` it lists them::

    [+]ping ok
    [+]log ok
    [+]metric-storage-ready ok
    ...
    readyz check passed

A failing check makes it 500 with the list (``[-]name failed: reason withheld``) and
``readyz check failed``. ``?exclude=name`` skips a check; ``/readyz/<name>`` runs one
(``ok`` or ``internal server error: <reason>``). Checks are plain functions returning an error text
or None: they must be cheap, probes call them every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kubescope.log import fields

logger = logging.getLogger(__name__)

Check = Callable[[], str | None]
ENDPOINTS = ("healthz", "livez", "readyz")


@dataclass
class HealthChecks:
    checks: dict[str, list[tuple[str, Check]]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})

    def add(self, name: str, check: Check, *endpoints: str) -> None:
        """Register ``check`` on ``endpoints`` (all three when none are named, like AddHealthChecks)."""
        for e in endpoints or ENDPOINTS:
            self.checks[e].append((name, check))

    def run(self, endpoint: str, sub: str, query: Mapping[str, str]) -> tuple[int, str]:
        """``(status, body)`` for ``/<endpoint>`` or ``/<endpoint>/<sub>``."""
        checks = self.checks[endpoint]
        if sub:
            for name, check in checks:
                if name == sub:
                    err = _safe(check)
                    if err:
                        return 500, f"internal server error: {err}\n"
                    return 200, "ok"
            return 404, "404 page not found\n"
        excluded: set[str] = set()
        for raw in _getall(query, "exclude"):
            excluded.update(x.strip() for x in raw.split(",") if x.strip())
        verbose = "verbose" in query
        lines: list[str] = []
        failed: list[str] = []
        for name, check in checks:
            if name in excluded:
                lines.append(f"[+]{name} excluded: ok\n")
                continue
            err = _safe(check)
            if err:
                lines.append(f"[-]{name} failed: reason withheld\n")
                failed.append(f"{name}: {err}")
            else:
                lines.append(f"[+]{name} ok\n")
        unknown = excluded - {n for n, _ in checks}
        if unknown:
            logger.info(
                "some health checks cannot be excluded", extra=fields(no_match=",".join(sorted(unknown)))
            )
        if failed:
            logger.info(f"{endpoint} check failed", extra=fields(checks="; ".join(failed)))
            return 500, "".join(lines) + f"{endpoint} check failed\n"
        if verbose:
            return 200, "".join(lines) + f"{endpoint} check passed\n"
        return 200, "ok"


def _getall(query: Mapping[str, str], key: str) -> list[str]:
    getall = getattr(query, "getall", None)
    if getall is not None:
        values: list[str] = getall(key, [])
        return values
    v = query.get(key)
    return [v] if v is not None else []


def _safe(check: Check) -> str | None:
    try:
        return check()
    except Exception as e:  # a broken check reports failure, never breaks the probe
        return f"{e.__class__.__name__}: {e}"


def ping() -> str | None:
    return None


def log_check() -> str | None:
    """The ``log`` check: logging must not be stuck (flushing every handler returns)."""
    for h in logging.getLogger("kubescope").handlers:
        h.flush()
    return None
