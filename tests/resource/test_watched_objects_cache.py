"""The node and pod caches fed by the reflectors: real object JSON, running pods only, relists."""

from __future__ import annotations

import msgspec

from kubescope.resource.inventory import PATH_ANNOTATION, Node, NodeCache, Pod, PodCache

NODE_JSON = b"""{
  "kind": "Node", "apiVersion": "v1",
  "metadata": {"name": "kind-worker", "uid": "8a1", "resourceVersion": "4242",
               "labels": {"kubernetes.io/hostname": "kind-worker", "kubernetes.io/os": "linux"},
               "annotations": {"metrics.k8s.io/resource-metrics-path": "/metrics/resource/v2",
                               "node.alpha.kubernetes.io/ttl": "0"}},
  "spec": {"podCIDR": "10.244.1.0/24", "providerID": "kind://docker/kind/kind-worker"},
  "status": {
    "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
    "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
    "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True",
                    "reason": "KubeletReady"}],
    "addresses": [{"type": "InternalIP", "address": "172.18.0.3"},
                  {"type": "Hostname", "address": "kind-worker"}],
    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    "nodeInfo": {"kubeletVersion": "v1.37.0"}
  }
}"""


def test_a_real_node_object_decodes_to_what_the_scraper_needs() -> None:
    cache = NodeCache()
    cache.upsert(msgspec.json.decode(NODE_JSON, type=Node))
    info = cache.nodes["kind-worker"]
    assert info.status_port == 10250
    assert info.addresses == (("InternalIP", "172.18.0.3"), ("Hostname", "kind-worker"))
    assert info.metrics_path == "/metrics/resource/v2"
    assert info.ready
    assert info.labels == {"kubernetes.io/hostname": "kind-worker", "kubernetes.io/os": "linux"}
    assert PATH_ANNOTATION == "metrics.k8s.io/resource-metrics-path"


def pod(ns: str, name: str, phase: str = "Running", rv: str = "1") -> Pod:
    return msgspec.convert(
        {"metadata": {"name": name, "namespace": ns, "resourceVersion": rv}, "status": {"phase": phase}}, Pod
    )


def test_only_running_pods_are_kept() -> None:
    c = PodCache()
    c.upsert(pod("a", "p1"))
    c.upsert(pod("a", "p2", "Pending"))
    assert set(c.pods) == {("a", "p1")}
    c.upsert(pod("a", "p1", "Succeeded"))
    assert c.pods == {} and c.by_namespace == {}


def test_relist_drops_what_was_not_listed_again() -> None:
    c = PodCache()
    c.replace_begin()
    for n in ("p1", "p2", "p3"):
        c.upsert(pod("b", n))
    c.upsert(pod("a", "p9"))
    c.replace_end()
    assert c.synced
    assert c.sorted_keys() == [("a", "p9"), ("b", "p1"), ("b", "p2"), ("b", "p3")]
    version = c.version
    c.replace_begin()
    c.upsert(pod("b", "p2"))
    c.replace_end()
    assert c.sorted_keys() == [("b", "p2")]
    assert c.namespace_names("b") == ["p2"] and c.namespace_names("a") == []
    assert c.version > version
    c.delete(pod("b", "p2"))
    assert c.pods == {}


def test_node_relist_and_delete() -> None:
    c = NodeCache()
    c.replace_begin()
    for n in ("n2", "n1"):
        c.upsert(msgspec.convert({"metadata": {"name": n}}, Node))
    c.replace_end()
    assert c.sorted_names() == ["n1", "n2"]
    c.delete(msgspec.convert({"metadata": {"name": "n1"}}, Node))
    assert c.sorted_names() == ["n2"]
    assert not c.nodes["n2"].ready  # no Ready condition: metrics-server treats it as not ready
