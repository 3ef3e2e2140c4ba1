"""``kubescope events``: record events into the archive and serve the merged view;
``kubescope events query``: print an object's (or a namespace's) history in ``kubectl events``
columns.

Exit codes: 0 after a signal (server) or an answer (query), 1 when the archive, the Kubernetes
API or the serving set-up fails, 2 for invalid flags or a bad question (one line naming the flag
and the fix).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from typing import Any

from kubescope.apiserver import options as apiserver_options
from kubescope.errors import BindError, ConfigError, KubeError
from kubescope.events import retention
from kubescope.events.app import EventsServer, Settings
from kubescope.events.model import MAX_NOTE_BYTES
from kubescope.events.recorder import RecorderSettings
from kubescope.events.selection import BadQuery, parse_when
from kubescope.kube.client import KubeClient
from kubescope.kube.config import KubeSettings, add_kube_flags
from kubescope.memory import fix_mmap_threshold
from kubescope.web.flags import LISTEN
from kubescope.web.server import run as run_loop

_SIZE = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|K|M|G|T)?B?$")
_MULT = {
    None: 1,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


def _duration(value: str) -> float:
    m = re.match(r"^(\d+)(s|m|h|d|w)$", value)
    if not m:
        raise argparse.ArgumentTypeError(f"{value!r}: a duration like 90s, 15m, 6h, 30d, 2w (0s: forever)")
    return float(int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)])


def _size(value: str) -> int:
    m = _SIZE.match(value)
    if not m:
        raise argparse.ArgumentTypeError(
            f"{value!r}: a size like 500Mi, 20Gi or 1000000 (bytes; 0: no bound)"
        )
    return int(m.group(1)) * _MULT[m.group(2)]


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Record Kubernetes events (events.k8s.io/v1, or core/v1 where that is all a cluster serves) into a "
        "long-term archive, exactly once across restarts, and serve live and archived events merged as the "
        "aggregated API events.kubescope.io/v1. 'events query' prints an object's history."
    )
    p.add_argument("--database", default="events.db",
                   help="the archive: a SQLite file path or a postgresql:// URL (default: %(default)s)")  # fmt: skip
    sub = p.add_subparsers(dest="events_command", metavar="{query}")
    q = sub.add_parser("query", help="print events in kubectl events columns", description="print events in "
                       "kubectl events columns: live and archived, merged")  # fmt: skip
    q.add_argument("--database", default=None,
                   help="read this archive (merged with the API server's live events when a kubeconfig is "
                   "given) instead of asking the events server through the API server")  # fmt: skip
    q.add_argument(
        "--for", dest="for_object", default="", help="KIND/NAME: only events about this object (pod/web-0)"
    )
    q.add_argument("-n", "--namespace", default="", help="only this namespace")
    q.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    q.add_argument("--since", default="", help="from this time: RFC 3339 or a duration back (7d)")
    q.add_argument("--until", default="", help="up to this time: RFC 3339 or a duration back")
    q.add_argument("--types", default="", help="only these types (Normal,Warning)")
    q.add_argument("--reason", default="", help="only this reason")
    q.add_argument("-o", "--output", choices=["table", "json"], default="table")
    add_kube_flags(q)
    # a one-shot client: the server's listen ports are not checked (6443 may well be taken)
    q.set_defaults(**{LISTEN: []})
    g = p.add_argument_group("recording")
    g.add_argument("--namespace", action="append", default=[], dest="namespaces",
                   help="record only this namespace (repeat for a shard of several; default: all)")  # fmt: skip
    g.add_argument("--exclude-namespace", action="append", default=[], dest="exclude",
                   help="record every namespace but this one (repeat)")  # fmt: skip
    g.add_argument("--events-api", default="auto", choices=["auto", "events.k8s.io/v1", "v1"],
                   help="which API to watch (default: %(default)s: events.k8s.io/v1 where served, else core v1)")  # fmt: skip
    g.add_argument("--no-record", action="store_true", help="only serve the archive (a reader replica)")
    g.add_argument("--retention", type=_duration, default=30 * 86400.0,
                   help="keep events last seen within this long (default: 30d; 0s: forever)")  # fmt: skip
    g.add_argument("--retention-size", type=_size, default=0,
                   help="keep the archive under this size, oldest events first (e.g. 20Gi; default: no bound)")  # fmt: skip
    g.add_argument("--buffer-limit", type=int, default=RecorderSettings.buffer_limit,
                   help="events held in memory while the archive is slow or down (default: %(default)s)")  # fmt: skip
    g.add_argument("--max-note-bytes", type=int, default=MAX_NOTE_BYTES,
                   help="events with longer notes are refused and counted (default: %(default)s)")  # fmt: skip
    apiserver_options.add_flags(p, secure_port=6443, cert_dir="apiserver.local.config/certificates")
    add_kube_flags(p)


def _split(v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(",") if x.strip())


def run(args: argparse.Namespace) -> int:
    if args.events_command == "query":
        return _query(args)
    try:
        if args.buffer_limit < 100:
            raise ConfigError(f"--buffer-limit={args.buffer_limit}: at least 100")
        settings = Settings(
            database=args.database, namespaces=tuple(args.namespaces), exclude_namespaces=tuple(args.exclude),
            api={"auto": "auto", "v1": "v1"}.get(args.events_api, "events.k8s.io/v1"), record=not args.no_record,
            retention=retention.Retention(args.retention, args.retention_size),
            recorder=RecorderSettings(buffer_limit=args.buffer_limit, max_note_bytes=args.max_note_bytes),
            apiserver=apiserver_options.from_args(args),
        )  # fmt: skip
        kube = KubeSettings.from_args(args)
    except ConfigError as e:
        print(f"kubescope events: {e}", file=sys.stderr)
        return 2
    # before the first large buffer, as resource-metrics does (kubescope.memory): RSS stays bounded
    fix_mmap_threshold()
    return run_loop(_serve(settings, kube))


async def _serve(settings: Settings, kube: KubeSettings) -> int:
    try:
        client = await KubeClient.connect(kube)
    except (ConfigError, KubeError) as e:
        print(f"kubescope events: cannot reach the Kubernetes API: {e}", file=sys.stderr)
        return 1
    events: EventsServer | None = None
    try:
        events = EventsServer(settings, client)
        server = await events.start()
    except BindError as e:
        print(f"kubescope events: {e}", file=sys.stderr)
        await _close(events, client)
        return 2
    except (ConfigError, KubeError, OSError) as e:
        print(f"kubescope events: {e}", file=sys.stderr)
        await _close(events, client)
        return 1
    try:
        return await server.serve()
    finally:
        await client.close()


async def _close(events: EventsServer | None, client: KubeClient) -> None:
    if events is not None:
        if events.server is not None:
            await events.server.stop()
        else:
            await events._close()
    await client.close()


# -- query ------------------------------------------------------------------------------------------


def _question(args: argparse.Namespace) -> dict[str, str]:
    """The query's parameters as the API takes them (checked here: exit 2 on a bad one)."""
    terms = []
    if args.for_object:
        kind, _, name = args.for_object.partition("/")
        if not name or not kind:
            raise BadQuery(f"--for={args.for_object}: give KIND/NAME, e.g. pod/web-0")
        terms += [f"regarding.kind={_KINDS.get(kind.lower(), kind)}", f"regarding.name={name}"]
    if args.reason:
        terms.append(f"reason={args.reason}")
    types = _split(args.types)
    if len(types) == 1:
        terms.append(f"type={types[0]}")
    params = {"fieldSelector": ",".join(terms)} if terms else {}
    now = time.time()
    for key in ("since", "until"):
        value = getattr(args, key)
        if value:
            parse_when(value, f"--{key}", now)
            params[key] = value
    return params


_KINDS = {"pod": "Pod", "pods": "Pod", "po": "Pod", "node": "Node", "nodes": "Node", "no": "Node",
          "deployment": "Deployment", "deploy": "Deployment", "replicaset": "ReplicaSet", "rs": "ReplicaSet",
          "statefulset": "StatefulSet", "sts": "StatefulSet", "daemonset": "DaemonSet", "ds": "DaemonSet",
          "job": "Job", "cronjob": "CronJob", "service": "Service", "svc": "Service",
          "horizontalpodautoscaler": "HorizontalPodAutoscaler", "hpa": "HorizontalPodAutoscaler",
          "persistentvolumeclaim": "PersistentVolumeClaim", "pvc": "PersistentVolumeClaim"}  # fmt: skip


def _query(args: argparse.Namespace) -> int:
    from kubescope.events.render import kubectl_events

    try:
        params = _question(args)
        items = asyncio.run(_ask(args, params))
    except BadQuery as e:
        print(f"kubescope events query: {e}", file=sys.stderr)
        return 2
    except (ConfigError, KubeError) as e:
        print(f"kubescope events query: {e}", file=sys.stderr)
        return 1
    types = set(_split(args.types))
    if len(types) > 1:
        items = [it for it in items if it[0].type in types]
    if args.output == "json":
        from kubescope.events.render import event_json

        print(json.dumps({"items": [event_json(r, expired=x) for r, x in items]}, indent=2))
    else:
        sys.stdout.write(kubectl_events(items, all_namespaces=args.all_namespaces or not args.namespace))
    return 0


async def _ask(args: argparse.Namespace, params: dict[str, str]) -> list[Any]:
    from kubescope.events import query
    from kubescope.events.api import EventsAPI
    from kubescope.events.merge import merge
    from kubescope.events.render import GROUP, VERSION
    from kubescope.events.selection import parse_query
    from kubescope.events.store import EventStore

    ns = "" if args.all_namespaces else args.namespace
    want_live = bool(args.kubeconfig or args.apiserver) or not args.database
    client = await KubeClient.connect(KubeSettings.from_args(args)) if want_live else None
    try:
        if args.database:
            store = EventStore(args.database, read_only=True)
            try:
                q = parse_query(params, ns, time.time())
                archived = await asyncio.to_thread(query.search, store, q)
                live = await EventsAPI(store, client).live(q) if client is not None else None
            finally:
                store.close()
            items, _ = merge(archived, live, after=None, limit=0, archive_full=False)
            return items
        assert client is not None
        path = f"/apis/{GROUP}/{VERSION}" + (f"/namespaces/{ns}" if ns else "") + "/events"
        import msgspec

        from kubescope.events.model import V1Event, to_record

        out: list[Any] = []
        cont = ""
        while True:
            page = {**params, "limit": "1000", **({"continue": cont} if cont else {})}
            body = msgspec.json.decode(await client.get(path, page))
            for item in body.get("items", []):
                expired = (item["metadata"].get("annotations") or {}).get(f"{GROUP}/expired") == "true"
                out.append((to_record(msgspec.convert(item, V1Event)), expired))
            cont = body.get("metadata", {}).get("continue", "")
            if not cont:
                return out
    finally:
        if client is not None:
            await client.close()
