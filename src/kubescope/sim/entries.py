"""What the object store keeps of an object (:class:`Entry`) and of a change (:class:`Event`), and
how selectors read them: the part of the store its watch cache and its list pages share.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubescope.apiserver.selectors import FieldSelector, LabelSelector


@dataclass(slots=True)
class Entry:
    """An object as the store keeps it: its encoded JSON and what selectors read without decoding
    it (interned label and field values, the uid)."""

    raw: bytes
    rv: int
    labels: dict[str, str]
    fields: dict[str, str]
    uid: str


@dataclass(slots=True)
class Event:
    """One change, as the watch cache keeps it: the new bytes and what selectors need of the old ones."""

    rv: int
    type: str
    res: str
    namespace: str
    key: tuple[str, str]
    raw: bytes
    labels: dict[str, str]
    fields: dict[str, str]
    old: Entry | None


def selected(e: Entry, labels: LabelSelector | None, flds: FieldSelector | None) -> bool:
    """Whether the stored object matches both selectors (None: no selector)."""
    if labels is not None and not labels.matches(e.labels):
        return False
    return flds is None or flds.matches(e.fields)


TRIGGERS = {"pods": "spec.nodeName"}
"""Indexed fields (kube-apiserver's trigger functions): lists and watches selecting one value of them
touch only the matching objects and reach only the matching watchers."""


def trigger_value(res: str, flds: FieldSelector | None) -> str | None:
    """The value an equality term of ``flds`` requires of ``res``'s trigger field, if any."""
    field = TRIGGERS.get(res)
    if field is None or flds is None:
        return None
    for term in flds.terms:
        if term.field == field and term.equal:
            return term.value
    return None
