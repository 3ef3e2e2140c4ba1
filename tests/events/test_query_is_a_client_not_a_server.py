"""``kubescope events query`` is a one-shot client: the server's listen ports are not checked (its
default 6443 is usually the API server's own on a control-plane node), while ``kubescope events``
still refuses a taken port up front. (Run as processes: the CLI sets up logging for its process.)"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.simfixtures import CLEAN_ENV


def kubescope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubescope", *args], capture_output=True, text=True, timeout=120, env=CLEAN_ENV
    )


def test_query_does_not_check_the_servers_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        missing = str(tmp_path / "missing.db")
        serving = ["events", "--bind-address=127.0.0.1", f"--secure-port={port}"]
        p = kubescope(*serving, "query", "--database", missing, "--for", "pod/web-0", "-n", "default")
        assert p.returncode == 1 and "no such archive" in p.stderr and "already in use" not in p.stderr
        p = kubescope(*serving, "--database", missing)
        assert p.returncode == 2 and "address already in use" in p.stderr
