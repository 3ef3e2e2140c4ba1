"""The simulator's HPA controller reads the metrics APIs over HTTP through the aggregation layer, as
kube-controller-manager's does, and scales the target: resource metrics from ``kubescope
resource-metrics`` scraping the simulated kubelets, Pods, Object and External metrics from a small
adapter of the test's. The replica counts, status, conditions and events are kube's."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest
from aiohttp import web

from kubescope.apiserver.selectors import parse_label_selector
from kubescope.sim.pki import CA
from tests.childserver import log_tail, started_port
from tests.sim.conftest import Api, start_api

Obj = dict[str, Any]
NS = "autoscale"


class Adapter:
    """custom.metrics.k8s.io/v1beta2 and external.metrics.k8s.io/v1beta1 over HTTPS, answering what
    the test sets: a Pods metric's total load, shared by the pods the selector selects (more pods,
    less each, as with real load), a value per object, the values of an external metric. Records
    each request's path and user."""

    def __init__(self, tmp: Path, api: Api) -> None:
        self.api = api
        ca = CA.create("adapter-ca")
        pair = ca.issue("adapter", server=True, ips=("127.0.0.1",))
        (tmp / "adapter.crt").write_bytes(pair.cert_pem)
        (tmp / "adapter.key").write_bytes(pair.key_pem)
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(str(tmp / "adapter.crt"), str(tmp / "adapter.key"))
        self.ca = ca
        self.load: dict[str, int] = {}
        self.objects: dict[tuple[str, str, str], int] = {}
        self.external: dict[str, list[int]] = {}
        self.seen: list[tuple[str, str]] = []
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.raw_path, request.headers.get("X-Remote-User", "")))
        parts = request.path.strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(request.query_string).items()}
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if len(parts) == 3:  # discovery: the availability check
            return web.json_response(
                {"kind": "APIResourceList", "groupVersion": "/".join(parts[1:]), "resources": []}
            )
        group, ns = parts[1], parts[4]
        if group == "external.metrics.k8s.io":
            items = [
                {"metricName": parts[5], "metricLabels": {}, "timestamp": now, "value": f"{v}m"}
                for v in self.external.get(parts[5], [])
            ]
            return web.json_response(
                {
                    "kind": "ExternalMetricValueList",
                    "apiVersion": "external.metrics.k8s.io/v1beta1",
                    "metadata": {},
                    "items": items,
                }
            )
        resource, name, metric = parts[5], parts[6], parts[7]
        if resource == "pods" and name == "*":
            sel = parse_label_selector(query.get("labelSelector", ""))
            names = sorted(
                json.loads(e.raw)["metadata"]["name"]
                for e in self.api.sim.store.matching("pods", ns, sel, None)
            )
            share = self.load.get(metric, 0) // max(1, len(names))
            items = (
                [self._value("Pod", ns, p, metric, share, now) for p in names] if metric in self.load else []
            )
        else:
            v = self.objects.get((resource, name, metric))
            if v is None:
                return web.json_response(
                    {"kind": "Status", "status": "Failure", "message": f"{metric} not found", "code": 404},
                    status=404,
                )
            items = [self._value("Service", ns, name, metric, v, now)]
        return web.json_response(
            {
                "kind": "MetricValueList",
                "apiVersion": "custom.metrics.k8s.io/v1beta2",
                "metadata": {},
                "items": items,
            }
        )

    @staticmethod
    def _value(kind: str, ns: str, name: str, metric: str, milli: int, now: str) -> Obj:
        return {
            "describedObject": {"kind": kind, "namespace": ns, "name": name, "apiVersion": "v1"},
            "metric": {"name": metric, "selector": None},
            "timestamp": now,
            "windowSeconds": 60,
            "value": f"{milli}m",
        }

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.ctx)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def serve_api_service(api: Api, name: str, port: int, groups: list[tuple[str, str]]) -> None:
    """A selectorless Service with Endpoints to ``port`` on loopback (the endpoints controller
    leaves those alone), and an APIService per (group, version) to it."""
    await api.ok(
        "POST",
        f"/api/v1/namespaces/{NS}/services",
        {"metadata": {"name": name}, "spec": {"ports": [{"name": "https", "port": 443}]}},
    )
    await api.ok(
        "POST",
        f"/api/v1/namespaces/{NS}/endpoints",
        {
            "metadata": {"name": name},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port}]}],
        },
    )
    for group, version in groups:
        await api.ok(
            "POST",
            "/apis/apiregistration.k8s.io/v1/apiservices",
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": f"{version}.{group}"},
                "spec": {
                    "group": group,
                    "version": version,
                    "service": {"namespace": NS, "name": name, "port": 443},
                    "insecureSkipTLSVerify": True,
                    "groupPriorityMinimum": 100,
                    "versionPriority": 100,
                },
            },
        )


async def wait_for(what: str, fn: Callable[[], Any], within: float = 120.0) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await fn()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {within} s (last: {last})")


def deployment(name: str, replicas: int, cpu: str = "100m") -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.27",
                            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


def hpa(
    name: str, target: str, metrics: list[Obj], *, low: int = 1, high: int = 10, behavior: Obj | None = None
) -> Obj:
    spec: Obj = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": low,
        "maxReplicas": high,
        "metrics": metrics,
    }
    if behavior is not None:
        spec["behavior"] = behavior
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


async def replicas(api: Api, name: str) -> int:
    return int((await api.ok("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/{name}"))["spec"]["replicas"])


async def running(api: Api, app: str) -> list[Obj]:
    pods = (await api.ok("GET", f"/api/v1/namespaces/{NS}/pods?labelSelector=app%3D{app}"))["items"]
    return [
        p
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


async def events_about(api: Api, kind: str, name: str) -> list[Obj]:
    q = f"fieldSelector=involvedObject.kind%3D{kind},involvedObject.name%3D{name}"
    return (await api.ok("GET", f"/api/v1/namespaces/{NS}/events?{q}"))["items"]


def conditions(h: Obj) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in (h.get("status") or {}).get("conditions", [])}


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[Api, Adapter]]:
    sim, api = await start_api(
        tmp_path, tls=True, nodes=3, pods_per_node=4, kubelets=True, controllers=True, hpa_sync_period=0.5
    )
    adapter = Adapter(tmp_path, api)
    await adapter.start()
    try:
        await api.ok("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
        await serve_api_service(
            api,
            "adapter",
            adapter.port,
            [("custom.metrics.k8s.io", "v1beta2"), ("external.metrics.k8s.io", "v1beta1")],
        )
        yield api, adapter
    finally:
        await adapter.stop()
        await api.session.close()
        await sim.stop()


async def test_pods_object_and_external_metrics_scale_by_kubes_formula(cluster: tuple[Api, Adapter]) -> None:
    api, adapter = cluster
    adapter.load["jobs_per_second"] = 30_000  # 15 per pod at 2 pods, against 10 per pod: ratio 1.5
    adapter.objects[("services", "front", "requests_per_second")] = 300_000  # against 100: ratio 3
    adapter.external["queue_messages"] = [30_000, 30_000]  # 60 against 20 per pod
    for name, n in (("workers", 2), ("front", 2), ("drain", 4)):
        await api.ok("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", deployment(name, n))
    await api.ok(
        "POST",
        f"/api/v1/namespaces/{NS}/services",
        {"metadata": {"name": "front"}, "spec": {"selector": {"app": "front"}, "ports": [{"port": 80}]}},
    )
    await wait_for("the pods run", lambda: _all_running(api, {"workers": 2, "front": 2, "drain": 4}))
    await api.ok(
        "POST",
        f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
        hpa(
            "workers",
            "workers",
            [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "jobs_per_second"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                }
            ],
        ),
    )
    await api.ok(
        "POST",
        f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
        hpa(
            "front",
            "front",
            [
                {
                    "type": "Object",
                    "object": {
                        "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "front"},
                        "metric": {"name": "requests_per_second"},
                        "target": {"type": "Value", "value": "100"},
                    },
                }
            ],
            high=4,
        ),
    )
    await api.ok(
        "POST",
        f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
        hpa(
            "drain",
            "drain",
            [
                {
                    "type": "External",
                    "external": {
                        "metric": {"name": "queue_messages"},
                        "target": {"type": "AverageValue", "averageValue": "20"},
                    },
                }
            ],
            behavior={"scaleDown": {"stabilizationWindowSeconds": 0}},
        ),
    )

    # Pods: ceil(1.5 * 2) = 3 (then 10 each: within the tolerance)
    await wait_for("workers scaled", lambda: _is(replicas(api, "workers"), 3))
    # Object Value: ceil(3 * 2 ready) = 6, limited to max(2 * 2, 4) = 4 = maxReplicas
    await wait_for("front scaled", lambda: _is(replicas(api, "front"), 4))
    # External AverageValue: ceil(60 / 20) = 3 (no stabilization down: the behavior's window is 0)
    await wait_for("drain scaled", lambda: _is(replicas(api, "drain"), 3))
    await wait_for("new pods run", lambda: _all_running(api, {"workers": 3, "front": 4, "drain": 3}))

    h = await api.ok("GET", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/front")
    assert conditions(h)["ScalingActive"] == ("True", "ValidMetricFound")
    assert conditions(h)["ScalingLimited"] == ("True", "TooManyReplicas")
    assert h["status"]["currentMetrics"] == [{"type": "Object", "object": {
        "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "front"},
        "metric": {"name": "requests_per_second"}, "current": {"value": "300"}}}]  # fmt: skip
    w = await api.ok("GET", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/workers")
    assert w["status"]["currentMetrics"][0]["pods"]["current"] == {"averageValue": "10"}
    assert w["status"]["lastScaleTime"]
    notes = [
        (e["reason"], e["message"]) for e in await events_about(api, "HorizontalPodAutoscaler", "workers")
    ]
    assert ("SuccessfulRescale", "New size: 3; reason: pods metric jobs_per_second above target") in notes
    notes = [(e["reason"], e["message"]) for e in await events_about(api, "HorizontalPodAutoscaler", "drain")]
    assert ("SuccessfulRescale", "New size: 3; reason: All metrics below target") in notes
    first = (await events_about(api, "HorizontalPodAutoscaler", "drain"))[0]
    assert (
        first["source"] == {"component": "horizontal-pod-autoscaler"}
        and first["reportingComponent"] == "horizontal-pod-autoscaler"
    )

    # the controller's requests, through the aggregation layer with its front-proxy identity
    # (the simulator's aggregation layer forwards the path decoded: compare decoded)
    paths = {unquote(p) for p, _ in adapter.seen}
    assert (
        f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{NS}/pods/*/jobs_per_second?labelSelector=app=workers"
        in paths
    )
    assert f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{NS}/services/front/requests_per_second" in paths
    assert f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NS}/queue_messages" in paths
    assert {u for p, u in adapter.seen if "/namespaces/" in p} == {"kubescope-admin"}

    # within the tolerance nothing moves: 10.5 per pod against 10
    adapter.load["jobs_per_second"] = 31_500
    await asyncio.sleep(2)
    assert await replicas(api, "workers") == 3


async def test_a_failing_metric_stops_scaling_with_kubes_condition(cluster: tuple[Api, Adapter]) -> None:
    api, _adapter = cluster
    await api.ok("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", deployment("lonely", 2))
    await api.ok(
        "POST",
        f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
        hpa(
            "lonely",
            "lonely",
            [
                {
                    "type": "Object",
                    "object": {
                        "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "nowhere"},
                        "metric": {"name": "rps"},
                        "target": {"type": "Value", "value": "1"},
                    },
                }
            ],
        ),
    )

    async def failed() -> Obj | None:
        h = await api.ok("GET", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/lonely")
        return h if conditions(h).get("ScalingActive") == ("False", "FailedGetObjectMetric") else None

    h = await wait_for("the HPA reports the failure", failed)
    cond = next(c for c in h["status"]["conditions"] if c["type"] == "ScalingActive")
    assert cond["message"].startswith(
        "the HPA was unable to compute the replica count: unable to get metric rps: Service on autoscale nowhere/"
    )
    assert h["status"]["currentMetrics"] == [{"type": ""}] and h["status"]["currentReplicas"] == 2
    reasons = {e["reason"] for e in await events_about(api, "HorizontalPodAutoscaler", "lonely")}
    assert {"FailedGetObjectMetric", "FailedComputeMetricsReplicas"} <= reasons
    assert await replicas(api, "lonely") == 2


async def test_resource_metrics_from_resource_metrics_scale_the_target(
    cluster: tuple[Api, Adapter], tmp_path: Path
) -> None:
    api, _ = cluster
    sim = api.sim
    assert sim.pki is not None
    argv = [
        sys.executable, "-m", "kubescope", "resource-metrics", f"--kubeconfig={sim.kubeconfig}",
        "--bind-address=127.0.0.1", "--secure-port=0", f"--cert-dir={tmp_path / 'rm-certs'}",
        "--kubelet-use-node-status-port", "--kubelet-preferred-address-types=InternalIP",
        f"--kubelet-certificate-authority={sim.pki.path('ca.crt')}", "--metric-resolution=2s",
        "--kubelet-request-timeout=1.8s", "--testing-allow-short-metric-resolution",
    ]  # fmt: skip
    log = (tmp_path / "resource-metrics.log").open("wb")
    proc = await asyncio.create_subprocess_exec(*argv, stdout=log, stderr=log, env={**os.environ})
    try:
        port = await started_port(proc, tmp_path / "resource-metrics.log")
        assert port, f"resource-metrics exited {proc.returncode}: {log_tail(tmp_path / 'resource-metrics.log')}"
        await serve_api_service(api, "resource-metrics", port, [("metrics.k8s.io", "v1beta1")])
        await api.ok("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", deployment("busy", 2))
        await wait_for("the pods run", lambda: _all_running(api, {"busy": 2}))
        await wait_for("the pods have metrics", lambda: _pod_metrics(api, "busy"), within=60)
        # simulated containers use 5-40 % of their request, far above a 1 % target: up, to
        # max(2 * 2, 4) = 4 = maxReplicas
        await api.ok(
            "POST",
            f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers",
            hpa(
                "busy",
                "busy",
                [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 1},
                        },
                    }
                ],
                high=4,
            ),
        )
        await wait_for("busy scaled", lambda: _is(replicas(api, "busy"), 4), within=60)
        await wait_for("its new pods run", lambda: _all_running(api, {"busy": 4}), within=60)
        h = await api.ok("GET", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/busy")
        assert conditions(h)["ScalingActive"] == ("True", "ValidMetricFound")
        assert conditions(h)["ScalingLimited"] == ("True", "TooManyReplicas")
        cur = h["status"]["currentMetrics"][0]["resource"]
        assert cur["name"] == "cpu" and cur["current"]["averageUtilization"] > 1
        notes = [
            (e["reason"], e["message"]) for e in await events_about(api, "HorizontalPodAutoscaler", "busy")
        ]
        assert (
            "SuccessfulRescale",
            "New size: 4; reason: cpu resource utilization (percentage of request) above target",
        ) in notes
    finally:
        proc.terminate()
        await proc.wait()
        log.close()


async def _is(value: Any, want: Any) -> bool:
    return bool((await value) == want)


async def _all_running(api: Api, want: dict[str, int]) -> bool:
    for app, n in want.items():
        pods = await running(api, app)
        if len(pods) != n or not all(
            any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
            for p in pods
        ):
            return False
    return True


async def _pod_metrics(api: Api, app: str) -> bool:
    code, raw, _ = await api.raw(
        "GET", f"/apis/metrics.k8s.io/v1beta1/namespaces/{NS}/pods?labelSelector=app%3D{app}"
    )
    return code == 200 and len(json.loads(raw).get("items") or []) == 2
