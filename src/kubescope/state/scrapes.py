"""Bounds on what scrapes in flight may hold: admission, and deadlines for clients that stop reading.

A gzip scrape sends the store's members as they are; a plain one inflates them, a unit of ~2 MiB
of text at a time, two units ahead of the one being written. Either way a scrape holds a few MiB
while it runs, and a client that stops reading holds them for as long as its connection lasts (the
transport keeps the unit it could not send). Without bounds, 200 concurrent plain scrapes of a
50 x 30 cluster peaked at 662 MB, and 100 stalled readers held 440 MB: a few dozen stalled
connections would have killed an exporter at its manifest's 300 MiB limit. Here:

* :class:`ScrapeLimiter` admits at most ``max_plain`` plain scrapes and ``max_total`` scrapes in all
  at once; the others are answered ``503 Service Unavailable`` with ``Retry-After`` at once (they
  cost nothing), so memory is bounded by a few MiB per admitted scrape whatever the number of
  clients;
* :func:`deadlines` aborts a response whose client reads nothing for ``stall`` seconds, or that
  takes longer than ``deadline`` seconds in all (KSM's ``--server-write-timeout``), so stalled
  readers give their slot and memory back.

Counted in self metrics: scrapes in flight, refused and aborted, by encoding (and reason).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kubescope.log import fields

logger = logging.getLogger(__name__)

RETRY_AFTER = 1
"""Seconds a refused scraper is asked to wait (Prometheus retries at its next interval anyway)."""
STALL = 10.0
"""Seconds without the client reading a byte before its response is aborted."""


def encoding(gz: bool) -> str:
    return "gzip" if gz else "identity"


@dataclass(eq=False)
class ScrapeLimiter:
    """At most ``max_plain`` plain and ``max_total`` scrapes in flight; a self-metrics collector."""

    max_plain: int = 4
    max_total: int = 64
    in_flight: dict[str, int] = field(default_factory=lambda: {"gzip": 0, "identity": 0})
    refused: dict[str, int] = field(default_factory=lambda: {"gzip": 0, "identity": 0})
    aborted: dict[tuple[str, str], int] = field(default_factory=dict)

    def admit(self, gz: bool) -> Admission | None:
        """A slot for a scrape (release it with ``with``), or None: answer :func:`refusal`."""
        enc = encoding(gz)
        total = sum(self.in_flight.values())
        if total >= self.max_total or (not gz and self.in_flight["identity"] >= self.max_plain):
            self.refused[enc] += 1
            return None
        self.in_flight[enc] += 1
        return Admission(self, enc)

    def refusal(self, gz: bool) -> web.Response:
        what = (
            f"{self.max_plain} plain scrapes (--max-plain-scrapes)"
            if not gz and self.in_flight["identity"] >= self.max_plain
            else f"{self.max_total} scrapes"
        )
        return web.Response(
            status=503,
            headers={"Retry-After": str(RETRY_AFTER)},
            text=f"too many scrapes in flight: at most {what} at once; retry shortly\n",
        )

    def collect(self) -> Iterable[Metric]:
        flight = GaugeMetricFamily(
            "kubescope_state_scrapes_in_flight",
            "/metrics responses being sent, by encoding.",
            labels=["encoding"],
        )
        refused = CounterMetricFamily(
            "kubescope_state_scrapes_refused",
            "Scrapes answered 503 because too many were in flight (--max-plain-scrapes).",
            labels=["encoding"],
        )
        aborted = CounterMetricFamily(
            "kubescope_state_scrapes_aborted",
            "Responses aborted because the client stopped reading (stalled) or took longer than "
            "--server-write-timeout (deadline).",
            labels=["encoding", "reason"],
        )
        for enc in ("gzip", "identity"):
            flight.add_metric([enc], self.in_flight[enc])
            refused.add_metric([enc], self.refused[enc])
            for reason in ("stalled", "deadline"):
                aborted.add_metric([enc, reason], self.aborted.get((enc, reason), 0))
        return [flight, refused, aborted]


class Admission:
    """One admitted scrape's slot."""

    __slots__ = ("_limiter", "encoding")

    def __init__(self, limiter: ScrapeLimiter, enc: str) -> None:
        self._limiter = limiter
        self.encoding = enc

    def __enter__(self) -> Admission:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._limiter.in_flight[self.encoding] -= 1


async def deadlines(
    request: web.Request,
    chunks: AsyncIterator[list[bytes]],
    admission: Admission,
    *,
    stall: float,
    deadline: float,
) -> AsyncIterator[list[bytes]]:
    """``chunks`` as they are, aborting the connection when the client has read nothing for
    ``stall`` seconds (this generator is only resumed once the previous chunk was written) or the
    response has taken ``deadline`` seconds. The pending write then fails: the response ends as any
    client abort does, and what it held is released."""
    loop = asyncio.get_running_loop()
    limiter = admission._limiter

    def abort(reason: str) -> None:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        key = (admission.encoding, reason)
        limiter.aborted[key] = limiter.aborted.get(key, 0) + 1
        logger.info(
            "scrape aborted: the client stopped reading"
            if reason == "stalled"
            else "scrape aborted: longer than --server-write-timeout",
            extra=fields(
                peer=str(request.remote),
                encoding=admission.encoding,
                seconds=stall if reason == "stalled" else deadline,
            ),
        )
        transport.abort()

    overall = loop.call_later(deadline, abort, "deadline")
    timer: asyncio.TimerHandle | None = None
    try:
        async for chunk in chunks:
            if timer is not None:
                timer.cancel()
            timer = loop.call_later(stall, abort, "stalled")
            yield chunk
    finally:
        overall.cancel()
        if timer is not None:
            timer.cancel()
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
