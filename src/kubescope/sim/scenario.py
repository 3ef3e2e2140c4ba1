"""Realistic clusters from a seed: every object kind kubescope exports, with production-like ratios.

:func:`generate` yields ``(resource_key, object)`` pairs (``"pods"``, ``"deployments.apps"``, ...)
ready for :meth:`ObjectStore.bulk_create`, as full JSON objects the way kube-apiserver returns them
(camelCase, RFC 3339 times, status filled in). Everything is deterministic for a given
:class:`ScenarioConfig` (seed and start time included), so tests can rely on counts and names.

Shape for ``nodes=N, pods_per_node=M`` (``N*M`` pods in all):

* 1-3 control-plane nodes (tainted), workers spread over 3 zones, ~2 % NotReady, a few cordoned;
* three DaemonSets (kube-proxy, a CNI agent, a node exporter): one pod per node;
* the remaining pods split ~72 % Deployments (ReplicaSets with the pod-template-hash label, an old
  scaled-down ReplicaSet for some), ~14 % StatefulSets (PVCs bound to PVs), ~8 % Jobs (CronJobs own
  some), the rest standalone or unschedulable (Pending);
* Services with EndpointSlices and Endpoints for the Deployments and StatefulSets, ConfigMaps,
  Secrets, ServiceAccounts, HPAs, PDBs, ResourceQuotas, LimitRanges, Ingresses, NetworkPolicies,
  Leases (one per node), CSRs, RBAC and admission objects, StorageClasses, VolumeAttachments, Events.

Pod statuses mix Running (some restarted, some not ready), Pending (ContainerCreating,
ImagePullBackOff, unschedulable), CrashLoopBackOff, Succeeded (job pods) and Failed (Evicted).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

ZONES = ("zone-a", "zone-b", "zone-c")
INSTANCE_TYPES = (("m5.xlarge", 4, 16), ("m5.2xlarge", 8, 32), ("c5.4xlarge", 16, 32), ("r5.2xlarge", 8, 64))
APPS = (
    "api",
    "web",
    "worker",
    "cart",
    "checkout",
    "search",
    "auth",
    "billing",
    "catalog",
    "gateway",
    "notifier",
    "ingest",
    "scheduler",
    "reports",
    "media",
    "profile",
    "orders",
    "payments",
    "inventory",
    "analytics",
)
IMAGES = {
    "api": "registry.example.com/shop/api",
    "web": "registry.example.com/shop/web",
    "worker": "registry.example.com/shop/worker",
}
KUBE_VERSION = "v1.36.1"


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def res_key(plural: str, group: str = "") -> str:
    """The store's resource key: ``pods`` for the core group, ``deployments.apps`` otherwise."""
    return f"{plural}.{group}" if group else plural


@dataclass(frozen=True)
class ScenarioConfig:
    """What to generate. ``start`` is the cluster's "now" (unix seconds); 0 means the current time."""

    seed: int = 1
    nodes: int = 20
    pods_per_node: int = 15
    start: float = 0.0
    control_planes: int = 0
    """Control-plane nodes; 0 picks 1 for small clusters, 3 from 50 nodes."""

    def now(self) -> float:
        return float(int(self.start or time.time()))


@dataclass
class Placement:
    """Which node a pod lands on: round robin over schedulable workers, skipping full nodes."""

    nodes: list[str]
    capacity: int
    _load: dict[str, int] = field(default_factory=dict)
    _i: int = 0

    def pick(self) -> str:
        for _ in range(len(self.nodes)):
            n = self.nodes[self._i % len(self.nodes)]
            self._i += 1
            if self._load.get(n, 0) < self.capacity:
                self._load[n] = self._load.get(n, 0) + 1
                return n
        n = self.nodes[self._i % len(self.nodes)]
        self._i += 1
        self._load[n] = self._load.get(n, 0) + 1
        return n


class _Gen:
    """The generator's state: RNG, clock and the indexes later objects refer to."""

    def __init__(self, cfg: ScenarioConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.now = cfg.now()
        self.node_names: list[str] = []
        self.node_ip: dict[str, str] = {}
        self.ip_seq = 0
        self.namespaces: list[str] = []

    # -- small helpers ---------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ago(self, lo: float, hi: float) -> float:
        return self.now - self.rng.uniform(lo, hi)

    def hexid(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    def pod_ip(self) -> str:
        self.ip_seq += 1
        return f"10.{64 + (self.ip_seq >> 16) % 64}.{(self.ip_seq >> 8) & 255}.{self.ip_seq & 255}"

    def meta(
        self,
        name: str,
        namespace: str = "",
        *,
        created: float | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        owner: tuple[str, str, str, str] | None = None,
        generation: int | None = None,
    ) -> Obj:
        m: Obj = {
            "name": name,
            "uid": self.uid(),
            "creationTimestamp": rfc3339(created if created is not None else self.ago(3600, 86400 * 60)),
        }
        if namespace:
            m["namespace"] = namespace
        if labels:
            m["labels"] = labels
        if annotations:
            m["annotations"] = annotations
        if owner:
            api, kind, oname, ouid = owner
            m["ownerReferences"] = [
                {
                    "apiVersion": api,
                    "kind": kind,
                    "name": oname,
                    "uid": ouid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ]
        if generation is not None:
            m["generation"] = generation
        return m


def generate(cfg: ScenarioConfig) -> Iterator[tuple[str, Obj]]:
    """Every object of the cluster, cluster-scoped and namespaces first, then workloads."""
    g = _Gen(cfg)
    yield from _cluster_objects(g)
    yield from _nodes(g)
    yield from _workloads(g)


# -- cluster-scoped ------------------------------------------------------------------------


def _cluster_objects(g: _Gen) -> Iterator[tuple[str, Obj]]:
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
                    "request": _CSR_PEM_B64,
                    "usages": ["digital signature", "client auth"],
                    "username": "system:node:bootstrap",
                },
                "status": {
                    "conditions": conds,
                    **({"certificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="} if approved else {}),
                },
            },
        )


_CSR_PEM_B64 = (
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


# -- nodes ---------------------------------------------------------------------------------


def _nodes(g: _Gen) -> Iterator[tuple[str, Obj]]:
    n = g.cfg.nodes
    cps = g.cfg.control_planes or (1 if n < 50 else 3)
    cps = min(cps, max(1, n - 1)) if n > 1 else 1
    for i in range(n):
        control = i < cps
        name = f"control-plane-{i + 1}" if control else f"node-{i - cps + 1:04d}"
        g.node_names.append(name)
        itype, cpus, mem_gi = INSTANCE_TYPES[0] if control else g.rng.choice(INSTANCE_TYPES)
        zone = ZONES[i % len(ZONES)]
        ip = f"172.20.{(i >> 8) & 255}.{i & 255}"
        g.node_ip[name] = ip
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/os": "linux",
            "kubernetes.io/hostname": name,
            "node.kubernetes.io/instance-type": itype,
            "topology.kubernetes.io/region": "eu-west-1",
            "topology.kubernetes.io/zone": zone,
        }
        taints: list[Obj] = []
        if control:
            labels["node-role.kubernetes.io/control-plane"] = ""
            taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        else:
            labels["node-role.kubernetes.io/worker"] = ""
        not_ready = not control and g.rng.random() < 0.02
        cordoned = not control and not not_ready and g.rng.random() < 0.01
        if not_ready:
            taints.append(
                {
                    "key": "node.kubernetes.io/unreachable",
                    "effect": "NoExecute",
                    "timeAdded": rfc3339(g.ago(60, 600)),
                }
            )
        if cordoned:
            taints.append(
                {
                    "key": "node.kubernetes.io/unschedulable",
                    "effect": "NoSchedule",
                    "timeAdded": rfc3339(g.ago(600, 3600)),
                }
            )
        created = g.ago(86400 * 5, 86400 * 60)
        heartbeat = rfc3339(g.ago(0, 40))
        cap = {
            "cpu": str(cpus),
            "memory": f"{mem_gi * 1024 * 1024 - 350000}Ki",
            "pods": "110",
            "ephemeral-storage": "104845292Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "attachable-volumes-aws-ebs": "25",
        }
        alloc = dict(
            cap,
            cpu=f"{cpus * 1000 - 80}m",
            memory=f"{mem_gi * 1024 * 1024 - 850000}Ki",
            **{"ephemeral-storage": "96625420948"},
        )

        def cond(
            t: str, ok: bool, reason: str, msg: str, heartbeat: str = heartbeat, created: float = created
        ) -> Obj:
            return {
                "type": t,
                "status": "True" if ok else "False",
                "lastHeartbeatTime": heartbeat,
                "lastTransitionTime": rfc3339(created + 120),
                "reason": reason,
                "message": msg,
            }

        conditions = [
            cond("NetworkUnavailable", False, "RouteCreated", "RouteController created a route"),
            cond(
                "MemoryPressure",
                False,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            cond("DiskPressure", False, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            cond("PIDPressure", False, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            cond("Ready", True, "KubeletReady", "kubelet is posting ready status"),
        ]
        if not_ready:
            conditions[-1] = {
                "type": "Ready",
                "status": "Unknown",
                "lastHeartbeatTime": rfc3339(g.ago(300, 600)),
                "lastTransitionTime": rfc3339(g.ago(60, 300)),
                "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
            }
        node: Obj = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": g.meta(
                name,
                created=created,
                labels=labels,
                annotations={
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            ),
            "spec": {
                "podCIDR": f"10.{64 + i // 256}.{i % 256}.0/24",
                "podCIDRs": [f"10.{64 + i // 256}.{i % 256}.0/24"],
                "providerID": f"aws:///eu-west-1{zone[-1]}/i-{g.hexid(17)}",
                **({"taints": taints} if taints else {}),
                **({"unschedulable": True} if cordoned else {}),
            },
            "status": {
                "capacity": cap,
                "allocatable": alloc,
                "conditions": conditions,
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": name},
                    {"type": "InternalDNS", "address": f"{name}.eu-west-1.compute.internal"},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": g.hexid(32),
                    "systemUUID": str(uuid.UUID(int=g.rng.getrandbits(128))),
                    "bootID": str(uuid.UUID(int=g.rng.getrandbits(128))),
                    "kernelVersion": "6.1.115-126.197.amzn2023.x86_64",
                    "osImage": "Amazon Linux 2023.6.20241121",
                    "containerRuntimeVersion": "containerd://1.7.23",
                    "kubeletVersion": KUBE_VERSION,
                    "kubeProxyVersion": "",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
                "images": [],
            },
        }
        yield "nodes", node
        yield (
            "leases.coordination.k8s.io",
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": g.meta(
                    name,
                    "kube-node-lease",
                    created=created,
                    owner=("v1", "Node", name, node["metadata"]["uid"]),
                ),
                "spec": {
                    "holderIdentity": name,
                    "leaseDurationSeconds": 40,
                    "renewTime": datetime.fromtimestamp(g.ago(0, 10), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                },
            },
        )


# -- workloads -----------------------------------------------------------------------------


@dataclass
class _Template:
    """A pod template: containers with resources, volumes, labels."""

    app: str
    containers: list[Obj]
    init_containers: list[Obj]
    labels: dict[str, str]
    volumes: list[Obj]
    service_account: str = "default"
    priority_class: str = ""
    host_network: bool = False
    tolerations: list[Obj] = field(default_factory=list)
    node_selector: dict[str, str] = field(default_factory=dict)


def _resources(g: _Gen, cpu_m: int, mem_mi: int, qos: str) -> Obj:
    if qos == "BestEffort":
        return {}
    req = {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"}
    if qos == "Guaranteed":
        return {"requests": dict(req), "limits": dict(req)}
    lim = {"cpu": f"{cpu_m * g.rng.choice((2, 4))}m", "memory": f"{mem_mi * 2}Mi"}
    if g.rng.random() < 0.3:
        del lim["cpu"]
    return {"requests": req, "limits": lim}


def _template(g: _Gen, app: str, *, system: bool = False, gpu: bool = False) -> _Template:
    qos = g.rng.choices(("Burstable", "Guaranteed", "BestEffort"), (70, 25, 5))[0]
    image = IMAGES.get(app, f"registry.example.com/{app}/{app}")
    ncont = g.rng.choices((1, 2, 3), (60, 32, 8))[0]
    containers = []
    for c in range(ncont):
        name = app if c == 0 else ("istio-proxy", "log-shipper")[c - 1]
        img = (
            f"{image}:v{g.rng.randrange(1, 9)}.{g.rng.randrange(0, 30)}.{g.rng.randrange(0, 9)}"
            if c == 0
            else ("docker.io/istio/proxyv2:1.24.1", "fluent/fluent-bit:3.2.2")[c - 1]
        )
        cpu_m = g.rng.choice((50, 100, 200, 250, 500, 1000)) if c == 0 else 50
        mem = g.rng.choice((64, 128, 256, 512, 1024)) if c == 0 else 64
        res = _resources(g, cpu_m, mem, qos)
        if c == 0 and g.rng.random() < 0.1 and res:
            res.setdefault("requests", {})["ephemeral-storage"] = "1Gi"
        if c == 0 and gpu and res:
            res.setdefault("limits", {})["nvidia.com/gpu"] = "1"
            res.setdefault("requests", {})["nvidia.com/gpu"] = "1"
        containers.append(
            {
                "name": name,
                "image": img,
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}] if c == 0 else [],
                "resources": res,
                "env": [{"name": "LOG_LEVEL", "value": "info"}],
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}] if c == 0 else [],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }
        )
    init: list[Obj] = []
    if g.rng.random() < 0.2:
        init.append(
            {"name": "migrate", "image": f"{image}-migrate:v1", "resources": _resources(g, 100, 64, qos)}
        )
    if g.rng.random() < 0.05:
        init.append(
            {
                "name": "vault-agent",
                "image": "hashicorp/vault:1.18",
                "restartPolicy": "Always",
                "resources": _resources(g, 50, 64, qos),
            }
        )
    volumes = [
        {"name": "config", "configMap": {"name": f"{app}-config"}},
        {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
    ]
    return _Template(
        app=app,
        containers=containers,
        init_containers=init,
        labels={"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop"},
        volumes=volumes,
        service_account=app,
        priority_class="system-node-critical" if system else "",
        tolerations=[
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    )


def _qos(containers: list[Obj]) -> str:
    reqs = [c.get("resources", {}) for c in containers]
    if all(not r for r in reqs):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get("cpu")
        and r.get("limits", {}).get("memory")
        and r.get("requests", {}).get("cpu", r["limits"]["cpu"]) == r["limits"]["cpu"]
        and r.get("requests", {}).get("memory", r["limits"]["memory"]) == r["limits"]["memory"]
        for r in reqs
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _pod(
    g: _Gen,
    name: str,
    ns: str,
    t: _Template,
    node: str | None,
    owner: tuple[str, str, str, str] | None,
    extra_labels: dict[str, str],
    state: str,
    *,
    restart_policy: str = "Always",
    pvc: str | None = None,
) -> Obj:
    """One pod with a status consistent with ``state``.

    States: running, running-restarted, not-ready, crashloop, creating, imagepull, unschedulable,
    succeeded, failed-evicted.
    """
    created = g.ago(600, 86400 * 20)
    started = created + g.rng.uniform(2, 30)
    labels = dict(t.labels, **extra_labels)
    volumes = list(t.volumes)
    if pvc:
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": pvc}})
    spec: Obj = {
        "containers": t.containers,
        "restartPolicy": restart_policy,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": t.service_account,
        "serviceAccount": t.service_account,
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "tolerations": t.tolerations,
        "volumes": volumes,
        "priority": 2000001000 if t.priority_class else 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if t.init_containers:
        spec["initContainers"] = t.init_containers
    if t.priority_class:
        spec["priorityClassName"] = t.priority_class
    if t.host_network:
        spec["hostNetwork"] = True
    if t.node_selector:
        spec["nodeSelector"] = t.node_selector
    if node:
        spec["nodeName"] = node
    qos = _qos(t.containers)
    sched_t = rfc3339(created + 1)
    status: Obj = {"qosClass": qos}
    conds: list[Obj] = []

    def c(typ: str, ok: bool, at: float, reason: str = "") -> Obj:
        d: Obj = {
            "type": typ,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": rfc3339(at),
        }
        if reason:
            d["reason"] = reason
        return d

    if state == "unschedulable":
        status["phase"] = "Pending"
        conds.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": sched_t,
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available.",
            }
        )
        status["conditions"] = conds
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": g.meta(name, ns, created=created, labels=labels, owner=owner),
            "spec": spec,
            "status": status,
        }

    host_ip = g.node_ip.get(node or "", "172.20.0.1")
    ip = host_ip if t.host_network else g.pod_ip()
    status.update({"hostIP": host_ip, "hostIPs": [{"ip": host_ip}], "startTime": rfc3339(started)})
    running_like = state in ("running", "running-restarted", "not-ready", "crashloop")
    if state not in ("creating",):
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    ready = state in ("running", "running-restarted")
    phase = {
        "succeeded": "Succeeded",
        "failed-evicted": "Failed",
        "creating": "Pending",
        "imagepull": "Pending",
    }.get(state, "Running")
    status["phase"] = phase
    conds = [
        c("PodReadyToStartContainers", state != "creating", started),
        c("Initialized", True, started + 1),
        c(
            "Ready",
            ready,
            started + 5,
            "" if ready else ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady"),
        ),
        c(
            "ContainersReady",
            ready,
            started + 5,
            "" if ready else ("PodCompleted" if phase == "Succeeded" else "ContainersNotReady"),
        ),
        c("PodScheduled", True, created + 1),
    ]
    if state == "failed-evicted":
        status["reason"] = "Evicted"
        status["message"] = (
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi."
        )
        conds.append(
            {
                "type": "DisruptionTarget",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(g.ago(60, 3600)),
                "reason": "TerminationByKubelet",
                "message": "The node was low on resource: memory.",
            }
        )
    status["conditions"] = conds
    cstats = []
    for i, cont in enumerate(t.containers):
        restarts = 0
        st: Obj
        last: Obj = {}
        if state == "running-restarted" and i == 0:
            restarts = g.rng.randrange(1, 12)
        if state == "crashloop" and i == 0:
            restarts = g.rng.randrange(5, 80)
        cid = f"containerd://{g.hexid(64)}"
        fin = 0.0
        if restarts:
            fin = g.ago(60, 3600)
            last = {
                "terminated": {
                    "exitCode": g.rng.choice((1, 137, 2)),
                    "reason": g.rng.choice(("Error", "OOMKilled")),
                    "startedAt": rfc3339(fin - 300),
                    "finishedAt": rfc3339(fin),
                    "containerID": f"containerd://{g.hexid(64)}",
                }
            }
        if state == "crashloop" and i == 0:
            st = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 5m0s restarting failed container={cont['name']}",
                }
            }
        elif state == "creating":
            st = {"waiting": {"reason": "ContainerCreating"}}
        elif state == "imagepull" and i == 0:
            st = {
                "waiting": {
                    "reason": "ImagePullBackOff",
                    "message": f'Back-off pulling image "{cont["image"]}"',
                }
            }
        elif state == "succeeded":
            st = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": rfc3339(started + 2),
                    "finishedAt": rfc3339(started + g.rng.uniform(10, 600)),
                    "containerID": cid,
                }
            }
        elif state == "failed-evicted":
            st = {
                "terminated": {
                    "exitCode": 137,
                    "reason": "ContainerStatusUnknown",
                    "message": "The container could not be located when the pod was terminated",
                    "startedAt": rfc3339(started + 2),
                    "finishedAt": rfc3339(g.ago(60, 600)),
                }
            }
        elif state == "imagepull":
            st = {"waiting": {"reason": "PodInitializing"}}
        else:
            st = {"running": {"startedAt": rfc3339(fin + 10 if restarts else started + 3)}}
        is_running = "running" in st
        cs: Obj = {
            "name": cont["name"],
            "state": st,
            "lastState": last,
            "ready": bool(is_running and (ready or (state == "not-ready" and i > 0))),
            "restartCount": restarts,
            "image": cont["image"],
            "imageID": f"{cont['image'].rsplit(':', 1)[0]}@sha256:{g.hexid(64)}",
            "started": is_running,
        }
        if "waiting" not in st or state == "crashloop":
            cs["containerID"] = cid
        cstats.append(cs)
    status["containerStatuses"] = cstats
    if t.init_containers:
        ist = []
        for ic in t.init_containers:
            sidecar = ic.get("restartPolicy") == "Always"
            if sidecar and running_like:
                s: Obj = {"running": {"startedAt": rfc3339(started + 1)}}
            else:
                s = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": rfc3339(started + 0.5),
                        "finishedAt": rfc3339(started + 1),
                        "containerID": f"containerd://{g.hexid(64)}",
                    }
                }
            ist.append(
                {
                    "name": ic["name"],
                    "state": s,
                    "lastState": {},
                    "ready": sidecar and running_like,
                    "restartCount": 0,
                    "image": ic["image"],
                    "imageID": f"{ic['image'].rsplit(':', 1)[0]}@sha256:{g.hexid(64)}",
                    "started": sidecar and running_like,
                }
            )
        status["initContainerStatuses"] = ist
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": g.meta(name, ns, created=created, labels=labels, owner=owner),
        "spec": spec,
        "status": status,
    }


def _state(g: _Gen) -> str:
    return g.rng.choices(
        ("running", "running-restarted", "not-ready", "crashloop", "creating", "imagepull"),
        (86, 6, 3, 2, 2, 1),
    )[0]


def _workloads(g: _Gen) -> Iterator[tuple[str, Obj]]:
    cfg = g.cfg
    total = cfg.nodes * cfg.pods_per_node
    workers = [n for n in g.node_names if not n.startswith("control-plane")] or g.node_names
    place = Placement(workers, max(cfg.pods_per_node * 2, 10))
    made = 0

    # system daemonsets: one pod per node
    ds_specs = [("kube-proxy", "kube-system"), ("cilium", "kube-system"), ("node-exporter", "monitoring")]
    if total < cfg.nodes * 4:
        ds_specs = ds_specs[:1] if total >= cfg.nodes else []
    for app, ns in ds_specs:
        t = _template(g, app, system=True)
        t.host_network = app != "node-exporter"
        t.tolerations = [{"operator": "Exists"}]
        ds_uid = g.uid()
        n = len(g.node_names)
        ready = n - sum(1 for _ in range(n) if g.rng.random() < 0.02)
        yield (
            "daemonsets.apps",
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": dict(g.meta(app, ns, labels={"k8s-app": app}, generation=3), uid=ds_uid),
                "spec": {
                    "selector": {"matchLabels": {"k8s-app": app}},
                    "template": {
                        "metadata": {"labels": {"k8s-app": app}},
                        "spec": {"containers": t.containers},
                    },
                    "updateStrategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                    },
                },
                "status": {
                    "currentNumberScheduled": n,
                    "desiredNumberScheduled": n,
                    "numberAvailable": ready,
                    "numberMisscheduled": 0,
                    "numberReady": ready,
                    "numberUnavailable": n - ready,
                    "observedGeneration": 3,
                    "updatedNumberScheduled": n,
                },
            },
        )
        yield from _serviceaccount(g, ns, app)
        for node in g.node_names:
            name = f"{app}-{g.suffix()}"
            yield (
                "pods",
                _pod(
                    g,
                    name,
                    ns,
                    t,
                    node,
                    ("apps/v1", "DaemonSet", app, ds_uid),
                    {"k8s-app": app, "controller-revision-hash": g.hexid(10)},
                    _state(g),
                ),
            )
            made += 1

    # per-namespace basics
    for ns in g.namespaces:
        yield from _namespace_objects(g, ns)

    remaining = max(0, total - made)
    n_sts_pods = int(remaining * 0.14)
    n_job_pods = int(remaining * 0.08)
    n_pending = int(remaining * 0.02)
    n_deploy_pods = remaining - n_sts_pods - n_job_pods - n_pending

    apps_used: dict[str, int] = {}

    def next_app(ns: str) -> str:
        base = g.rng.choice(APPS)
        k = (ns, base)
        i = apps_used.get(f"{k}", 0)
        apps_used[f"{k}"] = i + 1
        return base if i == 0 else f"{base}-{i}"

    # deployments
    while n_deploy_pods > 0:
        ns = g.rng.choice(g.namespaces)
        app = next_app(ns)
        replicas = min(n_deploy_pods, g.rng.choice((1, 2, 2, 3, 3, 3, 4, 5, 6, 8, 10)))
        n_deploy_pods -= replicas
        yield from _deployment(g, ns, app, replicas, place)

    # statefulsets
    while n_sts_pods > 0:
        ns = g.rng.choice(g.namespaces)
        app = next_app(ns) + "-db"
        replicas = min(n_sts_pods, g.rng.choice((1, 3, 3, 5)))
        n_sts_pods -= replicas
        yield from _statefulset(g, ns, app, replicas, place)

    # jobs, some owned by cronjobs
    while n_job_pods > 0:
        ns = g.rng.choice(g.namespaces)
        app = next_app(ns) + "-job"
        n = min(n_job_pods, g.rng.choice((1, 1, 2, 3)))
        n_job_pods -= n
        yield from _jobs(g, ns, app, n, place)

    # unschedulable / pending standalone pods
    for _ in range(n_pending):
        ns = g.rng.choice(g.namespaces)
        t = _template(g, "batch-runner", gpu=g.rng.random() < 0.3)
        yield "pods", _pod(g, f"batch-runner-{g.suffix()}", ns, t, None, None, {}, "unschedulable")

    # a couple of replication controllers
    ns = g.namespaces[0]
    for i in range(2 if total >= 20 else 0):
        app = f"legacy-{i}"
        t = _template(g, app)
        rc_uid = g.uid()
        yield (
            "replicationcontrollers",
            {
                "apiVersion": "v1",
                "kind": "ReplicationController",
                "metadata": dict(g.meta(app, ns, labels={"app": app}, generation=1), uid=rc_uid),
                "spec": {
                    "replicas": 1,
                    "selector": {"app": app},
                    "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": t.containers}},
                },
                "status": {
                    "replicas": 1,
                    "fullyLabeledReplicas": 1,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "observedGeneration": 1,
                },
            },
        )

    # events
    for i in range(min(200, total // 10 + 5)):
        ns = g.rng.choice(g.namespaces)
        t0 = g.ago(0, 3000)
        reason, typ, msg = g.rng.choice(
            (
                ("Scheduled", "Normal", "Successfully assigned pod to node"),
                ("Pulled", "Normal", "Container image already present on machine"),
                ("BackOff", "Warning", "Back-off restarting failed container"),
                ("FailedScheduling", "Warning", "0/3 nodes are available: 3 Insufficient cpu."),
            )
        )
        yield (
            "events",
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": g.meta(f"event-{i}.{g.hexid(16)}", ns, created=t0),
                "involvedObject": {"kind": "Pod", "namespace": ns, "name": f"pod-{i}", "apiVersion": "v1"},
                "reason": reason,
                "message": msg,
                "type": typ,
                "count": g.rng.randrange(1, 20),
                "firstTimestamp": rfc3339(t0),
                "lastTimestamp": rfc3339(t0 + 30),
                "source": {"component": "kubelet", "host": g.rng.choice(g.node_names)},
                "reportingComponent": "kubelet",
                "reportingInstance": g.rng.choice(g.node_names),
            },
        )


def _serviceaccount(g: _Gen, ns: str, name: str) -> Iterator[tuple[str, Obj]]:
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


def _namespace_objects(g: _Gen, ns: str) -> Iterator[tuple[str, Obj]]:
    yield from _serviceaccount(g, ns, "default")
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


def _service(
    g: _Gen, ns: str, app: str, pods: list[Obj], headless: bool = False
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
        eps.append(
            {
                "addresses": [ip],
                "conditions": {"ready": ready, "serving": ready, "terminating": False},
                "targetRef": {
                    "kind": "Pod",
                    "namespace": ns,
                    "name": p["metadata"]["name"],
                    "uid": p["metadata"]["uid"],
                },
                "nodeName": p["spec"].get("nodeName", ""),
                "zone": ZONES[hash(p["spec"].get("nodeName", "")) % 3],
            }
        )
        a = {
            "ip": ip,
            "nodeName": p["spec"].get("nodeName", ""),
            "targetRef": {
                "kind": "Pod",
                "namespace": ns,
                "name": p["metadata"]["name"],
                "uid": p["metadata"]["uid"],
            },
        }
        (addrs if ready else not_ready).append(a)
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
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
    )
    subset: Obj = {"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
    if addrs:
        subset["addresses"] = addrs
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    yield (
        "endpoints",
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": g.meta(app, ns, labels={"app": app}),
            "subsets": [subset] if (addrs or not_ready) else [],
        },
    )


def _deployment(g: _Gen, ns: str, app: str, replicas: int, place: Placement) -> Iterator[tuple[str, Obj]]:
    t = _template(g, app, gpu=g.rng.random() < 0.01)
    gen = g.rng.randrange(1, 12)
    dep_meta = g.meta(
        app,
        ns,
        labels={"app": app, "app.kubernetes.io/name": app},
        annotations={"deployment.kubernetes.io/revision": str(gen)},
        generation=gen,
    )
    pth = g.hexid(10)
    rs_name = f"{app}-{pth}"
    rs_meta = g.meta(
        rs_name,
        ns,
        labels={"app": app, "pod-template-hash": pth},
        owner=("apps/v1", "Deployment", app, dep_meta["uid"]),
        generation=1,
        annotations={
            "deployment.kubernetes.io/revision": str(gen),
            "deployment.kubernetes.io/desired-replicas": str(replicas),
        },
    )
    pods = []
    for _ in range(replicas):
        p = _pod(
            g,
            f"{rs_name}-{g.suffix()}",
            ns,
            t,
            place.pick(),
            ("apps/v1", "ReplicaSet", rs_name, rs_meta["uid"]),
            {"pod-template-hash": pth},
            _state(g),
        )
        pods.append(p)
    ready = sum(
        1
        for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])
    )
    template = {
        "metadata": {"labels": dict(t.labels, **{"pod-template-hash": pth})},
        "spec": {"containers": t.containers, "volumes": t.volumes},
    }
    progressing_ok = ready == replicas or g.rng.random() < 0.7
    now = rfc3339(g.ago(0, 3600))
    yield (
        "deployments.apps",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": dep_meta,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": t.labels}, "spec": template["spec"]},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                **({"paused": True} if g.rng.random() < 0.01 else {}),
            },
            "status": {
                "observedGeneration": gen,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": replicas - ready,
                "terminatingReplicas": 0,
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True" if ready == replicas else "False",
                        "lastUpdateTime": now,
                        "lastTransitionTime": now,
                        "reason": "MinimumReplicasAvailable"
                        if ready == replicas
                        else "MinimumReplicasUnavailable",
                        "message": "Deployment has minimum availability.",
                    },
                    {
                        "type": "Progressing",
                        "status": "True" if progressing_ok else "False",
                        "lastUpdateTime": now,
                        "lastTransitionTime": now,
                        "reason": "NewReplicaSetAvailable" if progressing_ok else "ProgressDeadlineExceeded",
                        "message": f'ReplicaSet "{rs_name}" has successfully progressed.',
                    },
                ],
            },
        },
    )
    yield (
        "replicasets.apps",
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": rs_meta,
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app, "pod-template-hash": pth}},
                "template": template,
            },
            "status": {
                "replicas": replicas,
                "fullyLabeledReplicas": replicas,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": 1,
            },
        },
    )
    if gen > 1:
        old = g.hexid(10)
        yield (
            "replicasets.apps",
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": g.meta(
                    f"{app}-{old}",
                    ns,
                    labels={"app": app, "pod-template-hash": old},
                    owner=("apps/v1", "Deployment", app, dep_meta["uid"]),
                    generation=2,
                    annotations={"deployment.kubernetes.io/revision": str(gen - 1)},
                ),
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": app, "pod-template-hash": old}},
                    "template": template,
                },
                "status": {"replicas": 0, "observedGeneration": 2},
            },
        )
    yield from _serviceaccount(g, ns, app)
    yield (
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": g.meta(f"{app}-config", ns, labels={"app": app}),
            "data": {"config.yaml": f"app: {app}\nreplicas: {replicas}\n"},
        },
    )
    if g.rng.random() < 0.5:
        yield (
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": g.meta(f"{app}-credentials", ns, labels={"app": app}),
                "data": {"password": "c2VjcmV0"},
            },
        )
    for p in pods:
        yield "pods", p
    yield from _service(g, ns, app, pods)
    if replicas >= 2 and g.rng.random() < 0.5:
        yield (
            "poddisruptionbudgets.policy",
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": g.meta(app, ns, generation=1),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
                "status": {
                    "currentHealthy": ready,
                    "desiredHealthy": 1,
                    "disruptionsAllowed": max(0, ready - 1),
                    "expectedPods": replicas,
                    "observedGeneration": 1,
                    "conditions": [
                        {
                            "type": "DisruptionAllowed",
                            "status": "True" if ready > 1 else "False",
                            "reason": "SufficientPods" if ready > 1 else "InsufficientPods",
                            "lastTransitionTime": now,
                            "observedGeneration": 1,
                            "message": "",
                        }
                    ],
                },
            },
        )
    if replicas >= 2 and g.rng.random() < 0.3:
        yield from _hpa(g, ns, app, replicas)
    if g.rng.random() < 0.15:
        yield (
            "ingresses.networking.k8s.io",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": g.meta(app, ns, generation=1),
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": [f"{app}.{ns}.example.com"], "secretName": f"{ns}-tls"}],
                    "rules": [
                        {
                            "host": f"{app}.{ns}.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {"service": {"name": app, "port": {"number": 80}}},
                                    },
                                    {
                                        "path": "/static",
                                        "pathType": "ImplementationSpecific",
                                        "backend": {
                                            "resource": {
                                                "apiGroup": "k8s.example.com",
                                                "kind": "StorageBucket",
                                                "name": "static-assets",
                                            }
                                        },
                                    },
                                ]
                            },
                        }
                    ],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": f"203.0.113.{g.rng.randrange(1, 254)}"}]}},
            },
        )


def _hpa(g: _Gen, ns: str, app: str, replicas: int) -> Iterator[tuple[str, Obj]]:
    now = rfc3339(g.ago(0, 600))
    cpu_util = g.rng.randrange(20, 120)
    yield (
        "horizontalpodautoscalers.autoscaling",
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": g.meta(app, ns, generation=1),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": max(1, replicas // 2),
                "maxReplicas": replicas * 3,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    },
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "500Mi"},
                        },
                    },
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "http_requests_per_second"},
                            "target": {"type": "AverageValue", "averageValue": "100"},
                        },
                    },
                    {
                        "type": "External",
                        "external": {
                            "metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": app}}},
                            "target": {"type": "Value", "value": "30"},
                        },
                    },
                ],
            },
            "status": {
                "currentReplicas": replicas,
                "desiredReplicas": replicas,
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "current": {"averageUtilization": cpu_util, "averageValue": f"{cpu_util * 2}m"},
                        },
                    },
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "current": {"averageValue": f"{g.rng.randrange(100, 600)}Mi"},
                        },
                    },
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "http_requests_per_second"},
                            "current": {"averageValue": f"{g.rng.randrange(10, 200)}"},
                        },
                    },
                    {
                        "type": "External",
                        "external": {
                            "metric": {"name": "queue_depth"},
                            "current": {"value": str(g.rng.randrange(0, 60))},
                        },
                    },
                ],
                "conditions": [
                    {
                        "type": "AbleToScale",
                        "status": "True",
                        "lastTransitionTime": now,
                        "reason": "ReadyForNewScale",
                        "message": "recommended size matches current size",
                    },
                    {
                        "type": "ScalingActive",
                        "status": "True",
                        "lastTransitionTime": now,
                        "reason": "ValidMetricFound",
                        "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization",
                    },
                    {
                        "type": "ScalingLimited",
                        "status": "False",
                        "lastTransitionTime": now,
                        "reason": "DesiredWithinRange",
                        "message": "the desired count is within the acceptable range",
                    },
                ],
            },
        },
    )


def _statefulset(g: _Gen, ns: str, app: str, replicas: int, place: Placement) -> Iterator[tuple[str, Obj]]:
    t = _template(g, app)
    sc = g.rng.choice(("standard", "fast-ssd", "local-storage", "nfs"))
    sts_meta = g.meta(app, ns, labels={"app": app}, generation=g.rng.randrange(1, 5))
    rev = f"{app}-{g.hexid(10)}"
    pods = []
    pvcs, pvs = [], []
    for i in range(replicas):
        claim = f"data-{app}-{i}"
        pv_name = f"pvc-{g.uid()}"
        size = g.rng.choice(("10Gi", "20Gi", "50Gi", "100Gi"))
        pvc_meta = g.meta(
            claim,
            ns,
            labels={"app": app},
            annotations={
                "pv.kubernetes.io/bind-completed": "yes",
                "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
            },
        )
        bound = g.rng.random() < 0.97
        pvcs.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": pvc_meta,
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                    "storageClassName": sc,
                    "volumeMode": "Filesystem",
                    **({"volumeName": pv_name} if bound else {}),
                },
                "status": (
                    {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}}
                    if bound
                    else {"phase": "Pending"}
                ),
            }
        )
        if bound:
            source: Obj
            if sc == "local-storage":
                source = {"local": {"path": f"/mnt/disks/{g.suffix()}", "fsType": "ext4"}}
            elif sc == "nfs":
                source = {"nfs": {"server": "nfs.storage.internal", "path": f"/exports/{ns}/{claim}"}}
            else:
                source = {
                    "csi": {
                        "driver": "ebs.csi.aws.com",
                        "volumeHandle": f"vol-{g.hexid(17)}",
                        "fsType": "ext4",
                        "volumeAttributes": {
                            "storage.kubernetes.io/csiProvisionerIdentity": "1700000000000-ebs"
                        },
                    }
                }
            pvs.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": g.meta(
                        pv_name,
                        labels={"topology.kubernetes.io/zone": g.rng.choice(ZONES)},
                        annotations={"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"},
                    ),
                    "spec": {
                        "capacity": {"storage": size},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Delete" if sc != "local-storage" else "Retain",
                        "storageClassName": sc,
                        "volumeMode": "Filesystem",
                        "claimRef": {
                            "apiVersion": "v1",
                            "kind": "PersistentVolumeClaim",
                            "name": claim,
                            "namespace": ns,
                            "uid": pvc_meta["uid"],
                        },
                        **source,
                    },
                    "status": {"phase": "Bound", "lastPhaseTransitionTime": rfc3339(g.ago(3600, 86400))},
                }
            )
        node = place.pick()
        pods.append(
            _pod(
                g,
                f"{app}-{i}",
                ns,
                t,
                node,
                ("apps/v1", "StatefulSet", app, sts_meta["uid"]),
                {
                    "controller-revision-hash": rev,
                    "statefulset.kubernetes.io/pod-name": f"{app}-{i}",
                    "apps.kubernetes.io/pod-index": str(i),
                },
                _state(g),
                pvc=claim,
            )
        )
        if bound and sc not in {"nfs", "local-storage"}:
            yield (
                "volumeattachments.storage.k8s.io",
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "VolumeAttachment",
                    "metadata": g.meta(f"csi-{g.hexid(64)}"),
                    "spec": {
                        "attacher": "ebs.csi.aws.com",
                        "nodeName": node,
                        "source": {"persistentVolumeName": pv_name},
                    },
                    "status": {
                        "attached": True,
                        "attachmentMetadata": {"devicePath": f"/dev/xvd{'abcdefgh'[i % 8]}"},
                    },
                },
            )
    ready = sum(
        1
        for p in pods
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])
    )
    gen = sts_meta["generation"]
    yield (
        "statefulsets.apps",
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": sts_meta,
            "spec": {
                "replicas": replicas,
                "serviceName": app,
                "selector": {"matchLabels": {"app": app}},
                "podManagementPolicy": "OrderedReady",
                "template": {"metadata": {"labels": t.labels}, "spec": {"containers": t.containers}},
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "storageClassName": sc,
                            "resources": {"requests": {"storage": "10Gi"}},
                        },
                    }
                ],
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                **({"ordinals": {"start": 0}} if g.rng.random() < 0.5 else {}),
            },
            "status": {
                "replicas": replicas,
                "readyReplicas": ready,
                "currentReplicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": ready,
                "observedGeneration": gen,
                "currentRevision": rev,
                "updateRevision": rev,
                "collisionCount": 0,
            },
        },
    )
    yield from _serviceaccount(g, ns, app)
    for o in pvcs:
        yield "persistentvolumeclaims", o
    for o in pvs:
        yield "persistentvolumes", o
    for p in pods:
        yield "pods", p
    yield from _service(g, ns, app, pods, headless=True)


def _jobs(g: _Gen, ns: str, app: str, n: int, place: Placement) -> Iterator[tuple[str, Obj]]:
    t = _template(g, app)
    cron = g.rng.random() < 0.5
    cj_meta = g.meta(app, ns, labels={"app": app}, generation=1) if cron else None
    last_sched = g.ago(60, 3600)
    for k in range(n):
        jname = f"{app}-{int(last_sched) // 60 - k}" if cron else f"{app}-{g.suffix()}"
        outcome = g.rng.choices(("succeeded", "running", "failed"), (70, 20, 10))[0]
        started = g.ago(120, 7200)
        job_meta = g.meta(
            jname,
            ns,
            labels={"app": app, "job-name": jname},
            owner=("batch/v1", "CronJob", app, cj_meta["uid"]) if cj_meta else None,
            generation=1,
        )
        conds: list[Obj] = []
        status: Obj = {"startTime": rfc3339(started)}
        if outcome == "succeeded":
            done = started + g.rng.uniform(10, 600)
            status.update(
                {
                    "succeeded": 1,
                    "completionTime": rfc3339(done),
                    "ready": 0,
                    "terminating": 0,
                    "uncountedTerminatedPods": {},
                }
            )
            conds = [
                {
                    "type": "SuccessCriteriaMet",
                    "status": "True",
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                },
                {
                    "type": "Complete",
                    "status": "True",
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                },
            ]
            pstate = "succeeded"
        elif outcome == "failed":
            done = started + g.rng.uniform(10, 600)
            status.update({"failed": 1, "ready": 0})
            reason = g.rng.choice(("BackoffLimitExceeded", "DeadlineExceeded"))
            conds = [
                {
                    "type": "FailureTarget",
                    "status": "True",
                    "reason": reason,
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                    "message": "Job has reached the specified backoff limit",
                },
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": reason,
                    "lastProbeTime": rfc3339(done),
                    "lastTransitionTime": rfc3339(done),
                    "message": "Job has reached the specified backoff limit",
                },
            ]
            pstate = "failed-evicted"
        else:
            status.update({"active": 1, "ready": 1})
            pstate = "running"
        if conds:
            status["conditions"] = conds
        yield (
            "jobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": job_meta,
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "backoffLimit": 6,
                    **({"activeDeadlineSeconds": 3600} if g.rng.random() < 0.3 else {}),
                    "completionMode": "NonIndexed",
                    "suspend": False,
                    "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_meta["uid"]}},
                    "template": {
                        "metadata": {"labels": {"job-name": jname}},
                        "spec": {"containers": t.containers, "restartPolicy": "Never"},
                    },
                },
                "status": status,
            },
        )
        yield (
            "pods",
            _pod(
                g,
                f"{jname}-{g.suffix()}",
                ns,
                t,
                place.pick(),
                ("batch/v1", "Job", jname, job_meta["uid"]),
                {"job-name": jname, "batch.kubernetes.io/job-name": jname},
                pstate,
                restart_policy="Never",
            ),
        )
    if cj_meta:
        yield (
            "cronjobs.batch",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": cj_meta,
                "spec": {
                    "schedule": g.rng.choice(
                        ("*/5 * * * *", "0 * * * *", "30 2 * * *", "@hourly", "0 */6 * * 1-5")
                    ),
                    "concurrencyPolicy": g.rng.choice(("Allow", "Forbid", "Replace")),
                    "suspend": g.rng.random() < 0.1,
                    "successfulJobsHistoryLimit": 3,
                    "failedJobsHistoryLimit": 1,
                    **({"timeZone": "Europe/Paris"} if g.rng.random() < 0.3 else {}),
                    **({"startingDeadlineSeconds": 200} if g.rng.random() < 0.3 else {}),
                    "jobTemplate": {
                        "spec": {"template": {"spec": {"containers": t.containers, "restartPolicy": "Never"}}}
                    },
                },
                "status": {
                    "lastScheduleTime": rfc3339(last_sched),
                    "lastSuccessfulTime": rfc3339(last_sched + 60),
                },
            },
        )
