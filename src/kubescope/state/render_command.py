"""``kubescope render``: state metrics for Kubernetes objects in JSON or YAML files, no cluster needed.

Accepts single objects, ``List``/``<Kind>List`` objects and multi-document YAML, from several files
(``-`` reads standard input). Each object is matched to a resource by its ``apiVersion`` group and
``kind``; the same metric flags as ``state-metrics`` apply (allow/deny/opt-in lists, label and
annotation allowlists). Output is what a scrape of an exporter holding exactly these objects
returns (resources in name order, families in KSM's order).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import yaml

from kubescope.errors import ConfigError
from kubescope.state import settings as st
from kubescope.state.family import ResourceSpec
from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object, render_text


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="JSON or YAML files with objects or Lists ('-' = stdin)"
    )
    p.add_argument(
        "--format",
        choices=["text", "openmetrics"],
        default="text",
        help="exposition format (default: %(default)s, as a Prometheus text scrape)",
    )
    g = p.add_argument_group("metric selection (as for state-metrics)")
    for flag in (
        "--metric-allowlist",
        "--metric-denylist",
        "--metric-opt-in-list",
        "--metric-labels-allowlist",
        "--metric-annotations-allowlist",
    ):
        g.add_argument(flag, default="", help=f"same as state-metrics {flag}")
    g.add_argument(
        "--resources",
        default=None,
        help="render only these resources (comma-separated plural names); default: every resource found",
    )


def _documents(path: str) -> Iterator[tuple[str, Any]]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from e
    name = "<stdin>" if path == "-" else path
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            yield name, json.loads(text)
            return
        for doc in yaml.safe_load_all(text):
            if doc is not None:
                yield name, doc
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{name}: not valid JSON or YAML: {e}") from e


def _objects(name: str, doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(doc, list):
        for d in doc:
            yield from _objects(name, d)
        return
    if not isinstance(doc, dict):
        raise ConfigError(
            f"{name}: expected Kubernetes objects (maps with apiVersion and kind), got {type(doc).__name__}"
        )
    kind = str(doc.get("kind", ""))
    if kind.endswith("List") and isinstance(doc.get("items"), list):
        for item in doc["items"]:
            if isinstance(item, dict):
                item = dict(item)
                item.setdefault("kind", kind[: -len("List")] if kind != "List" else item.get("kind", ""))
                item.setdefault("apiVersion", doc.get("apiVersion", ""))
            yield from _objects(name, item)
        return
    yield name, doc


def _index() -> dict[tuple[str, str], ResourceSpec]:
    return {(spec.group, spec.kind): spec for spec in all_resources().values()}


def run(args: argparse.Namespace) -> int:
    try:
        text = render_files(args)
    except ConfigError as e:
        print(f"kubescope render: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


def render_files(args: argparse.Namespace) -> str:
    index = _index()
    settings = st.from_args(
        args,
        {"resources": args.resources or ",".join(all_resources())},
    )
    enabled = set(settings.resources)
    found: dict[str, list[Any]] = {}
    for path in args.files:
        for name, doc in _documents(path):
            for src, obj in _objects(name, doc):
                api = str(obj.get("apiVersion", ""))
                group = api.split("/", maxsplit=1)[0] if "/" in api else ""
                spec = index.get((group, str(obj.get("kind", ""))))
                if spec is None:
                    print(
                        f"kubescope render: {src}: skipping {obj.get('kind')!r} ({api or 'no apiVersion'}): "
                        "no state metrics for this kind",
                        file=sys.stderr,
                    )
                    continue
                if spec.name not in enabled:
                    continue
                try:
                    found.setdefault(spec.name, []).append(decode_object(spec, obj))
                except msgspec.ValidationError as e:
                    meta = obj.get("metadata") or {}
                    raise ConfigError(
                        f"{src}: {spec.kind} {meta.get('namespace', '')}/{meta.get('name', '')} is malformed: {e}"
                    ) from e
    groups = [(all_resources()[r], settings.families(r), found[r]) for r in sorted(found)]
    return render_text(groups, openmetrics=args.format == "openmetrics")
