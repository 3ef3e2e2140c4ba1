"""The Job controller: pods up to ``parallelism`` until ``completions`` of them succeeded
(``Complete``), or more than ``backoffLimit`` failed (``Failed``, its remaining pods deleted), and
``status`` counts as the Job API writes them.

A new Job gets its ``startTime`` and its first pods; a pod that finishes is counted
(``succeeded``/``failed``; ``active`` and ``ready`` for the running ones) and, while the Job is not
done, replaced. ``SuccessCriteriaMet`` precedes ``Complete`` and ``FailureTarget`` precedes
``Failed``, as since Kubernetes 1.31.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubescope.sim.control.cache import PodCache, PodRecord
from kubescope.sim.control.events import ref
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects.meta import owner_ref, rfc3339
from kubescope.sim.objects.pods import pod_from_template

Obj = dict[str, Any]
JOBS = "jobs.batch"


@dataclass(slots=True)
class JobRecord:
    ns: str
    name: str
    uid: str
    parallelism: int
    completions: int
    backoff_limit: int
    suspended: bool
    finished: bool
    deleting: bool


class JobController(Controller):
    name = "job"
    reporting = "job-controller"
    watches = (JOBS,)

    def __init__(self, plane: ControlPlane, pods: PodCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.jobs: dict[Key, JobRecord] = {}
        pods.on_owned(("Job",), lambda p: (p.phase, p.ready, p.deleting), self._owner_changed)

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
        key = (meta.get("namespace", ""), meta["name"])
        if typ == "DELETED":
            self.jobs.pop(key, None)
            return
        finished = any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in status.get("conditions") or ()
        )
        old = self.jobs.get(key)
        self.jobs[key] = JobRecord(
            key[0],
            key[1],
            meta.get("uid", ""),
            int(spec.get("parallelism", 1)),
            int(spec.get("completions", 1)),
            int(spec.get("backoffLimit", 6)),
            bool(spec.get("suspend")),
            finished,
            bool(meta.get("deletionTimestamp")),
        )
        if typ != LISTED and (old is None or old.suspended != self.jobs[key].suspended):
            self.queue.add(key)

    def _owner_changed(self, kind: str, ns: str, name: str) -> None:
        if (ns, name) in self.jobs:
            self.queue.add((ns, name))

    def sync(self, key: Key) -> None:
        job = self.jobs.get(key)
        if job is None or job.deleting or job.finished:
            return
        pods = [p for p in self.pods.owned("Job", *key) if p.owner and p.owner[2] == job.uid]
        active = [p for p in pods if p.active]
        succeeded = sum(1 for p in pods if p.phase == "Succeeded")
        failed = sum(1 for p in pods if p.phase == "Failed")
        outcome = ""
        if failed > job.backoff_limit:
            outcome = "Failed"
            for p in active:
                if self.delete("pods", p.key):
                    self._event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {p.name}")
            active = []
        elif succeeded >= job.completions:
            outcome = "Complete"
        elif not job.suspended:
            want = min(job.parallelism, job.completions - succeeded) - len(active)
            if want > 0:
                self._create(job, want)
                active = [
                    p for p in self.pods.owned("Job", *key) if p.active and p.owner and p.owner[2] == job.uid
                ]
        if self._status(job, active, succeeded, failed, outcome):
            if outcome == "Complete":
                self._event(job, "Normal", "Completed", "Job completed")
            elif outcome == "Failed":
                self._event(
                    job, "Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
                )

    def _event(self, job: JobRecord, typ: str, reason: str, note: str) -> None:
        self.event(ref("Job", "batch/v1", job.ns, job.name, job.uid), typ, reason, note)

    def _create(self, job: JobRecord, n: int) -> None:
        try:
            obj = self.store.get(JOBS, job.ns, job.name)
        except Exception:
            return
        template = (obj.get("spec") or {}).get("template") or {}
        for _ in range(n):
            name = f"{job.name}-{self.names.suffix()}"
            pod = pod_from_template(
                template,
                name=name,
                namespace=job.ns,
                uid=self.names.uid(),
                created=rfc3339(self.now()),
                owner=owner_ref("batch/v1", "Job", job.name, job.uid),
                generate_name=f"{job.name}-",
            )
            if self.create("pods", pod) is not None:
                self._event(job, "Normal", "SuccessfulCreate", f"Created pod: {name}")

    def _status(
        self, job: JobRecord, active: list[PodRecord], succeeded: int, failed: int, outcome: str
    ) -> bool:
        now = rfc3339(self.now())
        ready = sum(1 for p in active if p.ready)

        def status(o: Obj) -> None:
            st = o.setdefault("status", {})
            st.setdefault("startTime", now)
            for k, v in (("active", len(active)), ("succeeded", succeeded), ("failed", failed)):
                if v:
                    st[k] = v
                else:
                    st.pop(k, None)
            st.update(ready=ready, terminating=0, uncountedTerminatedPods={})
            if outcome:
                conds = [c for c in st.get("conditions") or () if c.get("type") not in _OUTCOMES[outcome]]
                reason = "BackoffLimitExceeded" if outcome == "Failed" else ""
                message = "Job has reached the specified backoff limit" if reason else ""
                for typ in _OUTCOMES[outcome]:
                    c: Obj = {"type": typ, "status": "True", "lastProbeTime": now, "lastTransitionTime": now}
                    if reason:
                        c.update(reason=reason, message=message)
                    conds.append(c)
                st["conditions"] = conds
                if outcome == "Complete":
                    st["completionTime"] = now

        return self.modify(JOBS, (job.ns, job.name), status) is not None


_OUTCOMES = {"Complete": ("SuccessCriteriaMet", "Complete"), "Failed": ("FailureTarget", "Failed")}
