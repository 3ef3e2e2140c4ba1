"""The simulated kubelets' ``/metrics/resource`` is the real kubelet's text, line for line in shape:
the families of the kubelet's resource collector with its HELP (stability level included) and TYPE
lines, label names in the kubelet's order, families sorted by name and series by label values (as
client_golang writes them), Go's shortest float form, and millisecond sample timestamps everywhere
but on ``container_start_time_seconds`` and ``resource_scrape_error``. The reference is real kubelet
output (tests/data/kubelet/, see its README)."""

from __future__ import annotations

import gzip
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kubescope.sim.process import SimulatorProcess
from tests.integration.prom import need
from tests.sim.kubelets import Exposition, Kubelets, parse, retry, start_simulator

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet"
COLLECTOR = sorted(DATA.glob("kubelet-*.prom"))
"""What the kubelet's resource collector emits, from its own tests (v1.3x: STABLE/ALPHA levels)."""
REAL_SCRAPE = DATA / "ms-client-70pods.prom"
"""A whole /metrics/resource response of a real kubelet (kind, 70 pods)."""

WINDOWS_ONLY = {"container_memory_commit_bytes", "node_memory_commit_bytes"}
HIDDEN = {"scrape_error"}
"""Deprecated in 1.29.0, hidden since 1.30: a v1.36 kubelet does not write it."""
UNTIMED = {"container_start_time_seconds", "resource_scrape_error"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    s = start_simulator(tmp_path_factory.mktemp("kubelet-format"), nodes=3, pods_per_node=5)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kubelets(sim: SimulatorProcess) -> Kubelets:
    return Kubelets(sim)


@pytest.fixture(scope="module")
def reference() -> Exposition:
    """Every family of the collector's expected outputs, as one exposition."""
    merged = Exposition("")
    for f in COLLECTOR:
        e = parse(f.read_text())
        for name in e.families:
            if name not in merged.help:
                merged.families.append(name)
                merged.help[name], merged.type[name] = e.help[name], e.type[name]
        merged.samples += e.samples
    return merged


def workers(kubelets: Kubelets) -> list[str]:
    return sorted(kubelets.advertised())


def go_shortest(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'g', -1, 64)``, what client_golang's text writer uses: the
    shortest digits that read back as ``v``, in exponent form (at least two exponent digits) when
    the decimal exponent is below -4 or at least 6 (``eprec = 6`` for the shortest precision)."""
    if v == 0:
        return "0"
    sign, digits, exp = Decimal(repr(v)).normalize().as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits))
    e10 = len(ds) + exp - 1
    s = "-" if sign else ""
    if e10 < -4 or e10 >= 6:
        mantissa = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{s}{mantissa}e{'+' if e10 >= 0 else '-'}{abs(e10):02d}"
    return s + format(Decimal(repr(abs(v))).normalize(), "f")


def test_the_reference_is_what_the_helpers_expect(reference: Exposition) -> None:
    """The reference itself: Go's float form, and a real scrape sorted as client_golang sorts."""
    for f in [*COLLECTOR, REAL_SCRAPE]:
        for s in parse(f.read_text()).samples:
            if s.name != "container_start_time_seconds" or f == REAL_SCRAPE:
                assert s.value == go_shortest(float(s.value)), (f.name, s)
    real = parse(REAL_SCRAPE.read_text())
    assert real.families == sorted(real.families)
    for name in real.families:
        keys = [tuple(v for _, v in s.labels) for s in real.of(name)]
        assert keys == sorted(keys), name
    assert set(reference.families) >= {
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_start_time_seconds",
        "node_cpu_usage_seconds_total",
        "node_memory_working_set_bytes",
        "pod_cpu_usage_seconds_total",
        "pod_memory_working_set_bytes",
        "resource_scrape_error",
    }


def test_families_help_type_and_label_names_are_the_kubelets(
    kubelets: Kubelets, reference: Exposition
) -> None:
    expected = sorted(set(reference.families) - WINDOWS_ONLY - HIDDEN)
    for node in workers(kubelets):
        got = kubelets.metrics(node)
        assert got.families == expected, node
        for name in got.families:
            assert got.help[name] == reference.help[name], name
            assert got.type[name] == reference.type[name], name
            want_labels = {tuple(k for k, _ in s.labels) for s in reference.of(name)}
            assert {tuple(k for k, _ in s.labels) for s in got.of(name)} == want_labels, name
        # the text starts with the first family's HELP and has nothing but families in it
        assert got.text.startswith("# HELP container_cpu_usage_seconds_total [STABLE] ")


def test_samples_carry_millisecond_timestamps_except_start_times(kubelets: Kubelets) -> None:
    for node in workers(kubelets):
        before = time.time()
        got = kubelets.metrics(node)
        for s in got.samples:
            if s.name in UNTIMED:
                assert s.timestamp is None, s
                continue
            assert s.timestamp is not None, s
            assert len(str(s.timestamp)) == 13, s  # milliseconds since the epoch
            # taken at the last housekeeping tick (1 s here), a little before it
            assert before - 10 < s.timestamp / 1000 <= time.time(), s
        assert got.value("resource_scrape_error") == 0
        starts = got.of("container_start_time_seconds")
        assert starts and all(float(s.value) < before for s in starts)
        # as the kubelet writes UnixNano()/1e9: sub-second digits
        assert any("." in s.value for s in starts)


def test_families_and_series_are_sorted_as_client_golang_writes_them(kubelets: Kubelets) -> None:
    for node in workers(kubelets):
        got = kubelets.metrics(node)
        assert got.families == sorted(got.families)
        for name in got.families:
            keys = [tuple(v for _, v in s.labels) for s in got.of(name)]
            assert keys == sorted(keys), name
            assert len(set(keys)) == len(keys), name


def test_values_are_written_in_gos_shortest_form(kubelets: Kubelets) -> None:
    seen_exponent = False
    for node in workers(kubelets):
        for s in kubelets.metrics(node).samples:
            assert s.value == go_shortest(float(s.value)), s
            seen_exponent |= "e+" in s.value
    assert seen_exponent  # working sets (and start times) are above 1e6: 9.02291456e+08


def test_content_type_and_gzip(kubelets: Kubelets) -> None:
    node = workers(kubelets)[1]

    def same_tick() -> bool:
        plain = kubelets.get(node)
        zipped = kubelets.get(node, headers={"Accept-Encoding": "gzip"})
        for r in (plain, zipped):
            assert r.status == 200
            assert (
                r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
            )
        assert zipped.headers["content-encoding"] == "gzip"
        assert "content-encoding" not in plain.headers
        return gzip.decompress(zipped.body) == plain.body  # unless a tick passed in between

    retry("gzip and plain bodies of one tick", same_tick)


def test_head_and_other_paths(kubelets: Kubelets) -> None:
    node = workers(kubelets)[0]
    assert kubelets.get(node, method="HEAD").status == 200
    assert kubelets.get(node, "/healthz").text == "ok"
    r = kubelets.get(node, "/metrics/nonexistent")
    assert (r.status, r.text) == (404, "404 page not found\n")
    assert kubelets.get(node, method="POST").status == 405


@pytest.mark.external
def test_promtool_finds_no_problem(kubelets: Kubelets) -> None:
    for node in workers(kubelets):
        body = kubelets.get(node).body
        out = subprocess.run(
            [need("promtool"), "check", "metrics"], input=body, capture_output=True, timeout=60
        )
        assert (out.returncode, out.stdout, out.stderr) == (0, b"", b""), node
