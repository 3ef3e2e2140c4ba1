"""`kubescope state-metrics` as a subprocess for the integration tests: started against a simulator,
ready when its /readyz says so, scraped over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kubescope.sim.process import SimulatorProcess
from tests.integration.prom import free_port


class Exporter:
    def __init__(
        self, sim: SimulatorProcess, tmp: Path, *extra: str, kubeconfig: str = "", ready_timeout: float = 60
    ) -> None:
        self.port, self.tport = free_port(), free_port()
        self.log = tmp / f"state-metrics-{self.port}.log"
        self._fh = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubescope",
                "state-metrics",
                f"--kubeconfig={kubeconfig or sim.kubeconfig}",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--telemetry-host=127.0.0.1",
                f"--telemetry-port={self.tport}",
                *extra,
            ],
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )
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
