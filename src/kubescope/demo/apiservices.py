"""The demo's servers registered with the simulator as aggregated APIs, as deploy/ does in a cluster."""

from __future__ import annotations

from typing import Any

from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings

NAMESPACE = "kube-system"
SERVICE = "kubescope-resource-metrics"


async def register_api(
    kubeconfig: str, service: str, port: int, group: str, versions: tuple[str, ...]
) -> None:
    """Service + Endpoints on 127.0.0.1:<port> and an APIService per version, as deploy/ does for a cluster."""
    client = await KubeClient.connect(KubeSettings(kubeconfig=kubeconfig))
    try:
        objs: list[tuple[str, dict[str, Any]]] = [
            (
                f"/api/v1/namespaces/{NAMESPACE}/services",
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": service, "namespace": NAMESPACE},
                    "spec": {
                        "ports": [{"name": "https", "port": 443, "targetPort": port, "protocol": "TCP"}]
                    },
                },
            ),
            (
                f"/api/v1/namespaces/{NAMESPACE}/endpoints",
                {
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": {"name": service, "namespace": NAMESPACE},
                    "subsets": [
                        {
                            "addresses": [{"ip": "127.0.0.1"}],
                            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
                        }
                    ],
                },
            ),
        ]
        for i, version in enumerate(versions):
            objs.append(
                (
                    "/apis/apiregistration.k8s.io/v1/apiservices",
                    {
                        "apiVersion": "apiregistration.k8s.io/v1",
                        "kind": "APIService",
                        "metadata": {"name": f"{version}.{group}"},
                        "spec": {
                            "service": {"name": service, "namespace": NAMESPACE, "port": 443},
                            "group": group,
                            "version": version,
                            "insecureSkipTLSVerify": True,
                            "groupPriorityMinimum": 100,
                            "versionPriority": 100 - 10 * i,
                        },
                    },
                )
            )
        for path, body in objs:
            await client.create(path, body, exist_ok=True)  # there from an earlier run: fine
    finally:
        await client.close()
