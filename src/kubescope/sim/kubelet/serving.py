"""Simulated kubelets' serving: every node's ``/metrics/resource``, ``/metrics/cadvisor`` and
``/healthz`` on its own loopback address, behind the kubelet's TLS, authentication and
authorization, with the kubelet faults applied to requests. What they answer is :mod:`.nodes`'.

**Where they listen.** Node *i* (nodes sorted by name, then in order of appearance) gets the
address ``127.B.(i // 250 + 1).(i % 250 + 1)`` and the kubelet's port, 10250: distinct addresses on
one port, as real kubelets have. ``B`` is picked at start-up (:mod:`.plan`: from the process id,
moving on while some address of the plan is taken, so simulators running side by side do not
collide); when no block can be bound on 10250, every node gets a free port instead. Each node is
written back to the store as a kubelet reports itself: ``status.addresses`` InternalIP = its
address (Hostname and InternalDNS kept), ``status.daemonEndpoints.kubeletEndpoint.Port`` = its
port, so metrics-server (``--kubelet-preferred-address-types=InternalIP``,
``--kubelet-use-node-status-port`` or the default port), Prometheus and the API server's node
proxy find it. Measured: a listener costs ~2 KiB and ~15 µs to open (5,000 nodes: 9 MiB, 0.1 s),
so one per node is cheap; a node whose Ready condition is not True has its listener closed (a dead
kubelet refuses connections) until it is Ready again.

**TLS and who may ask.** With the simulator's PKI, serving certificates come from the cluster CA,
one per :data:`CERT_GROUP` nodes (their IP and DNS SANs), created when a listener first needs it.
Authentication is the kubelet's (x509 client certificates signed by the cluster CA first, then
bearer tokens the simulator accepts; anonymous requests are refused) and answers
``401 Unauthorized``; authorization asks the simulator's policy for verb ``get`` on
``nodes/metrics`` (``/metrics/...``) or ``nodes/healthz`` then ``nodes/proxy`` (``/healthz``),
named after the node, and refuses with the kubelet's ``403 Forbidden (user=U, verb=get,
resource=nodes, subresource(s)=[metrics])``. With ``--insecure-http`` they serve plain HTTP to
everyone.

**Faults** on the wire (picked by :mod:`.nodes`): ``slow`` (answer after
``kubelet_slow_seconds``), ``error`` (500), ``garbage`` (200 with bytes that are not the text
format), ``truncate`` (half the body, then the connection is cut), ``scrape_error`` (200 with only
``resource_scrape_error 1``, as when the kubelet cannot read its stats), ``down`` (every connection
is reset, on every path and before authentication: a dead kubelet answers nothing).

``GET /_sim/kubelets`` gives the addresses and the serving counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubescope import web as core
from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.log import fields
from kubescope.sim.auth import AuthConfig, User
from kubescope.sim.errors import SimError
from kubescope.sim.kubelet.nodes import KUBELET_FAULTS, Kubelets
from kubescope.sim.kubelet.plan import KUBELET_PORT, Plan, bind, plan
from kubescope.sim.kubelet.pods import Node, Obj
from kubescope.sim.kubelet.text import CONTENT_TYPE, HEADER
from kubescope.sim.pki import ClusterPKI, write_private

if TYPE_CHECKING:
    from kubescope.sim.server import Simulator

logger = logging.getLogger("kubescope.sim.kubelet")

CERT_GROUP = 8
"""Nodes per serving certificate. A real kubelet's certificate names its own node (a few SANs); a
client pays for every SAN of the certificate it gets (parsing, hostname matching, asyncio's
``getpeercert`` dict: ~220 µs a handshake with 500 SANs), so groups stay small. Measured: 1.8 ms
and 31 KiB per certificate and context, 5,000 nodes: 1.1 s and 19 MiB."""

_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


@dataclass
class FarmStats:
    requests: int = 0
    bytes_served: int = 0
    unauthorized: int = 0
    forbidden: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KUBELET_FAULTS, 0))


class KubeletFarm:
    """Every node's kubelet on the wire: listeners as nodes come, go and turn Ready or not, serving
    certificates, authentication and authorization, faults applied to requests."""

    def __init__(
        self,
        kubelets: Kubelets,
        *,
        auth: AuthConfig | None = None,
        pki: ClusterPKI | None = None,
        plan: Plan | None = None,
    ) -> None:
        self.kubelets = kubelets
        self.plan = plan
        """Where to listen, when decided before the cluster was generated (:func:`plan`)."""
        self.auth = auth
        self.pki = pki
        self.by_address: dict[tuple[str, int], Node] = {}
        self.stats = FarmStats()
        self.block = 0
        self.port = KUBELET_PORT
        self._contexts: dict[int, ssl.SSLContext] = {}
        self._listener: core.RunningListener | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._garbage = random.Random(kubelets.seed).randbytes(3000)
        self._state_dir = Path(".")
        kubelets.on_node = self._on_node

    @property
    def closed(self) -> bool:
        return self.kubelets.closed

    def _on_node(self, event: str, node: Node) -> None:
        """Open, close and advertise listeners as :class:`Kubelets` tells of nodes."""
        if event == "DELETED":
            self._unlisten(node)
            self.by_address.pop((node.ip, node.port), None)
            return
        if self._listener is None:
            return
        if event == "ADDED":
            node.ip, node.port = self.address_of(node.index), self.port
            self.by_address[(node.ip, node.port)] = node
            if node.ready:
                self._listen(node)
            self._advertise(node)
        elif node.ready:
            self._listen(node)
        else:
            self._unlisten(node)

    def summary(self) -> dict[str, Any]:
        s = self.stats
        return {
            "nodes": len(self.kubelets.nodes),
            "listening": sum(1 for n in self.kubelets.nodes.values() if n.server is not None),
            "port": self.port,
            "block": f"127.{self.block}.0.0/16" if self.block else "",
            "housekeeping": self.kubelets.period,
            "tick": self.kubelets.tick(),
            "tls": self.pki is not None,
            "requests": s.requests,
            "unauthorized": s.unauthorized,
            "forbidden": s.forbidden,
            "renders": self.kubelets.renders,
            "renderSeconds": round(self.kubelets.render_seconds, 3),
            "bytesServed": s.bytes_served,
            "faultsInjected": dict(s.faults),
            "addresses": {n.name: f"{n.ip}:{n.port}" for n in self.kubelets.nodes.values()},
        }

    # -- serving -------------------------------------------------------------------------------

    def address_of(self, index: int) -> str:
        return Plan(self.block, self.port).address(index)

    def listener_spec(self) -> core.Listener:
        """The web core's listener the kubelets are served by: one application, a socket per node
        added and removed as nodes come and go (:meth:`start` takes it running, without sockets)."""
        return core.Listener("kubelets", routes=[core.route("*", "/{tail:.*}", self.handle)])

    async def start(self, state_dir: Path, listener: core.RunningListener) -> None:
        self._state_dir = state_dir
        self._listener = listener
        self._choose_block()
        pending = []
        for node in self.kubelets.nodes.values():
            node.ip = self.address_of(node.index)
            node.port = self.port
            if node.ready:
                pending.append(self._listen(node))
            else:
                self.by_address[(node.ip, node.port)] = node
        await asyncio.gather(*(t for t in pending if t is not None), return_exceptions=True)
        for node in self.kubelets.nodes.values():
            self._advertise(node)
        self._loop_task = asyncio.create_task(self._housekeeping(), name="kubelet-housekeeping")

    def _choose_block(self) -> None:
        """Where the kubelets listen: the plan made before the cluster was generated (its nodes
        and pods carry those addresses), else a new one."""
        chosen = self.plan or plan(len(self.kubelets.nodes))
        self.block, self.port = chosen.block, chosen.port

    def _context(self, index: int) -> ssl.SSLContext | None:
        if self.pki is None:
            return None
        blk = index // CERT_GROUP
        ctx = self._contexts.get(blk)
        if ctx is None:
            ips = tuple(self.address_of(i) for i in range(blk * CERT_GROUP, (blk + 1) * CERT_GROUP))
            names = tuple(
                sorted(n.name for n in self.kubelets.nodes.values() if n.index // CERT_GROUP == blk)
            )
            kp = self.pki.ca.issue(f"kubescope-kubelets-{blk}", server=True, ips=ips, dns=names)
            crt = self._state_dir / f"kubelet-serving-{self.block}-{blk}.crt"
            key = self._state_dir / f"kubelet-serving-{self.block}-{blk}.key"
            write_private(crt, kp.cert_pem)
            write_private(key, kp.key_pem)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(crt), str(key))
            ctx.load_verify_locations(cadata=self.pki.ca.pem.decode())
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.set_alpn_protocols(["http/1.1"])
            self._contexts[blk] = ctx
        return ctx

    def _listen(self, node: Node) -> asyncio.Task[asyncio.AbstractServer] | None:
        """Open the node's listener (the socket is bound and listening on return)."""
        if node.server is not None or self._listener is None or self.closed:
            return None
        if not node.ip:
            node.ip = self.address_of(node.index)
        port = node.port or self.port
        try:
            sock = bind(node.ip, port)
        except OSError as e:
            if port == 0:
                raise
            logger.warning(
                "kubelet address taken; using a free port",
                extra=fields(node=node.name, address=f"{node.ip}:{port}", error=str(e)),
            )
            sock = bind(node.ip, 0)
        self.by_address.pop((node.ip, node.port), None)
        node.port = int(sock.getsockname()[1])
        self.by_address[(node.ip, node.port)] = node
        listener = self._listener
        task = asyncio.get_running_loop().create_task(listener.add_socket(sock, self._context(node.index)))
        task.add_done_callback(functools.partial(self._listening, node))
        return task

    def _listening(self, node: Node, t: asyncio.Task[asyncio.AbstractServer]) -> None:
        if t.cancelled() or t.exception() is not None:
            logger.error("kubelet listener failed", extra=fields(node=node.name, error=repr(t.exception())))
            return
        server = t.result()
        if self.closed or node.server is not None or not node.ready or node.name not in self.kubelets.nodes:
            server.close()
            return
        node.server = server

    def _unlisten(self, node: Node) -> None:
        if node.server is not None:
            node.server.close()
            if self._listener is not None:
                with contextlib.suppress(ValueError):
                    self._listener.extra.remove(node.server)  # a node that flaps must not pile up
            node.server = None

    def _advertise(self, node: Node) -> None:
        """Write the node's kubelet address and port into its status, as a kubelet reports them."""

        def set_endpoint(o: Obj, ip: str = node.ip, port: int = node.port, name: str = node.name) -> None:
            st = o.setdefault("status", {})
            addrs = [a for a in st.get("addresses") or [] if a.get("type") not in ("InternalIP", "Hostname")]
            st["addresses"] = [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
                *addrs,
            ]
            st.setdefault("daemonEndpoints", {})["kubeletEndpoint"] = {"Port": port}

        try:
            self.kubelets.store.modify("nodes", "", node.name, set_endpoint)
        except SimError as e:
            logger.warning("cannot advertise a kubelet", extra=fields(node=node.name, error=str(e)))

    async def _housekeeping(self) -> None:
        """At every tick: apply fault changes, and drop texts of earlier ticks (memory)."""
        while True:
            k = self.kubelets.tick()
            await asyncio.sleep(max(0.01, self.kubelets.tick_time(k + 1) - self.kubelets.clock()))
            try:
                self.kubelets.sync_faults()
                self.kubelets.drop_old_texts()
            except Exception as e:  # the loop must survive a bug in one pass
                logger.exception("kubelet housekeeping failed", extra=fields(error=repr(e)))

    async def stop(self) -> None:
        self.kubelets.close()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for node in self.kubelets.nodes.values():
            self._unlisten(node)
        self._listener = None  # the simulator's server drains and closes it

    # -- the HTTP side ---------------------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> User | None:
        assert self.auth is not None
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if peer:
            subject = peer.get("subject", ())
            cn = next((v for rdn in subject for k, v in rdn if k == "commonName"), "")
            if cn:
                orgs = tuple(v for rdn in subject for k, v in rdn if k == "organizationName")
                return User(cn, orgs).with_defaults()
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            return self.auth.authenticate_token(header[7:].strip())
        return None

    def _authorize(self, user: User, node: Node, method: str, path: str) -> str:
        """ "" when allowed, else the kubelet's Forbidden message."""
        assert self.auth is not None
        verb = _VERBS.get(method, "")
        if _subpath(path, "/metrics"):
            subresources = ["metrics"]
        elif _subpath(path, "/healthz"):
            subresources = ["healthz", "proxy"]
        elif _subpath(path, "/stats"):
            subresources = ["stats"]
        else:
            subresources = ["proxy"]
        for sub in subresources:
            info = RequestInfo(
                path=path, verb=verb, is_resource_request=True, api_prefix="api", version="v1",
                resource="nodes", subresource=sub, name=node.name,
            )  # fmt: skip
            if self.auth.authorize(user, info)[0]:
                return ""
        return f"Forbidden (user={user.name}, verb={verb}, resource=nodes, subresource(s)=[{' '.join(subresources)}])"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport else None
        node = self.by_address.get((sockname[0], int(sockname[1]))) if sockname else None
        if node is None:
            return web.Response(status=404, text="404 page not found\n")
        self.stats.requests += 1
        node.requests += 1
        self.kubelets.sync_faults()
        if not node.ready or self.kubelets.faulty("down", node.name):
            # a dead kubelet answers nothing: no 401, no /healthz
            self.stats.faults["down"] += 1
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError  # nothing is answered on a reset connection
        if self.pki is not None:
            user = self._authenticate(request)
            if user is None:
                self.stats.unauthorized += 1
                return _plain(401, "Unauthorized")
            refusal = self._authorize(user, node, request.method, request.path)
            if refusal:
                self.stats.forbidden += 1
                return _plain(403, refusal)
        path = request.path
        if _subpath(path, "/healthz"):
            return _plain(200, "ok")
        if path not in ("/metrics/resource", "/metrics/cadvisor"):
            return _plain(404, "404 page not found\n")
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "405: Method Not Allowed")
        name = node.name
        if self.kubelets.faulty("slow", name) and self.kubelets.faults.kubelet_slow_seconds > 0:
            self.stats.faults["slow"] += 1
            await asyncio.sleep(self.kubelets.faults.kubelet_slow_seconds)
        if self.kubelets.faulty("error", name):
            self.stats.faults["error"] += 1
            return _plain(
                500,
                "Internal Server Error: simulated kubelet failure (kubescope fault kubelet_error_fraction)\n",
            )
        if self.kubelets.faulty("garbage", name):
            self.stats.faults["garbage"] += 1
            return web.Response(body=self._garbage, headers={"Content-Type": CONTENT_TYPE})
        if self.kubelets.faulty("scrape_error", name):
            self.stats.faults["scrape_error"] += 1
            text = HEADER["resource_scrape_error"] + "resource_scrape_error 1\n"
            return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})
        if self.kubelets.faulty("stale", name):
            self.stats.faults["stale"] += 1
        gz = "gzip" in request.headers.get("Accept-Encoding", "")
        body = self.kubelets.body(node, gzip=gz, cadvisor=path == "/metrics/cadvisor")
        headers = {"Content-Type": CONTENT_TYPE}
        if gz:
            headers["Content-Encoding"] = "gzip"
        if self.kubelets.faulty("truncate", name):
            self.stats.faults["truncate"] += 1
            resp = web.StreamResponse(headers=headers)
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            await asyncio.sleep(0.01)  # let the half reach the client before the cut
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError
        self.stats.bytes_served += len(body)
        return web.Response(body=body, headers=headers)


def _subpath(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", charset="utf-8")


# -- the simulator's hook ----------------------------------------------------------------------------


async def start_for_simulator(sim: Simulator) -> Callable[[], Awaitable[None]] | None:
    """Start a kubelet for every node of the simulator's store (see the module docstring)."""
    s = sim.settings
    kubelets = Kubelets(sim.store, seed=s.seed, housekeeping=s.kubelet_housekeeping, faults=sim.faults)
    farm = KubeletFarm(kubelets, auth=sim.auth, pki=sim.pki, plan=getattr(sim, "kubelet_plan", None))
    kubelets.load()
    directory = sim.pki.directory if sim.pki is not None else sim.state_dir
    await farm.start(Path(directory), await sim.serve_listener(farm.listener_spec(), sockets=[]))

    async def truth() -> Any:
        return kubelets.truth()

    async def summary() -> Any:
        return farm.summary()

    sim.api.add_control("truth", truth)
    sim.api.add_control("kubelets", summary)
    logger.info(
        "kubelets listening",
        extra=fields(nodes=len(kubelets.nodes), block=farm.block, port=farm.port, tls=farm.pki is not None),
    )
    return farm.stop
