"""What every application namespace holds: ServiceAccounts, the root CA ConfigMap, pull and TLS
Secrets, quotas and limits, a NetworkPolicy, RBAC, a leader-election Lease."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from kubescope.sim.scenario.gen import Gen

Obj = dict[str, Any]


def serviceaccount(g: Gen, ns: str, name: str) -> Iterator[tuple[str, Obj]]:
    yield (
        "serviceaccounts",
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": g.meta(name, ns),
            "automountServiceAccountToken": g.rng.random() < 0.8,
            "imagePullSecrets": [{"name": "registry-credentials"}] if g.rng.random() < 0.3 else [],
        },
    )


def namespace_objects(g: Gen, ns: str) -> Iterator[tuple[str, Obj]]:
    yield from serviceaccount(g, ns, "default")
    yield (
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": g.meta("kube-root-ca.crt", ns),
            "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"},
        },
    )
    yield (
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": g.meta("registry-credentials", ns),
            "data": {".dockerconfigjson": "e30="},
        },
    )
    yield (
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": g.meta(f"{ns}-tls", ns, labels={"cert-manager.io/certificate-name": ns}),
            "data": {"tls.crt": "LS0t", "tls.key": "LS0t"},
        },
    )
    if g.rng.random() < 0.6:
        yield (
            "resourcequotas",
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": g.meta("compute", ns),
                "spec": {
                    "hard": {
                        "requests.cpu": "40",
                        "requests.memory": "80Gi",
                        "limits.cpu": "80",
                        "limits.memory": "160Gi",
                        "pods": "200",
                        "count/deployments.apps": "50",
                    }
                },
                "status": {
                    "hard": {
                        "requests.cpu": "40",
                        "requests.memory": "80Gi",
                        "limits.cpu": "80",
                        "limits.memory": "160Gi",
                        "pods": "200",
                        "count/deployments.apps": "50",
                    },
                    "used": {
                        "requests.cpu": f"{g.rng.randrange(1000, 30000)}m",
                        "requests.memory": f"{g.rng.randrange(1, 60)}Gi",
                        "limits.cpu": f"{g.rng.randrange(2, 60)}",
                        "limits.memory": f"{g.rng.randrange(2, 120)}Gi",
                        "pods": str(g.rng.randrange(1, 150)),
                        "count/deployments.apps": str(g.rng.randrange(1, 30)),
                    },
                },
            },
        )
        yield (
            "limitranges",
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": g.meta("defaults", ns),
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "default": {"cpu": "500m", "memory": "512Mi"},
                            "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                            "max": {"cpu": "4", "memory": "8Gi"},
                            "min": {"cpu": "10m", "memory": "16Mi"},
                            "maxLimitRequestRatio": {"cpu": "10"},
                        }
                    ]
                },
            },
        )
    yield (
        "networkpolicies.networking.k8s.io",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": g.meta("default-deny", ns, generation=1),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                                }
                            }
                        ]
                    }
                ],
                "egress": [{"to": [{"namespaceSelector": {}}]}, {"ports": [{"port": 53, "protocol": "UDP"}]}],
            },
        },
    )
    yield (
        "roles.rbac.authorization.k8s.io",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": g.meta("developer", ns),
            "rules": [
                {
                    "apiGroups": ["", "apps"],
                    "resources": ["pods", "deployments"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
    )
    yield (
        "rolebindings.rbac.authorization.k8s.io",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": g.meta("developers", ns),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "developer"},
            "subjects": [
                {"kind": "Group", "name": f"{ns}-developers", "apiGroup": "rbac.authorization.k8s.io"}
            ],
        },
    )
    yield (
        "leases.coordination.k8s.io",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": g.meta(f"{ns}-controller-leader", ns),
            "spec": {
                "holderIdentity": f"{ns}-controller-{g.suffix()}",
                "leaseDurationSeconds": 15,
                "acquireTime": datetime.fromtimestamp(g.ago(3600, 86400), UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ"
                ),
                "renewTime": datetime.fromtimestamp(g.ago(0, 10), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "leaseTransitions": g.rng.randrange(0, 5),
            },
        },
    )
