"""``--source=kubelets``: which kubelet points become samples (pure, no I/O): a rate needs a previous
point of the same node or container; a restart between two points, a counter that went backwards or a
rate above twice the node's capacity gives none (counted), and a pod needs every container's rate."""

from __future__ import annotations

from kubescope.history.kubelets import KubeletRates
from kubescope.history.pods import PodCatalog
from kubescope.history.recording import Batch, CycleStats
from kubescope.history.series import PodInfo
from kubescope.kubelet.parser import ZERO_TIME_NS, MetricsPoint
from kubescope.kubelet.scraper import CycleResult

S = 1_000_000_000
T = 1_760_000_000 * S


def result(node_cpu: int, containers: dict[str, MetricsPoint], ts: int) -> CycleResult:
    r = CycleResult(attempted=1, scraped=1)
    r.nodes["n1"] = MetricsPoint(ZERO_TIME_NS, ts, node_cpu, 1000)
    r.pods[("ns", "p")] = containers
    r.node_of[("ns", "p")] = "n1"
    r.capacity["n1"] = 4 * S
    return r


def catalog() -> PodCatalog:
    c = PodCatalog()
    info = PodInfo(
        "ns", "p", "uid-p", "n1", requests=(("a", None, None, None, None), ("b", None, None, None, None))
    )
    c.by_name[("ns", "p")] = c.by_uid["uid-p"] = info
    return c


def run(
    rates: KubeletRates, r: CycleResult
) -> tuple[dict[tuple[str, str, str, str], tuple[int, int]], CycleStats]:
    batch, stats = Batch(), CycleStats()
    rates.samples(r, catalog(), batch, stats)
    got = {
        (k.kind, k.metric, k.ident, k.container): (ts, v)
        for (k, _), ts, v in zip(batch.keys, batch.ts, batch.values, strict=True)
    }
    return got, stats


def test_first_points_give_nothing_then_rates_in_micro_cores() -> None:
    rates = KubeletRates()
    start = T - 100 * S
    got, stats = run(
        rates, result(10 * S, {"a": MetricsPoint(start, T, 5 * S, 7), "b": MetricsPoint(start, T, S, 9)}, T)
    )
    assert got == {} and stats.no_rate == 2 + 6
    t2 = T + 10 * S
    got, stats = run(
        rates,
        result(
            30 * S, {"a": MetricsPoint(start, t2, 6 * S, 8), "b": MetricsPoint(start, t2, 3 * S // 2, 10)}, t2
        ),
    )
    ts = t2 // S
    assert got[("node", "cpu", "n1", "")] == (ts, 2_000_000)  # 20 core-seconds over 10 s
    assert got[("node", "memory", "n1", "")] == (ts, 1000)
    assert got[("container", "cpu", "uid-p", "a")] == (ts, 100_000)
    assert got[("container", "cpu", "uid-p", "b")] == (ts, 50_000)
    assert got[("pod", "cpu", "uid-p", "")] == (ts, 150_000)
    assert got[("pod", "memory", "uid-p", "")] == (ts, 18)
    assert stats.no_rate == 0 and (stats.nodes, stats.pods) == (1, 1)


def test_a_restart_a_decrease_or_an_impossible_rate_gives_no_sample() -> None:
    rates = KubeletRates()
    start = T - 100 * S
    run(rates, result(10 * S, {"a": MetricsPoint(start, T, 5 * S, 7), "b": MetricsPoint(start, T, S, 9)}, T))
    t2 = T + 10 * S
    # b restarted between the two points (its counter starts again): the pod waits for the next cycle
    got, stats = run(
        rates,
        result(
            9 * S, {"a": MetricsPoint(start, t2, 6 * S, 8), "b": MetricsPoint(T + 5 * S, t2, 2 * S, 10)}, t2
        ),
    )
    assert set(got) == set(), got  # the node's counter went backwards too
    assert stats.no_rate == 2 + 6
    t3 = T + 20 * S
    # 1,000 cores on a 4-CPU node: a glitch, refused
    got, stats = run(
        rates,
        result(
            9 * S + 10_000 * S,
            {"a": MetricsPoint(start, t3, 7 * S, 8), "b": MetricsPoint(T + 5 * S, t3, 3 * S, 10)},
            t3,
        ),
    )
    assert ("node", "cpu", "n1", "") not in got
    assert got[("pod", "cpu", "uid-p", "")] == (t3 // S, 200_000)
