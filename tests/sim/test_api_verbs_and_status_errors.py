"""The REST verbs over HTTP and kube-apiserver's Status errors."""

from __future__ import annotations

import json

from tests.sim.conftest import Api, configmap, pod

CMS = "/api/v1/namespaces/default/configmaps"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


def deployment(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                        {"name": "side", "image": "busybox"},
                    ]
                },
            },
        },
    }


async def test_not_found_status(api: Api) -> None:
    code, doc = await api.call("GET", CMS + "/nope")
    assert code == 404
    assert doc == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "configmaps"},
        "code": 404,
    }


async def test_create_conflict_and_namespace_checks(api: Api) -> None:
    created = await api.ok("POST", DEPLOYS, deployment("web"))
    assert created["metadata"]["namespace"] == "default"
    code, doc = await api.call("POST", DEPLOYS, deployment("web"))
    assert (code, doc["reason"], doc["message"]) == (
        409,
        "AlreadyExists",
        'deployments.apps "web" already exists',
    )
    code, doc = await api.call("POST", "/api/v1/namespaces/missing/configmaps", configmap("a", "missing"))
    assert (code, doc["message"]) == (404, 'namespaces "missing" not found')
    code, doc = await api.call("POST", CMS, configmap("a", "elsewhere"))
    assert code == 400
    assert (
        doc["message"]
        == "the namespace of the provided object does not match the namespace sent on the request"
    )


async def test_put_with_stale_version_is_409(api: Api) -> None:
    cm = await api.ok("POST", CMS, configmap("a", k="1"))
    await api.ok("PUT", CMS + "/a", {**cm, "data": {"k": "2"}})
    code, doc = await api.call("PUT", CMS + "/a", {**cm, "data": {"k": "3"}})
    assert code == 409 and doc["reason"] == "Conflict"
    assert doc["message"].startswith(
        'Operation cannot be fulfilled on configmaps "a": the object has been modified'
    )


async def test_status_subresource_and_main_resource_split(api: Api) -> None:
    d = await api.ok("POST", DEPLOYS, deployment("web"))
    d["status"] = {"replicas": 2, "readyReplicas": 2}
    await api.ok("PUT", DEPLOYS + "/web/status", d)
    got = await api.ok("GET", DEPLOYS + "/web")
    assert got["status"] == {"replicas": 2, "readyReplicas": 2}
    got["status"] = {"replicas": 0}
    got["spec"]["replicas"] = 5
    put = await api.ok("PUT", DEPLOYS + "/web", got)
    assert put["status"] == {"replicas": 2, "readyReplicas": 2} and put["metadata"]["generation"] == 2
    patched = await api.ok(
        "PATCH",
        DEPLOYS + "/web/status",
        {"status": {"readyReplicas": 1}},
        content_type="application/merge-patch+json",
    )
    assert patched["status"]["readyReplicas"] == 1 and patched["metadata"]["generation"] == 2


async def test_scale_subresource(api: Api) -> None:
    await api.ok("POST", DEPLOYS, deployment("web"))
    scale = await api.ok("GET", DEPLOYS + "/web/scale")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 2} and scale["status"]["selector"] == "app=web"
    scale["spec"]["replicas"] = 4
    await api.ok("PUT", DEPLOYS + "/web/scale", scale)
    await api.ok(
        "PATCH",
        DEPLOYS + "/web/scale",
        {"spec": {"replicas": 6}},
        content_type="application/merge-patch+json",
    )
    assert (await api.ok("GET", DEPLOYS + "/web"))["spec"]["replicas"] == 6


async def test_patch_types(api: Api) -> None:
    await api.ok("POST", DEPLOYS, deployment("web"))
    smp = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:2", "env": [{"name": "B", "value": "2"}]},
                        {"name": "side", "$patch": "delete"},
                    ]
                }
            }
        }
    }
    out = await api.ok("PATCH", DEPLOYS + "/web", smp, content_type="application/strategic-merge-patch+json")
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app"]
    assert containers[0]["image"] == "nginx:2"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    jp = [
        {"op": "replace", "path": "/spec/replicas", "value": 9},
        {"op": "add", "path": "/metadata/labels/x", "value": "y"},
    ]
    out = await api.ok("PATCH", DEPLOYS + "/web", jp, content_type="application/json-patch+json")
    assert out["spec"]["replicas"] == 9 and out["metadata"]["labels"]["x"] == "y"
    out = await api.ok(
        "PATCH",
        DEPLOYS + "/web",
        {"metadata": {"labels": {"x": None}}},
        content_type="application/merge-patch+json",
    )
    assert "x" not in out["metadata"]["labels"]
    code, doc = await api.call("PATCH", DEPLOYS + "/web", {"a": 1}, content_type="text/plain")
    assert code == 415 and doc["reason"] == "UnsupportedMediaType"


async def test_server_side_apply_creates_then_merges(api: Api) -> None:
    body = json.dumps(configmap("applied", k="1")).encode()
    ct = "application/apply-patch+yaml"
    code, doc = await api.call("PATCH", CMS + "/applied?fieldManager=me", body, content_type=ct)
    assert code == 201 and doc["data"] == {"k": "1"}
    code, doc = await api.call(
        "PATCH",
        CMS + "/applied?fieldManager=me",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {j: '2'}\n",
        content_type=ct,
    )
    assert code == 200 and doc["data"] == {"k": "1", "j": "2"}


async def test_delete_answers_and_dry_run(api: Api) -> None:
    cm = await api.ok("POST", CMS, configmap("a"))
    kept = await api.ok("DELETE", CMS + "/a?dryRun=All")
    assert kept["metadata"]["name"] == "a"
    code, doc = await api.call(
        "DELETE", CMS + "/a", {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "x"}}
    )
    assert code == 409 and "Precondition failed: UID in precondition: x" in doc["message"]
    doc = await api.ok(
        "DELETE", CMS + "/a", {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    )
    assert doc == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "a", "kind": "configmaps", "uid": cm["metadata"]["uid"]},
    }
    await api.ok("POST", "/api/v1/namespaces/default/pods", pod("p"))
    deleted = await api.ok("DELETE", "/api/v1/namespaces/default/pods/p")
    assert deleted["kind"] == "Pod"  # pods return the deleted object


async def test_delete_collection_with_selector(api: Api) -> None:
    for name, tier in (("a", "x"), ("b", "y"), ("c", "x")):
        cm = configmap(name)
        cm["metadata"]["labels"] = {"tier": tier}
        await api.ok("POST", CMS, cm)
    await api.ok("DELETE", CMS + "?labelSelector=tier%3Dx")
    left = await api.ok("GET", CMS)
    assert [o["metadata"]["name"] for o in left["items"]] == ["b"]


async def test_list_shape_and_pagination_over_http(api: Api) -> None:
    for i in range(5):
        await api.ok("POST", CMS, configmap(f"c{i}"))
    page = await api.ok("GET", CMS + "?limit=2")
    assert page["kind"] == "ConfigMapList" and page["apiVersion"] == "v1"
    assert page["metadata"]["remainingItemCount"] == 3
    names = [o["metadata"]["name"] for o in page["items"]]
    while page["metadata"].get("continue"):
        page = await api.ok("GET", CMS + "?limit=2&continue=" + page["metadata"]["continue"])
        names += [o["metadata"]["name"] for o in page["items"]]
    assert names == [f"c{i}" for i in range(5)]


async def test_expired_continue_over_http_is_410_with_a_new_token(api: Api) -> None:
    for i in range(3):
        await api.ok("POST", CMS, configmap(f"c{i}"))
    page = await api.ok("GET", CMS + "?limit=1")
    api.sim.store.snapshots.clear()
    code, doc = await api.call("GET", CMS + "?limit=1&continue=" + page["metadata"]["continue"])
    assert code == 410 and doc["reason"] == "Expired"
    assert doc["message"].startswith(
        "The provided continue parameter is too old to display a consistent list result."
    )
    nxt = await api.ok("GET", CMS + "?limit=5&continue=" + doc["metadata"]["continue"])
    assert [o["metadata"]["name"] for o in nxt["items"]] == ["c1", "c2"]


async def test_selectors_over_http(api: Api) -> None:
    for name, labels, node, phase in (
        ("a", {"app": "web", "env": "prod"}, "n1", "Running"),
        ("b", {"app": "web"}, "n2", "Pending"),
        ("c", {"app": "db", "env": "dev"}, "n1", "Running"),
    ):
        await api.ok(
            "POST", "/api/v1/namespaces/default/pods", pod(name, labels=labels, node=node, phase=phase)
        )

    async def names(q: str) -> list[str]:
        return [o["metadata"]["name"] for o in (await api.ok("GET", "/api/v1/pods?" + q))["items"]]

    assert await names("labelSelector=app%3Dweb,env") == ["a"]
    assert await names("labelSelector=!env") == ["b"]
    assert await names("labelSelector=env+notin+(prod)") == ["b", "c"]
    assert await names("labelSelector=app!%3Ddb") == ["a", "b"]
    assert await names("fieldSelector=status.phase%3DRunning,spec.nodeName!%3Dn2") == ["a", "c"]
    assert await names("fieldSelector=metadata.name%3D%3Db") == ["b"]
    code, doc = await api.call("GET", "/api/v1/pods?fieldSelector=spec.foo%3Dx")
    assert (code, doc["reason"], doc["message"]) == (400, "BadRequest", "field label not supported: spec.foo")
    code, doc = await api.call("GET", "/api/v1/pods?labelSelector=a+in+b")
    assert code == 400 and doc["reason"] == "BadRequest"


async def test_protobuf_bodies_are_refused_with_415(api: Api) -> None:
    code, doc = await api.call(
        "POST", CMS, b"k8s\x00\n\x0c\n\x02v1", content_type="application/vnd.kubernetes.protobuf"
    )
    assert code == 415 and doc["reason"] == "UnsupportedMediaType"


async def test_unknown_paths_and_methods(api: Api) -> None:
    code, doc = await api.call("GET", "/api/v1/widgets")
    assert code == 404 and doc["message"] == "the server could not find the requested resource"
    code, doc = await api.call("POST", CMS + "/a", configmap("a"))
    assert code == 405 and doc["reason"] == "MethodNotAllowed"
    code, body, _ = await api.raw("GET", "/nothing-here")
    assert (code, body) == (404, b"404 page not found\n")


async def test_yaml_bodies_are_accepted(api: Api) -> None:
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n"
    doc = await api.ok("POST", CMS, body, content_type="application/yaml")
    assert doc["data"] == {"k": "v"}


async def test_strategic_merge_uses_each_lists_merge_key(api: Api) -> None:
    svc = {
        "metadata": {"name": "s"},
        "spec": {
            "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
            "selector": {"a": "b"},
        },
    }
    await api.ok("POST", "/api/v1/namespaces/default/services", svc)
    patch = {"spec": {"ports": [{"port": 443, "name": "tls"}, {"port": 8080, "name": "alt"}]}}
    out = await api.ok(
        "PATCH",
        "/api/v1/namespaces/default/services/s",
        patch,
        content_type="application/strategic-merge-patch+json",
    )
    assert [(p["port"], p["name"]) for p in out["spec"]["ports"]] == [
        (80, "http"),
        (443, "tls"),
        (8080, "alt"),
    ]
    p = pod("p")
    p["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "name": "web"}]
    await api.ok("POST", "/api/v1/namespaces/default/pods", p)
    patch = {
        "spec": {
            "containers": [
                {"name": "app", "ports": [{"containerPort": 80, "name": "www"}, {"containerPort": 9090}]}
            ]
        }
    }
    out = await api.ok(
        "PATCH",
        "/api/v1/namespaces/default/pods/p",
        patch,
        content_type="application/strategic-merge-patch+json",
    )
    assert [(q["containerPort"], q.get("name")) for q in out["spec"]["containers"][0]["ports"]] == [
        (80, "www"),
        (9090, None),
    ]
