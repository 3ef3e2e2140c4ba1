"""A throw-away PostgreSQL server for tests and benchmarks: Debian's ``postgresql`` (installed by
scripts/apt-deps), a cluster initdb'ed in a temporary directory, listening on a free loopback port
and a unix socket in that directory. PostgreSQL refuses to run as root, so as root it runs as the
``postgres`` user (created by the Debian package).

::

    with PostgresServer() as pg:
        pg.dsn            # postgresql://kubescope@127.0.0.1:PORT/kubescope
        pg.stop(); pg.start()   # a database outage and its end
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

from kubescope.sim.tied import popen_tied


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: install Debian's postgresql (scripts/apt-deps)")
    return found[-1]


def available() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/postgres"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="kubescope-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._started = False  # once: later starts keep the port
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("postgres")
            os.chown(self.dir, self._user.pw_uid, self._user.pw_gid)
        self._run(
            [_bin("initdb"), "-D", self.data, "-U", "kubescope", "--auth=trust", "-E", "UTF8", "--no-sync"]
        )
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("fsync = off\nfull_page_writes = off\nshared_buffers = 64MB\nmax_connections = 50\n")

    @property
    def dsn(self) -> str:
        return f"postgresql://kubescope@127.0.0.1:{self.port}/kubescope"

    def _as_user(self) -> dict[str, int]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _run(self, argv: list[str]) -> None:
        subprocess.run(
            argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            cwd=self.dir, **self._as_user(),
        )  # fmt: skip

    def start(self) -> PostgresServer:
        """Start (again: on the same port, which its clients know). PostgreSQL cannot choose its
        own port: the first start picks a free one, and if another process takes it before
        postgres binds it, starts again on another."""
        for _ in range(5):
            if self._start_once():
                return self
            self.port = _free_port()
        raise RuntimeError(f"postgres found its port taken five times: {self.log_tail()}")

    def _start_once(self) -> bool:
        """False if the port was taken (first start only); True once it serves."""
        import psycopg

        log_path = os.path.join(self.dir, "log")
        logged = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        log = open(log_path, "ab")  # noqa: SIM115 - the server writes it
        self.proc = popen_tied(
            [_bin("postgres"), "-D", self.data, "-p", str(self.port), "-h", "127.0.0.1", "-k", self.dir],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.dir, **self._as_user(),
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                with open(log_path, "rb") as f:
                    f.seek(logged)
                    if b"Address already in use" in f.read() and not self._started:
                        return False
                raise RuntimeError(f"postgres exited with status {self.proc.returncode}: {self.log_tail()}")
            try:
                with psycopg.connect(
                    f"postgresql://kubescope@127.0.0.1:{self.port}/postgres", autocommit=True, connect_timeout=5
                ) as c:
                    if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'kubescope'").fetchone():
                        c.execute("CREATE DATABASE kubescope")
                self._started = True
                return True
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres not ready in 120 s ({e}): {self.log_tail()}") from e
                time.sleep(0.1)

    def stop(self) -> None:
        """A fast shutdown (open connections are ended): an outage as a client sees it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT, a "fast" shutdown (SIGTERM would wait for clients)
            self.proc.wait(60)
        self.proc = None

    def reset(self) -> None:
        """An empty database again."""
        import psycopg

        with psycopg.connect(f"postgresql://kubescope@127.0.0.1:{self.port}/postgres", autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS kubescope WITH (FORCE)")
            c.execute("CREATE DATABASE kubescope")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError), open(os.path.join(self.dir, "log"), "rb") as f:
            return f.read()[-3000:].decode(errors="replace")
        return ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
