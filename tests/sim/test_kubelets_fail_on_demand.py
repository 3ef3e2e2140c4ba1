"""Kubelet faults (``POST /_sim/faults`` or ``--fault`` at start): each behaves as documented in
kubescope.sim.faults: ``down`` resets the connection (whatever the path or the credentials),
``slow`` answers after ``kubelet_slow_seconds``, ``error`` is a 500, ``garbage`` a 200 that is not
the text format, ``truncate`` cuts the body halfway, ``scrape_error`` is the kubelet's
``resource_scrape_error 1`` alone, ``stale`` serves the same samples at every tick; a fraction picks
a stable share of the nodes (``seed`` changes the choice), ``kubelet_nodes`` restricts it;
``/_sim/truth`` and ``/_sim/kubelets`` show what is injected; ``reset`` clears everything."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator

import pytest

from kubescope.sim.process import SimulatorProcess
from tests.sim.kubelets import Kubelets, Response, parse, retry, start_simulator

pytestmark = pytest.mark.slow

SCRAPE_ERROR = (
    b"# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n"
    b"# TYPE resource_scrape_error gauge\n"
    b"resource_scrape_error 1\n"
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    s = start_simulator(tmp_path_factory.mktemp("kubelet-faults"), nodes=8, pods_per_node=2, housekeeping=0.5)
    yield s
    s.stop()


@pytest.fixture
def kubelets(sim: SimulatorProcess) -> Iterator[Kubelets]:
    k = Kubelets(sim)
    yield k
    k.faults(reset=True)


def healthy(kubelets: Kubelets, node: str) -> bool:
    r = kubelets.get(node)
    return r.status == 200 and b"resource_scrape_error 0\n" in r.body


def only(kubelets: Kubelets, fault: str, node: str = "node-0001", **extra: object) -> None:
    kubelets.faults(reset=True, **{f"kubelet_{fault}_fraction": 1, "kubelet_nodes": node, **extra})


def test_down_resets_every_connection(kubelets: Kubelets) -> None:
    only(kubelets, "down")
    for kw in ({}, {"token": None}, {"path": "/healthz"}):
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            kubelets.get("node-0001", **kw)  # type: ignore[arg-type]
    assert healthy(kubelets, "node-0002")
    assert kubelets.summary()["faultsInjected"]["down"] == 3


def test_slow_answers_late(kubelets: Kubelets) -> None:
    only(kubelets, "slow", kubelet_slow_seconds=1.0)
    t0 = time.monotonic()
    assert healthy(kubelets, "node-0001")
    assert time.monotonic() - t0 >= 1.0
    with pytest.raises(TimeoutError):
        kubelets.get("node-0001", timeout=0.3)  # a scraper with a shorter timeout gives up
    t0 = time.monotonic()
    assert healthy(kubelets, "node-0002")
    assert kubelets.summary()["faultsInjected"]["slow"] >= 2


def test_error_is_a_500(kubelets: Kubelets) -> None:
    only(kubelets, "error")
    r = kubelets.get("node-0001")
    assert r.status == 500 and r.text.startswith("Internal Server Error")
    assert healthy(kubelets, "node-0002")


def test_garbage_is_a_200_that_is_not_the_text_format(kubelets: Kubelets) -> None:
    only(kubelets, "garbage")
    r = kubelets.get("node-0001")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    with pytest.raises((UnicodeDecodeError, AssertionError)):
        parse(r.body.decode())
    assert kubelets.get("node-0001").body == r.body  # the same bytes every time
    assert healthy(kubelets, "node-0002")


def test_truncate_cuts_the_body_halfway(kubelets: Kubelets) -> None:
    def cut_in_one_tick() -> bool:
        kubelets.faults(reset=True)
        full = kubelets.get("node-0001").body
        only(kubelets, "truncate")
        with pytest.raises(http.client.IncompleteRead) as e:
            kubelets.get("node-0001")
        return e.value.partial == full[: len(full) // 2]  # unless a tick passed in between

    retry("a truncated body within one tick", cut_in_one_tick)
    assert healthy(kubelets, "node-0002")


def test_scrape_error_is_the_kubelets_own_failure_text(kubelets: Kubelets) -> None:
    only(kubelets, "scrape_error")
    r = kubelets.get("node-0001")
    assert (r.status, r.body) == (200, SCRAPE_ERROR)
    assert healthy(kubelets, "node-0002")


def test_stale_serves_the_same_samples_at_every_tick(kubelets: Kubelets) -> None:
    only(kubelets, "stale")
    first = kubelets.get("node-0001").body
    frozen_tick = kubelets.truth()["nodes"]["node-0001"]["tick"]
    kubelets.next_tick()
    kubelets.next_tick()
    assert kubelets.get("node-0001").body == first
    t = kubelets.truth()
    assert t["nodes"]["node-0001"]["tick"] == frozen_tick < t["tick"]
    assert t["nodes"]["node-0001"]["faults"] == ["stale"]
    kubelets.faults(reset=True)
    fresh = parse(kubelets.get("node-0001").text)
    assert (
        fresh.of("node_cpu_usage_seconds_total")[0].timestamp
        > parse(first.decode()).of("node_cpu_usage_seconds_total")[0].timestamp
    )


def answers(kubelets: Kubelets) -> dict[str, int]:
    return {n: kubelets.get(n).status for n in sorted(kubelets.advertised())}


def test_a_fraction_picks_a_stable_share_of_nodes(kubelets: Kubelets) -> None:
    kubelets.faults(reset=True, kubelet_error_fraction=0.5)
    first = answers(kubelets)
    failing = {n for n, code in first.items() if code == 500}
    assert 0 < len(failing) < len(first)  # some nodes, not all (8 nodes, seed 0)
    assert set(first.values()) == {200, 500}
    for _ in range(3):
        assert answers(kubelets) == first  # the same nodes on every request
    truth = kubelets.truth()["nodes"]
    assert {n for n, t in truth.items() if t["faults"] == ["error"]} == failing
    # another seed, another choice; every node at fraction 1; none at 0
    choices = set()
    for seed in range(1, 6):
        kubelets.faults(kubelet_error_fraction=0.5, seed=seed)
        choices.add(frozenset(n for n, c in answers(kubelets).items() if c == 500))
    assert len(choices) > 1
    kubelets.faults(kubelet_error_fraction=1)
    assert set(answers(kubelets).values()) == {500}
    kubelets.faults(kubelet_error_fraction=0)
    assert set(answers(kubelets).values()) == {200}


def test_kubelet_nodes_restricts_the_choice(kubelets: Kubelets) -> None:
    kubelets.faults(reset=True, kubelet_error_fraction=1, kubelet_nodes="node-0002,node-0004")
    assert {n for n, c in answers(kubelets).items() if c == 500} == {"node-0002", "node-0004"}
    kubelets.faults(kubelet_nodes=["node-0003"])  # a JSON list works too
    assert {n for n, c in answers(kubelets).items() if c == 500} == {"node-0003"}


def test_faults_are_counted_and_reset_clears_them(kubelets: Kubelets) -> None:
    before = kubelets.summary()["faultsInjected"]
    only(kubelets, "scrape_error", node="node-0003")
    kubelets.get("node-0003")
    kubelets.get("node-0003")
    after = kubelets.summary()["faultsInjected"]
    assert after["scrape_error"] == before["scrape_error"] + 2
    kubelets.faults(reset=True)
    assert all(healthy(kubelets, n) for n in kubelets.advertised())
    assert all(t["faults"] == [] for t in kubelets.truth()["nodes"].values())


def test_faults_given_at_start(tmp_path_factory: pytest.TempPathFactory) -> None:
    sim = start_simulator(
        tmp_path_factory.mktemp("kubelet-faults-at-start"),
        nodes=2,
        pods_per_node=1,
        args=["--fault=kubelet_error_fraction=1", "--fault=kubelet_nodes=node-0001"],
    )
    try:
        k = Kubelets(sim)
        r: Response = k.get("node-0001")
        assert r.status == 500
        assert k.get("control-plane-1").status == 200
    finally:
        sim.stop()
