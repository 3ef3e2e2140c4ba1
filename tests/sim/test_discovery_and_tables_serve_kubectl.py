"""Discovery, OpenAPI, content negotiation and server-side Tables."""

from __future__ import annotations

import json

from tests.sim.conftest import Api, pod

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def by_name(resources: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in resources}


async def test_core_resource_list(api: Api) -> None:
    doc = await api.ok("GET", "/api/v1")
    assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "v1"
    rs = by_name(doc["resources"])
    assert rs["pods"] == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        "shortNames": ["po"],
        "categories": ["all"],
    }
    assert rs["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert rs["pods/eviction"]["kind"] == "Eviction" and rs["pods/eviction"]["group"] == "policy"
    assert rs["nodes/proxy"]["kind"] == "NodeProxyOptions"
    assert rs["nodes"]["namespaced"] is False
    short = {r["name"]: r.get("shortNames") for r in doc["resources"]}
    for name, sn in {
        "nodes": ["no"],
        "namespaces": ["ns"],
        "services": ["svc"],
        "configmaps": ["cm"],
        "persistentvolumes": ["pv"],
        "persistentvolumeclaims": ["pvc"],
        "serviceaccounts": ["sa"],
        "endpoints": ["ep"],
        "resourcequotas": ["quota"],
        "limitranges": ["limits"],
        "replicationcontrollers": ["rc"],
        "events": ["ev"],
    }.items():
        assert short[name] == sn, name


async def test_group_lists_and_short_names(api: Api) -> None:
    groups = await api.ok("GET", "/apis")
    assert groups["kind"] == "APIGroupList"
    names = {g["name"]: g for g in groups["groups"]}
    for g in (
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "storage.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
        "rbac.authorization.k8s.io",
        "apiregistration.k8s.io",
        "apiextensions.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
    ):
        assert g in names, g
    assert names["autoscaling"]["preferredVersion"]["version"] == "v2"
    apps = by_name((await api.ok("GET", "/apis/apps/v1"))["resources"])
    assert apps["deployments"]["shortNames"] == ["deploy"] and apps["deployments"]["categories"] == ["all"]
    assert apps["deployments/scale"]["kind"] == "Scale"
    assert by_name((await api.ok("GET", "/apis/autoscaling/v2"))["resources"])["horizontalpodautoscalers"][
        "shortNames"
    ] == ["hpa"]
    reviews = by_name((await api.ok("GET", "/apis/authentication.k8s.io/v1"))["resources"])
    assert reviews["tokenreviews"]["verbs"] == ["create"]
    group = await api.ok("GET", "/apis/apps")
    assert group["kind"] == "APIGroup" and group["preferredVersion"]["groupVersion"] == "apps/v1"


KUBECTL_DISCOVERY = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


async def test_protobuf_first_accept_gets_json(api: Api) -> None:
    code, raw, headers = await api.raw(
        "GET", "/apis", headers={"Accept": "application/vnd.kubernetes.protobuf, */*"}
    )
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(raw)["kind"] == "APIGroupList"


async def test_aggregated_discovery_for_kubectls_accept(api: Api) -> None:
    code, raw, headers = await api.raw("GET", "/apis", headers={"Accept": KUBECTL_DISCOVERY})
    assert code == 200
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    doc = json.loads(raw)
    assert doc["kind"] == "APIGroupDiscoveryList" and doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    groups = {i["metadata"]["name"]: i for i in doc["items"]}
    apps = groups["apps"]["versions"][0]
    assert apps["version"] == "v1" and apps["freshness"] == "Current"
    deploy = next(r for r in apps["resources"] if r["resource"] == "deployments")
    assert deploy["scope"] == "Namespaced" and deploy["shortNames"] == ["deploy"]
    assert deploy["responseKind"] == {"group": "", "version": "", "kind": "Deployment"}
    assert {s["subresource"]: s["responseKind"]["kind"] for s in deploy["subresources"]} == {
        "status": "Deployment",
        "scale": "Scale",
    }
    assert groups["autoscaling"]["versions"][0]["version"] == "v2"
    core = json.loads((await api.raw("GET", "/api", headers={"Accept": KUBECTL_DISCOVERY}))[1])
    assert [i["metadata"] for i in core["items"]] == [{}]  # the core group has no name
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["singularResource"] == "pod" and pods["categories"] == ["all"]
    # v2beta1 only, or plain JSON first: the legacy list
    for accept in (
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
        "application/json",
    ):
        legacy = json.loads((await api.raw("GET", "/apis", headers={"Accept": accept}))[1])
        assert legacy["kind"] == "APIGroupList"


async def test_version_health_and_openapi(api: Api) -> None:
    v = await api.ok("GET", "/version")
    assert v["major"] == "1" and v["gitVersion"].startswith("v1.")
    for path in ("/healthz", "/livez", "/readyz"):
        code, raw, _ = await api.raw("GET", path)
        assert (code, raw) == (200, b"ok")
    v3 = await api.ok("GET", "/openapi/v3")
    assert "api/v1" in v3["paths"] and "apis/apps/v1" in v3["paths"]
    doc = await api.ok("GET", v3["paths"]["apis/apps/v1"]["serverRelativeURL"])
    post = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"]
    assert post["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    v2 = await api.ok("GET", "/openapi/v2")
    assert v2["swagger"] == "2.0"


async def test_pod_table_has_the_apiservers_columns(api: Api) -> None:
    p = pod("web-1", node="n1")
    p["spec"]["containers"].append({"name": "side", "image": "envoy"})
    p["status"] = {
        "phase": "Running",
        "podIP": "10.0.0.7",
        "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 2, "state": {"running": {}}},
            {
                "name": "side",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            },
        ],
    }
    await api.ok("POST", "/api/v1/namespaces/default/pods", p)
    t = await api.ok("GET", "/api/v1/namespaces/default/pods", headers={"Accept": TABLE})
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    cols = [(c["name"], c["priority"]) for c in t["columnDefinitions"]]
    assert cols == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
    cells = t["rows"][0]["cells"]
    assert cells[:4] == ["web-1", "1/2", "CrashLoopBackOff", "2"]
    assert cells[5:7] == ["10.0.0.7", "n1"]
    assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert t["metadata"]["resourceVersion"] == str(api.sim.store.resource_version)
    one = await api.ok("GET", "/api/v1/namespaces/default/pods/web-1", headers={"Accept": TABLE})
    assert one["rows"][0]["cells"][0] == "web-1"


async def test_hpa_table_has_kubectls_targets_column(api: Api) -> None:
    """``kubectl get hpa``: kube's printHorizontalPodAutoscaler (current/target per metric, ``(avg)``
    for average Object/External values, at most two then ``+ N more...``)."""
    avg = {"type": "AverageValue", "averageValue": "30"}
    metrics = [
        {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": avg}},
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
        {"type": "External", "external": {"metric": {"name": "queue"}, "target": avg}},
    ]  # fmt: skip
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 6, "metrics": metrics},
        "status": {"currentReplicas": 4, "desiredReplicas": 4, "currentMetrics": [
            {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "39999m"}}},
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 41}}},
        ]},
    }  # fmt: skip
    await api.ok("POST", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", hpa)
    path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
    t = await api.ok("GET", path, headers={"Accept": TABLE})
    assert [c["name"] for c in t["columnDefinitions"]] == [
        "Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age",
    ]  # fmt: skip
    assert t["rows"][0]["cells"][:6] == [
        "web", "Deployment/web", "39999m/30, cpu: 41%/80% + 1 more...", "1", 6, 4,
    ]  # fmt: skip
    hpa["metadata"]["name"] = "bare"
    del hpa["spec"]["minReplicas"], hpa["status"]
    hpa["spec"]["metrics"] = metrics[2:]
    await api.ok("POST", path, hpa)
    one = await api.ok("GET", path + "/bare", headers={"Accept": TABLE})
    assert one["rows"][0]["cells"][2:6] == ["<unknown>/30 (avg)", "<unset>", 6, 0]


async def test_other_kinds_get_the_default_table(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c"}})
    t = await api.ok("GET", "/api/v1/namespaces/default/configmaps", headers={"Accept": TABLE})
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Created At"]
    assert t["rows"][0]["cells"][0] == "c"


async def test_watch_tables_send_columns_once(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces/default/pods", pod("a"))

    async def more() -> None:
        await api.ok("POST", "/api/v1/namespaces/default/pods", pod("b"))

    evs = await api.watch(
        "/api/v1/namespaces/default/pods?watch=true",
        lambda e: len(e) >= 2,
        headers={"Accept": TABLE},
        during=more,
    )
    assert evs[0]["object"]["kind"] == "Table" and "columnDefinitions" in evs[0]["object"]
    assert "columnDefinitions" not in evs[1]["object"]
    assert evs[1]["object"]["rows"][0]["cells"][0] == "b"


async def test_pod_logs_eviction_and_binding(api: Api) -> None:
    await api.ok("POST", "/api/v1/namespaces/default/pods", pod("p"))
    code, raw, headers = await api.raw("GET", "/api/v1/namespaces/default/pods/p/log")
    assert code == 200 and headers["Content-Type"].startswith("text/plain") and b"app" in raw
    await api.ok(
        "POST",
        "/api/v1/namespaces/default/pods/p/binding",
        {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "p"},
            "target": {"kind": "Node", "name": "n9"},
        },
    )
    assert (await api.ok("GET", "/api/v1/namespaces/default/pods/p"))["spec"]["nodeName"] == "n9"
    code, _ = await api.call(
        "POST",
        "/api/v1/namespaces/default/pods/p/eviction",
        {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p", "namespace": "default"}},
    )
    assert code == 201
    code, _ = await api.call("GET", "/api/v1/namespaces/default/pods/p")
    assert code == 404


async def test_custom_resources_are_served_once_defined(api: Api) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}}],
        },
    }
    await api.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    got = await api.ok("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    assert {c["type"]: c["status"] for c in got["status"]["conditions"]} == {
        "NamesAccepted": "True",
        "Established": "True",
    }
    rs = by_name((await api.ok("GET", "/apis/example.com/v1"))["resources"])
    assert rs["widgets"]["shortNames"] == ["wd"] and "widgets/status" in rs
    w = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
    await api.ok("POST", "/apis/example.com/v1/namespaces/default/widgets", w)
    items = (await api.ok("GET", "/apis/example.com/v1/widgets"))["items"]
    assert [i["metadata"]["name"] for i in items] == ["w"] and items[0]["kind"] == "Widget"
    await api.ok("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    code, body, _ = await api.raw("GET", "/apis/example.com/v1/widgets")
    assert (code, body) == (404, b"404 page not found\n")
    assert api.sim.store.count("widgets.example.com") == 0
