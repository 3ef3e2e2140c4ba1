"""An async Kubernetes API client on one aiohttp session: bytes in, bytes out, lines for watches.

:class:`KubeClient` does transport and authentication only; decoding is the caller's (msgspec
Structs declaring only the fields it reads). It asks for JSON (never protobuf), accepts gzip like
client-go, identifies itself as ``kubescope/<version>``, and maps failures onto
:mod:`kubescope.errors`: a non-2xx answer becomes the :func:`~kubescope.errors.status_error` class
for its code and decoded ``Status`` body (``Retry-After`` honoured), anything without an HTTP answer
becomes :class:`~kubescope.errors.TransportError` (:class:`~kubescope.errors.TransportTimeout` for
timeouts). A 401 refreshes the credentials (:class:`~kubescope.kube.credentials.Credentials`) and
retries once.

Large bodies are read as they arrive (:meth:`KubeClient.body`), and watches are streams of JSON
lines (:meth:`KubeClient.stream`), split here from aiohttp's
``readany`` (everything buffered, with a 1 MiB read buffer) with ``bytes.split``, so an oversized
line can be dropped without buffering it whole (aiohttp's ``readline`` cannot say whether it
consumed the newline of a line it rejects). The per-request ``sock_read`` timeout doubles as the
watch inactivity timeout: no byte, not even a bookmark, for that long and the stream fails with
``TransportTimeout``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
import msgspec

from kubescope import __version__
from kubescope.errors import (
    ApiStatusError,
    TransportError,
    TransportTimeout,
    status_error,
    truncate,
)
from kubescope.kube.config import Connection, KubeSettings
from kubescope.kube.credentials import Credentials
from kubescope.kube.neterrors import describe
from kubescope.log import redact
from kubescope.model.meta import Status

logger = logging.getLogger(__name__)

USER_AGENT = f"kubescope/{__version__}"
MAX_ERROR_BODY = 64 << 10
"""Bytes of a non-2xx body we read to decode its Status; the rest is discarded."""

Params = Mapping[str, str] | None

_status_decoder = msgspec.json.Decoder(Status)


def _retry_after(headers: Mapping[str, str], status: Status | None) -> float | None:
    value = headers.get("Retry-After", "")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass  # an HTTP-date: the API server never sends one, fall through to the Status
    if status is not None and status.details is not None and status.details.retry_after_seconds:
        return float(status.details.retry_after_seconds)
    return None


def _api_error(code: int, headers: Mapping[str, str], body: bytes, what: str) -> ApiStatusError:
    status: Status | None = None
    try:
        status = _status_decoder.decode(body)
    except msgspec.DecodeError:
        status = None
    if status is not None and (status.message or status.reason):
        reason, message = status.reason, status.message
        details = {"kind": status.details.kind, "name": status.details.name} if status.details else None
    else:
        reason, message, details = "", truncate(body), None
    err = status_error(
        code, reason, f"{what}: {message}", retry_after=_retry_after(headers, status), details=details
    )
    return err


def _transport_error(e: BaseException, what: str) -> TransportError:
    if isinstance(e, TimeoutError | aiohttp.ServerTimeoutError):
        return TransportTimeout(
            f"{what}: timed out ({e.__class__.__name__}{': ' + str(e) if str(e) else ''})"
        )
    # the peer and the reason only (aiohttp's own text shows the SSLContext object); never headers
    return TransportError(f"{what}: {redact(describe(e))}")


_TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


async def _read_limited(content: aiohttp.StreamReader, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await content.read(limit - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


@dataclass
class ServerFeatures:
    """What the API server was found to offer, learned from its answers and shared by every user of
    a client (so that one reflector's question spares the others theirs)."""

    watch_list: bool | None = None
    """Watch-list streams (``sendInitialEvents=true``): unknown until one was asked for."""
    probe: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while the first question about a feature is out."""


def _abort(resp: aiohttp.ClientResponse) -> None:
    """Close a response whose body was not read to its end (its connection cannot be reused),
    aborting the connection: over TLS a graceful close waits for the server's close_notify, and a
    busy server kept the socket open after the client had closed (reported unclosed once the event
    loop was gone)."""
    conn = resp.connection
    if conn is not None and conn.transport is not None:
        conn.transport.abort()
    resp.close()


class BodyStream:
    """The body of one streaming GET, read as it arrives; use as ``async with``.

    ``__aenter__`` sends the request and raises the mapped error on a non-2xx answer;
    :meth:`read` returns the next bytes received (decompressed), ``b""`` at the end of the body. A
    broken connection raises :class:`TransportError` (:class:`TransportTimeout` after
    ``read_timeout`` seconds without a byte; ``None``: the session's read timeout).
    """

    __slots__ = ("_client", "_content", "_method", "_params", "_path", "_read_timeout", "_resp", "bytes_read")

    def __init__(
        self,
        client: KubeClient,
        path: str,
        params: Params,
        *,
        read_timeout: float | None,
        method: str = "GET",
    ) -> None:
        self._client = client
        self._path = path
        self._params = params
        self._method = method
        self._read_timeout = read_timeout
        self._resp: aiohttp.ClientResponse | None = None
        self._content: aiohttp.StreamReader | None = None
        self.bytes_read = 0

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def open(self) -> None:
        """Send the request (what ``async with`` does); raise the mapped error on a non-2xx answer."""
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._client.settings.connect_timeout, sock_read=self._read_timeout
        )
        self._resp = await self._client._open(self._method, self._path, self._params, None, timeout)
        self._content = self._resp.content

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._resp is not None:
            if self._content is None:
                self._resp.release()  # read to its end: the connection can serve the next request
            else:
                _abort(self._resp)
            self._resp = None
            self._content = None

    async def read(self) -> bytes:
        """The next bytes of the body (everything buffered, at least one byte); ``b""`` at its end."""
        content = self._content
        if content is None:
            return b""
        try:
            data = await content.readany()
        except _TRANSPORT_ERRORS as e:
            raise _transport_error(e, f"{self._method} {self._path} (stream)") from e
        if not data:
            self._content = None
        self.bytes_read += len(data)
        return data


class LineStream(BodyStream):
    """The lines of one streaming response (a watch); use as ``async with``, then ``async for``.

    Lines come without their ``\\n``, one at a time (``async for``) or as every complete line
    received so far (:meth:`next_batch`, cheaper: one await per network read instead of one per
    line). The end of the body ends the iteration. A line longer than ``max_line_size`` is dropped
    without being buffered whole: ``on_oversized(length)`` is called and the stream goes on with
    the next line.
    """

    __slots__ = ("_max", "_on_oversized", "_partial", "_partial_len", "_pending", "_skipping")

    def __init__(
        self,
        client: KubeClient,
        path: str,
        params: Params,
        *,
        read_timeout: float | None,
        max_line_size: int,
        on_oversized: Callable[[int], None] | None,
        method: str = "GET",
    ) -> None:
        super().__init__(client, path, params, read_timeout=read_timeout, method=method)
        self._max = max_line_size
        self._on_oversized = on_oversized
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._skipping = -1  # bytes of an oversized line dropped so far, -1 when not skipping
        self._pending: list[bytes] = []

    def __aiter__(self) -> LineStream:
        return self

    async def __anext__(self) -> bytes:
        if not self._pending:
            self._pending = await self.next_batch()
            if not self._pending:
                raise StopAsyncIteration
            self._pending.reverse()
        return self._pending.pop()

    def _oversized(self, size: int) -> None:
        if self._on_oversized is not None:
            self._on_oversized(size)

    async def next_batch(self) -> list[bytes]:
        """Every complete line received so far (waiting for at least one); ``[]`` at the end."""
        block = await self.next_block()
        return block.split(b"\n") if block else []

    async def next_block(self) -> bytes:
        """Every complete line received so far as one buffer, the lines separated by ``\\n`` (no
        trailing one), waiting for at least one line; ``b""`` at the end.

        One buffer per network read instead of one ``bytes`` per line: a reader that decodes many
        lines at once (a watch-list's initial events) allocates no small buffers, which would be
        scattered among the long-lived objects it builds meanwhile.
        """
        while self._content is not None:
            data = await self.read()
            if not data:
                tail = b"".join(self._partial)
                self._partial, self._partial_len = [], 0
                if self._skipping >= 0:
                    self._oversized(self._skipping + len(tail))
                    self._skipping = -1
                    return b""
                return tail
            last = data.rfind(b"\n")
            if last < 0:  # no line ends in this read
                if self._skipping >= 0:
                    self._skipping += len(data)
                    continue
                self._partial.append(data)
                self._partial_len += len(data)
                if self._partial_len > self._max:
                    self._skipping, self._partial, self._partial_len = self._partial_len, [], 0
                continue
            first_end = data.find(b"\n")
            if self._skipping >= 0:  # the oversized line ends here: drop it
                self._oversized(self._skipping + first_end)
                self._skipping = -1
                block = data[first_end + 1 : last]
            elif self._partial:
                if self._partial_len + first_end > self._max:
                    self._oversized(self._partial_len + first_end)
                    block = data[first_end + 1 : last]
                else:
                    self._partial.append(data[:last])
                    block = b"".join(self._partial)
                self._partial, self._partial_len = [], 0
            else:
                block = data[:last] if last < len(data) - 1 else data[:-1]
            tail = data[last + 1 :]
            if tail:
                self._partial.append(tail)
                self._partial_len = len(tail)
            if len(data) > self._max:  # a read longer than a line may be: drop its long lines
                lines = block.split(b"\n")
                for line in lines:
                    if len(line) > self._max:
                        self._oversized(len(line))
                block = b"\n".join(line for line in lines if len(line) <= self._max)
            if block.strip(b"\n"):  # blank lines carry nothing (and b"" means the end)
                return block
        return b""


class KubeClient:
    """The Kubernetes API over one aiohttp ``ClientSession``. Create inside a running event loop
    (``await KubeClient.connect(settings)``), close with ``await client.close()`` or ``async with``.
    """

    def __init__(self, credentials: Credentials, settings: KubeSettings | None = None) -> None:
        self.credentials = credentials
        self.settings = settings or KubeSettings()
        self._session: aiohttp.ClientSession | None = None
        self._base = credentials.server.rstrip("/")
        self._base_headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip" if self.settings.compression else "identity",
        }
        self.requests = 0
        self.features = ServerFeatures()

    @classmethod
    async def connect(cls, settings: KubeSettings, environ: Mapping[str, str] | None = None) -> KubeClient:
        """Resolve credentials for ``settings`` (kubeconfig, in-cluster or ``--apiserver``)."""
        creds = await Credentials.load(settings, os.environ if environ is None else environ)
        return cls(creds, settings)

    @classmethod
    def from_connection(cls, connection: Connection, settings: KubeSettings | None = None) -> KubeClient:
        """A client with fixed credentials (never refreshed); for tests and tools."""
        return cls(Credentials(connection), settings)

    @property
    def server(self) -> str:
        return self._base

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            s = self.settings
            connector = aiohttp.TCPConnector(
                limit=s.max_connections, limit_per_host=0, keepalive_timeout=30.0
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=s.connect_timeout, sock_read=s.read_timeout
                ),
                read_bufsize=s.read_bufsize,
                auto_decompress=True,
                skip_auto_headers=("Content-Type",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _open(
        self,
        method: str,
        path: str,
        params: Params,
        body: bytes | None,
        client_timeout: aiohttp.ClientTimeout | None,
        content_type: str = "application/json",
    ) -> aiohttp.ClientResponse:
        """Send a request; return the 2xx response (body unread) or raise the mapped error."""
        session = self._get_session()
        creds = self.credentials
        what = f"{method} {path}"
        for attempt in (0, 1):
            await creds.ensure_fresh()
            generation = creds.generation
            headers = {**self._base_headers, **creds.headers}
            if body is not None:
                headers["Content-Type"] = content_type
            kwargs: dict[str, Any] = {}
            if client_timeout is not None:
                kwargs["timeout"] = client_timeout
            if creds.ssl is not None:
                kwargs["ssl"] = creds.ssl
                if creds.server_hostname:
                    kwargs["server_hostname"] = creds.server_hostname
            if creds.proxy:
                kwargs["proxy"] = creds.proxy
            self.requests += 1
            try:
                resp = await session.request(
                    method, self._base + path, params=params, data=body, headers=headers, **kwargs
                )
            except _TRANSPORT_ERRORS as e:
                raise _transport_error(e, what) from e
            if resp.status < 300:
                return resp
            try:
                err_body = await _read_limited(resp.content, MAX_ERROR_BODY)
            except _TRANSPORT_ERRORS:
                err_body = b""
            finally:
                resp.close()
            if resp.status == 401 and attempt == 0 and await creds.unauthorized(generation):
                continue
            raise _api_error(resp.status, resp.headers, err_body, what)
        raise AssertionError("unreachable")

    async def request(
        self,
        method: str,
        path: str,
        params: Params = None,
        body: Any = None,
        *,
        content_type: str = "application/json",
    ) -> bytes:
        """Send ``body`` (JSON-encoded unless already bytes) and return the response body.

        ``content_type`` names the patch flavour for PATCH (``application/merge-patch+json``...).
        """
        data = body if body is None or isinstance(body, bytes) else msgspec.json.encode(body)
        resp = await self._open(method, path, params, data, None, content_type)
        try:
            out = await resp.read()
        except BaseException as e:  # a transport error, or cancelled while reading
            _abort(resp)
            if isinstance(e, _TRANSPORT_ERRORS):
                raise _transport_error(e, f"{method} {path}") from e
            raise
        resp.release()
        return out

    async def create(self, path: str, body: Any, *, exist_ok: bool = False) -> bool:
        """POST ``body`` to the collection at ``path``; True when it was created.

        With ``exist_ok``, AlreadyExists (409: the object is there, say from an earlier run) answers
        False instead of raising, as ``kubectl create`` users script with ``|| true`` for that one case.
        """
        try:
            await self.request("POST", path, body=body)
        except ApiStatusError as e:
            if exist_ok and e.code == 409:
                return False
            raise
        return True

    async def get(self, path: str, params: Params = None) -> bytes:
        """GET ``path`` and return the response body."""
        return await self.request("GET", path, params)

    def body(self, path: str, params: Params = None, *, read_timeout: float | None = None) -> BodyStream:
        """A GET whose body is read as it arrives (a large list decoded object by object):
        ``async with client.body(...) as body: while data := await body.read(): ...``."""
        return BodyStream(self, path, params, read_timeout=read_timeout or self.settings.read_timeout)

    def stream(
        self,
        path: str,
        params: Params = None,
        *,
        read_timeout: float | None = None,
        on_oversized: Callable[[int], None] | None = None,
    ) -> LineStream:
        """A streaming GET (a watch): ``async with client.stream(...) as lines: async for line in lines``.

        ``read_timeout``: seconds without a byte before the stream fails with TransportTimeout
        (``None``: wait forever).
        """
        return LineStream(
            self,
            path,
            params,
            read_timeout=read_timeout,
            max_line_size=self.settings.max_line_size,
            on_oversized=on_oversized,
        )

    async def check(self) -> str:
        """GET ``/version`` and return ``gitVersion`` (a connectivity and credentials check)."""
        body = await self.get("/version")
        try:
            return str(msgspec.json.decode(body).get("gitVersion", ""))
        except (msgspec.DecodeError, AttributeError):
            return ""
