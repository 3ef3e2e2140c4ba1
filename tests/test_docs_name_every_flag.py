"""Every flag a command's --help lists is documented on its page in docs/ (the issue: --help and the
docs match)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {
    "demo": "demo.md",
    "simulate": "simulate.md",
    "state-metrics": "state-metrics.md",
    "resource-metrics": "resource-metrics.md",
    "custom-metrics": "custom-metrics.md",
    "render": "state-metrics.md",
    "console": "console.md",
    "history": "history.md",
}


@pytest.mark.parametrize("command", sorted(PAGES))
def test_every_flag_of_help_is_in_the_docs(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kubescope", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    flags = set(re.findall(r"^\s+(--[a-z0-9-]+)", out, re.MULTILINE)) - {"--help"}
    assert len(flags) >= 3, out
    page = (DOCS / PAGES[command]).read_text()
    missing = sorted(f for f in flags if f not in page)
    assert not missing, f"{command} --help lists flags docs/{PAGES[command]} does not: {missing}"
