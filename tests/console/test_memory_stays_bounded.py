"""The console's memory is bounded by the cluster, not by time or traffic: the usage ring keeps its
rows however many polls come, reuses the rows of pods gone for a window, and a Metrics API answer
is decoded as it streams in (one that breaks off leaves the ring as it was); the records the watches
keep share what pods and workloads repeat (label sets, pod templates, strings)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import msgspec
import pytest

from kubescope.console import wire
from kubescope.console.cluster import Cluster
from kubescope.console.records import SAME_CACHE, Shared, WorkloadRecord, slim
from kubescope.console.usage import Ring, Usage, pod_key
from kubescope.errors import TransportError
from kubescope.kube.liststream import ListDecoder
from tests.console.fixtures import node, pod, workload


def test_the_ring_keeps_its_rows_over_many_polls() -> None:
    ring = Ring(columns=61, rows=16)
    keys = [pod_key("ns", f"p{i}") for i in range(100)]
    for poll in range(500):
        ring.write(poll * 15.0, {k: (float(poll), 1e6) for k in keys})
        if poll == 10:
            shape = ring.cpu.shape
    assert ring.cpu.shape == shape == ring.mem.shape
    assert len(ring) == 100
    assert ring.current(keys[7]) == (499.0, 1e6)


def test_rows_of_pods_gone_for_a_window_are_reused() -> None:
    """Pods come and go (a Job a minute): rows are bounded by the pods alive within the window."""
    ring = Ring(columns=61, rows=16)
    for poll in range(1000):
        # 50 pods at a time, each living 20 polls (5 minutes)
        alive = range(poll // 20 * 50, poll // 20 * 50 + 50)
        ring.write(poll * 15.0, {pod_key("jobs", f"p{i}"): (1.0, 1.0) for i in alive})
    assert len(ring) <= 50 * (61 // 20 + 2)
    assert ring.cpu.shape[0] <= 512
    assert ring.current(pod_key("jobs", "p0")) == (None, None)
    assert ring.current(pod_key("jobs", "p2495")) == (1.0, 1.0)


def test_reserving_rows_grows_once() -> None:
    ring = Ring(columns=61, rows=16)
    ring.reserve(30_000)
    rows = ring.cpu.shape[0]
    assert 30_000 <= rows <= 32_000
    ring.write(0.0, {pod_key("ns", f"p{i}"): (1.0, 1.0) for i in range(30_000)})
    assert ring.cpu.shape[0] == rows


def test_pods_series_are_float16_within_a_twentieth_of_a_percent_and_the_newest_exact() -> None:
    """Half the ring's bytes (7 MiB at 30,000 pods): the series in float16 units that hold any pod's
    usage; the newest values, which lists show and sort on, as put."""
    pods, nodes = Ring(columns=61, rows=16, compact=True), Ring(columns=61, rows=16)
    assert pods.cpu.itemsize == 2 and nodes.cpu.itemsize == 4
    samples = {"tiny": (0.001, 4096.0), "web": (123.456, 333_333_333.0), "huge": (900_000.0, 3.5 * 2**40)}
    pods.write(0.0, samples)
    for key, (c, m) in samples.items():
        assert pods.current(key) == (c, m)
        for what, want in (("cpu", c), ("memory", m)):
            _, values = pods.series([key], what)
            assert abs(values[-1] - want) <= 5e-4 * want, (key, what, values[-1], want)
    nodes.write(0.0, {"n1": (64_000.0, 24.0 * 2**40)})  # nodes can be bigger: float32
    assert nodes.series(["n1"], "memory")[1][-1] == 24.0 * 2**40


class _Body:
    """A streamed answer: its chunks, then (``fail``) a connection that breaks off."""

    def __init__(self, chunks: list[bytes], fail: bool) -> None:
        self.chunks = list(chunks)
        self.fail = fail

    async def open(self) -> None:
        pass

    async def read(self) -> bytes:
        await asyncio.sleep(0)
        if self.chunks:
            return self.chunks.pop(0)
        if self.fail:
            raise TransportError("connection reset by peer (test)")
        return b""

    def close(self) -> None:
        pass


class _Client:
    def __init__(self, pods: int, cpu: str, fail: bool = False, chunk: int = 4096) -> None:
        self.pods, self.cpu, self.fail, self.chunk = pods, cpu, fail, chunk

    def body(self, path: str, params: object = None, **_: object) -> _Body:
        if path.endswith("/nodes"):
            items = [{"metadata": {"name": "n1"}, "usage": {"cpu": "1", "memory": "1Gi"}}]
        else:
            items = [
                {"metadata": {"name": f"p{i}", "namespace": "ns"},
                 "containers": [{"name": "c", "usage": {"cpu": self.cpu, "memory": "10Mi"}}]}
                for i in range(self.pods)
            ]  # fmt: skip
        text = json.dumps({"kind": "PodMetricsList", "metadata": {}, "items": items}, separators=(",", ":"))
        data = text.encode()
        chunks = [data[i : i + self.chunk] for i in range(0, len(data), self.chunk)]
        if self.fail:  # break off halfway through the items
            chunks = chunks[: len(chunks) // 2]
        return _Body(chunks, self.fail)


def test_a_poll_streams_into_the_ring_and_one_broken_off_changes_nothing() -> None:
    clock = iter(float(t) for t in range(0, 10_000, 15))
    client = _Client(3000, "250m")
    u = Usage(client, interval=15, clock=lambda: next(clock), window_bytes=16 << 10)  # type: ignore[arg-type]
    asyncio.run(u.poll())
    asyncio.run(u.poll())
    assert u.error == "" and u.polls == 2
    assert len(u.pods) == 3000
    assert u.pods.current(pod_key("ns", "p2999")) == (250.0, 10 * 2**20)
    before = u.pods.order().size

    client.cpu, client.fail = "900m", True
    asyncio.run(u.poll())
    assert u.failures == 1 and "did not answer" in u.error
    assert u.pods.order().size == before  # the broken poll's column is gone
    assert u.pods.current(pod_key("ns", "p0")) == (250.0, 10 * 2**20)  # not the half-read 900m
    _, values = u.pods.series([pod_key("ns", "p0")], "cpu")
    assert values.tolist() == [250.0, 250.0]

    client.fail = False
    asyncio.run(u.poll())
    assert u.error == "" and u.pods.current(pod_key("ns", "p0")) == (900.0, 10 * 2**20)
    assert u.nodes.current("n1") == (1000.0, 2.0**30)


def test_a_poll_decodes_a_window_at_a_time_however_much_arrives_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Metrics API answering faster than the poll decodes hands over megabytes in one read: they
    are decoded a window at a time, so a poll holds a window's PodMetrics, not all it received."""
    fed: list[int] = []
    feed = ListDecoder.feed

    def spy(self: ListDecoder[object], data: bytes) -> list[object]:
        fed.append(len(data))
        return feed(self, data)

    monkeypatch.setattr(ListDecoder, "feed", spy)
    client = _Client(3000, "250m", chunk=4 << 20)  # the whole answer (400 KB) in one read
    u = Usage(client, interval=15, window_bytes=16 << 10)  # type: ignore[arg-type]
    asyncio.run(u.poll())
    assert u.error == "" and len(u.pods) == 3000
    assert u.pods.current(pod_key("ns", "p2999")) == (250.0, 10 * 2**20)
    assert max(fed) <= 16 << 10 and sum(fed) > 20 * (16 << 10)


def test_pods_of_one_workload_share_their_labels_and_strings() -> None:
    c = Cluster()
    c.pods.replace_begin()
    for i in range(50):
        p = pod("shop", f"web-{i}", node=f"node-{i % 3}", labels={"app": "web", "pod-template-hash": "abc"},
                owner=("ReplicaSet", "web-abc"))  # fmt: skip
        c.pods.upsert(p)
    c.pods.replace_end()
    records = list(c.pods.values())
    assert len({id(r.label_pairs) for r in records}) == 1
    assert len({id(r.namespace) for r in records}) == 1
    assert len({id(r.owner_name) for r in records}) == 1
    assert records[0].labels == {"app": "web", "pod-template-hash": "abc"}


def test_the_sharing_caches_are_bounded() -> None:
    shared = Shared()
    for i in range(SAME_CACHE * 3):
        shared.flat_labels({"app": "web", "pod": f"web-{i}"})
        shared.same((i, i))
    assert all(len(cache) <= SAME_CACHE for cache in shared._tuples)


def _workload(name: str, requests: dict[str, str]) -> wire.Workload:
    w = workload("Deployment", "shop", name)
    w.spec.template = msgspec.convert(
        {
            "spec": {
                "containers": [
                    {"name": "app", "image": "registry/app:v1", "resources": {"requests": requests}}
                ]
            }
        },
        wire.TemplateSpec,
    )
    return w


def test_workloads_share_their_pod_template() -> None:
    shared = Shared()
    a = WorkloadRecord(_workload("web", {"cpu": "250m", "memory": "64Mi"}), "Deployment", shared)
    b = WorkloadRecord(_workload("web-abc", {"cpu": "250m", "memory": "64Mi"}), "ReplicaSet", shared)
    assert a.template is b.template
    assert [(c.name, c.resources.requests, c.image) for c in a.containers] == [
        ("app", {"cpu": "250m", "memory": "64Mi"}, "")  # what no page shows (the image) is not kept
    ]
    for i in range(3 * SAME_CACHE):  # templates of workloads long gone do not pile up
        WorkloadRecord(_workload(f"w{i}", {"cpu": f"{i}m"}), "Deployment", shared)
    assert all(len(cache) <= SAME_CACHE for cache in shared._tuples)
    assert a.containers[0].resources.requests == {"cpu": "250m", "memory": "64Mi"}


def test_workloads_are_kept_as_compact_records() -> None:
    """About 18,000 workloads at 1,000 nodes: each keeps what the pages show, no decoded object."""
    c = Cluster()
    for kind, w in (
        ("Deployment", workload("Deployment", "shop", "web", replicas=3)),
        ("ReplicaSet", workload("ReplicaSet", "shop", "web-abc", owner=("Deployment", "web"), replicas=3)),
        ("ReplicaSet", workload("ReplicaSet", "shop", "web-def", owner=("Deployment", "web"), replicas=3)),
    ):
        c.workloads[kind].upsert(w)
    (d,) = c.workloads["Deployment"].values()
    rs = list(c.workloads["ReplicaSet"].values())
    assert isinstance(d, WorkloadRecord) and not hasattr(d, "__dict__")
    assert (d.name, d.namespace, d.ready, d.uid) == ("web", "shop", "3/3", "uid-Deployment-shop-web")
    assert {(r.owner_kind, r.owner_name) for r in rs} == {("Deployment", "web")}
    assert rs[0].owner_name is rs[1].owner_name is d.name  # the owner's name is one string
    assert rs[0].ready is rs[1].ready  # the READY text too
    assert c.workload("ReplicaSet", "shop", "web-def") is rs[1]


def test_a_cronjob_record_keeps_its_jobs_template() -> None:
    cj = msgspec.convert(
        {"metadata": {"name": "nightly", "namespace": "ops", "uid": "u1"},
         "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [
             {"name": "backup", "image": "b:1", "resources": {"requests": {"cpu": "1"}}}]}}}}},
         "status": {"active": [{"name": "nightly-1"}]}},
        wire.Workload,
    )  # fmt: skip
    r = WorkloadRecord(cj, "CronJob", Shared())
    assert [(x.name, x.resources.requests) for x in r.containers] == [("backup", {"cpu": "1"})]
    assert r.ready == "1 active"


def test_nodes_share_their_capacity_and_drop_heartbeats() -> None:
    shared = Shared()
    kept = []
    for i in range(3):
        n = node(f"n{i}")
        n.status.conditions[0].last_heartbeat_time = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        n.status.conditions[0].message = " ".join(["kubelet", "is", "ready"])  # a string of its own
        kept.append(slim(n, shared))
    assert kept[0].status.allocatable is kept[2].status.allocatable
    assert kept[0].status.allocatable == {"cpu": "4", "memory": "16Gi", "pods": "110"}
    c0, c2 = kept[0].status.conditions[0], kept[2].status.conditions[0]
    assert c0.message is c2.message and c0.last_heartbeat_time is None
    assert (c0.type, c0.status) == ("Ready", "True")


@pytest.mark.parametrize("n", [100, 1000])
def test_records_do_not_grow_with_updates(n: int) -> None:
    """A pod updated again and again (status changes) keeps one record and bounded history."""
    c = Cluster(clock=iter(range(10**6)).__next__)
    c.pods.replace_begin()
    c.pods.upsert(pod("ns", "p"))
    c.pods.replace_end()
    for i in range(n):
        c.pods.upsert(pod("ns", "p", phase="Running" if i % 2 else "Pending"))
    (rec,) = c.pods.values()
    assert rec.changes is not None and len(rec.changes) <= 32
