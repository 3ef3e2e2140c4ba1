"""A server a test runs as a child process (Prometheus, VictoriaMetrics, a kubescope server).

- It binds a port of its own choosing (port 0) and the test reads it from the process's listening
  socket: a port picked free by the test and handed over could be taken by another process in
  between (the server then exits "address already in use").
- It dies with the test process (``PR_SET_PDEATHSIG``): a killed test run leaves no server behind.
- Every assertion about it says its exit code and the tail of its log.
- Stopped with SIGTERM, then SIGKILL if it lingers.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil

from kubescope.sim.tied import popen_tied

START_TIMEOUT = 120.0
"""Seconds a server may take to listen and then to answer ready: generous, a slow CI machine is
not a failure; a server that exits fails at once, with its log."""


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on now (none if it is gone)."""
    try:
        p = psutil.Process(pid)
        connections = getattr(p, "net_connections", None) or p.connections  # psutil < 6
        return {c.laddr.port for c in connections(kind="tcp") if c.status == psutil.CONN_LISTEN}
    except psutil.Error:
        return set()


def log_tail(log: Path, n: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError as e:
        return f"(no log: {e})"


async def started_port(proc: asyncio.subprocess.Process, log: Path, timeout: float = START_TIMEOUT) -> int:
    """The port an asyncio child started with port 0 listens on, once it does; 0 if it exits first
    (the tests of failed start-ups look at its exit code)."""
    deadline = time.monotonic() + timeout
    while not (ports := listening_ports(proc.pid)):
        if proc.returncode is not None:
            return 0
        assert time.monotonic() < deadline, f"not listening after {timeout:.0f} s:\n{log_tail(log)}"
        await asyncio.sleep(0.05)
    assert len(ports) == 1, f"it listens on several ports {sorted(ports)}:\n{log_tail(log)}"
    return ports.pop()


class ChildServer:
    def __init__(self, name: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.name = name
        self.proc = proc
        self.log = log
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def tail(self, n: int = 3000) -> str:
        return log_tail(self.log, n)

    def why(self) -> str:
        """What a failed assertion about it should say."""
        code = self.proc.poll()
        state = "running" if code is None else f"exited with status {code}"
        return f"{self.name} {state}; the end of its log {self.log}:\n{self.tail()}"

    def check_alive(self, what: str) -> None:
        assert self.proc.poll() is None, f"{what}: {self.why()}"

    def listening_port(self, timeout: float = START_TIMEOUT) -> int:
        """The TCP port the process listens on (it was started with port 0), once it does."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive("it exited before listening")
            ports = listening_ports(self.proc.pid)
            if len(ports) == 1:
                self.port = ports.pop()
                return self.port
            assert len(ports) < 2, f"it listens on several ports {sorted(ports)}: {self.why()}"
            assert time.monotonic() < deadline, f"not listening after {timeout:.0f} s: {self.why()}"
            time.sleep(0.05)

    def wait_ready(
        self, url: str, timeout: float = START_TIMEOUT, context: ssl.SSLContext | None = None
    ) -> None:
        """Until ``url`` answers 200."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5, context=context) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            self.check_alive(f"it exited before {url} answered")
            assert time.monotonic() < deadline, f"{url} not ready after {timeout:.0f} s: {self.why()}"
            time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None, *, append: bool = False
) -> ChildServer:
    """Start ``argv`` (which binds 127.0.0.1:0) with its output in ``log`` (after what is there with
    ``append``: a restart). The caller waits for it (``listening_port()``, then ``wait_ready(url)``)
    and stops it."""
    with log.open("ab" if append else "wb") as out:
        proc = popen_tied(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env)
    return ChildServer(name, proc, log)


@contextmanager
def child_server(
    name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[ChildServer]:
    """:func:`start_server`, stopped on exit."""
    server = start_server(name, argv, log, env)
    try:
        yield server
    finally:
        server.stop()
