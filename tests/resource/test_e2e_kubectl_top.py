"""End to end: the real ``kubectl top`` and ``kubectl get nodemetrics/podmetrics`` through the
simulator's aggregation layer, against kubelets whose usage is known (the truth): loopback kubelets
with fixed rates, and the simulator's own kubelets with their ``/_sim/truth``. Every printed value
is checked: CPU (rounded up to millicores, summed over containers), memory (MiB), percentages
of allocatable, label selectors, ``-A``, ``--containers``, ``--sort-by``, and the raw API."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest

from kubescope.model.quantity import parse, parse_quantity
from tests.resource.loopkubelets import Truth
from tests.resource.simcluster import ResourceMetricsOnSimulator, api_equals_truth, simulator_truth

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]


@pytest.fixture(scope="module", params=["loopback", "simulator"])
def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ResourceMetricsOnSimulator]:
    """``loopback``: kubelets in this process with fixed usage; ``simulator``: the simulator's own
    kubelets (housekeeping every 2 s, scraped every second), frozen once resource-metrics has two
    consecutive samples of every series (the ``stale`` fault), so /_sim/truth's rates stay the
    answer while the tests run."""
    own = request.param == "loopback"
    with ResourceMetricsOnSimulator(
        tmp_path_factory.mktemp(f"rm-top-{request.param}"), nodes=3, pods_per_node=5, own_kubelets=own,
        resolution="1s" if not own else "2s", sim_args=() if own else ("--kubelet-housekeeping=2",),
    ) as e:  # fmt: skip
        e.wait("kubectl top node", lambda: _top_nodes_ready(e), timeout=90)
        if not own:
            e.sim.faults(kubelet_stale_fraction=1)
            e.wait(
                "the Metrics API equal to /_sim/truth",
                lambda: api_equals_truth(e, simulator_truth(e.sim.request("GET", "/_sim/truth"))),
                timeout=60,
            )
        yield e


def _top_nodes_ready(e: ResourceMetricsOnSimulator) -> bool:
    out = e.kubectl("top", "node", "--no-headers", check=False)
    nodes = e.sim.request("GET", "/api/v1/nodes")["items"]
    return len([line for line in out.splitlines() if line and "<unknown>" not in line]) == len(nodes)


def truth(e: ResourceMetricsOnSimulator) -> Truth:
    if e.kubelets is not None:
        return e.kubelets.truth
    return simulator_truth(e.sim.request("GET", "/_sim/truth"))


def rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()[1:]]


def test_top_node_values_equal_the_truth(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    nodes = {n["metadata"]["name"]: n for n in json.loads(env.kubectl("get", "nodes", "-o", "json"))["items"]}
    out = env.kubectl("top", "node")
    assert out.splitlines()[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    got = {r[0]: r[1:] for r in rows(out)}
    assert set(got) == set(t.node_millicores)
    for name, (cpu, cpu_pct, mem, mem_pct) in got.items():
        want_milli = math.ceil(t.node_millicores[name])
        assert cpu == f"{want_milli}m"
        assert mem == Truth.kubectl_memory(t.node_bytes[name])
        alloc = nodes[name]["status"]["allocatable"]
        assert cpu_pct == f"{int(want_milli / parse(alloc['cpu']).milli_value() * 100)}%"
        mem_alloc = parse(alloc["memory"]).milli_value()
        assert mem_pct == f"{int(t.node_bytes[name] * 1000 / mem_alloc * 100)}%"


def test_top_node_sort_and_selector(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    by_cpu = [r[0] for r in rows(env.kubectl("top", "node", "--sort-by=cpu"))]
    assert by_cpu == sorted(t.node_millicores, key=lambda n: -math.ceil(t.node_millicores[n]))
    by_mem = [r[0] for r in rows(env.kubectl("top", "node", "--sort-by=memory"))]
    assert by_mem == sorted(t.node_bytes, key=lambda n: -t.node_bytes[n])
    some = next(iter(t.node_millicores))
    sel = env.kubectl("top", "node", "-l", f"kubernetes.io/hostname={some}")
    assert [r[0] for r in rows(sel)] == [some]


def test_top_pod_all_namespaces_equals_the_truth(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    out = env.kubectl("top", "pod", "-A")
    assert out.splitlines()[0].split() == ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    got = {(r[0], r[1]): (r[2], r[3]) for r in rows(out)}
    assert set(got) == set(t.containers)
    for key, (cpu, mem) in got.items():
        assert cpu == Truth.kubectl_cpu(t.pod_millicores(key)), key
        assert mem == Truth.kubectl_memory(t.pod_bytes(key)), key


def test_top_pod_containers_in_a_namespace(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    ns = sorted({k[0] for k in t.containers})[0]
    out = env.kubectl("top", "pod", "-n", ns, "--containers")
    assert out.splitlines()[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    got = {(r[0], r[1]): (r[2], r[3]) for r in rows(out)}
    want = {(p, c): v for (n, p), cs in t.containers.items() if n == ns for c, v in cs.items()}
    assert set(got) == set(want)
    for key, (millicores, nbytes) in want.items():
        assert got[key] == (Truth.kubectl_cpu(millicores), Truth.kubectl_memory(nbytes))


def test_top_pod_label_selector_and_sort(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    pods = json.loads(
        env.kubectl("get", "pods", "-A", "--field-selector=status.phase=Running", "-o", "json")
    )["items"]
    labelled = [p for p in pods if p["metadata"].get("labels")]
    assert labelled, "the scenario labels its pods"
    ns = labelled[0]["metadata"]["namespace"]
    key, value = sorted(labelled[0]["metadata"]["labels"].items())[0]
    want = sorted(
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["namespace"] == ns and p["metadata"].get("labels", {}).get(key) == value
    )
    out = env.kubectl("top", "pod", "-n", ns, "-l", f"{key}={value}")
    assert sorted(r[0] for r in rows(out)) == want
    by_cpu = [r[1] for r in rows(env.kubectl("top", "pod", "-A", "--sort-by=cpu"))]
    cpu = {k[1]: math.ceil(t.pod_millicores(k)) for k in t.containers}
    assert [cpu[n] for n in by_cpu] == sorted(cpu.values(), reverse=True)


def test_get_nodemetrics_and_podmetrics_tables(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    out = env.kubectl("get", "nodemetrics")
    assert out.splitlines()[0].split() == ["NAME", "CPU", "MEMORY", "WINDOW"]
    for r in rows(out):
        assert float(parse_quantity(r[1]) * 1_000_000_000) == pytest.approx(
            t.node_millicores[r[0]] * 1e6, abs=2
        )
        assert r[3].endswith("s")  # the window, a Go duration
    out = env.kubectl("get", "podmetrics", "-A")
    assert out.splitlines()[0].split() == ["NAMESPACE", "NAME", "CPU", "MEMORY", "WINDOW"]
    assert len(rows(out)) == len(t.containers)


def test_raw_api_equals_the_truth(env: ResourceMetricsOnSimulator) -> None:
    t = truth(env)
    nodes = json.loads(env.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1/nodes"))
    for item in nodes["items"]:
        nanocores = parse_quantity(item["usage"]["cpu"]) * 1_000_000_000
        # exact up to the float parsing of the kubelet's cumulative seconds: a nano-core or two
        assert float(nanocores) == pytest.approx(t.node_millicores[item["metadata"]["name"]] * 1e6, abs=2)
        assert int(parse_quantity(item["usage"]["memory"])) == t.node_bytes[item["metadata"]["name"]]
    pods = json.loads(env.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods"))
    assert len(pods["items"]) == len(t.containers)
    for item in pods["items"]:
        key = (item["metadata"]["namespace"], item["metadata"]["name"])
        for c in item["containers"]:
            millicores, nbytes = t.containers[key][c["name"]]
            assert float(parse_quantity(c["usage"]["cpu"]) * 1_000_000_000) == pytest.approx(
                millicores * 1e6, abs=2
            )
            assert int(parse_quantity(c["usage"]["memory"])) == nbytes
