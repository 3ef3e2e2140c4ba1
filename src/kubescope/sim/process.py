"""Run ``kubescope simulate`` as a child process: for tests, the demo and the benchmarks.

::

    with SimulatorProcess(nodes=5, pods_per_node=10, tls=True) as sim:
        sim.url, sim.kubeconfig, sim.token, sim.ca_file
        sim.faults(error_fraction=0.2)      # POST /_sim/faults
        sim.stats()                         # GET /_sim/stats
        sim.churn(rate=0)                   # POST /_sim/churn (with churn_rate > 0)
        sim.request("GET", "/api/v1/pods")  # admin-authenticated call, parsed JSON
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from kubescope.sim.tied import popen_tied


class SimulatorError(RuntimeError):
    pass


class SimulatorProcess:
    def __init__(
        self,
        nodes: int = 3,
        pods_per_node: int = 10,
        *,
        seed: int = 1,
        churn_rate: float = 0.0,
        tls: bool = True,
        bookmark_interval: float | None = None,
        watch_history: int | None = None,
        kubelets: bool = True,
        extra_args: list[str] | None = None,
        start_timeout: float = 600.0,
        log_level: str = "warning",
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kubescope-simproc-"))
        self.ready_file = self.dir / "ready.json"
        args = [
            sys.executable,
            "-m",
            "kubescope",
            "simulate",
            f"--nodes={nodes}",
            f"--pods-per-node={pods_per_node}",
            f"--seed={seed}",
            f"--churn-rate={churn_rate}",
            "--port=0",
            f"--ready-file={self.ready_file}",
            f"--state-dir={self.dir / 'state'}",
            f"--log-level={log_level}",
        ]
        if not tls:
            args.append("--insecure-http")
        if bookmark_interval is not None:
            args.append(f"--bookmark-interval={bookmark_interval}")
        if watch_history is not None:
            args.append(f"--watch-history={watch_history}")
        if not kubelets:
            args.append("--no-kubelets")
        args += extra_args or []
        self.args = args
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.log_path = self.dir / "simulator.log"
        self._log: BinaryIO | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SimulatorProcess:
        self._log = self.log_path.open("wb")
        self.proc = popen_tied(self.args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while not self.ready_file.exists():
            failure = ""
            if self.proc.poll() is not None:
                failure = f"the simulator exited with {self.proc.returncode}"
            elif time.monotonic() > deadline:
                failure = f"the simulator was not ready after {self.start_timeout:.0f}s"
            if failure:
                # ``with`` does not call __exit__ when __enter__ raises: clean up here
                failure += f":\n{self.log_tail()}"
                self.stop()
                raise SimulatorError(failure)
            time.sleep(0.05)
        self.info = json.loads(self.ready_file.read_text())
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child (SIGTERM, SIGKILL after ``timeout`` seconds) and remove :attr:`dir` (its
        certificates, kubeconfig and log: read :meth:`log_tail` before). Idempotent; also for a
        simulator that never started or failed to."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # -- connection facts ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def kubeconfig(self) -> str:
        return str(self.info["kubeconfig"])

    @property
    def token(self) -> str:
        return str(self.info["token"])

    @property
    def ca_file(self) -> str:
        return str(self.info.get("ca_file") or "")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.ca_file:
            return None
        return ssl.create_default_context(cafile=self.ca_file)

    # -- calls -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token if token is None else token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, timeout=60, context=self.ssl_context()) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def faults(self, **settings: Any) -> dict[str, Any]:
        out: dict[str, Any] = self.request("POST", "/_sim/faults", settings)
        return out

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = self.request("GET", "/_sim/stats")
        return out

    def churn(self, **settings: Any) -> dict[str, Any]:
        """The churn's counters (``GET /_sim/churn``); with settings (``rate=R``, 0 pauses),
        ``POST`` them first. Needs ``churn_rate`` > 0 at start."""
        out: dict[str, Any] = (
            self.request("POST", "/_sim/churn", settings) if settings else self.request("GET", "/_sim/churn")
        )
        return out
