"""End to end, live: ``kubescope resource-metrics`` scraping the simulator's own kubelets (every
second; the kubelets collect every 2 s) while their usage moves. At each housekeeping tick the real
``kubectl top node`` prints /_sim/truth's rates (over the exact window between the kubelet's two
last samples) and working sets; a kubelet that breaks (garbage) takes only its own node out of
``kubectl top``, and the node comes back when the fault is cleared."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest

from tests.resource.loopkubelets import Truth
from tests.resource.simcluster import ResourceMetricsOnSimulator, api_equals_truth, simulator_truth

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResourceMetricsOnSimulator]:
    with ResourceMetricsOnSimulator(
        tmp_path_factory.mktemp("rm-live"), nodes=3, pods_per_node=4, resolution="1s",
        sim_args=("--kubelet-housekeeping=2",),
    ) as e:  # fmt: skip
        assert e.kubelets is None and e.loopback_kubelets()  # the simulator's kubelets
        e.wait(
            "kubectl top node", lambda: len(top_nodes(e)) == 3 and "<unknown>" not in str(top_nodes(e)), 90
        )
        yield e


def top_nodes(e: ResourceMetricsOnSimulator) -> dict[str, list[str]]:
    out = e.kubectl("top", "node", "--no-headers", check=False)
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}


def settled(e: ResourceMetricsOnSimulator) -> tuple[int, Truth, dict[str, list[str]]] | None:
    """``kubectl top node`` and the truth of one tick: the Metrics API already serves the tick's
    samples before kubectl runs, and the tick has not passed when it is done."""
    doc = e.sim.request("GET", "/_sim/truth")
    t = simulator_truth(doc)
    if not api_equals_truth(e, t):
        return None  # resource-metrics has not scraped this tick yet
    out = top_nodes(e)
    return (doc["tick"], t, out) if e.sim.request("GET", "/_sim/truth")["tick"] == doc["tick"] else None


def test_top_node_follows_the_kubelets_tick_by_tick(env: ResourceMetricsOnSimulator) -> None:
    seen: dict[int, dict[str, list[str]]] = {}
    deadline = time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:
        got = settled(env)
        if got is None:
            time.sleep(0.1)
            continue
        tick, t, out = got
        assert set(out) == set(t.node_millicores)
        for name, (cpu, _, mem, _) in out.items():
            assert cpu == f"{math.ceil(t.node_millicores[name])}m", (tick, name)
            assert mem == Truth.kubectl_memory(t.node_bytes[name]), (tick, name)
        seen[tick] = out
    assert len(seen) == 2, f"two settled ticks not seen in 60 s: {seen}"
    first, second = seen.values()
    assert first != second  # usage moves from one tick to the next


# garbage only: a reset connection is a connect failure to the scraper, which
# test_scraper_isolates_node_failures covers with loopback kubelets
@pytest.mark.parametrize(("fault", "reason"), [("garbage", "parse")])
def test_a_broken_kubelet_takes_out_only_its_node(
    env: ResourceMetricsOnSimulator, fault: str, reason: str
) -> None:
    env.sim.faults(reset=True, **{f"kubelet_{fault}_fraction": 1, "kubelet_nodes": "node-0001"})
    try:

        def only_node_0001_unknown() -> bool:
            out = top_nodes(env)
            return out["node-0001"][0] == "<unknown>" and all(
                v[0].endswith("m") for n, v in out.items() if n != "node-0001"
            )

        env.wait(f"node-0001 out of kubectl top ({fault})", only_node_0001_unknown, 30)
        assert f'msg="failed to scrape node" node=node-0001 reason={reason} ' in env.log.read_text()
    finally:
        env.sim.faults(reset=True)
    env.wait("node-0001 back", lambda: top_nodes(env)["node-0001"][0].endswith("m"), 30)
