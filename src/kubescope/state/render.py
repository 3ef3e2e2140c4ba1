"""Render metric text for in-memory objects: the pure path behind ``kubescope render`` and tests.

The server does not use this module for scraping (it keeps compressed, pre-rendered blocks); it
shares :func:`render_object` so both produce the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from kubescope.state.family import Family, ResourceSpec


def render_object(spec: ResourceSpec, families: Sequence[Family], obj: Any) -> list[str]:
    """Every family's lines for one object, in family order ("" where a family has none)."""
    ident = spec.identity(obj)
    return [f.fn(obj, f.name + "{" + ident) for f in families]


def decode_object(spec: ResourceSpec, data: Any) -> Any:
    """Decode a JSON-like value (from JSON or YAML) into the resource's Struct."""
    return msgspec.json.decode(msgspec.json.encode(data), type=spec.struct)


def render_text(
    groups: Iterable[tuple[ResourceSpec, Sequence[Family], Sequence[Any]]],
    openmetrics: bool = False,
) -> str:
    """Full exposition for objects grouped per resource, as a KSM scrape would show them.

    Resources are written in the order given (KSM sorts them by name); a resource with no objects
    writes nothing; a resource with objects writes every family header, even for families
    without samples. A header already written by another resource is not repeated.
    """
    out: list[str] = []
    seen: set[str] = set()
    for spec, families, objs in groups:
        if not objs:
            continue
        rendered = [render_object(spec, families, o) for o in objs]
        for i, fam in enumerate(families):
            if fam.name not in seen:
                out.append(fam.header(openmetrics))
                seen.add(fam.name)
            out.extend(r[i] for r in rendered)
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out)
