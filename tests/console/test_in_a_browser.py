"""The console in a real browser (Debian's Chromium, headless, driven by Selenium through Debian's
chromedriver) against the demo stack (`kubescope demo`: the simulator, resource-metrics, history and
the console, as a user starts them): pages load without console errors, charts draw the simulator's
truth (read back from the page), filters and sorting work and the back button returns, an
autoscaler's replica change appears.

With ``KUBESCOPE_SCREENSHOTS=DIR`` the tests also save each page at desktop and narrow widths there
(the pictures in docs/console.md come from such a run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubescope.console import units
from kubescope.sim.tied import popen_tied
from kubescope.sim.usage import container_model, sandbox_model

# the demo starts inside the first test's time (up to 300 s on a loaded machine) and the autoscaler test
# waits up to 240 s for a rescale by design: 300 s each is a hang detector too tight for them
pytestmark = [pytest.mark.slow, pytest.mark.external, pytest.mark.timeout(900)]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SEED = 7
SHOTS = os.environ.get("KUBESCOPE_SCREENSHOTS", "")


class Demo:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.kubeconfig = tmp / "kubeconfig"
        self.out = tmp / "demo.out"
        # every server on a port of its own choosing (0), the console's read from the demo's banner: a
        # port picked free here and handed over can be taken before the demo's server binds it
        argv = [sys.executable, "-m", "kubescope", "demo", "--nodes", "4", "--pods-per-node", "6", "--seed", str(SEED),
                "--churn-rate", "0", "--metric-resolution", "2s", "--write-kubeconfig", str(self.kubeconfig),
                "--state-port", "0", "--state-telemetry-port", "0", "--console-port", "0",
                "--log-dir", str(tmp / "logs"), "--exit-after", "1500"]  # fmt: skip
        with self.out.open("wb") as f:
            self.proc = popen_tied(argv, stdout=f, stderr=subprocess.STDOUT)
        self.url = ""

    def wait(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while "Ctrl-C stops everything." not in self.out.read_text(errors="replace"):
            assert self.proc.poll() is None, "the demo exited while starting\n" + self.explain()
            assert time.monotonic() < deadline, f"the demo not up after {timeout:.0f} s\n" + self.explain()
            time.sleep(0.3)
        assert self.proc.poll() is None, "the demo exited once up\n" + self.explain()
        console = re.search(r"^  console +(http://127\.0\.0\.1:\d+)/", self.out.read_text(), re.MULTILINE)
        assert console, "the demo's banner names no console\n" + self.explain()
        self.url = console[1]

    def explain(self) -> str:
        """What a failure about the demo needs to explain itself: its exit code, the tail of its
        output and of each server's log."""
        code = self.proc.poll()
        parts = [f"demo (pid {self.proc.pid}): {'running' if code is None else f'exited with {code}'}"]
        logs = sorted((self.tmp / "logs").glob("*.log")) if (self.tmp / "logs").is_dir() else []
        for path in [self.out, *logs]:
            try:
                text = path.read_text(errors="replace")
            except OSError as e:
                text = f"({e})"
            parts.append(f"--- {path} (last 3000 characters) ---\n{text[-3000:]}")
        return "\n".join(parts)

    def api(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        """A request to the simulator with the demo's kubeconfig (through the real kubectl)."""
        kubectl = str(Path(sys.executable).parent / "kubectl")
        args = [kubectl, f"--kubeconfig={self.kubeconfig}", "get", "--raw", path]
        if method != "GET":
            args = [
                kubectl,
                f"--kubeconfig={self.kubeconfig}",
                {"POST": "create", "PUT": "replace", "DELETE": "delete"}[method],
                "--raw",
                path,
                *(["-f", "-"] if body is not None else []),
            ]
        p = subprocess.run(
            args,
            input=json.dumps(body) if body is not None else None,
            capture_output=True,
            text=True,
            timeout=300,  # a hang, not a measure
        )
        assert p.returncode == 0, f"kubectl {' '.join(args[2:])}: {p.stderr}\n{self.explain()}"
        return json.loads(p.stdout) if p.stdout.strip() else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are needed (scripts/apt-deps installs them)")
    d = Demo(tmp_path_factory.mktemp("console-demo"))
    try:
        d.wait()
        yield d
    finally:
        d.stop()


@pytest.fixture(autouse=True)
def _demo_stays_up(demo: Demo) -> Iterator[None]:
    """Each test starts and ends with the demo running; when it is gone, its output and logs say why."""
    assert demo.proc.poll() is None, "the demo is gone\n" + demo.explain()
    yield
    assert demo.proc.poll() is None, "the demo exited during the test\n" + demo.explain()


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # without the background-networking flags Chromium dials out at every start and this machine's
    # closed network refuses it (see the machine notes)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={demo.tmp / 'chromium'}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(1400, 1000)
    try:
        yield driver
    finally:
        driver.quit()


def errors(browser: Any) -> list[dict[str, Any]]:
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def open_page(browser: Any, demo: Demo, path: str) -> None:
    """Load a console page and wait for its charts; a page that does not load says why the demo's
    console did not answer (its exit code, its output and logs)."""
    from selenium.common.exceptions import WebDriverException

    try:
        browser.get(demo.url + path)
    except WebDriverException as e:
        raise AssertionError(f"{demo.url + path}: {e.msg}\n{demo.explain()}") from e
    deadline = time.monotonic() + 30
    while browser.execute_script(
        "return [...document.querySelectorAll('figure.chart')].some(f => !f.dataset.state || f.dataset.state === 'loading')"
    ):
        assert time.monotonic() < deadline, "charts still loading after 30 s"
        time.sleep(0.2)


def navigate(browser: Any, act: Callable[[], object]) -> None:
    """Do what loads another page (a link or a submit clicked, back) and wait until it has: a click
    returns before the navigation it starts, so the URL read next could still be the old page's (a
    loaded full run read /pods after the filter's submit)."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element("tag name", "html")
    act()
    WebDriverWait(browser, 30).until(ec.staleness_of(old))
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.readyState") == "complete")


def shoot(browser: Any, shot: str) -> None:
    """The page at a desktop's width and a phone's, whole, into KUBESCOPE_SCREENSHOTS (when set)."""
    if not SHOTS:
        return
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    for name, width in (("desktop", 1400), ("narrow", 420)):
        browser.set_window_size(width, 1000)
        time.sleep(0.5)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(height + 120, 2600))
        time.sleep(0.3)
        browser.save_screenshot(str(out / f"console-{shot}-{name}.png"))
    browser.set_window_size(1400, 1000)


def chart(browser: Any, fig: str) -> dict[str, Any]:
    """What a chart drew: its x values and each series' values (uPlot's own data), and its state."""
    got: dict[str, Any] = browser.execute_script(
        "const c = window.kubescopeCharts[arguments[0]]; const f = document.getElementById(arguments[0]);"
        "return {state: f.dataset.state, note: f.querySelector('.chart-note').textContent,"
        " x: c ? c.uplot.data[0] : [], series: c ? c.uplot.series.slice(1).map((s, i) => ({label: s.label,"
        " values: c.uplot.data[i + 1].map(v => v === undefined ? 'span' : v)})) : []}",
        fig,
    )
    return got


def _pods(demo: Demo) -> list[dict[str, Any]]:
    return [p for p in demo.api("GET", "/api/v1/pods")["items"] if p["status"].get("phase") == "Running"]


def _shown_pod(demo: Demo) -> dict[str, Any]:
    """The pod whose page the tests show: a workload's, in one of the teams' namespaces."""
    pods = _pods(demo)
    owned = (
        p
        for p in pods
        if p["metadata"].get("ownerReferences") and p["metadata"]["namespace"].startswith("team-")
    )
    return next(owned, pods[0])


def _pages(demo: Demo) -> dict[str, str]:
    """One URL per page kind: the lists, and a node, a pod, a workload and an autoscaler of the demo's."""
    pod = _shown_pod(demo)
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    deploys = demo.api("GET", "/apis/apps/v1/deployments")["items"]
    deploy = next((d for d in deploys if d["metadata"]["namespace"] == ns), deploys[0])["metadata"]
    hpa = demo.api("GET", "/apis/autoscaling/v2/horizontalpodautoscalers")["items"][0]["metadata"]
    return {
        "overview": "/", "nodes": "/nodes", "namespaces": "/namespaces", "workloads": "/workloads", "pods": "/pods",
        "autoscalers": "/autoscalers", "node": f"/nodes/{pod['spec']['nodeName']}", "pod": f"/pods/{ns}/{name}",
        "workload": f"/workloads/{deploy['namespace']}/deployments/{deploy['name']}",
        "autoscaler": f"/autoscalers/{hpa['namespace']}/{hpa['name']}",
    }  # fmt: skip


def test_every_page_loads_without_console_errors(demo: Demo, browser: Any) -> None:
    pages = _pages(demo)
    time.sleep(6)  # a few polls, so sparklines have lines
    for path in pages.values():
        open_page(browser, demo, path)
        assert browser.title.endswith("kubescope console"), (path, browser.title)
        assert "Traceback" not in browser.page_source
        states = browser.execute_script(
            "return [...document.querySelectorAll('figure.chart')].map(f => f.dataset.state)"
        )
        assert all(s in ("drawn", "empty") for s in states), (path, states)
        assert errors(browser) == [], path
    open_page(browser, demo, "/pods?sort=colour")
    assert "sort='colour': sort by one of" in browser.find_element("css selector", ".error-message").text
    # the one error the browser logs is the page's own 400 status
    assert [e["message"].endswith("status of 400 (Bad Request)") for e in errors(browser)] == [True]


def _truth_memory(pod: dict[str, Any], t: float) -> float:
    """The pod's working set at ``t`` as the simulator's kubelets compute it (sim/usage.py)."""
    total = float(sandbox_model(SEED, pod["metadata"]["uid"]).memory)
    for c in pod["spec"]["containers"]:
        r = c.get("resources", {})
        req, lim = r.get("requests", {}), r.get("limits", {})
        model = container_model(
            SEED, pod["metadata"]["uid"], c["name"],
            units.millicores_of(req.get("cpu", "")) and units.millicores_of(req["cpu"]) / 1000,  # type: ignore[operator]
            units.millicores_of(lim.get("cpu", "")) and units.millicores_of(lim["cpu"]) / 1000,  # type: ignore[operator]
            int(units.bytes_of(req["memory"])) if req.get("memory") else None,  # type: ignore[arg-type]
            int(units.bytes_of(lim["memory"])) if lim.get("memory") else None,  # type: ignore[arg-type]
        )  # fmt: skip
        total += model.working_set(t)
    return total


def test_charts_draw_the_simulators_truth(demo: Demo, browser: Any) -> None:
    pods = [
        p
        for p in _pods(demo)
        if any(c.get("resources", {}).get("requests", {}).get("memory") for c in p["spec"]["containers"])
    ]
    pod = pods[0]
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    deadline = time.monotonic() + 60
    while True:
        open_page(browser, demo, f"/pods/{ns}/{name}?range=15m")
        drawn = chart(browser, "pod-memory")
        usage = next((s for s in drawn["series"] if s["label"] == "usage"), None)
        points = [
            (t, v)
            for t, v in zip(drawn["x"], usage["values"] if usage else [], strict=False)
            if isinstance(v, int | float)
        ]
        if len(points) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert len(points) >= 3, drawn
    for t, v in points[-3:]:
        truth = _truth_memory(pod, t)
        # the value is the kubelet's sample at most one housekeeping period (2 s) before the point
        assert abs(v - truth) <= 0.03 * truth, (t, v, truth)
    request = next(s for s in drawn["series"] if s["label"] == "request")
    wanted = sum(units.bytes_of(c["resources"]["requests"]["memory"]) or 0 for c in pod["spec"]["containers"])
    assert wanted in [v for v in request["values"] if isinstance(v, int | float)]
    # the same pod over the last hour comes from kubescope history (through the aggregation layer)
    deadline = time.monotonic() + 60
    while True:
        open_page(browser, demo, f"/pods/{ns}/{name}?range=1h")
        source = browser.execute_script(
            "const c = window.kubescopeCharts['pod-memory']; return c ? c.data.source : ''"
        )
        drawn = chart(browser, "pod-memory")
        usage = next((s for s in drawn["series"] if s["label"] == "usage"), None)
        points = [
            (t, v)
            for t, v in zip(drawn["x"], usage["values"] if usage else [], strict=False)
            if isinstance(v, int | float)
        ]
        if (source == "history" and len(points) >= 3) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert source == "history", drawn["note"]
    for t, v in points[-3:]:
        truth = _truth_memory(pod, t)
        assert abs(v - truth) <= 0.03 * truth, (t, v, truth)
    # the legend shows values in Kubernetes' units
    legend = browser.find_element("css selector", "#pod-memory .u-legend").text
    assert re.search(r"usage\s*:?\s*[-\d.]+(Ki|Mi|Gi)?", legend) or "usage" in legend


def test_filters_sorting_and_the_back_button(demo: Demo, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    open_page(browser, demo, "/pods")
    target = next(
        p["metadata"]["namespace"] for p in _pods(demo) if p["metadata"]["namespace"] != "kube-system"
    )
    Select(browser.find_element("name", "ns")).select_by_visible_text(target)
    navigate(browser, browser.find_element("css selector", "form.filters button[type=submit]").click)
    assert f"ns={target}" in browser.current_url
    rows = browser.find_elements("css selector", "#pods tbody tr")
    assert rows and all(r.find_elements("css selector", "td")[1].text == target for r in rows)
    filtered_url = browser.current_url
    navigate(browser, browser.find_element("link text", "CPU").click)  # the column header: descending first
    assert "sort=-cpu" in browser.current_url
    cpus = [
        units.millicores_of(td.text.replace("m", "m"))
        for td in browser.find_elements("css selector", "#pods td.cpu")
    ]
    known = [c for c in cpus if c is not None]
    assert known == sorted(known, reverse=True) and len(known) >= 2, cpus
    navigate(browser, browser.back)
    assert browser.current_url == filtered_url
    browser.find_element("name", "label").send_keys("no-such-label=x")
    navigate(browser, browser.find_element("css selector", "form.filters button[type=submit]").click)
    assert "No pods match." in browser.page_source
    assert errors(browser) == []


def test_a_workload_shows_its_recommendation_beside_its_requests(demo: Demo, browser: Any) -> None:
    deploy = next(d for d in demo.api("GET", "/apis/apps/v1/deployments")["items"]
                  if d["spec"]["template"]["spec"]["containers"][0].get("resources", {}).get("requests", {}).get("cpu"))  # fmt: skip
    ns, name = deploy["metadata"]["namespace"], deploy["metadata"]["name"]
    first = deploy["spec"]["template"]["spec"]["containers"][0]
    deadline = time.monotonic() + 90
    while True:
        open_page(browser, demo, f"/workloads/{ns}/deployments/{name}?range=15m")
        rows = browser.find_elements("css selector", "#recommendation tbody tr")
        cells = [td.text for td in rows[0].find_elements("css selector", "td")] if rows else []
        if (cells and cells[2] != "-") or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert cells[0] == first["name"] and cells[1] == first["resources"]["requests"]["cpu"], cells
    target = cells[2].split(" ")[0]
    assert units.millicores_of(target) is not None, cells  # a CPU quantity, as a VPA writes it
    assert errors(browser) == []


def _rescales(demo: Demo, ns: str, name: str) -> list[dict[str, Any]]:
    """The HPA controller's SuccessfulRescale events about ``ns/name``, as the API server keeps them."""
    sel = f"involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name={name},reason=SuccessfulRescale"
    items = demo.api("GET", f"/api/v1/namespaces/{ns}/events?fieldSelector={sel}")["items"]
    return [
        e
        for e in items
        if (e.get("reportingComponent") or e.get("source", {}).get("component"))
        == "horizontal-pod-autoscaler"
    ]


def test_an_autoscalers_replica_change_appears(demo: Demo, browser: Any) -> None:
    """The demo's shop/web scales with its requests per second (a square load profile): the simulator's
    HPA controller rescales it through the custom metrics API; the console shows the new count on the
    list, the rescale in the replicas chart and the controller's event."""
    from kubescope.custom_metrics import showcase

    ns, name = showcase.APP_NAMESPACE, showcase.APP
    if not shutil.which("prometheus"):
        pytest.fail("Debian's prometheus is needed for the demo's autoscaling (scripts/apt-deps installs it)")
    deadline = time.monotonic() + 240  # the load's high phase is 2 minutes of every 4
    while not (rescales := _rescales(demo, ns, name)):
        assert time.monotonic() < deadline, demo.api(
            "GET", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}"
        )
        time.sleep(3)
    sizes = {int(m.group(1)) for e in rescales if (m := re.match(r"New size: (\d+);", e["message"]))}
    assert sizes, rescales
    # the list shows the count the controller wrote (read again each time: the controller moves on)
    deadline = time.monotonic() + 30
    while True:
        status = demo.api("GET", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}")[
            "status"
        ]
        open_page(browser, demo, f"/autoscalers?ns={ns}")
        cell = browser.find_element(
            "xpath", f"//tr[td/a[text()='{name}']]/td[contains(@class, 'replicas')]"
        ).text
        if cell.split()[0] == str(status["currentReplicas"]) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert cell.split()[0] == str(status["currentReplicas"]), (cell, status)
    assert status.get("lastScaleTime"), status
    open_page(browser, demo, f"/autoscalers/{ns}/{name}?range=15m")
    drawn = chart(browser, "hpa-replicas")
    replicas = next(s for s in drawn["series"] if s["label"] == "replicas")
    assert sizes & {v for v in replicas["values"] if isinstance(v, int | float)}, (sizes, drawn)
    timeline = browser.find_element("css selector", "section.events").text
    assert any(f"New size: {n}" in timeline for n in sizes), timeline
    assert errors(browser) == []


def test_a_pods_timeline_merges_live_and_archived_events(demo: Demo, browser: Any) -> None:
    """Two events about one pod: the API server keeps one, the other is deleted from it (what its
    event TTL does) after kubescope events archived it; the pod's timeline shows both, the gone one
    marked archived (the merged view's events.kubescope.io/expired)."""
    pod = _shown_pod(demo)
    ns, name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def event(suffix: str, reason: str, message: str) -> str:
        demo.api("POST", f"/api/v1/namespaces/{ns}/events", {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{name}.console-{suffix}", "namespace": ns},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": name, "namespace": ns, "uid": uid},
            "reason": reason, "message": message, "type": "Warning", "source": {"component": "kubelet"},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        })  # fmt: skip
        return f"{name}.console-{suffix}"

    event("live", "ConsoleLive", "still in the API server")
    gone = event("gone", "ConsoleArchived", "deleted from the API server after the archive kept it")
    archive = f"/apis/events.kubescope.io/v1/namespaces/{ns}/events?fieldSelector=reason%3DConsoleArchived"
    deadline = time.monotonic() + 60
    while not demo.api("GET", archive)["items"]:
        assert time.monotonic() < deadline, "kubescope events did not archive the event within 60 s"
        time.sleep(1)
    demo.api("DELETE", f"/api/v1/namespaces/{ns}/events/{gone}")
    deadline = time.monotonic() + 30
    while True:
        items = demo.api("GET", archive)["items"]
        if items and items[0]["metadata"].get("annotations", {}).get("events.kubescope.io/expired") == "true":
            break
        assert time.monotonic() < deadline, items
        time.sleep(1)
    open_page(browser, demo, f"/pods/{ns}/{name}")
    rows = {
        r.find_element("css selector", "td:nth-child(3)").text: r.get_attribute("class")
        for r in browser.find_elements("css selector", "section.events tbody tr")
    }
    assert "archived" in rows.get("ConsoleArchived archived", ""), rows
    assert "archived" not in rows["ConsoleLive"], rows
    assert errors(browser) == []


def test_every_page_at_desktop_and_narrow_widths(demo: Demo, browser: Any) -> None:
    """Last, when the demo has run for minutes (its autoscaler rescaled, the 15-minute views filling):
    each page over 15 minutes at a desktop's width and a phone's draws its charts without a console
    error (with KUBESCOPE_SCREENSHOTS=DIR, the pictures in docs/console.md)."""
    # the overview and the detail pages over 15 minutes (the lists take no range: theirs is 15 minutes)
    pages = {shot: path if shot.endswith("s") else f"{path}?range=15m" for shot, path in _pages(demo).items()}
    pages["bad-input"] = "/pods?sort=colour"
    for shot, path in pages.items():
        for width in (1400, 420):
            browser.set_window_size(width, 1000)
            open_page(browser, demo, path)
            states = browser.execute_script(
                "return [...document.querySelectorAll('figure.chart')].map(f => f.dataset.state)"
            )
            assert all(s in ("drawn", "empty") for s in states), (path, width, states)
            # wide tables scroll inside their box: the page itself never scrolls sideways
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, width, overflow)
            logged = errors(browser)
            if shot == "bad-input":
                assert [e["message"].endswith("status of 400 (Bad Request)") for e in logged] == [True], (
                    logged
                )
            else:
                assert logged == [], (path, width)
        shoot(browser, shot)
