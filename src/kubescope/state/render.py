"""Render metric text for objects: the one path from a decoded object to its families' texts.

:class:`ObjectRenderer` compiles a resource's served families (their own functions and the
:class:`~kubescope.state.family.Group` functions of grouped ones) into one function; the store
renders every update with it, and :func:`render_text` (``kubescope render``, the golden tests)
renders with the same one, so both produce the same bytes by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from kubescope.state.family import Family, Group, Member, ResourceSpec

TextsFn = Callable[[Any, str], list[str]]
"""``texts(obj, identity) -> [text of each family]``, in family order."""


def _compile(families: Sequence[Family]) -> TextsFn:
    """One function writing every family's text for an object, in family order.

    Each group is called once, with the prefixes of its members that are served (``""`` for the
    others), at the place of its first served member; the texts are put back in family order when
    a group's members are not consecutive there.
    """
    # a unit: (function, prefix or prefixes, picks); picks None = a family's own function,
    # () = every member of a group in member order, else the member indexes to keep, in order
    units: list[tuple[Callable[..., Any], Any, tuple[int, ...] | None]] = []
    positions: list[list[int]] = []  # per unit: the family positions of its texts
    group_unit: dict[Group, int] = {}
    for pos, fam in enumerate(families):
        src = fam.fn
        if not isinstance(src, Member):
            units.append((src, fam.name + "{", None))
            positions.append([pos])
            continue
        u = group_unit.get(src.group)
        if u is None:
            u = group_unit[src.group] = len(units)
            units.append((src.group.fn, [""] * len(src.group.members), ()))
            positions.append([])
        fn, prefixes, picks = units[u]
        if prefixes[src.index]:
            raise ValueError(f"family {fam.name!r} is served twice")
        prefixes[src.index] = fam.name + "{"
        units[u] = (fn, prefixes, (*(picks or ()), src.index))
        positions[u].append(pos)
    for u, (fn, prefixes, picks) in enumerate(units):
        if picks is not None and picks == tuple(range(len(prefixes))):
            units[u] = (fn, prefixes, ())
    order = [p for ps in positions for p in ps]
    perm = None if order == sorted(order) else sorted(range(len(order)), key=order.__getitem__)

    if group_unit == {}:
        singles = [(fn, p) for fn, p, _ in units]

        def each(obj: Any, ident: str) -> list[str]:
            return [fn(obj, p + ident) for fn, p in singles]

        return each

    # the hot loop: 0 = a family's own function, 1 = a whole group, 2 = some members of a group
    plan = [(0 if picks is None else 1 if picks == () else 2, fn, p, picks or ()) for fn, p, picks in units]

    def grouped(obj: Any, ident: str) -> list[str]:
        texts: list[str] = []
        for kind, fn, p, picks in plan:
            if kind == 0:
                texts.append(fn(obj, p + ident))
            elif kind == 1:
                texts += fn(obj, [q + ident for q in p])
            else:
                outs = fn(obj, [q + ident if q else "" for q in p])
                texts += [outs[k] for k in picks]
        return texts if perm is None else [texts[k] for k in perm]

    return grouped


def _overlaps(reads: frozenset[str] | None, changed: frozenset[str]) -> bool:
    """Whether a family reading ``reads`` may read something in ``changed`` (dotted field paths:
    ``status`` covers ``status.phase`` and the other way round)."""
    if reads is None:
        return True
    return any(r == c or r.startswith(c + ".") or c.startswith(r + ".") for r in reads for c in changed)


class ObjectRenderer:
    """Every served family's text for one object of a resource, in family order.

    ``renderer.texts(obj, identity)`` is the whole render. :meth:`only` gives a renderer of just
    the families whose text an update can change, given which fields of the object changed.
    """

    __slots__ = ("_only", "families", "texts")

    def __init__(self, families: Sequence[Family]) -> None:
        self.families = tuple(families)
        self.texts: TextsFn = _compile(self.families)
        self._only: dict[frozenset[str], tuple[tuple[int, ...], TextsFn]] = {}

    def __call__(self, obj: Any, ident: str) -> list[str]:
        return self.texts(obj, ident)

    def only(self, changed: Iterable[str]) -> tuple[tuple[int, ...], TextsFn]:
        """The positions of the families that read any of the ``changed`` fields (dotted attribute
        paths such as ``status`` or ``metadata.labels``, see :attr:`Family.reads`), and a function
        writing just their texts, in that order. The other families' texts are what they were
        before the change. Compiled once per distinct set of fields."""
        key = frozenset(changed)
        got = self._only.get(key)
        if got is None:
            picked = tuple(i for i, f in enumerate(self.families) if _overlaps(f.reads, key))
            got = self._only[key] = (picked, _compile([self.families[i] for i in picked]))
        return got


def render_object(spec: ResourceSpec, families: Sequence[Family], obj: Any) -> list[str]:
    """Every family's lines for one object, in family order ("" where a family has none)."""
    return ObjectRenderer(families).texts(obj, spec.identity(obj))


def decode_object(spec: ResourceSpec, data: Any) -> Any:
    """Decode a JSON-like value (from JSON or YAML) into the resource's Struct."""
    return msgspec.json.decode(msgspec.json.encode(data), type=spec.struct)


def render_text(
    groups: Iterable[tuple[ResourceSpec, Sequence[Family], Sequence[Any]]],
    openmetrics: bool = False,
    on_error: Callable[[Any, Exception], None] | None = None,
) -> str:
    """Full exposition for objects grouped per resource, as a KSM scrape would show them.

    Resources are written in the order given (KSM sorts them by name); a resource with no objects
    writes nothing; a resource with objects writes every family header, even for families
    without samples. A header already written by another resource is not repeated. With
    ``on_error``, an object that does not render is passed to it and left out (as the exporter's
    store does); without, the error propagates.
    """
    out: list[str] = []
    seen: set[str] = set()
    for spec, families, objs in groups:
        texts = ObjectRenderer(families).texts
        ident = spec.identity
        rendered = []
        for o in objs:
            try:
                rendered.append(texts(o, ident(o)))
            except Exception as e:
                if on_error is None:
                    raise
                on_error(o, e)
        if not rendered:
            continue
        for i, fam in enumerate(families):
            if fam.name not in seen:
                out.append(fam.header(openmetrics))
                seen.add(fam.name)
            out.extend(r[i] for r in rendered)
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out)
