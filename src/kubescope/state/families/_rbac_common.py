"""The family shape shared by the four RBAC resources (roles, cluster roles and their bindings):
annotations, labels, info (bindings add ``roleref_kind,roleref_name``), created and resource
version, all ALPHA. Not a family module itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    annotations_family,
    created_family,
    labels_family,
    resource_version_family,
)
from kubescope.state.text import esc


class RoleObject(Wire):
    """A Role or ClusterRole: only metadata is read (the rules are skipped by the decoder)."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class RoleRef(Wire):
    kind: str = ""
    name: str = ""


class BindingObject(Wire):
    """A RoleBinding or ClusterRoleBinding: metadata and the role reference (subjects are skipped)."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    role_ref: RoleRef = msgspec.field(default_factory=RoleRef)


def _info(o: Any, lp: str) -> str:
    return f"{lp}}} 1\n"


def _binding_info(o: BindingObject, lp: str) -> str:
    r = o.role_ref
    return f'{lp},roleref_kind="{esc(r.kind)}",roleref_name="{esc(r.name)}"}} 1\n'


def rbac_families(prefix: str, what: str, binding: bool) -> Callable[[FamilyOptions], list[Family]]:
    """The family factory of one RBAC resource; ``what`` names it in HELP texts (``cluster role``)."""

    def families(opts: FamilyOptions) -> list[Family]:
        return [
            annotations_family(prefix, opts.annotations),
            labels_family(prefix, opts.labels, "ALPHA"),
            Family(
                f"{prefix}_info",
                f"Information about {what}.",
                "gauge",
                "ALPHA",
                _binding_info if binding else _info,
            ),
            created_family(prefix, "ALPHA"),
            resource_version_family(
                prefix, help=f"Resource version representing a specific version of the {what}."
            ),
        ]

    return families
