"""A real Prometheus server (Debian ``prometheus``) for integration tests, on a loopback port of its
choosing (:mod:`tests.childserver`)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.childserver import child_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(
            f"{binary} is not installed: run scripts/test (it installs the Debian package prometheus)"
        )
    return path


class Prometheus:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.proc = proc
        self.log = log

    def api(self, path: str, **params: str) -> Any:
        q = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{q}", timeout=10) as r:
            data = json.load(r)
        assert data["status"] == "success", data
        return data["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query", query=expr)["result"]
        return result

    def value(self, expr: str) -> float | None:
        r = self.query(expr)
        assert len(r) <= 1, f"{expr} returned {len(r)} series"
        return float(r[0]["value"][1]) if r else None

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active

    def wait_scraped(self, job: str, timeout: float = 60) -> dict[str, Any]:
        """Wait until every target of ``job`` has been scraped successfully once."""
        deadline = time.monotonic() + timeout
        last: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            last = [t for t in self.targets() if t["labels"].get("job") == job]
            if last and all(t["health"] == "up" for t in last):
                return last[0]
            time.sleep(0.5)
        raise AssertionError(
            f"targets of job {job} not up: {last}\nprometheus log:\n{self.log.read_text()[-3000:]}"
        )


@contextmanager
def prometheus(
    tmp: Path,
    scrape_configs: Sequence[dict[str, Any]],
    rule_files: Sequence[str] = (),
    interval: str = "1s",
) -> Iterator[Prometheus]:
    binary = need("prometheus")
    cfg = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "scrape_configs": list(scrape_configs),
        "rule_files": list(rule_files),
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    argv = [
        binary,
        f"--config.file={tmp / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp / 'data'}",
        "--web.listen-address=127.0.0.1:0",
        "--log.level=warn",
    ]
    with child_server("prometheus", argv, tmp / "prometheus.log") as server:
        url = f"http://127.0.0.1:{server.listening_port()}"
        server.wait_ready(url + "/-/ready")
        yield Prometheus(url, server.proc, server.log)
