"""Numbers on the pages are written as Kubernetes writes them (and console.js formats charts alike)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubescope.console import units
from kubescope.model.quantity import parse_quantity


@pytest.mark.parametrize(
    ("millicores", "text"),
    [
        (0, "0"),
        (0.4, "0"),
        (1, "1m"),
        (250, "250m"),
        (999.4, "999m"),
        (1000, "1"),
        (1500, "1.5"),
        (2345, "2.35"),
        (None, "-"),
    ],
)
def test_cpu(millicores: float | None, text: str) -> None:
    assert units.cpu(millicores) == text


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (512, "512"),
        (1024, "1Ki"),
        (300 * 2**20, "300Mi"),
        (1.5 * 2**30, "1.5Gi"),
        (12.25 * 2**30, "12.2Gi"),
        (2**40, "1Ti"),
        (None, "-"),
    ],
)
def test_memory(nbytes: float | None, text: str) -> None:
    assert units.memory(nbytes) == text


@pytest.mark.parametrize(
    "q", ["250m", "2", "123456789n", "1500u", "64Mi", "1Gi", "1G", "100k", "1.5", "2e3", "0.5Gi"]
)
def test_the_quick_parser_agrees_with_the_quantity_parser(q: str) -> None:
    exact = float(parse_quantity(q))
    assert units.bytes_of(q) == pytest.approx(exact)
    assert units.millicores_of(q) == pytest.approx(exact * 1000)


def test_invalid_quantities_are_none() -> None:
    assert units.millicores_of("lots") is None
    assert units.bytes_of("") is None


def test_ages_as_kubectl_prints_them() -> None:
    assert [units.age(s) for s in (5, 150, 700, 3 * 3600 + 120, 20 * 3600, 3 * 86400 + 3600, 40 * 86400)] == [
        "5s",
        "2m30s",
        "11m",
        "3h2m",
        "20h",
        "3d1h",
        "40d",
    ]


def test_console_js_uses_the_same_rules() -> None:
    """The chart formatter in console.js has the same thresholds and suffixes as units.py."""
    js = (Path(units.__file__).parent / "static" / "console.js").read_text()
    assert 'const BINARY = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]' in js
    assert re.search(
        r"Math\.abs\(m\) < 1000\) \{ const r = Math\.round\(m\); return r === 0 \? \"0\" : r \+ \"m\"", js
    )
    assert "trim(m / 1000, 2)" in js
