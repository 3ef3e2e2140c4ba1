"""kube-apiserver's defaulting of the built-in types, for objects created through the API."""

from __future__ import annotations

from kubescope.sim.defaults import qos_class
from tests.sim.conftest import Api


async def test_pod_defaults(api: Api) -> None:
    p = await api.ok(
        "POST",
        "/api/v1/namespaces/default/pods",
        {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]}]},
        },
    )
    spec = p["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
    )
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["serviceAccountName"] == "default"
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "Always" and c["ports"][0]["protocol"] == "TCP"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert p["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    # the Priority admission plugin's fields, on pods only (not on templates)
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    critical = await api.ok(
        "POST",
        "/api/v1/namespaces/default/pods",
        {
            "metadata": {"name": "agent"},
            "spec": {
                "priorityClassName": "system-node-critical",
                "containers": [
                    {"name": "a", "image": "x", "resources": {"requests": {"ephemeral-storage": "1Gi"}}}
                ],
            },
        },
    )
    assert critical["spec"]["priority"] == 2000001000
    assert critical["status"]["qosClass"] == "BestEffort"  # only CPU and memory count


async def test_deployment_and_job_defaults(api: Api) -> None:
    d = await api.ok(
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "x", "image": "nginx:1.2"}]},
                },
            },
        },
    )
    assert d["spec"]["replicas"] == 1 and d["spec"]["strategy"]["type"] == "RollingUpdate"
    assert d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert "priority" not in d["spec"]["template"]["spec"]
    j = await api.ok(
        "POST",
        "/apis/batch/v1/namespaces/default/jobs",
        {
            "metadata": {"name": "j"},
            "spec": {
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "x", "image": "busybox"}]}
                }
            },
        },
    )
    assert (j["spec"]["backoffLimit"], j["spec"]["completions"], j["spec"]["parallelism"]) == (6, 1, 1)
    # the registry generates the selector from the Job's uid, and labels the pods to match it
    uid = j["metadata"]["uid"]
    assert j["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert j["spec"]["template"]["metadata"]["labels"] == {
        "job-name": "j",
        "batch.kubernetes.io/job-name": "j",
        "controller-uid": uid,
        "batch.kubernetes.io/controller-uid": uid,
    }


async def test_services_get_distinct_cluster_ips_kept_on_update(api: Api) -> None:
    path = "/api/v1/namespaces/default/services"
    a = await api.ok("POST", path, {"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}})
    b = await api.ok("POST", path, {"metadata": {"name": "b"}, "spec": {"ports": [{"port": 80}]}})
    assert a["spec"]["clusterIP"].startswith("10.") and a["spec"]["clusterIP"] != b["spec"]["clusterIP"]
    assert a["spec"]["type"] == "ClusterIP" and a["spec"]["ports"][0] == {
        "port": 80,
        "protocol": "TCP",
        "targetPort": 80,
    }
    ip_a = a["spec"]["clusterIP"]
    del a["spec"]["clusterIP"], a["spec"]["clusterIPs"]
    a["metadata"]["labels"] = {"x": "y"}
    again = await api.ok("PUT", path + "/a", a)
    assert again["spec"]["clusterIP"] == ip_a and again["spec"]["clusterIPs"] == [ip_a]


async def test_namespace_defaults(api: Api) -> None:
    ns = await api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "shop"}})
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "shop"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]} and ns["status"] == {"phase": "Active"}


def test_qos_classes() -> None:
    def spec(*resources: dict) -> dict:
        return {"containers": [{"name": str(i), "resources": r} for i, r in enumerate(resources)]}

    g = {"limits": {"cpu": "1", "memory": "1Gi"}}
    assert qos_class(spec(g)) == "Guaranteed"
    assert qos_class(spec(g, {"requests": {"cpu": "100m"}})) == "Burstable"
    assert (
        qos_class(spec({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}))
        == "Burstable"
    )
    assert qos_class(spec({}, {})) == "BestEffort"
