"""The console's sources beyond the watches: kubescope history and the event archive, both reached
through the API server's aggregation layer with the console's own credentials (as ``kubectl get
--raw`` would), so in a cluster nothing but the API server's address needs configuring.

Each answer is one request, bounded by ``timeout``; a source that is not registered (no APIService for
its group, read from the APIService watch) is not asked at all, and one that fails is reported as a
:class:`Unavailable` whose message a page shows in place of the data (the rest of the page is served).

Events come from ``events.kubescope.io`` (live and archived merged, archived-only ones annotated
``events.kubescope.io/expired``); without it, from the API server's own core/v1 events (live only: the
API server keeps them for an hour), and the page says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from kubescope.errors import ApiStatusError, KubeError, NotFoundError, truncate
from kubescope.kube.client import KubeClient
from kubescope.model.meta import Wire

HISTORY_GROUP = "history.kubescope.io"
HISTORY = f"/apis/{HISTORY_GROUP}/v1alpha1"
EVENTS_GROUP = "events.kubescope.io"
EVENTS = f"/apis/{EVENTS_GROUP}/v1"
EXPIRED = f"{EVENTS_GROUP}/expired"


class Unavailable(Exception):
    """A source could not answer; the message says which and why, for the page."""


Availability = Callable[[str], tuple[bool, str]]


class Source:
    def __init__(self, client: KubeClient, available: Availability, *, timeout: float = 5.0) -> None:
        self.client = client
        self.available = available
        self.timeout = timeout

    async def _get(self, what: str, group: str, path: str, params: dict[str, str]) -> bytes:
        ok, why = self.available(group)
        if not ok:
            raise Unavailable(f"{what} unavailable: {why}")
        try:
            return await asyncio.wait_for(self.client.get(path, params), self.timeout)
        except TimeoutError:
            raise Unavailable(f"{what} did not answer within {self.timeout:g}s") from None
        except ApiStatusError as e:
            if e.code == 400:
                raise BadQuestion(f"{what}: {truncate(e.message or str(e), 300)}") from e
            raise Unavailable(f"{what} failed: {truncate(str(e), 300)}") from e
        except KubeError as e:
            raise Unavailable(f"{what} failed: {truncate(str(e), 300)}") from e


class BadQuestion(Unavailable):
    """The source refused the question itself (a 400): e.g. a range it keeps no data for."""


class History(Source):
    """``kubescope history``: points and recommendations (docs/history.md, "Shapes")."""

    async def points(
        self, target: str, metric: str, start: int, end: int, step: int | None
    ) -> dict[str, Any]:
        params = {"start": str(start), "end": str(end)}
        if step:
            params["step"] = f"{step}s"
        body = await self._get("history", HISTORY_GROUP, f"{HISTORY}{target}/metrics/{metric}", params)
        return _json(body, "history")

    async def recommendations(self, namespace: str, window: str = "14d") -> dict[str, Any]:
        body = await self._get(
            "history recommendations", HISTORY_GROUP, f"{HISTORY}/namespaces/{namespace}/recommendations",
            {"window": window},
        )  # fmt: skip
        return _json(body, "history")


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        out = msgspec.json.decode(body)
    except msgspec.DecodeError as e:
        raise Unavailable(f"{what} answered something that is not JSON: {e}") from e
    if not isinstance(out, dict):
        raise Unavailable(f"{what} answered {type(out).__name__}, not an object")
    return out


# -- events ------------------------------------------------------------------------------------------


class Ref(Wire):
    kind: str = ""
    name: str = ""
    namespace: str = ""
    uid: str = ""


class EvMeta(Wire):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class Series(Wire):
    count: int = 0
    last_observed_time: dt.datetime | None = None


class Source_(Wire):
    component: str = ""


class AnyEvent(Wire):
    """events.k8s.io/v1 and core/v1 Events both (their fields do not collide)."""

    metadata: EvMeta = msgspec.field(default_factory=EvMeta)
    type: str = ""
    reason: str = ""
    # events.k8s.io/v1
    regarding: Ref | None = None
    note: str = ""
    event_time: dt.datetime | None = None
    series: Series | None = None
    reporting_controller: str = ""
    deprecated_first_timestamp: dt.datetime | None = None
    deprecated_last_timestamp: dt.datetime | None = None
    deprecated_count: int = 0
    # core/v1
    involved_object: Ref | None = None
    message: str = ""
    first_timestamp: dt.datetime | None = None
    last_timestamp: dt.datetime | None = None
    count: int = 0
    source: Source_ | None = None
    reporting_component: str = ""


class EventList(Wire):
    items: list[AnyEvent] = msgspec.field(default_factory=list)


_events = msgspec.json.Decoder(EventList)


@dataclass(frozen=True)
class Event:
    """One event as the timeline shows it."""

    last: float
    first: float
    type: str
    reason: str
    message: str
    count: int
    source: str
    object: str
    archived: bool
    """Kept by the archive after the API server forgot it (its TTL passed)."""


def _t(*ts: dt.datetime | None) -> float:
    for t in ts:
        if t is not None:
            return t.timestamp()
    return 0.0


def normalize(e: AnyEvent) -> Event:
    ref = e.regarding or e.involved_object or Ref()
    last = _t(
        e.series.last_observed_time if e.series else None,
        e.deprecated_last_timestamp,
        e.last_timestamp,
        e.event_time,
    )
    first = _t(e.deprecated_first_timestamp, e.first_timestamp, e.event_time) or last
    count = (e.series.count if e.series else 0) or e.deprecated_count or e.count or 1
    return Event(
        last=last,
        first=first,
        type=e.type or "Normal",
        reason=e.reason,
        message=e.note or e.message,
        count=count,
        source=e.reporting_controller or e.reporting_component or (e.source.component if e.source else ""),
        object=f"{ref.kind}/{ref.name}",
        archived=e.metadata.annotations.get(EXPIRED) == "true",
    )


_CORE = {"regarding.kind": "involvedObject.kind", "regarding.name": "involvedObject.name",
         "regarding.uid": "involvedObject.uid", "reason": "reason"}  # fmt: skip


class Events(Source):
    """The merged events view, or the API server's live events when the archive is absent."""

    async def find(
        self, namespace: str, selector: dict[str, str], since: int, limit: int = 500
    ) -> tuple[list[Event], str]:
        """Events matching ``selector`` (events.k8s.io field names) last seen in the last ``since``
        seconds, newest first, and a note when they come from the live side only."""
        fs = ",".join(f"{k}={v}" for k, v in selector.items())
        where = f"/namespaces/{namespace}" if namespace else ""
        try:
            body = await self._get(
                "the event archive", EVENTS_GROUP, f"{EVENTS}{where}/events",
                {"fieldSelector": fs, "since": f"{since}s", "limit": str(limit)},
            )  # fmt: skip
            note = ""
        except Unavailable as e:
            core_fs = ",".join(f"{_CORE[k]}={v}" for k, v in selector.items() if k in _CORE)
            try:
                body = await asyncio.wait_for(
                    self.client.get(
                        f"/api/v1{where}/events", {"fieldSelector": core_fs, "limit": str(limit)}
                    ),
                    self.timeout,
                )
            except (KubeError, TimeoutError) as live:
                if isinstance(live, NotFoundError):
                    return [], f"{e}; the API server has no events for it"
                why = f"no answer within {self.timeout:g}s" if isinstance(live, TimeoutError) else str(live)
                raise Unavailable(f"{e}; the API server's events failed too: {truncate(why, 200)}") from live
            note = f"{e}: live events only (the API server keeps them about an hour)"
        try:
            items = _events.decode(body).items
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            raise Unavailable(f"events: an answer that is not an event list: {err}") from err
        out = [normalize(i) for i in items]
        horizon = _now() - since
        out = [e for e in out if e.last >= horizon or not e.last]
        out.sort(key=lambda e: e.last, reverse=True)
        return out, note


def _now() -> float:
    import time

    return time.time()
