"""Events as Kubernetes components record them: client-go's two recorders writing Event objects,
and the ground truth of every event emitted.

A component emits through its :class:`Reporter` (``recorder.reporter(component, instance)``), and
the reporter writes what its recorder would:

* **legacy** (client-go ``tools/record``: the kubelets and kube-controller-manager's controllers).
  The first occurrence creates an Event (``count`` 1, ``firstTimestamp`` = ``lastTimestamp``,
  ``source``); an identical one (same source, object, type, reason and message) updates it
  (``count`` + 1, ``lastTimestamp``); the 10th distinct message of one source, object, type and
  reason within 10 minutes becomes one event ``(combined from similar events): ...``; and a source
  may write 25 events about one object, then one per 5 minutes (the spam filter: the counts go on
  growing in the recorder's cache, the next write carries them).
* **series** (``tools/events``, events.k8s.io/v1: the scheduler). The first occurrence creates an
  Event with ``eventTime`` and no ``series``; the second, isomorphic (same regarding object,
  related object, action, reason and reporting controller), writes ``series`` (count 2); the
  following ones only count, written every 30 minutes (the heartbeat) and once when the series ends
  (nothing for 6 minutes).

One storage, the core/v1 Event with the events.k8s.io fields (``eventTime``, ``series``,
``action``, ``related``, ``reportingComponent``, ``reportingInstance``), as kube-apiserver keeps
both API versions in one: a legacy event has ``eventTime`` null, a series event null
``firstTimestamp``/``lastTimestamp``. An update of an event that is gone (its TTL expired) creates
it again, as both recorders do.

Every emission goes to the ground truth (:mod:`.truth`) with what became of it.
"""

from __future__ import annotations

import collections
import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from kubescope.sim.control.events.truth import Emission, Truth, Written
from kubescope.sim.control.runtime import Controller, ControlPlane
from kubescope.sim.objects import events as ev
from kubescope.sim.objects.events import reference

Obj = dict[str, Any]
EVENTS = "events"

LRU_ENTRIES = 4096
AGGREGATE_MAX = 10
AGGREGATE_INTERVAL = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
SERIES_HEARTBEAT = 1800.0
SERIES_FINISH = 360.0


class _LRU(collections.OrderedDict[Any, Any]):
    def get_(self, key: Any) -> Any:
        v = self.get(key)
        if v is not None:
            self.move_to_end(key)
        return v

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > LRU_ENTRIES:
            self.popitem(last=False)


@dataclass(slots=True)
class _Logged:
    count: int
    first: float
    name: str


@dataclass(slots=True)
class _Aggregate:
    """The distinct messages seen (a dict as an insertion-ordered set: client-go pops *any* key at
    the limit; popping the oldest keeps a seeded cluster the same whatever PYTHONHASHSEED)."""

    messages: dict[str, None] = field(default_factory=dict)
    last: float = 0.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class _Series:
    event: Obj
    count: int = 1
    last: float = 0.0


class EventRecorder(Controller):
    """The recorders of a cluster's components (one state per component instance, as each process
    has its own), their timers on the control plane's clock, and the ground truth."""

    name = "event-recorder"

    def __init__(self, plane: ControlPlane) -> None:
        super().__init__(plane)
        self.truth = Truth()
        self._reporters: dict[tuple[str, str], Reporter] = {}
        self._seq = itertools.count(1)
        self._last_nanos = 0

    def reporter(self, component: str, instance: str = "", *, series: bool = False) -> Reporter:
        key = (component, instance)
        r = self._reporters.get(key)
        if r is None:
            kind = SeriesReporter if series else LegacyReporter
            r = self._reporters[key] = kind(self, component, instance)
        return r

    def sync(self, key: Any) -> None:
        key()  # a reporter's timer (series heartbeats and ends)

    def name_for(self, name: str, now: float) -> str:
        """``<object>.<unix nanoseconds, hex>``, unique per recorder (a test clock stands still)."""
        nanos = max(int(now * 1e9), self._last_nanos + 1)
        self._last_nanos = nanos
        return ev.event_name(name, nanos)

    def emission(
        self, r: Reporter, regarding: Obj, typ: str, reason: str, note: str, action: str
    ) -> Emission:
        e = Emission(
            next(self._seq), self.now(), r.component, r.instance, typ, reason, note, action, regarding
        )
        self.truth.add(e)
        return e

    def write(self, who: str, event: Obj, update: tuple[str, ...]) -> Written | None:
        """Create ``event``, or with ``update`` set those fields of it (created again when it is
        gone: its TTL expired). None when the API server refused it (its namespace is gone)."""
        meta = event["metadata"]
        key = (meta["namespace"], meta["name"])
        created = not (update and self.store.exists(EVENTS, *key))
        if created:
            new = copy.deepcopy(event)
            new["metadata"]["uid"] = self.names.uid()
            out = self.writes.create(EVENTS, new, who)
        else:
            out = self.writes.modify(EVENTS, key, lambda o: o.update({k: event[k] for k in update}), who)
        if out is None:
            return None
        m = out["metadata"]
        return Written(str(m.get("uid", "")), str(m.get("resourceVersion", "")), created)


class Reporter:
    """One component instance's recorder."""

    def __init__(self, recorder: EventRecorder, component: str, instance: str) -> None:
        self.recorder = recorder
        self.component = component
        self.instance = instance

    def emit(
        self,
        regarding: Obj,
        typ: str,
        reason: str,
        note: str,
        *,
        action: str = "",
        field_path: str = "",
        related: Obj | None = None,
    ) -> None:
        """Record an event about ``regarding`` (an object, or a reference from :func:`ref`)."""
        about = regarding if "metadata" not in regarding else reference(regarding, field_path)
        if field_path and "fieldPath" not in about:
            about = {**about, "fieldPath": field_path}
        rel = None if related is None else (related if "metadata" not in related else reference(related))
        e = self.recorder.emission(self, about, typ, reason, note, action)
        self._record(e, about, rel)

    def _record(self, e: Emission, ref: Obj, related: Obj | None) -> None:
        raise NotImplementedError


class LegacyReporter(Reporter):
    """client-go ``tools/record``'s EventCorrelator: aggregation, deduplication (count), spam filter."""

    def __init__(self, recorder: EventRecorder, component: str, instance: str) -> None:
        super().__init__(recorder, component, instance)
        self._aggregates: _LRU = _LRU()
        self._logged: _LRU = _LRU()
        self._buckets: _LRU = _LRU()

    def _record(self, e: Emission, ref: Obj, related: Obj | None) -> None:
        now = e.time
        obj_key = (
            ref.get("kind"),
            ref.get("namespace", ""),
            ref.get("name"),
            ref.get("uid", ""),
            ref.get("apiVersion"),
        )
        # EventAggregate: the 10th distinct message of a kind of event within 10 minutes
        agg_key = (obj_key, e.type, e.reason)
        agg = self._aggregates.get_(agg_key)
        if agg is None or now - agg.last > AGGREGATE_INTERVAL:
            agg = _Aggregate()
        agg.messages[e.note] = None
        agg.last = now
        self._aggregates.put(agg_key, agg)
        key: Any
        message, key, aggregated = (
            e.note,
            (obj_key, ref.get("fieldPath", ""), e.type, e.reason, e.note),
            False,
        )
        if len(agg.messages) >= AGGREGATE_MAX:
            del agg.messages[next(iter(agg.messages))]
            message, key, aggregated = f"(combined from similar events): {e.note}", agg_key, True
        # eventObserve: the same event again is the same Event, counted
        logged = self._logged.get_(key)
        if logged is None:
            name = self.recorder.name_for(ref.get("name", ""), now)
            logged = _Logged(1, now, name)
        else:
            logged.count += 1
        self._logged.put(key, logged)
        ns = ref.get("namespace") or "default"
        # the spam filter: 25 events per source and object, then one per 5 minutes
        bucket = self._buckets.get_(obj_key)
        if bucket is None:
            bucket = _Bucket(SPAM_BURST, now)
        bucket.tokens = min(SPAM_BURST, bucket.tokens + (now - bucket.at) * SPAM_QPS)
        bucket.at = now
        self._buckets.put(obj_key, bucket)
        if bucket.tokens < 1:
            self.recorder.truth.settle(e, "dropped", ns, logged.name)
            return
        bucket.tokens -= 1
        event = ev.legacy(
            logged.name, ns, ref, e.type, e.reason, message, self.component, self.instance,
            logged.first, now, logged.count,
        )  # fmt: skip
        if related is not None:
            event["related"] = related
        update = logged.count > 1
        written = self.recorder.write(
            self.component, event, ("count", "lastTimestamp", "message") if update else ()
        )
        self.recorder.truth.settle(
            e, "aggregated" if aggregated else "updated" if update else "created", ns, logged.name, written
        )


class SeriesReporter(Reporter):
    """client-go ``tools/events``: isomorphic events become a series."""

    def __init__(self, recorder: EventRecorder, component: str, instance: str) -> None:
        super().__init__(recorder, component, instance)
        self._cache: dict[Any, _Series] = {}
        self._ticking = False

    def _record(self, e: Emission, ref: Obj, related: Obj | None) -> None:
        now = e.time
        key = (e.action, e.reason, self.component, _frozen(ref), _frozen(related))
        s = self._cache.get(key)
        ns = ref.get("namespace") or "default"
        if s is not None:
            s.count += 1
            s.last = now
            if s.count > 2:
                self.recorder.truth.settle(e, "counted", ns, s.event["metadata"]["name"])
                return
            written = self._write_series(s)
            self.recorder.truth.settle(e, "updated", ns, s.event["metadata"]["name"], written)
            return
        name = self.recorder.name_for(ref.get("name", ""), now)
        event = ev.series(
            name, ns, ref, e.type, e.reason, e.note, self.component, self.instance, e.action, now
        )
        if related is not None:
            event["related"] = related
        self._cache[key] = _Series(event, 1, now)
        written = self.recorder.write(self.component, event, ())
        self.recorder.truth.settle(e, "created", ns, event["metadata"]["name"], written)
        if not self._ticking:
            self._ticking = True
            self.recorder.queue.add_after(self._finish, SERIES_FINISH)
            self.recorder.queue.add_after(self._heartbeat, SERIES_HEARTBEAT)

    def _write_series(self, s: _Series) -> Written | None:
        s.event["series"] = ev.series_of(s.count, s.last)
        return self.recorder.write(self.component, s.event, ("series",))

    def _heartbeat(self) -> None:
        """``refreshExistingEventSeries``: every 30 minutes, each series' count written."""
        for s in list(self._cache.values()):
            if s.count > 1:
                self._write_series(s)
        self.recorder.queue.add_after(self._heartbeat, SERIES_HEARTBEAT)

    def _finish(self) -> None:
        """``finishSeries``: every 6 minutes, a series quiet for 6 minutes is written a last time
        and forgotten; a single event is forgotten 6 minutes after it happened."""
        now = self.recorder.now()
        for key, s in list(self._cache.items()):
            if now - s.last > SERIES_FINISH:
                if s.count > 1:
                    self._write_series(s)
                del self._cache[key]
        self.recorder.queue.add_after(self._finish, SERIES_FINISH)


def _frozen(ref: Obj | None) -> Any:
    return None if ref is None else tuple(sorted(ref.items()))
