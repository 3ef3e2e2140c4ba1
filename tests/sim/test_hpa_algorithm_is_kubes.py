"""The HPA's replica calculator and scaling rules compute what kube-controller-manager's
``replica_calculator.go`` and ``horizontal.go`` compute: the formula with its 0.1 tolerance, the
readiness and missing-metric rules, the legacy and ``behavior`` limits and stabilization windows,
and the reasons the conditions give."""

from __future__ import annotations

from typing import Any

import pytest

from kubescope.sim.control.hpa import behavior, calc, status
from kubescope.sim.control.hpa.calc import PodMetric, Tolerances
from kubescope.sim.objects.meta import rfc3339

Obj = dict[str, Any]
NOW = 1_800_000_000.0


def ago(seconds: float) -> str:
    return rfc3339(NOW - seconds)


LONG_AGO = ago(86400 * 10)


def pod(name: str, *, phase: str = "Running", ready: bool = True, cpu: str = "100m", deleting: bool = False,
        started: str = LONG_AGO, ready_since: str = LONG_AGO) -> Obj:  # fmt: skip
    meta: Obj = {"name": name, "namespace": "shop"}
    if deleting:
        meta["deletionTimestamp"] = LONG_AGO
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu}}}]},
        "status": {
            "phase": phase,
            "startTime": started,
            "conditions": [
                {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ready_since}
            ],
        },
    }


def metrics(**values: int) -> dict[str, PodMetric]:
    return {name: PodMetric(v, NOW - 10, 60.0) for name, v in values.items()}


def resource(current: int, target: int, pods: list[Obj], m: dict[str, PodMetric]) -> tuple[int, int, int]:
    reqs = calc.requests(pods, "cpu")
    return calc.resource_replicas(current, target, m, pods, reqs, Tolerances(), True, NOW)


# -- the formula ---------------------------------------------------------------------------------


def test_desired_is_the_ratio_times_the_ready_pods_rounded_up() -> None:
    pods = [pod("a"), pod("b"), pod("c")]
    # 100m requested each; 90m, 90m, 90m used: 90 % against a 50 % target -> ceil(1.8 * 3) = 6
    assert resource(3, 50, pods, metrics(a=90, b=90, c=90)) == (6, 90, 90)


def test_within_the_tolerance_nothing_changes() -> None:
    pods = [pod("a"), pod("b")]
    assert resource(2, 50, pods, metrics(a=54, b=55))[0] == 2  # ratio 1.08
    assert resource(2, 50, pods, metrics(a=56, b=56))[0] == 3  # ratio 1.12: ceil(2.24)
    assert resource(2, 50, pods, metrics(a=45, b=45))[0] == 2  # ratio 0.9, the edge counts as within
    assert resource(2, 50, pods, metrics(a=44, b=44))[0] == 2  # ratio 0.88: ceil(1.76) = 2
    assert resource(4, 50, [*pods, pod("c"), pod("d")], metrics(a=20, b=20, c=20, d=20))[0] == 2


def test_the_tolerance_is_per_direction_when_the_behavior_says() -> None:
    spec = {"behavior": {"scaleUp": {"tolerance": "0.01"}, "scaleDown": {"tolerance": "500m"}}}
    tol = status.tolerances(spec)
    assert tol == Tolerances(down=0.5, up=0.01)
    assert tol.within(0.55) and not tol.within(1.02)


def test_utilization_is_truncated_and_the_average_value_is_the_mean() -> None:
    pods = [pod("a", cpu="300m"), pod("b", cpu="300m")]
    _, pct, raw = resource(2, 50, pods, metrics(a=100, b=101))
    assert (pct, raw) == (33, 100)  # 201 * 100 // 600, 201 // 2


# -- readiness and missing metrics ----------------------------------------------------------------


def test_terminating_and_failed_pods_are_ignored_pending_ones_are_unready() -> None:
    pods = [
        pod("a"),
        pod("b"),
        pod("gone", deleting=True),
        pod("dead", phase="Failed"),
        pod("new", phase="Pending"),
    ]
    g = calc.group_pods(pods, metrics(a=50, b=50, gone=900, dead=900), True, NOW)
    assert (g.ready, g.unready, g.missing, g.ignored) == (2, {"new"}, set(), {"gone", "dead"})
    # scaling up with an unready pod: it counts as 0 in a second pass (200 % -> 66 %: ceil(1.32 * 3))
    assert resource(3, 50, pods, metrics(a=100, b=100, gone=900, dead=900))[0] == 4


def test_a_pod_without_a_metric_counts_at_its_request_when_scaling_down() -> None:
    pods = [pod("a"), pod("b"), pod("c"), pod("d")]
    # 10 % each on a, b, c; d missing: scaling down treats it as 100 % of its request:
    # (10 + 10 + 10 + 100) / 400 = 32 % -> ratio 0.64 -> ceil(0.65 * 4) = 3
    assert resource(4, 50, pods, metrics(a=10, b=10, c=10))[0] == 3


def test_a_pod_without_a_metric_counts_as_zero_when_scaling_up() -> None:
    pods = [pod("a"), pod("b"), pod("c"), pod("d")]
    # 100 % on a, b, c: ratio 2; d counts 0: 300/400 = 75 % -> 1.5 -> ceil(6) = 6
    assert resource(4, 50, pods, metrics(a=100, b=100, c=100))[0] == 6


def test_missing_metrics_that_flip_the_direction_cancel_the_change() -> None:
    pods = [pod("a"), pod("b"), pod("c"), pod("d")]
    # 60 % against 50 %: up (1.2); d at 0 makes it 45 % (0.9): within the tolerance, no change
    assert resource(4, 50, pods, metrics(a=60, b=60, c=60))[0] == 4


def test_a_cpu_metric_is_not_trusted_while_the_pod_starts() -> None:
    fresh = pod("c", started=ago(120), ready_since=ago(10))
    pods = [pod("a"), pod("b"), fresh]
    g = calc.group_pods(pods, metrics(a=100, b=100, c=100), True, NOW)
    assert g.unready == {"c"}  # ready 10 s ago: no full metric window since
    assert calc.group_pods(pods, metrics(a=100, b=100, c=100), False, NOW).unready == set()  # not CPU
    # past the initialization period, unready since 5 s after its start: it never was ready
    never = pod("d", ready=False, started=ago(4000), ready_since=ago(3995))
    assert calc.group_pods([never], metrics(d=100), True, NOW).unready == {"d"}


def test_no_pods_and_no_metrics_are_errors_with_kubes_words() -> None:
    with pytest.raises(calc.CalcError, match="no pods returned by selector while calculating replica count"):
        resource(1, 50, [], {})
    with pytest.raises(
        calc.CalcError, match=r"did not receive metrics for targeted pods \(pods might be unready\)"
    ):
        resource(1, 50, [pod("a", phase="Pending")], metrics(a=1))
    with pytest.raises(calc.CalcError, match="missing request for cpu in container app of Pod a"):
        calc.requests([{"metadata": {"name": "a"}, "spec": {"containers": [{"name": "app"}]}}], "cpu")


def test_plain_values_and_object_and_external_ratios() -> None:
    pods = [pod("a"), pod("b")]
    # a Pods metric: average 3000m against 1 -> ratio 3 -> 6
    assert calc.plain_replicas(2, 1000, metrics(a=2000, b=4000), pods, Tolerances(), False, NOW) == (6, 3000)
    # an Object Value metric: ratio 2.5 times the ready pods
    assert calc.ratio_replicas(2, 2.5, pods, Tolerances()) == 5
    assert calc.ratio_replicas(0, 2.5, [], Tolerances()) == 3  # from zero: the ratio alone
    # AverageValue: usage / target per pod, status replicas as the base
    assert calc.per_pod_replicas(4, 10_000, 1000, Tolerances()) == (10, 2500)
    assert calc.per_pod_replicas(4, 4200, 1000, Tolerances()) == (4, 1050)


# -- scaling rules --------------------------------------------------------------------------------


def test_legacy_scale_down_takes_the_highest_recommendation_of_five_minutes() -> None:
    h = behavior.History([(5, NOW - 200)])
    d = behavior.normalize({"maxReplicas": 10}, h, 5, 2, 1, NOW)
    assert d.replicas == 5 and d.able[0] == "ScaleDownStabilized"
    later = behavior.normalize({"maxReplicas": 10}, h, 5, 2, 1, NOW + 301)
    assert later.replicas == 2 and later.able[0] == "ReadyForNewScale"


def test_legacy_scale_up_is_capped_at_twice_or_four() -> None:
    d = behavior.normalize({"maxReplicas": 100}, behavior.History(), 3, 20, 1, NOW)
    assert d.replicas == 6 and d.limited == (
        True,
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    d = behavior.normalize({"maxReplicas": 5}, behavior.History(), 3, 20, 1, NOW)
    assert d.replicas == 5 and d.limited[1] == "TooManyReplicas"
    d = behavior.normalize({"maxReplicas": 5}, behavior.History(), 3, 0, 2, NOW)
    assert d.replicas == 2 and d.limited[1] == "TooFewReplicas"
    d = behavior.normalize({"maxReplicas": 5}, behavior.History(), 3, 4, 1, NOW)
    assert d.replicas == 4 and d.limited == (
        False,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )


def test_behavior_policies_limit_the_change_per_period() -> None:
    spec = {
        "maxReplicas": 100,
        "behavior": {
            "scaleUp": {
                "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
                "selectPolicy": "Max",
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 0,
                "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
            },
        },
    }
    h = behavior.History()
    d = behavior.normalize(spec, h, 4, 20, 1, NOW)
    assert d.replicas == 6 and d.limited[1] == "ScaleUpLimit"
    behavior.scaled(spec, h, 4, 6, NOW)
    # within the minute, the 2 already added count: no more
    assert behavior.normalize(spec, h, 6, 20, 1, NOW + 30).replicas == 6
    assert behavior.normalize(spec, h, 6, 20, 1, NOW + 61).replicas == 8
    # scale down by half at most (of the replicas at the period's start)
    assert behavior.normalize(spec, behavior.History(), 10, 1, 1, NOW).replicas == 5


def test_behavior_stabilizes_both_ways_and_may_disable_a_direction() -> None:
    spec = {"maxReplicas": 50, "behavior": {"scaleUp": {"stabilizationWindowSeconds": 120}}}
    h = behavior.History([(4, NOW - 60)])
    # up: the lowest recommendation of 2 minutes (4), so no change from 4
    d = behavior.normalize(spec, h, 4, 9, 1, NOW)
    assert d.replicas == 4 and d.able[0] == "ScaleUpStabilized"
    # down: the default 300 s window keeps the highest (9 just recorded)
    assert behavior.normalize(spec, h, 9, 3, 1, NOW + 1).replicas == 9
    off = {"maxReplicas": 50, "behavior": {"scaleUp": {"selectPolicy": "Disabled"}}}
    assert behavior.normalize(off, behavior.History(), 4, 9, 1, NOW).replicas == 4


def test_a_failed_metric_reports_kubes_reason_and_message() -> None:
    hpa = {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                }
            ],
        },
    }
    seen: list[tuple[str, str, str]] = []
    out = status.compute(
        hpa,
        {},
        [pod("a")],
        [status.MetricResult(error="no metrics returned from resource metrics API")],
        1,
        NOW,
        lambda *e: seen.append(e),
    )
    assert out.replicas == -1
    assert out.statuses == [{"type": ""}]
    assert out.condition == (
        "ScalingActive", False, "FailedGetResourceMetric",
        "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
    )  # fmt: skip
    assert seen == [
        (
            "Warning",
            "FailedGetResourceMetric",
            "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
        )
    ]
    assert out.error == (
        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: "
        "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    )
