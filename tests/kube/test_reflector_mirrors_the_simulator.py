"""End to end against ``kubescope simulate`` (a subprocess, TLS, tokens): the reflector's mirror is
exactly the server's state after thousands of changes under dropped watches, forced 410s,
malformed events and injected 5xx/429; selectors, bookmarks, and the simulator's own credentials
(kubeconfig, in-cluster service account, client certificate) work.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kubescope.errors import KubeError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import Connection, KubeSettings
from kubescope.kube.reflector import Reflector
from kubescope.kube.retry import RetryPolicy
from kubescope.kube.sink import list_objects
from kubescope.sim.process import SimulatorProcess
from tests.kube.certs import CA
from tests.kube.conftest import FAST, Recorder, until
from tests.kube.fakeapi import Pod
from tests.simfixtures import CLEAN_ENV, connect, sim_client, simulator

pytestmark = pytest.mark.slow

OPTIONS = replace(FAST, page_size=7, retry=RetryPolicy(initial=0.02, maximum=0.2, jitter=0.5))


# a short watch history, so resuming after a long enough gap meets a genuine 410
sim = simulator(nodes=4, pods_per_node=10, kubelets=False, bookmark_interval=0.3, watch_history=400)
client = sim_client(reset_faults=True)


class Journal(Recorder):
    """Also tells list items from watch events."""

    def __init__(self) -> None:
        super().__init__()
        self.listing = False
        self.events: list[tuple[str, str, str]] = []
        self.ends = 0

    def replace_begin(self) -> None:
        self.listing = True
        super().replace_begin()

    def replace_end(self) -> None:
        self.listing = False
        self.ends += 1
        super().replace_end()

    def upsert(self, obj: Any) -> None:
        if not self.listing:
            self.events.append(("upsert", obj.metadata.uid, obj.metadata.resource_version))
        super().upsert(obj)

    def delete(self, obj: Any) -> None:
        self.events.append(("delete", obj.metadata.uid, obj.metadata.resource_version))
        super().delete(obj)


def new_pod(name: str, node: str, rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"churn": "yes", "v": str(rng.randrange(1000))},
        },
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "registry.example.com/app:1"}]},
    }


async def churn(
    client: KubeClient,
    worker: int,
    ops: int,
    nodes: list[str],
    done: Counter[str],
    faults_done: asyncio.Event,
) -> None:
    """Create, relabel and delete this worker's own pods; failed (injected) requests are retried.
    Goes on past ``ops`` until the fault script has run through once."""
    rng = random.Random(worker)
    live: list[str] = []
    seq = 0
    base = "/api/v1/namespaces/default/pods"
    while done[f"w{worker}"] < ops or not faults_done.is_set():
        r = rng.random()
        try:
            if not live or (r < 0.4 and len(live) < 30):
                name = f"churn-{worker}-{seq}"
                seq += 1
                await client.request("POST", base, None, new_pod(name, rng.choice(nodes), rng))
                live.append(name)
            elif r < 0.8:
                patch = {"metadata": {"labels": {"v": str(rng.randrange(1000))}}}
                await client.request(
                    "PATCH",
                    f"{base}/{rng.choice(live)}",
                    None,
                    patch,
                    content_type="application/merge-patch+json",
                )
            else:
                name = live.pop(rng.randrange(len(live)))
                try:
                    await client.request("DELETE", f"{base}/{name}")
                except KubeError:
                    live.append(name)
                    raise
        except KubeError:
            done["failed"] += 1
            await asyncio.sleep(0.01)
            continue
        done[f"w{worker}"] += 1


def fault_script(gone: int = 1) -> list[dict[str, Any]]:
    """Every fault the simulator offers, dropping the watches with the error faults so that the
    reconnects meet them; ``gone``: how many watches get a forced 410 per round."""
    return [
        {"drop_watches": True},
        {"gone_next_watches": gone, "drop_watches": True},
        {"malformed_event": True},
        {"error_fraction": 1.0, "error_code": 503, "drop_watches": True},
        {"reset": True},
        {"error_fraction": 0.3, "error_code": 429, "retry_after": 1, "drop_watches": True},
        {"reset": True},
        {"error_fraction": 1.0, "error_code": 500, "drop_watches": True},
        {"reset": True},
    ]


async def faults(
    sim: SimulatorProcess,
    stop: asyncio.Event,
    cycled: asyncio.Event,
    script: list[dict[str, Any]] | None = None,
) -> Counter[str]:
    """Cycle through ``script`` (default: :func:`fault_script`) while the churn runs; ``cycled``
    is set once it has run through."""
    script = script or fault_script()
    used: Counter[str] = Counter()
    i = 0
    while not stop.is_set():
        step = script[i % len(script)]
        await asyncio.to_thread(sim.faults, **step)
        used.update(step)
        i += 1
        if i == len(script):
            cycled.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.15)
    await asyncio.to_thread(sim.faults, reset=True)
    return used


async def wait_equal(
    client: KubeClient,
    sink: Recorder,
    params: dict[str, str] | None = None,
    path: str = "/api/v1/pods",
    item_type: type[Any] = Pod,
) -> list[Any]:
    """Poll a fresh LIST until the mirror equals it (the reflector trails by milliseconds; the
    deadline is only how long a loaded machine may make it trail)."""
    deadline = time.monotonic() + 60
    while True:
        items, _ = await list_objects(client, path, item_type, params=params)
        truth = {p.metadata.uid: p for p in items}
        if sink.objects == truth:
            return items
        if time.monotonic() > deadline:
            missing = set(truth) - set(sink.objects)
            extra = set(sink.objects) - set(truth)
            stale = [u for u in truth if u in sink.objects and sink.objects[u] != truth[u]]
            raise AssertionError(
                f"{path}: mirror differs: missing={len(missing)} extra={len(extra)} stale={len(stale)}"
            )
        await asyncio.sleep(0.1)


async def test_mirror_equals_the_server_after_churn_and_faults(
    sim: SimulatorProcess, client: KubeClient
) -> None:
    nodes = [
        n["metadata"]["name"] for n in (await asyncio.to_thread(sim.request, "GET", "/api/v1/nodes"))["items"]
    ]
    sink = Journal()
    synced: list[int] = []
    refl: Reflector[Pod] = Reflector(
        client,
        api_path="/api/v1",
        resource="pods",
        item_type=Pod,
        sink=sink,
        options=OPTIONS,
        on_synced=synced.append,
    )
    task = asyncio.get_running_loop().create_task(refl.run())
    churner = await connect(sim)
    try:
        await asyncio.wait_for(refl.synced.wait(), 60)
        done: Counter[str] = Counter()
        stop, cycled = asyncio.Event(), asyncio.Event()
        fault_task = asyncio.get_running_loop().create_task(faults(sim, stop, cycled))
        await asyncio.gather(*(churn(churner, w, 400, nodes, done, cycled) for w in range(6)))
        stop.set()
        used = await fault_task
        await wait_equal(client, sink)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await churner.close()

    st = refl.stats
    assert sum(v for k, v in done.items() if k.startswith("w")) >= 2400
    assert used["drop_watches"] >= 2 and used["gone_next_watches"] >= 1 and used["malformed_event"] >= 1
    # the faults really happened, and were survived
    assert st.relists >= 1 and st.gone >= 1 and st.decode_errors >= 1
    assert st.watches_error >= 1 and done["failed"] >= 1
    # dropped watches, 5xx and 429 resumed from the resourceVersion: only a 410 (forced, or genuine
    # when the reflector fell more than the history behind) relisted; how many changes a relist
    # folded into a list depends on the machine's speed, so it is not counted
    assert st.relists <= st.gone and st.added >= 1 and st.modified >= 1 and st.deleted >= 1
    # nothing applied twice, nothing applied out of order
    assert not [e for e, n in Counter(sink.events).items() if n > 1]
    by_uid: dict[str, list[int]] = {}
    for op, uid, rv in sink.calls:
        if op in ("upsert", "delete"):
            by_uid.setdefault(uid, []).append(int(rv))
    assert all(seq == sorted(seq) for seq in by_uid.values())
    # one synced signal per complete (re)list
    assert synced == list(range(1, st.syncs + 1)) and st.syncs == 1 + st.relists == sink.ends


async def test_selectors_filter_lists_and_watches(sim: SimulatorProcess, client: KubeClient) -> None:
    nodes = [
        n["metadata"]["name"] for n in (await asyncio.to_thread(sim.request, "GET", "/api/v1/nodes"))["items"]
    ]
    node = nodes[-1]
    on_node, not_system = Recorder(), Recorder()
    refls: list[Reflector[Pod]] = [
        Reflector(
            client,
            api_path="/api/v1",
            resource="pods",
            item_type=Pod,
            sink=on_node,
            field_selector=f"spec.nodeName={node}",
            options=OPTIONS,
        ),
        Reflector(
            client,
            api_path="/api/v1",
            resource="pods",
            item_type=Pod,
            sink=not_system,
            field_selector="metadata.namespace!=kube-system",
            options=OPTIONS,
        ),
    ]
    tasks = [asyncio.get_running_loop().create_task(r.run()) for r in refls]
    try:
        for r in refls:
            await asyncio.wait_for(r.synced.wait(), 60)
        rng = random.Random(7)
        await client.request("POST", "/api/v1/namespaces/default/pods", None, new_pod("sel-a", node, rng))
        await client.request("POST", "/api/v1/namespaces/default/pods", None, new_pod("sel-b", nodes[0], rng))
        items = await wait_equal(client, on_node, {"fieldSelector": f"spec.nodeName={node}"})
        assert items and {p.spec.node_name for p in items} == {node}
        assert "sel-a" in {p.metadata.name for p in on_node.objects.values()}
        items = await wait_equal(client, not_system, {"fieldSelector": "metadata.namespace!=kube-system"})
        assert items and "kube-system" not in {p.metadata.namespace for p in items}
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for name in ("sel-a", "sel-b"):
            await client.request("DELETE", f"/api/v1/namespaces/default/pods/{name}")


async def test_bookmarks_move_a_quiet_watch_forward(sim: SimulatorProcess, client: KubeClient) -> None:
    sink = Recorder()
    refl: Reflector[Pod] = Reflector(
        client,
        api_path="/api/v1",
        resource="pods",
        item_type=Pod,
        sink=sink,
        namespace="kube-system",
        options=OPTIONS,
    )
    task = asyncio.get_running_loop().create_task(refl.run())
    try:
        await asyncio.wait_for(refl.synced.wait(), 60)
        listed_rv = int(refl.resource_version)
        # changes elsewhere advance the server's resourceVersion; only bookmarks carry it here
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bump", "namespace": "default"}}
        await client.request("POST", "/api/v1/namespaces/default/configmaps", None, body)
        server_rv = int((await asyncio.to_thread(sim.stats))["resourceVersion"])
        await until(lambda: int(refl.resource_version) >= server_rv, what="bookmark")
        assert int(refl.resource_version) > listed_rv and refl.stats.bookmarks >= 1
        assert refl.stats.added + refl.stats.modified + refl.stats.deleted == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.request("DELETE", "/api/v1/namespaces/default/configmaps/bump")


async def test_inactivity_timeout_reconnects_without_bookmarks() -> None:
    with SimulatorProcess(nodes=1, pods_per_node=3, kubelets=False, bookmark_interval=3600) as quiet:
        async with await connect(quiet) as c:
            refl: Reflector[Pod] = Reflector(
                c,
                api_path="/api/v1",
                resource="pods",
                item_type=Pod,
                sink=Recorder(),
                options=replace(OPTIONS, inactivity_timeout=0.4),
            )
            task = asyncio.get_running_loop().create_task(refl.run())
            try:
                await until(lambda: refl.stats.inactivity_timeouts >= 2, what="inactivity reconnects")
                assert refl.stats.relists == 0 and refl.stats.syncs == 1
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def test_the_simulators_credentials_in_every_form(sim: SimulatorProcess, tmp_path: Path) -> None:
    pki = Path(sim.ca_file).parent
    ca_pem = await asyncio.to_thread(Path(sim.ca_file).read_text)
    # a service account directory, as the kubelet mounts it
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(sim.token + "\n")
    (sa / "ca.crt").write_text(ca_pem)
    env = {**CLEAN_ENV, "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(sim.port)}
    async with await KubeClient.connect(KubeSettings(service_account_dir=str(sa)), environ=env) as c:
        items, _ = await list_objects(c, "/api/v1/pods", Pod)
        assert len(items) >= 40
    # a client certificate from the simulator's CA
    ca = CA.load((pki / "ca.crt").read_bytes(), (pki / "ca.key").read_bytes())
    admin = ca.issue("cert-admin", org="system:masters", client=True)
    conn = Connection(
        server=sim.url, ca_pem=ca_pem, client_cert_pem=admin.cert_pem, client_key_pem=admin.key_pem
    )
    async with KubeClient.from_connection(conn) as c:
        items, _ = await list_objects(c, "/api/v1/nodes", Pod)
        assert len(items) == 4
