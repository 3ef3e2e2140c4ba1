"""The simulator, a real Prometheus, ``kubescope custom-metrics`` registered with the simulator through
the repository's ``deploy/custom-metrics/`` manifests, and the real kubectl: shared by the e2e tests.

``CustomMetricsOnSimulator`` starts ``kubescope simulate`` (TLS, users from an auth file, RBAC from
the applied manifests), an application exporter and Prometheus scraping it, runs the adapter with the
manifests' own ConfigMap on a loopback port, applies ``deploy/custom-metrics/`` with kubectl and
points the Service's Endpoints at that port, so the simulator's aggregation layer proxies the
metrics APIs to it with its front-proxy certificate, as kube-apiserver does.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from kubescope.sim import appmetrics
from kubescope.sim.process import SimulatorProcess
from tests.childserver import start_server
from tests.custom_metrics.stack import AppExporter, scrape_config
from tests.integration.prom import Prometheus, prometheus

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
MANIFESTS = REPO / "deploy" / "custom-metrics"
HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"

USERS = {
    "hpa-token": (HPA_USER, ["system:serviceaccounts", "system:serviceaccounts:kube-system"]),
    "nobody-token": ("nobody", []),
}


def manifest_config() -> str:
    """The adapter configuration shipped in deploy/custom-metrics/config.yaml."""
    doc = yaml.safe_load((MANIFESTS / "config.yaml").read_text())
    return str(doc["data"]["config.yaml"])


class CustomMetricsOnSimulator:
    """``app_metrics``: Prometheus also scrapes the simulator's application metrics (its pods opted in
    by annotation), beside the test's exporter (metrics of no pod: a broker's queue); ``nodes``/``sim_args`` shape the simulator (nodes
    with kubelets when > 0); ``config`` replaces the manifests' adapter configuration."""

    def __init__(
        self,
        tmp: Path,
        *,
        extra: tuple[str, ...] = (),
        nodes: int = 0,
        sim_args: tuple[str, ...] = (),
        config: str | None = None,
        app_metrics: bool = False,
    ) -> None:
        self.tmp = tmp
        self.sim_args = sim_args
        self.config = config if config is not None else manifest_config()
        self.app_metrics = app_metrics
        auth = tmp / "auth.yaml"
        # what deploy/custom-metrics/rbac.yaml grants the HPA controller (the simulator authorizes from
        # its auth file, not from RBAC objects)
        rules = [{"users": [HPA_USER], "verbs": ["get", "list"],
                  "apiGroups": ["custom.metrics.k8s.io", "external.metrics.k8s.io"], "resources": ["*"]}]  # fmt: skip
        auth.write_text(
            yaml.safe_dump(
                {
                    "tokens": [{"token": t, "user": u, "groups": g} for t, (u, g) in USERS.items()],
                    "rules": rules,
                }
            )
        )
        self.sim = SimulatorProcess(
            nodes=nodes, pods_per_node=1, tls=True, kubelets=nodes > 0,
            extra_args=[f"--auth-file={auth}", *sim_args],
        )  # fmt: skip
        self.exporter = AppExporter()
        self.prom: Prometheus | None = None
        self._prom_cm: Any = None
        self.port = 0
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "custom-metrics.log"

    def __enter__(self) -> CustomMetricsOnSimulator:
        try:
            self.sim.start()
            (self.tmp / "prom").mkdir()
            jobs = [scrape_config(self.exporter.port)]
            if self.app_metrics:
                targets = self.sim.request("GET", "/_sim/appmetrics")["targets_url"]
                jobs.append(appmetrics.scrape_config(targets, interval="1s"))
            self._prom_cm = prometheus(self.tmp / "prom", jobs)
            self.prom = self._prom_cm.__enter__()
            self._start_adapter()
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
        if self._prom_cm is not None:
            self._prom_cm.__exit__(None, None, None)
        self.exporter.close()
        self.sim.stop()

    def _start_adapter(self) -> None:
        assert self.prom is not None
        config = self.tmp / "config.yaml"
        config.write_text(self.config)
        argv = [
            sys.executable, "-m", "kubescope", "custom-metrics",
            f"--kubeconfig={self.sim.kubeconfig}", "--bind-address=127.0.0.1", "--secure-port=0",
            f"--cert-dir={self.tmp / 'certs'}", f"--config={config}", f"--prometheus-url={self.prom.url}",
            "--metrics-relist-interval=2s", "--log-level=info", *self.extra,
        ]  # fmt: skip
        server = start_server("custom-metrics", argv, self.log)
        self.proc = server.proc
        self.port = server.listening_port()  # its own choice: the Endpoints point there

    def _register(self) -> None:
        if "--controllers" not in self.sim_args:
            self.kubectl("apply", "-f", str(MANIFESTS))
        else:
            # with the control plane running, the Deployment's pods would be scheduled and the
            # endpoints controller would point the Service at them: the adapter runs here instead,
            # behind the Service without its selector (whose Endpoints the controller leaves alone)
            for f in sorted(MANIFESTS.glob("*.yaml")):
                if f.name == "deployment.yaml":
                    continue
                docs = [d for d in yaml.safe_load_all(f.read_text()) if d]
                for d in docs:
                    if d["kind"] == "Service":
                        d["spec"].pop("selector", None)
                self.kubectl(
                    "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
                )
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "kubescope-custom-metrics", "namespace": "kube-system"},
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
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "HOME": str(self.tmp)})  # fmt: skip
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr}\n{r.stdout}")
        return r.stdout if check else r.stdout + r.stderr

    def via_simulator(self, path: str, token: str | None = None, **query: str) -> tuple[int, Any]:
        """A request to the simulator's aggregation layer, as the HPA controller sends it (``*``
        percent-encoded, like client-go's path escaping)."""
        url = self.sim.url + path.replace("*", "%2A")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        req = urllib.request.Request(url, headers={"Accept": "application/vnd.kubernetes.protobuf, */*"})
        req.add_header("Authorization", f"Bearer {token or self.sim.token}")
        return _send(req, self.sim.ssl_context())

    def direct(self, path: str, token: str | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return _send(req, ctx)

    def wait(self, what: str, cond: Any, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = cond()
            except (OSError, AssertionError, KeyError) as e:
                last = e
            if last and not isinstance(last, Exception):
                return last
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(
            f"{what}: not reached, last={last!r}\ncustom-metrics log:\n{self.log.read_text()[-3000:]}\n"
            f"simulator log:\n{self.sim.log_tail()}"
        )


def _send(req: urllib.request.Request, ctx: ssl.SSLContext | None) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            return r.status, _decode(r.read(), r.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as e:
        return e.code, _decode(e.read(), e.headers.get("Content-Type", ""))


def _decode(raw: bytes, content_type: str) -> Any:
    if content_type.startswith("application/json"):
        return json.loads(raw)
    return raw.decode(errors="replace")
