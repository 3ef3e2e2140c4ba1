"""Delegated authorization: ``SubjectAccessReview`` against the API server, cached, with bypasses.

As k8s.io/apiserver's delegating authorizer:

* non-resource paths in ``always_allow_paths`` are allowed for everyone (``/healthz``, ``/readyz``,
  ``/livez`` by default; a trailing ``*`` matches a prefix);
* members of ``system:masters`` are always allowed;
* everything else is a ``SubjectAccessReview`` (resource attributes: verb, group, version,
  resource, subresource, namespace, name; or non-resource: path, verb) carrying the user's name,
  uid, groups and extra. Answers are cached per review for ``authorized_ttl`` / ``unauthorized_ttl``
  seconds (10 s each, metrics-server's defaults); a review that fails is not cached and makes the
  request fail with 500, as the apiserver's ``InternalError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec

from kubescope.apiserver.authn import Poster, UserInfo
from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.errors import KubescopeError

PRIVILEGED_GROUP = "system:masters"


class AuthorizationError(KubescopeError):
    """The authorizer could not decide (the review failed): answer 500."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


class _SARStatus(msgspec.Struct, gc=False):
    allowed: bool = False
    denied: bool = False
    reason: str = ""
    evaluation_error: str = msgspec.field(default="", name="evaluationError")


class _SAR(msgspec.Struct, gc=False):
    status: _SARStatus = msgspec.field(default_factory=_SARStatus)


_sar_decoder = msgspec.json.Decoder(_SAR)


def review_spec(user: UserInfo, info: RequestInfo) -> dict[str, object]:
    """The ``spec`` of the SubjectAccessReview for a request."""
    spec: dict[str, object] = {}
    if info.is_resource_request:
        spec["resourceAttributes"] = {
            "namespace": info.namespace,
            "verb": info.verb,
            "group": info.group,
            "version": info.version,
            "resource": info.resource,
            "subresource": info.subresource,
            "name": info.name,
        }
    else:
        spec["nonResourceAttributes"] = {"path": info.path, "verb": info.verb}
    spec["user"] = user.name
    if user.groups:
        spec["groups"] = list(user.groups)
    if user.extra:
        spec["extra"] = {k: list(v) for k, v in user.extra}
    if user.uid:
        spec["uid"] = user.uid
    return spec


def path_allowed(path: str, patterns: Sequence[str]) -> bool:
    for p in patterns:
        if p.endswith("*"):
            if path.startswith(p[:-1]):
                return True
        elif path == p:
            return True
    return False


@dataclass
class Authorizer:
    post: Poster | None
    """None: nothing can be reviewed, only the bypasses allow."""
    always_allow_paths: tuple[str, ...] = ("/healthz", "/readyz", "/livez")
    always_allow_groups: tuple[str, ...] = (PRIVILEGED_GROUP,)
    authorized_ttl: float = 10.0
    unauthorized_ttl: float = 10.0
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    cache_hits: int = 0
    _cache: dict[bytes, tuple[float, Decision]] = field(default_factory=dict, repr=False)

    async def authorize(self, user: UserInfo, info: RequestInfo) -> Decision:
        if not info.is_resource_request and path_allowed(info.path, self.always_allow_paths):
            return Decision(True)
        if any(g in self.always_allow_groups for g in user.groups):
            return Decision(True)
        if self.post is None:
            return Decision(False, "no authorizer is configured")
        spec = review_spec(user, info)
        key = msgspec.json.encode(spec, order="sorted")
        now = self.clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            self.cache_hits += 1
            return hit[1]
        body = msgspec.json.encode(
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        )
        self.requests += 1
        try:
            raw = await self.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", body)
            st = _sar_decoder.decode(raw).status
        except (KubescopeError, msgspec.DecodeError) as e:
            raise AuthorizationError(f"subject access review failed: {e}") from e
        decision = Decision(st.allowed and not st.denied, st.reason or st.evaluation_error)
        if len(self._cache) > 10_000:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        ttl = self.authorized_ttl if decision.allowed else self.unauthorized_ttl
        self._cache[key] = (now + ttl, decision)
        return decision
