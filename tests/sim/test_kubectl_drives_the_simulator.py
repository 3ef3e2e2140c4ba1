"""The real kubectl against a simulator process (TLS, token, generated cluster)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from kubescope.sim.process import SimulatorProcess
from tests.simfixtures import simulator

pytestmark = [pytest.mark.slow, pytest.mark.kubectl]

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")


class Kubectl:
    def __init__(self, sim: SimulatorProcess, cache: Path) -> None:
        self.sim = sim
        self.cache = cache

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(
            [KUBECTL, f"--kubeconfig={self.sim.kubeconfig}", f"--cache-dir={self.cache}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        return self.run(*args, stdin=stdin).stdout


sim = simulator(nodes=3, pods_per_node=6, seed=5, tls=True, kubelets=False, bookmark_interval=1)


@pytest.fixture
def kubectl(sim: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(sim, tmp_path_factory.getbasetemp() / "kubectl-cache")


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo, namespace: default, labels: {app: demo}}
spec:
  replicas: 2
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers:
      - {name: app, image: "nginx:1.25", ports: [{containerPort: 80}], env: [{name: A, value: "1"}]}
      - {name: side, image: busybox}
"""


def test_get_pods_in_every_shape(kubectl: Kubectl, sim: SimulatorProcess) -> None:
    pods = sim.request("GET", "/api/v1/pods")["items"]
    out = kubectl("get", "pods", "-A", "--no-headers")
    assert len(out.splitlines()) == len(pods) == 18
    wide = kubectl("get", "pods", "-A", "-o", "wide")
    header = wide.splitlines()[0].split()
    assert header[:6] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NODE" in header and "IP" in header
    as_json = json.loads(kubectl("get", "pods", "-A", "-o", "json"))
    assert {p["metadata"]["uid"] for p in as_json["items"]} == {p["metadata"]["uid"] for p in pods}
    as_yaml = yaml.safe_load(kubectl("get", "nodes", "-o", "yaml"))
    assert len(as_yaml["items"]) == 3
    node = pods[0]["spec"].get("nodeName") or as_yaml["items"][0]["metadata"]["name"]
    on_node = kubectl("get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "name").split()
    assert on_node and len(on_node) == sum(1 for p in pods if p["spec"].get("nodeName") == node)
    app = next(p["metadata"]["labels"]["app"] for p in pods if "app" in p["metadata"].get("labels", {}))
    labelled = kubectl("get", "pods", "-A", "-l", f"app={app}", "-o", "name").split()
    assert len(labelled) == sum(1 for p in pods if p["metadata"].get("labels", {}).get("app") == app)
    bad = kubectl.run("get", "pods", "--field-selector", "spec.bogus=x", check=False)
    assert bad.returncode != 0 and "field label not supported: spec.bogus" in bad.stderr


def test_other_kinds_and_api_resources(kubectl: Kubectl) -> None:
    for kind in (
        "nodes",
        "deploy",
        "rs",
        "sts",
        "ds",
        "svc",
        "ns",
        "cm",
        "hpa",
        "cj",
        "jobs",
        "ing",
        "pdb",
        "sc",
    ):
        kubectl("get", kind, "-A")
    resources = kubectl("api-resources", "-o", "name").split()
    assert (
        "pods" in resources and "deployments.apps" in resources and "leases.coordination.k8s.io" in resources
    )
    assert "Server Version: v1." in kubectl("version")


def test_events_in_both_versions_as_kubectl_prints_them(kubectl: Kubectl) -> None:
    core = kubectl("get", "events", "-A").splitlines()
    assert core[0].split() == ["NAMESPACE", "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert len(core) > 1
    wide = kubectl(
        "get", "events.v1.events.k8s.io", "-A", "-o", "wide", "--field-selector", "regarding.kind=Pod"
    ).splitlines()
    header = wide[0].split()
    assert header[:5] == ["NAMESPACE", "LAST", "SEEN", "TYPE", "REASON"] and header[-4:] == [
        "FIRST", "SEEN", "COUNT", "NAME",
    ]  # fmt: skip
    assert len(wide) > 1 and all(" pod/" in line for line in wide[1:])
    assert "events.events.k8s.io" in kubectl("api-resources", "-o", "name").split()
    wrong = kubectl.run("get", "events.events.k8s.io", "-A", "--field-selector", "involvedObject.kind=Pod", check=False)
    assert wrong.returncode != 0 and "field label not supported: involvedObject.kind" in wrong.stderr


def test_apply_patch_scale_describe_delete(kubectl: Kubectl, tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(DEPLOYMENT)
    assert "deployment.apps/demo created" in kubectl("apply", "-f", str(f))
    assert "unchanged" in kubectl("apply", "-f", str(f))
    f.write_text(DEPLOYMENT.replace("nginx:1.25", "nginx:1.26").replace('value: "1"', 'value: "2"'))
    assert "configured" in kubectl("apply", "-f", str(f))
    d = json.loads(kubectl("get", "deploy", "demo", "-o", "json"))
    c = d["spec"]["template"]["spec"]["containers"]
    assert [x["image"] for x in c] == ["nginx:1.26", "busybox"] and c[0]["env"] == [
        {"name": "A", "value": "2"}
    ]
    assert d["metadata"]["generation"] == 2
    assert "serverside-applied" in kubectl("apply", "--server-side", "--force-conflicts", "-f", str(f))
    kubectl("patch", "deploy", "demo", "-p", '{"spec":{"replicas":4}}')
    kubectl(
        "patch",
        "deploy",
        "demo",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/labels/x","value":"y"}]',
    )
    kubectl("scale", "deploy", "demo", "--replicas=5")
    kubectl(
        "patch",
        "deploy",
        "demo",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"readyReplicas":5,"replicas":5}}',
    )
    got = json.loads(kubectl("get", "deploy", "demo", "-o", "json"))
    assert got["spec"]["replicas"] == 5 and got["metadata"]["labels"]["x"] == "y"
    assert got["status"]["readyReplicas"] == 5
    assert "demo" in kubectl("get", "deploy", "demo").splitlines()[1]
    described = kubectl("describe", "deploy", "demo")
    assert "nginx:1.26" in described and "Replicas:" in described
    assert "deleted" in kubectl("delete", "-f", str(f))
    assert kubectl.run("get", "deploy", "demo", check=False).returncode != 0


def test_create_from_file_and_duplicate(kubectl: Kubectl) -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made, namespace: default}\ndata: {k: v}\n"
    assert "configmap/made created" in kubectl("create", "-f", "-", stdin=cm)
    again = kubectl.run("create", "-f", "-", stdin=cm, check=False)
    assert again.returncode != 0 and 'configmaps "made" already exists' in again.stderr
    kubectl("label", "cm", "made", "tier=x")
    kubectl("annotate", "cm", "made", "note=y")
    assert kubectl("get", "cm", "-l", "tier=x", "-o", "name").strip() == "configmap/made"
    kubectl("delete", "cm", "made")


def test_typed_create_subcommands_send_protobuf(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "made-by-kubectl")
    kubectl(
        "create",
        "deployment",
        "pb",
        "--image=nginx:1.2",
        "--replicas=3",
        "--port=80",
        "-n",
        "made-by-kubectl",
    )
    kubectl("expose", "deployment", "pb", "--port=80", "-n", "made-by-kubectl")
    kubectl("create", "secret", "generic", "s", "--from-literal=a=b", "-n", "made-by-kubectl")
    kubectl("create", "job", "j", "--image=busybox", "-n", "made-by-kubectl", "--", "echo", "hi")
    kubectl("autoscale", "deployment", "pb", "--max=4", "-n", "made-by-kubectl")
    kubectl("create", "serviceaccount", "robot", "-n", "made-by-kubectl")
    assert len(kubectl("create", "token", "robot", "-n", "made-by-kubectl").strip()) > 20
    d = json.loads(kubectl("get", "deploy", "pb", "-n", "made-by-kubectl", "-o", "json"))
    assert d["spec"]["replicas"] == 3 and d["spec"]["strategy"]["type"] == "RollingUpdate"
    assert d["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    svc = json.loads(kubectl("get", "svc", "pb", "-n", "made-by-kubectl", "-o", "json"))
    assert svc["spec"]["clusterIP"].startswith("10.") and svc["spec"]["selector"] == {"app": "pb"}
    secret = json.loads(kubectl("get", "secret", "s", "-n", "made-by-kubectl", "-o", "json"))
    assert secret["data"] == {"a": "Yg=="}
    job = json.loads(kubectl("get", "job", "j", "-n", "made-by-kubectl", "-o", "json"))
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    hpa = json.loads(kubectl("get", "hpa", "pb", "-n", "made-by-kubectl", "-o", "json"))
    assert hpa["spec"]["maxReplicas"] == 4 and hpa["spec"]["scaleTargetRef"]["name"] == "pb"
    kubectl("delete", "namespace", "made-by-kubectl")


def test_typed_create_decodes_protobuf_answers_and_errors(kubectl: Kubectl) -> None:
    """kubectl's typed clients ask for protobuf first: the object they print, and the Status of a
    refusal, come back in protobuf and read as kube-apiserver's."""
    cm = json.loads(kubectl("create", "configmap", "pb-answer", "--from-literal=a=b", "-o", "json"))
    assert cm["data"] == {"a": "b"} and cm["metadata"]["uid"] and cm["metadata"]["resourceVersion"]
    again = kubectl.run("create", "configmap", "pb-answer", "--from-literal=a=b", check=False)
    assert again.returncode != 0
    assert again.stderr.strip() == 'error: failed to create configmap: configmaps "pb-answer" already exists'
    d = json.loads(kubectl("create", "deployment", "pb-zero", "--image=nginx", "--replicas=0", "-o", "json"))
    assert d["spec"]["replicas"] == 0 and d["metadata"]["generation"] == 1
    kubectl("delete", "cm", "pb-answer")
    kubectl("delete", "deploy", "pb-zero")


def test_create_from_a_list_and_of_unknown_kinds(kubectl: Kubectl) -> None:
    """kubectl validates a kind: List, and a kind it cannot find, against OpenAPI v2 in protobuf
    (no v3 path declares them); then it creates the items, or says the CRD is missing."""
    items = "".join(
        f"- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: listed-{i}}}, data: {{a: '{i}'}}}}\n"
        for i in (1, 2)
    )
    out = kubectl("create", "-f", "-", stdin="apiVersion: v1\nkind: List\nitems:\n" + items)
    assert out.splitlines() == ["configmap/listed-1 created", "configmap/listed-2 created"]
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n"
    p = kubectl.run("create", "-f", "-", stdin=widget, check=False)
    assert p.returncode != 0
    assert p.stderr.strip().splitlines() == [
        'error: resource mapping not found for name: "w1" namespace: "" from "STDIN": no matches for kind '
        '"Widget" in version "example.com/v1"',
        "ensure CRDs are installed first",
    ]
    kubectl("delete", "cm", "listed-1", "listed-2")


def test_invalid_objects_are_refused_as_kubectl_shows_it(kubectl: Kubectl) -> None:
    bad_name = kubectl.run(
        "create",
        "-f",
        "-",
        stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
        check=False,
    )
    assert bad_name.returncode != 0
    assert bad_name.stderr.startswith(
        'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 '
        "subdomain must consist of"
    )
    bad_type = kubectl.run(
        "create",
        "-f",
        "-",
        stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {a: 1}\n",
        check=False,
    )
    assert bad_type.returncode != 0
    assert bad_type.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be '
        "handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
    )
    assert kubectl.run("get", "cm", "typed", check=False).returncode != 0


def test_get_watch_prints_changes(kubectl: Kubectl, sim: SimulatorProcess) -> None:
    argv = [
        KUBECTL,
        f"--kubeconfig={sim.kubeconfig}",
        f"--cache-dir={kubectl.cache}",
        "get",
        "cm",
        "-w",
        "-n",
        "default",
    ]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            time.sleep(1.5)
            sim.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "watched"}})
            deadline = time.monotonic() + 60
            line = ""
            assert proc.stdout is not None
            while "watched" not in line and time.monotonic() < deadline:
                line = proc.stdout.readline()
            assert "watched" in line
        finally:
            proc.terminate()
            proc.wait(10)


def test_describe_every_generated_object(kubectl: Kubectl) -> None:
    # kubectl describe dereferences fields kube-apiserver always defaults (projected token expiry...)
    for kind in (
        "pods",
        "deploy",
        "sts",
        "ds",
        "jobs",
        "cj",
        "svc",
        "nodes",
        "pvc",
        "pv",
        "hpa",
        "pdb",
        "ing",
        "sa",
        "csr",
    ):
        out = kubectl("describe", kind, "-A")
        assert "panic" not in out, kind
    assert "system:node:node-0001" in kubectl("describe", "csr")  # the request is a real PKCS#10
