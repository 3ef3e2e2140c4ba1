"""The manifests under deploy/ read as Kubernetes reads them: workloads and their pods, the
ServiceAccount a pod runs as, the RBAC bound to it, and each kubescope container's command line
parsed by kubescope's own CLI parser into its settings.

Used by the static checks (tests/deploy/test_pod_specs_give_the_process_what_it_needs.py) and by
the pod runs (tests/deploy/test_pods_start_as_in_a_cluster.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubescope import cli

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
IMAGE = "ghcr.io/kubescope/kubescope:"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

# Roles every cluster bootstraps (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy:
# policy.go and namespace_policy.go) that deploy/ binds by name.
BOOTSTRAP_ROLES: dict[tuple[str, str, str], list[dict[str, Any]]] = {
    ("ClusterRole", "", "system:auth-delegator"): [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
    ],
    ("Role", "kube-system", "extension-apiserver-authentication-reader"): [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["extension-apiserver-authentication"],
            "verbs": ["get", "list", "watch"],
        }
    ],
}


@dataclass(frozen=True)
class Doc:
    path: Path
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace", ""))

    def where(self) -> str:
        return f"{self.path.relative_to(REPO)} ({self.kind} {self.namespace}/{self.name})"


def load(root: Path = DEPLOY) -> list[Doc]:
    docs = []
    for path in sorted(root.rglob("*.yaml")):
        docs.extend(Doc(path, d) for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def find(docs: list[Doc], kind: str, name: str, namespace: str = "") -> Doc | None:
    return next((d for d in docs if d.kind == kind and d.name == name and d.namespace == namespace), None)


def workloads(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d.kind in WORKLOAD_KINDS]


def pod_spec(workload: Doc) -> dict[str, Any]:
    spec: dict[str, Any] = workload.obj["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Doc) -> dict[str, str]:
    labels: dict[str, str] = workload.obj["spec"]["template"]["metadata"].get("labels", {})
    return labels


def pod_name(workload: Doc) -> str:
    """A name the workload's controller would give its last pod."""
    if workload.kind == "StatefulSet":
        return f"{workload.name}-{int(workload.obj['spec'].get('replicas', 1)) - 1}"
    return f"{workload.name}-5d8f7c9b6-x2x7q"


def service_account(docs: list[Doc], workload: Doc) -> tuple[str, Doc | None]:
    name = str(pod_spec(workload).get("serviceAccountName") or "default")
    return name, find(docs, "ServiceAccount", name, workload.namespace)


def token_mounted(docs: list[Doc], workload: Doc) -> bool:
    """Whether the kubelet mounts the service-account token: the pod's
    ``automountServiceAccountToken`` wins, else the ServiceAccount's, else true."""
    spec = pod_spec(workload)
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    _, sa = service_account(docs, workload)
    if sa is not None and sa.obj.get("automountServiceAccountToken") is not None:
        return bool(sa.obj["automountServiceAccountToken"])
    return True


def kubescope_containers(workload: Doc) -> list[dict[str, Any]]:
    return [c for c in pod_spec(workload)["containers"] if str(c.get("image", "")).startswith(IMAGE)]


def env_values(workload: Doc, container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the kubelet sets it (downward-API fields resolved)."""
    fields = {"metadata.name": pod_name(workload), "metadata.namespace": workload.namespace}
    out: dict[str, str] = {}
    for e in container.get("env", []):
        if "value" in e:
            out[e["name"]] = str(e["value"])
        elif "fieldRef" in e.get("valueFrom", {}):
            path = e["valueFrom"]["fieldRef"]["fieldPath"]
            assert path in fields, f"fieldRef {path} not emulated by the test"
            out[e["name"]] = fields[path]
    return out


def expand(args: list[str], env: dict[str, str]) -> list[str]:
    """``$(VAR)`` references in args, expanded as the kubelet does (unknown ones stay as written)."""
    return [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), a) for a in args]


@dataclass
class Parsed:
    command: str
    args: argparse.Namespace
    settings: Any
    error: str = ""
    argv: list[str] = field(default_factory=list)


def parse(argv: list[str]) -> Parsed:
    """The container's args (after the image's ``kubescope`` entrypoint) through the real parser and
    the subcommand's settings (the validation ``kubescope`` runs before it starts)."""
    command = argv[0] if argv else ""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns = cli.build_parser(only=command).parse_args(argv)
    except SystemExit:
        return Parsed(command, argparse.Namespace(), None, err.getvalue().strip() or "rejected", argv)
    try:
        settings = _settings(command, ns)
    except Exception as e:  # a ConfigError is what kubescope prints before exiting 2
        return Parsed(command, ns, None, f"{type(e).__name__}: {e}", argv)
    return Parsed(command, ns, settings, "", argv)


def _settings(command: str, ns: argparse.Namespace) -> Any:
    if command == "state-metrics":
        from kubescope.state import settings as st

        return st.from_args(ns)
    if command == "resource-metrics":
        from kubescope.resource import settings as rs

        return rs.from_args(ns)
    if command == "custom-metrics":
        from kubescope.custom_metrics import command as cm

        return cm.from_args(ns)
    if command == "history":
        from kubescope.history import command as hc

        return hc.from_args(ns)
    raise AssertionError(f"no settings known for {command!r}: teach tests/deploy/manifests.py")


@dataclass(frozen=True)
class Listener:
    port: int
    scheme: str  # HTTP or HTTPS, as a probe names it
    role: str


def listeners(p: Parsed) -> list[Listener]:
    """Where the process listens, from its settings."""
    s = p.settings
    if p.command == "state-metrics":
        scheme = "HTTPS" if s.tls_config else "HTTP"
        return [Listener(s.port, scheme, "metrics"), Listener(s.telemetry_port, scheme, "telemetry")]
    if p.command == "resource-metrics":
        return [Listener(s.serving.secure_port, "HTTPS", "api")]
    if p.command == "custom-metrics":
        return [Listener(s.apiserver.serving.secure_port, "HTTPS", "api")]
    if p.command == "history":
        return [Listener(s.serve.secure_port, "HTTPS", "api")]
    raise AssertionError(p.command)


def written_paths(p: Parsed) -> list[str]:
    """Directories the process writes at start-up (relative ones from the image's working dir /)."""
    s = p.settings
    if p.command == "resource-metrics" and not s.serving.tls.cert_file:
        d = s.serving.cert_dir
        return [d if d.startswith("/") else "/" + d]
    if p.command == "custom-metrics" and not s.apiserver.serving.tls.cert_file:
        d = s.apiserver.serving.tls.cert_dir
        return [d if d.startswith("/") else "/" + d]
    if p.command == "history":
        dirs = [] if s.serve.tls_cert_file else [s.serve.cert_dir]
        if s.backend is None:  # the store and its WAL, next to each other
            dirs.append(os.path.dirname(s.db) or ".")
        return [d if d.startswith("/") else "/" + d.lstrip("./") for d in dirs]
    return []


def uses_in_cluster_config(p: Parsed) -> bool:
    return not (p.args.kubeconfig or p.args.apiserver)


@dataclass(frozen=True)
class Request:
    """One API request the process makes: verb on group/resource[/subresource], in a namespace
    (empty: cluster scope), of a named object (empty: any)."""

    verb: str
    group: str
    resource: str
    namespace: str = ""
    name: str = ""

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else " (cluster scope)"
        return (
            f"{self.verb} {self.resource}{'.' + self.group if self.group else ''}"
            + (f" {self.name!r}" if self.name else "")
            + where
        )


def requests_at_start(p: Parsed, workload: Doc) -> list[Request]:
    """What the process asks the API server for before it is ready, derived from its code."""
    s = p.settings
    if p.command == "state-metrics":
        from kubescope.state.rbac import cluster_role

        out = [
            Request(verb, group, resource)
            for rule in cluster_role(s.resources, auth_filter=s.auth_filter)["rules"]
            for group in rule["apiGroups"]
            for resource in rule["resources"]
            for verb in rule["verbs"]
        ]
        if s.pod:  # automatic sharding: state/command.py _owner_statefulset
            out.append(Request("get", "", "pods", s.pod_namespace, s.pod))
            out.append(Request("get", "apps", "statefulsets", s.pod_namespace, workload.name))
        return out
    if p.command == "resource-metrics":
        out = [
            # resource/app.py: the node and running-pod reflectors
            *(Request(v, "", r) for r in ("nodes", "pods") for v in ("list", "watch")),
            # the kubelets authorize nodes/metrics (or nodes/proxy through the API server)
            Request("get", "", "nodes/proxy" if s.kubelet.via_apiserver else "nodes/metrics"),
            # apiserver/: delegated authentication and authorization
            Request("create", "authentication.k8s.io", "tokenreviews"),
            Request("create", "authorization.k8s.io", "subjectaccessreviews"),
        ]
        if not s.auth.skip_lookup:  # the front-proxy CA and header names
            out.append(Request("get", "", "configmaps", "kube-system", "extension-apiserver-authentication"))
        return out
    if p.command == "custom-metrics":
        # apiserver/ (AggregatedAPI): delegated authentication and authorization; API discovery for
        # the REST mapper is open to every authenticated user; objects are listed per request only
        out = [
            Request("create", "authentication.k8s.io", "tokenreviews"),
            Request("create", "authorization.k8s.io", "subjectaccessreviews"),
        ]
        if s.apiserver.auth.needs_lookup:
            out.append(Request("get", "", "configmaps", "kube-system", "extension-apiserver-authentication"))
        return out
    if p.command == "history":
        # history/app.py: the pod, ReplicaSet and Job reflectors (owners), then a LIST of NodeMetrics
        # and PodMetrics per cycle; apiserver/: delegated authentication and authorization
        out = [
            *(Request(v, g, r) for g, r in (("", "pods"), ("apps", "replicasets"), ("batch", "jobs"))
              for v in ("list", "watch")),
            Request("create", "authentication.k8s.io", "tokenreviews"),
            Request("create", "authorization.k8s.io", "subjectaccessreviews"),
        ]  # fmt: skip
        if s.record and s.backend is None and s.source == "kubelets":
            # history/kubelets.py: the node reflector, then the kubelets (nodes/metrics, or nodes/proxy
            # through the API server)
            out += [Request(v, "", "nodes") for v in ("list", "watch")]
            out.append(Request("get", "", "nodes/proxy" if s.kubelet.via_apiserver else "nodes/metrics"))
        elif s.record and s.backend is None:
            out += [Request("list", "metrics.k8s.io", r) for r in ("nodes", "pods")]
        if s.serve.options().auth.needs_lookup:
            out.append(Request("get", "", "configmaps", "kube-system", "extension-apiserver-authentication"))
        return out
    raise AssertionError(p.command)


def bound_rules(docs: list[Doc], namespace: str, sa: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(namespace the rule applies in, "" for all; rule) for every role bound to the ServiceAccount."""
    for b in docs:
        if b.kind not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if not any(
            s.get("kind") == "ServiceAccount" and s.get("name") == sa and s.get("namespace") == namespace
            for s in b.obj.get("subjects", [])
        ):
            continue
        ref = b.obj["roleRef"]
        role_ns = b.namespace if ref["kind"] == "Role" else ""
        role = find(docs, ref["kind"], ref["name"], role_ns)
        rules = (
            role.obj.get("rules", []) if role else BOOTSTRAP_ROLES.get((ref["kind"], role_ns, ref["name"]))
        )
        assert rules is not None, f"{b.where()}: binds {ref['kind']} {ref['name']}, found nowhere"
        scope = b.namespace if b.kind == "RoleBinding" else ""
        for rule in rules:
            yield scope, rule


def allowed(docs: list[Doc], namespace: str, sa: str, req: Request) -> bool:
    for scope, rule in bound_rules(docs, namespace, sa):
        if scope and scope != req.namespace:
            continue

        def has(key: str, value: str, rule: dict[str, Any] = rule) -> bool:
            values = rule.get(key, [])
            return "*" in values or value in values

        names = rule.get("resourceNames", [])
        if (
            has("verbs", req.verb)
            and has("apiGroups", req.group)
            and has("resources", req.resource)
            and (not names or (req.name and req.name in names))
        ):
            return True
    return False


def containers(docs: list[Doc]) -> Iterator[tuple[Doc, dict[str, Any], Parsed]]:
    """Every kubescope container of every workload, with its parsed command line."""
    for w in workloads(docs):
        for c in kubescope_containers(w):
            argv = expand([*c.get("command", [])[1:], *c.get("args", [])], env_values(w, c))
            yield w, c, parse(argv)


def probe_port(container: dict[str, Any], port: int | str) -> int | None:
    """A probe's or Service's port reference resolved against the container's ports."""
    for p in container.get("ports", []):
        if port in (p.get("name"), p["containerPort"]):
            return int(p["containerPort"])
    return None
