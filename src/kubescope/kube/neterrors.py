"""Connection failures in one line an operator can read: the peer's ``host:port`` and the reason.

aiohttp's and Python's own texts carry what a log line must not: ``ClientConnectorError`` prints
``ssl:<ssl.SSLContext object at 0x7f...>``, asyncio's connect errors repeat the address as a
tuple, OpenSSL's errors their library codes. :func:`reason` keeps the reason alone
(``Connection refused``, ``certificate verify failed: self-signed certificate``, ``timed out``);
:func:`describe` puts the peer in front. Every client that connects somewhere (the Kubernetes
client, the kubelet scraper) formats its failures with these two.
"""

from __future__ import annotations

import os
import ssl

import aiohttp


def reason(e: BaseException) -> str:
    """Why a connection failed, without addresses or object representations."""
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        return reason(e.certificate_error)
    if isinstance(e, aiohttp.ClientConnectorError):
        return reason(e.os_error)
    if isinstance(e, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(e, ssl.SSLCertVerificationError):
        return (
            f"certificate verify failed: {e.verify_message}"
            if e.verify_message
            else "certificate verify failed"
        )
    if isinstance(e, ssl.SSLError):
        return f"TLS: {e.reason.lower().replace('_', ' ')}" if e.reason else f"TLS: {e.strerror or e}"
    if isinstance(e, TimeoutError):
        return "timed out"
    if isinstance(e, OSError) and e.errno:
        return os.strerror(e.errno)
    text = str(e)
    return f"{e.__class__.__name__}: {text}" if text else e.__class__.__name__


def describe(e: BaseException, host: str = "", port: int | None = None) -> str:
    """``host:port: reason`` (the peer taken from the error when it names one)."""
    host = host or getattr(e, "host", "") or ""
    port = port if port is not None else getattr(e, "port", None)
    if not host:
        return reason(e)
    peer = f"[{host}]" if ":" in host else host
    return f"{peer}:{port}: {reason(e)}" if port else f"{peer}: {reason(e)}"
