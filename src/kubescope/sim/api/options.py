"""Query parameters as kube-apiserver reads them: selectors, integers, booleans, ``dryRun``."""

from __future__ import annotations

from typing import Any

from kubescope.apiserver.selectors import (
    FieldSelector,
    FieldTerm,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from kubescope.sim.errors import BadRequest
from kubescope.sim.resources import ResourceType


def flag(v: str | None) -> bool:
    return (v or "").lower() in ("1", "true", "yes")


def integer(q: Any, name: str) -> int:
    v = q.get(name) or "0"
    try:
        return int(v)
    except ValueError:
        raise BadRequest(
            f'{name}: Invalid value: "{v}": strconv.ParseInt: parsing "{v}": invalid syntax'
        ) from None


def dry_run(q: Any) -> bool:
    return bool(q.get("dryRun") == "All")


def selectors(t: ResourceType, q: Any) -> tuple[LabelSelector | None, FieldSelector | None]:
    """The label and field selectors of a list, watch or deletecollection; a field the type does not
    index is 400 ``field label not supported``, as kube-apiserver's field label conversion answers.
    A view of another version's storage selects with its own labels, converted to the stored ones."""
    labels = parse_label_selector(q.get("labelSelector", "")) if q.get("labelSelector") else None
    flds = None
    if q.get("fieldSelector"):
        flds = parse_field_selector(q["fieldSelector"])
        supported = t.field_labels if t.field_labels is not None else t.field_getters()
        for term in flds.terms:
            if term.field not in supported:
                raise BadRequest(f"field label not supported: {term.field}")
        if t.field_labels is not None:
            converted = t.field_labels
            flds = FieldSelector(tuple(FieldTerm(converted[x.field], x.value, x.equal) for x in flds.terms))
    return labels, flds
