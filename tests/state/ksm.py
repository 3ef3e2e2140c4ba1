"""Test helpers that compare exposition text the way kube-state-metrics' own tests do.

KSM's ``compareOutput`` strips indentation and blank lines, sorts the labels inside every sample
line and sorts all lines, so neither line order nor label order is tested there. We check label
order separately (:func:`label_names`), since real consumers see it.

:func:`render` gives what ``kubescope render`` writes, and checks on every call that the exporter
serves the same bytes: the objects go through its store (as a list page and as single updates,
compressed in blocks) and a gzip scrape (:func:`served_text`). Every golden test thereby tests
both paths.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubescope.state.allowlist import KeyAllowList
from kubescope.state.exposition import scrape_chunks
from kubescope.state.family import Family, FamilyOptions, ResourceSpec
from kubescope.state.registry import all_resources
from kubescope.state.render import decode_object, render_text
from kubescope.state.store import ResourceStore

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_line(line: str) -> tuple[str, list[tuple[str, str]], str]:
    m = _LINE.match(line)
    assert m, f"not a sample line: {line!r}"
    name, labels, value = m.groups()
    pairs = _PAIR.findall(labels or "")
    rebuilt = ",".join(f'{k}="{v}"' for k, v in pairs)
    assert rebuilt == (labels or ""), f"malformed labels in {line!r}"
    return name, pairs, value


def normalize(text: str) -> list[str]:
    """KSM's comparison form: trimmed, non-empty lines, labels sorted within a line, lines sorted."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            name, pairs, value = parse_line(line)
            line = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(pairs)) + "} " + value
        out.append(line)
    return sorted(out)


def filter_names(text: str, names: Iterable[str]) -> str:
    """KSM's MetricNames filter: keep lines that contain any of the names (substring match)."""
    names = list(names)
    return "\n".join(line for line in text.splitlines() if any(n in line for n in names))


def options(labels: Sequence[str] = (), annotations: Sequence[str] = ()) -> FamilyOptions:
    return FamilyOptions(labels=KeyAllowList(tuple(labels)), annotations=KeyAllowList(tuple(annotations)))


def render(
    resource: str,
    objs: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    labels: Sequence[str] = (),
    annotations: Sequence[str] = (),
) -> str:
    """Render JSON-like objects of one resource with every family (no allow/deny filtering)."""
    spec: ResourceSpec = all_resources()[resource]
    if isinstance(objs, Mapping):
        objs = [objs]
    fams = spec.families(options(labels, annotations))
    return render_checked(spec, fams, [decode_object(spec, o) for o in objs])


def render_checked(
    spec: ResourceSpec, fams: Sequence[Family], objs: Sequence[Any], openmetrics: bool = False
) -> str:
    """``render_text`` of decoded objects, after checking that the exporter serves the same."""
    text = render_text([(spec, fams, objs)], openmetrics)
    if len({o.metadata.uid for o in objs}) == len(objs):  # else the store keeps the last one
        for as_page in (True, False):
            served = served_text(spec, fams, objs, as_page, openmetrics)
            assert served == text, f"the exporter serves other text than render (as_page={as_page})"
    return text


def served_text(
    spec: ResourceSpec, fams: Sequence[Family], objs: Sequence[Any], as_page: bool, openmetrics: bool = False
) -> str:
    """What the exporter serves for these objects: stored (a list page or one update each), flushed
    into compressed blocks of 2 objects, and scraped with gzip."""
    store = ResourceStore(spec, fams, block_size=2)
    if as_page:
        store.upsert_page(objs)
    else:
        for o in objs:
            store.upsert(o)
    store.flush_sync()

    async def scrape() -> bytes:
        chunks = scrape_chunks([store.snapshot()], openmetrics=openmetrics, gz=True)
        return b"".join([p async for c in chunks for p in c])

    return gzip.decompress(asyncio.run(scrape())).decode()


def assert_ksm_equal(got: str, want: str, names: Iterable[str] | None = None) -> None:
    """Assert as KSM's generateMetricsTestCase does (optionally filtered by metric names)."""
    if names is not None:
        names = list(names)
        got = filter_names(got, names)
        want = filter_names(want, names)
    g, w = normalize(got), normalize(want)
    missing = [x for x in w if x not in g]
    extra = [x for x in g if x not in w]
    assert g == w, (
        "exposition differs\nmissing:\n  " + "\n  ".join(missing) + "\nextra:\n  " + "\n  ".join(extra)
    )


def sample_value(text: str, name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The value of the one sample of ``name`` whose labels include ``labels``; None if absent."""
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        n, pairs, value = parse_line(line)
        if n != name:
            continue
        d = dict(pairs)
        if all(d.get(k) == v for k, v in (labels or {}).items()):
            found.append(float(value))
    assert len(found) <= 1, f"{len(found)} samples of {name} match {labels}"
    return found[0] if found else None


def label_names(text: str, name: str) -> list[list[str]]:
    """Label names, in emitted order, of every sample of ``name``."""
    out = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            n, pairs, _ = parse_line(line)
            if n == name:
                out.append([k for k, _ in pairs])
    return out
