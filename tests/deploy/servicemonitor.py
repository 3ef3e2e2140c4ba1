"""A ServiceMonitor turned into the Prometheus scrape configs the Prometheus Operator generates for
it (prometheus-operator pkg/prometheus/promcfg.go, generateServiceMonitorConfig), with the
Kubernetes service discovery replaced by static targets that carry the same ``__meta_kubernetes_*``
labels, so a real Prometheus gives the scraped series exactly the labels they get in a cluster.
"""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.manifests import Doc

# ServiceMonitor relabeling fields (camelCase) -> Prometheus relabel_config fields
_RELABEL_KEYS = {
    "sourceLabels": "source_labels",
    "targetLabel": "target_label",
    "separator": "separator",
    "regex": "regex",
    "modulus": "modulus",
    "replacement": "replacement",
    "action": "action",
}


def _sanitize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _relabel(c: dict[str, Any]) -> dict[str, Any]:
    return {_RELABEL_KEYS[k]: v for k, v in c.items()}


def scrape_configs(
    sm: Doc, service: Doc, targets: list[tuple[str, dict[str, str]]], interval: str = "1s"
) -> list[dict[str, Any]]:
    """One scrape config per endpoint of ``sm``. ``targets``: (pod name, {port name: host:port}) for
    each pod behind ``service``."""
    spec = sm.obj["spec"]
    out = []
    for i, ep in enumerate(spec["endpoints"]):
        port = ep["port"]
        static = [
            {
                "targets": [ports[port]],
                "labels": {
                    "__meta_kubernetes_namespace": service.namespace,
                    "__meta_kubernetes_service_name": service.name,
                    **{
                        f"__meta_kubernetes_service_label_{_sanitize(k)}": v
                        for k, v in service.obj["metadata"].get("labels", {}).items()
                    },
                    "__meta_kubernetes_pod_name": pod,
                    "__meta_kubernetes_pod_container_name": "state-metrics",
                    "__meta_kubernetes_endpoint_port_name": port,
                },
            }
            for pod, ports in targets
        ]
        relabel: list[dict[str, Any]] = [
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
            {
                "source_labels": ["__meta_kubernetes_service_name"],
                "target_label": "job",
                "replacement": "${1}",
            },
        ]
        if spec.get("jobLabel"):
            relabel.append(
                {
                    "source_labels": [f"__meta_kubernetes_service_label_{_sanitize(spec['jobLabel'])}"],
                    "target_label": "job",
                    "regex": "(.+)",
                    "replacement": "${1}",
                }
            )
        relabel.append({"target_label": "endpoint", "replacement": port})
        relabel.extend(_relabel(c) for c in ep.get("relabelings", []))
        cfg: dict[str, Any] = {
            "job_name": f"serviceMonitor/{sm.namespace}/{sm.name}/{i}",
            "honor_labels": bool(ep.get("honorLabels", False)),
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "static_configs": static,
            "relabel_configs": relabel,
        }
        if ep.get("metricRelabelings"):
            cfg["metric_relabel_configs"] = [_relabel(c) for c in ep["metricRelabelings"]]
        out.append(cfg)
    return out
