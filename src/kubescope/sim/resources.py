"""The API resources the simulator serves, as kube-apiserver's discovery describes them.

Each :class:`ResourceType` knows its group/version/plural/kind, scope, short names, categories,
subresources and which field selectors it supports (kube-apiserver rejects others with 400
``field label not supported``). The store keys resources as ``plural`` (core group) or
``plural.group``. CustomResourceDefinitions add types at run time (:func:`from_crd`).

A type may be a view of another's storage in another version, as kube-apiserver serves one
storage in several groups: events.k8s.io/v1 Events are the core/v1 Events (``storage``), converted
on the way out and in, with field selectors of their own that select the stored fields
(``field_labels``, kube's field label conversion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubescope.sim import eventsv1

FieldGetter = Callable[[Mapping[str, Any]], str]
Converter = Callable[[dict[str, Any]], dict[str, Any]]


def _path(*keys: str) -> FieldGetter:
    def get(obj: Mapping[str, Any]) -> str:
        cur: Any = obj
        for k in keys:
            if not isinstance(cur, Mapping):
                return ""
            cur = cur.get(k)
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return get


COMMON_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": _path("metadata", "name"),
    "metadata.namespace": _path("metadata", "namespace"),
}


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    fields: Mapping[str, FieldGetter] = field(default_factory=dict)
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )
    singular: str = ""
    create_only: bool = False
    """Virtual resources such as TokenReview: POST answers, nothing is stored."""
    other_versions: tuple[str, ...] = ()
    """Further versions served with the same schema (e.g. autoscaling/v1 beside v2)."""
    storage: str = ""
    """The store key of the type this one is a view of ("": its own)."""
    field_labels: Mapping[str, str] | None = None
    """A view's field selector labels and the stored fields each selects (None: the stored ones)."""
    to_version: Converter | None = None
    """A view's form of a stored object."""
    from_version: Converter | None = None
    """The stored form of a view's object (what a client writes)."""

    @property
    def key(self) -> str:
        if self.storage:
            return self.storage
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    def field_getters(self) -> dict[str, FieldGetter]:
        return {**COMMON_FIELDS, **self.fields}

    def field_values(self, obj: Mapping[str, Any]) -> dict[str, str]:
        """Every supported field-selector value of ``obj``."""
        return {k: g(obj) for k, g in self.field_getters().items()}


_ALL = ("all",)
_STATUS = ("status",)

POD_FIELDS = {
    "spec.nodeName": _path("spec", "nodeName"),
    "spec.restartPolicy": _path("spec", "restartPolicy"),
    "spec.schedulerName": _path("spec", "schedulerName"),
    "spec.serviceAccountName": _path("spec", "serviceAccountName"),
    "spec.hostNetwork": lambda o: "true" if (o.get("spec") or {}).get("hostNetwork") else "false",
    "status.phase": _path("status", "phase"),
    "status.podIP": _path("status", "podIP"),
    "status.nominatedNodeName": _path("status", "nominatedNodeName"),
}

EVENT_FIELDS = {
    f"involvedObject.{k}": _path("involvedObject", k)
    for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
} | {
    "reason": _path("reason"),
    "reportingComponent": _path("reportingComponent"),
    "source": lambda o: _path("source", "component")(o) or _path("reportingComponent")(o),
    "type": _path("type"),
}

BUILTIN: tuple[ResourceType, ...] = (
    # core/v1
    ResourceType(
        "",
        "v1",
        "pods",
        "Pod",
        True,
        ("po",),
        _ALL,
        (
            "status",
            "log",
            "exec",
            "attach",
            "portforward",
            "proxy",
            "binding",
            "eviction",
            "ephemeralcontainers",
            "resize",
        ),
        POD_FIELDS,
    ),
    ResourceType(
        "",
        "v1",
        "nodes",
        "Node",
        False,
        ("no",),
        (),
        ("status", "proxy"),
        {"spec.unschedulable": lambda o: "true" if (o.get("spec") or {}).get("unschedulable") else "false"},
    ),
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        False,
        ("ns",),
        (),
        ("status", "finalize"),
        {"status.phase": _path("status", "phase")},
    ),
    ResourceType("", "v1", "services", "Service", True, ("svc",), _ALL, ("status", "proxy")),
    ResourceType("", "v1", "endpoints", "Endpoints", True, ("ep",), (), (), singular="endpoints"),
    ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ResourceType("", "v1", "secrets", "Secret", True, (), (), (), {"type": _path("type")}),
    ResourceType("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), (), _STATUS),
    ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), (), _STATUS),
    ResourceType("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), (), _STATUS),
    ResourceType("", "v1", "limitranges", "LimitRange", True, ("limits",)),
    ResourceType(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        True,
        ("rc",),
        _ALL,
        ("status", "scale"),
        {"status.replicas": _path("status", "replicas")},
    ),
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), (), ("token",)),
    ResourceType("", "v1", "events", "Event", True, ("ev",), (), (), EVENT_FIELDS),
    ResourceType(
        "events.k8s.io",
        "v1",
        "events",
        "Event",
        True,
        ("ev",),
        storage="events",
        field_labels=eventsv1.FIELD_LABELS,
        to_version=eventsv1.to_events_v1,
        from_version=eventsv1.to_core_v1,
    ),
    # apps/v1
    ResourceType("apps", "v1", "deployments", "Deployment", True, ("deploy",), _ALL, ("status", "scale")),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        ("rs",),
        _ALL,
        ("status", "scale"),
        {"status.replicas": _path("status", "replicas")},
    ),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), _ALL, ("status", "scale")),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), _ALL, _STATUS),
    ResourceType("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    # batch/v1
    ResourceType(
        "batch",
        "v1",
        "jobs",
        "Job",
        True,
        (),
        _ALL,
        _STATUS,
        {"status.successful": _path("status", "succeeded")},
    ),
    ResourceType("batch", "v1", "cronjobs", "CronJob", True, ("cj",), _ALL, _STATUS),
    # autoscaling
    ResourceType(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        ("hpa",),
        _ALL,
        _STATUS,
    ),
    # policy/v1
    ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), (), _STATUS),
    # networking.k8s.io/v1
    ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), (), _STATUS),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    # storage.k8s.io/v1
    ResourceType("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    ResourceType("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", False, (), (), _STATUS),
    ResourceType("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    # coordination.k8s.io/v1
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True),
    # discovery.k8s.io/v1
    ResourceType(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        True,
        (),
        (),
        (),
        {"addressType": _path("addressType")},
    ),
    # certificates.k8s.io/v1
    ResourceType(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        False,
        ("csr",),
        (),
        ("status", "approval"),
        {"spec.signerName": _path("spec", "signerName")},
    ),
    # admissionregistration.k8s.io
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
    ),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
    ),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
        False,
        (),
        (),
        _STATUS,
    ),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        False,
    ),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingadmissionpolicies",
        "MutatingAdmissionPolicy",
        False,
        other_versions=("v1beta1",),
    ),
    ResourceType(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingadmissionpolicybindings",
        "MutatingAdmissionPolicyBinding",
        False,
        other_versions=("v1beta1",),
    ),
    # rbac.authorization.k8s.io/v1
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    # scheduling
    ResourceType("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ("pc",)),
    # apiregistration / apiextensions
    ResourceType(
        "apiregistration.k8s.io", "v1", "apiservices", "APIService", False, (), ("api-extensions",), _STATUS
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        ("api-extensions",),
        _STATUS,
    ),
    # virtual, create-only
    ResourceType(
        "authentication.k8s.io",
        "v1",
        "tokenreviews",
        "TokenReview",
        False,
        verbs=("create",),
        create_only=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "SubjectAccessReview",
        False,
        verbs=("create",),
        create_only=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
        create_only=True,
    ),
)


def from_crd(crd: Mapping[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition defines (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for v in spec.get("versions") or []:
        if not v.get("served", True):
            continue
        subs = tuple(k for k in (v.get("subresources") or {}) if k in ("status", "scale"))
        out.append(
            ResourceType(
                str(spec.get("group", "")),
                str(v.get("name", "")),
                str(names.get("plural", "")),
                str(names.get("kind", "")),
                spec.get("scope", "Namespaced") == "Namespaced",
                tuple(names.get("shortNames") or ()),
                tuple(names.get("categories") or ()),
                subs,
                singular=str(names.get("singular", "")),
            )
        )
    return out


class Registry:
    """Resource types by store key and by (group, version, plural), with CRD types added at run time."""

    def __init__(self, types: Iterable[ResourceType] = BUILTIN) -> None:
        self.by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self.by_key: dict[str, ResourceType] = {}
        for t in types:
            self.add(t)

    def add(self, t: ResourceType) -> None:
        self.by_gvr[(t.group, t.version, t.plural)] = t
        for v in t.other_versions:
            self.by_gvr[(t.group, v, t.plural)] = t
        # the first version registered is the storage version: the store key is shared
        self.by_key.setdefault(t.key, t)

    def remove_group_resource(self, group: str, plural: str) -> None:
        for k in [k for k in self.by_gvr if k[0] == group and k[2] == plural]:
            del self.by_gvr[k]
        self.by_key.pop(f"{plural}.{group}" if group else plural, None)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self.by_gvr.get((group, version, plural))

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions (preferred first), core group excluded."""
        out: dict[str, list[str]] = {}
        for g, v, _ in self.by_gvr:
            if g:
                vs = out.setdefault(g, [])
                if v not in vs:
                    vs.append(v)
        for vs in out.values():
            vs.sort(key=_version_priority)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for (g, v, _), t in self.by_gvr.items() if g == group and v == version]


def _version_priority(v: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first."""
    import re

    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
    if not m:
        return (3, 0, 0)
    major = int(m.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor)
