"""Run one deploy/ workload's kubescope container as the kubelet would, against the simulator.

Run inside a private user and network namespace (tests/netns.py), so the container's own ports
(8080, 10250...) are free, as in its pod:

    unshare -rn python -m tests.deploy.podrun WORKLOAD-KIND WORKLOAD-NAME RESULT.json

What the pod gets, from its manifests: the args (``$(VAR)`` expanded from its env and downward-API
fields), ``KUBERNETES_SERVICE_HOST``/``_PORT`` and the service-account token, CA and namespace at
/var/run/secrets/kubernetes.io/serviceaccount only when the token is mounted
(``automountServiceAccountToken`` of the pod, else of its ServiceAccount), a read-only root
filesystem when its securityContext asks for one, an empty tmpfs at each emptyDir mount, the
files of its ConfigMap at each configMap mount, working directory /. The simulator enforces exactly the RBAC that deploy/ binds to the ServiceAccount (and
the bootstrap roles it names). Then the probes are run as the kubelet runs them: readiness until it
passes, then liveness; then every Service port that selects the pod is connected to.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from kubescope.sim.process import SimulatorProcess
from tests import netns
from tests.deploy import manifests as m

TOKEN = "pod-service-account-token"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
READY_TIMEOUT = 150.0
KUBELET_PORT = 10250


def _auth_file(docs: list[m.Doc], workload: m.Doc, tmp: Path) -> Path:
    sa, _ = m.service_account(docs, workload)
    user = f"system:serviceaccount:{workload.namespace}:{sa}"
    rules = []
    for scope, rule in m.bound_rules(docs, workload.namespace, sa):
        r: dict[str, Any] = {"users": [user], **{k: rule[k] for k in ("verbs", "apiGroups", "resources")}}
        if rule.get("resourceNames"):
            r["resourceNames"] = rule["resourceNames"]
        if scope:
            r["namespaces"] = [scope]
        rules.append(r)
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{workload.namespace}"]
    path = tmp / "auth.yaml"
    path.write_text(
        yaml.safe_dump({"tokens": [{"token": TOKEN, "user": user, "groups": groups}], "rules": rules})
    )
    return path


def _create_pod_objects(sim: SimulatorProcess, workload: m.Doc) -> None:
    """The workload and its pod, as its controller would have created them (409: already there):
    a StatefulSet's pod reads both at start (automatic sharding)."""
    if workload.kind != "StatefulSet":
        return
    kind = workload.kind
    plural = kind.lower() + "s"
    ns = workload.namespace
    for path, body in (
        (f"/apis/apps/v1/namespaces/{ns}/{plural}", workload.obj),
        (
            f"/api/v1/namespaces/{ns}/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": m.pod_name(workload),
                    "namespace": ns,
                    "labels": m.pod_labels(workload),
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": kind,
                            "name": workload.name,
                            "uid": _uid(sim, f"/apis/apps/v1/namespaces/{ns}/{plural}/{workload.name}"),
                            "controller": True,
                        }
                    ],
                },
                "spec": {**m.pod_spec(workload), "nodeName": "node-0001"},
            },
        ),
    ):
        try:
            sim.request("POST", path, body)
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise


def _uid(sim: SimulatorProcess, path: str) -> str:
    try:
        return str(sim.request("GET", path)["metadata"]["uid"])
    except urllib.error.HTTPError:
        return ""


def _config_map_dir(docs: list[m.Doc], workload: m.Doc, volume: dict[str, Any], tmp: Path) -> Path:
    """A ConfigMap volume's files (one per data key), as the kubelet projects them."""
    name = volume["configMap"]["name"]
    cm = m.find(docs, "ConfigMap", name, workload.namespace)
    assert cm is not None, f"ConfigMap {workload.namespace}/{name} is not under deploy/"
    d = tmp / f"configmap-{name}"
    d.mkdir(exist_ok=True)
    for key, value in (cm.obj.get("data") or {}).items():
        (d / key).write_text(value)
    return d


def _mount_script(
    docs: list[m.Doc],
    workload: m.Doc,
    container: dict[str, Any],
    token_dir: Path,
    tmp: Path,
    created: list[Path],
) -> str:
    """Shell lines that give this (new) mount namespace the pod's filesystem view. Mount points the
    image has but this machine lacks are created (in ``created``, removed after the run)."""
    lines = ["set -e", "mount -t tmpfs tmpfs /run", f"mkdir -p {SA_DIR}"]
    if m.token_mounted(docs, workload):
        lines.append(f"mount --bind {shlex.quote(str(token_dir))} {SA_DIR}")
    volumes = {v["name"]: v for v in m.pod_spec(workload).get("volumes", [])}
    for claim in workload.obj.get("spec", {}).get("volumeClaimTemplates", []):  # a StatefulSet's volumes
        volumes[claim["metadata"]["name"]] = {
            "name": claim["metadata"]["name"],
            "persistentVolumeClaim": claim,
        }
    # ConfigMaps first: their files live in this run's temp dir, which an emptyDir at /tmp would hide
    mounts = sorted(container.get("volumeMounts", []), key=lambda vm: "configMap" not in volumes[vm["name"]])
    for vm in mounts:
        v = volumes[vm["name"]]
        target = Path(vm["mountPath"])
        if "configMap" in v:
            missing = [p for p in (target, *target.parents) if not p.exists()]
            created.extend(missing)
            for p in reversed(missing):
                p.mkdir()
            src = _config_map_dir(docs, workload, v, tmp)
            lines.append(f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(target))}")
            continue
        assert "emptyDir" in v or "persistentVolumeClaim" in v, f"volume {v} not emulated"
        if "persistentVolumeClaim" in v:  # a fresh, empty volume (the pod's first start)
            missing = [p for p in (target, *target.parents) if not p.exists()]
            created.extend(missing)
            for p in reversed(missing):
                p.mkdir()
        assert target.is_dir(), f"mountPath {vm['mountPath']} must exist here to emulate it"
        lines.append(f"mount -t tmpfs tmpfs {shlex.quote(vm['mountPath'])}")
    ctx = {**m.pod_spec(workload).get("securityContext", {}), **container.get("securityContext", {})}
    if ctx.get("readOnlyRootFilesystem"):
        lines.append("mount -o remount,bind,ro /")
    lines.append("cd /")
    lines.append('exec "$@"')
    return "\n".join(lines)


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the kubelet does not verify probe certificates
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
            return int(r.status), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return int(e.code), e.read().decode(errors="replace")
    except OSError as e:
        return 0, str(e)


def _probe_url(container: dict[str, Any], probe: dict[str, Any]) -> str:
    get = probe["httpGet"]
    port = m.probe_port(container, get["port"])
    return f"{get.get('scheme', 'HTTP').lower()}://127.0.0.1:{port}{get['path']}"


def run(kind: str, name: str) -> dict[str, Any]:
    docs = m.load()
    workload = next(w for w in m.workloads(docs) if w.kind == kind and w.name == name)
    container = m.kubescope_containers(workload)[0]
    argv = m.expand(list(container.get("args", [])), m.env_values(workload, container))
    result: dict[str, Any] = {"argv": argv, "pod": m.pod_name(workload)}
    netns.loopback_up()
    with tempfile.TemporaryDirectory(prefix="podrun-") as tmp:
        return _run(docs, workload, container, argv, result, Path(tmp))


def _run(
    docs: list[m.Doc],
    workload: m.Doc,
    container: dict[str, Any],
    argv: list[str],
    result: dict[str, Any],
    tmp: Path,
) -> dict[str, Any]:
    # the pod's ports are its own: kubelets run on other machines. Holding the kubelet port while
    # the simulator starts sends its kubelets to free ports when the pod needs 10250 itself.
    hold = None
    if KUBELET_PORT in {int(p["containerPort"]) for p in container.get("ports", [])}:
        hold = socket.create_server(("0.0.0.0", KUBELET_PORT))
    sim = SimulatorProcess(
        nodes=2, pods_per_node=3, seed=5, extra_args=[f"--auth-file={_auth_file(docs, workload, tmp)}"]
    )
    with sim:
        if hold is not None:
            hold.close()
        _create_pod_objects(sim, workload)
        token_dir = tmp / "serviceaccount"
        token_dir.mkdir()
        (token_dir / "token").write_text(TOKEN)
        (token_dir / "ca.crt").write_text(Path(sim.ca_file).read_text())
        (token_dir / "namespace").write_text(workload.namespace)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": "/nonexistent",
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(sim.port),
            **m.env_values(workload, container),
        }
        kubescope = str(Path(sys.executable).parent / "kubescope")  # the image's entrypoint
        log = tmp / "container.log"
        created: list[Path] = []
        script = _mount_script(docs, workload, container, token_dir, tmp, created)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    "unshare",
                    "--mount",
                    "--propagation=private",
                    "sh",
                    "-c",
                    script,
                    "pod",
                    kubescope,
                    *argv,
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            url = _probe_url(container, container["readinessProbe"])
            deadline = time.monotonic() + READY_TIMEOUT
            status, body = 0, ""
            while time.monotonic() < deadline and proc.poll() is None:
                status, body = _get(url)
                if status == 200:
                    break
                time.sleep(0.5)
            result["readiness"] = {"url": url, "status": status, "body": body[-2000:]}
            result["exit_code"] = proc.poll()
            if status == 200:
                url = _probe_url(container, container["livenessProbe"])
                result["liveness"] = {"url": url, "status": _get(url)[0]}
                result["services"] = _services(docs, workload, container)
                tel = _telemetry(container)
                if tel:
                    result["telemetry"] = tel
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for p in created:
                p.rmdir()
        result["exit_code"] = proc.returncode
        result["log"] = log.read_text(errors="replace")[-4000:]
    return result


def _services(docs: list[m.Doc], workload: m.Doc, container: dict[str, Any]) -> dict[str, int]:
    """For every Service port selecting the pod: the status of GET / on its target port (a TCP
    connection that answers HTTP at all)."""
    out: dict[str, int] = {}
    for svc in (d for d in docs if d.kind == "Service" and d.namespace == workload.namespace):
        sel = svc.obj["spec"].get("selector", {})
        if not sel or any(m.pod_labels(workload).get(k) != v for k, v in sel.items()):
            continue
        for p in svc.obj["spec"]["ports"]:
            port = m.probe_port(container, p.get("targetPort", p["port"]))
            scheme = "https" if p.get("appProtocol") == "https" or p["name"] == "https" else "http"
            out[f"{svc.name}:{p['name']}"] = _get(f"{scheme}://127.0.0.1:{port}/metrics")[0]
    return out


def _telemetry(container: dict[str, Any]) -> str:
    port = m.probe_port(container, "telemetry")
    return _get(f"http://127.0.0.1:{port}/metrics")[1] if port else ""


def main() -> int:
    kind, name, out = sys.argv[1:4]
    Path(out).write_text(json.dumps(run(kind, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
