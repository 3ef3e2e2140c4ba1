"""Timestamps, object metadata and owner references as kube-apiserver writes them."""

from __future__ import annotations

import functools
from typing import Any

from kubescope.model.timefmt import format_micro_time, format_time

Obj = dict[str, Any]


@functools.lru_cache(maxsize=4)
def _second(s: int) -> str:
    return format_time(s)


def rfc3339(t: float) -> str:
    """``metav1.Time`` (seconds). Writes that follow each other mostly share a second, so the text
    is cached: formatting costs ~15 µs, and a change writes a few timestamps."""
    return _second(int(t))


def rfc3339_micro(t: float) -> str:
    """``metav1.MicroTime`` (Lease renew times, event times)."""
    return format_micro_time(t)


def owner_ref(api_version: str, kind: str, name: str, uid: str) -> Obj:
    """The controller's reference to what it owns (``controller`` and ``blockOwnerDeletion`` set,
    as every built-in controller sets them)."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def object_meta(
    name: str,
    namespace: str = "",
    *,
    uid: str,
    created: str,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: Obj | None = None,
    generation: int | None = None,
    generate_name: str = "",
) -> Obj:
    """``metadata`` with the fields set only when they have a value, in kube-apiserver's order."""
    m: Obj = {"name": name}
    if generate_name:
        m["generateName"] = generate_name
    if namespace:
        m["namespace"] = namespace
    m["uid"] = uid
    m["creationTimestamp"] = created
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    if owner:
        m["ownerReferences"] = [owner]
    if generation is not None:
        m["generation"] = generation
    return m


def controller_of(meta: Obj) -> Obj | None:
    """The owner reference with ``controller: true``, if any."""
    return next((r for r in meta.get("ownerReferences") or () if r.get("controller")), None)
