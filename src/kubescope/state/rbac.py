"""Least-privilege RBAC for ``kubescope state-metrics``: list and watch exactly the enabled resources.

``kubescope state-metrics --print-rbac [--resources ...] [--auth-filter]`` prints the ClusterRole;
``deploy/state-metrics/cluster-role.yaml`` is its output for the default resources (a test keeps
them equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from kubescope.state.crs import CRSConfig
from kubescope.state.registry import all_resources

NAME = "kubescope-state-metrics"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "exporter"}


def cluster_role(
    resources: Iterable[str],
    *,
    auth_filter: bool = False,
    name: str = NAME,
    custom: CRSConfig | None = None,
) -> dict[str, Any]:
    by_group: dict[str, set[str]] = {}
    for r in sorted(set(resources)):
        spec = all_resources()[r]
        by_group.setdefault(spec.group, set()).add(spec.resource)
    if custom is not None:
        # Custom Resource State: the configured resources by group (a wildcard kind or version
        # resolves against CRDs at run time, so the role grants the whole group), and the CRDs
        # themselves, which discovery watches
        for res in custom.resources:
            wild = res.gvk.kind in ("", "*") or (res.gvk.version in ("", "*") and not res.resource_plural)
            by_group.setdefault(res.gvk.group, set()).add("*" if wild else res.plural)
        by_group.setdefault("apiextensions.k8s.io", set()).add("customresourcedefinitions")
    rules: list[dict[str, Any]] = [
        {"apiGroups": [g], "resources": ["*"] if "*" in rs else sorted(rs), "verbs": ["list", "watch"]}
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


def cluster_role_yaml(
    resources: Iterable[str], *, auth_filter: bool = False, custom: CRSConfig | None = None
) -> str:
    return yaml.safe_dump(cluster_role(resources, auth_filter=auth_filter, custom=custom), sort_keys=False)
