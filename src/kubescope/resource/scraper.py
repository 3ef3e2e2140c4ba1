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
* **Connections** are opened per scrape up to :data:`AUTO_KEEPALIVE_NODES` nodes and kept across
  cycles above (``--kubelet-keepalive=auto``; ``true``/``false`` force it). Measured at 1,000 nodes,
  keeping them halves the scraper's CPU (no TLS handshakes) but holds about 120 KiB per idle TLS
  connection (uvloop's and OpenSSL's buffers), 0.12 MiB per node.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from kubescope.errors import ConfigError
from kubescope.kube.config import load_client_cert
from kubescope.kube.credentials import Credentials
from kubescope.log import fields
from kubescope.resource.inventory import NodeCache, NodeInfo
from kubescope.resource.parser import KubeletParser, MetricsPoint, NodeBatch, ParseError, PodKey
from kubescope.resource.selfmetrics import SelfMetrics
from kubescope.resource.settings import KubeletSettings

logger = logging.getLogger(__name__)

DEFAULT_PATH = "/metrics/resource"
MAX_DELAY_MS = 4000
DELAY_PER_NODE_MS = 8
AUTO_KEEPALIVE_NODES = 2000
"""Above this many nodes, ``--kubelet-keepalive=auto`` keeps connections: at 1,000 nodes a TLS handshake
per node and cycle costs ~1.3 ms of CPU (about 0.09 cores at 15 s), at 5,000 it would take most of a
core, while each kept connection holds ~120 KiB."""


class ScrapeError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def node_address(info: NodeInfo, preferred: tuple[str, ...]) -> str | None:
    for t in preferred:
        for typ, addr in info.addresses:
            if typ == t and addr:
                return addr
    return None


def target_url(info: NodeInfo, ks: KubeletSettings, apiserver: str = "") -> str:
    """The URL to scrape ``info`` at; raises :class:`ScrapeError` when no address type matches."""
    path = info.metrics_path or DEFAULT_PATH
    if not path.startswith("/"):
        path = "/" + path
    if ks.via_apiserver:
        return f"{apiserver.rstrip('/')}/api/v1/nodes/{info.name}/proxy{path}"
    addr = node_address(info, ks.preferred_address_types)
    if addr is None:
        raise ScrapeError("no_address", f"no address matched types [{' '.join(ks.preferred_address_types)}]")
    port = info.status_port if ks.use_node_status_port and info.status_port else ks.port
    host = f"[{addr}]" if ":" in addr else addr
    return f"{ks.scheme}://{host}:{port}{path}"


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
    attempted: int = 0
    scraped: int = 0


class Scraper:
    """Scrape all nodes once per :meth:`scrape` call."""

    def __init__(
        self,
        settings: KubeletSettings,
        nodes: NodeCache,
        metrics: SelfMetrics,
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
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | bool = False
        self._sem = asyncio.Semaphore(settings.max_concurrent)
        self._keepalive = bool(settings.keepalive)
        self._old_sessions: list[aiohttp.ClientSession] = []
        self._last_error: dict[str, str] = {}

    def prepare(self) -> None:
        """Build the TLS context and the session now, so a bad certificate flag stops start-up."""
        self._get_session()

    def keepalive_for(self, nodes: int) -> bool:
        """``--kubelet-keepalive``: on, off, or (auto) on above :data:`AUTO_KEEPALIVE_NODES` nodes."""
        ks = self.settings.keepalive
        return ks if ks is not None else nodes > AUTO_KEEPALIVE_NODES

    def _get_session(self, keepalive: bool | None = None) -> aiohttp.ClientSession:
        if keepalive is None:
            keepalive = self._keepalive
        if self._session is None or self._session.closed or keepalive != self._keepalive:
            if self._session is not None and not self._session.closed:
                self._old_sessions.append(self._session)  # closed after this cycle's requests
            self._keepalive = keepalive
            if self.settings.via_apiserver:
                creds = self.apiserver_credentials
                self._ssl = creds.ssl if creds is not None and creds.ssl is not None else False
            else:
                self._ssl = kubelet_ssl_context(self.settings, self.credentials)
            reuse: dict[str, Any] = (
                {"keepalive_timeout": max(30.0, 2 * self.resolution + 5)}
                if keepalive
                else {"force_close": True}
            )
            connector = aiohttp.TCPConnector(
                limit=self.settings.max_concurrent,
                limit_per_host=0,
                ssl=self._ssl,
                ttl_dns_cache=300,
                **reuse,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                read_bufsize=64 << 10,
            )
        return self._session

    async def close(self) -> None:
        for old in self._old_sessions:
            await old.close()
        self._old_sessions.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "text/plain;version=0.0.4",
            "Accept-Encoding": "identity",
            "User-Agent": "kubescope",
        }
        if self.settings.completely_insecure and not self.settings.via_apiserver:
            return headers  # never hand credentials to a plain-HTTP kubelet
        creds = self.apiserver_credentials if self.settings.via_apiserver else self.credentials
        if creds is not None:
            headers.update(creds.headers)
        return headers

    async def fetch(self, info: NodeInfo) -> NodeBatch:
        """One node's batch; raises :class:`ScrapeError` with a reason."""
        ks = self.settings
        creds = self.apiserver_credentials if ks.via_apiserver else self.credentials
        if creds is not None:
            await creds.ensure_fresh()
        apiserver = self.apiserver_credentials.server if self.apiserver_credentials is not None else ""
        url = target_url(info, ks, apiserver)
        session = self._get_session()
        request_ns = time.time_ns()
        parser = KubeletParser(request_ns, ks.max_response_bytes)
        size = 0
        try:
            async with asyncio.timeout(ks.request_timeout):
                async with session.get(url, headers=self._headers(), allow_redirects=False) as resp:
                    if resp.status != 200:
                        body = await resp.content.read(512)
                        raise ScrapeError(
                            f"http_{resp.status}",
                            f"request failed, status: {resp.status} {resp.reason}: {body[:200]!r}",
                        )
                    length = resp.content_length
                    if ks.max_response_bytes and length is not None and length > ks.max_response_bytes:
                        raise ScrapeError(
                            "too_large",
                            f"response of {length} bytes exceeds "
                            f"--kubelet-max-response-bytes={ks.max_response_bytes}",
                        )
                    async for chunk in resp.content.iter_any():
                        size += len(chunk)
                        parser.feed(chunk)
                    batch = parser.finish()
        except TimeoutError:
            raise ScrapeError(
                "timeout", f"timed out after {ks.request_timeout:g}s (--kubelet-request-timeout)"
            ) from None
        except ParseError as e:
            reason = "too_large" if "exceeds" in str(e) else "parse"
            raise ScrapeError(reason, f"invalid response from {url}: {e}") from None
        except aiohttp.ClientPayloadError as e:
            raise ScrapeError("truncated", f"response from {url} ended early: {e}") from None
        except (aiohttp.ClientError, OSError) as e:
            raise ScrapeError("connect", f"{e.__class__.__name__}: {e}") from None
        finally:
            self.metrics.bytes_read += size
        self.metrics.lines_parsed += batch.lines
        self.metrics.dropped_pods += batch.dropped_pods
        return batch

    async def _collect(self, info: NodeInfo, delay: float) -> tuple[str, NodeBatch | None]:
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
        return info.name, batch

    def _failed(self, info: NodeInfo, e: ScrapeError) -> None:
        self.metrics.scrape_error(e.reason)
        msg = str(e)
        previous = self._last_error.get(info.name)
        self._last_error[info.name] = msg
        # log when a node starts failing or fails differently; NotReady nodes quietly (metrics-server: V(4))
        level = logging.DEBUG if (previous == msg or not info.ready) else logging.WARNING
        logger.log(
            level,
            "failed to scrape node",
            extra=fields(node=info.name, reason=e.reason, error=msg, ready=info.ready),
        )

    def targets(self) -> list[NodeInfo]:
        sel = self.settings.node_selector
        if sel.empty:
            return list(self.nodes.nodes.values())
        return [n for n in self.nodes.nodes.values() if sel.matches(n.labels)]

    async def scrape(self) -> CycleResult:
        nodes = self.targets()
        result = CycleResult(attempted=len(nodes))
        if not nodes:
            return result
        self._get_session(self.keepalive_for(len(nodes)))
        while self._old_sessions:
            await self._old_sessions.pop().close()
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

    def _merge(self, result: CycleResult, name: str, batch: NodeBatch) -> None:
        if batch.node is not None:
            if name in result.nodes:
                self.metrics.duplicate_points += 1
                logger.warning("got duplicate node point", extra=fields(node=name))
            else:
                result.nodes[name] = batch.node
        pods = result.pods
        for key, containers in batch.pods.items():
            if key in pods:
                self.metrics.duplicate_points += 1
                logger.warning("got duplicate pod point", extra=fields(pod=f"{key[0]}/{key[1]}", node=name))
                continue
            pods[key] = containers
