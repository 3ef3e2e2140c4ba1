"""The ground truth of events: every event a component emitted, in order, with what its recorder
did with it (created, updated, counted in a series, combined, dropped by the spam filter), what a
test holds against what a client saw. ``GET /_sim/events`` sums it up; ``POST /_sim/events``
queries it (:func:`control`).
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kubescope.errors import ConfigError
from kubescope.sim.objects.meta import rfc3339_micro

Obj = dict[str, Any]
TRUTH_KEPT = 200_000
"""Emissions the ground truth keeps (the oldest go first; ``total`` counts them all)."""


@dataclass(slots=True)
class Emission:
    """One event as its component emitted it, and what the recorder did with it: ``created`` (a
    new Event, or one created again because its TTL had expired), ``updated`` (a legacy count or a
    series written), ``counted`` (a series occurrence kept in the recorder, written later by the
    series' heartbeat or end), ``aggregated`` (written as a combined event), ``dropped`` (the spam
    filter), ``refused`` (the API server refused the write: its namespace is gone). A written one
    names the Event version it became (uid, resourceVersion)."""

    seq: int
    time: float
    component: str
    instance: str
    type: str
    reason: str
    note: str
    action: str
    regarding: Obj
    outcome: str = ""
    event: str = ""
    """The Event's name (namespace: :attr:`namespace`)."""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""

    def view(self) -> Obj:
        return {
            "seq": self.seq,
            "time": rfc3339_micro(self.time),
            "reportingController": self.component,
            "reportingInstance": self.instance,
            "type": self.type,
            "reason": self.reason,
            "note": self.note,
            "action": self.action,
            "regarding": self.regarding,
            "outcome": self.outcome,
            "event": {
                "namespace": self.namespace,
                "name": self.event,
                "uid": self.uid,
                "resourceVersion": self.resource_version,
            },
        }


WRITTEN = frozenset({"created", "updated", "aggregated"})
"""The outcomes that write an Event."""


@dataclass(frozen=True, slots=True)
class Written:
    """An Event write: the version it made, and whether it created the Event."""

    uid: str
    resource_version: str
    created: bool


class Truth:
    """Every emission (the last :data:`TRUTH_KEPT`), in order."""

    def __init__(self, kept: int = TRUTH_KEPT) -> None:
        self.items: collections.deque[Emission] = collections.deque(maxlen=kept)
        self.total = 0
        self.by_outcome: collections.Counter[str] = collections.Counter()
        self.by_reason: collections.Counter[str] = collections.Counter()

    def add(self, e: Emission) -> None:
        self.items.append(e)
        self.total += 1
        self.by_reason[e.reason] += 1

    def summary(self) -> Obj:
        return {
            "total": self.total,
            "kept": len(self.items),
            "first": self.items[0].seq if self.items else 0,
            "last": self.items[-1].seq if self.items else 0,
            "outcomes": dict(sorted(self.by_outcome.items())),
            "reasons": dict(sorted(self.by_reason.items())),
        }

    def settle(self, e: Emission, outcome: str, ns: str, name: str, written: Written | None = None) -> None:
        """What became of ``e``; ``written``: the write it caused (None: it wrote nothing, or the
        API server refused it when ``outcome`` says it wrote)."""
        if written is not None:
            e.uid, e.resource_version = written.uid, written.resource_version
            if written.created and outcome == "updated":
                outcome = "created"  # its Event had expired: the recorder made it again
        elif outcome in WRITTEN:
            outcome = "refused"
        e.outcome, e.namespace, e.event = outcome, ns, name
        self.by_outcome[outcome] += 1

    def query(
        self,
        *,
        since: int = 0,
        reason: str = "",
        kind: str = "",
        namespace: str = "",
        name: str = "",
        component: str = "",
        limit: int = 1000,
    ) -> Iterator[Emission]:
        if limit <= 0:
            return
        n = 0
        for e in self.items:
            if e.seq <= since:
                continue
            r = e.regarding
            if (
                (reason and e.reason != reason)
                or (kind and r.get("kind") != kind)
                or (namespace and r.get("namespace", "") != namespace)
                or (name and r.get("name") != name)
                or (component and e.component != component)
            ):
                continue
            yield e
            n += 1
            if n >= limit:
                return


QUERY = {
    "since": int,
    "limit": int,
    "reason": str,
    "kind": str,
    "namespace": str,
    "name": str,
    "component": str,
}
"""What ``POST /_sim/events`` may ask (all optional)."""


def control(
    truth: Truth, storm: Callable[[int], Obj] | None = None
) -> tuple[Callable[[], Awaitable[Obj]], Callable[[Any], Awaitable[Obj]]]:
    """The ``/_sim/events`` handlers: ``GET`` sums the ground truth up; ``POST`` with a query
    (:data:`QUERY`: emissions after ``since``, by reason, regarding kind, namespace, name,
    reporting component; ``limit``, default 1000) answers the emissions, oldest first, and
    ``last``, the ``since`` of the next page. ``{"storm": N}`` makes ``N`` running pods crash-loop
    at once (0 ends it), with ``storm``."""

    async def get() -> Obj:
        return truth.summary()

    async def post(body: Any) -> Obj:
        if not isinstance(body, dict) or set(body) - set(QUERY) - {"storm"}:
            raise ConfigError(f"expected a JSON object with some of: {', '.join([*QUERY, 'storm'])}")
        for k, typ in QUERY.items():
            if k in body and (isinstance(body[k], bool) or not isinstance(body[k], typ)):
                raise ConfigError(f"{k}: expected {'a number' if typ is int else 'a string'}")
        out: Obj = {}
        if "storm" in body:
            n = body["storm"]
            if storm is None:
                raise ConfigError("storm: the control plane does not run")
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ConfigError("storm: expected a number of pods >= 0")
            out["storm"] = storm(n)
        query = {k: body[k] for k in QUERY if k in body}
        items = [e.view() for e in truth.query(**query)]
        out.update(
            items=items,
            last=items[-1]["seq"] if items else int(query.get("since", 0)),
            total=truth.total,
        )
        return out

    return get, post
