"""One Event, two API versions: the store keeps core/v1 Events (with the events.k8s.io fields
``eventTime``, ``series``, ``action``, ``related``, ``reportingComponent``, ``reportingInstance``),
as kube-apiserver keeps both versions as one internal type; these map it to events.k8s.io/v1 and
back (``pkg/apis/events/v1/conversion.go``): ``regarding`` is ``involvedObject``, ``note`` is
``message``, ``reportingController`` is ``reportingComponent``, and the legacy ``source``,
``firstTimestamp``, ``lastTimestamp``, ``count`` are ``deprecatedSource``,
``deprecatedFirstTimestamp``, ``deprecatedLastTimestamp``, ``deprecatedCount``.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

RENAMED = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
)
ORDER = (
    "eventTime", "series", "reportingController", "reportingInstance", "action", "reason",
    "regarding", "related", "note", "type", "deprecatedSource", "deprecatedFirstTimestamp",
    "deprecatedLastTimestamp", "deprecatedCount",
)  # fmt: skip
"""events.k8s.io/v1 Event's fields in Go's order."""


def to_events_v1(core: Obj) -> Obj:
    """A stored (core/v1) Event as events.k8s.io/v1 shows it."""
    fields = dict(core)
    for old, new in RENAMED:
        if old in fields:
            fields[new] = fields.pop(old)
    out: Obj = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": core.get("metadata", {})}
    for k in ORDER:
        v = fields.get(k)
        if v is not None and v not in ("", 0):
            out[k] = v
    out.setdefault("eventTime", None)  # required, null for a legacy event
    return out


def to_core_v1(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event as stored (core/v1)."""
    out: Obj = {"kind": "Event", "apiVersion": "v1", "metadata": event.get("metadata", {})}
    back = {new: old for old, new in RENAMED}
    for k, v in event.items():
        if k in ("kind", "apiVersion", "metadata"):
            continue
        out[back.get(k, k)] = v
    return out
