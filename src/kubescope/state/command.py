"""``kubescope state-metrics``: flags -> settings -> a running :class:`StateExporter`.

Besides start-up and shutdown this module watches the ``--config`` file (applied again when it
changes, keeping every store the change does not affect) and, with ``--pod``/``--pod-namespace``,
follows the owning StatefulSet's replicas for automatic sharding, as kube-state-metrics does.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from kubescope.errors import ConfigError, KubeError
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings
from kubescope.log import fields
from kubescope.memory import fix_mmap_threshold
from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state import custom
from kubescope.state import flags as state_flags
from kubescope.state import settings as st
from kubescope.state.app import StateExporter
from kubescope.state.selfmetrics import ConfigState
from kubescope.web import Task
from kubescope.web import run as run_loop

logger = logging.getLogger(__name__)
progress = logging.getLogger("kubescope.progress")

CONFIG_POLL_SECONDS = 2.0


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Watch Kubernetes objects and serve their state as Prometheus metrics, output-compatible with "
        "kube-state-metrics v2.20 (same families, labels, values and flags)."
    )
    state_flags.configure(p)


def run(args: argparse.Namespace) -> int:
    fix_mmap_threshold()  # before the first large buffer: see its docstring
    return run_loop(_main(args))


def _initial_settings(args: argparse.Namespace) -> tuple[st.StateSettings, ConfigState | None]:
    cfg_state = None
    overrides: dict[str, Any] = {}
    if args.config:
        cfg_state = ConfigState("config", str(Path(args.config)))
        path = Path(args.config)
        if path.exists():
            overrides = state_flags.load_config_file(args.config)
            cfg_state.loaded(path.read_bytes())
        elif not args.continue_without_config:
            raise ConfigError(
                f"--config={args.config}: file not found; create it or pass --continue-without-config "
                "to start without it and apply it when it appears"
            )
    return st.from_args(args, overrides), cfg_state


async def _main(args: argparse.Namespace) -> int:
    try:
        settings, cfg_state = _initial_settings(args)
        kube = KubeSettings.from_args(args)
    except ConfigError as e:
        print(f"kubescope state-metrics: {e}", file=sys.stderr)
        return 2
    try:
        crs_config, crs_bytes = custom.load_config(settings)
    except ConfigError as e:
        print(f"kubescope state-metrics: {e}", file=sys.stderr)
        return 2
    if crs_config is not None:
        custom.log_warnings(crs_config)
    if args.print_rbac:
        from kubescope.state.rbac import cluster_role_yaml

        sys.stdout.write(
            cluster_role_yaml(settings.resources, auth_filter=settings.auth_filter, custom=crs_config)
        )
        return 0
    try:
        client = await KubeClient.connect(kube)
    except (ConfigError, KubeError) as e:
        print(f"kubescope state-metrics: cannot reach the Kubernetes API: {e}", file=sys.stderr)
        return 1
    exporter: StateExporter | None = None
    try:
        if settings.pod:
            shard, total = await _auto_shard(client, settings.pod, settings.pod_namespace)
            logger.warning(
                "automatic sharding", extra=fields(pod=settings.pod, shard=shard, total_shards=total)
            )
            settings = st.replace(settings, shard=shard, total_shards=total)
        try:
            authorizer = None
            if settings.auth_filter:
                from kubescope.state.authfilter import MetricsAuthFilter

                authorizer = MetricsAuthFilter(client)
            exporter = StateExporter(
                settings,
                client,
                authorizer=authorizer,
                crs_config=crs_config,
                crs_config_bytes=crs_bytes,
            )
        except ConfigError as e:
            print(f"kubescope state-metrics: {e}", file=sys.stderr)
            return 2
        if cfg_state is not None:
            exporter.configs.append(cfg_state)
        t0 = time.monotonic()
        await exporter.start()
        for task in command_tasks(args, client, exporter, cfg_state, t0):
            exporter.server.supervisor.start(task)
        return await exporter.server.serve()
    finally:
        if exporter is not None:
            await exporter.stop()
        await client.close()


def command_tasks(
    args: argparse.Namespace,
    client: KubeClient,
    exporter: StateExporter,
    cfg_state: ConfigState | None,
    t0: float,
) -> list[Task]:
    """The supervised tasks the command adds to the exporter's: the initial-sync report, following
    ``--config`` and, with ``--pod``, the owning StatefulSet's replicas."""
    tasks = [Task("report-sync", lambda: _report_sync(exporter, t0), oneshot=True)]
    if args.config:
        tasks.append(Task("config-watch", lambda: _watch_config(args, exporter, cfg_state)))
    if exporter.settings.pod:
        tasks.append(Task("sharding", lambda: _follow_statefulset(client, exporter)))
    return tasks


async def _report_sync(exporter: StateExporter, t0: float) -> None:
    """Progress of the initial sync: one line per synced resource, then a summary."""
    pending = set(exporter.runtimes)
    while pending:
        for name in sorted(pending):
            rt = exporter.runtimes.get(name)
            if rt is None:
                pending.discard(name)
            elif rt.synced():
                pending.discard(name)
                progress.info("synced", extra=fields(resource=name, objects=sum(len(s) for s in rt.stores)))
            elif rt.settled():
                pending.discard(name)
                progress.info("not listed", extra=fields(resource=name, reason=",".join(rt.unavailable())))
        await asyncio.sleep(0.2)
    total = sum(len(s) for rt in exporter.runtimes.values() for s in rt.stores)
    progress.info(
        "initial sync complete",
        extra=fields(
            resources=len(exporter.runtimes), objects=total, seconds=round(time.monotonic() - t0, 2)
        ),
    )


async def _watch_config(args: argparse.Namespace, exporter: StateExporter, state: ConfigState | None) -> None:
    """Poll ``--config``; on a change, validate and apply it (a bad file keeps the running config)."""
    path = Path(args.config)
    last = _read(path)
    while True:
        await asyncio.sleep(CONFIG_POLL_SECONDS)
        data = _read(path)
        if data == last or data is None:
            continue
        last = data
        try:
            new = st.from_args(args, state_flags.load_config_file(args.config))
            if exporter.settings.pod:
                new = st.replace(
                    new, shard=exporter.settings.shard, total_shards=exporter.settings.total_shards
                )
        except ConfigError as e:
            logger.error(
                "config file rejected, keeping the running configuration", extra=fields(error=str(e))
            )
            if state is not None:
                state.failed()
            continue
        changed_listen = (new.host, new.port, new.telemetry_host, new.telemetry_port, new.tls_config) != (
            exporter.settings.host,
            exporter.settings.port,
            exporter.settings.telemetry_host,
            exporter.settings.telemetry_port,
            exporter.settings.tls_config,
        )
        if changed_listen:
            logger.warning("listener settings in --config changed; they take effect after a restart")
            new = st.replace(
                new,
                host=exporter.settings.host,
                port=exporter.settings.port,
                telemetry_host=exporter.settings.telemetry_host,
                telemetry_port=exporter.settings.telemetry_port,
                tls_config=exporter.settings.tls_config,
            )
        await exporter.apply_settings(new)
        if state is not None:
            state.loaded(data)
        logger.warning("config file applied", extra=fields(file=args.config, resources=len(new.resources)))


def _read(path: Path) -> bytes | None:
    # a few bytes of local file every 2 s: not worth a thread
    try:
        return path.read_bytes()
    except OSError:
        return None


class _Pod(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class _StatefulSetSpec(Wire):
    replicas: int | None = None


class _StatefulSet(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: _StatefulSetSpec = msgspec.field(default_factory=_StatefulSetSpec)


async def _owner_statefulset(client: KubeClient, pod: str, namespace: str) -> _StatefulSet:
    p = msgspec.json.decode(await client.get(f"/api/v1/namespaces/{namespace}/pods/{pod}"), type=_Pod)
    owner = next(
        (o for o in p.metadata.owner_references if o.kind == "StatefulSet" and o.controller),
        None,
    )
    if owner is None:
        raise ConfigError(
            f"--pod={namespace}/{pod}: the pod is not controlled by a StatefulSet; automatic sharding needs "
            "kubescope to run as a StatefulSet (or use --shard/--total-shards)"
        )
    body = await client.get(f"/apis/apps/v1/namespaces/{namespace}/statefulsets/{owner.name}")
    return msgspec.json.decode(body, type=_StatefulSet)


def _ordinal(pod: str) -> int:
    suffix = pod.rsplit("-", 1)[-1]
    if not suffix.isdigit():
        raise ConfigError(f"--pod={pod}: cannot read a StatefulSet ordinal from the pod name")
    return int(suffix)


async def _auto_shard(client: KubeClient, pod: str, namespace: str) -> tuple[int, int]:
    sts = await _owner_statefulset(client, pod, namespace)
    total = sts.spec.replicas if sts.spec.replicas is not None else 1
    return _ordinal(pod), total


async def _follow_statefulset(client: KubeClient, exporter: StateExporter, interval: float = 5.0) -> None:
    """Re-shard when the owning StatefulSet's replicas change (polled; KSM watches it). Logs when
    the sharding changes or reading the StatefulSet starts or stops failing, not every poll."""
    failing = ""
    while True:
        await asyncio.sleep(interval)
        s = exporter.settings
        try:
            shard, total = await _auto_shard(client, s.pod, s.pod_namespace)
        except (KubeError, ConfigError) as e:
            if str(e) != failing:
                logger.warning(
                    "cannot read the StatefulSet for automatic sharding", extra=fields(error=str(e))
                )
            failing = str(e)
            continue
        if failing:
            logger.warning("reading the StatefulSet for automatic sharding works again")
            failing = ""
        if (shard, total) != (s.shard, s.total_shards):
            logger.warning(
                "automatic sharding changed",
                extra=fields(pod=s.pod, shard=shard, total_shards=total, was=f"{s.shard}/{s.total_shards}"),
            )
            await exporter.apply_settings(st.replace(s, shard=shard, total_shards=total))
