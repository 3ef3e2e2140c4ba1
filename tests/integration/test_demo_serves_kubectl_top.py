"""``kubescope demo`` as a user runs it: the real kubectl ``top node`` and ``top pod`` work against
the kubeconfig it writes (resource-metrics behind the simulator's aggregation layer, scraping the
simulated kubelets with their certificates verified), state metrics serve on the port given, Ctrl-C
stops everything with exit status 0, and ``--exit-after`` stops it by itself."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from kubescope.errors import BindError
from kubescope.sim.tied import popen_tied
from kubescope.web.flags import LISTEN, ListenFlags, check_listen_ports

# each step's own deadline (the demo's start, a kubectl call: up to 300 s each) is a hang guard for a
# loaded machine; the suite's 300 s per test would be shorter than the steps of one test together
pytestmark = pytest.mark.timeout(900)

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(REPO / ".venv" / "bin" / "kubectl")
# with Prometheus installed the demo also runs it and kubescope custom-metrics (its autoscaling part)
SERVER_LOGS = {
    "simulator.log",
    "state-metrics.log",
    "resource-metrics.log",
    "history.log",
    "console.log",
    "events.log",
} | ({"prometheus.log", "custom-metrics.log"} if shutil.which("prometheus") else set())


def reserved_port() -> int:
    """A loopback port for a server to be given, that no other process takes meanwhile: the server side
    of a connection closed first stays in TIME_WAIT for a minute, and the kernel hands such a port to
    no bind(0) nor connect(), while a server with SO_REUSEADDR (aiohttp's) binds it. (A port picked free
    and released could be any process' before the demo's server bound it: the demo then exits.)"""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()) as client:
            conn, _ = server.accept()
            conn.close()  # the server side first: TIME_WAIT is on its end, the port
            client.recv(1)
        return int(server.getsockname()[1])


def nobody_listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


class Demo:
    def __init__(self, tmp: Path, exit_after: float, keep_logs: bool = True) -> None:
        self.tmp = tmp
        self.tmpdir = tmp / "tmpdir"  # the demo's TMPDIR: what it leaves behind shows there
        self.tmpdir.mkdir()
        self.kubeconfig = tmp / "kubeconfig"
        # the state port given (the demo serves there), the others of the servers' own choosing (0)
        self.state_port, self.telemetry_port = reserved_port(), 0
        self.out = tmp / "demo.out"
        argv = [
            sys.executable, "-m", "kubescope", "demo", "--nodes", "3", "--pods-per-node", "5",
            "--metric-resolution", "2s", "--exit-after", f"{exit_after:g}",
            "--write-kubeconfig", str(self.kubeconfig), "--state-port", str(self.state_port),
            "--state-telemetry-port", "0", "--console-port", "0",
            *(["--log-dir", str(tmp / "logs")] if keep_logs else []),
        ]  # fmt: skip
        with self.out.open("wb") as f:
            self.proc = popen_tied(
                argv, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, "TMPDIR": str(self.tmpdir)}
            )

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_running(self, timeout: float = 300) -> str:
        """Until the banner (the demo itself waits up to 300 s for state-metrics: a loaded machine
        starting its nine processes took over 120 s)."""
        deadline = time.monotonic() + timeout
        while "Ctrl-C stops everything." not in self.text():
            assert self.proc.poll() is None, f"the demo exited early:\n{self.explain()}"
            assert time.monotonic() < deadline, f"the demo did not come up:\n{self.explain()}"
            time.sleep(0.2)
        m = re.search(r"^  state-metrics telemetry +http://127\.0\.0\.1:(\d+)/metrics$", self.text(), re.M)
        assert m is not None, self.explain()
        self.telemetry_port = int(m.group(1))
        return self.text()

    def explain(self) -> str:
        """The demo's exit code, the tail of its output and of each server's log (for a failure)."""
        code = self.proc.poll()
        parts = [f"demo: {'running' if code is None else f'exited with {code}'}", self.text()[-3000:]]
        for log in sorted(self.tmp.glob("logs/*.log")):
            parts.append(f"--- {log.name} ---\n{log.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=300,  # a hang, not a measure: a loaded machine took over 60 s
            env={**os.environ, "HOME": str(self.tmp)},
        )

    def logdir(self) -> Path:
        """The logs directory the banner names."""
        m = re.search(r"^  logs +(\S+)", self.text(), re.M)
        assert m is not None, self.text()
        return Path(m.group(1))

    def logs(self) -> str:
        """The servers' logs."""
        logs = sorted(self.logdir().glob("*.log"))
        assert {p.name for p in logs} == SERVER_LOGS, logs
        return "".join(p.read_text(errors="replace") for p in logs)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path, exit_after=300)  # stopped with SIGINT by the test
    yield d
    d.stop()


@pytest.mark.slow
@pytest.mark.kubectl
def test_kubectl_top_and_state_metrics_then_ctrl_c(demo: Demo) -> None:
    banner = demo.wait_running()
    assert f"http://127.0.0.1:{demo.state_port}/metrics" in banner
    assert re.search(r"simulated kubelets +3, one per node, on 127\.\d+\.0\.0/16 port 10250", banner) or (
        "free loopback ports" in banner
    )
    assert f"--kubeconfig {demo.kubeconfig} top node" in banner

    def top_node() -> list[list[str]]:
        r = demo.kubectl("top", "node")
        return [line.split() for line in r.stdout.splitlines()] if r.returncode == 0 else []

    def served(rows: list[list[str]]) -> list[list[str]]:
        return [r for r in rows[1:] if r[1] != "<unknown>"]

    # the demo's churn takes one node of three down now and then (its kubelet with it: <unknown>
    # in kubectl top, as in a real cluster), so two nodes with figures is the steady state
    deadline = time.monotonic() + 90
    rows = top_node()
    while not (len(rows) == 4 and len(served(rows)) >= 2):
        assert time.monotonic() < deadline, f"kubectl top node: {rows}\n{demo.text()}"
        time.sleep(1)
        rows = top_node()
    assert rows[0] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert {r[0] for r in rows[1:]} == {"control-plane-1", "node-0001", "node-0002"}
    for r in served(rows):
        assert re.fullmatch(r"\d+m", r[1]) and re.fullmatch(r"\d+%", r[2]), r
        assert re.fullmatch(r"\d+Mi", r[3]) and re.fullmatch(r"\d+%", r[4]), r

    pods = demo.kubectl("top", "pod", "-A", "--containers")
    assert pods.returncode == 0, pods.stderr
    lines = pods.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert len(lines) > 5

    # the events archive: the banner's query line and kubectl through the aggregation layer
    m = re.search(
        r"kubescope events query (--kubeconfig \S+ --for pod/(\S+) -n (\S+) --since 7d)$", banner, re.M
    )
    assert m is not None, banner
    q = subprocess.run([sys.executable, "-m", "kubescope", "events", "query", *m.group(1).split()],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert q.returncode == 0 and q.stdout.split()[:2] in (["LAST", "SEEN"], ["No", "events"]), q.stderr
    deadline = time.monotonic() + 60
    while True:
        ev = demo.kubectl("get", "events.v1.events.kubescope.io", "-n", m.group(3),
                          "--field-selector", f"regarding.name={m.group(2)}")  # fmt: skip
        if ev.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)  # the APIService becomes Available once the simulator probed it
    assert ev.returncode == 0, ev.stderr
    assert ev.stdout.startswith("LAST SEEN") or "No resources found" in ev.stderr + ev.stdout

    with urllib.request.urlopen(f"http://127.0.0.1:{demo.state_port}/metrics", timeout=30) as r:
        text = r.read().decode()
    assert len(re.findall(r"^kube_node_info\{", text, re.M)) == 3
    assert re.search(r'^kube_pod_status_phase\{namespace="kube-system",.*phase="Running".*\} 1$', text, re.M)

    # history records the cluster: the banner's recommend line answers through the aggregated API
    m = re.search(r"^  (\S+ history recommend --kubeconfig \S+ --window 1h)", banner, re.M)
    assert m is not None, banner
    deadline = time.monotonic() + 120
    while True:
        r = subprocess.run(m.group(1).split(), capture_output=True, text=True, timeout=300,
                           env={**os.environ, "HOME": str(demo.tmp)})  # fmt: skip
        rows = r.stdout.splitlines()[2:] if r.returncode == 0 else []
        if rows:
            break
        assert time.monotonic() < deadline, f"{m.group(1)}: {r.stdout}{r.stderr}"
        time.sleep(2)
    assert all(re.fullmatch(r"\S+ +\w+/\S+ +\S+ +.+ +\d+", row) for row in rows), rows

    demo.proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert demo.proc.wait(60) == 0, demo.text()
    assert "stopping..." in demo.text()
    assert nobody_listens(demo.state_port) and nobody_listens(demo.telemetry_port)  # its children are gone
    # the exporters stop before the simulator they watch (they logged its going away, and it took
    # seconds to drain their watches, when it went first)
    assert "watch failed" not in demo.logs()


@pytest.mark.slow
def test_exit_after_stops_the_demo_by_itself(tmp_path: Path) -> None:
    d = Demo(tmp_path, exit_after=1)
    try:
        d.wait_running()
        assert d.proc.wait(60) == 0, d.text()
        assert nobody_listens(d.state_port) and nobody_listens(d.telemetry_port)
        assert "watch failed" not in d.logs()
        assert f"logs kept in {d.logdir()}" in d.text()
        assert list(d.tmpdir.iterdir()) == []  # the simulator's state went with it
    finally:
        d.stop()


@pytest.mark.slow
def test_the_demo_removes_its_temporary_directories_on_exit(tmp_path: Path) -> None:
    d = Demo(tmp_path, exit_after=300, keep_logs=False)
    try:
        banner = d.wait_running()
        logdir = d.logdir()
        assert logdir.parent == d.tmpdir and "(removed on exit; --log-dir keeps them)" in banner
        assert "simulator.log" in {p.name for p in logdir.iterdir()}, list(logdir.iterdir())
        d.logs()  # every server logs there while it runs
        d.proc.send_signal(signal.SIGINT)
        assert d.proc.wait(60) == 0, d.text()
        assert list(d.tmpdir.iterdir()) == [], "left behind: " + ", ".join(p.name for p in d.tmpdir.iterdir())
    finally:
        d.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "named"), [("state-metrics", "state-metrics"), ("simulate", "the simulator")]
)
def test_a_failed_server_leaves_its_logs_and_says_where(tmp_path: Path, command: str, named: str) -> None:
    """A server of the demo's dies (the simulator too: the demo used to go on without it, every client
    refused): the demo stops everything, says which died and how, and keeps the logs."""
    d = Demo(tmp_path, exit_after=300, keep_logs=False)
    try:
        d.wait_running()
        logdir = d.logdir()
        victim = next(c for c in psutil.Process(d.proc.pid).children() if command in c.cmdline())
        victim.kill()
        assert d.proc.wait(60) == 1, d.text()
        assert f"kubescope demo: {named} exited with -9; log {logdir}/" in d.text(), d.text()
        assert f"logs kept in {logdir}" in d.text()
        assert {p.name for p in logdir.iterdir()} == SERVER_LOGS
        assert [p for p in d.tmpdir.iterdir() if p != logdir] == []  # the simulator's state went
    finally:
        d.stop()


def _port_free(port: int) -> bool:
    """The command line's check of a declared listen port (the demo's --state-port among them)."""
    try:
        check_listen_ports(
            argparse.Namespace(state_port=port, **{LISTEN: [ListenFlags(None, "--state-port", "127.0.0.1")]})
        )
    except BindError:
        return False
    return True


def test_a_port_in_time_wait_is_free_for_the_demo() -> None:
    """Right after a demo stops, its ports hold TIME_WAIT connections: running it again on the same
    ports must not be refused with "port is taken" (it was, for a minute); a listening port is."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp's servers do
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not _port_free(port)
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = server.accept()
        conn.close()  # the server side closes first: its end of the connection stays in TIME_WAIT
        client.recv(1)
        client.close()
    assert _port_free(port)


@pytest.mark.slow
def test_ctrl_c_while_the_servers_start_stops_at_once(tmp_path: Path) -> None:
    """Ctrl-C right after the simulator is up, while the demo waits for its servers: it stops them
    then and there (it used to wait up to 300 s for each to be ready first)."""
    d = Demo(tmp_path, exit_after=300)
    try:
        deadline = time.monotonic() + 120
        while "simulator ready" not in d.text():
            assert d.proc.poll() is None and time.monotonic() < deadline, d.text()
            time.sleep(0.05)
        d.proc.send_signal(signal.SIGINT)
        assert d.proc.wait(60) == 0, d.text()
        assert "interrupted while starting; stopping..." in d.text()
        assert "kubescope demo is running" not in d.text()
        assert nobody_listens(d.state_port)  # (the telemetry port: never bound, never named)
        assert [p for p in d.tmpdir.iterdir() if p.name != "logs"] == []  # the simulator's state went
    finally:
        d.stop()


def test_a_server_stopped_while_it_loads_credentials_leaves_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the demo's Ctrl-C during start-up meets: a server still loading its credentials (its
    loader subprocess runs an exec plugin). Stopping it stops its loader and the plugin too, and
    nothing is left in TMPDIR (a loader orphaned by its server kept a kubeconfig temp dir there)."""
    from kubescope.demo.children import Child

    marker = tmp_path / "plugin-started"
    kc = tmp_path / "kubeconfig"
    plugin = {"command": "sh", "args": ["-c", f"touch {marker}; exec sleep 120"], "interactiveMode": "Never"}
    kc.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "users": [
                    {
                        "name": "u",
                        "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", **plugin}},
                    }
                ],
            }
        )
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    child = Child(
        "state-metrics", ["state-metrics", f"--kubeconfig={kc}", "--port=0", "--telemetry-port=0"], tmp_path
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.alive(), f"exited {child.proc.returncode}: {child.tail()}"
            assert time.monotonic() < deadline, f"its exec plugin did not start in 120 s: {child.tail()}"
            time.sleep(0.05)
    finally:
        child.stop()
    left = []
    for p in psutil.process_iter(["status", "cmdline"]):
        try:
            if os.getpgid(p.pid) == child.proc.pid and p.info["status"] != psutil.STATUS_ZOMBIE:
                left.append(p.info["cmdline"])
        except (ProcessLookupError, psutil.Error):
            pass
    assert left == [], f"{left} still run; server log: {child.tail()}"
    assert list(tmp.iterdir()) == [], child.tail()
