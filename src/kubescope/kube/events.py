"""Watch lines that are not plain events, and objects that do not decode: the reflector's helpers.

A watch line that does not decode into the consumer's ``WatchEvent[T]`` is read again through
small Structs (:class:`RVObject`: just a name and a resourceVersion) to tell a bookmark, an ERROR
(:func:`status_error_of`) or a malformed object apart, and to name the object in a log line
without ever printing its content (it could be a Secret).
"""

from __future__ import annotations

import msgspec

from kubescope.errors import ApiStatusError, status_error, truncate
from kubescope.model.meta import RawWatchEvent, Status


class RVMeta(msgspec.Struct, rename="camel", gc=False):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""


class RVObject(msgspec.Struct, gc=False):
    """Just enough of an object to name it in a log line and keep its resourceVersion."""

    metadata: RVMeta = msgspec.field(default_factory=RVMeta)


raw_event_decoder = msgspec.json.Decoder(RawWatchEvent)
status_decoder = msgspec.json.Decoder(Status)
rv_decoder = msgspec.json.Decoder(RVObject)


def bookmark_rv(line: bytes) -> str | None:
    """The resourceVersion of a BOOKMARK line whose object does not fit the item type."""
    try:
        raw = raw_event_decoder.decode(line)
        if raw.type != "BOOKMARK":
            return None
        return rv_decoder.decode(raw.object).metadata.resource_version
    except msgspec.DecodeError:
        return None


def should_log(n: int) -> bool:
    """Log the first 10 decode errors of a reflector, then every 1000th."""
    return n <= 10 or n % 1000 == 0


def check_item_type(item_type: type) -> None:
    info = msgspec.inspect.type_info(item_type)
    if isinstance(info, msgspec.inspect.StructType):
        for f in info.fields:
            if (
                f.name == "metadata"
                and isinstance(f.type, msgspec.inspect.StructType)
                and any(g.name == "resource_version" for g in f.type.fields)
            ):
                return
    raise TypeError(
        f"reflector item type {item_type!r} must be a msgspec Struct with a 'metadata' Struct field "
        "that has 'resource_version' (e.g. kubescope.model.meta.ObjectMeta)"
    )


def status_error_of(raw: msgspec.Raw | bytes) -> ApiStatusError:
    """The error an ERROR event's ``Status`` object stands for (410 Expired, 500...)."""
    try:
        st = status_decoder.decode(raw)
    except msgspec.DecodeError:
        st = Status(code=500, message="undecodable ERROR event: " + truncate(bytes(raw)))
    retry_after = (
        float(st.details.retry_after_seconds) if st.details and st.details.retry_after_seconds else None
    )
    return status_error(st.code or 500, st.reason, st.message or "watch ERROR event", retry_after=retry_after)


def object_head(data: bytes | msgspec.Raw) -> RVObject | None:
    """Name, namespace, uid and resourceVersion of an object's JSON, if that much decodes."""
    try:
        return rv_decoder.decode(data)
    except msgspec.DecodeError:
        return None
