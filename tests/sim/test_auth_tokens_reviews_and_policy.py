"""TLS, bearer tokens, the rule-based policy, TokenReview and SubjectAccessReview."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.errors import ConfigError
from kubescope.sim.auth import AuthConfig, User
from tests.sim.conftest import Api


async def test_no_or_unknown_token_is_401_with_a_status(tls_api: Api) -> None:
    for token in ("", "wrong"):
        code, doc = await tls_api.call("GET", "/api/v1/pods", token=token)
        assert code == 401
        assert doc == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }


async def test_health_is_open_and_the_server_certificate_is_the_generated_cas(tls_api: Api) -> None:
    code, _, _ = await tls_api.raw("GET", "/healthz", token="")
    assert code == 200
    assert tls_api.url.startswith("https://127.0.0.1:")
    strict = ssl.create_default_context()  # system roots only: the simulator's CA is not among them
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        async with tls_api.session.get(tls_api.url + "/healthz", ssl=strict):
            pass


async def test_rules_allow_and_forbid_with_the_apiservers_message(tls_api: Api) -> None:
    await tls_api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "shop"}})
    code, doc = await tls_api.call("GET", "/api/v1/namespaces/shop/pods", token="alice-token")
    assert code == 200 and doc["kind"] == "PodList"
    code, doc = await tls_api.call("GET", "/api/v1/namespaces/default/pods", token="alice-token")
    assert code == 403 and doc["reason"] == "Forbidden"
    assert doc["message"] == (
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"'
    )
    code, doc = await tls_api.call("DELETE", "/api/v1/namespaces/shop/pods/x", token="alice-token")
    assert code == 403
    # discovery is open to every authenticated user, as system:discovery grants
    code, _ = await tls_api.call("GET", "/apis", token="bob-token")
    assert code == 200
    code, _ = await tls_api.call("GET", "/api/v1/nodes", token="bob-token")
    assert code == 403


async def test_token_review_answers_from_the_static_tokens(tls_api: Api) -> None:
    path = "/apis/authentication.k8s.io/v1/tokenreviews"
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "alice-token"}}
    code, doc = await tls_api.call("POST", path, body)
    assert code == 201 and doc["kind"] == "TokenReview"
    assert doc["status"]["authenticated"] is True
    assert doc["status"]["user"]["username"] == "alice"
    assert doc["status"]["user"]["groups"] == ["dev", "system:authenticated"]
    body["spec"]["token"] = "forged"
    doc = await tls_api.ok("POST", path, body)
    assert doc["status"]["authenticated"] is False
    # only callers allowed to create tokenreviews may ask
    code, _ = await tls_api.call("POST", path, body, token="bob-token")
    assert code == 403


async def test_subject_access_review_applies_the_policy(tls_api: Api) -> None:
    path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

    async def allowed(spec: dict) -> bool:
        doc = await tls_api.ok(
            "POST",
            path,
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec},
        )
        assert doc["kind"] == "SubjectAccessReview"
        return bool(doc["status"]["allowed"])

    pods_in = lambda ns, verb="list": {"resource": "pods", "namespace": ns, "verb": verb, "version": "v1"}  # noqa: E731
    assert await allowed({"user": "alice", "groups": ["dev"], "resourceAttributes": pods_in("shop")})
    assert not await allowed({"user": "alice", "groups": ["dev"], "resourceAttributes": pods_in("default")})
    assert not await allowed({"user": "alice", "resourceAttributes": pods_in("shop", "delete")})
    assert await allowed(
        {"user": "x", "groups": ["monitoring"], "nonResourceAttributes": {"path": "/metrics", "verb": "get"}}
    )
    assert not await allowed(
        {"user": "x", "groups": ["monitoring"], "nonResourceAttributes": {"path": "/logs", "verb": "get"}}
    )
    assert await allowed(
        {"user": "root", "groups": ["system:masters"], "resourceAttributes": pods_in("any", "delete")}
    )


async def test_self_subject_access_review_is_open_to_every_user(tls_api: Api) -> None:
    doc = await tls_api.ok(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {"spec": {"resourceAttributes": {"resource": "pods", "namespace": "shop", "verb": "get"}}},
        token="alice-token",
    )
    assert doc["status"]["allowed"] is True


async def test_extension_apiserver_authentication_configmap(tls_api: Api) -> None:
    cm = await tls_api.ok(
        "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
    )
    data = cm["data"]
    assert data["client-ca-file"].startswith("-----BEGIN CERTIFICATE-----")
    assert data["requestheader-client-ca-file"] != data["client-ca-file"]
    assert json.loads(data["requestheader-allowed-names"]) == ["front-proxy-client"]
    assert json.loads(data["requestheader-username-headers"]) == ["X-Remote-User"]
    assert json.loads(data["requestheader-group-headers"]) == ["X-Remote-Group"]
    assert json.loads(data["requestheader-extra-headers-prefix"]) == ["X-Remote-Extra-"]


async def test_client_certificates_signed_by_the_cluster_ca_authenticate(
    tls_api: Api, tmp_path: Path
) -> None:
    pki = tls_api.sim.pki
    assert pki is not None
    pair = pki.ca.issue("carol", client=True, orgs=("system:masters",))
    (tmp_path / "c.crt").write_bytes(pair.cert_pem)
    (tmp_path / "c.key").write_bytes(pair.key_pem)
    ctx = ssl.create_default_context(cadata=pki.ca.pem.decode())
    ctx.load_cert_chain(str(tmp_path / "c.crt"), str(tmp_path / "c.key"))
    async with tls_api.session.get(tls_api.url + "/api/v1/nodes", ssl=ctx) as r:
        assert r.status == 200


def test_auth_file_problems_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "auth.yaml"
    bad.write_text("tokens:\n  - {user: x}\n")
    with pytest.raises(ConfigError, match=r"--auth-file=.*auth.yaml: each token needs 'token' and 'user'"):
        AuthConfig.load(str(bad))
    with pytest.raises(ConfigError, match="cannot read it"):
        AuthConfig.load(str(tmp_path / "missing.yaml"))


def test_policy_rules_match_wildcards_and_subresources() -> None:
    cfg = AuthConfig(admin_token="adm")
    cfg.rules += AuthConfig.load_rules(
        [{"users": ["u"], "verbs": ["get"], "apiGroups": ["apps"], "resources": ["*/scale"]}]
    )
    u = User("u", ("system:authenticated",))
    scale = RequestInfo(
        path="",
        verb="get",
        is_resource_request=True,
        group="apps",
        resource="deployments",
        subresource="scale",
    )
    assert cfg.authorize(u, scale)[0]
    main = RequestInfo(path="", verb="get", is_resource_request=True, group="apps", resource="deployments")
    assert not cfg.authorize(u, main)[0]


async def test_service_account_token_requests(tls_api: Api) -> None:
    await tls_api.ok("POST", "/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "robot"}})
    tr = await tls_api.ok(
        "POST",
        "/api/v1/namespaces/default/serviceaccounts/robot/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"audiences": ["x"]}},
    )
    assert tr["kind"] == "TokenRequest" and tr["spec"]["expirationSeconds"] == 3600
    token = tr["status"]["token"]
    review = await tls_api.ok(
        "POST", "/apis/authentication.k8s.io/v1/tokenreviews", {"spec": {"token": token}}
    )
    assert review["status"]["user"]["username"] == "system:serviceaccount:default:robot"
    assert review["status"]["user"]["groups"] == [
        "system:serviceaccounts",
        "system:serviceaccounts:default",
        "system:authenticated",
    ]
    code, doc = await tls_api.call("GET", "/api/v1/namespaces/default/pods", token=token)
    assert code == 403 and 'User "system:serviceaccount:default:robot" cannot list' in doc["message"]
    code, doc = await tls_api.call(
        "POST", "/api/v1/namespaces/default/serviceaccounts/ghost/token", {"spec": {}}
    )
    assert code == 404 and doc["message"] == 'serviceaccounts "ghost" not found'
    code, doc = await tls_api.call(
        "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", {"spec": {"expirationSeconds": 60}}
    )
    assert code == 422 and "may not specify a duration less than 10 minutes" in doc["message"]


def test_issued_tokens_expire() -> None:
    cfg = AuthConfig(admin_token="adm")
    token, _ = cfg.issue_service_account_token("ns", "sa", 600)
    assert cfg.authenticate_token(token) is not None
    cfg.expiries[token] = 0
    assert cfg.authenticate_token(token) is None


async def test_legacy_watch_paths_are_authorized_as_watches(tls_api: Api) -> None:
    await tls_api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "shop"}})
    evs = await tls_api.watch(
        "/api/v1/watch/namespaces/shop/pods?timeoutSeconds=1", lambda e: False, token="alice-token"
    )
    assert evs == []
    code, doc = await tls_api.call("GET", "/api/v1/watch/namespaces/default/pods", token="alice-token")
    assert code == 403 and 'cannot watch resource "pods"' in doc["message"]
