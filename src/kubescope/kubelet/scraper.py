"""Scrape every node's kubelet ``/metrics/resource`` once per cycle, metrics-server's way.

* **Targets**: nodes from the watch matching ``--node-selector``. Address: the first node address
  whose type comes first in ``--kubelet-preferred-address-types``; port: ``--kubelet-port``, or the
  node's ``status.daemonEndpoints.kubeletEndpoint.Port`` (when non-zero) with
  ``--kubelet-use-node-status-port``; path: ``/metrics/resource`` or the node's
  ``metrics.k8s.io/resource-metrics-path`` annotation. With ``--kubelet-request-via-apiserver`` the
  request goes to ``/api/v1/nodes/<name>/proxy<path>`` on the API server instead.
* **Credentials**: the API server's bearer token and client certificate (kubeconfig or service
  account); kubelet serving certificates are verified with the API server's CA unless
  ``--kubelet-certificate-authority`` or ``--kubelet-insecure-tls``.
* **Cycle**: every node gets a task that first sleeps ``rand(0, min(8 ms x nodes, 4 s))`` (the
  stagger), then waits for one of ``--kubelet-max-concurrent-requests`` slots and scrapes with
  ``--kubelet-request-timeout``; the whole cycle is cut at the resolution. Bodies stream into the
  parser; bad, truncated, oversized or late answers fail that node only, counted by reason and
  logged when a node's error changes. Results merge in completion order, the first report of a
  node or pod wins (as metrics-server merges its channel).
* **Connections** are kept between cycles (``--kubelet-keepalive``, default ``auto``: kept;
  ``false`` opens one per scrape), one per kubelet, through :mod:`kubescope.kubelet.http`:
  an idle kept TLS connection holds ~30 KiB there (aiohttp's ~120 KiB), and a request on it costs
  ~70 µs of CPU where a new TLS connection costs ~1 ms. Connections to nodes that are no longer
  scraped, or idle for two resolutions, are closed at the start of a cycle.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from kubescope.errors import ConfigError
from kubescope.kube.config import load_client_cert
from kubescope.kube.credentials import Credentials
from kubescope.kubelet.http import HTTPError, KubeletHTTP
from kubescope.kubelet.nodes import NodeTarget
from kubescope.kubelet.parser import KubeletParser, MetricsPoint, NodeBatch, ParseError, PodKey
from kubescope.kubelet.settings import KubeletSettings
from kubescope.log import fields

logger = logging.getLogger(__name__)

DEFAULT_PATH = "/metrics/resource"
MAX_DELAY_MS = 4000
DELAY_PER_NODE_MS = 8


class NodeSource(Protocol):
    """Where the nodes to scrape come from (a :class:`~kubescope.kubelet.nodes.NodeCache`)."""

    @property
    def nodes(self) -> Mapping[str, NodeTarget]: ...


class ScrapeMetrics(Protocol):
    """What the scraper counts (resource-metrics' self metrics, history's)."""

    bytes_read: int
    lines_parsed: int
    dropped_pods: int
    duplicate_points: int
    bad_samples: dict[str, int]

    def kubelet_request(self, node: str, seconds: float, ok: bool, now: float) -> None: ...

    def scrape_error(self, reason: str) -> None: ...


class ScrapeError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def node_address(info: NodeTarget, preferred: tuple[str, ...]) -> str | None:
    for t in preferred:
        for typ, addr in info.addresses:
            if typ == t and addr:
                return addr
    return None


def target(info: NodeTarget, ks: KubeletSettings, apiserver: str = "") -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` to scrape ``info`` at; raises :class:`ScrapeError` when no address
    type matches. With ``--kubelet-request-via-apiserver``: the API server's node proxy path."""
    path = info.metrics_path or DEFAULT_PATH
    if not path.startswith("/"):
        path = "/" + path
    if ks.via_apiserver:
        u = urlsplit(apiserver)
        default = 443 if u.scheme == "https" else 80
        prefix = u.path.rstrip("/")
        return u.scheme, u.hostname or "", u.port or default, f"{prefix}/api/v1/nodes/{info.name}/proxy{path}"
    addr = node_address(info, ks.preferred_address_types)
    if addr is None:
        raise ScrapeError("no_address", f"no address matched types [{' '.join(ks.preferred_address_types)}]")
    port = info.status_port if ks.use_node_status_port and info.status_port else ks.port
    return ks.scheme, addr, port, path


def target_url(info: NodeTarget, ks: KubeletSettings, apiserver: str = "") -> str:
    """The URL to scrape ``info`` at (for messages and tests); see :func:`target`."""
    scheme, host, port, path = target(info, ks, apiserver)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}{path}"


def kubelet_ssl_context(ks: KubeletSettings, creds: Credentials | None) -> ssl.SSLContext | bool:
    """TLS for kubelets: the API server connection's CA and client certificate, with the overrides.
    Raises :class:`ConfigError` naming the flag when a file cannot be used."""
    if ks.completely_insecure:
        return False
    try:
        if ks.insecure_tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif ks.certificate_authority:
            ctx = ssl.create_default_context(cafile=ks.certificate_authority)
        elif creds is not None and creds.connection.ca_pem:
            ctx = ssl.create_default_context(cadata=creds.connection.ca_pem)
        else:
            ctx = ssl.create_default_context()
    except (OSError, ssl.SSLError, ValueError) as e:
        raise ConfigError(f"--kubelet-certificate-authority={ks.certificate_authority}: {e}") from e
    if ks.client_certificate:
        try:
            ctx.load_cert_chain(ks.client_certificate, ks.client_key)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise ConfigError(
                f"--kubelet-client-certificate={ks.client_certificate} / --kubelet-client-key={ks.client_key}: {e}"
            ) from e
    elif creds is not None and creds.connection.client_cert_pem:
        load_client_cert(ctx, creds.connection.client_cert_pem, creds.connection.client_key_pem)
    return ctx


@dataclass
class CycleResult:
    nodes: dict[str, MetricsPoint] = field(default_factory=dict)
    pods: dict[PodKey, dict[str, MetricsPoint]] = field(default_factory=dict)
    node_of: dict[PodKey, str] = field(default_factory=dict)
    """The node that reported each pod."""
    capacity: dict[str, int] = field(default_factory=dict)
    """CPU capacity of the scraped nodes, nano-cores (nodes that state one)."""
    attempted: int = 0
    scraped: int = 0


class Scraper:
    """Scrape all nodes once per :meth:`scrape` call."""

    def __init__(
        self,
        settings: KubeletSettings,
        nodes: NodeSource,
        metrics: ScrapeMetrics,
        *,
        resolution: float,
        credentials: Credentials | None = None,
        apiserver_credentials: Credentials | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.nodes = nodes
        self.metrics = metrics
        self.resolution = resolution
        self.credentials = credentials
        self.apiserver_credentials = apiserver_credentials
        self.rng = rng or random.Random()
        self._http: KubeletHTTP | None = None
        self._sem = asyncio.Semaphore(settings.max_concurrent)
        self._last_error: dict[str, str] = {}
        """Nodes failing now, and the reason."""
        self._bad_logged: set[tuple[str, str]] = set()

    def prepare(self) -> None:
        """Build the TLS context and the client now, so a bad certificate flag stops start-up."""
        self._client()

    def keepalive_for(self, nodes: int) -> bool:
        """``--kubelet-keepalive``: on unless forced off (``auto`` keeps: a kept connection is cheap)."""
        return self.settings.keepalive is not False

    def _client(self) -> KubeletHTTP:
        if self._http is None:
            if self.settings.via_apiserver:
                creds = self.apiserver_credentials
                ctx: ssl.SSLContext | bool | None = creds.ssl if creds is not None else None
            else:
                ctx = kubelet_ssl_context(self.settings, self.credentials)
            self._http = KubeletHTTP(
                ctx if isinstance(ctx, ssl.SSLContext) else None,
                keepalive=self.keepalive_for(0),
                idle_timeout=max(30.0, 2 * self.resolution + 5),
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _headers(self) -> bytes:
        lines = [
            b"Accept: text/plain;version=0.0.4\r\nAccept-Encoding: identity\r\nUser-Agent: kubescope\r\n"
        ]
        if self.settings.completely_insecure and not self.settings.via_apiserver:
            return lines[0]  # never hand credentials to a plain-HTTP kubelet
        creds = self.apiserver_credentials if self.settings.via_apiserver else self.credentials
        if creds is not None:
            for k, v in creds.headers.items():
                lines.append(f"{k}: {v}\r\n".encode("latin-1"))
        return b"".join(lines)

    async def fetch(self, info: NodeTarget) -> NodeBatch:
        """One node's batch; raises :class:`ScrapeError` with a reason."""
        ks = self.settings
        creds = self.apiserver_credentials if ks.via_apiserver else self.credentials
        if creds is not None:
            await creds.ensure_fresh()
        apiserver = self.apiserver_credentials.server if self.apiserver_credentials is not None else ""
        _, host, port, path = target(info, ks, apiserver)
        client = self._client()
        request_ns = time.time_ns()
        parser = KubeletParser(request_ns, ks.max_response_bytes)
        try:
            async with asyncio.timeout(ks.request_timeout):
                resp = await client.get(host, port, path, self._headers(), parser.feed)
            if resp.status != 200:
                raise ScrapeError(
                    f"http_{resp.status}",
                    f"request failed, status: {resp.status} {resp.reason}: {resp.body_prefix[:200]!r}",
                )
            batch = parser.finish()
        except TimeoutError:
            raise ScrapeError(
                "timeout", f"timed out after {ks.request_timeout:g}s (--kubelet-request-timeout)"
            ) from None
        except ParseError as e:
            reason = "too_large" if "exceeds" in str(e) else "parse"
            raise ScrapeError(
                reason, f"invalid response from {target_url(info, ks, apiserver)}: {e}"
            ) from None
        except HTTPError as e:
            raise ScrapeError(e.reason, str(e)) from None
        finally:
            self.metrics.bytes_read += parser.size
        self.metrics.lines_parsed += batch.lines
        self.metrics.dropped_pods += batch.dropped_pods
        return batch

    async def _collect(self, info: NodeTarget, delay: float) -> tuple[str, NodeBatch | None]:
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._sem:
            start = time.monotonic()
            ok = False
            try:
                batch = await self.fetch(info)
                ok = True
            except ScrapeError as e:
                self._failed(info, e)
                return info.name, None
            finally:
                self.metrics.kubelet_request(info.name, time.monotonic() - start, ok, time.time())
        if info.name in self._last_error:
            del self._last_error[info.name]
            logger.info("scraping node works again", extra=fields(node=info.name))
        if batch.duplicates or batch.invalid:
            self._bad_samples(info.name, batch)
        return info.name, batch

    def _failed(self, info: NodeTarget, e: ScrapeError) -> None:
        self.metrics.scrape_error(e.reason)
        previous = self._last_error.get(info.name)
        self._last_error[info.name] = e.reason
        # log when a node starts failing or fails for another reason, not every cycle (messages
        # differ from cycle to cycle: line numbers, bodies); NotReady nodes quietly (metrics-server: V(4))
        level = logging.DEBUG if (previous == e.reason or not info.ready) else logging.WARNING
        logger.log(
            level,
            "failed to scrape node",
            extra=fields(node=info.name, reason=e.reason, error=str(e), ready=info.ready),
        )

    def _bad_samples(self, name: str, batch: NodeBatch) -> None:
        """Count duplicate series and NaN/negative/out-of-range values; log once per node and reason."""
        found = dict(batch.invalid)
        if batch.duplicates:
            found["duplicate"] = batch.duplicates
        bad = self.metrics.bad_samples
        for reason, n in found.items():
            bad[reason] = bad.get(reason, 0) + n
            if (name, reason) not in self._bad_logged:
                self._bad_logged.add((name, reason))
                logger.warning(
                    "kubelet sent samples that cannot be used as sent",
                    extra=fields(node=name, reason=reason, samples=n),
                )

    def targets(self) -> list[NodeTarget]:
        sel = self.settings.node_selector
        if sel.empty:
            return list(self.nodes.nodes.values())
        return [n for n in self.nodes.nodes.values() if sel.matches(n.labels)]

    async def scrape(self) -> CycleResult:
        nodes = self.targets()
        result = CycleResult(attempted=len(nodes))
        if not nodes:
            return result
        result.capacity = {n.name: n.cpu_capacity for n in nodes if n.cpu_capacity}
        self._sweep(nodes)
        if self._bad_logged or self._last_error:
            names = {n.name for n in nodes}
            self._bad_logged = {k for k in self._bad_logged if k[0] in names}
            for gone in [n for n in self._last_error if n not in names]:
                del self._last_error[gone]
        delay_ms = min(DELAY_PER_NODE_MS * len(nodes), MAX_DELAY_MS)
        tasks = [
            asyncio.create_task(
                self._collect(n, self.rng.randrange(delay_ms) / 1000.0), name=f"scrape {n.name}"
            )
            for n in nodes
        ]
        try:
            for fut in asyncio.as_completed(tasks, timeout=self.resolution):
                name, batch = await fut
                if batch is None:
                    continue
                result.scraped += 1
                self._merge(result, name, batch)
        except TimeoutError:
            late = sum(1 for t in tasks if not t.done())
            self.metrics.scrape_error("cycle_timeout")
            logger.warning("scrape cycle cut at the metric resolution", extra=fields(unfinished_nodes=late))
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return result

    def _sweep(self, nodes: list[NodeTarget]) -> None:
        """Close kept connections to hosts this cycle does not scrape (and those idle too long)."""
        if self._http is None:
            return
        apiserver = self.apiserver_credentials.server if self.apiserver_credentials is not None else ""
        keep: set[tuple[str, int]] = set()
        for n in nodes:
            try:
                _, host, port, _ = target(n, self.settings, apiserver)
            except ScrapeError:
                continue
            keep.add((host, port))
        self._http.sweep(keep)

    def _merge(self, result: CycleResult, name: str, batch: NodeBatch) -> None:
        if batch.node is not None:
            if name in result.nodes:
                self.metrics.duplicate_points += 1
                logger.warning("got duplicate node point", extra=fields(node=name))
            else:
                result.nodes[name] = batch.node
        pods = result.pods
        node_of = result.node_of
        for key, containers in batch.pods.items():
            if key in pods:
                self.metrics.duplicate_points += 1
                logger.warning("got duplicate pod point", extra=fields(pod=f"{key[0]}/{key[1]}", node=name))
                continue
            pods[key] = containers
            node_of[key] = name
