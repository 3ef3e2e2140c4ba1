"""The simulator, resource-metrics registered with it, and the real kubectl: shared by the e2e tests.

``ResourceMetricsOnSimulator`` starts ``kubescope simulate`` (with users from an auth file), runs
``kubescope resource-metrics`` against its kubeconfig on a loopback port, applies the repository's
``deploy/resource-metrics/`` manifests with kubectl and adds an Endpoints object pointing the
Service at that port (standing in for the Deployment's pods), so the simulator's aggregation layer
proxies ``/apis/metrics.k8s.io`` to it with its front-proxy certificate, as kube-apiserver would.
It scrapes the simulator's own kubelets (their serving certificates verified with the cluster CA)
or, with ``own_kubelets=True``, :class:`LoopbackKubelets`; :func:`simulator_truth` turns the
simulator's ``/_sim/truth`` into the expected answers.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from kubescope.model.quantity import parse_quantity
from kubescope.sim.process import SimulatorProcess
from tests.apiserver.certs import issue, make_ca
from tests.childserver import start_server
from tests.resource.loopkubelets import LoopbackKubelets, Truth

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
MANIFESTS = REPO / "deploy" / "resource-metrics"

USERS = {
    "viewer-token": ("viewer", ["metrics-viewers"]),
    "nobody-token": ("nobody", []),
    "scraper-token": ("scraper", ["monitoring"]),
}
AUTH_FILE = {
    "tokens": [{"token": t, "user": u, "groups": g} for t, (u, g) in USERS.items()],
    "rules": [
        {
            "groups": ["metrics-viewers"],
            "verbs": ["get", "list"],
            "apiGroups": ["metrics.k8s.io"],
            "resources": ["nodes"],
        },
        {"groups": ["monitoring"], "verbs": ["get"], "nonResourceURLs": ["/metrics"]},
    ],
}


class ResourceMetricsOnSimulator:
    def __init__(self, tmp: Path, *, nodes: int = 3, pods_per_node: int = 4, resolution: str = "2s",
                 extra: tuple[str, ...] = (), sim_args: tuple[str, ...] = (),
                 own_kubelets: bool | None = False) -> None:  # fmt: skip
        """``own_kubelets``: run :class:`LoopbackKubelets` (known usage, ``self.kubelets.truth``) for the
        simulator's nodes instead of the simulator's kubelets; None: only if the simulator has none."""
        self.tmp = tmp
        auth = tmp / "auth.yaml"
        auth.write_text(yaml.safe_dump(AUTH_FILE))
        self.sim = SimulatorProcess(
            nodes=nodes,
            pods_per_node=pods_per_node,
            tls=True,
            kubelets=own_kubelets is not True,
            extra_args=[f"--auth-file={auth}", *sim_args],
        )
        self.own_kubelets = own_kubelets
        self.kubelets: LoopbackKubelets | None = None
        self.kubelet_ca = ""
        self.port = 0
        self.resolution = resolution
        self.timeout = f"{min(10.0, 0.9 * float(resolution.rstrip('s'))):g}s"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "resource-metrics.log"

    def __enter__(self) -> ResourceMetricsOnSimulator:
        self.sim.start()
        self.kubelet_ca = self.sim.ca_file
        try:
            if self.own_kubelets or (self.own_kubelets is None and not self.loopback_kubelets()):
                self._start_own_kubelets()
            self._start_resource_metrics()
            self._register()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.kubelets is not None:
            self.kubelets.stop()
        self.sim.stop()

    def _start_own_kubelets(self) -> None:
        ca = make_ca("loopback-kubelet-ca")
        (self.tmp / "kubelet-ca.crt").write_bytes(ca.pem)
        self.kubelet_ca = str(self.tmp / "kubelet-ca.crt")
        cert, key = issue(ca, "kubelet", client=False, ips=("127.0.0.1",)).write(self.tmp, "kubelet")
        self.kubelets = LoopbackKubelets(cert, key)
        nodes = self.sim.request("GET", "/api/v1/nodes")["items"]
        pods = self.sim.request("GET", "/api/v1/pods")["items"]
        self.kubelets.plan(nodes, pods)
        for name, port in self.kubelets.start().items():
            status = {
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": "127.0.0.1"},
                        {"type": "Hostname", "address": name},
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
                }
            }
            self.kubectl(
                "patch", "node", name, "--subresource=status", "--type=merge", "-p", json.dumps(status)
            )

    def loopback_kubelets(self) -> bool:
        """Whether every node's InternalIP is on loopback (the simulator runs kubelets there)."""
        nodes = self.sim.request("GET", "/api/v1/nodes")["items"]
        ips = [
            a["address"] for n in nodes for a in n["status"].get("addresses", []) if a["type"] == "InternalIP"
        ]
        return bool(ips) and all(ip.startswith("127.") for ip in ips)

    def _start_resource_metrics(self) -> None:
        # tests talk to loopback only: without simulated kubelets there is nothing to scrape
        guard = () if self.loopback_kubelets() else ("--node-selector=kubescope.test/no-kubelets=true",)
        argv = [
            sys.executable, "-m", "kubescope", "resource-metrics",
            f"--kubeconfig={self.sim.kubeconfig}", "--bind-address=127.0.0.1", "--secure-port=0",
            f"--cert-dir={self.tmp / 'certs'}", "--kubelet-use-node-status-port",
            "--kubelet-preferred-address-types=InternalIP", f"--kubelet-certificate-authority={self.kubelet_ca}",
            f"--metric-resolution={self.resolution}", f"--kubelet-request-timeout={self.timeout}",
            "--testing-allow-short-metric-resolution", "--log-level=info", *guard, *self.extra,
        ]  # fmt: skip
        server = start_server("resource-metrics", argv, self.log)
        self.proc = server.proc
        self.port = server.listening_port()  # its own choice: the Endpoints point there

    def _register(self) -> None:
        for attempt in range(10):
            out = self.kubectl("apply", "-f", str(MANIFESTS), check=False)
            if "failed to download openapi" not in out:
                break
            time.sleep(2 + attempt)  # a busy simulator (150k pods) may not answer its OpenAPI at once
        self.kubectl("apply", "-f", str(MANIFESTS))
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "kubescope-resource-metrics", "namespace": "kube-system"},
            "subsets": [
                {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": self.port}]}
            ],
        }
        self.kubectl("apply", "-f", "-", stdin=json.dumps(endpoints))

    # -- clients ----------------------------------------------------------------------------

    def kubectl(
        self, *args: str, stdin: str | None = None, token: str | None = None, check: bool = True
    ) -> str:
        argv = [KUBECTL, f"--kubeconfig={self.sim.kubeconfig}", *args]
        if token is not None:
            argv.insert(2, f"--token={token}")
        r = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HOME": str(self.tmp)},
        )
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr}\n{r.stdout}")
        return r.stdout if check else r.stdout + r.stderr

    def direct(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """A request straight to resource-metrics (no aggregation), with a bearer token."""
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        ctx = ssl.create_default_context(cafile=str(self.tmp / "certs" / "apiserver.crt"))
        ctx.check_hostname = False  # the self-signed certificate names localhost
        try:
            with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
                return r.status, _decode(r.read(), r.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as e:
            return e.code, _decode(e.read(), e.headers.get("Content-Type", ""))

    def via_simulator(self, path: str, token: str | None = None) -> tuple[int, Any]:
        """A request to the simulator, which proxies /apis/metrics.k8s.io to resource-metrics."""
        req = urllib.request.Request(self.sim.url + path)
        req.add_header("Authorization", f"Bearer {token or self.sim.token}")
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.sim.ssl_context()) as r:
                return r.status, _decode(r.read(), r.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as e:
            return e.code, _decode(e.read(), e.headers.get("Content-Type", ""))

    def wait(self, what: str, cond: Any, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = cond()
            except (OSError, AssertionError) as e:
                last = e
            if last and not isinstance(last, Exception):
                return last
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(
            f"{what}: not reached, last={last!r}\nresource-metrics log:\n{self.log.read_text()[-3000:]}\n"
            f"simulator log:\n{self.sim.log_tail()}"
        )


def simulator_truth(doc: dict[str, Any]) -> Truth:
    """What resource-metrics should serve, from the simulator's ``GET /_sim/truth``: each series'
    rate between the kubelet's last two samples (nano-cores, as metrics-server truncates it, kept
    as exact millicores) and its working set. Containers without a previous sample and pods
    without containers are left out, as metrics-server leaves them out."""
    t = Truth()
    for name, node in doc["nodes"].items():
        if "usage" not in node:
            continue
        t.node_millicores[name] = Fraction(node["usage"]["cpu"], 1_000_000)  # type: ignore[assignment]
        t.node_bytes[name] = node["usage"]["memory"]
        for key, pod in node["pods"].items():
            cs = {
                c: (Fraction(v["usage"]["cpu"], 1_000_000), v["usage"]["memory"])
                for c, v in pod["containers"].items()
                if "usage" in v
            }
            if cs and len(cs) == len(pod["containers"]):
                ns, _, name_ = key.partition("/")
                t.containers[(ns, name_)] = cs  # type: ignore[assignment]
    return t


def api_equals_truth(e: ResourceMetricsOnSimulator, t: Truth) -> bool:
    """Whether the Metrics API (through the simulator) serves ``t``'s rates and working sets, for
    every node and every container, and nothing else."""
    nodes = e.via_simulator("/apis/metrics.k8s.io/v1/nodes")[1]["items"]
    pods = e.via_simulator("/apis/metrics.k8s.io/v1/pods")[1]["items"]
    got_nodes = {
        n["metadata"]["name"]: (_nanocores(n["usage"]["cpu"]), _bytes(n["usage"]["memory"])) for n in nodes
    }
    want_nodes = {n: (int(t.node_millicores[n] * 1_000_000), t.node_bytes[n]) for n in t.node_millicores}
    got_pods = {
        (p["metadata"]["namespace"], p["metadata"]["name"]): {
            c["name"]: (_nanocores(c["usage"]["cpu"]), _bytes(c["usage"]["memory"])) for c in p["containers"]
        }
        for p in pods
    }
    want_pods = {
        k: {c: (int(m * 1_000_000), b) for c, (m, b) in cs.items()} for k, cs in t.containers.items()
    }
    return got_nodes == want_nodes and got_pods == want_pods


def _nanocores(q: str) -> int:
    return int(parse_quantity(q) * 1_000_000_000)


def _bytes(q: str) -> int:
    return int(parse_quantity(q))


def _decode(raw: bytes, content_type: str) -> Any:
    if content_type.startswith("application/json"):
        return json.loads(raw)
    return raw.decode(errors="replace")
