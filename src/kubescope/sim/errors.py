"""The simulator's API errors: each carries kube-apiserver's Status fields (``code``, ``reason``,
``details``, the Status' ``metadata``), which the REST surface writes as a Status body
(:mod:`kubescope.sim.api.responses`); the store, validation and patching raise them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubescope.sim.resources import ResourceType


class SimError(Exception):
    """An API error with kube-apiserver's Status fields."""

    code = 500
    reason = "InternalError"

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        list_meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        self.list_meta = dict(list_meta or {})
        """``metadata`` of the Status (an expired continue carries a fresh token there)."""


class NotFound(SimError):
    code, reason = 404, "NotFound"


class AlreadyExists(SimError):
    code, reason = 409, "AlreadyExists"


class Conflict(SimError):
    code, reason = 409, "Conflict"


class Invalid(SimError):
    code, reason = 422, "Invalid"


class BadRequest(SimError):
    code, reason = 400, "BadRequest"


class Expired(SimError):
    code, reason = 410, "Expired"


class MethodNotAllowed(SimError):
    code, reason = 405, "MethodNotAllowed"


def qualified(t: ResourceType) -> str:
    """``pods`` / ``deployments.apps``, as kube-apiserver names a resource in messages."""
    return f"{t.plural}.{t.group}" if t.group else t.plural


def _details(t: ResourceType, name: str) -> dict[str, Any]:
    return {"name": name, "group": t.group, "kind": t.plural}


def not_found(t: ResourceType, name: str) -> NotFound:
    return NotFound(f'{qualified(t)} "{name}" not found', _details(t, name))


def already_exists(t: ResourceType, name: str) -> AlreadyExists:
    return AlreadyExists(f'{qualified(t)} "{name}" already exists', _details(t, name))


def modified(t: ResourceType, name: str) -> Conflict:
    """An update whose resourceVersion is not the stored one."""
    return Conflict(
        f'Operation cannot be fulfilled on {qualified(t)} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(t, name),
    )


def precondition_failed(t: ResourceType, name: str, what: str) -> Conflict:
    """A delete whose DeleteOptions preconditions (uid, resourceVersion) do not hold."""
    return Conflict(
        f'Operation cannot be fulfilled on {qualified(t)} "{name}": Precondition failed: {what}',
        _details(t, name),
    )


class TooLargeResourceVersion(SimError):
    """apimachinery's ``NewTooLargeResourceVersionError``: 504 Timeout, retry after a second."""

    code, reason = 504, "Timeout"

    def __init__(self, wanted: int, current: int) -> None:
        super().__init__(
            f"Too large resource version: {wanted}, current: {current}",
            {
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            },
        )


def parse_resource_version(rv: str) -> int:
    try:
        n = int(rv)
    except ValueError:
        n = -1
    if n < 0:
        raise BadRequest(
            f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: parsing "{rv}": invalid syntax'
        )
    return n
