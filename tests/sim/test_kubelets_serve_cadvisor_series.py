"""The simulated kubelets' ``/metrics/cadvisor``: the two cAdvisor families Prometheus-based
consumers read (kube-prometheus' rules, VPA's history provider), with the kubelet's labels, one
series per cgroup (the node's root, each pod's, each container's), the same values as
``/metrics/resource`` for the same collection, and promtool has nothing to say about the text."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from kubescope.sim.process import SimulatorProcess
from tests.integration.prom import need
from tests.sim.kubelets import Exposition, Kubelets, Sample, start_simulator

pytestmark = pytest.mark.slow

CPU = "container_cpu_usage_seconds_total"
MEM = "container_memory_working_set_bytes"


def one(e: Exposition, name: str, **labels: str) -> Sample:
    found = [s for s in e.of(name) if all(s.label_dict.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, len(found))
    return found[0]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    s = start_simulator(tmp_path_factory.mktemp("cadvisor"), nodes=2, pods_per_node=6, housekeeping=30.0)
    yield s
    s.stop()


def test_cadvisor_series_are_the_resource_samples_per_cgroup(sim: SimulatorProcess) -> None:
    kubelets = Kubelets(sim)
    node = sorted(kubelets.advertised())[0]
    for _ in range(5):  # both answers from the same housekeeping tick (30 s apart)
        res = kubelets.metrics(node)
        cad = kubelets.metrics(node, path="/metrics/cadvisor")
        if res.of("node_cpu_usage_seconds_total")[0].timestamp == one(cad, CPU, id="/").timestamp:
            break
    assert cad.families == [CPU, MEM]
    assert cad.type == {CPU: "counter", MEM: "gauge"}
    names = [tuple(k for k, _ in s.labels) for s in cad.samples]
    assert set(names) == {
        ("container", "cpu", "id", "image", "name", "namespace", "pod"),
        ("container", "id", "image", "name", "namespace", "pod"),
    }
    assert [s.labels for s in cad.of(CPU)] == sorted(s.labels for s in cad.of(CPU))
    root = one(cad, CPU, id="/")
    assert root.value == res.of("node_cpu_usage_seconds_total")[0].value
    assert one(cad, MEM, id="/").number == res.of("node_memory_working_set_bytes")[0].number
    pods = {
        (s.label_dict["namespace"], s.label_dict["pod"]): s for s in res.of("pod_cpu_usage_seconds_total")
    }
    pod_cgroups = [s for s in cad.of(CPU) if s.label_dict["pod"] and not s.label_dict["container"]]
    assert len(pod_cgroups) == len(pods) > 0
    for s in pod_cgroups:
        d = s.label_dict
        assert d["id"].startswith("/kubepods") and d["image"] == d["name"] == ""
        assert s.value == pods[(d["namespace"], d["pod"])].value
    containers = {
        (s.label_dict["namespace"], s.label_dict["pod"], s.label_dict["container"]): s
        for s in res.of("container_cpu_usage_seconds_total")
    }
    mine = [s for s in cad.of(CPU) if s.label_dict["container"]]
    assert len(mine) == len(containers)
    for s in mine:
        d = s.label_dict
        assert d["image"] and d["name"] and d["id"].endswith("/" + d["name"]) and d["cpu"] == "total"
        assert s.value == containers[(d["namespace"], d["pod"], d["container"])].value


def test_promtool_accepts_the_cadvisor_text(sim: SimulatorProcess) -> None:
    kubelets = Kubelets(sim)
    body = kubelets.get(sorted(kubelets.advertised())[0], "/metrics/cadvisor").body
    out = subprocess.run([need("promtool"), "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
