"""Records as the API and people read them: pure, no I/O.

* :func:`event_json`: the events.k8s.io/v1 Event schema (as kube-apiserver serves it, under this
  server's group), with ``events.kubescope.io/expired: "true"`` on events the API server no
  longer has;
* :func:`table`: a ``meta.k8s.io/v1`` Table with kube-apiserver's event columns (``kubectl get``);
* :func:`kubectl_events`: ``kubectl events``' columns (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any

import msgspec

from kubescope.events.model import Record, Ref
from kubescope.model.timefmt import human_duration

GROUP = "events.kubescope.io"
VERSION = "v1"
EXPIRED = f"{GROUP}/expired"
"""The annotation on an archived event the API server no longer has (its TTL passed)."""


def _micro(us: int | None) -> str | None:
    if us is None:
        return None
    d = dt.datetime.fromtimestamp(us // 1_000_000, dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}Z"


def _time(s: int | None) -> str | None:
    if s is None:
        return None
    return dt.datetime.fromtimestamp(s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(r: Ref) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in (
        ("kind", r.kind), ("namespace", r.namespace), ("name", r.name), ("uid", r.uid),
        ("apiVersion", r.api_version), ("resourceVersion", r.resource_version), ("fieldPath", r.field_path),
    ):  # fmt: skip
        if v:
            out[key] = v
    return out


def event_json(r: Record, *, expired: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": r.name, "namespace": r.namespace, "uid": r.uid, "resourceVersion": str(r.rv),
        "creationTimestamp": _time(r.created),
    }  # fmt: skip
    if r.extra:
        meta.update(msgspec.json.decode(r.extra))
    if expired:
        meta["annotations"] = {**meta.get("annotations", {}), EXPIRED: "true"}
    out: dict[str, Any] = {"kind": "Event", "apiVersion": f"{GROUP}/{VERSION}", "metadata": meta}
    out["eventTime"] = _micro(r.event_time)
    if r.series_count is not None:
        out["series"] = {"count": r.series_count, "lastObservedTime": _micro(r.series_last)}
    for key, v in (
        ("reportingController", r.controller), ("reportingInstance", r.instance), ("action", r.action),
        ("reason", r.reason),
    ):  # fmt: skip
        if v:
            out[key] = v
    out["regarding"] = _ref(r.regarding)
    if r.related is not None:
        out["related"] = _ref(r.related)
    if r.note:
        out["note"] = r.note
    if r.type:
        out["type"] = r.type
    if r.source_component or r.source_host:
        src = {"component": r.source_component, "host": r.source_host}
        out["deprecatedSource"] = {k: v for k, v in src.items() if v}
    else:
        out["deprecatedSource"] = {}
    out["deprecatedFirstTimestamp"] = _time(r.first_ts)
    out["deprecatedLastTimestamp"] = _time(r.last_ts)
    if r.deprecated_count:
        out["deprecatedCount"] = r.deprecated_count
    return out


def _object(r: Record) -> str:
    g = r.regarding
    return f"{(g.kind or '').lower()}/{g.name or ''}"


def _ago(us: int, now: float) -> str:
    return human_duration(now - us / 1_000_000) if us else "<unknown>"


_COLUMNS = [
    ("Last Seen", "string", "", "Time since the event was last seen", 0),
    ("Type", "string", "", "Normal or Warning", 0),
    ("Reason", "string", "", "Why the event happened", 0),
    ("Object", "string", "", "The object the event is about", 0),
    ("Subobject", "string", "", "The part of the object (fieldPath)", 1),
    ("Source", "string", "", "The reporting controller (and instance)", 1),
    ("Message", "string", "", "The event's note", 0),
    ("First Seen", "string", "", "Time since the event first happened", 1),
    ("Count", "integer", "", "How many times it happened", 1),
    ("Name", "string", "name", "The event's name", 1),
    ("Status", "string", "", "live: the API server has it; expired: only the archive does", 0),
]


def first_seen(r: Record) -> int:
    if r.event_time is not None:
        return r.event_time
    if r.first_ts is not None:
        return r.first_ts * 1_000_000
    return r.seen


def table(
    items: Sequence[tuple[Record, bool]], list_meta: dict[str, Any], include: str = "Metadata"
) -> dict[str, Any]:
    """``items``: (record, expired). ``include``: the ``includeObject`` parameter."""
    now = time.time()
    rows = []
    for r, expired in items:
        source = r.controller or r.source_component
        if r.instance or r.source_host:
            source = f"{source}, {r.instance or r.source_host}"
        cells = [
            _ago(r.seen, now), r.type, r.reason, _object(r), r.regarding.field_path or "", source,
            r.note.strip(), _ago(first_seen(r), now), r.count, r.name, "expired" if expired else "live",
        ]  # fmt: skip
        row: dict[str, Any] = {"cells": cells}
        if include == "Object":
            row["object"] = event_json(r, expired=expired)
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": event_json(r, expired=expired)["metadata"],
            }  # fmt: skip
        rows.append(row)
    cols = [
        {"name": n, "type": t, "format": f, "description": d, "priority": p} for n, t, f, d, p in _COLUMNS
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": cols,
        "rows": rows,
    }


def kubectl_events(
    items: Sequence[tuple[Record, bool]], *, all_namespaces: bool = False, now: float | None = None
) -> str:
    """``kubectl events``' table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (NAMESPACE first with
    ``-A``), oldest first; an event the API server no longer has says so after its message."""
    now = time.time() if now is None else now
    header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    if all_namespaces:
        header.insert(0, "NAMESPACE")
    rows = []
    for r, expired in items:
        last = _ago(r.seen, now)
        if r.count > 1:
            last = f"{last} (x{r.count} over {_ago(first_seen(r), now)})"
        msg = r.note.strip() + (" [expired from the API server]" if expired else "")
        row = [last, r.type, r.reason, _object(r), msg]
        if all_namespaces:
            row.insert(0, r.namespace)
        rows.append(row)
    if not rows:
        return "No events found.\n"
    widths = [max(len(h), *(len(str(row[i])) for row in rows)) for i, h in enumerate(header)]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(widths[i]) for i, c in enumerate(row[:-1])]
        lines.append("   ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines) + "\n"
