"""The Prometheus HTTP API client: instant queries and series listing, bounded and authenticated.

As prometheus-adapter's client (``pkg/client/api.go`` and ``cmd/adapter``):

* ``--prometheus-url`` may carry a path prefix (``https://thanos/api/prom``); endpoints are joined to it;
* ``--prometheus-verb``: parameters in the query string (GET) or a form body (POST); queries longer
  than 8 kB are POSTed whatever the verb (the original sends them as GET, and Prometheus refuses);
* ``--prometheus-ca-file`` (plus ``--prometheus-client-tls-cert-file``/``-key-file``) for TLS, else the
  TLS and credentials of ``--prometheus-auth-config`` (a kubeconfig; exec plugins work) or of the pod's
  service account (``--prometheus-auth-incluster``), else none;
* ``--prometheus-token-file``: ``Authorization: Bearer <token>`` (re-read when the file changes, so a
  rotated token is picked up; the original reads it once);
* ``--prometheus-header k=v`` (repeatable) on every request;
* answers other than 2xx, 400, 422 and 503 are ``unknown response code``; a JSON answer with
  ``"status":"error"`` is ``<errorType>: <error>``.

Every query runs under its timeout, also sent as Prometheus' own ``timeout`` parameter so the server
stops working on it; answers larger than a cap are refused instead of filling memory. Failures raise
:class:`PrometheusError` whose message names the endpoint and never a credential.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from yarl import URL

from kubescope import __version__
from kubescope.custom_metrics.answers import Sample
from kubescope.errors import ConfigError, KubescopeError, truncate
from kubescope.log import fields

logger = logging.getLogger(__name__)

QUERY_PATH = "/api/v1/query"
SERIES_PATH = "/api/v1/series"
_JSON_CODES = frozenset({400, 422, 503})
MAX_GET_QUERY = 8000
"""Query parameters longer than this (bytes, before encoding) go as a POST form whatever the verb."""


class PrometheusError(KubescopeError):
    """A Prometheus request failed; ``kind`` is ``timeout``, ``transport``, ``http``, ``bad_response`` or
    Prometheus' own ``errorType`` (``bad_data``, ``execution``, ``timeout``...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class PrometheusSettings:
    url: str = "https://localhost"
    verb: str = "GET"
    auth_incluster: bool = False
    auth_config: str = ""
    ca_file: str = ""
    client_cert_file: str = ""
    client_key_file: str = ""
    token_file: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    query_timeout: float = 3.0
    """Seconds per instant query (``--query-timeout``; a rule's ``queryTimeout`` overrides it)."""
    series_timeout: float = 60.0
    """Seconds per series listing (discovery runs in the background, so it may take longer)."""
    max_query_bytes: int = 16 << 20
    max_series_bytes: int = 256 << 20
    max_connections: int = 64


def parse_header_args(args: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``--prometheus-header k=v`` (a missing ``=v`` is an empty value, as ``parseHeaderArgs``)."""
    out = []
    for a in args:
        k, _, v = a.partition("=")
        if not k.strip():
            raise ConfigError(f"--prometheus-header={a!r}: expected NAME=VALUE")
        out.append((k.strip(), v))
    return tuple(out)


class _QueryData(msgspec.Struct):
    resultType: str
    result: Any = None


class _Envelope(msgspec.Struct):
    status: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")
    errorType: str = ""
    error: str = ""


_envelope = msgspec.json.Decoder(_Envelope)
_query_data = msgspec.json.Decoder(_QueryData)
_series_data = msgspec.json.Decoder(list[dict[str, str]])


def _float(s: Any) -> float:
    """Prometheus writes sample values as strings: ``"1.5"``, ``"NaN"``, ``"+Inf"``."""
    try:
        return float(s)
    except (TypeError, ValueError):
        raise PrometheusError("bad_response", f"invalid sample value {truncate(str(s), 40)!r}") from None


def decode_query(data: bytes) -> tuple[str, list[Sample]]:
    """``(resultType, samples)`` of a query's ``data``; a scalar is one sample without labels."""
    try:
        q = _query_data.decode(data)
        if q.resultType == "vector":
            out = []
            for item in q.result or ():
                ts, value = item["value"]
                out.append(Sample(dict(item.get("metric") or {}), _float(value), float(ts)))
            return "vector", out
        if q.resultType == "scalar":
            ts, value = q.result
            return "scalar", [Sample({}, _float(value), float(ts))]
        return q.resultType, []
    except (msgspec.DecodeError, KeyError, TypeError, ValueError) as e:
        raise PrometheusError("bad_response", f"undecodable query result: {truncate(str(e), 200)}") from None


class PrometheusClient:
    """One aiohttp session to Prometheus; create with :meth:`connect` inside the event loop."""

    def __init__(self, settings: PrometheusSettings, *, ssl_context: ssl.SSLContext | None = None,
                 auth_headers: Mapping[str, str] | None = None, credentials: Any = None) -> None:  # fmt: skip
        self.settings = settings
        self.base = URL(settings.url.rstrip("/"))
        if self.base.scheme not in ("http", "https") or not self.base.host:
            raise ConfigError(f"--prometheus-url={settings.url!r}: expected an http:// or https:// URL")
        if settings.verb not in ("GET", "POST"):
            raise ConfigError(f'--prometheus-verb={settings.verb!r}: supported verbs: "GET" and "POST"')
        self.ssl_context = ssl_context
        self._credentials = credentials
        self._static_auth = dict(auth_headers or {})
        self._headers = {"User-Agent": f"kubescope/{__version__}", "Accept": "application/json"}
        for k, v in settings.headers:
            self._headers[k] = v
        self._token = ""
        self._token_mtime = -1.0
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    @classmethod
    async def connect(cls, settings: PrometheusSettings) -> PrometheusClient:
        """Build the TLS context and credentials from the flags (reading the files once now, so a
        wrong path fails at start-up)."""
        ctx: ssl.SSLContext | None = None
        creds = None
        if settings.auth_incluster and settings.auth_config:
            raise ConfigError(
                "--prometheus-auth-incluster and --prometheus-auth-config: may not use both in-cluster auth "
                "and an explicit kubeconfig at the same time"
            )
        if settings.ca_file:
            try:
                ctx = ssl.create_default_context(cafile=settings.ca_file)
            except (OSError, ssl.SSLError) as e:
                raise ConfigError(f"--prometheus-ca-file={settings.ca_file}: failed to read: {e}") from None
            if settings.client_cert_file and settings.client_key_file:
                try:
                    ctx.load_cert_chain(settings.client_cert_file, settings.client_key_file)
                except (OSError, ssl.SSLError) as e:
                    raise ConfigError(
                        "--prometheus-client-tls-cert-file/--prometheus-client-tls-key-file: "
                        f"failed to read TLS key pair: {e}"
                    ) from None
        elif settings.auth_incluster or settings.auth_config:
            from kubescope.kube.config import SERVICE_ACCOUNT_DIR, Source
            from kubescope.kube.credentials import Credentials, resolve

            if settings.auth_config:
                source = Source("kubeconfig", kubeconfig=settings.auth_config)
            else:
                source = Source(
                    "in-cluster",
                    service_account_dir=SERVICE_ACCOUNT_DIR,
                    host=os.environ.get("KUBERNETES_SERVICE_HOST", ""),
                    port=os.environ.get("KUBERNETES_SERVICE_PORT", ""),
                )
            conn = await resolve(source, os.environ)
            creds = Credentials(conn, source=source, environ=os.environ)
            ctx = creds.ssl
        client = cls(settings, ssl_context=ctx, credentials=creds)
        if settings.token_file:
            client._read_token(force=True)
        return client

    def _read_token(self, *, force: bool = False) -> None:
        path = self.settings.token_file
        try:
            mtime = os.stat(path).st_mtime
            if not force and mtime == self._token_mtime:
                return
            with open(path, encoding="utf-8") as f:
                self._token = f.read().strip()
            self._token_mtime = mtime
        except OSError as e:
            if force:
                raise ConfigError(f"--prometheus-token-file={path}: failed to read: {e}") from None
            logger.warning("cannot re-read the Prometheus token file", extra=fields(path=path, error=str(e)))

    def _session_for(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.settings.max_connections, keepalive_timeout=30.0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5.0),
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _auth(self) -> dict[str, str]:
        headers = dict(self._headers)
        if self._credentials is not None:
            await self._credentials.ensure_fresh()
            headers.update(self._credentials.headers)
        headers.update(self._static_auth)
        if self.settings.token_file:
            self._read_token()
            if self._token:
                headers["Authorization"] = "Bearer " + self._token
        return headers

    async def _call(self, path: str, params: list[tuple[str, str]], timeout: float, limit: int) -> bytes:
        """POST or GET ``path``; return the ``data`` of a successful answer."""
        url = self.base.with_path(self.base.path.rstrip("/") + path)
        headers = await self._auth()
        verb = self.settings.verb
        if verb == "GET" and sum(len(k) + len(v) for k, v in params) > MAX_GET_QUERY:
            # a "*" request over thousands of objects names them all in the query; URLs that long
            # are refused by Prometheus (and proxies) where a form body is not
            verb = "POST"
        what = f"{verb} {url.path}"
        session = self._session_for()
        kwargs: dict[str, Any] = {"headers": headers}
        if self.ssl_context is not None and url.scheme == "https":
            kwargs["ssl"] = self.ssl_context
        if verb == "GET":
            kwargs["params"] = params
        else:
            kwargs["data"] = params
        self.requests += 1
        try:
            async with asyncio.timeout(timeout):
                async with session.request(verb, url, **kwargs) as resp:
                    code = resp.status
                    if code // 100 != 2 and code not in _JSON_CODES:
                        raise PrometheusError("http", f"{what}: unknown response code {code}")
                    body = await _read_capped(resp.content, limit, what)
        except TimeoutError:
            raise PrometheusError("timeout", f"{what}: no answer within {timeout:g}s") from None
        except (aiohttp.ClientError, OSError) as e:
            raise PrometheusError(
                "transport", f"{what}: {e.__class__.__name__}: {truncate(str(e), 200)}"
            ) from None
        try:
            env = _envelope.decode(body)
        except msgspec.DecodeError as e:
            raise PrometheusError(
                "bad_response", f"{what}: answer is not the Prometheus API's JSON ({e})"
            ) from None
        if env.status == "error":
            raise PrometheusError(
                env.errorType or "error", f"{what}: {env.errorType}: {truncate(env.error, 300)}"
            )
        if env.status != "success":
            raise PrometheusError("bad_response", f"{what}: answer has status {truncate(env.status, 40)!r}")
        return bytes(env.data)

    async def query(
        self, promql: str, *, timeout: float | None = None, at: float | None = None
    ) -> tuple[str, list[Sample]]:
        """An instant query at ``at`` (default now): ``(resultType, samples)``."""
        t = self.settings.query_timeout if timeout is None else timeout
        when = time.time() if at is None else at
        params = [("query", promql), ("time", f"{when:.3f}"), ("timeout", _prom_timeout(t))]
        data = await self._call(QUERY_PATH, params, t, self.settings.max_query_bytes)
        return decode_query(data)

    async def series(self, selectors: Sequence[str], *, start: float | None = None) -> list[dict[str, str]]:
        params = [("match[]", s) for s in selectors]
        if start is not None:
            params.append(("start", f"{start:.3f}"))
        data = await self._call(
            SERIES_PATH, params, self.settings.series_timeout, self.settings.max_series_bytes
        )
        try:
            return _series_data.decode(data)
        except msgspec.DecodeError as e:
            raise PrometheusError(
                "bad_response", f"undecodable series list: {truncate(str(e), 200)}"
            ) from None


def _prom_timeout(seconds: float) -> str:
    ms = max(1, math.ceil(seconds * 1000))
    return f"{ms}ms"


async def _read_capped(content: aiohttp.StreamReader, limit: int, what: str) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await content.read(1 << 20)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise PrometheusError("too_large", f"{what}: answer larger than {limit >> 20} MiB; refused")
        parts.append(chunk)


__all__ = ["PrometheusClient", "PrometheusError", "PrometheusSettings", "decode_query", "parse_header_args"]
