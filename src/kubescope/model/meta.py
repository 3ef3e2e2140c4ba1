"""msgspec Structs for the object metadata and API envelopes every consumer reads.

Resource-specific Structs live next to their one consumer (a state-metrics family module, the
resource-metrics node watcher): each declares only the fields it reads, so decoding skips the rest
in C. Conventions (see :class:`Wire`): ``rename="camel"`` with explicit ``name=`` where
Kubernetes' spelling is not camel-case of the Python name (``podIP``), ``gc=False`` because these
objects never form cycles, ``kw_only`` and defaults for every field, because the API omits empty
fields.
"""

from __future__ import annotations

import datetime as _dt
from typing import Generic, TypeVar

import msgspec


class Wire(msgspec.Struct, rename="camel", gc=False, kw_only=True, omit_defaults=True):
    """Base of all wire Structs: camel-case names, no GC tracking, every field optional."""


class OwnerReference(Wire):
    api_version: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None


class ObjectMeta(Wire):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    creation_timestamp: _dt.datetime | None = None
    deletion_timestamp: _dt.datetime | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    owner_references: list[OwnerReference] = msgspec.field(default_factory=list)


class ListMeta(Wire):
    resource_version: str = ""
    continue_: str = msgspec.field(default="", name="continue")
    remaining_item_count: int | None = None


class Condition(Wire):
    """The common condition shape (type/status/reason/times) shared by most resources."""

    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""
    last_transition_time: _dt.datetime | None = None
    last_heartbeat_time: _dt.datetime | None = None
    last_probe_time: _dt.datetime | None = None
    last_update_time: _dt.datetime | None = None


class Object(Wire):
    """Just the metadata of any object: enough to key, shard and select."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


T = TypeVar("T")


class KubeList(Wire, Generic[T]):
    """A ``<Kind>List``: the items decoded as ``T``."""

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[T] = msgspec.field(default_factory=list)


class RawList(Wire):
    """A list page whose items are kept undecoded, to isolate one malformed item."""

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: list[msgspec.Raw] = msgspec.field(default_factory=list)


class StatusDetails(Wire):
    name: str = ""
    group: str = ""
    kind: str = ""
    retry_after_seconds: int = 0


class Status(Wire):
    """``metav1.Status``: error bodies and in-stream watch ERROR objects."""

    kind: str = ""
    api_version: str = ""
    status: str = ""
    message: str = ""
    reason: str = ""
    code: int = 0
    details: StatusDetails | None = None


class WatchEvent(Wire, Generic[T]):
    """One line of a watch stream: ``{"type": ..., "object": ...}``."""

    type: str
    object: T


class RawWatchEvent(Wire):
    type: str
    object: msgspec.Raw
