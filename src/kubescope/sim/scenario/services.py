"""A Service with its EndpointSlice and Endpoints listing the pods it selects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.objects import network
from kubescope.sim.scenario.gen import Gen

Obj = dict[str, Any]


def app_service(
    g: Gen, ns: str, app: str, pods: list[Obj], headless: bool = False
) -> Iterator[tuple[str, Obj]]:
    kind = (
        "ClusterIP" if headless else g.rng.choices(("ClusterIP", "NodePort", "LoadBalancer"), (85, 8, 7))[0]
    )
    spec: Obj = {
        "type": kind,
        "selector": {"app": app},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
        "clusterIP": "None" if headless else f"10.96.{g.rng.randrange(0, 255)}.{g.rng.randrange(1, 255)}",
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster",
    }
    spec["clusterIPs"] = [spec["clusterIP"]]
    status: Obj = {"loadBalancer": {}}
    if kind in ("NodePort", "LoadBalancer"):
        spec["ports"][0]["nodePort"] = g.rng.randrange(30000, 32767)
        spec["externalTrafficPolicy"] = g.rng.choice(("Cluster", "Local"))
    if kind == "LoadBalancer":
        status["loadBalancer"] = {"ingress": [{"hostname": f"a{g.hexid(31)}.elb.eu-west-1.amazonaws.com"}]}
    svc_meta = g.meta(app, ns, labels={"app": app})
    yield (
        "services",
        {"apiVersion": "v1", "kind": "Service", "metadata": svc_meta, "spec": spec, "status": status},
    )
    eps = []
    addrs: list[Obj] = []
    not_ready: list[Obj] = []
    for p in pods:
        ip = p["status"].get("podIP")
        if not ip:
            continue
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
        meta, node = p["metadata"], p["spec"].get("nodeName", "")
        ref = network.pod_ref(ns, meta["name"], meta["uid"])
        eps.append(
            network.slice_endpoint(ip, ref, node, g.node_zone.get(node, ""), ready=ready, serving=ready)
        )
        (addrs if ready else not_ready).append(network.address(ip, node, dict(ref)))
    yield (
        "endpointslices.discovery.k8s.io",
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": g.meta(
                f"{app}-{g.suffix()}",
                ns,
                labels={
                    "kubernetes.io/service-name": app,
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                },
                owner=("v1", "Service", app, svc_meta["uid"]),
            ),
            "addressType": "IPv4",
            "endpoints": eps,
            "ports": [dict(p) for p in network.DEFAULT_PORTS],
        },
    )
    yield (
        "endpoints",
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": g.meta(app, ns, labels={"app": app}),
            "subsets": network.subsets(addrs, not_ready, None),
        },
    )
