"""Least-privilege RBAC for ``kubescope state-metrics``: list and watch exactly the enabled resources.

``kubescope state-metrics --print-rbac [--resources ...] [--auth-filter]`` prints the ClusterRole;
``deploy/state-metrics/cluster-role.yaml`` is its output for the default resources (a test keeps
them equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from kubescope.state.registry import all_resources

NAME = "kubescope-state-metrics"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "exporter"}


def cluster_role(resources: Iterable[str], *, auth_filter: bool = False, name: str = NAME) -> dict[str, Any]:
    by_group: dict[str, list[str]] = {}
    for r in sorted(set(resources)):
        spec = all_resources()[r]
        by_group.setdefault(spec.group, []).append(spec.resource)
    rules: list[dict[str, Any]] = [
        {"apiGroups": [g], "resources": sorted(rs), "verbs": ["list", "watch"]}
        for g, rs in sorted(by_group.items())
    ]
    if auth_filter:
        rules.append(
            {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}
        )
        rules.append(
            {
                "apiGroups": ["authorization.k8s.io"],
                "resources": ["subjectaccessreviews"],
                "verbs": ["create"],
            }
        )
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": dict(LABELS)},
        "rules": rules,
    }


def cluster_role_yaml(resources: Iterable[str], *, auth_filter: bool = False) -> str:
    return yaml.safe_dump(cluster_role(resources, auth_filter=auth_filter), sort_keys=False)
