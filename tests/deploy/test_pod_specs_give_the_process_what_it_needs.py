"""Every workload under deploy/ gives its kubescope process what it needs to start: a command line
the real parser accepts, a service-account token when it uses in-cluster config, RBAC for every
request it makes before it is ready, probes and Services on the ports it listens on, a hardened
security context, and a writable place for what it writes under a read-only root filesystem.

Each check names the manifest and the fix. tests/deploy/test_pods_start_as_in_a_cluster.py then
starts each pod's process as the kubelet would, against the simulator."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy import manifests as m

DOCS = m.load()
CONTAINERS = list(m.containers(DOCS))
IDS = [f"{w.path.parent.name}/{w.kind}/{c['name']}" for w, c, _ in CONTAINERS]


def test_every_workload_runs_a_kubescope_container() -> None:
    assert {(w.kind, w.name) for w in m.workloads(DOCS)} == {(w.kind, w.name) for w, _, _ in CONTAINERS}, (
        "a workload under deploy/ runs no ghcr.io/kubescope/kubescope container"
    )
    assert len(CONTAINERS) >= 3


def test_the_image_runs_kubescope_as_a_numeric_non_root_user() -> None:
    dockerfile = (m.REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["kubescope"]' in dockerfile, "the manifests' args start with a kubescope subcommand"
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0", user


@pytest.mark.parametrize(("workload", "container", "parsed"), CONTAINERS, ids=IDS)
def test_args_are_accepted_by_kubescope(workload: m.Doc, container: dict[str, Any], parsed: m.Parsed) -> None:
    assert not container.get("command"), (
        f"{workload.where()}: leave command unset, the image's entrypoint is kubescope"
    )
    assert parsed.error == "", f"{workload.where()}: kubescope {' '.join(parsed.argv)}\n  -> {parsed.error}"
    unexpanded = [a for a in parsed.argv if "$(" in a]
    assert unexpanded == [], f"{workload.where()}: $(VAR) without an env entry: {unexpanded}"


@pytest.mark.parametrize(("workload", "container", "parsed"), CONTAINERS, ids=IDS)
def test_in_cluster_config_has_a_token(workload: m.Doc, container: dict[str, Any], parsed: m.Parsed) -> None:
    assert parsed.settings is not None
    sa_name, sa = m.service_account(DOCS, workload)
    assert sa is not None, f"{workload.where()}: ServiceAccount {sa_name} is not under deploy/"
    if m.uses_in_cluster_config(parsed):
        assert m.token_mounted(DOCS, workload), (
            f"{workload.where()}: no service-account token is mounted (ServiceAccount {sa_name} sets "
            "automountServiceAccountToken: false and the pod spec does not set it true), so in-cluster "
            "config fails at start: set automountServiceAccountToken: true in the pod spec"
        )


@pytest.mark.parametrize(("workload", "container", "parsed"), CONTAINERS, ids=IDS)
def test_rbac_allows_every_request_made_at_start(
    workload: m.Doc, container: dict[str, Any], parsed: m.Parsed
) -> None:
    assert parsed.settings is not None
    sa_name, _ = m.service_account(DOCS, workload)
    missing = [
        str(r)
        for r in m.requests_at_start(parsed, workload)
        if not m.allowed(DOCS, workload.namespace, sa_name, r)
    ]
    assert missing == [], f"{workload.where()}: ServiceAccount {sa_name} may not: " + "; ".join(missing)


def test_history_may_record_from_the_kubelets_with_one_more_flag() -> None:
    """deploy/history records from the Metrics API; adding --source=kubelets to its args must need
    no other change (its role already lets it watch nodes and read the kubelets' nodes/metrics)."""
    ((workload, container, _),) = [c for c in CONTAINERS if c[2].command == "history"]
    argv = expand_history_args(container, workload)
    kubelets = m.parse([*argv, "--source=kubelets"])
    assert kubelets.settings is not None and kubelets.settings.source == "kubelets"
    sa_name, _ = m.service_account(DOCS, workload)
    asked = m.requests_at_start(kubelets, workload)
    assert m.Request("get", "", "nodes/metrics") in asked
    missing = [str(r) for r in asked if not m.allowed(DOCS, workload.namespace, sa_name, r)]
    assert missing == [], (
        f"{workload.where()} with --source=kubelets: ServiceAccount {sa_name} may not: " + "; ".join(missing)
    )


def expand_history_args(container: dict[str, Any], workload: m.Doc) -> list[str]:
    return m.expand(
        [*container.get("command", [])[1:], *container.get("args", [])], m.env_values(workload, container)
    )


@pytest.mark.parametrize(("workload", "container", "parsed"), CONTAINERS, ids=IDS)
def test_ports_probes_and_listeners_agree(
    workload: m.Doc, container: dict[str, Any], parsed: m.Parsed
) -> None:
    assert parsed.settings is not None
    listening = {ln.port: ln for ln in m.listeners(parsed)}
    declared = {int(p["containerPort"]) for p in container.get("ports", [])}
    assert declared == set(listening), (
        f"{workload.where()}: containerPorts {sorted(declared)}, but kubescope listens on {sorted(listening)}"
    )
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        assert probe is not None, f"{workload.where()}: no {kind}"
        get = probe["httpGet"]
        port = m.probe_port(container, get["port"])
        assert port in listening, f"{workload.where()}: {kind} port {get['port']!r} is not a listening port"
        scheme = get.get("scheme", "HTTP")
        assert scheme == listening[port].scheme, (
            f"{workload.where()}: {kind} uses {scheme} on port {port}, which serves {listening[port].scheme}"
        )
        assert get["path"] in ("/livez", "/readyz", "/healthz"), get


@pytest.mark.parametrize(("workload", "container", "parsed"), CONTAINERS, ids=IDS)
def test_security_context_is_hardened_and_writes_go_to_volumes(
    workload: m.Doc, container: dict[str, Any], parsed: m.Parsed
) -> None:
    pod_ctx = m.pod_spec(workload).get("securityContext", {})
    ctx = {**pod_ctx, **container.get("securityContext", {})}
    where = workload.where()
    assert ctx.get("runAsNonRoot") is True, f"{where}: set runAsNonRoot: true"
    assert ctx.get("allowPrivilegeEscalation") is False, f"{where}: set allowPrivilegeEscalation: false"
    assert "ALL" in ctx.get("capabilities", {}).get("drop", []), f"{where}: drop ALL capabilities"
    assert ctx.get("readOnlyRootFilesystem") is True, f"{where}: set readOnlyRootFilesystem: true"
    assert ctx.get("seccompProfile", {}).get("type") == "RuntimeDefault", (
        f"{where}: set seccompProfile: {{type: RuntimeDefault}}"
    )
    uid = ctx.get("runAsUser")
    assert uid is None or int(uid) > 0, f"{where}: runAsUser {uid} with runAsNonRoot"
    volumes = {v["name"]: v for v in m.pod_spec(workload).get("volumes", [])}
    claims = {c["metadata"]["name"] for c in workload.obj.get("spec", {}).get("volumeClaimTemplates", [])}
    mounts = [
        vm["mountPath"]
        for vm in container.get("volumeMounts", [])
        if not vm.get("readOnly") and ("emptyDir" in volumes.get(vm["name"], {}) or vm["name"] in claims)
    ]
    for path in m.written_paths(parsed):
        assert any(path == mp or path.startswith(mp.rstrip("/") + "/") for mp in mounts), (
            f"{where}: kubescope writes {path} at start, but the root filesystem is read-only and no "
            "writable emptyDir or volume claim is mounted there"
        )


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def test_services_reach_ports_the_pods_declare() -> None:
    for svc in (d for d in DOCS if d.kind == "Service"):
        pods = [
            (w, c)
            for w in m.workloads(DOCS)
            if w.namespace == svc.namespace and _selects(svc.obj["spec"]["selector"], m.pod_labels(w))
            for c in m.kubescope_containers(w)
        ]
        assert pods, f"{svc.where()}: selects no pod under deploy/"
        for port in svc.obj["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for w, c in pods:
                assert m.probe_port(c, target) is not None, (
                    f"{svc.where()}: targetPort {target!r} is not a port of {w.where()}"
                )


def test_references_between_objects_resolve() -> None:
    services = {(d.namespace, d.name): d for d in DOCS if d.kind == "Service"}
    for d in DOCS:
        if d.kind == "StatefulSet":
            assert (d.namespace, d.obj["spec"]["serviceName"]) in services, d.where()
        if d.kind in (*m.WORKLOAD_KINDS, "PodDisruptionBudget"):
            sel = d.obj["spec"]["selector"]["matchLabels"]
            if d.kind != "PodDisruptionBudget":
                assert _selects(sel, m.pod_labels(d)), f"{d.where()}: selector does not match its pods"
            else:
                assert any(_selects(sel, m.pod_labels(w)) for w in m.workloads(DOCS)), d.where()
        if d.kind == "APIService":
            ref = d.obj["spec"]["service"]
            svc = services.get((ref["namespace"], ref["name"]))
            assert svc is not None, f"{d.where()}: Service {ref} is not under deploy/"
            port = ref.get("port", 443)
            assert port in [p["port"] for p in svc.obj["spec"]["ports"]], f"{d.where()}: port {port}"
        if d.kind == "ServiceMonitor":
            sel = d.obj["spec"]["selector"]["matchLabels"]
            matched = [s for s in services.values() if _selects(sel, s.obj["metadata"].get("labels", {}))]
            assert matched, f"{d.where()}: selects no Service"
            for ep in d.obj["spec"]["endpoints"]:
                for s in matched:
                    assert ep["port"] in [p.get("name") for p in s.obj["spec"]["ports"]], (
                        f"{d.where()}: endpoint port {ep['port']} is not a port of {s.where()}"
                    )
