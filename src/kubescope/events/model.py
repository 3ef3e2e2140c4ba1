"""Events on the wire and as the archive keeps them: pure, no I/O.

Both API groups are views of one stored type in kube-apiserver (``pkg/apis/events/v1``'s
conversion): ``involvedObject`` is ``regarding``, ``message`` is ``note``, ``reportingComponent`` is
``reportingController``, ``source``/``firstTimestamp``/``lastTimestamp``/``count`` are the
``deprecated*`` fields. :func:`to_record` turns either into one
:class:`Record`, one per event *version* (uid, resourceVersion); :func:`check` refuses what cannot
be archived whole (no uid, a resourceVersion that is not a number, a note over the bound), so a
write never stores part of an event.

Times are integers: microseconds since the epoch for ``MicroTime`` fields, seconds for ``Time``.
"""

from __future__ import annotations

import datetime as _dt

import msgspec

from kubescope.model.meta import Wire
from kubescope.model.timefmt import parse_rfc3339

MAX_NOTE_BYTES = 64 * 1024
"""Notes longer than this are refused (``--max-note-bytes``): the API allows 1 kB in events.k8s.io/v1
(core/v1 messages are unbounded), and client libraries must handle 64 kB (KEP-383)."""
MAX_FIELD_BYTES = 1024
"""reason, action, type, reportingController/Instance, names: the API's limit is 128 characters;
more than 1 kB is not an Event a real API server wrote."""


class Ref(Wire):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None
    api_version: str | None = None
    resource_version: str | None = None
    field_path: str | None = None


class Series(Wire):
    count: int | None = None
    last_observed_time: str | None = None


class Source(Wire):
    component: str | None = None
    host: str | None = None


class EventMeta(Wire):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    creation_timestamp: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class V1Event(Wire):
    """``events.k8s.io/v1`` Event."""

    metadata: EventMeta = msgspec.field(default_factory=EventMeta)
    event_time: str | None = None
    series: Series | None = None
    reporting_controller: str | None = None
    reporting_instance: str | None = None
    action: str | None = None
    reason: str | None = None
    regarding: Ref | None = None
    related: Ref | None = None
    note: str | None = None
    type: str | None = None
    deprecated_source: Source | None = None
    deprecated_first_timestamp: str | None = None
    deprecated_last_timestamp: str | None = None
    deprecated_count: int | None = None


class CoreEvent(Wire):
    """``core/v1`` Event, decoded under events.k8s.io/v1's field names: kube-apiserver's conversion
    between the two is a renaming, so :func:`to_record` reads either the same way."""

    metadata: EventMeta = msgspec.field(default_factory=EventMeta)
    regarding: Ref | None = msgspec.field(default=None, name="involvedObject")
    reason: str | None = None
    note: str | None = msgspec.field(default=None, name="message")
    deprecated_source: Source | None = msgspec.field(default=None, name="source")
    deprecated_first_timestamp: str | None = msgspec.field(default=None, name="firstTimestamp")
    deprecated_last_timestamp: str | None = msgspec.field(default=None, name="lastTimestamp")
    deprecated_count: int | None = msgspec.field(default=None, name="count")
    type: str | None = None
    event_time: str | None = None
    series: Series | None = None
    action: str | None = None
    related: Ref | None = None
    reporting_controller: str | None = msgspec.field(default=None, name="reportingComponent")
    reporting_instance: str | None = None


class Record(msgspec.Struct, gc=False):
    """One version of one Event, normalized to events.k8s.io/v1's fields."""

    uid: str
    rv: int
    namespace: str
    name: str
    regarding: Ref
    related: Ref | None
    reason: str
    action: str
    note: str
    type: str
    controller: str
    instance: str
    event_time: int | None
    """µs"""
    series_count: int | None
    series_last: int | None
    """µs"""
    source_component: str
    source_host: str
    first_ts: int | None
    """s"""
    last_ts: int | None
    """s"""
    deprecated_count: int | None
    created: int | None
    """s"""
    extra: str | None
    """labels and annotations as JSON ``{"labels":…, "annotations":…}``, when the event has any."""

    @property
    def seen(self) -> int:
        """When this version was last observed (µs): the series' last observation, else the last
        timestamp, else the event time, else the creation time. The archive's time axis."""
        if self.series_last is not None:
            return self.series_last
        if self.last_ts is not None:
            return self.last_ts * 1_000_000
        if self.event_time is not None:
            return self.event_time
        return (self.created or 0) * 1_000_000

    @property
    def count(self) -> int:
        """How many times it happened: the series' count, else the deprecated count, else 1."""
        return self.series_count or self.deprecated_count or 1


class BadEvent(ValueError):
    """An event that cannot be archived whole; the message names it and what is wrong."""


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_US = _dt.timedelta(microseconds=1)


def micros(s: str | None) -> int | None:
    if not s:
        return None
    if len(s) in (20, 27) and s[-1] == "Z" and s[10] == "T":  # what API servers write: the C parser
        try:
            return (_dt.datetime.fromisoformat(s) - _EPOCH) // _US
        except ValueError:
            pass
    got = parse_rfc3339(s)
    if got is None:
        raise BadEvent(f"not an RFC 3339 time: {s[:40]!r}")
    return got[0] * 1_000_000 + got[1] // 1000


def seconds(s: str | None) -> int | None:
    if not s:
        return None
    if len(s) == 20 and s[-1] == "Z" and s[10] == "T":
        try:
            return int((_dt.datetime.fromisoformat(s) - _EPOCH).total_seconds())
        except ValueError:
            pass
    got = parse_rfc3339(s)
    if got is None:
        raise BadEvent(f"not an RFC 3339 time: {s[:40]!r}")
    return got[0]


_extra_enc = msgspec.json.Encoder(order="sorted")


def _extra(meta: EventMeta) -> str | None:
    if not meta.labels and not meta.annotations:
        return None
    out: dict[str, dict[str, str]] = {}
    if meta.labels:
        out["labels"] = meta.labels
    if meta.annotations:
        out["annotations"] = meta.annotations
    return _extra_enc.encode(out).decode()


def _rv(meta: EventMeta) -> int:
    try:
        rv = int(meta.resource_version)
    except ValueError:
        raise BadEvent(f"resourceVersion {meta.resource_version[:40]!r} is not a number") from None
    if rv <= 0 or rv >= 1 << 63:
        raise BadEvent(f"resourceVersion {rv} out of range")
    return rv


def _name(meta: EventMeta) -> str:
    return f"{meta.namespace}/{meta.name}" if meta.name else "(unnamed)"


def to_record(ev: V1Event | CoreEvent) -> Record:
    """One version of an event of either API group (see :class:`CoreEvent`)."""
    m = ev.metadata
    series = ev.series
    src = ev.deprecated_source or _NO_SOURCE
    try:
        return Record(
            uid=m.uid, rv=_rv(m), namespace=m.namespace, name=m.name,
            regarding=ev.regarding or Ref(), related=ev.related,
            reason=ev.reason or "", action=ev.action or "", note=ev.note or "", type=ev.type or "",
            controller=ev.reporting_controller or "", instance=ev.reporting_instance or "",
            event_time=micros(ev.event_time),
            series_count=series.count if series else None,
            series_last=micros(series.last_observed_time) if series else None,
            source_component=src.component or "", source_host=src.host or "",
            first_ts=seconds(ev.deprecated_first_timestamp), last_ts=seconds(ev.deprecated_last_timestamp),
            deprecated_count=ev.deprecated_count or None, created=seconds(m.creation_timestamp),
            extra=_extra(m),
        )  # fmt: skip
    except BadEvent as e:
        raise BadEvent(f"event {_name(m)}: {e}") from None


_NO_SOURCE = Source()


def check(r: Record, max_note_bytes: int = MAX_NOTE_BYTES) -> None:
    """Raise :class:`BadEvent` if ``r`` cannot be archived whole."""
    where = f"event {r.namespace}/{r.name or '(unnamed)'}"
    if not r.uid:
        raise BadEvent(f"{where}: no metadata.uid")
    if not r.name:
        raise BadEvent(f"{where}: no metadata.name")
    if len(r.note.encode()) > max_note_bytes:
        raise BadEvent(
            f"{where}: note of {len(r.note.encode())} bytes is over --max-note-bytes={max_note_bytes}"
        )
    for what, v in (
        ("reason", r.reason), ("action", r.action), ("type", r.type), ("reportingController", r.controller),
        ("reportingInstance", r.instance), ("metadata.name", r.name), ("metadata.uid", r.uid),
        ("regarding.name", r.regarding.name or ""), ("regarding.kind", r.regarding.kind or ""),
        ("regarding.fieldPath", r.regarding.field_path or ""),
    ):  # fmt: skip
        if len(v) > MAX_FIELD_BYTES:
            raise BadEvent(f"{where}: {what} of {len(v)} characters (at most {MAX_FIELD_BYTES})")
    if r.seen <= 0:
        raise BadEvent(f"{where}: no time at all (eventTime, lastTimestamp, creationTimestamp)")
