"""What a request asks for, as k8s.io/apiserver's ``RequestInfoFactory`` sees it.

``/apis/metrics.k8s.io/v1/namespaces/ns/pods/p`` is a resource request (verb ``get``, group
``metrics.k8s.io``, version ``v1``, namespace ``ns``, resource ``pods``, name ``p``); ``GET`` without a
name is ``list``, with ``?watch=true`` ``watch``. Anything shorter (``/apis``, ``/apis/<group>``,
``/apis/<group>/<version>``) or outside ``/api`` and ``/apis`` is a non-resource request whose verb
is the lower-cased HTTP method. Authorization (SubjectAccessReview attributes) and Status messages
are built from this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    path: str
    verb: str
    is_resource_request: bool = False
    api_prefix: str = ""
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
"""A namespace's own subresources: ``/namespaces/<ns>/status`` is not a resource named ``status``."""


def request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    parts = path.strip("/").split("/") if path.strip("/") else []
    plain = RequestInfo(path=path, verb=method.lower())
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return plain
    prefix = parts[0]
    parts = parts[1:]
    group = ""
    if prefix == "apis":
        if len(parts) < 3:
            return plain
        group = parts[0]
        parts = parts[1:]
    version = parts[0]
    parts = parts[1:]
    if parts[0] == "watch" and len(parts) > 1:
        # the deprecated /watch/ paths: the verb is in the path
        verb = "watch"
        parts = parts[1:]
    else:
        verb = _VERBS.get(method.upper(), method.lower())
    namespace = ""
    if len(parts) > 1 and parts[0] == "namespaces":
        namespace = parts[1]
        if len(parts) > 2 and parts[2] not in _NAMESPACE_SUBRESOURCES:
            parts = parts[2:]
    resource = parts[0] if parts else ""
    name = parts[1] if len(parts) > 1 else ""
    subresource = parts[2] if len(parts) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if query.get("watch", "").lower() in ("1", "true") else "list"
    elif name and verb == "get" and query.get("watch", "").lower() in ("1", "true"):
        verb = "watch"
    if verb == "delete" and not name:
        verb = "deletecollection"
    return RequestInfo(
        path=path,
        verb=verb,
        is_resource_request=True,
        api_prefix=prefix,
        group=group,
        version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
    )
