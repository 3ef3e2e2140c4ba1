"""Cluster-scoped objects: namespaces, storage and ingress classes, RBAC, admission webhooks and
policies, certificate signing requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubescope.sim.objects.meta import rfc3339
from kubescope.sim.scenario.gen import APPS, Gen

Obj = dict[str, Any]


def cluster_objects(g: Gen) -> Iterator[tuple[str, Obj]]:
    n_apps = max(2, g.cfg.nodes // 20 + 3)
    system = ["default", "kube-system", "kube-public", "kube-node-lease", "monitoring", "ingress-nginx"]
    apps = [f"team-{APPS[i % len(APPS)]}{'' if i < len(APPS) else i // len(APPS)}" for i in range(n_apps)]
    g.namespaces = apps
    for ns in system + apps:
        labels = {"kubernetes.io/metadata.name": ns}
        if ns in apps:
            labels["team"] = ns.removeprefix("team-")
            labels["environment"] = g.rng.choice(["production", "staging"])
        yield (
            "namespaces",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": g.meta(ns, created=g.ago(86400 * 60, 86400 * 90), labels=labels),
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            },
        )
    for name, prov, binding, default in (
        ("standard", "ebs.csi.aws.com", "WaitForFirstConsumer", True),
        ("fast-ssd", "ebs.csi.aws.com", "WaitForFirstConsumer", False),
        ("local-storage", "kubernetes.io/no-provisioner", "WaitForFirstConsumer", False),
        ("nfs", "nfs.csi.k8s.io", "Immediate", False),
    ):
        ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        yield (
            "storageclasses.storage.k8s.io",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": g.meta(
                    name, annotations=ann, labels={"app.kubernetes.io/managed-by": "platform"}
                ),
                "provisioner": prov,
                "reclaimPolicy": "Delete" if name != "local-storage" else "Retain",
                "volumeBindingMode": binding,
                "allowVolumeExpansion": name != "local-storage",
            },
        )
    for name, ctl, default in (
        ("nginx", "k8s.io/ingress-nginx", True),
        ("internal", "example.com/internal-lb", False),
    ):
        yield (
            "ingressclasses.networking.k8s.io",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IngressClass",
                "metadata": g.meta(
                    name,
                    annotations={"ingressclass.kubernetes.io/is-default-class": "true"} if default else None,
                ),
                "spec": {"controller": ctl},
            },
        )
    for name in ("cluster-admin", "admin", "edit", "view", "system:node", "monitoring-reader"):
        yield (
            "clusterroles.rbac.authorization.k8s.io",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": g.meta(name, labels={"kubernetes.io/bootstrapping": "rbac-defaults"}),
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}],
            },
        )
    for name, role in (("cluster-admin", "cluster-admin"), ("monitoring", "monitoring-reader")):
        yield (
            "clusterrolebindings.rbac.authorization.k8s.io",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": g.meta(name),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [
                    {"kind": "Group", "name": "system:masters", "apiGroup": "rbac.authorization.k8s.io"}
                ],
            },
        )
    for kind, plural in (
        ("MutatingWebhookConfiguration", "mutatingwebhookconfigurations"),
        ("ValidatingWebhookConfiguration", "validatingwebhookconfigurations"),
    ):
        yield (
            f"{plural}.admissionregistration.k8s.io",
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": kind,
                "metadata": g.meta("policy-webhook"),
                "webhooks": [
                    {
                        "name": "pods.policy.example.com",
                        "clientConfig": {
                            "service": {
                                "namespace": "kube-system",
                                "name": "policy-webhook",
                                "path": "/validate",
                                "port": 443,
                            }
                        },
                        "admissionReviewVersions": ["v1"],
                        "sideEffects": "None",
                        "failurePolicy": "Ignore",
                        "rules": [
                            {
                                "apiGroups": [""],
                                "apiVersions": ["v1"],
                                "operations": ["CREATE"],
                                "resources": ["pods"],
                            }
                        ],
                    }
                ],
            },
        )
    yield (
        "validatingadmissionpolicies.admissionregistration.k8s.io",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": g.meta("replica-limit", generation=1),
            "spec": {
                "failurePolicy": "Fail",
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["apps"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["deployments"],
                        }
                    ]
                },
                "validations": [{"expression": "object.spec.replicas <= params.data.maxReplicas"}],
            },
            "status": {"observedGeneration": 1},
        },
    )
    yield (
        "validatingadmissionpolicybindings.admissionregistration.k8s.io",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": g.meta("replica-limit-binding"),
            "spec": {
                "policyName": "replica-limit",
                "paramRef": {
                    "name": "replica-limits",
                    "namespace": "default",
                    "parameterNotFoundAction": "Deny",
                },
                "validationActions": ["Deny", "Audit"],
            },
        },
    )
    for i in range(3):
        approved = i != 2
        conds = (
            [
                {
                    "type": "Approved",
                    "status": "True",
                    "reason": "AutoApproved",
                    "message": "approved",
                    "lastUpdateTime": rfc3339(g.ago(60, 3600)),
                    "lastTransitionTime": rfc3339(g.ago(60, 3600)),
                }
            ]
            if approved
            else []
        )
        yield (
            "certificatesigningrequests.certificates.k8s.io",
            {
                "apiVersion": "certificates.k8s.io/v1",
                "kind": "CertificateSigningRequest",
                "metadata": g.meta(f"csr-{g.suffix()}"),
                "spec": {
                    "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                    "request": CSR_PEM_B64,
                    "usages": ["digital signature", "client auth"],
                    "username": "system:node:bootstrap",
                },
                "status": {
                    "conditions": conds,
                    **({"certificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="} if approved else {}),
                },
            },
        )


CSR_PEM_B64 = (
    # a real PKCS#10 request (P-256, CN=system:node:node-0001, O=system:nodes), base64 of its PEM as
    # the API carries it: `kubectl describe csr` parses it
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIeU1JR1pBZ0VBTURjeEZUQVRCZ05WQkFvTURI"
    "TjVjM1JsYlRwdWIyUmxjekVlTUJ3R0ExVUVBd3dWYzNsegpkR1Z0T201dlpHVTZibTlrWlMwd01EQXhNRmt3RXdZ"
    "SEtvWkl6ajBDQVFZSUtvWkl6ajBEQVFjRFFnQUVGcytxCm81dlZkZm9JWHZjK0VIWWg0dEtrVWptVlR1WGVNd1Rx"
    "cG1aQWVEeG1NM3RsZE96ZXdKQkhLNloxRlVwMU10SXIKVUxYbG9LZk1vVSs1RGllamE2QUFNQW9HQ0NxR1NNNDlC"
    "QU1DQTBnQU1FVUNJUUNyU0lMeEVoU1g5eEdId3NrMwppRGJ1anVlQnlVZWd2NHY4SGNEL2Z2RDJCd0lnVUo0ZHhD"
    "TFp1TCtOYm1zRlFIYmdPb3NkR1dtNmQ3ZEc5UGViCjRJTTFKWDQ9Ci0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVF"
    "U1QtLS0tLQo="
)
