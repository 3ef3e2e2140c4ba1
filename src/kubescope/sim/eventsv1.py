"""One Event, two API versions: the store keeps core/v1 Events (with the events.k8s.io fields
``eventTime``, ``series``, ``action``, ``related``, ``reportingComponent``, ``reportingInstance``),
as kube-apiserver keeps both versions as one internal type; these map it to events.k8s.io/v1 and
back (``pkg/apis/events/v1/conversion.go``): ``regarding`` is ``involvedObject``, ``note`` is
``message``, ``reportingController`` is ``reportingComponent``, and the legacy ``source``,
``firstTimestamp``, ``lastTimestamp``, ``count`` are ``deprecatedSource``,
``deprecatedFirstTimestamp``, ``deprecatedLastTimestamp``, ``deprecatedCount``.

Both are written as Go's ``encoding/json`` writes the structs: a struct-typed field is never left
out (``regarding``, ``deprecatedSource`` as ``{}``; a zero ``metav1.Time`` as ``null``), empty
strings and zero counts with ``omitempty`` are, and core/v1's ``reportingComponent`` and
``reportingInstance`` have no ``omitempty``.

:data:`FIELD_LABELS` is the field label conversion events.k8s.io/v1 registers: its selectors are
the core ones renamed (``regarding.name`` selects ``involvedObject.name``), and the core spellings
are not accepted there.
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

_V1_FIELDS = (
    # (name, how Go writes its zero value: "omit", "null" (a metav1 time), "{}" (a struct))
    ("eventTime", "null"),
    ("series", "omit"),
    ("reportingController", "omit"),
    ("reportingInstance", "omit"),
    ("action", "omit"),
    ("reason", "omit"),
    ("regarding", "{}"),
    ("related", "omit"),
    ("note", "omit"),
    ("type", "omit"),
    ("deprecatedSource", "{}"),
    ("deprecatedFirstTimestamp", "null"),
    ("deprecatedLastTimestamp", "null"),
    ("deprecatedCount", "omit"),
)
"""events.k8s.io/v1 Event's fields in Go's order."""

_CORE_FIELDS = (
    ("involvedObject", "{}"),
    ("reason", "omit"),
    ("message", "omit"),
    ("source", "{}"),
    ("firstTimestamp", "null"),
    ("lastTimestamp", "null"),
    ("count", "omit"),
    ("type", "omit"),
    ("eventTime", "null"),
    ("series", "omit"),
    ("action", "omit"),
    ("related", "omit"),
    ("reportingComponent", '""'),
    ("reportingInstance", '""'),
)
"""core/v1 Event's fields in Go's order."""

FIELD_LABELS = {
    "metadata.name": "metadata.name",
    "metadata.namespace": "metadata.namespace",
    "reason": "reason",
    "type": "type",
    "source": "source",
    "reportingController": "reportingComponent",
    **{f"regarding.{k}": f"involvedObject.{k}" for k in (
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath",
    )},
}  # fmt: skip
"""events.k8s.io/v1's field selector labels and the stored (core/v1) fields they select."""


def _write(fields: Obj, order: tuple[tuple[str, str], ...], head: Obj) -> Obj:
    out = head
    for k, zero in order:
        v = fields.get(k)
        if v is None or v == "" or (v == 0 and not isinstance(v, bool)) or v == {}:
            if zero == "null":
                out[k] = None
            elif zero == "{}":
                out[k] = v if isinstance(v, dict) else {}
            elif zero == '""':
                out[k] = ""
            continue
        out[k] = v
    return out


def to_events_v1(core: Obj) -> Obj:
    """A stored (core/v1) Event as events.k8s.io/v1 shows it."""
    fields = dict(core)
    for old, new in RENAMED:
        if old in fields:
            fields[new] = fields.pop(old)
    head: Obj = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": core.get("metadata", {})}
    return _write(fields, _V1_FIELDS, head)


def to_core_v1(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event as stored (core/v1)."""
    back = {new: old for old, new in RENAMED}
    fields = {back.get(k, k): v for k, v in event.items() if k not in ("kind", "apiVersion", "metadata")}
    head: Obj = {"kind": "Event", "apiVersion": "v1", "metadata": event.get("metadata", {})}
    return _write(fields, _CORE_FIELDS, head)
