"""``kubescope history backfill``, ``recommend`` and ``idle`` on the command line: they answer and
exit, so the server's listen flags are not checked (a user without the right to bind port 443, the
default, or with it taken, still gets the table)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


def kubescope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubescope", *args], capture_output=True, text=True, timeout=300
    )


def test_questions_answer_whatever_the_servers_port(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    r = kubescope("history", "backfill", "--db", db, "--days", "0.5", "--workloads", "3", "--nodes", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{db}: 0.5 days of "), r.stdout
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for question in (["recommend", "--window", "6h"], ["idle", "--duration", "1h"]):
            r = kubescope(
                "history", "--bind-address", "127.0.0.1", "--secure-port", port, *question, "--db", db
            )
            assert r.returncode == 0, r.stderr
            assert r.stdout.splitlines()[1].startswith("NAMESPACE   WORKLOAD"), r.stdout
        r = kubescope(
            "history", "--bind-address", "127.0.0.1", "--secure-port", port, "--db", db, "--no-record"
        )
        assert r.returncode == 2 and "--secure-port" in r.stderr, "the server itself still checks its port"
