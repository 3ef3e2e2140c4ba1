"""Quantities, durations and times in apimachinery's canonical forms, as kubectl and the HPA parse them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubescope.model.quantity import parse, parse_quantity
from kubescope.resource.render import (
    cpu_quantity,
    memory_quantity,
    node_usage_part,
    pod_usage_part,
    time_json,
)
from kubescope.resource.storage import PodUsage, Usage

S = 1_000_000_000


@pytest.mark.parametrize(
    ("nanocores", "text"),
    [
        (487558164, "487558164n"),
        (9559630, "9559630n"),
        (500_000_000, "500m"),
        (1_000_000_000, "1"),
        (1_500_000_000, "1500m"),
        (2_000_000_000_000, "2k"),
        (1000, "1u"),
        (1, "1n"),
        (0, "0"),
        (10_000_000, "10m"),
        # past int64 metrics-server drops a digit (NewScaledQuantity(v/10, -8)), then canonicalizes to nano
        ((1 << 63) + 5, "9223372036854775810n"),
    ],
)
def test_cpu_is_decimal_si_nanocores(nanocores: int, text: str) -> None:
    assert cpu_quantity(nanocores) == text


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (732212 * 1024, "732212Ki"),
        (22244 * 1024, "22244Ki"),
        (5 << 20, "5Mi"),
        (2 << 30, "2Gi"),
        (1023, "1023"),
        (1024, "1Ki"),
        (1536, "1536"),
        (12533760, "12240Ki"),
        (1616273408, "1578392Ki"),
        (0, "0"),
    ],
)
def test_memory_is_binary_si_bytes(nbytes: int, text: str) -> None:
    assert memory_quantity(nbytes) == text


@pytest.mark.parametrize("nanocores", [487558164, 9559630, 500_000_000, 1, 123_456_789_012])
def test_cpu_strings_read_back_as_kubectl_reads_them(nanocores: int) -> None:
    q = parse_quantity(cpu_quantity(nanocores))
    assert q * S == nanocores
    assert parse(cpu_quantity(nanocores)).milli_value() == -(-nanocores // 1_000_000)  # rounds up


@pytest.mark.parametrize("nbytes", [732212 * 1024, 1023, 1536, 5 << 20])
def test_memory_strings_read_back(nbytes: int) -> None:
    assert parse(memory_quantity(nbytes)).value() == nbytes


@pytest.mark.parametrize(
    ("window_ns", "text"),
    [
        (30 * S, "30s"),
        (60 * S, "1m0s"),
        (17_913_000_000, "17.913s"),
        (10_393_000_000, "10.393s"),
        (15_001_000_000, "15.001s"),
        (1_500_000, "1.5ms"),
        (90 * 60 * S, "1h30m0s"),
        (0, "0s"),
    ],
)
def test_windows_are_go_durations(window_ns: int, text: str) -> None:
    part = node_usage_part(Usage(0, window_ns, 1, 1))
    assert f'"window":"{text}"'.encode() in part


def test_timestamps_are_whole_seconds_and_null_when_unknown() -> None:
    assert time_json(1_643_309_313_999_999_999) == b'"2022-01-27T18:48:33Z"'
    assert time_json(None) == b"null"
    part = pod_usage_part(PodUsage(None, 0, ()))
    assert json.loads(b"{" + part) == {"timestamp": None, "window": "0s", "containers": []}


def test_website_samples_use_exactly_these_forms() -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "metrics-api"
    node = json.loads((data / "website-nodemetrics-minikube.json").read_text())
    pod = json.loads((data / "website-podmetrics-kube-scheduler.json").read_text())
    assert node["usage"] == {"cpu": cpu_quantity(487558164), "memory": memory_quantity(732212 * 1024)}
    assert pod["containers"][0]["usage"] == {
        "cpu": cpu_quantity(9559630),
        "memory": memory_quantity(22244 * 1024),
    }
    assert node["window"] == pod["window"] == "30s"


def test_fast_quantity_paths_give_apimachinery_canonical_strings() -> None:
    """cpu_quantity and memory_quantity take shortcuts for the common values; each must equal the
    general formatting (NewScaledQuantity(v, -9) DecimalSI, NewQuantity(v) BinarySI, int64 cut)."""
    import random

    from kubescope.model.quantity import format_binary_si, format_decimal_si
    from kubescope.resource.render import cpu_quantity, memory_quantity

    top = (1 << 63) - 1

    def cpu_ref(n: int) -> str:
        return format_decimal_si(n // 10, -8) if n > top else format_decimal_si(n, -9)

    def mem_ref(n: int) -> str:
        return format_binary_si(n // 10 * 10) if n > top else format_binary_si(n)

    rng = random.Random(5)
    values = [rng.randrange(1, 10 ** rng.randrange(1, 20)) for _ in range(50_000)]
    values += [
        rng.randrange(1, 10**6) * m for m in (1000, 10**6, 10**9, 1024, 4096, 1 << 20) for _ in range(2000)
    ]
    values += [*range(3000), top - 1, top, top + 1, (1 << 64) - 1, 1 << 40, 10**18, 999_999_999_000]
    for v in values:
        assert cpu_quantity(v) == cpu_ref(v), v
        assert memory_quantity(v) == mem_ref(v), v
