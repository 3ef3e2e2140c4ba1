"""The scenario generator: deterministic, consistent ownership, realistic mix."""

from __future__ import annotations

import collections
import hashlib
import json

import msgspec
import pytest

from kubescope.sim.defaults import apply_defaults
from kubescope.sim.scenario import ScenarioConfig, generate

CFG = ScenarioConfig(seed=7, nodes=20, pods_per_node=15, start=1_700_000_000)


def objects(cfg: ScenarioConfig = CFG) -> list[tuple[str, dict]]:
    return list(generate(cfg))


def test_same_seed_same_cluster_other_seed_other_cluster() -> None:
    a = msgspec.json.encode(objects())
    assert a == msgspec.json.encode(objects())
    assert a != msgspec.json.encode(
        objects(ScenarioConfig(seed=8, nodes=20, pods_per_node=15, start=1_700_000_000))
    )


@pytest.mark.parametrize(
    ("seed", "nodes", "pods_per_node", "digest"),
    [(7, 20, 15, "c577fff688d78cd9"), (3, 6, 10, "75f316db2f64ae4a"), (21, 6, 12, "5d185e2de2718d8f")],
)
def test_a_seed_generates_what_it_always_generated(
    seed: int, nodes: int, pods_per_node: int, digest: str
) -> None:
    """What the simulator loads for a seed (generated objects with the API's defaults) is pinned:
    churn and exporter tests rely on their seeds' objects (which CronJobs, which Jobs), and a
    generator change that draws once more or once less shifts every later object (commit
    163da2f). If a change is meant to change the cluster, update these digests and say so."""
    h = hashlib.sha256()
    cfg = ScenarioConfig(seed=seed, nodes=nodes, pods_per_node=pods_per_node, start=1_700_000_000)
    for res, obj in generate(cfg):
        apply_defaults(res, obj, lambda: "None")
        h.update(res.encode())
        h.update(json.dumps(obj, sort_keys=True).encode())
    assert h.hexdigest()[:16] == digest


def test_endpoints_carry_their_nodes_zone() -> None:
    objs = objects()
    zones = {
        o["metadata"]["name"]: o["metadata"]["labels"]["topology.kubernetes.io/zone"]
        for r, o in objs
        if r == "nodes"
    }
    eps = [ep for r, o in objs if r == "endpointslices.discovery.k8s.io" for ep in o["endpoints"]]
    assert eps and all(ep["zone"] == zones[ep["nodeName"]] for ep in eps)


def test_pod_count_and_daemonset_pod_per_node() -> None:
    objs = objects()
    pods = [o for r, o in objs if r == "pods"]
    assert len(pods) == 20 * 15
    ds = {o["metadata"]["name"] for r, o in objs if r == "daemonsets.apps"}
    for name in ds:
        nodes = [
            p["spec"].get("nodeName")
            for p in pods
            if p["metadata"].get("ownerReferences", [{}])[0].get("name") == name
        ]
        assert sorted(nodes) == sorted({o["metadata"]["name"] for r, o in objs if r == "nodes"})


def test_every_owner_reference_points_at_a_generated_object() -> None:
    objs = objects()
    uids = {o["metadata"]["uid"]: (o["kind"], o["metadata"]["name"]) for _, o in objs}
    for _, o in objs:
        for ref in o["metadata"].get("ownerReferences", []):
            assert uids.get(ref["uid"]) == (ref["kind"], ref["name"]), (o["kind"], o["metadata"]["name"], ref)


def test_names_unique_per_resource_and_namespace() -> None:
    seen = collections.Counter(
        (r, o["metadata"].get("namespace", ""), o["metadata"]["name"]) for r, o in objects()
    )
    assert [k for k, n in seen.items() if n > 1] == []


def test_status_mix_is_realistic() -> None:
    pods = [
        o
        for r, o in objects(ScenarioConfig(seed=3, nodes=40, pods_per_node=30, start=1_700_000_000))
        if r == "pods"
    ]
    phases = collections.Counter(p["status"]["phase"] for p in pods)
    assert phases["Running"] > 0.75 * len(pods)
    assert phases["Pending"] > 0 and phases["Succeeded"] > 0
    waiting = collections.Counter(
        c["state"]["waiting"]["reason"]
        for p in pods
        for c in p["status"].get("containerStatuses", [])
        if "waiting" in c["state"]
    )
    assert waiting["CrashLoopBackOff"] > 0
    assert any(p["status"].get("qosClass") == "Guaranteed" for p in pods)
    unsched = [p for p in pods if "nodeName" not in p["spec"]]
    assert unsched and all(p["status"]["conditions"][0]["reason"] == "Unschedulable" for p in unsched)


def test_tiny_cluster() -> None:
    objs = objects(ScenarioConfig(seed=1, nodes=3, pods_per_node=10, start=1_700_000_000))
    assert sum(1 for r, _ in objs if r == "pods") == 30
    assert sum(1 for r, _ in objs if r == "nodes") == 3
