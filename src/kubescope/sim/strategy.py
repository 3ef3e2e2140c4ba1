"""kube-apiserver's rules for what a write stores, as pure functions of the objects (its
``rest.BeforeCreate``, ``BeforeUpdate`` and ``BeforeDelete`` with the pod strategy's graceful
deletion): the object store (:mod:`kubescope.sim.store`) applies them inside each write.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

from kubescope.model.timefmt import parse_time
from kubescope.sim.errors import BadRequest, Invalid
from kubescope.sim.resources import ResourceType

Obj = dict[str, Any]


def now_rfc3339(clock: Callable[[], float] = time.time) -> str:
    return dt.datetime.fromtimestamp(int(clock()), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_create(t: ResourceType, obj: Obj) -> tuple[str, str]:
    """kube-apiserver's ``BeforeCreate`` for every kind: a name (``generateName`` filled), the
    namespace (``default`` when a namespaced object has none; none for a cluster-scoped one),
    ``apiVersion`` and ``kind``; the object's namespace and name."""
    if not isinstance(obj, dict):
        raise BadRequest("the body of the request was in an unknown format")
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    name = meta.get("name") or ""
    if not name and meta.get("generateName"):
        # kube-apiserver appends 5 characters from its own alphabet (no vowels, no look-alikes)
        name = meta["generateName"] + "".join(random.choices(NAME_ALPHABET, k=5))
        meta["name"] = name
    if not name:
        raise Invalid(
            f'{t.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
            {
                "kind": t.kind,
                "group": t.group,
                "causes": [
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value: name or generateName is required",
                        "field": "metadata.name",
                    }
                ],
            },
        )
    ns = meta.get("namespace") or "" if t.namespaced else ""
    if t.namespaced and not ns:
        ns = "default"
        meta["namespace"] = ns
    if not t.namespaced:
        meta.pop("namespace", None)
    obj["apiVersion"] = obj.get("apiVersion") or t.api_version
    obj["kind"] = obj.get("kind") or t.kind
    return str(ns), str(name)


def prepare_update(t: ResourceType, old: Obj, obj: Obj, subresource: str) -> Obj:
    """kube-apiserver's ``BeforeUpdate``: the object a PUT of ``obj`` over ``old`` stores (only
    ``.status`` from a ``status`` PUT; the stored status kept by a PUT of the main resource of a kind
    with a status subresource; what metadata the server owns kept; ``generation`` bumped when the
    spec changed)."""
    has_status = "status" in t.subresources
    if subresource == "status":
        new = copy.deepcopy(old)
        if "status" in obj:
            new["status"] = obj["status"]
        else:
            new.pop("status", None)
        return new
    new = copy.deepcopy(obj)
    new["apiVersion"] = new.get("apiVersion") or t.api_version
    new["kind"] = new.get("kind") or t.kind
    om, nm = old["metadata"], new["metadata"]
    for k in ("uid", "creationTimestamp", "namespace", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if k in om:
            nm[k] = om[k]
        else:
            nm.pop(k, None)
    if has_status:
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    gen = int(om.get("generation") or 1)
    nm["generation"] = gen + 1 if spec_of(new) != spec_of(old) else gen
    return new


def pod_grace_period(pod: Obj, requested: int | None) -> int:
    """kube-apiserver's pod ``CheckGracefulDelete``: the requested period, else the pod's own; 0
    (at once) for a pod no node runs and for a finished one; a negative one counts as 1."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    period = int(requested if requested is not None else spec.get("terminationGracePeriodSeconds") or 0)
    if not spec.get("nodeName") or status.get("phase") in ("Failed", "Succeeded"):
        period = 0
    return 1 if period < 0 else period


def before_delete(obj: Obj, period: int, now: float) -> bool | None:
    """apiserver's ``BeforeDelete`` for a graceful kind: mark ``obj`` for deletion in ``period``
    seconds (True), or, when it is being deleted already, only shorten the period (True), leave it
    pending (None) or, at a period of 0, let the deletion happen now (False)."""
    meta = obj["metadata"]
    stamp, current = meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")
    if stamp:
        if not current:
            return False
        if period >= int(current):
            return None
        if period == 0:
            return False
        at = dt.datetime.fromtimestamp(parse_time(stamp), dt.UTC)
        at += dt.timedelta(seconds=period - int(current))
    else:
        at = dt.datetime.fromtimestamp(int(now), dt.UTC) + dt.timedelta(seconds=period)
        if int(meta.get("generation") or 0) > 0:
            # controllers of an object being deleted must stop acting on it: generation says so
            meta["generation"] = int(meta["generation"]) + 1
    meta["deletionTimestamp"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    meta["deletionGracePeriodSeconds"] = period
    return True


def spec_of(o: Obj) -> Obj:
    """What ``generation`` tracks: everything but metadata and status (spec, data, rules, ...)."""
    return {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}


NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
