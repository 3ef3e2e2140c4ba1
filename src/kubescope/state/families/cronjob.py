"""CronJob families (``kube_cronjob_*``); identity labels ``namespace,cronjob``.

Sample::

    kube_cronjob_info{namespace="batch",cronjob="report",schedule="0 * * * *",concurrency_policy="Forbid",timezone="local"} 1
    kube_cronjob_next_schedule_time{namespace="batch",cronjob="report"} 1.7000064e+09
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state import cron
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    gauge_family,
    labels_family,
    resource_version_family,
)
from kubescope.state.text import GO_ZERO_TIME_TEXT, esc, gf, is_go_zero, ts


class CronJobSpec(Wire):
    schedule: str = ""
    time_zone: str | None = None
    concurrency_policy: str = ""
    suspend: bool | None = None
    starting_deadline_seconds: int | None = None
    successful_jobs_history_limit: int | None = None
    failed_jobs_history_limit: int | None = None


class CronJobStatus(Wire):
    active: list[dict[str, Any]] = msgspec.field(default_factory=list)
    last_schedule_time: dt.datetime | None = None
    last_successful_time: dt.datetime | None = None


class CronJob(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: CronJobSpec = msgspec.field(default_factory=CronJobSpec)
    status: CronJobStatus = msgspec.field(default_factory=CronJobStatus)


def _identity(o: CronJob) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",cronjob="{esc(o.metadata.name)}"'


def _info(o: CronJob, lp: str) -> str:
    tz = o.spec.time_zone if o.spec.time_zone is not None else "local"
    return (
        f'{lp},schedule="{esc(o.spec.schedule)}",concurrency_policy="{esc(o.spec.concurrency_policy)}",'
        f'timezone="{esc(tz)}"}} 1\n'
    )


def _schedule(o: CronJob) -> cron.Schedule | None:
    try:
        return cron.parse(o.spec.schedule, o.spec.time_zone)
    except cron.CronError:
        return None


def _next(o: CronJob, lp: str) -> str:
    """KSM's getNextScheduledTime: Next after lastScheduleTime, else after creation (Go zero times
    count as unset); a schedule that never fires again (``@manual``, February 30) gives Go's zero
    time, which KSM prints as it is."""
    if o.spec.suspend:
        return ""
    sched = _schedule(o)
    if sched is None:
        return ""
    last = o.status.last_schedule_time
    base = last if not is_go_zero(last) else o.metadata.creation_timestamp
    if base is None or is_go_zero(base):
        return ""
    if base.tzinfo is None:
        base = base.replace(tzinfo=dt.UTC)
    nxt = sched.next(base.astimezone(dt.UTC))  # metav1.Time decodes into time.Local: UTC where KSM runs
    return f"{lp}}} {GO_ZERO_TIME_TEXT if nxt is None else gf(int(nxt.timestamp()))}\n"


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_cronjob"
    return [
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        Family(f"{p}_info", "Info about cronjob.", "gauge", "STABLE", _info),
        created_family(p),
        gauge_family(
            f"{p}_status_active",
            "Active holds pointers to currently running jobs.",
            "STABLE",
            lambda o: len(o.status.active),
        ),
        gauge_family(
            f"{p}_status_last_schedule_time",
            "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
            "STABLE",
            lambda o: ts(o.status.last_schedule_time),
        ),
        gauge_family(
            f"{p}_status_last_successful_time",
            "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
            "STABLE",
            lambda o: ts(o.status.last_successful_time),
        ),
        gauge_family(
            f"{p}_spec_suspend",
            "Suspend flag tells the controller to suspend subsequent executions.",
            "STABLE",
            lambda o: 1 if o.spec.suspend else 0,
        ),
        gauge_family(
            f"{p}_spec_starting_deadline_seconds",
            "Deadline in seconds for starting the job if it misses scheduled time for any reason.",
            "STABLE",
            lambda o: o.spec.starting_deadline_seconds,
        ),
        Family(
            f"{p}_next_schedule_time",
            "Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's "
            "creation time if it's never been scheduled. Use this to determine if the job is delayed.",
            "gauge",
            "STABLE",
            _next,
        ),
        gauge_family(
            f"{p}_schedule_invalid",
            "Emitted with value 1 for cronjobs whose schedule, in its configured timezone, cannot be parsed.",
            "ALPHA",
            lambda o: 1 if _schedule(o) is None else None,
        ),
        resource_version_family(
            p, "STABLE", "Resource version representing a specific version of the cronjob."
        ),
        gauge_family(
            f"{p}_spec_successful_job_history_limit",
            "Successful job history limit tells the controller how many completed jobs should be preserved.",
            "ALPHA",
            lambda o: o.spec.successful_jobs_history_limit,
        ),
        gauge_family(
            f"{p}_spec_failed_job_history_limit",
            "Failed job history limit tells the controller how many failed jobs should be preserved.",
            "ALPHA",
            lambda o: o.spec.failed_jobs_history_limit,
        ),
    ]


RESOURCE = ResourceSpec(
    name="cronjobs",
    group="batch",
    version="v1",
    kind="CronJob",
    namespaced=True,
    struct=CronJob,
    identity=_identity,
    families=families,
)
