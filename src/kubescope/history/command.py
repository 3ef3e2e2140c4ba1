"""``kubescope history``: record usage and serve the history API; ``history recommend`` and
``history idle`` print the two questions as tables.

Exit codes: 0 after a signal (server) or an answer (tables), 1 when the store, the Kubernetes API
or the serving set-up fails, 2 for invalid flags (one line naming the flag and the fix).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from typing import Any

from kubescope.errors import BindError, ConfigError, KubeError
from kubescope.history.api import GROUP, VERSION
from kubescope.history.app import HistoryServer, ServeSettings, Settings
from kubescope.history.promql import KUBE_PROMETHEUS_SELECTOR, PromQLSettings
from kubescope.history.promsource import BackendSettings
from kubescope.history.request import BadRequest, parse_duration
from kubescope.history.store import HistoryStore, Retention
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings, add_kube_flags
from kubescope.kubelet import settings as kubelet_settings
from kubescope.memory import fix_mmap_threshold
from kubescope.web import flags as web_flags
from kubescope.web import run as run_loop


def _duration(value: str) -> int:
    try:
        return parse_duration(value, "duration")
    except BadRequest as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Record CPU and memory of every node, pod and container from the Metrics API (or the kubelets) into an embedded "
        "store and serve a historical metrics API (Heapster Oldtimer's paths, recommendations, idle "
        "workloads), also as an aggregated API. 'history recommend' and 'history idle' print tables."
    )
    p.add_argument("--db", default="history.db", help="the store file (SQLite; default: %(default)s)")
    sub = p.add_subparsers(dest="history_command", metavar="{recommend,idle}")
    for name, help_text in (
        ("recommend", "print CPU and memory recommendations per workload and container"),
        ("idle", "print workloads whose CPU stayed under a threshold"),
    ):
        q = sub.add_parser(name, help=help_text, description=help_text)
        q.add_argument("--db", default=None, help="read this store file instead of asking the API server")
        q.add_argument("-n", "--namespace", default="", help="only this namespace")
        q.add_argument("-o", "--output", choices=["table", "json"], default="table")
        if name == "recommend":
            q.add_argument("--window", type=_duration, default=14 * 86400, help="history used (default: 14d)")
            q.add_argument(
                "--cpu-percentile", type=float, default=90.0, help="CPU target percentile (default: 90)"
            )
            q.add_argument(
                "--margin", type=float, default=15.0, help="safety margin in percent (default: 15)"
            )
        else:
            q.add_argument(
                "--duration", type=_duration, default=7 * 86400, help="how long idle (default: 7d)"
            )
            q.add_argument("--cpu-threshold", type=float, default=5.0, help="millicores (default: 5)")
        add_kube_flags(q)
    g = p.add_argument_group("recording")
    g.add_argument(
        "--resolution", type=_duration, default=60, help="seconds between Metrics API lists (default: 60s)"
    )
    g.add_argument(
        "--retention-raw", type=_duration, default=2 * 86400, help="raw samples kept (default: 2d)"
    )
    g.add_argument(
        "--retention-5m", type=_duration, default=14 * 86400, help="5-minute rollups kept (default: 14d)"
    )
    g.add_argument(
        "--retention-1h", type=_duration, default=90 * 86400, help="1-hour rollups kept (default: 90d)"
    )
    g.add_argument(
        "--no-record", action="store_true", help="only serve the store (a read replica or a backfilled file)"
    )
    g.add_argument(
        "--source", choices=("metrics-api", "kubelets"), default="metrics-api",
        help="metrics-api: list NodeMetrics and PodMetrics (kubescope resource-metrics or metrics-server); "
        "kubelets: scrape every kubelet's /metrics/resource (the --kubelet-* flags) (default: %(default)s)",
    )  # fmt: skip
    kubelet_settings.add_flags(p)
    b = p.add_argument_group("Prometheus-compatible backend (instead of the embedded store)")
    b.add_argument("--prometheus-url", default="",
                   help="answer from this query API (Prometheus, VictoriaMetrics, Thanos, Mimir) over the kubelets' "
                        "cAdvisor series; nothing is recorded")  # fmt: skip
    b.add_argument("--prometheus-selector", default=KUBE_PROMETHEUS_SELECTOR,
                   help="label matchers of the cAdvisor series (default: %(default)s)")  # fmt: skip
    b.add_argument("--prometheus-node-label", default="node",
                   help="the label holding the node's name (default: %(default)s)")  # fmt: skip
    b.add_argument("--prometheus-ca-file", default="", help="CA of the query API's certificate")
    b.add_argument(
        "--prometheus-token-file",
        default="",
        help="bearer token sent to the query API (re-read when it changes)",
    )
    b.add_argument("--prometheus-timeout", type=_duration, default=30, help="per query (default: 30s)")
    s = p.add_argument_group("serving")
    web_flags.add_listen_flags(
        s, host_flag="--bind-address", port_flag="--secure-port", host="0.0.0.0", port=443, what="the API",
        host_help="listening address (default: %(default)s)", port_help="HTTPS port (default: %(default)s)",
    )  # fmt: skip
    s.add_argument("--cert-dir", default="apiserver.local.config/certificates",
                   help="where a self-signed certificate is written without --tls-cert-file")  # fmt: skip
    s.add_argument("--tls-cert-file", default="", help="serving certificate (PEM)")
    s.add_argument("--tls-private-key-file", default="", help="its key (PEM)")
    s.add_argument("--client-ca-file", default="", help="CA of client certificates")
    s.add_argument(
        "--requestheader-client-ca-file", default="", help="CA of the front proxy (the aggregator)"
    )
    s.add_argument(
        "--requestheader-allowed-names", default="", help="front-proxy certificate names allowed (comma list)"
    )
    s.add_argument("--authorization-always-allow-paths", default="/healthz,/readyz,/livez",
                   help="paths served without authorization (default: %(default)s)")  # fmt: skip
    web_flags.add_bool_flag(
        s, "--authentication-skip-lookup",
        help="do not read the front proxy's CA from kube-system/extension-apiserver-authentication (default: false)",
    )  # fmt: skip
    s.add_argument("--anonymous-auth", default="true", choices=["true", "false"],
                   help="treat requests without credentials as system:anonymous (default: %(default)s)")  # fmt: skip
    add_kube_flags(p)


def _split(v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(",") if x.strip())


def from_args(args: argparse.Namespace) -> Settings:
    """The server's settings from its flags (:class:`ConfigError` naming a wrong one)."""
    errors: list[str] = []
    kubelet = kubelet_settings.from_args(args, errors)
    if args.source == "kubelets" and kubelet.request_timeout > args.resolution * 0.9:
        errors.append(
            f"--kubelet-request-timeout={args.kubelet_request_timeout} must be at most 90% of --resolution "
            f"({args.resolution}s): a cycle's scrapes end before the next cycle"
        )
    if errors:
        raise ConfigError("; ".join(errors))
    settings = Settings(
        db=args.db, resolution=float(args.resolution),
        retention=Retention(args.retention_raw, args.retention_5m, args.retention_1h),
        record=not args.no_record, source=args.source, kubelet=kubelet,
        serve=ServeSettings(
            bind_address=args.bind_address, secure_port=args.secure_port, cert_dir=args.cert_dir,
            tls_cert_file=args.tls_cert_file, tls_private_key_file=args.tls_private_key_file,
            client_ca_file=args.client_ca_file, requestheader_client_ca_file=args.requestheader_client_ca_file,
            requestheader_allowed_names=_split(args.requestheader_allowed_names),
            always_allow_paths=_split(args.authorization_always_allow_paths),
            anonymous=args.anonymous_auth == "true", skip_lookup=bool(args.authentication_skip_lookup),
        ),
    )  # fmt: skip
    if args.prometheus_url:
        backend = BackendSettings(
            url=args.prometheus_url, ca_file=args.prometheus_ca_file, token_file=args.prometheus_token_file,
            timeout=float(args.prometheus_timeout),
            promql=PromQLSettings(args.prometheus_selector, args.prometheus_node_label, int(args.resolution)),
        )  # fmt: skip
        settings = dataclasses.replace(settings, backend=backend, record=False)
    return settings


def run(args: argparse.Namespace) -> int:
    if args.history_command:
        return _question(args)
    try:
        settings = from_args(args)
        kube = KubeSettings.from_args(args)
    except ConfigError as e:
        print(f"kubescope history: {e}", file=sys.stderr)
        return 2
    # before the first large buffer, as the other servers (kubescope.memory): large per-cycle arrays
    # come from their own mmaps, given back when freed
    fix_mmap_threshold()
    return run_loop(_serve(settings, kube))


async def _serve(settings: Settings, kube: KubeSettings) -> int:
    client = None
    try:
        if settings.record or settings.backend is not None:
            client = await KubeClient.connect(kube)
        server = HistoryServer(settings, client)
    except (ConfigError, KubeError) as e:
        print(f"kubescope history: {e}", file=sys.stderr)
        if client is not None:
            await client.close()
        return 1
    try:
        try:
            await server.start()
        except BindError:
            raise  # a flag's fault: the command line answers it with exit code 2
        except (ConfigError, KubeError, OSError) as e:
            print(f"kubescope history: {e}", file=sys.stderr)
            return 1
        return await server.server.serve()
    finally:
        await server.stop()
        if client is not None:
            await client.close()


def _question(args: argparse.Namespace) -> int:
    from kubescope.history import questions

    kind = args.history_command
    if args.db:
        try:
            store = HistoryStore(args.db, read_only=True)
        except ConfigError as e:
            print(f"kubescope history {kind}: {e}", file=sys.stderr)
            return 1
        now = int(time.time())
        if kind == "recommend":
            data = questions.recommendations(
                store, questions.RecommendOptions(args.window, args.cpu_percentile / 100, args.margin / 100, args.namespace), now
            )  # fmt: skip
        else:
            data = questions.idle(
                store, questions.IdleOptions(args.duration, args.cpu_threshold, args.namespace), now
            )
        store.close()
    else:
        try:
            data = asyncio.run(_ask(args))
        except (ConfigError, KubeError) as e:
            print(f"kubescope history {kind}: {e}", file=sys.stderr)
            return 1
    if args.output == "json":
        print(json.dumps(data, indent=2))
    else:
        print(table_recommend(data) if kind == "recommend" else table_idle(data), end="")
    return 0


async def _ask(args: argparse.Namespace) -> Any:
    ns = f"/namespaces/{args.namespace}" if args.namespace else ""
    if args.history_command == "recommend":
        path = f"/apis/{GROUP}/{VERSION}{ns}/recommendations"
        params = {
            "window": f"{args.window}s",
            "cpuPercentile": str(args.cpu_percentile),
            "margin": str(args.margin),
        }
    else:
        path = f"/apis/{GROUP}/{VERSION}{ns}/idle"
        params = {"duration": f"{args.duration}s", "cpuThreshold": str(args.cpu_threshold)}
    async with await KubeClient.connect(KubeSettings.from_args(args)) as client:
        return json.loads(await client.get(path, params))


def _rows(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
    return "\n".join(lines) + "\n"


def table_recommend(data: dict[str, Any]) -> str:
    header = [
        "NAMESPACE",
        "WORKLOAD",
        "CONTAINER",
        "CPU REQUEST",
        "CPU TARGET",
        "MEMORY REQUEST",
        "MEMORY TARGET",
        "SAMPLES",
    ]
    rows = []
    for item in data.get("items", []):
        for rec, detail in zip(
            item["status"]["recommendation"]["containerRecommendations"], item["containers"], strict=True
        ):
            cur = detail["current"]["requests"]
            rows.append([
                item["namespace"], f"{item['kind'].lower()}/{item['name']}", rec["containerName"],
                cur.get("cpu", "-"), rec["target"].get("cpu", "-"), cur.get("memory", "-"), rec["target"].get("memory", "-"),
                str(detail["samples"]["cpu"]),
            ])  # fmt: skip
    w = data.get("window", {})
    return f"window {w.get('start')} .. {w.get('end')}\n" + _rows(header, rows)


def table_idle(data: dict[str, Any]) -> str:
    header = ["NAMESPACE", "WORKLOAD", "PODS", "CPU MAX", "CPU AVG", "SINCE"]
    rows = [
        [i["namespace"], f"{i['kind'].lower()}/{i['name']}", str(i["pods"]), f"{i['cpu']['maximum']:g}m",
         f"{i['cpu']['average']:g}m", i["since"]]
        for i in data.get("items", [])
    ]  # fmt: skip
    w = data.get("window", {})
    return f"window {w.get('start')} .. {w.get('end')}\n" + _rows(header, rows)
