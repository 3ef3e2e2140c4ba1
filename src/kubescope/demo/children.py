"""The demo's children: kubescope servers (and Prometheus) run as subprocesses, each logging to a
file in the demo's directory, and how the demo learns where each bound and when it is ready."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from kubescope.errors import ConfigError
from kubescope.sim.tied import popen_tied


def serving(server: str, listener: str) -> re.Pattern[str]:
    """The serving core's start-up line of ``server``, its ``listener``'s port in group ``port``
    (``msg=serving server=console console=http://127.0.0.1:8090``)."""
    return re.compile(
        rf"msg=serving server={re.escape(server)} (?:\S+ )*?{re.escape(listener)}=\S+:(?P<port>\d+)\b"
    )


PROMETHEUS_LISTENING = re.compile(r'msg="Listening on" address=\S+:(?P<port>\d+)\b')
"""Prometheus' line (at --log.level=info) saying where its web listener bound."""


class Child:
    """A kubescope subprocess whose stderr goes to a log file in the demo's directory."""

    def __init__(self, name: str, args: list[str], logdir: Path, program: list[str] | None = None) -> None:
        self.name = name
        self.log = logdir / f"{name}.log"
        self._fh = self.log.open("wb")
        self.proc = popen_tied(
            [*(program or [sys.executable, "-m", "kubescope"]), *args],
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._terminated = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def bound_port(self, line: re.Pattern[str], timeout: float, stopped: Callable[[], bool]) -> int:
        """The port the child bound, from the line its log says it on (``line``'s group ``port``).

        Every child binds port 0 (or the port the user asked for) and says what it got: a port
        picked free here and handed over could be taken by any process before the child bound it
        (the child then exits, and the demo with it)."""
        deadline = time.monotonic() + timeout
        while True:
            m = line.search(self.tail(1_000_000))
            if m:
                return int(m["port"])
            if stopped():
                raise Interrupted
            if not self.alive():
                raise ConfigError(
                    f"{self.name} exited with {self.proc.returncode} before serving (log {self.log}):\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"{self.name} not serving after {timeout:.0f}s (log {self.log}):\n{self.tail()}"
                )
            time.sleep(0.1)

    def tail(self, n: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def terminate(self) -> None:
        """SIGTERM to the child's whole process group, once (a second one tells a kubescope server to
        stop without draining)."""
        if self.proc.poll() is None and not self._terminated:
            self._terminated = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # its process group's id (start_new_session)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (unless sent) to the child's whole process group, as systemd stops a service: the
        child and what it runs (a credential loader, an exec plugin: stopped during its start-up, a
        child would leave them running after the demo ended); SIGKILL to what is left once the child
        exited, or after ``timeout``."""
        if self.proc.poll() is None:
            pid = self.proc.pid
            self.terminate()
            deadline = time.monotonic() + timeout
            # exited but not reaped: its pid stays the group's, so the SIGKILL cannot reach another
            while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self.proc.wait()
        self._fh.close()


class Interrupted(Exception):
    """Ctrl-C or SIGTERM while a server was starting: stop now rather than when it is ready."""


def wait_http(url: str, child: Child, timeout: float, what: str, stopped: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            import ssl

            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with urllib.request.urlopen(url, timeout=2, context=ctx) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if stopped():
            raise Interrupted
        if not child.alive():
            raise ConfigError(f"{what} exited early (log {child.log}):\n{child.tail()}")
        if time.monotonic() > deadline:
            raise ConfigError(f"{what} not ready after {timeout:.0f}s (log {child.log}):\n{child.tail()}")
        time.sleep(0.2)
