"""``metav1.Status`` error bodies, worded and shaped as k8s.io/apiserver and apimachinery word them.

* :func:`not_found` is ``errors.NewNotFound``: ``nodemetrics.metrics.k8s.io "n1" not found``;
* :func:`forbidden` is ``responsewriters.Forbidden``: ``pods.metrics.k8s.io is forbidden: User "bob"
  cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "default"``;
* :func:`unauthorized`, :func:`bad_request`, :func:`method_not_allowed`, :func:`too_many_requests`,
  :func:`internal_error` are their namesakes.

Each returns ``(code, body)``; the body is compact JSON in Go's field order.
"""

from __future__ import annotations

from typing import Any

import msgspec

from kubescope.apiserver.requestinfo import RequestInfo

_encode = msgspec.json.encode


def go_quote(s: str) -> str:
    """Go's ``%q`` of a string (``strconv.Quote``) for the characters names and paths may hold."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif not ch.isprintable():
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> tuple[int, bytes]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
    }
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = {k: v for k, v in details.items() if v}
    body["code"] = code
    return code, _encode(body)


def qualified(resource: str, group: str) -> str:
    """``schema.GroupResource.String()``."""
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> tuple[int, bytes]:
    return status(
        404,
        "NotFound",
        f"{qualified(resource, group)} {go_quote(name)} not found",
        {"name": name, "group": group, "kind": resource},
    )


def path_not_found() -> tuple[int, bytes]:
    """What an API group answers for a path under it that matches no resource."""
    return status(404, "NotFound", "the server could not find the requested resource", {})


def unauthorized() -> tuple[int, bytes]:
    return status(401, "Unauthorized", "Unauthorized")


def bad_request(message: str) -> tuple[int, bytes]:
    return status(400, "BadRequest", message)


def method_not_allowed() -> tuple[int, bytes]:
    return status(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
    )


def too_many_requests() -> tuple[int, bytes]:
    return status(
        429, "TooManyRequests", "Too many requests, please try again later.", {"retryAfterSeconds": 1}
    )


def internal_error(message: str) -> tuple[int, bytes]:
    return status(
        500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
    )


def forbidden_message(info: RequestInfo, user: str) -> str:
    """``responsewriters.forbiddenMessage``."""
    if not info.is_resource_request:
        return f"User {go_quote(user)} cannot {info.verb} path {go_quote(info.path)}"
    resource = info.resource + ("/" + info.subresource if info.subresource else "")
    if info.namespace:
        return (
            f"User {go_quote(user)} cannot {info.verb} resource {go_quote(resource)} in API group "
            f"{go_quote(info.group)} in the namespace {go_quote(info.namespace)}"
        )
    return (
        f"User {go_quote(user)} cannot {info.verb} resource {go_quote(resource)} in API group "
        f"{go_quote(info.group)} at the cluster scope"
    )


def forbidden(info: RequestInfo, user: str, reason: str = "") -> tuple[int, bytes]:
    """``responsewriters.Forbidden`` then ``errors.NewForbidden``."""
    msg = forbidden_message(info, user)
    if reason:
        msg = f"{msg}: {reason}"
    group = info.group if info.is_resource_request else ""
    resource = info.resource if info.is_resource_request else ""
    name = info.name if info.is_resource_request else ""
    if not resource and not group:
        message = f"forbidden: {msg}"
    elif not name:
        message = f"{qualified(resource, group)} is forbidden: {msg}"
    else:
        message = f"{qualified(resource, group)} {go_quote(name)} is forbidden: {msg}"
    return status(403, "Forbidden", message, {"name": name, "group": group, "kind": resource})
