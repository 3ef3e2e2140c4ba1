"""The registry of state-metrics resources, discovered from :mod:`kubescope.state.families`.

Every module in that package that defines ``RESOURCE`` (a :class:`ResourceSpec`) is registered;
two modules claiming the same resource name, or one resource with a duplicate family name, is a
programming error reported at import time with both module names.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from kubescope.state import families as _families_pkg
from kubescope.state.family import FamilyOptions, ResourceSpec


@cache
def all_resources() -> dict[str, ResourceSpec]:
    """Every known resource by its ``--resources`` name, sorted by name."""
    found: dict[str, tuple[str, ResourceSpec]] = {}
    for info in pkgutil.iter_modules(_families_pkg.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{_families_pkg.__name__}.{info.name}")
        spec = getattr(mod, "RESOURCE", None)
        if spec is None:
            continue
        if not isinstance(spec, ResourceSpec):
            raise TypeError(f"{mod.__name__}.RESOURCE is not a ResourceSpec")
        if spec.name in found:
            raise ValueError(
                f"resource {spec.name!r} is declared twice: in {found[spec.name][0]} and {mod.__name__}"
            )
        names = [f.name for f in spec.families(FamilyOptions())]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"{mod.__name__}: duplicate family names {sorted(dup)}")
        found[spec.name] = (mod.__name__, spec)
    return {name: found[name][1] for name in sorted(found)}


def default_resource_names() -> list[str]:
    return [n for n, s in all_resources().items() if s.default]
