"""Namespace families (``kube_namespace_*``); identity label ``namespace``.

Sample::

    kube_namespace_status_phase{namespace="shop",phase="Active"} 1
    kube_namespace_status_phase{namespace="shop",phase="Terminating"} 0
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import Condition, ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    conditions_family,
    created_family,
    labels_family,
)
from kubescope.state.text import esc


class NamespaceStatus(Wire):
    phase: str = ""
    conditions: list[Condition] = msgspec.field(default_factory=list)


class Namespace(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: NamespaceStatus = msgspec.field(default_factory=NamespaceStatus)


def _identity(o: Namespace) -> str:
    return f'namespace="{esc(o.metadata.name)}"'


def _phase(o: Namespace, lp: str) -> str:
    ph = o.status.phase
    return (
        f'{lp},phase="Active"}} {1 if ph == "Active" else 0}\n'
        f'{lp},phase="Terminating"}} {1 if ph == "Terminating" else 0}\n'
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_namespace"
    return [
        created_family(p),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        Family(f"{p}_status_phase", "kubernetes namespace status phase.", "gauge", "STABLE", _phase),
        conditions_family(
            f"{p}_status_condition", "The condition of a namespace.", "ALPHA", lambda o: o.status.conditions
        ),
    ]


RESOURCE = ResourceSpec(
    name="namespaces",
    group="",
    version="v1",
    kind="Namespace",
    namespaced=False,
    struct=Namespace,
    identity=_identity,
    families=families,
)
