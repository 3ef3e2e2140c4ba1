"""``--upstream-external-metrics``: forward external metrics this adapter does not serve to another one.

A cluster registers one APIService per group and version, so prometheus-adapter, KEDA and a cloud
adapter cannot all serve ``external.metrics.k8s.io`` (KEDA #470, prometheus-adapter #705). With an
upstream configured, this adapter answers the names its rules serve and forwards every other name
(``GET /apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>?labelSelector=``) to the
upstream, returning its status and body as they come; its discovery document (refreshed every minute)
is merged into this one's. Users switch the APIService to this adapter and move metrics over rule by
rule.

The upstream sees this adapter's identity (its service-account token, or a client certificate), not
the HPA's: the request was already authenticated and authorised here. An unreachable upstream is a
503, like the aggregator's answer for an unavailable backend.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Sequence

import aiohttp
import msgspec

from kubescope.apiserver import status
from kubescope.custom_metrics.settings import UpstreamSettings
from kubescope.errors import ConfigError, truncate
from kubescope.kube.config import SERVICE_ACCOUNT_DIR
from kubescope.log import fields

logger = logging.getLogger(__name__)

PREFIX = "/apis/external.metrics.k8s.io/v1beta1"
MAX_BODY = 16 << 20


class UpstreamError(Exception):
    """The upstream answered its discovery document with an error."""


class _Resource(msgspec.Struct):
    name: str = ""


class _ResourceList(msgspec.Struct):
    resources: list[_Resource] | None = None


class Upstream:
    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.names: list[str] = []
        self.errors = 0
        self.ssl: ssl.SSLContext | bool = True
        if settings.url.startswith("https://"):
            try:
                ctx = ssl.create_default_context(cafile=settings.ca_file or None)
                if settings.insecure_skip_tls_verify:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if settings.client_cert_file:
                    ctx.load_cert_chain(settings.client_cert_file, settings.client_key_file or None)
            except (OSError, ssl.SSLError) as e:
                raise ConfigError(f"--upstream-external-metrics TLS files: {e}") from None
            self.ssl = ctx
        token_file = settings.token_file
        if not token_file and os.path.exists(os.path.join(SERVICE_ACCOUNT_DIR, "token")):
            token_file = os.path.join(SERVICE_ACCOUNT_DIR, "token")
        self.token_file = token_file
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json"}
        if self.token_file:
            try:
                with open(self.token_file, encoding="utf-8") as f:
                    h["Authorization"] = "Bearer " + f.read().strip()
            except OSError as e:
                logger.warning(
                    "cannot read the upstream token file", extra=fields(path=self.token_file, error=str(e))
                )
        return h

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        url = self.settings.url + path
        async with self.session().get(url, params=params, headers=self._headers(), ssl=self.ssl) as r:
            body = await r.content.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise aiohttp.ClientPayloadError(f"answer larger than {MAX_BODY >> 20} MiB")
            return r.status, body

    async def forward(self, namespace: str, metric: str, label_selector: str) -> tuple[int, bytes]:
        params = {"labelSelector": label_selector} if label_selector else {}
        try:
            return await self._get(f"{PREFIX}/namespaces/{namespace}/{metric}", params)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            self.errors += 1
            msg = f"the upstream external metrics server {self.settings.url} failed: {e.__class__.__name__}: {truncate(str(e), 200)}"
            logger.warning("upstream external metrics request failed", extra=fields(metric=metric, error=msg))
            return status.status(503, "ServiceUnavailable", msg)

    async def refresh_names(self) -> Sequence[str]:
        code, body = await self._get(PREFIX, {})
        if code != 200:
            raise UpstreamError(f"GET {self.settings.url}{PREFIX}: {code}: {truncate(body, 200)}")
        doc = msgspec.json.decode(body, type=_ResourceList)
        self.names = sorted({r.name for r in doc.resources or () if r.name and "/" not in r.name})
        return self.names

    async def run(self) -> None:
        """Refresh the upstream's metric names every discovery interval (a failure keeps the last)."""
        while True:
            try:
                await self.refresh_names()
            except (aiohttp.ClientError, OSError, TimeoutError, msgspec.DecodeError, UpstreamError) as e:
                self.errors += 1
                logger.warning("cannot read the upstream's external metrics", extra=fields(error=str(e)))
            await asyncio.sleep(self.settings.discovery_interval)
