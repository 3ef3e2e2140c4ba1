"""Delegated authentication and authorization: front proxy, client certificates, TokenReview and
SubjectAccessReview answers with their caches, and the Status bodies of refusals."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import msgspec
import pytest
from multidict import CIMultiDict

from kubescope.apiserver import status
from kubescope.apiserver.authn import (
    ANONYMOUS,
    AuthConfig,
    AuthenticationError,
    Authenticator,
    RequestHeaderConfig,
    TokenReviewer,
    UserInfo,
    config_from_configmap,
)
from kubescope.apiserver.authz import AuthorizationError, Authorizer, review_spec
from kubescope.apiserver.requestinfo import request_info
from kubescope.errors import ServerError
from tests.apiserver.certs import issue, make_ca

FRONT_CA = make_ca("front-proxy-ca")
CLIENT_CA = make_ca("client-ca")
OTHER_CA = make_ca("other")
PROXY = issue(FRONT_CA, "front-proxy-client")
ALICE = issue(CLIENT_CA, "alice", ("devs", "ops"))


def config(allowed: tuple[str, ...] = ()) -> AuthConfig:
    return AuthConfig(
        client_ca=(CLIENT_CA.cert,),
        client_ca_pem=CLIENT_CA.pem.decode(),
        requestheader=RequestHeaderConfig(
            ca=(FRONT_CA.cert,), ca_pem=FRONT_CA.pem.decode(), allowed_names=allowed
        ),
    )


class FakeAPIServer:
    """Answers TokenReview and SubjectAccessReview POSTs like kube-apiserver would, counting them."""

    def __init__(
        self, tokens: dict[str, UserInfo], allowed: set[tuple[str, str]], fail: bool = False
    ) -> None:
        self.tokens = tokens
        self.allowed = allowed
        self.fail = fail
        self.posts: list[tuple[str, dict[str, object]]] = []

    def poster(self) -> Callable[[str, bytes], Awaitable[bytes]]:
        async def post(path: str, body: bytes) -> bytes:
            req = json.loads(body)
            self.posts.append((path, req))
            if self.fail:
                raise ServerError(503, "ServiceUnavailable", "try later")
            if path.endswith("/tokenreviews"):
                u = self.tokens.get(req["spec"]["token"])
                st: dict[str, object] = {"authenticated": False}
                if u is not None:
                    st = {"authenticated": True, "user": {"username": u.name, "groups": list(u.groups)}}
                return msgspec.json.encode({"kind": "TokenReview", "status": st})
            spec = req["spec"]
            attrs = spec.get("resourceAttributes") or spec.get("nonResourceAttributes")
            key = (spec["user"], attrs.get("resource") or attrs.get("path"))
            return msgspec.json.encode({"status": {"allowed": key in self.allowed}})

        return post


async def test_front_proxy_headers_are_trusted_from_the_proxy_certificate() -> None:
    a = Authenticator(config(("front-proxy-client",)))
    headers = CIMultiDict(
        [
            ("X-Remote-User", "bob"),
            ("X-Remote-Group", "devs"),
            ("X-Remote-Group", "system:authenticated"),
            ("X-Remote-Extra-Scopes", "a"),
            ("X-Remote-Extra-Acme.com%2Fproject", "p1"),
        ]
    )
    user = await a.authenticate(headers, PROXY.der)
    assert user == UserInfo(
        "bob",
        groups=("devs", "system:authenticated"),
        extra=(("acme.com/project", ("p1",)), ("scopes", ("a",))),
    )


async def test_front_proxy_headers_without_proxy_certificate_are_ignored() -> None:
    a = Authenticator(config())
    user = await a.authenticate(
        CIMultiDict({"X-Remote-User": "admin", "X-Remote-Group": "system:masters"}), None
    )
    assert user == ANONYMOUS
    # a client certificate is not a proxy certificate: the headers are ignored, the cert's identity used
    user = await a.authenticate(CIMultiDict({"X-Remote-User": "admin"}), ALICE.der)
    assert user.name == "alice"


async def test_proxy_name_not_allowed_is_unauthorized() -> None:
    a = Authenticator(config(("someone-else",)))
    with pytest.raises(AuthenticationError, match="not in the allowed list"):
        await a.authenticate(CIMultiDict({"X-Remote-User": "bob"}), PROXY.der)


async def test_proxy_certificate_without_user_header_falls_through() -> None:
    a = Authenticator(config(("front-proxy-client",)), anonymous=True)
    with pytest.raises(AuthenticationError):
        # signed by the front-proxy CA but not the client CA: x509 auth fails, nothing succeeds
        await a.authenticate(CIMultiDict(), PROXY.der)


async def test_client_certificate_identity() -> None:
    user = await Authenticator(config()).authenticate(CIMultiDict(), ALICE.der)
    assert user == UserInfo("alice", groups=("devs", "ops", "system:authenticated"))


async def test_server_only_certificate_is_not_a_client_identity() -> None:
    server_cert = issue(CLIENT_CA, "kubelet", client=False)
    with pytest.raises(AuthenticationError):
        await Authenticator(config()).authenticate(CIMultiDict(), server_cert.der)


async def test_bearer_tokens_are_reviewed_and_cached() -> None:
    api = FakeAPIServer({"good": UserInfo("carol", groups=("team",))}, set())
    now = [0.0]
    reviewer = TokenReviewer(api.poster(), cache_ttl=10, clock=lambda: now[0])
    a = Authenticator(config(), tokens=reviewer)
    user = await a.authenticate(CIMultiDict({"Authorization": "Bearer good"}), None)
    assert user == UserInfo("carol", groups=("team", "system:authenticated"))
    await a.authenticate(CIMultiDict({"Authorization": "bearer good"}), None)
    assert len(api.posts) == 1
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="invalid bearer token"):
            await a.authenticate(CIMultiDict({"Authorization": "Bearer bad"}), None)
    assert len(api.posts) == 2  # the rejection is cached too
    now[0] = 11
    await a.authenticate(CIMultiDict({"Authorization": "Bearer good"}), None)
    assert len(api.posts) == 3
    assert api.posts[0][0] == "/apis/authentication.k8s.io/v1/tokenreviews"
    assert api.posts[0][1] == {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": "good"},
    }


async def test_unreachable_token_review_is_unauthorized_and_not_cached() -> None:
    api = FakeAPIServer({}, set(), fail=True)
    a = Authenticator(config(), tokens=TokenReviewer(api.poster()))
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="token review failed"):
            await a.authenticate(CIMultiDict({"Authorization": "Bearer x"}), None)
    assert len(api.posts) == 2


async def test_anonymous_can_be_disabled() -> None:
    with pytest.raises(AuthenticationError):
        await Authenticator(config(), anonymous=False).authenticate(CIMultiDict(), None)


def test_configmap_parsing() -> None:
    data = {
        "client-ca-file": CLIENT_CA.pem.decode(),
        "requestheader-client-ca-file": FRONT_CA.pem.decode(),
        "requestheader-allowed-names": '["front-proxy-client"]',
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-username-headers": '["X-Remote-User"]',
    }
    client_ca, rh = config_from_configmap(data)
    assert client_ca == data["client-ca-file"]
    assert rh is not None
    assert rh.allowed_names == ("front-proxy-client",)
    assert rh.username_headers == ("X-Remote-User",)
    assert rh.ca[0].subject == FRONT_CA.cert.subject


async def test_authorization_bypasses_review_and_cache() -> None:
    api = FakeAPIServer({}, {("bob", "nodes"), ("bob", "/metrics")})
    now = [0.0]
    authz = Authorizer(api.poster(), clock=lambda: now[0])
    bob = UserInfo("bob", groups=("system:authenticated",))
    nodes = request_info("GET", "/apis/metrics.k8s.io/v1/nodes", {})
    pods = request_info("GET", "/apis/metrics.k8s.io/v1/namespaces/ns/pods/p", {})
    assert (await authz.authorize(ANONYMOUS, request_info("GET", "/readyz", {}))).allowed
    assert (await authz.authorize(UserInfo("root", groups=("system:masters",)), pods)).allowed
    assert api.posts == []
    assert (await authz.authorize(bob, nodes)).allowed
    assert not (await authz.authorize(bob, pods)).allowed
    assert (await authz.authorize(bob, request_info("GET", "/metrics", {}))).allowed
    assert len(api.posts) == 3
    await authz.authorize(bob, nodes)
    await authz.authorize(bob, pods)
    assert len(api.posts) == 3
    now[0] = 10.5
    await authz.authorize(bob, pods)
    assert len(api.posts) == 4
    assert api.posts[1][1]["spec"] == {
        "resourceAttributes": {
            "namespace": "ns",
            "verb": "get",
            "group": "metrics.k8s.io",
            "version": "v1",
            "resource": "pods",
            "subresource": "",
            "name": "p",
        },
        "user": "bob",
        "groups": ["system:authenticated"],
    }


async def test_failed_review_is_an_error() -> None:
    authz = Authorizer(FakeAPIServer({}, set(), fail=True).poster())
    with pytest.raises(AuthorizationError):
        await authz.authorize(ANONYMOUS, request_info("GET", "/apis/metrics.k8s.io/v1/nodes", {}))


def test_review_spec_for_non_resource_paths() -> None:
    spec = review_spec(ANONYMOUS, request_info("GET", "/apis/metrics.k8s.io", {}))
    assert spec == {
        "nonResourceAttributes": {"path": "/apis/metrics.k8s.io", "verb": "get"},
        "user": "system:anonymous",
        "groups": ["system:unauthenticated"],
    }


@pytest.mark.parametrize(
    ("method", "path", "query", "want"),
    [
        ("GET", "/apis/metrics.k8s.io/v1beta1/nodes", {}, ("list", "", "nodes", "")),
        ("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1", {}, ("get", "", "nodes", "n1")),
        ("GET", "/apis/metrics.k8s.io/v1beta1/pods", {"watch": "true"}, ("watch", "", "pods", "")),
        ("GET", "/apis/metrics.k8s.io/v1/namespaces/ns/pods", {}, ("list", "ns", "pods", "")),
        ("DELETE", "/apis/metrics.k8s.io/v1/namespaces/ns/pods", {}, ("deletecollection", "ns", "pods", "")),
        ("POST", "/apis/metrics.k8s.io/v1/namespaces/ns/pods/p", {}, ("create", "ns", "pods", "p")),
        # the deprecated /watch/ paths put the verb in the path
        ("GET", "/api/v1/watch/namespaces/ns/pods", {}, ("watch", "ns", "pods", "")),
        ("GET", "/apis/apps/v1/watch/deployments", {}, ("watch", "", "deployments", "")),
        # a namespace is named by its own path
        ("GET", "/api/v1/namespaces/ns", {}, ("get", "ns", "namespaces", "ns")),
    ],
)
def test_request_info(method: str, path: str, query: dict[str, str], want: tuple[str, ...]) -> None:
    info = request_info(method, path, query)
    assert info.is_resource_request
    assert (info.verb, info.namespace, info.resource, info.name) == want


@pytest.mark.parametrize("sub", ["status", "finalize"])
def test_a_namespaces_own_subresources_are_not_resources(sub: str) -> None:
    """k8s' RequestInfoFactory: ``/namespaces/<ns>/status`` is the namespace's status, not a
    resource named ``status`` in that namespace."""
    info = request_info("PUT", f"/api/v1/namespaces/ns/{sub}", {})
    assert (info.verb, info.resource, info.name, info.subresource) == ("update", "namespaces", "ns", sub)


@pytest.mark.parametrize(
    "path", ["/apis", "/apis/metrics.k8s.io", "/apis/metrics.k8s.io/v1", "/metrics", "/"]
)
def test_non_resource_requests(path: str) -> None:
    info = request_info("GET", path, {})
    assert not info.is_resource_request and info.verb == "get"


def test_forbidden_bodies_like_the_apiserver() -> None:
    code, raw = status.forbidden(
        request_info("GET", "/apis/metrics.k8s.io/v1beta1/nodes", {}), "system:anonymous"
    )
    assert code == 403
    assert json.loads(raw) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'nodes.metrics.k8s.io is forbidden: User "system:anonymous" cannot list resource "nodes" '
        'in API group "metrics.k8s.io" at the cluster scope',
        "reason": "Forbidden",
        "details": {"group": "metrics.k8s.io", "kind": "nodes"},
        "code": 403,
    }
    _, raw = status.forbidden(request_info("GET", "/apis/metrics.k8s.io/v1/namespaces/ns/pods/p", {}), "bob")
    assert json.loads(raw)["message"] == (
        'pods.metrics.k8s.io "p" is forbidden: User "bob" cannot get resource "pods" in API group '
        '"metrics.k8s.io" in the namespace "ns"'
    )
    _, raw = status.forbidden(request_info("GET", "/metrics", {}), "bob", "no RBAC policy matched")
    assert (
        json.loads(raw)["message"]
        == 'forbidden: User "bob" cannot get path "/metrics": no RBAC policy matched'
    )
    assert json.loads(status.unauthorized()[1]) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
