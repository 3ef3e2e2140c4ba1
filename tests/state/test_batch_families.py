"""Job and CronJob families, and the cron schedule parser behind kube_cronjob_next_schedule_time."""

from __future__ import annotations

import datetime as dt

import pytest

from kubescope.state import cron
from tests.state.ksm import label_names, render, sample_value

UTC = dt.UTC


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "tz", "after", "want"),
    [
        ("*/5 * * * *", None, "2024-01-01T00:00:00", "2024-01-01T00:05:00"),
        ("*/5 * * * *", None, "2024-01-01T00:04:59", "2024-01-01T00:05:00"),
        ("0 * * * *", None, "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
        ("@hourly", None, "2024-01-01T10:30:00", "2024-01-01T11:00:00"),
        ("@daily", None, "2024-02-28T23:59:00", "2024-02-29T00:00:00"),
        ("30 2 * * 1-5", None, "2024-06-07T03:00:00", "2024-06-10T02:30:00"),  # Friday -> Monday
        ("0 0 1 * MON", None, "2024-07-01T00:00:00", "2025-09-01T00:00:00"),  # day of month AND of week
        ("0 0 * jan,jul *", None, "2024-02-01T00:00:00", "2024-07-01T00:00:00"),
        ("0 */6 * * *", "Asia/Shanghai", "2018-03-11T04:34:56", "2018-03-11T10:00:00"),  # 18:00 in Shanghai
        ("CRON_TZ=Europe/Paris 0 9 * * *", None, "2024-03-30T12:00:00", "2024-03-31T07:00:00"),  # after DST
        ("@every 90s", None, "2024-01-01T00:00:00", "2024-01-01T00:01:30"),
        ("55-5 * * * *", None, "2024-01-01T00:06:00", "2024-01-01T00:55:00"),  # wraps around
    ],
)
def test_next_activation(spec: str, tz: str | None, after: str, want: str) -> None:
    nxt = cron.parse(spec, tz).next(at(after))
    assert nxt is not None
    assert nxt.astimezone(UTC) == at(want)


@pytest.mark.parametrize(
    "spec",
    ["", "* * * *", "61 * * * *", "* * * * 8", "*/0 * * * *", "1-100/5 * * * *", "@fortnightly", "x * * * *"],
)
def test_invalid_schedules(spec: str) -> None:
    with pytest.raises(cron.CronError):
        cron.parse(spec)


def test_invalid_timezone() -> None:
    with pytest.raises(cron.CronError):
        cron.parse("0 * * * *", "Mars/Olympus_Mons")


def test_cronjob_never_due_again_and_go_zero_times() -> None:
    """KSM prints Go's zero time for a schedule with no next run, and reads a zero lastScheduleTime
    as unset (falling back to creation)."""
    cj = {
        "metadata": {"name": "c", "creationTimestamp": "2024-01-01T00:10:00Z"},
        "spec": {"schedule": "@manual"},
        "status": {"lastScheduleTime": "0001-01-01T00:00:00Z"},
    }
    got = render("cronjobs", cj)
    assert 'kube_cronjob_next_schedule_time{namespace="",cronjob="c"} -6.21355968e+10\n' in got
    assert "kube_cronjob_schedule_invalid{" not in got
    cj["spec"]["schedule"] = "0 0 30 2 *"  # type: ignore[index]
    assert sample_value(render("cronjobs", cj), "kube_cronjob_next_schedule_time") == -62135596800
    cj["spec"]["schedule"] = "5-1 * * * *"  # type: ignore[index]  # minutes 5..59, 0, 1
    got = render("cronjobs", cj)
    assert sample_value(got, "kube_cronjob_next_schedule_time") == at("2024-01-01T00:11:00").timestamp()
    assert "kube_cronjob_schedule_invalid{" not in got
    cj["spec"]["schedule"] = "*/60 * * * *"  # type: ignore[index]
    got = render("cronjobs", cj)
    assert sample_value(got, "kube_cronjob_schedule_invalid") == 1
    assert "kube_cronjob_next_schedule_time{" not in got


def test_cronjob_next_schedule_from_last_schedule_time_and_suspend() -> None:
    cj = {
        "metadata": {"name": "report", "namespace": "batch", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"schedule": "0 * * * *", "concurrencyPolicy": "Forbid"},
        "status": {"lastScheduleTime": "2024-01-01T05:00:00Z", "active": [{"name": "j1"}, {"name": "j2"}]},
    }
    got = render("cronjobs", cj)
    assert sample_value(got, "kube_cronjob_next_schedule_time") == at("2024-01-01T06:00:00").timestamp()
    assert sample_value(got, "kube_cronjob_status_active") == 2
    assert sample_value(got, "kube_cronjob_info", {"timezone": "local", "concurrency_policy": "Forbid"}) == 1
    assert "kube_cronjob_schedule_invalid{" not in got
    cj["spec"]["suspend"] = True  # type: ignore[index]
    got = render("cronjobs", cj)
    assert "kube_cronjob_next_schedule_time{" not in got
    assert sample_value(got, "kube_cronjob_spec_suspend") == 1


def test_cronjob_next_schedule_from_creation_and_invalid_schedule() -> None:
    cj = {
        "metadata": {"name": "c", "creationTimestamp": "2024-01-01T00:10:00Z"},
        "spec": {"schedule": "*/15 * * * *"},
    }
    assert (
        sample_value(render("cronjobs", cj), "kube_cronjob_next_schedule_time")
        == at("2024-01-01T00:15:00").timestamp()
    )
    bad = {"metadata": {"name": "c"}, "spec": {"schedule": "every tuesday"}}
    got = render("cronjobs", bad)
    assert sample_value(got, "kube_cronjob_schedule_invalid") == 1
    assert "kube_cronjob_next_schedule_time{" not in got


def test_job_failed_reasons() -> None:
    ok = {"metadata": {"name": "j", "namespace": "n"}, "status": {"succeeded": 1}}
    got = render("jobs", ok)
    assert [x for x in got.splitlines() if x.startswith("kube_job_status_failed")] == [
        'kube_job_status_failed{namespace="n",job_name="j"} 0'
    ]
    assert label_names(got, "kube_job_info") == [["namespace", "job_name"]]
    failed = {
        "metadata": {"name": "j"},
        "status": {
            "failed": 3,
            "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}],
        },
    }
    got = render("jobs", failed)
    assert sample_value(got, "kube_job_status_failed", {"reason": "DeadlineExceeded"}) == 1
    assert sample_value(got, "kube_job_status_failed", {"reason": "Evicted"}) == 0
    assert sample_value(got, "kube_job_failed", {"condition": "true"}) == 1
    odd = {
        "metadata": {"name": "j"},
        "status": {
            "failed": 2,
            "conditions": [{"type": "Failed", "status": "True", "reason": "PodFailurePolicy"}],
        },
    }
    assert sample_value(render("jobs", odd), "kube_job_status_failed", {"reason": ""}) == 2
