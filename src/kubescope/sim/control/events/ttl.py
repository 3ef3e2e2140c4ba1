"""Events expire as kube-apiserver makes them (``--event-ttl``, 1 h by default): every write of an
Event (its creation, each count or series update) gives it the TTL anew, as the etcd lease it is
stored under, and it is deleted when that runs out (a DELETED watch event, whoever watches).

This is the API server's part, played by the control plane while it runs (a still cluster keeps
its events). An Event found at start expires a TTL after its last recorded time.
"""

from __future__ import annotations

from typing import Any

from kubescope.model.timefmt import parse_time
from kubescope.sim.control.runtime import Controller, ControlPlane, Key

Obj = dict[str, Any]
EVENTS = "events"
EVENT_TTL = 3600.0


class EventTTL(Controller):
    name = "event-ttl"
    watches = (EVENTS,)

    def __init__(self, plane: ControlPlane, ttl: float = EVENT_TTL) -> None:
        super().__init__(plane)
        self.ttl = ttl
        self.due: dict[Key, float] = {}
        """When each Event expires; one timer per Event, moved on when it fires early."""

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if typ == "DELETED":
            self.due.pop(key, None)
            return
        when = (_last_time(obj) if typ == "LISTED" else self.now()) + self.ttl
        if key not in self.due:
            self.queue.add_at(key, when)
        self.due[key] = when

    def sync(self, key: Key) -> None:
        when = self.due.get(key)
        if when is None:
            return
        if self.now() < when:  # written again since: later
            self.queue.add_at(key, when)
            return
        del self.due[key]
        self.delete(EVENTS, key)


def _last_time(o: Obj) -> float:
    """An Event's last recorded time (series, lastTimestamp, eventTime, creation)."""
    for t in (
        ((o.get("series") or {}).get("lastObservedTime")),
        o.get("lastTimestamp"),
        o.get("eventTime"),
        (o.get("metadata") or {}).get("creationTimestamp"),
    ):
        if t:
            try:
                return parse_time(str(t))
            except ValueError:
                continue
    return 0.0
