"""The kubescope exception tree.

::

    KubescopeError
    ├── ConfigError              a flag, file or kubeconfig is invalid; names the input and the fix
    │   └── BindError            a listener cannot bind its address (port taken); names the flag
    ├── DecodeError              bytes from the network could not be decoded (object, event, kubelet text)
    └── KubeError                talking to a Kubernetes API server failed
        ├── TransportError       connect/TLS/read failure or timeout: retry with backoff
        │   └── TransportTimeout no connection, answer or bytes within the configured time
        └── ApiStatusError       the server answered with a non-2xx Status (carries code, reason, message)
            ├── GoneError        410 Gone / Expired: the resourceVersion is too old, relist
            ├── TooManyRequests  429, honours Retry-After
            ├── ServerError      5xx
            ├── NotFoundError    404
            ├── ConflictError    409
            ├── UnauthorizedError 401
            └── ForbiddenError   403

:func:`status_error` maps a status code and a decoded ``Status`` body to the right class.
Untrusted bodies are truncated (:func:`truncate`) before they reach a message or a log.
"""

from __future__ import annotations

from typing import Any

MAX_BODY_IN_MESSAGE = 512


def truncate(text: str | bytes, limit: int = MAX_BODY_IN_MESSAGE) -> str:
    """Shorten an untrusted body for messages and logs."""
    if isinstance(text, bytes):
        text = text[: limit * 2].decode("utf-8", "replace")
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + f"...({len(text) - limit} more)"


class KubescopeError(Exception):
    """Base of every error kubescope raises on purpose."""


class ConfigError(KubescopeError):
    """An invalid flag, configuration file or kubeconfig. The message names the input and the fix."""


class BindError(ConfigError):
    """A listener cannot bind its address (a port already in use); the message names the flag."""


class DecodeError(KubescopeError):
    """Bytes received from the network could not be decoded."""


class KubeError(KubescopeError):
    """Talking to a Kubernetes API server failed."""


class TransportError(KubeError):
    """The request did not get an HTTP answer: connect, TLS, read failure or timeout."""


class TransportTimeout(TransportError):
    """No connection, answer or bytes within the configured time (for a watch: a dead stream)."""


class ApiStatusError(KubeError):
    """The API server answered with a non-success status."""

    def __init__(
        self,
        code: int,
        reason: str = "",
        message: str = "",
        *,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.reason = reason
        self.message = truncate(message)
        self.retry_after = retry_after
        self.details = details or {}
        super().__init__(f"{code} {reason}: {self.message}" if reason else f"{code}: {self.message}")


class GoneError(ApiStatusError):
    """410 Gone / Expired: the requested resourceVersion is no longer available; relist."""


class TooManyRequests(ApiStatusError):
    """429: the server asks us to slow down (see ``retry_after``)."""


class ServerError(ApiStatusError):
    """5xx from the server."""


class NotFoundError(ApiStatusError):
    """404."""


class ConflictError(ApiStatusError):
    """409."""


class UnauthorizedError(ApiStatusError):
    """401: missing or invalid credentials."""


class ForbiddenError(ApiStatusError):
    """403: authenticated but not allowed."""


_BY_CODE: dict[int, type[ApiStatusError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    429: TooManyRequests,
}


def status_error(
    code: int,
    reason: str = "",
    message: str = "",
    *,
    retry_after: float | None = None,
    details: dict[str, Any] | None = None,
) -> ApiStatusError:
    """Build the ApiStatusError subclass for an HTTP status code (and a Status body's reason)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = ServerError if code >= 500 else ApiStatusError
    if reason in ("Expired", "Gone"):
        cls = GoneError
    return cls(code, reason, message, retry_after=retry_after, details=details)
