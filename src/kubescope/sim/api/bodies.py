"""Request bodies: JSON, YAML or Kubernetes protobuf, decoded into the JSON form the store keeps."""

from __future__ import annotations

from typing import Any

import msgspec
import yaml
from aiohttp import web

from kubescope.sim.errors import BadRequest, SimError
from kubescope.sim.protobuf import ProtobufError, decode_object

UNSUPPORTED_BODY = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
)

_dec = msgspec.json.Decoder()


class UnsupportedMediaType(SimError):
    code, reason = 415, "UnsupportedMediaType"


def decode(raw: bytes, content_type: str) -> Any:
    """The body as JSON values, whatever its media type."""
    if "protobuf" in content_type:
        try:
            return decode_object(raw)
        except ProtobufError as e:
            raise UnsupportedMediaType(f"{UNSUPPORTED_BODY}; the protobuf body could not be read: {e}") from e
    if "yaml" in content_type:
        return yaml.safe_load(raw)
    return _dec.decode(raw)


async def read_object(request: web.Request) -> dict[str, Any]:
    """A body that must be one object (create, update, subresource actions)."""
    body = decode(await request.read(), request.content_type)
    if not isinstance(body, dict):
        raise BadRequest("the body of the request was in an unknown format")
    return body


async def read_options(request: web.Request) -> dict[str, Any]:
    """DeleteOptions: an empty body is none."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    body = decode(raw, request.content_type)
    if not isinstance(body, dict):
        raise BadRequest("the body of the request was in an unknown format")
    return body
