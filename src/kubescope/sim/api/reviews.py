"""TokenReview, SubjectAccessReview and SelfSubjectAccessReview: create-only resources answered
from the simulator's own tokens and rules, so extension API servers delegate to it as to
kube-apiserver."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.sim.api import bodies, responses
from kubescope.sim.api.context import ApiContext, ResourceRequest
from kubescope.sim.api.writing import not_allowed
from kubescope.sim.auth import User


async def review(ctx: ApiContext, r: ResourceRequest) -> web.StreamResponse:
    if r.http.method != "POST":
        raise not_allowed()
    t = r.type
    body = await bodies.read_object(r.http)
    spec = body.get("spec") or {}
    out: dict[str, Any] = {
        "kind": t.kind,
        "apiVersion": t.api_version,
        "metadata": {},
        "spec": spec,
    }
    if t.plural == "tokenreviews":
        out["status"] = _token_review(ctx, spec)
    else:
        subject = r.user if t.plural == "selfsubjectaccessreviews" else _subject(spec)
        allowed, reason = ctx.auth.authorize(subject, _attributes(spec))
        out["status"] = {"allowed": allowed, **({"reason": reason} if reason else {})}
    return responses.object_answer(r, out, 201)


def _token_review(ctx: ApiContext, spec: dict[str, Any]) -> dict[str, Any]:
    u = ctx.auth.authenticate_token(str(spec.get("token", "")))
    if u is None:
        return {"authenticated": False, "error": "invalid bearer token", "user": {}}
    return {
        "authenticated": True,
        "user": {"username": u.name, "uid": u.uid, "groups": list(u.groups)},
        "audiences": spec.get("audiences") or [],
    }


def _subject(spec: dict[str, Any]) -> User:
    return User(str(spec.get("user", "")), tuple(spec.get("groups") or ()), str(spec.get("uid", "")))


def _attributes(spec: dict[str, Any]) -> RequestInfo:
    """A review's resource or non-resource attributes as the request they describe."""
    ra = spec.get("resourceAttributes")
    if ra:
        return RequestInfo(
            path="",
            verb=str(ra.get("verb", "")),
            is_resource_request=True,
            group=str(ra.get("group", "")),
            version=str(ra.get("version", "")),
            namespace=str(ra.get("namespace", "")),
            resource=str(ra.get("resource", "")),
            subresource=str(ra.get("subresource", "")),
            name=str(ra.get("name", "")),
        )
    na = spec.get("nonResourceAttributes") or {}
    return RequestInfo(path=str(na.get("path", "")), verb=str(na.get("verb", "")))
