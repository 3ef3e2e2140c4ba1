"""The running state-metrics exporter imports only what its configuration uses: every module
imported stays in memory for the process's life (code, dicts, caches), so code for options that
are off must not be imported. Checked in a real ``kubescope state-metrics`` process, synced with a
simulator, by the modules it holds once ready."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from kubescope.sim.process import SimulatorProcess
from tests.integration.exporter import Exporter
from tests.simfixtures import CLEAN_ENV, simulator

sim = simulator(nodes=1, pods_per_node=2, kubelets=False)

# the exporter's own entry point, with SIGUSR1 writing the names of the modules it holds
PROBE = """
import signal, sys
from pathlib import Path
def dump(*_):
    Path(sys.argv[1]).write_text("\\n".join(sorted(sys.modules)))
signal.signal(signal.SIGUSR1, dump)
from kubescope.cli import main
sys.exit(main(sys.argv[2:]))
"""

NEVER = ("kubernetes_asyncio", "numpy", "jinja2", "psycopg", "kubescope.sim")
"""Not for the state exporter at all (kubernetes_asyncio only in its credentials loader, a child process)."""
CRS_ONLY = ("kubescope.state.crs", "yaml")
"""Custom Resource State's: only with its configuration."""

CRS_CONFIG = """
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: example.com, version: v1, kind: Widget}
      metrics:
        - name: ready
          each: {type: Gauge, gauge: {path: [status, ready]}}
"""


def modules_once_ready(sim: SimulatorProcess, tmp: Path, *extra: str) -> set[str]:
    out = tmp / "modules"
    exporter = Exporter(sim, tmp, *extra, entry=("-c", PROBE, str(out)), env=CLEAN_ENV, ready_timeout=120)
    try:
        os.kill(exporter.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 60
        while not out.exists() or not out.read_text():
            assert time.monotonic() < deadline, "no module list:\n" + exporter.log.read_text()
            time.sleep(0.05)
        return set(out.read_text().split())
    finally:
        exporter.stop()


def held(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.slow
def test_without_custom_resource_state_its_code_and_yaml_are_not_imported(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    modules = modules_once_ready(sim, tmp_path)
    assert "kubescope.state.app" in modules
    assert held(modules, NEVER + CRS_ONLY) == []


@pytest.mark.slow
def test_with_custom_resource_state_configured_its_code_is_imported(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    modules = modules_once_ready(sim, tmp_path, f"--custom-resource-state-config={CRS_CONFIG}")
    assert "kubescope.state.crs" in modules
    assert held(modules, NEVER) == []
