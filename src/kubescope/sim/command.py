"""``kubescope simulate``: flags -> :class:`SimSettings` -> a running :class:`Simulator`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from kubescope.errors import BindError, ConfigError
from kubescope.model.gofmt import parse_go_duration
from kubescope.sim import features
from kubescope.sim.faults import Faults
from kubescope.sim.server import SimSettings, Simulator
from kubescope.web.server import run as run_loop

logger = logging.getLogger(__name__)


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "A Kubernetes-API-compatible server with a realistic simulated cluster: real list/watch semantics "
        "(resourceVersions, bookmarks, 410 Gone, pagination, selectors), simulated kubelets, churn and "
        "faults on demand. Point kubectl or kubescope at the kubeconfig it writes."
    )
    g = p.add_argument_group("cluster")
    g.add_argument("--nodes", type=int, default=20, help="simulated nodes (default: %(default)s)")
    g.add_argument(
        "--pods-per-node", type=int, default=15, help="pods per node on average (default: %(default)s)"
    )
    g.add_argument(
        "--seed", type=int, default=1, help="seed of the generated cluster and churn (default: %(default)s)"
    )
    g.add_argument(
        "--churn-rate",
        type=float,
        default=0.0,
        help="writes per second the churn makes: status changes, restarts, rollouts, scaling, jobs, "
        "objects created and deleted; each one watch event (default: %(default)s, a still cluster)",
    )
    g.add_argument(
        "--churn-mix",
        choices=("realistic", "lively"),
        default="realistic",
        help="what the churn changes: realistic (each kind at a real cluster's rate per object: most "
        "pods run for days, a few crash-loop) or lively (fixed shares: rollouts, scaling, jobs, "
        "restarts all the time) (default: %(default)s)",
    )
    g.add_argument(
        "--controllers",
        action="store_true",
        help="run the control plane (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, "
        "endpoints, scheduler, node lifecycle, garbage collection, the kubelets' pod and node "
        "status) without churn; --churn-rate > 0 runs it anyway",
    )
    g.add_argument(
        "--hpa-sync-period",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="how often the HPA controller syncs each HorizontalPodAutoscaler, as "
        "kube-controller-manager's --horizontal-pod-autoscaler-sync-period (default: %(default)s; >= 0.1)",
    )
    g.add_argument(
        "--event-ttl",
        default="1h0m0s",
        metavar="DURATION",
        help="how long an Event lasts after its last write, as kube-apiserver's --event-ttl (a Go "
        "duration; applied while the control plane runs) (default: %(default)s)",
    )
    g.add_argument("--no-kubelets", action="store_true", help="do not run the simulated kubelets")
    g.add_argument(
        "--kubelet-housekeeping",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how often the simulated kubelets collect stats, as cAdvisor's housekeeping "
        "(default: %(default)s; >= 0.05)",
    )
    g = p.add_argument_group("serving")
    g.add_argument("--host", default="127.0.0.1", help="listen address (default: %(default)s)")
    g.add_argument(
        "--port", type=int, default=6443, help="listen port; 0 picks a free one (default: %(default)s)"
    )
    g.add_argument(
        "--insecure-http",
        "--no-tls",
        dest="insecure_http",
        action="store_true",
        help="plain HTTP without authentication (loopback only, fastest); default is TLS with a generated CA "
        "and bearer tokens",
    )
    g.add_argument(
        "--write-kubeconfig", metavar="PATH", default="", help="write a kubeconfig for the simulator here"
    )
    g.add_argument(
        "--ready-file",
        metavar="PATH",
        default="",
        help="when serving, write JSON with url, port, kubeconfig, token and ca_file here (for scripts and tests)",
    )
    g.add_argument(
        "--state-dir", default="", help="directory for certificates and the kubeconfig (default: a temp dir)"
    )
    g.add_argument(
        "--auth-file",
        "--policy-file",
        "--tokens-file",
        dest="auth_file",
        default="",
        help="YAML with extra tokens (users, groups) and authorization rules, one file for both (see docs/simulate.md)",
    )
    g.add_argument("--admin-token", default="", help="use this admin bearer token instead of a generated one")
    g.add_argument(
        "--app-metrics-port", type=int, default=0,
        help="port of the application metrics of annotated Deployments' pods and of their Prometheus "
        "service discovery (GET /targets; 0 picks a free one, named by GET /_sim/appmetrics)",
    )  # fmt: skip
    g = p.add_argument_group("watch semantics")
    g.add_argument(
        "--bookmark-interval",
        type=float,
        default=60.0,
        help="seconds between BOOKMARK events on watches that allow them (default: %(default)s, as kube-apiserver)",
    )
    g.add_argument(
        "--watch-history",
        type=int,
        default=100_000,
        help="events kept for watches to resume from; older resourceVersions get 410 Gone (default: %(default)s)",
    )
    g.add_argument(
        "--feature-gates",
        default="",
        metavar="NAME=BOOL,...",
        help="kube-apiserver feature gates, in its syntax; WatchList=false serves no sendInitialEvents "
        "watches, as a 1.33 server (default: 1.36's: WatchList=true)",
    )
    g = p.add_argument_group("faults (also settable live: POST /_sim/faults)")
    g.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"a fault setting, repeatable; names: {', '.join(Faults().as_dict())}",
    )


def run(args: argparse.Namespace) -> int:
    faults: dict[str, object] = {}
    for item in args.fault:
        k, sep, v = item.partition("=")
        if not sep:
            print(f"kubescope simulate: --fault={item!r}: expected NAME=VALUE", file=sys.stderr)
            return 2
        faults[k.strip()] = v.strip()
    try:
        Faults().update(dict(faults))
        if args.nodes < 0 or args.pods_per_node < 0:
            raise ConfigError("--nodes and --pods-per-node must be >= 0")
        try:
            event_ttl = parse_go_duration(args.event_ttl) / 1e9
        except ValueError as e:
            raise ConfigError(f"--event-ttl={args.event_ttl}: {e}") from e
        if event_ttl <= 0:
            raise ConfigError(f"--event-ttl={args.event_ttl}: must be positive")
        if not args.hpa_sync_period >= 0.1:
            raise ConfigError(f"--hpa-sync-period={args.hpa_sync_period}: must be >= 0.1 seconds")
        if not args.kubelet_housekeeping >= 0.05:
            raise ConfigError(f"--kubelet-housekeeping={args.kubelet_housekeeping}: must be >= 0.05 seconds")
        settings = SimSettings(
            nodes=args.nodes,
            pods_per_node=args.pods_per_node,
            seed=args.seed,
            churn_rate=args.churn_rate,
            churn_mix=args.churn_mix,
            controllers=args.controllers,
            hpa_sync_period=args.hpa_sync_period,
            event_ttl=event_ttl,
            host=args.host,
            port=args.port,
            tls=not args.insecure_http,
            write_kubeconfig=args.write_kubeconfig,
            ready_file=args.ready_file,
            state_dir=args.state_dir,
            bookmark_interval=args.bookmark_interval,
            watch_history=args.watch_history,
            auth_file=args.auth_file,
            admin_token=args.admin_token,
            kubelets=not args.no_kubelets,
            kubelet_housekeeping=args.kubelet_housekeeping,
            app_metrics_port=args.app_metrics_port,
            faults=faults,
            feature_gates=features.parse(args.feature_gates),
        )
    except ConfigError as e:
        print(f"kubescope simulate: {e}", file=sys.stderr)
        return 2
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.tls:
        print("kubescope simulate: --insecure-http is for loopback only", file=sys.stderr)
        return 2
    return run_loop(_main(settings))


async def _main(settings: SimSettings) -> int:
    try:
        sim = Simulator(settings)
    except ConfigError as e:
        print(f"kubescope simulate: {e}", file=sys.stderr)
        return 2
    try:
        await sim.start(announce=False)
    except BindError as e:
        print(f"kubescope simulate: {e}", file=sys.stderr)
        await sim.stop()
        return 2

    def announce() -> None:
        sim.announce()
        print(json.dumps({"url": sim.url, "kubeconfig": sim.kubeconfig}), flush=True)

    # the web core's lifecycle: until SIGINT/SIGTERM, then the graceful stop (a second signal hurries
    # it); the ready file and the printed address come once a SIGTERM would be handled
    return await sim.server.serve(announce)
