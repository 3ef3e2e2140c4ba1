"""A lean HTTP/1.1 client for one small GET per kubelet and cycle, over connections kept between cycles.

Why not aiohttp here (it stays the client everywhere else): measured on this project's 2-core VM,
1,000 kubelets answering 27 KB over TLS, CPU of the client process per request and resident memory
per idle kept connection:

============================================  ==================  ===================
client                                        CPU per request     RSS per idle conn.
============================================  ==================  ===================
aiohttp, connection per request (handshake)   1,240-1,420 µs      --
aiohttp, kept connections                     250-280 µs          105-116 KiB
pycurl (libcurl multi on the event loop)      100-110 µs          113 KiB
pyreqwest (Rust, own threads)                 70-80 µs            77 KiB
asyncio/uvloop TLS transport + httptools      60-80 µs            123-134 KiB
**non-blocking ssl.SSLSocket + httptools**    **70-80 µs**        **27-40 KiB**
============================================  ==================  ===================

uvloop's (and asyncio's) TLS transport keeps a 256 KiB receive buffer and two memory BIOs per
connection, which is where a kept TLS connection's ~120 KiB go; an :class:`ssl.SSLSocket` reads
straight from its descriptor and CPython lets OpenSSL release idle record buffers
(``SSL_MODE_RELEASE_BUFFERS``), leaving the session and the peer's certificate. So connections are
driven here with ``loop.add_reader``/``add_writer`` on non-blocking sockets, responses parsed by
httptools (llhttp), and bodies handed chunk by chunk to a sink: no body is buffered whole.

Semantics kept from aiohttp/Go's transport: a connection is reused only after a complete response
that did not ask to close; a request on a reused connection that fails before any byte of the
answer arrived is retried once on a new connection (the peer may have closed it while idle, as
Go's transport retries idempotent requests); redirects are not followed; ``Content-Encoding: gzip``
or ``deflate`` is inflated in bounded steps so a compression bomb stops at the sink's size cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import httptools

from kubescope.kube.neterrors import describe

Sink = Callable[[bytes], None]
_READ = 64 << 10
_INFLATE_STEP = 64 << 10


class HTTPError(Exception):
    """A request failed; ``reason`` is the scrape-error reason it counts under."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _Stale(Exception):
    """A reused connection ended before any byte of the answer: retry on a new one."""


@dataclass
class Response:
    status: int
    reason: str
    body_prefix: bytes
    """The first bytes of a non-200 answer (for the error message); empty for 200."""


class _Inflater:
    """``Content-Encoding`` gzip/deflate, inflated at most :data:`_INFLATE_STEP` at a time so the sink
    (which caps the size) sees a bomb before it is inflated whole."""

    def __init__(self, sink: Sink, encoding: str) -> None:
        self.sink = sink
        self.z = zlib.decompressobj(47 if encoding != "deflate" else 15)

    def feed(self, data: bytes) -> None:
        z = self.z
        out = z.decompress(data, _INFLATE_STEP)
        while True:
            if out:
                self.sink(out)
            if not z.unconsumed_tail:
                return
            out = z.decompress(z.unconsumed_tail, _INFLATE_STEP)


class _Exchange:
    """httptools callbacks of one response."""

    __slots__ = (
        "chunked",
        "complete",
        "encoding",
        "got_bytes",
        "headers_done",
        "keep",
        "length",
        "parser",
        "prefix",
        "reason",
        "sink",
        "status",
        "write",
    )

    def __init__(self, sink: Sink) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.sink = sink
        self.write: Sink = sink
        self.complete = False
        self.keep = False
        self.headers_done = False
        self.got_bytes = False
        self.status = 0
        self.reason = ""
        self.length = False
        self.chunked = False
        self.encoding = ""
        self.prefix = b""

    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        n = name.lower()
        if n == b"content-encoding":
            self.encoding = value.decode("latin-1").strip().lower()
        elif n == b"content-length":
            self.length = True
        elif n == b"transfer-encoding":
            self.chunked = b"chunked" in value.lower()

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.status = self.parser.get_status_code()
        if self.status == 200 and self.encoding not in ("", "identity"):
            if self.encoding not in ("gzip", "x-gzip", "deflate"):
                raise HTTPError("parse", f"unsupported Content-Encoding {self.encoding!r}")
            self.write = _Inflater(self.sink, self.encoding).feed

    def on_body(self, body: bytes) -> None:
        if self.status != 200:
            if len(self.prefix) < 512:
                self.prefix += body[: 512 - len(self.prefix)]
            return
        self.write(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep = self.parser.should_keep_alive()  # llhttp forgets it once the message is done

    def feed(self, data: memoryview) -> None:
        """Parse ``data``; an exception a callback (or the sink) raised comes out as itself."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as e:
            if e.__context__ is not None:
                raise e.__context__ from None
            raise HTTPError("parse", f"invalid HTTP response: {e}") from None
        except httptools.HttpParserError as e:
            raise HTTPError("parse", f"invalid HTTP response: {e}") from None


class _Conn:
    __slots__ = ("idle_since", "key", "sock")

    def __init__(self, key: tuple[str, int], sock: socket.socket) -> None:
        self.key = key
        self.sock = sock
        self.idle_since = 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class KubeletHTTP:
    """GET requests to many hosts, at most one idle connection kept per host and concurrent request.

    ``ssl_context`` None means plain HTTP. ``keepalive`` False closes every connection after its
    response. Idle connections older than ``idle_timeout`` seconds are closed by :meth:`sweep`.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None, *, keepalive: bool = True, idle_timeout: float = 60.0
    ) -> None:
        self.ssl_context = ssl_context
        self.keepalive = keepalive
        self.idle_timeout = idle_timeout
        self._idle: dict[tuple[str, int], list[_Conn]] = {}
        self._dns: dict[str, tuple[float, list[tuple[int, str]]]] = {}
        # one receive buffer for every exchange: each read is handed to the parser before the next
        # await, so exchanges never share it at once (no 64 KiB allocation per read)
        self._buf = bytearray(_READ)
        self._view = memoryview(self._buf)
        self.connections_opened = 0

    @property
    def idle_connections(self) -> int:
        return sum(len(v) for v in self._idle.values())

    def sweep(self, keep: set[tuple[str, int]] | None = None) -> int:
        """Close idle connections past ``idle_timeout`` or to hosts not in ``keep``; return how many."""
        now = time.monotonic()
        closed = 0
        for key in list(self._idle):
            conns = self._idle[key]
            alive = []
            for c in conns:
                if (keep is not None and key not in keep) or now - c.idle_since > self.idle_timeout:
                    c.close()
                    closed += 1
                else:
                    alive.append(c)
            if alive:
                self._idle[key] = alive
            else:
                del self._idle[key]
        return closed

    def close(self) -> None:
        for conns in self._idle.values():
            for c in conns:
                c.close()
        self._idle.clear()

    async def get(self, host: str, port: int, target: str, headers: bytes, sink: Sink) -> Response:
        """GET ``target`` from ``host:port``; a 200 answer's body goes to ``sink`` as it arrives (inflated
        if it is compressed). ``headers`` are complete header lines (``b"Name: value\\r\\n"`` each).
        Raises :class:`HTTPError`; exceptions the sink raises pass through."""
        key = (host, port)
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        request = b"GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (target.encode(), authority.encode(), headers)
        pool = self._idle.get(key)
        while pool:
            conn = pool.pop()
            if time.monotonic() - conn.idle_since > self.idle_timeout:
                conn.close()
                continue
            try:
                return await self._exchange(conn, request, sink, reused=True)
            except _Stale:
                continue
        conn = await self._connect(host, port)
        try:
            return await self._exchange(conn, request, sink, reused=False)
        except _Stale:
            raise HTTPError("connect", "connection closed before an answer") from None

    # -- connections ------------------------------------------------------------------------

    async def _resolve(self, host: str, port: int) -> list[tuple[int, str]]:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, host)]
        now = time.monotonic()
        cached = self._dns.get(host)
        if cached is not None and cached[0] > now:
            return cached[1]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise HTTPError("connect", f"cannot resolve {host}: {e}") from None
        addrs: list[tuple[int, str]] = [(int(fam), str(sa[0])) for fam, _, _, _, sa in infos]
        if len(self._dns) > 10_000:
            self._dns.clear()
        self._dns[host] = (now + 300.0, addrs)
        return addrs

    async def _connect(self, host: str, port: int) -> _Conn:
        loop = asyncio.get_running_loop()
        last: Exception | None = None
        for family, addr in await self._resolve(host, port):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await loop.sock_connect(sock, (addr, port))
            except OSError as e:
                sock.close()
                last = e
                continue
            except BaseException:
                sock.close()
                raise
            self.connections_opened += 1
            if self.ssl_context is None:
                return _Conn((host, port), sock)
            try:
                tls = self.ssl_context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
            except (OSError, ValueError) as e:
                sock.close()
                raise HTTPError("connect", f"TLS set-up failed: {e}") from None
            conn = _Conn((host, port), tls)
            try:
                await self._handshake(tls)
            except ssl.SSLCertVerificationError as e:
                conn.close()
                raise HTTPError("connect", f"TLS handshake with {describe(e, host, port)}") from None
            except (ssl.SSLError, OSError) as e:
                conn.close()
                raise HTTPError("connect", f"TLS handshake with {describe(e, host, port)}") from None
            except BaseException:
                conn.close()
                raise
            return conn
        raise HTTPError("connect", f"cannot connect to {describe(last, host, port) if last else host}")

    @staticmethod
    async def _handshake(tls: ssl.SSLSocket) -> None:
        while True:
            try:
                tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                await _ready(tls, write=False)
            except ssl.SSLWantWriteError:
                await _ready(tls, write=True)

    # -- one request ------------------------------------------------------------------------

    async def _exchange(self, conn: _Conn, request: bytes, sink: Sink, *, reused: bool) -> Response:
        ex = _Exchange(sink)
        sock = conn.sock
        done = False
        try:
            try:
                await _send(sock, request)
            except OSError as e:
                if reused:
                    raise _Stale from None
                raise HTTPError("connect", f"sending the request failed: {e}") from None
            while not ex.complete:
                if ex.status not in (0, 200) and len(ex.prefix) >= 512:
                    break  # enough of an error answer for the message; the connection is dropped
                try:
                    n = sock.recv_into(self._buf)
                except (ssl.SSLWantReadError, BlockingIOError):
                    await _ready(sock, write=False)
                    continue
                except ssl.SSLWantWriteError:
                    await _ready(sock, write=True)
                    continue
                except OSError as e:
                    if reused and not ex.got_bytes:
                        raise _Stale from None
                    raise HTTPError(
                        "truncated", f"response ended early: {e.__class__.__name__}: {e}"
                    ) from None
                if not n:
                    if reused and not ex.got_bytes:
                        raise _Stale
                    if ex.headers_done and not ex.length and not ex.chunked and ex.status == 200:
                        break  # a body delimited by the end of the connection
                    raise HTTPError("truncated", "response ended early: connection closed")
                ex.got_bytes = True
                ex.feed(self._view[:n])
            done = ex.complete and ex.keep and self.keepalive
            return Response(ex.status, ex.reason, ex.prefix)
        finally:
            if done:
                conn.idle_since = time.monotonic()
                self._idle.setdefault(conn.key, []).append(conn)
            else:
                conn.close()


async def _ready(sock: socket.socket, *, write: bool) -> None:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    fd = sock.fileno()
    if write:
        loop.add_writer(fd, _set, fut)
        try:
            await fut
        finally:
            loop.remove_writer(fd)
    else:
        loop.add_reader(fd, _set, fut)
        try:
            await fut
        finally:
            loop.remove_reader(fd)


def _set(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _send(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = sock.send(view)
        except (ssl.SSLWantWriteError, BlockingIOError):
            await _ready(sock, write=True)
            continue
        except ssl.SSLWantReadError:
            await _ready(sock, write=False)
            continue
        view = view[n:]
