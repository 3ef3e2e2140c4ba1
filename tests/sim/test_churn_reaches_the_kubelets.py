"""The simulated kubelets follow what the churn does to pods (a simulator process, plain HTTP):
pods it creates appear in their node's ``/metrics/resource`` and in ``/_sim/truth`` once running,
pods it deletes or finishes vanish, crash-looping containers leave, restarted ones count."""

from __future__ import annotations

import collections
import time
import urllib.request
from typing import Any

import pytest

from kubescope.sim.process import SimulatorProcess

pytestmark = pytest.mark.slow

HOUSEKEEPING = 0.2
Obj = dict[str, Any]


def running(pods: list[Obj]) -> dict[str, dict[str, Obj]]:
    """node -> "ns/name" -> pod, for the pods in phase Running (what a kubelet reports)."""
    out: dict[str, dict[str, Obj]] = collections.defaultdict(dict)
    for p in pods:
        if (p.get("status") or {}).get("phase") == "Running" and p["spec"].get("nodeName"):
            out[p["spec"]["nodeName"]][key(p)] = p
    return out


def key(p: Obj) -> str:
    return f"{p['metadata']['namespace']}/{p['metadata']['name']}"


def restarts(pods: list[Obj]) -> dict[tuple[str, str], int]:
    """(pod uid, container) -> restartCount."""
    return {
        (p["metadata"]["uid"], c["name"]): c.get("restartCount", 0)
        for p in pods
        for c in (p.get("status") or {}).get("containerStatuses") or ()
    }


def is_ready(node: Obj) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics/resource", timeout=10) as r:
        return str(r.read().decode())


def test_kubelets_report_the_pods_churn_makes_and_drop_those_it_deletes() -> None:
    with SimulatorProcess(
        nodes=4,
        pods_per_node=8,
        seed=7,
        churn_rate=300,
        tls=False,
        extra_args=[f"--kubelet-housekeeping={HOUSEKEEPING}", "--churn-mix=lively"],
    ) as sim:
        before = {key(p): p for p in sim.request("GET", "/api/v1/pods")["items"]}
        restarts_before = restarts(list(before.values()))
        time.sleep(5)  # new pods start 1-4 s after they are made
        sim.churn(rate=0)
        # every pod started before the pause is in a sample: startedAt has whole seconds and a
        # kubelet samples each container up to a second after it, every HOUSEKEEPING seconds
        time.sleep(1.5 + 2 * HOUSEKEEPING)
        pods = sim.request("GET", "/api/v1/pods")["items"]
        truth = sim.request("GET", "/_sim/truth")["nodes"]
        addresses = sim.request("GET", "/_sim/kubelets")["addresses"]
        nodes = {n["metadata"]["name"]: n for n in sim.request("GET", "/api/v1/nodes")["items"]}
        stats = sim.churn()
        texts = {node: scrape(addr) for node, addr in addresses.items() if is_ready(nodes[node])}

    # exactly the Running pods, on their nodes
    want = running(pods)
    assert {n: set(v["pods"]) for n, v in truth.items() if v["pods"]} == {n: set(v) for n, v in want.items()}
    # exactly the running containers, with their restart counts
    for node, by_name in want.items():
        for k, p in by_name.items():
            statuses = {
                c["name"]: c
                for c in p["status"].get("containerStatuses") or ()
                if "running" in (c.get("state") or {})
            }
            got = truth[node]["pods"][k]["containers"]
            assert set(got) == set(statuses), k
            for name, c in statuses.items():
                assert got[name]["restarts"] == c.get("restartCount", 0), (k, name)
    now = {key(p) for p in pods}
    restarted = [c for c, n in restarts(pods).items() if n > restarts_before.get(c, n)]
    new = {k for by_name in want.values() for k in by_name} - set(before)
    gone = set(before) - now
    assert len(new) >= 5 and len(gone) >= 5, (len(new), len(gone), stats["counts"])
    assert stats["counts"].get("pod_restart", 0) > 0 and restarted

    # and a kubelet's own /metrics/resource says the same: the new pods there, deleted ones not
    checked = 0
    for node, text in texts.items():
        for pk in want.get(node, ()):
            ns, name = pk.split("/")
            assert f'namespace="{ns}",pod="{name}"' in text, (node, pk)
        for pk in gone:
            assert f'pod="{pk.split("/")[1]}"' not in text, (node, pk)
        checked += bool(set(want.get(node, ())) & new)
    assert checked >= 1
