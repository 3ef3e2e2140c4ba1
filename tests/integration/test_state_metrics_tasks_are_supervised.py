"""Every background task of state-metrics is supervised: killed, it makes /readyz fail naming it;
restarted, it does its job again and /readyz recovers. Automatic sharding logs on change only."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.sim.process import SimulatorProcess
from kubescope.state import command
from kubescope.state import flags as state_flags
from kubescope.state import settings as st
from kubescope.state.app import StateExporter
from kubescope.state.custom import load_config
from tests.simfixtures import simulator

CRS = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: example.com, version: v1, kind: Widget}
      metrics:
        - name: replicas
          help: desired replicas
          each: {type: Gauge, gauge: {path: [spec, replicas]}}
"""


sim = simulator(nodes=1, pods_per_node=2, seed=3, kubelets=False)


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    state_flags.configure(p)
    return p.parse_args(
        ["--host=127.0.0.1", "--port=0", "--telemetry-host=127.0.0.1", "--telemetry-port=0", *argv]
    )


@pytest.fixture
async def running(sim: SimulatorProcess, tmp_path: Path) -> AsyncIterator[tuple[StateExporter, KubeClient]]:
    config = tmp_path / "config.yaml"
    config.write_text("resources: {configmaps: {}, nodes: {}}\n")
    crs = tmp_path / "crs.yaml"
    crs.write_text(CRS)
    args = parse(f"--config={config}", f"--custom-resource-state-config-file={crs}")
    settings = st.from_args(args, state_flags.load_config_file(str(config)))
    client = await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig))
    cfg, data = load_config(settings)
    exporter = StateExporter(settings, client, crs_config=cfg, crs_config_bytes=data)
    await exporter.start()
    for task in command.command_tasks(args, client, exporter, None, time.monotonic()):
        exporter.server.supervisor.start(task)
    try:
        yield exporter, client
    finally:
        await exporter.stop()
        await client.close()
        gc.collect()  # a transport left open shows here, in this test, not in a later one


async def readyz(exporter: StateExporter, path: str = "/readyz?verbose") -> tuple[int, str]:
    url = f"http://127.0.0.1:{exporter.ports[1]}{path}"

    def get() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.read().decode()

    return await asyncio.to_thread(get)


async def eventually(cond: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await cond():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_each_task_killed_fails_readiness_then_restarts(
    running: tuple[StateExporter, KubeClient],
) -> None:
    exporter, client = running

    async def ready() -> bool:
        return (await readyz(exporter, "/readyz"))[0] == 200

    await eventually(ready, "initial sync")
    sup = exporter.server.supervisor

    async def oneshots_done() -> bool:  # the sync report and the readiness announcement end by themselves
        return not {"report-sync", "announce-ready"} & set(sup.states)

    await eventually(oneshots_done, "one-shot tasks finished")
    names = sorted(sup.states)
    assert names == [
        "config-watch",
        "crs-config-watch",
        "crs-discovery",
        "discovery",
        "flusher",
        "reflector/configmaps",
        "reflector/customresourcedefinitions",
        "reflector/nodes",
    ]
    for name in names:
        lists_before = _lists(exporter, name)
        sup.kill(name, RuntimeError(f"{name} crashed"), hold=True)
        code, body = await readyz(exporter)
        assert code == 503 and f"[-]task/{name} failed: reason withheld\n" in body, (name, body)
        code, body = await readyz(exporter, f"/readyz/task/{name}")
        assert code == 503 and f"RuntimeError: {name} crashed" in body
        sup.restart_now(name)
        await eventually(ready, f"{name} restarted")
        assert sup.states[name].restarts == 1
        if lists_before is not None:  # a restarted reflector lists again
            await eventually(lambda n=name, b=lists_before: _above(exporter, n, b), f"{name} relisted")
    # the restarted reflector follows changes again
    body = {"metadata": {"name": "after-restart", "namespace": "default"}, "data": {"a": "b"}}
    await client.request("POST", "/api/v1/namespaces/default/configmaps", body=body)

    async def served() -> bool:
        text = await asyncio.to_thread(_scrape, exporter)
        return 'configmap="after-restart"' in text

    await eventually(served, "a configmap created after the restart is served")


def _lists(exporter: StateExporter, task: str) -> int | None:
    if not task.startswith("reflector/"):
        return None
    resource = task.split("/")[1]
    refl = (
        exporter.custom.reflector
        if resource == "customresourcedefinitions"
        else exporter.runtimes[resource].reflectors[0]
    )
    return int(refl.stats.syncs)


async def _above(exporter: StateExporter, task: str, before: int) -> bool:
    return (_lists(exporter, task) or 0) > before


def _scrape(exporter: StateExporter) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{exporter.ports[0]}/metrics", timeout=10) as r:
        return str(r.read().decode())


async def test_automatic_sharding_logs_on_change_only(
    sim: SimulatorProcess, caplog: pytest.LogCaptureFixture
) -> None:
    client = await KubeClient.connect(KubeSettings(kubeconfig=sim.kubeconfig))
    sts: dict[str, Any] = {
        "metadata": {"name": "ksm", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "ksm"}},
            "serviceName": "ksm",
            "template": {
                "metadata": {"labels": {"app": "ksm"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    await client.request("POST", "/apis/apps/v1/namespaces/default/statefulsets", body=sts)
    created = await client.get("/apis/apps/v1/namespaces/default/statefulsets/ksm")
    uid = json.loads(created)["metadata"]["uid"]
    pod = {
        "metadata": {
            "name": "ksm-1",
            "namespace": "default",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": "ksm",
                    "uid": uid,
                    "controller": True,
                }
            ],
        },
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }
    await client.request("POST", "/api/v1/namespaces/default/pods", body=pod)
    settings = st.from_args(parse("--resources=configmaps", "--pod=ksm-1", "--pod-namespace=default"))
    settings = st.replace(settings, shard=1, total_shards=2)
    exporter = StateExporter(settings, client)
    await exporter.start()
    caplog.set_level(logging.INFO, "kubescope.state")
    follow = asyncio.create_task(command._follow_statefulset(client, exporter, interval=0.02))
    try:
        await asyncio.sleep(0.3)  # a dozen polls, nothing changed
        assert [r.getMessage() for r in caplog.records if "shard" in r.getMessage()] == []
        patch = {"spec": {"replicas": 3}}
        await client.request(
            "PATCH",
            "/apis/apps/v1/namespaces/default/statefulsets/ksm",
            body=patch,
            content_type="application/merge-patch+json",
        )

        async def resharded() -> bool:
            return exporter.settings.total_shards == 3

        await eventually(resharded, "the new replica count applied")
        await asyncio.sleep(0.3)
        changes = [r for r in caplog.records if r.getMessage() == "automatic sharding changed"]
        assert len(changes) == 1 and changes[0].fields["total_shards"] == 3  # type: ignore[attr-defined]
    finally:
        follow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follow
        await exporter.stop()
        await client.close()
        gc.collect()
