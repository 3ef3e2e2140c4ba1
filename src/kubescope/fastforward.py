"""``kubescope history backfill``: days of a simulated fleet's usage, fast-forwarded into a new
history store, so the history API, ``history recommend`` and ``history idle`` have weeks of data
to answer from at once (the demo, trying things out, tests, benchmarks).

The usage is the simulator's own model (:mod:`kubescope.sim.usage`, evaluated for every container
at once by :mod:`kubescope.sim.fleet`): daily and weekly shapes, a daily burst for some workloads,
idle workloads, rollouts (Deployments get new pods, StatefulSets new UIDs under the same names),
nodes capped at their CPUs. Every cycle becomes what a recording cycle would have written
(:func:`kubescope.history.backfill.backfill`: containers, pods, nodes; appended and compacted as
the server does), so the file is indistinguishable from a recorded one.

This module sits above both the simulator and history (the layering keeps them apart); the
command line reaches it as a subcommand of ``kubescope history``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from kubescope.errors import ConfigError
from kubescope.history.backfill import backfill
from kubescope.history.request import BadRequest, parse_duration, parse_instant
from kubescope.history.series import CPU_UNIT, PodInfo
from kubescope.history.store import DAY, HistoryStore
from kubescope.log import fields
from kubescope.sim import fleet as simfleet

progress = logging.getLogger("kubescope.progress")

HELP = "fast-forward a simulated fleet's usage into a new history store (days of history in minutes)"


def _duration(value: str) -> int:
    try:
        return parse_duration(value, "duration")
    except BadRequest as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default="history.db", help="the store file to create (default: %(default)s)")
    p.add_argument("--days", type=float, default=14.0, help="days of history (default: %(default)g)")
    p.add_argument(
        "--end", default="now", help="when the history ends: RFC 3339, Unix seconds or now (default)"
    )
    p.add_argument("--resolution", type=_duration, default=60, help="seconds between samples (default: 60s)")
    p.add_argument("--workloads", type=int, default=60, help="workloads (default: %(default)s)")
    p.add_argument(
        "--replicas", type=int, default=3, help="pods per Deployment or StatefulSet (default: %(default)s)"
    )
    p.add_argument(
        "--nodes", type=int, default=10, help="nodes; DaemonSets have a pod on each (default: %(default)s)"
    )
    p.add_argument("--node-cpus", type=float, default=8.0, help="CPUs of each node (default: %(default)g)")
    p.add_argument("--namespaces", type=int, default=8, help="namespaces (default: %(default)s)")
    p.add_argument("--rollout-days", type=float, default=3.0,
                   help="days between rollouts of a Deployment or StatefulSet; 0: none (default: %(default)g)")  # fmt: skip
    p.add_argument("--seed", type=int, default=1, help="the fleet's seed (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ConfigError as e:
        print(f"kubescope history backfill: {e}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    for flag, v in (("--days", args.days), ("--workloads", args.workloads), ("--replicas", args.replicas),
                    ("--nodes", args.nodes), ("--node-cpus", args.node_cpus), ("--namespaces", args.namespaces)):  # fmt: skip
        if v <= 0:
            print(f"kubescope history backfill: {flag} must be positive, not {v:g}", file=sys.stderr)
            return 2
    try:
        end = parse_instant(args.end, "--end", time.time())
    except BadRequest as e:
        print(f"kubescope history backfill: {e}", file=sys.stderr)
        return 2
    start = end - int(args.days * DAY)
    store = HistoryStore(args.db)
    try:
        if store.latest:
            raise ConfigError(
                f"{args.db} already holds history (up to {store.latest}): backfill writes a new store, "
                "give another --db"
            )
        fl = simfleet.build(
            args.workloads, replicas=args.replicas, t0=start, t1=end + 1, seed=args.seed, nodes=args.nodes,
            node_cpus=args.node_cpus, rollout_days=args.rollout_days, namespaces=args.namespaces,
        )  # fmt: skip
        pods = [
            PodInfo(p.namespace, p.name, p.uid, p.node, p.owner_kind, p.owner_name,
                    tuple((c, round(cr * CPU_UNIT), None, mr, None) for c, cr, mr in p.containers))
            for p in fl.pods
        ]  # fmt: skip
        t0 = time.monotonic()
        day = [start + DAY]

        def tell(t: int, samples: int) -> None:
            if t >= day[0]:
                day[0] += DAY
                progress.info(
                    "backfilling",
                    extra=fields(day=f"{(t - start) / DAY:.0f}/{args.days:g}", samples=samples,
                                 seconds=round(time.monotonic() - t0, 1)),
                )  # fmt: skip

        n = backfill(
            store, pods, fl.pod_of, fl.names, simfleet.cycles(fl, start, end + 1, args.resolution),
            nodes=fl.node_names, progress=tell,
        )  # fmt: skip
        size = store.size_bytes()
    finally:
        store.close()
    print(
        f"{args.db}: {args.days:g} days of {len(fl.pods)} pods ({args.workloads} workloads) on {args.nodes} nodes, "
        f"{n} samples, {size / 1e6:.1f} MB, {time.monotonic() - t0:.0f} s"
    )
    return 0
