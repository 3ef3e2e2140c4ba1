"""The CronJob controller's bookkeeping of the Jobs a CronJob owns: ``status.active`` lists the
unfinished ones, ``lastSuccessfulTime`` follows the latest completion, and finished Jobs beyond
``successfulJobsHistoryLimit`` (Complete) and ``failedJobsHistoryLimit`` (Failed) are deleted,
oldest first, their pods with them (the garbage collector's part).

Runs are not started on the schedule here (that needs the cron parser, which lives with the
exporters): they come from outside, as ``kubectl create job --from=cronjob/NAME`` makes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import controller_of

Obj = dict[str, Any]
CRONJOBS, JOBS = "cronjobs.batch", "jobs.batch"


@dataclass(slots=True)
class OwnedJob:
    name: str
    uid: str
    outcome: str
    """"" (running), ``Complete`` or ``Failed``."""
    finished_at: str
    started: str


@dataclass(slots=True)
class CronJobRecord:
    ns: str
    name: str
    uid: str
    keep_succeeded: int
    keep_failed: int
    suspended: bool
    jobs: dict[str, OwnedJob] = field(default_factory=dict)
    saw: list[OwnedJob] = field(default_factory=list)
    """Jobs seen finishing, not yet reported (``SawCompletedJob``)."""


class CronJobController(Controller):
    name = "cronjob"
    reporting = "cronjob-controller"
    watches = (CRONJOBS, JOBS)

    def __init__(self, plane: ControlPlane) -> None:
        super().__init__(plane)
        self.cronjobs: dict[Key, CronJobRecord] = {}
        self._orphans: dict[Key, dict[str, OwnedJob]] = {}
        """Jobs seen before their CronJob (in start-up order), by the CronJob's key."""

    def active_runs(self, key: Key) -> int:
        cj = self.cronjobs.get(key)
        return sum(1 for j in cj.jobs.values() if not j.outcome) if cj else 0

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if res == CRONJOBS:
            if typ == "DELETED":
                self.cronjobs.pop(key, None)
                return
            spec = obj.get("spec") or {}
            old = self.cronjobs.get(key)
            self.cronjobs[key] = CronJobRecord(
                key[0],
                key[1],
                meta.get("uid", ""),
                int(spec.get("successfulJobsHistoryLimit", 3)),
                int(spec.get("failedJobsHistoryLimit", 1)),
                bool(spec.get("suspend")),
                old.jobs if old is not None else self._orphans.pop(key, {}),
            )
            return
        owner = controller_of(meta)
        if owner is None or owner.get("kind") != "CronJob":
            return
        ckey = (key[0], owner["name"])
        cj = self.cronjobs.get(ckey)
        jobs = cj.jobs if cj is not None else self._orphans.setdefault(ckey, {})
        before = jobs.get(key[1])
        if typ == "DELETED":
            jobs.pop(key[1], None)
        else:
            status = obj.get("status") or {}
            outcome = next(
                (
                    c["type"]
                    for c in status.get("conditions") or ()
                    if c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                ),
                "",
            )
            jobs[key[1]] = OwnedJob(
                key[1],
                meta.get("uid", ""),
                outcome,
                status.get("completionTime") or "",
                status.get("startTime") or meta.get("creationTimestamp", ""),
            )
        after = jobs.get(key[1])
        if (
            typ != LISTED
            and cj is not None
            and (before is None or after is None or before.outcome != after.outcome)
        ):
            if after is not None and after.outcome and (before is None or not before.outcome):
                cj.saw.append(after)
            self.queue.add(ckey)

    def sync(self, key: Key) -> None:
        cj = self.cronjobs.get(key)
        if cj is None:
            return
        order = sorted(cj.jobs.values(), key=lambda j: (j.started, j.name))
        doomed: list[str] = []
        for outcome, keep in (("Complete", cj.keep_succeeded), ("Failed", cj.keep_failed)):
            done = [j.name for j in order if j.outcome == outcome]
            doomed += done[: max(0, len(done) - keep)]
        about = ref("CronJob", "batch/v1", cj.ns, cj.name, cj.uid)
        for j in cj.saw:
            self.event(
                about, "Normal", "SawCompletedJob", f"Saw completed job: {j.name}, condition: {j.outcome}"
            )
        cj.saw.clear()
        for name in doomed:
            if self.delete(JOBS, (cj.ns, name)):
                self.event(about, "Normal", "SuccessfulDelete", f"Deleted job {name}")
        active = [
            {"apiVersion": "batch/v1", "kind": "Job", "name": j.name, "namespace": cj.ns, "uid": j.uid}
            for j in order
            if not j.outcome
        ]
        last = max((j.finished_at for j in cj.jobs.values() if j.outcome == "Complete"), default="")

        def status(o: Obj) -> None:
            st = o.setdefault("status", {})
            if active:
                st["active"] = active
            else:
                st.pop("active", None)
            if last and last > st.get("lastSuccessfulTime", ""):
                st["lastSuccessfulTime"] = last

        self.modify(CRONJOBS, key, status)
