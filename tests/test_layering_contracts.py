"""The import-linter contracts in pyproject.toml hold on the tree, and each kind of break is caught.

The violations are written into a copy of the package (never the tree itself) and checked with the
project's own configuration, through the real ``lint-imports`` command that scripts/test runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(src: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contracts (those ids only, when given), finding
    ``kubescope`` under ``src``."""
    if not Path(LINT_IMPORTS).exists():
        pytest.fail("lint-imports is missing: install the lint extra (scripts/setup test,lint)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [
            LINT_IMPORTS,
            "--no-cache",
            *(f"--contract={c}" for c in contracts),
            str(REPO / "pyproject.toml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=src,
        timeout=120,
    )


def test_the_contracts_hold_on_the_tree() -> None:
    out = lint_imports(REPO / "src")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "src" / "kubescope", tmp_path / "kubescope", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def add_import(copy: Path, module: str, line: str) -> None:
    path = copy / "kubescope" / module
    path.write_text(path.read_text() + f"\n{line}\n")


def broken(out: subprocess.CompletedProcess[str]) -> str:
    """The report, after checking that lint-imports failed."""
    assert out.returncode == 1, out.stdout + out.stderr
    return out.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "names"),
    [
        # an exporter importing the simulator breaks both the layers and the forbidden contract
        ("state/app.py", "import kubescope.sim.store", "no-simulator-in-servers", "kubescope.sim.store"),
        ("state/app.py", "import kubescope.sim.store", "layers", "kubescope.sim.store"),
        # the products are independent of each other
        ("resource/api.py", "import kubescope.state.store", "layers", "kubescope.state.store"),
        # an upward import: the model below the client
        ("model/meta.py", "import kubescope.kube.client", "layers", "kubescope.kube.client"),
        # the serving core below the aggregated-API layer
        ("web/server.py", "import kubescope.apiserver.status", "layers", "kubescope.apiserver.status"),
        # kube and web are independent
        ("kube/client.py", "import kubescope.web.server", "layers", "kubescope.web.server"),
        # families never import each other
        ("state/families/node.py", "import kubescope.state.families.pod", "families-independent", "pod"),
        # the pure middle does no I/O
        ("state/families/node.py", "import aiohttp", "pure-core", "aiohttp"),
        # the simulated kubelets' state and text leave sockets to their serving module
        ("sim/kubelet/nodes.py", "import kubescope.sim.kubelet.serving", "sim-kubelet-core", "serving"),
        ("sim/kubelet/text.py", "import ssl", "sim-kubelet-core", "ssl"),
        # the object store is a core of its own: the REST surface is above it
        ("sim/watchcache.py", "import kubescope.sim.api.watching", "sim-store-core", "kubescope.sim.api"),
        # the metrics store's blocks and their fold are pure: threads and the event loop are the flusher's
        ("state/flush.py", "import concurrent.futures", "state-store-core", "concurrent"),
        ("state/store.py", "import kubescope.state.flusher", "state-store-core", "kubescope.state.flusher"),
        # the reflector's parts are below its loop: no circle back into it
        ("kube/relist.py", "import kubescope.kube.reflector", "reflector-parts", "kubescope.kube.reflector"),
    ],
)
def test_a_violation_is_caught_naming_the_contract_and_the_import(
    copy: Path, module: str, line: str, contract: str, names: str
) -> None:
    assert lint_imports(copy, contract).returncode == 0
    add_import(copy, module, line)
    report = broken(lint_imports(copy, contract))
    assert "1 broken" in report and names in report, report


def test_a_new_package_must_be_placed_in_the_layers(copy: Path) -> None:
    (copy / "kubescope" / "gadget").mkdir()
    (copy / "kubescope" / "gadget" / "__init__.py").write_text('"""A package nobody placed."""\n')
    report = broken(lint_imports(copy))
    assert "kubescope.gadget" in report, report


def _a_product_to_come() -> str:
    """An optional layer (in parentheses) whose package does not exist yet."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    names = [n.strip()[1:-1] for layer in layers for n in layer.split("|") if n.strip().startswith("(")]
    missing = [n for n in names if not (REPO / "src" / "kubescope" / n).exists()]
    if not missing:
        pytest.skip("every product of the contract exists")
    return missing[0]


def test_an_expected_product_is_independent_once_it_exists(copy: Path) -> None:
    """The products to come are optional layers: absent, nothing breaks; present, they are
    independent siblings of the others (here: a product to come importing state's internals)."""
    name = _a_product_to_come()
    (copy / "kubescope" / name).mkdir()
    (copy / "kubescope" / name / "__init__.py").write_text("import kubescope.web.server\n")
    assert lint_imports(copy).returncode == 0
    (copy / "kubescope" / name / "__init__.py").write_text("import kubescope.state.store\n")
    report = broken(lint_imports(copy))
    assert f"kubescope.{name}" in report and "kubescope.state" in report, report


def test_the_architecture_doc_draws_the_contracts_layers() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    doc = (REPO / "docs" / "architecture.md").read_text()
    section = doc.split("## Layers", 1)[1]
    picture = section.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    assert picture == layers, "docs/architecture.md's layer picture differs from pyproject.toml's contract"
