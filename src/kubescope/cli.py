"""The ``kubescope`` command line: one parser per subcommand, dispatching to its package.

Each subcommand lives in its own package and exposes ``configure(parser)`` (add its flags) and
``run(args) -> int`` (build a settings object from the flags, then run). Packages are imported
only when their subcommand runs, so ``kubescope simulate`` never pays for state-metrics code.

What every subcommand gets from here, present and future (``tests/test_cli_walks_every_command.py``
checks each):

* ``--help`` states every flag's default (:class:`kubescope.web.flags.DefaultsHelpFormatter`);
* a bad flag or value exits 2 with a line naming the flag: argparse's own checks, and any
  :class:`~kubescope.errors.ConfigError` that leaves ``run`` (``kubescope <command>: <message>``);
* the ports of listeners declared with :func:`kubescope.web.flags.add_listen_flags` are checked
  before ``run``: one already in use exits 2 naming its flag (and if it is taken in between, the
  server's own bind fails the same way).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kubescope import __version__
from kubescope import log as _log
from kubescope.errors import ConfigError
from kubescope.web.flags import DefaultsHelpFormatter, check_listen_ports

# subcommand -> (module providing configure/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("kubescope.demo.command", "run a simulated cluster with every kubescope server attached"),
    "simulate": ("kubescope.sim.command", "run the Kubernetes-API-compatible cluster simulator"),
    "state-metrics": (
        "kubescope.state.command",
        "export object state as Prometheus metrics (kube-state-metrics compatible)",
    ),
    "resource-metrics": (
        "kubescope.resource.command",
        "serve metrics.k8s.io from kubelet resource metrics (metrics-server compatible)",
    ),
    "custom-metrics": (
        "kubescope.custom_metrics.command",
        "serve custom and external metrics from Prometheus (prometheus-adapter compatible)",
    ),
    "history": (
        "kubescope.history.command",
        "record resource usage over time and serve a historical metrics API (recommendations, idle workloads)",
    ),
    "console": (
        "kubescope.console.command",
        "serve a web console: usage now and over time, workloads, autoscalers and event timelines",
    ),
    "events": (
        "kubescope.events.command",
        "record events into a long-term archive and serve live and archived events merged",
    ),
    "render": (
        "kubescope.state.render_command",
        "print state metrics for Kubernetes objects in JSON or YAML files",
    ),
}


NESTED: dict[tuple[str, str], tuple[str, str]] = {
    ("history", "backfill"): ("kubescope.fastforward", "HELP"),
}
"""Subcommands whose code lives above their command's package (the layering keeps the simulator
and history apart; backfilling needs both): (command, subcommand) -> (module, its help's name)."""


def _add_logging(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("logging")
    g.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: %(default)s; quiet unless something needs attention)",
    )
    g.add_argument(
        "--log-format",
        default="logfmt",
        choices=["logfmt", "json"],
        help="log line format (default: %(default)s)",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubescope",
        description="Kubernetes instrumentation in one tool: state metrics, resource metrics and a cluster simulator.",
    )
    parser.add_argument("--version", action="version", version=f"kubescope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=DefaultsHelpFormatter)
        if only is None or only == name:
            mod = importlib.import_module(module)
            mod.configure(p)
            _add_logging(p)
            _add_nested(name, p)
    return parser


def _add_nested(command: str, p: argparse.ArgumentParser) -> None:
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]  # argparse keeps them here
    for (cmd, name), (module, help_attr) in NESTED.items():
        if cmd == command and subs:
            mod = importlib.import_module(module)
            help_text = getattr(mod, help_attr)
            q = subs[0].add_parser(name, help=help_text, description=help_text)
            mod.configure(q)
            _add_logging(q)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # import only the chosen subcommand's package: the first positional argument names it
    only = next((a for a in argv if not a.startswith("-")), None)
    if only not in COMMANDS:
        only = None
    if only is None:
        parser = build_parser(only="")
        if not argv:
            parser.print_help()
            return 2
        parser.parse_args(argv)
        return 2
    parser = build_parser(only=only)
    args = parser.parse_args(argv)
    _log.setup(args.log_level, args.log_format)
    nested = NESTED.get((args.command, str(getattr(args, f"{args.command}_command", None) or "")))
    mod = importlib.import_module(nested[0] if nested else COMMANDS[args.command][0])
    try:
        if not getattr(args, f"{args.command}_command", None):  # a subcommand answers and exits: no listener
            check_listen_ports(args)
        rc: int = mod.run(args)
    except ConfigError as e:  # a flag's value, wherever it was found wrong (a port in use included)
        print(f"kubescope {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return rc
