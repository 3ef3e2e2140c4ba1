"""The simulator process: settings, start-up (cluster generation and loading, PKI, kubeconfig),
the API listener, background loops (APIService availability, churn, kubelets) and shutdown.

Serving is the web core's (:class:`kubescope.web.Server`): the API listener (``--port``, TLS from
the cluster PKI, kube-style ``/healthz``, ``/livez``, ``/readyz``), the supervised APIService
availability loop, self metrics (behind the API's authorization on ``/metrics``) and one graceful
shutdown, in which open watches are closed before in-flight requests drain. Parts that serve HTTP
themselves run their listeners on the same core (:meth:`Simulator.serve_listener`).

Plug-in parts (``kubescope.sim.kubelet.serving``, ``kubescope.sim.live`` and ``kubescope.sim.appmetrics``)
are imported when present and wanted (kubelets unless ``--no-kubelets`` and the cluster has nodes;
the live cluster, control plane and churn, when ``--churn-rate`` > 0 or ``--controllers``;
application metrics always). Each module provides::

    async def start_for_simulator(sim: Simulator) -> Callable[[], Awaitable[None]] | None

called once the API serves; the returned coroutine function is awaited at shutdown. What a part
may use: ``sim.store`` (:class:`~kubescope.sim.store.ObjectStore`, its documented interface),
``sim.settings`` (seed, nodes, pods_per_node, churn_rate, kubelet_housekeeping),
``sim.faults`` (:class:`~kubescope.sim.faults.Faults`: the ``kubelet_*`` fields are the kubelets'
to honour), ``sim.pki`` (None with ``--insecure-http``; else ``sim.pki.ca.issue(...)`` signs
kubelet serving certificates and ``sim.pki.ca.pem`` verifies the API server's
``kube-apiserver-kubelet-client`` certificate), ``sim.auth.authenticate_token`` (bearer tokens),
``sim.api.add_control(name, fn)`` to expose ``GET /_sim/<name>`` (admin only), and
``await sim.serve_listener(web.Listener(...))`` to serve HTTP of their own on the web core (stopped
with the simulator). Kubelets make
the node proxy work by listening on loopback and writing their address and port into the node's
``status.addresses`` (InternalIP) and ``status.daemonEndpoints.kubeletEndpoint.Port``; the node proxy
speaks HTTPS to them when the simulator runs TLS, plain HTTP with ``--insecure-http``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import importlib
import importlib.util
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web as aioweb

from kubescope import web
from kubescope.log import fields
from kubescope.sim import features
from kubescope.sim.api import SimAPI
from kubescope.sim.auth import AuthConfig
from kubescope.sim.defaults import apply_defaults
from kubescope.sim.errors import SimError
from kubescope.sim.faults import Faults
from kubescope.sim.kubelet.plan import Plan as KubeletPlan
from kubescope.sim.kubelet.plan import plan as kubelet_plan
from kubescope.sim.pki import ClusterPKI
from kubescope.sim.scenario import ScenarioConfig, generate
from kubescope.sim.store import ObjectStore
from kubescope.web.listeners import bind_sockets

logger = logging.getLogger(__name__)
progress = logging.getLogger("kubescope.progress")


@dataclass(frozen=True)
class SimSettings:
    """Everything ``kubescope simulate`` runs with (its flags, docs/simulate.md)."""

    nodes: int = 20
    """``--nodes``: simulated nodes; default 20, a small cluster that starts in about a second."""
    pods_per_node: int = 15
    """``--pods-per-node``: pods per node on average; default 15 (real clusters run 10-30)."""
    seed: int = 1
    """``--seed``: seed of the generated cluster and of the churn; default 1. The same seed gives the
    same objects, so tests and benchmarks compare like with like."""
    churn_rate: float = 0.0
    """``--churn-rate``: writes per second the churn makes (its changes and the controllers' and
    kubelets' reactions), each one watch event; default 0, a still cluster."""
    churn_mix: str = "realistic"
    """``--churn-mix``: ``realistic``, changes at real clusters' rates per object; ``lively``, fixed
    shares, every kind often (see :mod:`kubescope.sim.churn.world`)."""
    controllers: bool = False
    """``--controllers``: run the control plane (controllers, the kubelets' API side) without churn;
    churn runs it anyway; default off, a still cluster."""
    hpa_sync_period: float = 15.0
    """``--hpa-sync-period``: seconds between the HPA controller's syncs of an HPA."""
    event_ttl: float = 3600.0
    """``--event-ttl``: seconds an Event lasts after its last write (while the control plane runs)."""
    host: str = "127.0.0.1"
    """``--host``: listen address; default loopback, since the simulator hands out admin tokens."""
    port: int = 6443
    """``--port``: listen port, kube-apiserver's by default; 0 picks a free one (tests)."""
    tls: bool = True
    """Serve HTTPS with a generated CA, as kube-apiserver; ``--insecure-http`` turns it off."""
    write_kubeconfig: str = ""
    """``--write-kubeconfig``: write a kubeconfig for the simulator here; default empty, none."""
    ready_file: str = ""
    """``--ready-file``: once serving, write JSON with url, port, kubeconfig, token and CA file here,
    for scripts and tests to wait on; default empty, none."""
    state_dir: str = ""
    """``--state-dir``: directory for certificates and the kubeconfig; default empty, a new
    temporary directory, removed when the simulator stops."""
    bookmark_interval: float = 60.0
    """``--bookmark-interval``: seconds between BOOKMARK events on watches that allow them; default
    60, kube-apiserver's."""
    watch_history: int = 100_000
    """``--watch-history``: events kept for watches to resume from; older resourceVersions get
    410 Gone, as from kube-apiserver's watch cache; default 100,000."""
    auth_file: str = ""
    """``--auth-file``: YAML with extra tokens (users, groups) and authorization rules; default
    empty, only the admin token."""
    admin_token: str = ""
    """``--admin-token``: the admin bearer token; default empty, a generated one."""
    kubelets: bool = True
    """Run the simulated kubelets (``/metrics/resource`` per node); ``--no-kubelets`` turns them off."""
    kubelet_housekeeping: float = 10.0
    """``--kubelet-housekeeping``: seconds between the kubelets' stats collections, as cAdvisor's
    housekeeping; default 10, at least 0.05."""
    faults: dict[str, Any] = field(default_factory=dict)
    """``--fault NAME=VALUE``: injected faults at start (also settable live, ``POST /_sim/faults``);
    default none."""
    apiservice_check_interval: float = 2.0
    app_metrics_port: int = 0
    """Where :mod:`kubescope.sim.appmetrics` listens (0: a free port)."""
    """Seconds between checks of registered APIServices' availability (the aggregator's
    availability controller, which polls too); default 2."""
    feature_gates: dict[str, bool] = field(default_factory=dict)
    """``--feature-gates``: kube-apiserver feature gates set otherwise than their 1.36 default
    (:mod:`.features`); default none, WatchList on."""


def _no_new_cluster_ip() -> str:
    return "None"  # generated Services carry their cluster IPs; headless ones stay headless


def kubeconfig_doc(url: str, ca_pem: bytes | None, token: str) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubescope-sim", "cluster": cluster}],
        "users": [{"name": "kubescope-admin", "user": {"token": token}}],
        "contexts": [
            {
                "name": "kubescope-sim",
                "context": {"cluster": "kubescope-sim", "user": "kubescope-admin", "namespace": "default"},
            }
        ],
        "current-context": "kubescope-sim",
        "preferences": {},
    }


def _write_private(path: str, text: str) -> None:
    """Write ``path`` (mode 0600) whole or not at all: a reader polling for it (SimulatorProcess
    waits for the ready file) never sees it empty or half written."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Simulator:
    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir or tempfile.mkdtemp(prefix="kubescope-sim-"))
        # a directory of our own making goes when the simulator stops; one the user named stays
        self._owns_state_dir = not settings.state_dir
        self.store = ObjectStore(history=settings.watch_history)
        self.auth = AuthConfig.load(settings.auth_file, settings.admin_token)
        self.faults = Faults()
        if settings.faults:
            self.faults.update(settings.faults)
        # the serving certificate names loopback and the listen address (when it is a specific one)
        hosts = tuple(
            dict.fromkeys(
                ("127.0.0.1", "localhost", settings.host)
                if settings.host not in ("", "0.0.0.0", "::")
                else ("127.0.0.1", "localhost")
            )
        )
        try:
            self.pki = ClusterPKI.create(self.state_dir / "pki", hosts) if settings.tls else None
        except BaseException:
            self._remove_state_dir()
            raise
        self.server = web.Server(
            "simulate",
            listeners=[
                web.Listener(
                    "api",
                    host=settings.host,
                    port=settings.port,
                    port_flag="--port",
                    host_flag="--host",
                    tls=self.pki.server_context() if self.pki else None,
                    health=("healthz", "livez", "readyz"),
                    client_max_size=64 << 20,
                    setup=self._mount_api,
                )
            ],
            tasks=[web.Task("apiservice-availability", self._apiservice_loop)],
            collectors=[features.FeatureCollector(settings.feature_gates)],
            # open watches are closed first, so nothing long is in flight when requests drain
            drain_timeout=2.0,
            before_drain=[self._close_watches],
            on_stop=[self._stop_parts],
        )
        self.api = SimAPI(
            self.store,
            self.auth,
            self.faults,
            self.pki,
            bookmark_interval=settings.bookmark_interval,
            feature_gates=settings.feature_gates,
            metrics=self.server.metrics,
        )
        self.url = ""
        self.kubeconfig = settings.write_kubeconfig or str(self.state_dir / "kubeconfig")
        self._extra_stop: list[Callable[[], Awaitable[None]]] = []
        self._part_listeners: list[web.RunningListener] = []
        self.kubelet_plan: KubeletPlan | None = None

    # -- start-up ------------------------------------------------------------------------

    def load_cluster(self) -> int:
        s = self.settings
        t0 = time.monotonic()
        cfg = ScenarioConfig(seed=s.seed, nodes=s.nodes, pods_per_node=s.pods_per_node)
        if s.kubelets and s.nodes > 0:
            # where the kubelets will listen, decided now: the generated nodes and pods carry
            # those addresses, as real kubelets report them
            self.kubelet_plan = kubelet_plan(s.nodes)
            cfg = replace(cfg, node_ips=self.kubelet_plan.addresses(cfg.node_names()))
        total = 0
        batch: list[tuple[str, dict[str, Any]]] = []
        last_report = t0
        # --nodes=0: an empty cluster (the default namespaces and what tests create)
        for item in generate(cfg) if s.nodes > 0 else ():
            # what kube-apiserver would have defaulted (generated objects may leave pointers unset
            # that clients such as kubectl describe dereference)
            apply_defaults(item[0], item[1], _no_new_cluster_ip)
            batch.append(item)
            if len(batch) >= 5000:
                total += self.store.bulk_create(batch)
                batch.clear()
                if time.monotonic() - last_report > 2:
                    last_report = time.monotonic()
                    progress.info(
                        "loading the cluster", extra=fields(objects=total, pods=self.store.count("pods"))
                    )
        total += self.store.bulk_create(batch)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            if ("", ns) not in self.store.objects.get("namespaces", {}):
                self.store.create("namespaces", {"metadata": {"name": ns}, "status": {"phase": "Active"}})
        self._extension_apiserver_authentication()
        # the loaded store is long-lived: keep the cyclic GC from rescanning it on every collection
        gc.collect()
        gc.freeze()
        progress.info(
            "cluster loaded",
            extra=fields(
                objects=total,
                nodes=self.store.count("nodes"),
                pods=self.store.count("pods"),
                seconds=round(time.monotonic() - t0, 2),
            ),
        )
        return total

    def _extension_apiserver_authentication(self) -> None:
        """What kube-apiserver publishes for extension API servers (kube-system ConfigMap)."""
        if self.pki is None:
            return
        data = {
            "client-ca-file": self.pki.ca.pem.decode(),
            "requestheader-client-ca-file": self.pki.front_proxy_ca.pem.decode(),
            "requestheader-allowed-names": json.dumps(["front-proxy-client"]),
            "requestheader-username-headers": json.dumps(["X-Remote-User"]),
            "requestheader-group-headers": json.dumps(["X-Remote-Group"]),
            "requestheader-extra-headers-prefix": json.dumps(["X-Remote-Extra-"]),
            "requestheader-uid-headers": json.dumps(["X-Remote-Uid"]),
        }
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system"},
            "data": data,
        }
        try:
            self.store.create("configmaps", obj)
        except SimError:
            self.store.modify(
                "configmaps",
                "kube-system",
                "extension-apiserver-authentication",
                lambda o: o.update(data=data),
            )

    def _mount_api(self, app: aioweb.Application) -> None:
        """Every path the health endpoints do not take goes to the API (which authenticates)."""
        app.router.add_route("*", "/{tail:.*}", self.api.handle)

    async def start(self, announce: bool = True) -> None:
        """Bind the API's port (a taken one is a :class:`~kubescope.errors.BindError` naming
        ``--port``, before the cluster is generated), load the cluster, serve, start the parts;
        then :meth:`announce` it unless ``announce`` is false (``kubescope simulate`` announces
        once its signal handlers are installed)."""
        s = self.settings
        await self.server.bind()
        self.load_cluster()
        await self.server.start()
        port = self.server.port("api")
        scheme = "https" if self.pki else "http"
        self.url = f"{scheme}://{s.host}:{port}"
        self.api.server_address = f"{s.host}:{port}"
        await self._start_extras()
        _write_private(
            self.kubeconfig,
            yaml.safe_dump(
                kubeconfig_doc(self.url, self.pki.ca.pem if self.pki else None, self.auth.admin_token)
            ),
        )
        if announce:
            self.announce()

    def announce(self) -> None:
        """Tell that the simulator serves: the ready file (``--ready-file``) and a progress line."""
        s = self.settings
        if s.ready_file:
            _write_private(
                s.ready_file,
                json.dumps(
                    {
                        "url": self.url,
                        "port": self.server.port("api"),
                        "kubeconfig": self.kubeconfig,
                        "token": self.auth.admin_token,
                        "ca_file": self.pki.path("ca.crt") if self.pki else "",
                        "state_dir": str(self.state_dir),
                        "pid": os.getpid(),
                    }
                ),
            )
        progress.info("simulator serving", extra=fields(url=self.url, kubeconfig=self.kubeconfig))

    async def _start_extras(self) -> None:
        """Churn and simulated kubelets, when their modules are present."""
        s = self.settings
        wanted = []
        if s.kubelets and s.nodes:
            wanted.append("kubescope.sim.kubelet.serving")
        if s.churn_rate > 0 or s.controllers:
            wanted.append("kubescope.sim.live")
        wanted.append("kubescope.sim.appmetrics")  # pods of annotated Deployments serve app metrics
        for name in wanted:
            if importlib.util.find_spec(name) is None:
                logger.warning("simulator part not installed; running without it", extra=fields(module=name))
                continue
            # a part that is there but broken fails the start-up loudly
            mod = importlib.import_module(name)
            starter = getattr(mod, "start_for_simulator", None)
            if starter is None:
                logger.warning("simulator part has no start_for_simulator(sim)", extra=fields(module=name))
                continue
            stop = await starter(self)
            if stop is not None:
                self._extra_stop.append(stop)

    async def serve_listener(
        self, spec: web.Listener, sockets: list[socket.socket] | None = None
    ) -> web.RunningListener:
        """Serve a part's listener on the web core (bound now unless ``sockets`` are given, an empty
        list for one that adds its sockets as it goes: the kubelets); stopped with the simulator."""
        running = web.RunningListener(
            spec, sockets if sockets is not None else bind_sockets(spec.host, spec.port, spec.port_flag)
        )
        await running.serve(running.app(self.server.health, self.server.metrics, self.server.stats), 1.0)
        self._part_listeners.append(running)
        return running

    async def _apiservice_loop(self) -> None:
        """kube-aggregator's availability controller, supervised: a failing pass is logged, the
        loop goes on."""
        while True:
            try:
                await self.api.aggregator.check()
            except Exception as e:  # the loop must survive a broken backend
                logger.warning("apiservice availability check failed", extra=fields(error=repr(e)))
            await asyncio.sleep(self.settings.apiservice_check_interval)

    async def _close_watches(self) -> None:
        self.store.close_watchers("shutting down", for_good=True)
        for running in self._part_listeners:
            await running.stop_accepting()

    async def _stop_parts(self) -> None:
        for stop in reversed(self._extra_stop):
            with contextlib.suppress(Exception):
                await stop()
        for running in self._part_listeners:
            await running.drain()
        self._part_listeners.clear()
        try:
            await self.api.close()
        finally:
            self._remove_state_dir()

    def _remove_state_dir(self) -> None:
        if self._owns_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    async def stop(self) -> None:
        """The web core's graceful shutdown (idempotent): watches closed, requests drained, tasks
        cancelled, parts stopped."""
        await self.server.stop()
