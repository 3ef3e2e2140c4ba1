"""`kubescope state-metrics` as a subprocess for the integration tests: started against a simulator,
ready when its /readyz says so, scraped over real HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from kubescope.sim.process import SimulatorProcess
from kubescope.sim.tied import popen_tied

SERVING = re.compile(
    r"msg=serving server=state-metrics metrics=\S*:(?P<metrics>\d+) telemetry=\S*:(?P<telemetry>\d+)"
)


class Exporter:
    def __init__(
        self,
        sim: SimulatorProcess,
        tmp: Path,
        *extra: str,
        kubeconfig: str = "",
        ready_timeout: float = 60,
        entry: Sequence[str] = ("-m", "kubescope"),
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``entry``: the interpreter's arguments before ``state-metrics`` (a probe script with its
        own arguments, say); ``env``: the child's environment (this process's by default)."""
        # ports of its own choosing (0), read from its "serving" line: a port picked free beforehand
        # could be taken by another process before the exporter bound it (it then exited 2)
        fd, name = tempfile.mkstemp(prefix="state-metrics-", suffix=".log", dir=tmp)
        self.log = Path(name)
        self._fh = os.fdopen(fd, "wb")
        self.proc = popen_tied(
            [
                sys.executable,
                *entry,
                "state-metrics",
                f"--kubeconfig={kubeconfig or sim.kubeconfig}",
                "--host=127.0.0.1",
                "--port=0",
                "--telemetry-host=127.0.0.1",
                "--telemetry-port=0",
                *extra,
            ],
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
        )
        self.port, self.tport = self._bound_ports(deadline=time.monotonic() + 60)
        deadline = time.monotonic() + ready_timeout
        while ready_timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.tport}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "state-metrics not ready:\n" + self.log.read_text()
            time.sleep(0.1)

    def _bound_ports(self, deadline: float) -> tuple[int, int]:
        while True:
            m = SERVING.search(self.log.read_text(errors="replace"))
            if m:
                return int(m["metrics"]), int(m["telemetry"])
            assert self.proc.poll() is None, "state-metrics exited:\n" + self.log.read_text()
            assert time.monotonic() < deadline, "state-metrics not serving:\n" + self.log.read_text()
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def scrape(
        self, accept: str = "text/plain", encoding: str = "identity", query: str = ""
    ) -> tuple[str, bytes, dict[str, str]]:
        req = urllib.request.Request(
            self.url + query, headers={"Accept": accept, "Accept-Encoding": encoding}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers.get("Content-Type", ""), r.read(), dict(r.headers)

    def text(self, query: str = "") -> str:
        return self.scrape(query=query)[1].decode()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._fh.close()
