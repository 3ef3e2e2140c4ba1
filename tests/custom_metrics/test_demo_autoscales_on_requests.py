"""``kubescope demo`` as a user runs it, its autoscaling part: Prometheus scrapes the application pods
of ``shop/web``, ``kubescope custom-metrics`` serves their requests per second through the simulator's
aggregation layer, and the simulator's HPA controller scales ``web`` up while the square load holds 240
requests/s (target 30 per pod) and back to one replica when it falls to 20, as ``kubectl get hpa``
shows (the README's run)."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubescope.custom_metrics import showcase
from tests.integration.test_demo_serves_kubectl_top import Demo

# the demo's start (up to 300 s on a loaded machine) and two rescales (up to 300 s each) are hang
# guards of their own: the suite's 300 s per test would cut them short (the test took 176 s at load 10)
pytestmark = [
    pytest.mark.timeout(1200),
    pytest.mark.slow,
    pytest.mark.kubectl,
    pytest.mark.external,
    pytest.mark.skipif(
        shutil.which("prometheus") is None, reason="Debian's prometheus (scripts/test installs it)"
    ),
]

NS, APP = showcase.APP_NAMESPACE, showcase.APP


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path, exit_after=900)
    yield d
    d.stop()


def _get(d: Demo, *args: str) -> str:
    r = d.kubectl(*args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _replicas(d: Demo) -> int:
    return int(json.loads(_get(d, "get", "deploy", APP, "-n", NS, "-o", "json"))["spec"]["replicas"])


def _wait(d: Demo, what: str, cond: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        row = d.kubectl("get", "hpa", APP, "-n", NS, "--no-headers").stdout.strip()
        if not seen or seen[-1] != row:
            seen.append(row)
        if cond():
            return
        assert d.proc.poll() is None, f"the demo exited:\n{d.text()}"
        time.sleep(2)
    history = "\n".join(seen)
    raise AssertionError(
        f"{what}: not within {timeout:.0f}s; kubectl get hpa said:\n{history}\n{d.text()[-2000:]}"
    )


def test_web_scales_up_with_the_load_and_back_down(demo: Demo) -> None:
    banner = demo.wait_running()
    assert re.search(r"custom metrics +https://127\.0\.0\.1:\d+ ", banner), banner
    assert f"get hpa -n {NS} -w" in banner

    # 240 requests/s against 30 per pod: several replicas within the two minutes of high load
    # (each step waits for the new pods' first rates: kube counts a pod without metrics as 0)
    _wait(demo, "scaled up to 4 or more", lambda: _replicas(demo) >= 4, timeout=300)
    header, row = _get(demo, "get", "hpa", "-n", NS).splitlines()[:2]
    assert header.split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert re.match(rf"{APP}\s+Deployment/{APP}\s+\d+m?/30\s+1\s+10\s+\d+\s", row), row

    # 20 requests/s: one pod is enough once the scale-down stabilization window (30 s) has passed
    _wait(demo, "scaled back down to 1", lambda: _replicas(demo) == 1, timeout=300)
    events = json.loads(_get(demo, "get", "events", "-n", NS, "-o", "json",
                             "--field-selector=involvedObject.kind=HorizontalPodAutoscaler"))["items"]  # fmt: skip
    rescales = [e["message"] for e in events if e["reason"] == "SuccessfulRescale"]
    assert any(m.endswith("reason: pods metric http_requests_per_second above target") for m in rescales), (
        rescales
    )
    assert "New size: 1; reason: All metrics below target" in rescales, rescales
