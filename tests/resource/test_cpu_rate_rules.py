"""metrics-server's storage rules, one test each: two points, CPU rates, windows, pruning, readiness."""

from __future__ import annotations

import logging

import pytest
from msgspec.structs import replace

from kubescope.kubelet.parser import ZERO_TIME_NS, MetricsPoint
from kubescope.resource.storage import MetricsStorage, PodUsage, RateError, Usage, resource_usage

S = 1_000_000_000
MIB = 1 << 20
T0 = 1_700_000_000 * S
POD = ("ns1", "pod1")


def pt(start_s: float, ts_s: float, cpu_core_s: float, mem: int = 4 * MIB) -> MetricsPoint:
    """A point: start and timestamp relative to T0, cumulative CPU in core-seconds."""
    return MetricsPoint(T0 + int(start_s * S), T0 + int(ts_s * S), int(cpu_core_s * S), mem)


def node_pt(ts_s: float, cpu_core_s: float, mem: int = 4 * MIB) -> MetricsPoint:
    return MetricsPoint(ZERO_TIME_NS, T0 + int(ts_s * S), int(cpu_core_s * S), mem)


def store_pod(s: MetricsStorage, **containers: MetricsPoint) -> None:
    s.store({}, {POD: containers})


def new(resolution_s: int = 60) -> MetricsStorage:
    return MetricsStorage(resolution_ns=resolution_s * S)


# -- the rate itself -------------------------------------------------------------------------------


def test_rate_over_the_real_window_between_samples() -> None:
    s = new()
    s.store({"n1": node_pt(100, 10)}, {})
    s.store({"n1": node_pt(117.913, 20, mem=5 * MIB)}, {})
    u = s.node_usage["n1"]
    assert u == Usage(ts=T0 + 117_913_000_000, window=17_913_000_000, cpu=int(10e9 / 17.913), mem=5 * MIB)


def test_rate_truncates_to_whole_nanocores() -> None:
    u = resource_usage(pt(0, 3, 0), replace(pt(0, 0, 0), cpu=0))
    assert u.cpu == 0
    u = resource_usage(replace(pt(0, 3, 0), cpu=2), pt(0, 0, 0))
    assert u.cpu == 0  # 2 ns·s / 3 s
    u = resource_usage(replace(pt(0, 3, 0), cpu=10), pt(0, 0, 0))
    assert u.cpu == 3


def test_memory_is_the_last_working_set() -> None:
    u = resource_usage(pt(0, 20, 2, mem=7), pt(0, 10, 1, mem=99))
    assert u.mem == 7


def test_start_time_decrease_is_an_error() -> None:
    try:
        resource_usage(pt(-5, 20, 2), pt(0, 10, 1))
    except RateError as e:
        assert "startTime" in str(e)
    else:
        raise AssertionError("expected RateError")


# -- nodes ----------------------------------------------------------------------------------------


def test_node_needs_two_points() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1)}, {})
    assert s.node_usage == {}
    assert not s.node_ready()
    s.store({"n1": node_pt(25, 4)}, {})
    assert s.node_usage["n1"].cpu == 200_000_000
    assert s.node_ready()


def test_node_counter_decrease_skips_the_node_for_one_cycle() -> None:
    s = new()
    s.store({"n1": node_pt(10, 50)}, {})
    s.store({"n1": node_pt(25, 5)}, {})  # node rebooted: the counter restarted
    assert "n1" not in s.node_usage
    assert s.rate_errors[("node", "cpu_decreased")] == 1
    s.store({"n1": node_pt(40, 8)}, {})
    assert s.node_usage["n1"].cpu == 200_000_000


def test_node_repeated_point_keeps_the_previous_window() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1)}, {})
    s.store({"n1": node_pt(20, 3)}, {})
    s.store({"n1": node_pt(20, 3)}, {})  # the kubelet had no newer sample
    assert s.node_usage["n1"] == Usage(T0 + 20 * S, 10 * S, 200_000_000, 4 * MIB)


def test_node_out_of_order_point_between_prev_and_last() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1)}, {})
    s.store({"n1": node_pt(30, 5)}, {})
    s.store({"n1": node_pt(20, 3)}, {})  # older than last, newer than prev: last is replaced
    assert s.node_usage["n1"] == Usage(T0 + 20 * S, 10 * S, 200_000_000, 4 * MIB)


def test_node_point_older_than_prev_drops_prev() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1)}, {})
    s.store({"n1": node_pt(30, 5)}, {})
    s.store({"n1": node_pt(5, 0.5)}, {})
    assert s.node_usage == {}
    assert not s.node_ready()


def test_vanished_node_is_pruned() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1), "n2": node_pt(10, 1)}, {})
    s.store({"n1": node_pt(20, 2), "n2": node_pt(20, 2)}, {})
    s.store({"n1": node_pt(30, 3)}, {})
    assert set(s.node_last) == {"n1"} and set(s.node_usage) == {"n1"}
    s.store({"n1": node_pt(40, 4), "n2": node_pt(40, 4)}, {})
    assert "n2" not in s.node_usage  # back, but it starts over with one point


# -- containers and pods --------------------------------------------------------------------------


def test_pod_needs_two_points_for_every_container() -> None:
    s = new()
    store_pod(s, c1=pt(0, 110, 1))
    assert s.pod_usage == {}
    store_pod(s, c1=pt(0, 120, 6), c2=pt(0, 120, 8))  # c2 is new: no prev yet
    assert POD not in s.pod_usage
    store_pod(s, c1=pt(0, 130, 11), c2=pt(0, 130, 10))
    assert s.pod_usage[POD] == PodUsage(
        T0 + 130 * S, 10 * S, (("c1", 500_000_000, 4 * MIB), ("c2", 200_000_000, 4 * MIB))
    )


def test_pod_timestamp_and_window_are_the_earliest_containers() -> None:
    s = new()
    store_pod(s, a=pt(0, 100, 1), b=pt(0, 95, 1))
    store_pod(s, a=pt(0, 118, 10), b=pt(0, 110, 4))
    u = s.pod_usage[POD]
    assert (u.ts, u.window) == (T0 + 110 * S, 15 * S)
    assert u.containers == (("a", 500_000_000, 4 * MIB), ("b", 200_000_000, 4 * MIB))


def test_container_restart_has_no_value_for_one_cycle() -> None:
    s = new()
    store_pod(s, c1=pt(0, 10, 1))
    store_pod(s, c1=pt(0, 25, 4))
    assert POD in s.pod_usage
    # restarted after the last point: start (30) is not before the stored timestamp (25)
    store_pod(s, c1=pt(30, 100, 0.5))
    assert POD not in s.pod_usage
    store_pod(s, c1=pt(30, 110, 2.5))
    assert s.pod_usage[POD].containers == (("c1", 200_000_000, 4 * MIB),)


def test_restart_caught_by_the_fresh_container_shortcut() -> None:
    # metrics-server's "should detect container restart and return results based on window from start time"
    s = new(60)
    store_pod(s, c1=pt(0, 10, 1))
    store_pod(s, c1=pt(15, 25, 5, mem=5 * MIB))
    u = s.pod_usage[POD]
    assert (u.ts, u.window) == (T0 + 25 * S, 10 * S)
    assert u.containers == (("c1", 500_000_000, 5 * MIB),)


def test_container_counter_decrease_keeps_the_pod_without_that_container() -> None:
    s = new()
    store_pod(s, c1=pt(0, 110, 20))
    store_pod(s, c1=pt(0, 120, 10))
    # metrics-server serves the pod with no containers and a null timestamp
    assert s.pod_usage[POD] == PodUsage(None, 0, ())
    assert s.rate_errors[("container", "cpu_decreased")] == 1


def test_fresh_container_gets_a_value_from_its_first_point() -> None:
    s = new(60)
    store_pod(s, c1=pt(0, 10, 10))
    assert s.pod_ready()
    u = s.pod_usage[POD]
    assert (u.ts, u.window, u.containers) == (T0 + 10 * S, 10 * S, (("c1", 1_000_000_000, 4 * MIB),))


def test_fresh_container_younger_than_10s_gets_no_value() -> None:
    s = new(60)
    store_pod(s, c1=pt(0, 9.999, 10))
    assert s.pod_usage == {} and not s.pod_ready()


def test_container_older_than_the_resolution_does_not_use_its_start_time() -> None:
    s = new(60)
    store_pod(s, c1=pt(0, 60, 1))
    assert s.pod_usage == {} and not s.pod_ready()


def test_fresh_container_start_after_timestamp_gets_no_value() -> None:
    s = new(60)
    store_pod(s, c1=pt(0, -10, 10))
    assert s.pod_usage == {}


def test_zero_start_time_is_handled() -> None:
    s = new()
    store_pod(s, c1=MetricsPoint(ZERO_TIME_NS, T0 + 120 * S, 1 * S, 4 * MIB))
    assert s.pod_usage == {}
    store_pod(s, c1=MetricsPoint(ZERO_TIME_NS, T0 + 125 * S, 6 * S, 5 * MIB))
    assert s.pod_usage[POD] == PodUsage(T0 + 125 * S, 5 * S, (("c1", 1_000_000_000, 5 * MIB),))


def test_container_out_of_order_point_between_prev_and_last() -> None:
    s = new()
    store_pod(s, c1=pt(0, 115, 10))
    store_pod(s, c1=pt(0, 125, 50, mem=5 * MIB))
    store_pod(s, c1=pt(0, 120, 35, mem=5 * MIB))
    u = s.pod_usage[POD]
    assert (u.ts, u.window, u.containers) == (T0 + 120 * S, 5 * S, (("c1", 5_000_000_000, 5 * MIB),))


def test_container_point_older_than_prev_drops_the_pod() -> None:
    s = new()
    store_pod(s, c1=pt(0, 1115, 20))
    store_pod(s, c1=pt(0, 1125, 40))
    store_pod(s, c1=pt(0, 115, 10))
    assert s.pod_usage == {}


def test_repeated_timestamp_of_a_container_without_prev_stays_without_value() -> None:
    # metrics-server would use Go's zero point (year 1) as prev here: a 292-year window
    s = new()
    store_pod(s, a=pt(0, 100, 1))
    store_pod(s, a=pt(0, 110, 2), b=pt(0, 110, 1))  # b is new
    store_pod(s, a=pt(0, 110, 2), b=pt(0, 110, 1))  # the kubelet had no newer sample
    assert POD not in s.pod_usage


def test_vanished_pods_and_containers_are_pruned() -> None:
    s = new()
    other = ("ns2", "pod2")
    s.store({}, {POD: {"a": pt(0, 10, 1), "b": pt(0, 10, 1)}, other: {"x": pt(0, 10, 1)}})
    s.store({}, {POD: {"a": pt(0, 20, 2), "b": pt(0, 20, 2)}, other: {"x": pt(0, 20, 2)}})
    assert set(s.pod_usage) == {POD, other}
    s.store({}, {POD: {"a": pt(0, 30, 3)}})
    assert set(s.pod_last) == {POD}
    assert list(s.pod_last[POD]) == ["a"]
    assert s.pod_usage[POD].containers == (("a", 100_000_000, 4 * MIB),)


def test_readiness_needs_both_nodes_and_pods() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1)}, {POD: {"c": pt(0, 100, 1)}})
    s.store({"n1": node_pt(20, 2)}, {})
    assert s.node_ready() and not s.pod_ready() and not s.ready()
    s.store({"n1": node_pt(30, 3)}, {POD: {"c": pt(0, 100, 1)}})
    s.store({"n1": node_pt(40, 4)}, {POD: {"c": pt(0, 110, 2)}})
    assert s.ready()


def test_points_stored_count_only_servable_points() -> None:
    s = new()
    s.store({"n1": node_pt(10, 1)}, {POD: {"a": pt(0, 100, 1), "b": pt(0, 100, 1)}})
    assert (len(s.node_prev), s.container_points) == (0, 0)
    s.store({"n1": node_pt(20, 2)}, {POD: {"a": pt(0, 110, 2), "b": pt(0, 110, 2), "c": pt(0, 110, 1)}})
    assert (len(s.node_prev), s.container_points) == (1, 2)


def test_generation_moves_on_every_store() -> None:
    s = new()
    g = s.generation
    s.store({}, {})
    assert s.generation == g + 1


async def test_chunked_store_swaps_the_state_whole() -> None:
    import asyncio

    pods = {("ns", f"p{i}"): {"c": pt(0, 100, 1)} for i in range(50)}
    later = {("ns", f"p{i}"): {"c": pt(0, 110, 2)} for i in range(50)}
    sync, chunked = new(), new()
    sync.store({}, pods)
    sync.store({}, later)
    await chunked.store_async({}, pods, chunk=7)
    seen: list[int] = []

    async def reader() -> None:
        for _ in range(20):
            seen.append(len(chunked.pod_usage))
            await asyncio.sleep(0)

    await asyncio.gather(chunked.store_async({}, later, chunk=7), reader())
    assert chunked.pod_usage == sync.pod_usage
    assert chunked.generation == sync.generation == 2
    assert set(seen) <= {0, 50}  # never a half-stored state
    assert 0 in seen


# -- ours: rates a node cannot have ------------------------------------------------------------------


def test_counter_that_drops_and_jumps_back_is_refused_above_the_node_capacity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A counter that fell to near zero and came back without a restart: metrics-server serves
    (3000 - 1) core-seconds over 14.3 s, i.e. 209.8 cores, for a 4-CPU node and its container."""
    s = new(resolution_s=15)
    cap = {"n1": 4 * S}
    where = {"node_of": {POD: "n1"}, "capacity": cap}
    cycles = [(100.0, 2999.0), (115.0, 1.0), (129.3, 3000.0), (143.6, 3000.5), (157.9, 1.0), (172.2, 3002.0)]
    served = []
    with caplog.at_level(logging.INFO, logger="kubescope.resource.storage"):
        for ts, cpu in cycles:
            s.store({"n1": node_pt(ts, cpu)}, {POD: {"c1": pt(0, ts, cpu)}}, **where)  # type: ignore[arg-type]
            served.append((s.node_usage.get("n1"), s.pod_usage.get(POD)))
    # cycle 2: decrease (no value, as metrics-server); cycle 3: 209.8 cores refused; cycle 4: 35 millicores
    assert [n is not None for n, _ in served] == [False, False, False, True, False, False]
    assert [p is not None and bool(p.containers) for _, p in served] == [
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    assert served[3][0] is not None and served[3][0].cpu == 34_965_034
    # cycle 5 drops again, cycle 6 jumps back (refused); then (3004 - 3002) / 14.3 s = 0.14 cores
    s.store({"n1": node_pt(186.5, 3004.0)}, {POD: {"c1": pt(0, 186.5, 3004.0)}}, **where)  # type: ignore[arg-type]
    assert s.node_usage["n1"].cpu == 139_860_139
    assert s.rate_errors[("node", "cpu_above_capacity")] == 2
    assert s.rate_errors[("container", "cpu_above_capacity")] == 2
    assert s.rate_errors[("node", "cpu_decreased")] == 2
    refusals = [r for r in caplog.records if "cpu_above_capacity" in r.getMessage() + str(r.__dict__)]
    decreases = [r for r in caplog.records if "cpu_decreased" in str(r.__dict__)]
    assert len(refusals) == 1  # once per node and reason, whatever the type
    assert len(decreases) == 1


def test_capacity_check_leaves_possible_rates_alone() -> None:
    """Up to the slack above capacity (sampling jitter), and with no capacity known, values are metrics-server's."""
    for cap in ({"n1": 4 * S}, {}):
        s = new(resolution_s=15)
        s.store({"n1": node_pt(100, 10)}, {POD: {"c1": pt(0, 100, 10)}}, node_of={POD: "n1"}, capacity=cap)
        s.store({"n1": node_pt(110, 89)}, {POD: {"c1": pt(0, 110, 89)}}, node_of={POD: "n1"}, capacity=cap)
        assert s.node_usage["n1"].cpu == 7_900_000_000  # 7.9 cores on 4: within 2x
        assert s.pod_usage[POD].containers == (("c1", 7_900_000_000, 4 * MIB),)
        assert s.rate_errors == {}
