"""Churn simulates an HPA's status until the HPA controller can manage it (its target exists and
the metrics APIs its metrics need are served); from then on the controller alone writes it, and
churn no longer scales its target."""

from __future__ import annotations

import asyncio
from typing import Any

from kubescope.apiserver.selectors import parse_label_selector
from kubescope.sim.control.hpa.calc import PodMetric
from kubescope.sim.live import LiveCluster
from kubescope.sim.store import ObjectStore
from tests.sim.clusters import Clock, generated, objs

Obj = dict[str, Any]


class FakeMetrics:
    """The resource metrics API, in process: every pod at ``share`` of its CPU request."""

    def __init__(self, store: ObjectStore, share: float) -> None:
        self.store = store
        self.share = share
        self.reads = 0

    async def resource(self, ns: str, selector: str, resource: str, container: str = "") -> tuple[dict[str, PodMetric], float]:  # fmt: skip
        self.reads += 1
        now = self.store.clock()
        out = {}
        for key in self.store.keys("pods"):
            p = self.store.get("pods", *key)
            if key[0] != ns or not parse_label_selector(selector).matches(p["metadata"].get("labels") or {}):
                continue
            req = p["spec"]["containers"][0]["resources"]["requests"]["cpu"]
            milli = int(req[:-1]) if req.endswith("m") else int(float(req) * 1000)
            out[p["metadata"]["name"]] = PodMetric(int(milli * self.share), now - 30, 30.0)
        return out, now - 30

    async def close(self) -> None:
        pass


def apiservice(group: str) -> Obj:
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": f"v1beta1.{group}"},
        "spec": {"group": group, "version": "v1beta1", "service": {"namespace": "kube-system", "name": "m"}},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Passed"}]},
    }


async def test_the_controller_takes_over_an_hpa_whose_metrics_are_served() -> None:
    store = generated(5, 6, 10, clock=Clock(0.05))
    fake = FakeMetrics(store, share=0.5)
    # churn scaling Deployments and playing HPAs' status, nothing else
    weights = {"scale": 3, "hpa_status": 3, "lease_renew": 1}
    live = LiveCluster(store, seed=5, rate=0, weights=weights, metrics=fake, hpa_period=15)  # type: ignore[arg-type]
    live.start_up()
    made = {
        h["metadata"]["namespace"] + "/" + h["metadata"]["name"]
        for h in objs(store, "horizontalpodautoscalers.autoscaling")
    }
    assert made, "the scenario makes HPAs"
    # a Deployment with running pods and no HPA gets one on CPU alone
    targeted = {
        (h["metadata"]["namespace"], h["spec"]["scaleTargetRef"]["name"])
        for h in objs(store, "horizontalpodautoscalers.autoscaling")
    }
    d = next(
        d for d in objs(store, "deployments.apps")
        if (d["metadata"]["namespace"], d["metadata"]["name"]) not in targeted
        and d["spec"].get("replicas", 1) >= 2 and d.get("status", {}).get("readyReplicas") == d["spec"]["replicas"]
        and all("cpu" in c.get("resources", {}).get("requests", {}) for c in d["spec"]["template"]["spec"]["containers"])
    )  # fmt: skip
    ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
    store.create("apiservices.apiregistration.k8s.io", apiservice("metrics.k8s.io"))
    store.create(
        "horizontalpodautoscalers.autoscaling",
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": f"{name}-cpu", "namespace": ns},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 1,
                "maxReplicas": 50,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
            },
        },
    )  # fmt: skip
    key = (ns, f"{name}-cpu")
    scaled_before = live.counts["scale"]
    for _ in range(300):  # a minute of the cluster's clock and more, churning
        live.step(3)
        await asyncio.sleep(0)
    assert live.cluster.hpa_managed(key) and fake.reads >= 3
    assert live.cluster.autoscaled("deployments.apps", (ns, name))
    assert live.counts["scale"] - scaled_before > 100
    # the generated HPAs need the custom and external metrics APIs too: churn still plays them
    assert not any(live.cluster.hpa_managed(tuple(k.split("/", 1))) for k in made)  # type: ignore[arg-type]
    h = store.get("horizontalpodautoscalers.autoscaling", *key)
    # exactly what the controller read (50 % of the request), never moved by churn's heartbeat
    assert h["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 50
    conds = {c["type"]: c["reason"] for c in h["status"]["conditions"]}
    assert conds == {
        "AbleToScale": "ReadyForNewScale",
        "ScalingActive": "ValidMetricFound",
        "ScalingLimited": "DesiredWithinRange",
    }
    # 50 % against a 50 % target: the replicas are left as they were, by churn too
    assert store.get("deployments.apps", ns, name)["spec"]["replicas"] == d["spec"]["replicas"]
    await live.stop()
