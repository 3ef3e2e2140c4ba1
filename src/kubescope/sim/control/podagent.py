"""The kubelets' side of pods: what a node's kubelet reports of the pods bound to it, through
their lives, as its machine (:mod:`.cri`) makes them happen.

* **Start.** A pod bound to a node with a running kubelet is reported ``Pending`` with its
  containers being created (the node's address as ``hostIP``, a ``startTime``), then, 1 to 4 s
  later, ``Running``: a pod IP (the node's with ``hostNetwork``), containers running, init
  containers done (sidecars running), ready unless its readiness probe fails.
* **A container dies** and is restarted at once: ``restartCount`` + 1, the ended run in
  ``lastState.terminated``, a new ``startedAt`` and container ID.
* **A broken container** crash-loops: it dies, waits in ``CrashLoopBackOff`` (10 s, doubling to
  5 min), starts, runs a few seconds, dies again, until it is fixed; the pod is not ready
  meanwhile. The generated cluster's crash-looping pods go on doing so.
* **Readiness** follows the probe: ``Ready`` and ``ContainersReady`` go False while it fails.
* **Finished work** (a Job's pod): its containers exit, the pod ``Succeeded`` (or ``Failed``).
* **Termination.** A pod being deleted (``deletionTimestamp``) has its containers stopped within
  its grace period (most in a few seconds, a few take the whole period), is reported with its
  final phase, and deleted for good (grace period 0), as the kubelet does.

A dead kubelet reports nothing: its pods stay as they were (not ready once the node lifecycle
controller says so) until it comes back and reports them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubescope.model.gofmt import go_duration
from kubescope.sim.control.cache import NodeCache, PodCache, PodRecord
from kubescope.sim.control.cri import Crash, Machines
from kubescope.sim.control.kubeletevents import PROBE_PERIOD, RESYNC, KubeletEvents
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects import pods as podobj
from kubescope.sim.objects.meta import rfc3339

Obj = dict[str, Any]
BACKOFF_START, BACKOFF_MAX = 10.0, 300.0


@dataclass(slots=True)
class Loop:
    """A crash-looping container: when it starts again, or when its run dies."""

    container: int
    backoff: float
    waiting_until: float = 0.0
    running_until: float = 0.0
    resync: float = 0.0
    """The kubelet's next sync while it waits (another ``BackOff`` event)."""


@dataclass(slots=True)
class AgentPod:
    phase: str
    """``creating`` (start due), ``running``, ``stopping`` (stop due)."""
    due: float = 0.0
    loop: Loop | None = None
    probe: float = 0.0
    """The failing readiness probe's next run (another ``Unhealthy`` event), or 0."""


class PodAgent(Controller):
    name = "kubelet"
    watches = ("pods",)

    def __init__(self, plane: ControlPlane, pods: PodCache, nodes: NodeCache, machines: Machines) -> None:
        super().__init__(plane)
        self.pods = pods
        self.nodes = nodes
        self.machines = machines
        self.state: dict[Key, AgentPod] = {}
        self.events = KubeletEvents(self, plane.seed)
        pods.on_change(self._pod_changed)
        machines.on_pod(self.queue.add)
        machines.on_node(self._kubelet_changed)

    # -- observing ----------------------------------------------------------------------------

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        if typ == LISTED:  # the images of what runs at start are on their nodes
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self.events.seen(node, obj)

    def _pod_changed(self, typ: str, old: PodRecord | None, new: PodRecord | None) -> None:
        if new is None:
            if old is not None:
                self.state.pop(old.key, None)
                self.machines.forget(old.key)
                self.events.gone(old.key)
            return
        key = new.key
        if typ == LISTED:
            if new.waiting == "CrashLoopBackOff" and new.restart_policy != "Never":
                self._adopt_crashloop(new)
            return
        st = self.state.get(key)
        if new.deleting:
            if st is None or st.phase != "stopping":
                self.queue.add(key)
        elif new.node and new.phase == "Pending" and st is None:
            self.queue.add(key)

    def _adopt_crashloop(self, p: PodRecord) -> None:
        """A generated pod found crash-looping keeps doing so: its next start within the 5 min
        back-off it is in."""
        self.machines.broken[p.key] = Crash(0, 1, "Error")
        until = self.now() + self.names.rng.random() * BACKOFF_MAX
        self.state[p.key] = AgentPod("running", loop=Loop(0, BACKOFF_MAX, waiting_until=until))
        self.queue.add_at(p.key, until)

    def _kubelet_changed(self, node: str) -> None:
        if node not in self.machines.dead:
            for p in self.pods.on_node(node):
                self.queue.add(p.key)

    # -- syncing ------------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        p = self.pods.get(key)
        if p is None:
            self.state.pop(key, None)
            return
        if not p.node or p.node in self.machines.dead or p.node not in self.nodes.nodes:
            return
        now = self.now()
        st = self.state.get(key)
        if p.deleting:
            self._terminate(p, st, now)
        elif p.finished:
            return
        elif p.phase == "Pending":
            self._start(p, st, now)
        elif p.phase == "Running":
            self._run(p, st or self.state.setdefault(key, AgentPod("running")), now)

    def _start(self, p: PodRecord, st: AgentPod | None, now: float) -> None:
        if st is None:
            node = self.nodes.get(p.node)
            host_ip = node.ip if node is not None else ""
            at = rfc3339(now)

            def creating(o: Obj) -> None:
                bound = [
                    c
                    for c in (o.get("status") or {}).get("conditions") or ()
                    if c.get("type") == "PodScheduled"
                ]
                fresh = podobj.creating_status(o.get("spec") or {}, host_ip, at)
                if bound:  # the scheduler's condition, as it wrote it
                    fresh["conditions"] = [
                        c for c in fresh["conditions"] if c["type"] != "PodScheduled"
                    ] + bound
                o["status"] = fresh

            if self.modify("pods", p.key, creating) is None:
                return
            due = now + 1.0 + 3.0 * self.names.rng.random()
            self.state[p.key] = AgentPod("creating", due=due)
            self.queue.add_at(p.key, due)
            return
        if st.phase != "creating" or now < st.due:
            return
        ip = self.names.pod_ip()
        ready = p.key not in self.machines.failing
        at = rfc3339(now)
        names = self.names

        def start(o: Obj) -> None:
            spec, status = o.get("spec") or {}, o.setdefault("status", {})
            pod_ip = status.get("hostIP", "") if spec.get("hostNetwork") else ip
            status["phase"] = "Running"
            status["podIP"] = pod_ip
            status["podIPs"] = [{"ip": pod_ip}]
            for c in status.get("conditions") or ():
                flag = "True" if ready or c.get("type") not in ("Ready", "ContainersReady") else "False"
                if c.get("status") != flag:
                    c.update(status=flag, lastTransitionTime=at)
                if flag == "True":
                    c.pop("reason", None)
                    c.pop("message", None)
            images = {c.get("name"): c.get("image", "") for c in spec.get("containers") or ()}
            status["containerStatuses"] = [
                podobj.container_status(
                    name,
                    images.get(name, ""),
                    podobj.running(at),
                    ready=ready,
                    started=True,
                    image_id=names.image_id(images.get(name, "")),
                    container_id=names.container_id(),
                )
                for name in images
            ]
            inits = spec.get("initContainers") or ()
            if inits:
                status["initContainerStatuses"] = [_init_status(c, at, names) for c in inits]

        started = self.modify("pods", p.key, start)
        if started is not None:
            st.phase = "running"
            self.events.started(p, started)

    def _run(self, p: PodRecord, st: AgentPod, now: float) -> None:
        key = p.key
        at = rfc3339(now)
        exit_code = self.machines.finished.pop(key, None)
        if exit_code is not None:
            self.modify("pods", key, lambda o: _finish(o, exit_code, at))
            return
        changes: list[Any] = []
        said: list[Any] = []
        """Events, once the status is written."""
        for crash in self.machines.crashes.pop(key, ()):
            changes.append(
                lambda o, crash=crash: _restart(
                    o, crash.container, crash.exit_code, crash.reason, at, self.names
                )
            )
            said.append(lambda crash=crash: self.events.restarted(p, crash.container))
        broken = self.machines.broken.get(key)
        loop_ready = self._loop(p, st, broken, now, at, changes, said)
        failing = key in self.machines.failing
        want_ready = loop_ready and not failing
        if changes or want_ready != p.ready:

            def apply(o: Obj) -> None:
                for change in changes:
                    change(o)
                _readiness(o, want_ready, at)

            if self.modify("pods", key, apply) is None:
                return
        for say in said:
            say()
        self._probe(p, st, failing, now)

    def _probe(self, p: PodRecord, st: AgentPod, failing: bool, now: float) -> None:
        """A failing readiness probe fails again at every period: ``Unhealthy``."""
        if not failing:
            st.probe = 0.0
        elif now >= st.probe:
            self.events.unhealthy(p)
            st.probe = now + PROBE_PERIOD
            self.queue.add_at(p.key, st.probe)

    def _loop(
        self,
        p: PodRecord,
        st: AgentPod,
        broken: Crash | None,
        now: float,
        at: str,
        changes: list[Any],
        said: list[Any],
    ) -> bool:
        """Advance a crash loop; returns whether the pod may be ready (no container crash-looping)."""
        loop = st.loop
        if broken is not None and loop is None:
            loop = st.loop = Loop(broken.container, BACKOFF_START, waiting_until=now + BACKOFF_START)
            changes.append(lambda o: _crash(o, broken, loop.backoff, p, at))
            self._wait(p, loop, now, said)
            return False
        if loop is None:
            return True
        if loop.waiting_until and now < loop.waiting_until and loop.resync and now >= loop.resync:
            self._wait(p, loop, now, said)  # a sync while it waits: BackOff again
            return False
        if loop.waiting_until and now >= loop.waiting_until:
            loop.waiting_until = 0.0
            changes.append(lambda o: _restart(o, loop.container, None, "", at, self.names))
            said.append(lambda: self.events.restarted(p, loop.container))
            if broken is None:
                st.loop = None
                return True
            loop.running_until = now + 1.0 + 9.0 * self.names.rng.random()
            self.queue.add_at(p.key, loop.running_until)
            return False
        if loop.running_until and now >= loop.running_until:
            if broken is None:
                st.loop = None
                return True
            loop.running_until = 0.0
            loop.backoff = min(BACKOFF_MAX, loop.backoff * 2)
            loop.waiting_until = now + loop.backoff
            changes.append(lambda o: _crash(o, broken, loop.backoff, p, at))
            self._wait(p, loop, now, said)
            return False
        if loop.running_until and broken is None:
            st.loop = None  # fixed while it ran: it keeps running
            return True
        return False

    def _wait(self, p: PodRecord, loop: Loop, now: float, said: list[Any]) -> None:
        """The container waits out its back-off: ``BackOff`` now, and at each resync meanwhile."""
        said.append(lambda: self.events.backoff(p, loop.container))
        loop.resync = now + RESYNC if now + RESYNC < loop.waiting_until else 0.0
        self.queue.add_at(p.key, loop.resync or loop.waiting_until)

    def _terminate(self, p: PodRecord, st: AgentPod | None, now: float) -> None:
        if st is None or st.phase != "stopping":
            try:
                grace = int(self.store.get("pods", *p.key)["metadata"].get("deletionGracePeriodSeconds") or 0)
            except Exception:
                return
            r = self.names.rng.random
            took = 0.3 + 2.7 * r() if r() < 0.9 else grace * r()
            due = now + min(float(grace), took)
            self.state[p.key] = AgentPod("stopping", due=due)
            if p.phase == "Running":
                self.events.killing(p)
            self.queue.add_at(p.key, due)
            return
        if now < st.due:
            return
        code = 0 if self.names.rng.random() < 0.8 else 143
        at = rfc3339(now)
        if p.phase == "Running":
            self.modify("pods", p.key, lambda o: _finish(o, code, at))
        self.delete("pods", p.key, grace_period=0)


# -- status changes ---------------------------------------------------------------------------


def _init_status(c: Obj, at: str, names: Any) -> Obj:
    image = str(c.get("image", ""))
    if c.get("restartPolicy") == "Always":
        state, ready = podobj.running(at), True
    else:
        state, ready = podobj.terminated(0, "Completed", at, at, container_id=names.container_id()), False
    return podobj.container_status(
        str(c.get("name", "")), image, state, ready=ready, started=ready, image_id=names.image_id(image)
    )


def _restart(o: Obj, i: int, exit_code: int | None, reason: str, at: str, names: Any) -> None:
    """Container ``i`` starts again: after a crash of ``exit_code`` now, or after waiting."""
    cstats = (o.get("status") or {}).get("containerStatuses") or []
    if i >= len(cstats):
        return
    c = cstats[i]
    if exit_code is not None:
        c["lastState"] = podobj.end_of(c, exit_code, reason, at)
    c["state"] = podobj.running(at)
    c["restartCount"] = int(c.get("restartCount", 0)) + 1
    c["containerID"] = names.container_id()
    c["started"] = True


def _crash(o: Obj, crash: Crash, backoff: float, p: PodRecord, at: str) -> None:
    """The crash-looping container died: it waits out its back-off."""
    cstats = (o.get("status") or {}).get("containerStatuses") or []
    if crash.container >= len(cstats):
        return
    c = cstats[crash.container]
    if "running" in (c.get("state") or {}):
        c["lastState"] = podobj.end_of(c, crash.exit_code, crash.reason, at)
    name = c.get("name", "")
    c["state"] = podobj.waiting(
        "CrashLoopBackOff",
        f"back-off {go_duration(int(backoff * 1e9))} restarting failed container={name} pod={p.name}_{p.ns}({p.uid})",
    )
    c["ready"] = False
    c["started"] = False


def _readiness(o: Obj, ready: bool, at: str) -> None:
    status = o.setdefault("status", {})
    cstats = status.get("containerStatuses") or []
    unready = [c.get("name", "") for c in cstats if not (ready and "running" in (c.get("state") or {}))]
    podobj.set_ready(status, ready, at, containers=unready)
    for c in cstats:
        c["ready"] = ready and "running" in (c.get("state") or {})


def _finish(o: Obj, exit_code: int, at: str) -> None:
    """Every container exited with ``exit_code``: the pod ends (its final phase by the codes)."""
    status = o.setdefault("status", {})
    status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
    for c in status.get("containerStatuses") or ():
        if "running" in (c.get("state") or {}):
            c["state"] = podobj.end_of(c, exit_code, "Completed" if exit_code == 0 else "Error", at)
        c["ready"] = False
        c["started"] = False
    podobj.set_ready(status, False, at, reason="PodCompleted")
    for c in status.get("conditions") or ():
        if c.get("type") == "PodReadyToStartContainers" and c.get("status") != "False":
            c.update(status="False", lastTransitionTime=at)
