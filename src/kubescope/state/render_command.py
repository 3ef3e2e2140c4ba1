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
from kubescope.state import custom
from kubescope.state import settings as st
from kubescope.state.app import served_families
from kubescope.state.crs import (
    CRSConfig,
    CustomResourceSpec,
    DiscoveredKind,
    compile_resource,
    pluralize,
    resolve,
)
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
    g.add_argument(
        "--custom-resource-state-config",
        default="",
        help="Custom Resource State configuration (inline YAML), as for state-metrics",
    )
    g.add_argument(
        "--custom-resource-state-config-file",
        default="",
        help="Custom Resource State configuration file; the files' custom resources are rendered with it",
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


def _gvk(obj: dict[str, Any]) -> tuple[str, str, str]:
    api = str(obj.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    return group, version, str(obj.get("kind", ""))


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


def _custom_specs(
    config: CRSConfig, objects: list[dict[str, Any]], index: dict[tuple[str, str], ResourceSpec]
) -> dict[tuple[str, str, str], CustomResourceSpec]:
    """Custom resources by group/version/kind: with no CRDs here, the objects' own kinds (those
    without built-in metrics) stand for what discovery would find."""
    kinds = set()
    for obj in objects:
        group, version, kind = _gvk(obj)
        if (group, kind) not in index:
            namespaced = bool((obj.get("metadata") or {}).get("namespace"))
            kinds.add(DiscoveredKind(group, version, kind, pluralize(kind).lower(), namespaced))
    specs = (
        compile_resource(r)
        for r in resolve(config, sorted(kinds, key=lambda k: (k.group, k.version, k.kind)))
    )
    return {(cs.group, cs.version, cs.kind): cs for cs in specs}


def render_files(args: argparse.Namespace) -> str:
    index = _index()
    settings = st.from_args(
        args,
        {"resources": args.resources or ",".join(all_resources())},
    )
    enabled = set(settings.resources)
    crs_config, _ = custom.load_config(settings)
    if crs_config is not None:
        custom.log_warnings(crs_config)
    objects = [so for path in args.files for name, doc in _documents(path) for so in _objects(name, doc)]
    custom_specs = _custom_specs(crs_config, [obj for _, obj in objects], index) if crs_config else {}
    found: dict[str, list[Any]] = {}
    for src, obj in objects:
        group, version, kind = _gvk(obj)
        cspec = custom_specs.get((group, version, kind))
        if cspec is not None:
            found.setdefault(cspec.name, []).append(cspec.decode(json.dumps(obj)))
            continue
        api = str(obj.get("apiVersion", ""))
        spec = index.get((group, kind))
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
    by_name: dict[str, ResourceSpec] = {**all_resources(), **{cs.name: cs for cs in custom_specs.values()}}
    groups = [(by_name[r], served_families(settings, r, by_name[r]), found[r]) for r in sorted(found)]
    return render_text(groups, openmetrics=args.format == "openmetrics")
