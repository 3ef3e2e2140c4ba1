"""SimulatorProcess: start on a free port, connection facts, control calls, clean SIGTERM exit."""

from __future__ import annotations

import json
import socket
import ssl
import urllib.request
from pathlib import Path

import pytest
import yaml

from kubescope.sim.process import SimulatorError, SimulatorProcess

pytestmark = pytest.mark.slow


def test_starts_serves_and_stops_cleanly() -> None:
    sim = SimulatorProcess(
        nodes=2, pods_per_node=3, tls=True, kubelets=False, bookmark_interval=1, watch_history=500
    )
    with sim:
        assert sim.url == f"https://127.0.0.1:{sim.port}"
        kc = yaml.safe_load(Path(sim.kubeconfig).read_text())
        assert kc["clusters"][0]["cluster"]["server"] == sim.url
        assert kc["users"][0]["user"]["token"] == sim.token
        ctx = ssl.create_default_context(cafile=sim.ca_file)
        req = urllib.request.Request(
            sim.url + "/api/v1/nodes", headers={"Authorization": f"Bearer {sim.token}"}
        )
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            assert len(json.load(r)["items"]) == 2
        assert sim.faults(error_fraction=0.25)["error_fraction"] == 0.25
        sim.faults(reset=True)
        stats = sim.stats()
        assert stats["objects"]["pods"] == 6 and stats["objects"]["nodes"] == 2
        assert sim.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"
    assert sim.proc is not None and sim.proc.returncode == 0
    assert not sim.dir.exists()  # its certificates, kubeconfig and log go with it


def test_plain_http_mode() -> None:
    with SimulatorProcess(nodes=0, tls=False) as sim:
        assert sim.url.startswith("http://127.0.0.1:") and sim.ca_file == ""
        with urllib.request.urlopen(sim.url + "/api/v1/namespaces", timeout=10) as r:
            assert {n["metadata"]["name"] for n in json.load(r)["items"]} >= {"default", "kube-system"}


def test_a_failing_start_reports_the_childs_output() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sim = SimulatorProcess(nodes=0, tls=False, extra_args=[f"--port={port}"], start_timeout=300)
        # a taken port exits 2 naming the flag, before the cluster is generated
        with pytest.raises(
            SimulatorError,
            match=rf"exited with 2:\nkubescope simulate: --port={port}: cannot listen on 127.0.0.1:{port}: "
            "address already in use",
        ):
            sim.start()
        assert not sim.dir.exists()  # a failed start cleans up too (``with`` would not call stop)
        sim.stop()


def test_bad_flags_are_refused_with_a_message() -> None:
    sim = SimulatorProcess(nodes=0, tls=False, extra_args=["--fault=nonsense=1"], start_timeout=300)
    with pytest.raises(SimulatorError, match=r"exited with 2:[\s\S]*unknown fault 'nonsense'"):
        sim.start()
    sim.stop()


def test_sigterm_with_clients_rewatching_stops_at_once(tmp_path: Path) -> None:
    # state-metrics re-watches the moment a watch ends, on its kept-alive connections: a shutdown
    # that only closed the watches open at that moment waited out the server's shutdown timeout
    # (a watch still open at the drain deadline is cut and logged: the log says so, whatever the
    # machine's speed, where a bound on the exit time failed on slow machines)
    import signal

    from tests.integration.exporter import Exporter

    sim = SimulatorProcess(nodes=2, pods_per_node=3, churn_rate=20, kubelets=False).start()
    exp = Exporter(sim, tmp_path)
    try:
        assert sim.proc is not None
        sim.proc.send_signal(signal.SIGTERM)
        assert sim.proc.wait(60) == 0
        assert "watch cut at the shutdown deadline" not in sim.log_tail(1 << 20)
    finally:
        exp.stop()
        sim.stop()


async def test_after_a_shutdown_close_new_watches_close_at_once() -> None:
    from kubescope.sim.store import ObjectStore
    from kubescope.sim.watchcache import Watcher

    store = ObjectStore()
    before = Watcher("pods", "", None, None)
    store.add_watcher(before)
    assert store.close_watchers("maintenance") == 1 and before.closed
    again = Watcher("pods", "", None, None)
    store.add_watcher(again)  # an ordinary close leaves later watches alone
    assert not again.closed
    store.close_watchers("shutting down", for_good=True)
    late = Watcher("pods", "", None, None)
    store.add_watcher(late)
    assert late.closed and late.close_reason == "shutting down"


def test_the_ready_file_appears_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SimulatorProcess reads the ready file as soon as it exists: a simulator preempted between
    # creating it and writing it (a loaded machine) made it read an empty file
    import kubescope.sim.server as server

    path = tmp_path / "ready.json"
    seen: list[bool] = []
    real_fdopen = server.os.fdopen

    def fdopen(fd: int, mode: str) -> object:
        f = real_fdopen(fd, mode)
        write = f.write

        def checked(text: str) -> int:
            seen.append(path.exists())  # the moment a reader could catch it half written
            return write(text)

        f.write = checked  # type: ignore[method-assign]
        return f

    monkeypatch.setattr(server.os, "fdopen", fdopen)
    server._write_private(str(path), '{"url": "x"}')
    assert seen == [False] and json.loads(path.read_text()) == {"url": "x"}
    assert path.stat().st_mode & 0o777 == 0o600 and [p.name for p in tmp_path.iterdir()] == ["ready.json"]


@pytest.mark.parametrize("port_taken", [False, True], ids=["served-then-sigterm", "port-taken"])
def test_kubescope_simulate_removes_its_own_state_dir(tmp_path: Path, port_taken: bool) -> None:
    # without --state-dir the simulator makes a kubescope-sim-* directory (certificates, kubeconfig);
    # it left one in the temp dir per run
    import os
    import signal
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1] if port_taken else 0
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubescope",
                "simulate",
                "--nodes=1",
                "--pods-per-node=1",
                f"--port={port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if port_taken:
                assert proc.wait(60) == 2 and line == ""
            else:
                started = json.loads(line)
                kubeconfig = Path(started["kubeconfig"])
                assert kubeconfig.parent.parent == tmp_path and kubeconfig.parent.name.startswith(
                    "kubescope-sim-"
                )
                assert (kubeconfig.parent / "pki" / "ca.crt").exists()
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(60) == 0
        finally:
            proc.kill()
            proc.communicate()
    assert list(tmp_path.iterdir()) == []
