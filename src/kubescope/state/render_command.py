"""``kubescope render``: state metrics for Kubernetes objects in JSON or YAML files, no cluster needed.

Accepts single objects, ``List``/``<Kind>List`` objects and multi-document YAML, from several files
(``-`` reads standard input). Each object is matched to a resource by its ``apiVersion`` group and
``kind``; the same metric flags as ``state-metrics`` apply (allow/deny/opt-in lists, label and
annotation allowlists). Output is what a scrape of an exporter holding exactly these objects
returns (resources in name order, families in KSM's order).

Input is read within bounds (:mod:`kubescope.state.documents`: size, nesting, YAML aliases). As
the exporter skips an object it cannot decode or render and keeps serving the rest, so does
``render``: each file, document or object that fails is named on standard error, every other
object is rendered, and the exit status is 1. Bad flags or a bad Custom Resource State
configuration exit with 2 before anything is read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

import msgspec

from kubescope.errors import ConfigError
from kubescope.model.quantity import QuantityError, parse
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
from kubescope.state.documents import InputError, documents
from kubescope.state.family import ResourceSpec
from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object, render_text

DEFAULT_MAX_FILE_SIZE = "1Gi"


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
    p.add_argument(
        "--max-file-size",
        default=DEFAULT_MAX_FILE_SIZE,
        help="largest file (or standard input) read, as a quantity such as 512Mi (default: %(default)s)",
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


def _objects(where: str, doc: Any) -> Iterator[tuple[str, dict[str, Any]] | InputError]:
    """The objects of a document (Lists unpacked), and an error for each item that is not one."""
    stack: list[Any] = [doc]
    while stack:  # not recursive: a List of Lists may nest as deep as the document does
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            yield InputError(
                f"{where}: expected Kubernetes objects (maps with apiVersion and kind), got {type(item).__name__}"
            )
            continue
        kind = str(item.get("kind", ""))
        if kind.endswith("List") and isinstance(item.get("items"), list):
            items = []
            for member in item["items"]:
                if isinstance(member, dict):
                    member = dict(member)
                    member.setdefault(
                        "kind", kind[: -len("List")] if kind != "List" else member.get("kind", "")
                    )
                    member.setdefault("apiVersion", item.get("apiVersion", ""))
                items.append(member)
            stack.extend(reversed(items))
            continue
        yield where, item


def _gvk(obj: dict[str, Any]) -> tuple[str, str, str]:
    api = str(obj.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    return group, version, str(obj.get("kind", ""))


def _index() -> dict[tuple[str, str], ResourceSpec]:
    return {(spec.group, spec.kind): spec for spec in all_resources().values()}


def run(args: argparse.Namespace) -> int:
    try:
        text, failed = render_files(args)
    except ConfigError as e:
        print(f"kubescope render: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    if failed:
        print(
            f"kubescope render: {failed} file(s), document(s) or object(s) skipped (named above); "
            "the others are rendered",
            file=sys.stderr,
        )
        return 1
    return 0


def _max_bytes(value: str) -> int:
    try:
        n = parse(value).value()
    except QuantityError as e:
        raise ConfigError(f"--max-file-size={value!r}: {e}") from None
    if n <= 0:
        raise ConfigError(f"--max-file-size={value!r}: must be positive, e.g. 512Mi")
    return n


def _object_name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ns, name = meta.get("namespace") or "", meta.get("name") or ""
    return f"{obj.get('kind') or 'object'} {ns}/{name}" if ns else f"{obj.get('kind') or 'object'} {name}"


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


def render_files(args: argparse.Namespace) -> tuple[str, int]:
    """The exposition of every usable object in the files, and how many inputs failed (each named
    on standard error). Raises :class:`ConfigError` for bad flags or configuration."""
    index = _index()
    settings = st.from_args(
        args,
        {"resources": args.resources or ",".join(all_resources())},
    )
    max_bytes = _max_bytes(args.max_file_size)
    enabled = set(settings.resources)
    crs_config, _ = custom.load_config(settings)
    if crs_config is not None:
        custom.log_warnings(crs_config)
    failed = 0

    def fail(message: str) -> None:
        nonlocal failed
        failed += 1
        print(f"kubescope render: {message}", file=sys.stderr)

    objects: list[tuple[str, dict[str, Any]]] = []
    for path in args.files:
        for doc in documents(path, max_bytes):
            if isinstance(doc, InputError):
                fail(str(doc))
                continue
            for found in _objects(doc.where, doc.value):
                if isinstance(found, InputError):
                    fail(str(found))
                else:
                    objects.append(found)
    custom_specs = _custom_specs(crs_config, [obj for _, obj in objects], index) if crs_config else {}
    decoded: dict[str, list[Any]] = {}
    where: dict[int, str] = {}  # id(decoded object) -> where it came from, for render errors
    for src, obj in objects:
        group, version, kind = _gvk(obj)
        cspec = custom_specs.get((group, version, kind))
        spec: ResourceSpec | None = cspec
        if spec is None:
            spec = index.get((group, kind))
            if spec is None:
                api = str(obj.get("apiVersion", ""))
                print(
                    f"kubescope render: {src}: skipping {obj.get('kind')!r} ({api or 'no apiVersion'}): "
                    "no state metrics for this kind",
                    file=sys.stderr,
                )
                continue
            if spec.name not in enabled:
                continue
        try:
            item = cspec.decode(msgspec.json.encode(obj)) if cspec else decode_object(spec, obj)
        except (msgspec.ValidationError, msgspec.DecodeError, TypeError, RecursionError) as e:
            fail(f"{src}: {_object_name(obj)} is malformed: {e}")
            continue
        decoded.setdefault(spec.name, []).append(item)
        where[id(item)] = f"{src}: {_object_name(obj)}"

    def render_failed(obj: Any, e: Exception) -> None:
        fail(f"{where.get(id(obj), '?')} cannot be rendered: {e!r}"[:500])

    by_name: dict[str, ResourceSpec] = {**all_resources(), **{cs.name: cs for cs in custom_specs.values()}}
    groups = [(by_name[r], served_families(settings, r, by_name[r]), decoded[r]) for r in sorted(decoded)]
    text = render_text(groups, openmetrics=args.format == "openmetrics", on_error=render_failed)
    return text, failed
