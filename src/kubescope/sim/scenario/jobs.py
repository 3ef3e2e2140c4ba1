"""Jobs (succeeded, running, failed) with their pods, half of them owned by a CronJob."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.objects.meta import rfc3339
from kubescope.sim.scenario.gen import Gen, Placement
from kubescope.sim.scenario.pods import app_template, make_pod

Obj = dict[str, Any]


def app_jobs(g: Gen, ns: str, app: str, n: int, place: Placement) -> Iterator[tuple[str, Obj]]:
    t = app_template(g, app)
    cron = g.rng.random() < 0.5
    cj_meta = g.meta(app, ns, labels={"app": app}, generation=1) if cron else None
    last_sched = g.ago(60, 3600)
    for k in range(n):
        jname = f"{app}-{int(last_sched) // 60 - k}" if cron else f"{app}-{g.suffix()}"
        outcome = g.rng.choices(("succeeded", "running", "failed"), (70, 20, 10))[0]
        started = g.ago(120, 7200)
        job_meta = g.meta(
            jname,
            ns,
            labels={"app": app, "job-name": jname},
            owner=("batch/v1", "CronJob", app, cj_meta["uid"]) if cj_meta else None,
            generation=1,
        )
        conds: list[Obj] = []
        status: Obj = {"startTime": rfc3339(started)}
        if outcome == "succeeded":
            done = started + g.rng.uniform(10, 600)
            status.update(
                {
                    "succeeded": 1,
                    "completionTime": rfc3339(done),
                    "ready": 0,
                    "terminating": 0,
                    "uncountedTerminatedPods": {},
                }
            )
            conds = [
                {
                    "type": "SuccessCriteriaMet",
                    "status": "True",
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                },
                {
                    "type": "Complete",
                    "status": "True",
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                },
            ]
            pstate = "succeeded"
        elif outcome == "failed":
            done = started + g.rng.uniform(10, 600)
            status.update({"failed": 1, "ready": 0})
            reason = g.rng.choice(("BackoffLimitExceeded", "DeadlineExceeded"))
            conds = [
                {
                    "type": "FailureTarget",
                    "status": "True",
                    "reason": reason,
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                    "message": "Job has reached the specified backoff limit",
                },
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": reason,
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                    "message": "Job has reached the specified backoff limit",
                },
            ]
            pstate = "failed-evicted"
        else:
            status.update({"active": 1, "ready": 1})
            pstate = "running"
        if conds:
            status["conditions"] = conds
        yield (
            "jobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": job_meta,
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "backoffLimit": 6,
                    **({"activeDeadlineSeconds": 3600} if g.rng.random() < 0.3 else {}),
                    "completionMode": "NonIndexed",
                    "suspend": False,
                    "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_meta["uid"]}},
                    "template": {
                        "metadata": {"labels": {"job-name": jname}},
                        "spec": {"containers": t.containers, "restartPolicy": "Never"},
                    },
                },
                "status": status,
            },
        )
        yield (
            "pods",
            make_pod(
                g,
                f"{jname}-{g.suffix()}",
                ns,
                t,
                place.pick(),
                ("batch/v1", "Job", jname, job_meta["uid"]),
                {"job-name": jname, "batch.kubernetes.io/job-name": jname},
                pstate,
                restart_policy="Never",
            ),
        )
    if cj_meta:
        yield (
            "cronjobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": cj_meta,
                "spec": {
                    "schedule": g.rng.choice(
                        ("*/5 * * * *", "0 * * * *", "30 2 * * *", "@hourly", "0 */6 * * 1-5")
                    ),
                    "concurrencyPolicy": g.rng.choice(("Allow", "Forbid", "Replace")),
                    "suspend": g.rng.random() < 0.1,
                    "successfulJobsHistoryLimit": 3,
                    "failedJobsHistoryLimit": 1,
                    **({"timeZone": "Europe/Paris"} if g.rng.random() < 0.3 else {}),
                    **({"startingDeadlineSeconds": 200} if g.rng.random() < 0.3 else {}),
                    "jobTemplate": {
                        "spec": {"template": {"spec": {"containers": t.containers, "restartPolicy": "Never"}}}
                    },
                },
                "status": {
                    "lastScheduleTime": rfc3339(last_sched),
                    "lastSuccessfulTime": rfc3339(last_sched + 60),
                },
            },
        )
