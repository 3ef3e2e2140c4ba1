"""The Events a generated cluster holds when it starts: what its components said about the pods
that exist, still there because it was written within kube-apiserver's ``--event-ttl`` (an hour),
as the recorders write it (:mod:`kubescope.sim.objects.events`):

* a pod created within the hour: the scheduler's ``Scheduled`` (events.k8s.io recorder:
  ``eventTime``, action ``Binding``), then its kubelet's ``Pulled`` (or ``Pulling`` and ``Pulled``
  for a first pull), ``Created``, ``Started`` for each container;
* a container restarted within the hour: ``Pulled`` (present), ``Created``, ``Started`` again, with
  their counts; a crash-looping one also ``BackOff`` (Warning), counted every sync;
* a pod failing its readiness probe: ``Unhealthy`` (Warning) every 10 s since it started;
* a pod that cannot pull its image: ``BackOff`` (``Back-off pulling image``) and ``Failed``
  (``Error: ImagePullBackOff``, Warning);
* an unschedulable pod: the scheduler's ``FailedScheduling`` series, retried every 5 minutes.

A repeated event is one Event (legacy: ``count``, first and last timestamps; series: ``series``),
its last write within the hour, as the recorders' spam filter and series heartbeat leave it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.model.gofmt import go_duration
from kubescope.model.timefmt import parse_time
from kubescope.sim.objects import events as ev
from kubescope.sim.objects.meta import rfc3339
from kubescope.sim.scenario.gen import Gen

Obj = dict[str, Any]
TTL = 3600.0
"""kube-apiserver's default ``--event-ttl``."""
SPAM_INTERVAL = 300.0
"""How often a legacy recorder may write about one object once its burst is spent."""
RESCHEDULE = 300.0
"""How often the scheduler retries an unschedulable pod (``podMaxInUnschedulablePodsDuration``)."""
KUBELET = "kubelet"
SCHEDULER = "default-scheduler"


class History:
    """One pod's events, named uniquely (client-go names an Event after its object and the time)."""

    def __init__(self, g: Gen, pod: Obj, scheduler: str) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        self.g = g
        self.ns, self.name, self.uid = meta["namespace"], meta["name"], meta.get("uid", "")
        self.node = str(spec.get("nodeName") or "")
        self.scheduler = scheduler
        self.out: list[tuple[str, Obj]] = []
        self.legacy: dict[tuple[str, ...], Obj] = {}
        """The kubelet's Events by what makes them the same (its recorder's dedupe key)."""

    def about(self, path: str = "") -> Obj:
        return ev.ref("Pod", "v1", self.ns, self.name, self.uid, field_path=path)

    def _name(self, first: float) -> str:
        return ev.event_name(self.name, int(first * 1e9) + len(self.out))

    def kubelet(
        self, path: str, typ: str, reason: str, message: str, first: float, last: float = 0.0, count: int = 1
    ) -> None:
        last = max(last, first)
        key = (path, typ, reason, message)
        seen = self.legacy.get(key)
        if seen is not None:  # the same event again: the recorder counted it on the same Event
            seen["count"] += count
            seen["firstTimestamp"] = min(seen["firstTimestamp"], rfc3339(first))
            seen["lastTimestamp"] = max(seen["lastTimestamp"], rfc3339(last))
            return
        e = ev.legacy(
            self._name(first), self.ns, self.about(path), typ, reason, message, KUBELET, self.node,
            first, last, count,
        )  # fmt: skip
        self.legacy[key] = e
        self.out.append(("events", self._stamped(e, first)))

    def scheduler_event(
        self, typ: str, reason: str, note: str, action: str, first: float, count: int = 1, last: float = 0.0
    ) -> None:
        e = ev.series(
            self._name(first),
            self.ns,
            self.about(),
            typ,
            reason,
            note,
            SCHEDULER,
            self.scheduler,
            action,
            first,
        )
        if count > 1:
            e["series"] = ev.series_of(count, max(last, first))
        self.out.append(("events", self._stamped(e, first)))

    def _stamped(self, e: Obj, created: float) -> Obj:
        meta = self.g.meta(e["metadata"]["name"], self.ns, created=created)
        e["metadata"] = meta
        return e


def history(g: Gen, pods: list[Obj]) -> Iterator[tuple[str, Obj]]:
    """The Events about ``pods`` still in the API at the cluster's start."""
    cp = next((n for n in g.node_names if n.startswith("control-plane")), "kubescope")
    scheduler = f"{SCHEDULER}-{cp}"
    for pod in pods:
        h = History(g, pod, scheduler)
        _pod(g, h, pod)
        yield from h.out


def _pod(g: Gen, h: History, pod: Obj) -> None:
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    now = g.now
    horizon = now - TTL
    created = parse_time(meta["creationTimestamp"])
    if not h.node:
        message = _condition_message(status, "PodScheduled")
        if message:
            retries = 1 + int((now - created) / RESCHEDULE)
            last = now - g.rng.uniform(0, RESCHEDULE)
            h.scheduler_event(
                "Warning", "FailedScheduling", message, "Scheduling", created + 1, retries, last
            )
        return
    started_at = parse_time(status["startTime"]) if status.get("startTime") else created + 2
    if created >= horizon:
        h.scheduler_event("Normal", "Scheduled", ev.scheduled(h.ns, h.name, h.node), "Binding", created + 1)
        t = started_at
        for kind in ("initContainers", "containers"):
            for c in spec.get(kind) or ():
                path = ev.container_path(kind, str(c.get("name", "")))
                t = _start(g, h, path, c, t)
    statuses = {str(s.get("name")): s for s in status.get("containerStatuses") or ()}
    for c in spec.get("containers") or ():
        name = str(c.get("name", ""))
        s = statuses.get(name)
        if s is not None:
            _since_start(g, h, ev.container_path("containers", name), c, s, started_at, horizon)
    if _condition(status, "Ready") == "False" and status.get("phase") == "Running":
        waiting = any("waiting" in (s.get("state") or {}) for s in statuses.values())
        if not waiting:  # running, failing its readiness probe
            first = started_at + 5
            last = now - g.rng.uniform(0, SPAM_INTERVAL)
            path = ev.container_path("containers", str((spec.get("containers") or [{}])[0].get("name", "")))
            h.kubelet(
                path, "Warning", "Unhealthy", ev.READINESS_FAILED, first, last, 1 + int((last - first) / 10)
            )


def _start(g: Gen, h: History, path: str, c: Obj, t: float) -> float:
    """A container's first start: its image pulled (or there), created, started."""
    image, name = str(c.get("image", "")), str(c.get("name", ""))
    if g.rng.random() < 0.3:
        took = 0.3 + 4.0 * g.rng.random()
        h.kubelet(path, "Normal", "Pulling", ev.pulling(image), t)
        size = int((20 + 400 * g.rng.random()) * (1 << 20))
        t += took
        h.kubelet(path, "Normal", "Pulled", ev.pulled(image, go_duration(int(took * 1e9)), size), t)
    else:
        h.kubelet(path, "Normal", "Pulled", ev.present(image), t)
    h.kubelet(path, "Normal", "Created", ev.created(name), t + 0.1)
    h.kubelet(path, "Normal", "Started", ev.started(name), t + 0.2)
    return t + 0.3


def _since_start(g: Gen, h: History, path: str, c: Obj, s: Obj, started_at: float, horizon: float) -> None:
    """A container's restarts within the hour, its crash loop or its image pull backing off."""
    image, name = str(c.get("image", "")), str(c.get("name", ""))
    now = g.now
    waiting = (s.get("state") or {}).get("waiting") or {}
    restarts = int(s.get("restartCount") or 0)
    finished = ((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
    if restarts and finished:
        last = parse_time(finished) + 10
        if last >= horizon:
            # one restart, or a crash loop's every five minutes within the hour
            looping = waiting.get("reason") == "CrashLoopBackOff"
            n = min(restarts, int(TTL / SPAM_INTERVAL)) if looping else 1
            first = last - (n - 1) * SPAM_INTERVAL
            h.kubelet(path, "Normal", "Pulled", ev.present(image), first, last, n)
            h.kubelet(path, "Normal", "Created", ev.created(name), first, last, n)
            h.kubelet(path, "Normal", "Started", ev.started(name), first, last, n)
            if looping:
                back = now - g.rng.uniform(0, 60)
                note = ev.back_off(name, h.name, h.ns, h.uid)
                h.kubelet(path, "Warning", "BackOff", note, first, back, 1 + int((back - first) / 60))
    if waiting.get("reason") == "ImagePullBackOff":
        first = started_at + 1
        last = now - g.rng.uniform(0, SPAM_INTERVAL)
        n = 1 + int((last - first) / SPAM_INTERVAL)
        h.kubelet(path, "Normal", "BackOff", ev.back_off_pull(image), first, last, n)
        h.kubelet(path, "Warning", "Failed", "Error: ImagePullBackOff", first, last, n)


def _condition(status: Obj, typ: str) -> str:
    for c in status.get("conditions") or ():
        if c.get("type") == typ:
            return str(c.get("status", ""))
    return ""


def _condition_message(status: Obj, typ: str) -> str:
    for c in status.get("conditions") or ():
        if c.get("type") == typ and c.get("status") == "False":
            return str(c.get("message", ""))
    return ""
