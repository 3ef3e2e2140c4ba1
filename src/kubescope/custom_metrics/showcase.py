"""What ``kubescope demo`` sets up for autoscaling on application metrics.

In the simulated cluster: a Deployment ``shop/web`` whose pods serve application metrics under a
square load profile (``sim.kubescope.io/app-metrics``: 240 requests/s for two minutes, then 20, each
pod handling up to 100), and an ``autoscaling/v2`` HorizontalPodAutoscaler on its requests per second per pod
(target 30), so the replicas follow the load up and down. Prometheus scrapes the pods; ``kubescope
custom-metrics`` serves ``http_requests_per_second`` (and the external ``app_queue_depth``) through
APIServices, as in a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings

NAMESPACE = "kube-system"
SERVICE = "kubescope-custom-metrics"
APP_NAMESPACE = "shop"
APP = "web"
LOAD_PROFILE = "shape=square,min=20,max=240,period=240s,capacity=100"
TARGET_RPS = 30

ADAPTER_CONFIG = """\
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[30s])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'app_queue_depth{namespace!="",app!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
"""


def prometheus_config(job: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"}, "scrape_configs": [job]}
    )


def adapter_args(kubeconfig: str, port: int, workdir: Path, prom_port: int) -> list[str]:
    return [
        "custom-metrics", f"--kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", f"--secure-port={port}",
        f"--cert-dir={workdir / 'custom-metrics-certs'}", f"--config={workdir / 'custom-metrics.yaml'}",
        f"--prometheus-url=http://127.0.0.1:{prom_port}", "--metrics-relist-interval=15s", "--log-level=warning",
    ]  # fmt: skip


def objects(port: int) -> list[tuple[str, dict[str, Any]]]:
    """Service + Endpoints on 127.0.0.1:<port>, the three APIServices, and the demo application."""
    out: list[tuple[str, dict[str, Any]]] = [
        (f"/api/v1/namespaces/{NAMESPACE}/services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": SERVICE, "namespace": NAMESPACE},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port, "protocol": "TCP"}]}}),
        (f"/api/v1/namespaces/{NAMESPACE}/endpoints", {
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": SERVICE, "namespace": NAMESPACE},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}),
    ]  # fmt: skip
    for group, version, priority in (
        ("custom.metrics.k8s.io", "v1beta2", 200),
        ("custom.metrics.k8s.io", "v1beta1", 100),
        ("external.metrics.k8s.io", "v1beta1", 100),
    ):
        out.append(("/apis/apiregistration.k8s.io/v1/apiservices", {
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": f"{version}.{group}"},
            "spec": {"service": {"name": SERVICE, "namespace": NAMESPACE, "port": 443}, "group": group,
                     "version": version, "insecureSkipTLSVerify": True, "groupPriorityMinimum": 100,
                     "versionPriority": priority}}))  # fmt: skip
    labels = {"app": APP}
    out += [
        ("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP_NAMESPACE}}),
        (f"/apis/apps/v1/namespaces/{APP_NAMESPACE}/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": APP, "namespace": APP_NAMESPACE, "labels": labels,
                         "annotations": {"sim.kubescope.io/app-metrics": LOAD_PROFILE}},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "web", "image": "registry.example/shop/web:1.0",
                         "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}),
        (f"/apis/autoscaling/v2/namespaces/{APP_NAMESPACE}/horizontalpodautoscalers", {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": APP, "namespace": APP_NAMESPACE},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
                     "minReplicas": 1, "maxReplicas": 10,
                     "metrics": [{"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                  "target": {"type": "AverageValue", "averageValue": str(TARGET_RPS)}}}],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 30}}}}),
    ]  # fmt: skip
    return out


async def register(kubeconfig: str, port: int) -> None:
    client = await KubeClient.connect(KubeSettings(kubeconfig=kubeconfig))
    try:
        for path, body in objects(port):
            await client.create(path, body, exist_ok=True)  # there from an earlier run: fine
    finally:
        await client.close()


class Off:
    lines = "  custom metrics               off: prometheus is not installed (apt-get install prometheus)\n"

    def try_lines(self, kubectl: str, kubeconfig: str) -> str:
        return ""


@dataclass
class On:
    prometheus: str
    adapter: str

    @property
    def lines(self) -> str:
        return (
            f"  prometheus                   {self.prometheus} (the application pods' metrics)\n"
            f"  custom metrics               {self.adapter} (custom.metrics.k8s.io and external.metrics.k8s.io, "
            "aggregated)\n"
        )

    def try_lines(self, kubectl: str, kubeconfig: str) -> str:
        k = f"{kubectl} --kubeconfig {kubeconfig}"
        return (
            f"  {k} get hpa -n {APP_NAMESPACE} -w     # {APP} scales with its requests per second "
            f"(load: {LOAD_PROFILE.split(',', 1)[1].replace(',', ' ')})\n"
            f'  {k} get --raw "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{APP_NAMESPACE}/pods/*/'
            f'http_requests_per_second?labelSelector=app%3D{APP}"\n'
        )
