"""Job families (``kube_job_*``); identity labels ``namespace,job_name`` (not ``job``: Prometheus owns it).

Sample::

    kube_job_status_succeeded{namespace="batch",job_name="report-28871234"} 1
    kube_job_complete{namespace="batch",job_name="report-28871234",condition="true"} 1
    kube_job_status_failed{namespace="batch",job_name="import-x",reason="BackoffLimitExceeded"} 1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec

from kubescope.model.meta import Condition, ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    gauge_family,
    labels_family,
    owner_family,
)
from kubescope.state.text import esc, gf, ts

FAILURE_REASONS = ("BackoffLimitExceeded", "DeadlineExceeded", "Evicted")


class JobSpec(Wire):
    parallelism: int | None = None
    completions: int | None = None
    active_deadline_seconds: int | None = None


class JobStatus(Wire):
    succeeded: int = 0
    failed: int = 0
    active: int = 0
    ready: int | None = None
    start_time: dt.datetime | None = None
    completion_time: dt.datetime | None = None
    conditions: list[Condition] = msgspec.field(default_factory=list)


class Job(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: JobSpec = msgspec.field(default_factory=JobSpec)
    status: JobStatus = msgspec.field(default_factory=JobStatus)


def _identity(o: Job) -> str:
    return f'namespace="{esc(o.metadata.namespace)}",job_name="{esc(o.metadata.name)}"'


def _failed(o: Job, lp: str) -> str:
    failed = o.status.failed
    if failed == 0:
        return f"{lp}}} 0\n"
    out = []
    known = False
    for c in o.status.conditions:
        if c.type == "Failed":
            for r in FAILURE_REASONS:
                hit = c.reason == r
                known = known or hit
                out.append(f'{lp},reason="{r}"}} {1 if hit else 0}\n')
    if not known:
        out.append(f'{lp},reason=""}} {gf(failed)}\n')
    return "".join(out)


def _condition(ctype: str) -> Callable[[Job, str], str]:
    def fn(o: Job, lp: str) -> str:
        out = []
        for c in o.status.conditions:
            if c.type == ctype:
                s = c.status
                out.append(
                    f'{lp},condition="true"}} {1 if s == "True" else 0}\n'
                    f'{lp},condition="false"}} {1 if s == "False" else 0}\n'
                    f'{lp},condition="unknown"}} {1 if s == "Unknown" else 0}\n'
                )
        return "".join(out)

    return fn


def _suspended(o: Job, lp: str) -> str:
    return "".join(
        [f"{lp}}} {1 if c.status == 'True' else 0}\n" for c in o.status.conditions if c.type == "Suspended"]
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_job"
    return [
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        Family(f"{p}_info", "Information about job.", "gauge", "STABLE", lambda o, lp: f"{lp}}} 1\n"),
        created_family(p),
        gauge_family(
            f"{p}_spec_parallelism",
            "The maximum desired number of pods the job should run at any given time.",
            "STABLE",
            lambda o: o.spec.parallelism,
        ),
        gauge_family(
            f"{p}_spec_completions",
            "The desired number of successfully finished pods the job should be run with.",
            "STABLE",
            lambda o: o.spec.completions,
        ),
        gauge_family(
            f"{p}_spec_active_deadline_seconds",
            "The duration in seconds relative to the startTime that the job may be active before the system tries "
            "to terminate it.",
            "STABLE",
            lambda o: o.spec.active_deadline_seconds,
        ),
        gauge_family(
            f"{p}_status_succeeded",
            "The number of pods which reached Phase Succeeded.",
            "STABLE",
            lambda o: o.status.succeeded,
        ),
        Family(
            f"{p}_status_failed",
            "The number of pods which reached Phase Failed and the reason for failure.",
            "gauge",
            "STABLE",
            _failed,
        ),
        gauge_family(
            f"{p}_status_active", "The number of actively running pods.", "STABLE", lambda o: o.status.active
        ),
        gauge_family(
            f"{p}_status_ready",
            "The number of ready pods that belong to this Job.",
            "ALPHA",
            lambda o: o.status.ready or 0,
        ),
        Family(
            f"{p}_complete", "The job has completed its execution.", "gauge", "STABLE", _condition("Complete")
        ),
        Family(f"{p}_failed", "The job has failed its execution.", "gauge", "STABLE", _condition("Failed")),
        gauge_family(
            f"{p}_status_start_time",
            "StartTime represents time when the job was acknowledged by the Job Manager.",
            "STABLE",
            lambda o: ts(o.status.start_time),
        ),
        gauge_family(
            f"{p}_status_completion_time",
            "CompletionTime represents time when the job was completed.",
            "STABLE",
            lambda o: ts(o.status.completion_time),
        ),
        Family(
            f"{p}_status_suspended",
            "The number of pods which reached Phase Suspended.",
            "gauge",
            "ALPHA",
            _suspended,
        ),
        owner_family(p, "STABLE", "Information about the Job's owner."),
    ]


RESOURCE = ResourceSpec(
    name="jobs",
    group="batch",
    version="v1",
    kind="Job",
    namespaced=True,
    struct=Job,
    identity=_identity,
    families=families,
)
