"""A REST mapper from the cluster's discovery documents, as client-go's ``DiscoveryRESTMapper`` maps.

prometheus-adapter resolves every resource it meets (``pod``, ``deployments.apps``, a label such as
``kube_pod``) through the API server's discovery: a name matches a resource's plural or singular form,
in any group when none is given; when several groups match, the first in discovery order wins (the
core group first, then ``/apis`` in the order the server lists them, preferred versions first).

:func:`resources_from_discovery` turns ``/api/v1`` and ``/apis/<group>/<version>`` documents into the
priority-ordered list; :class:`RESTMapper` answers lookups from indexes built once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class GroupResource:
    group: str
    resource: str

    def __str__(self) -> str:
        """``schema.GroupResource.String()``: ``pods``, ``deployments.apps``."""
        return f"{self.resource}.{self.group}" if self.group else self.resource


NAMESPACES = GroupResource("", "namespaces")
NODES = GroupResource("", "nodes")
PERSISTENT_VOLUMES = GroupResource("", "persistentvolumes")
CLUSTER_ONLY = frozenset({NAMESPACES, NODES, PERSISTENT_VOLUMES})
"""Resources whose metrics prometheus-adapter always lists as not namespaced."""


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    group: str
    version: str
    resource: str
    """Plural, lower case."""
    singular: str
    kind: str
    namespaced: bool

    @property
    def group_resource(self) -> GroupResource:
        return GroupResource(self.group, self.resource)

    @property
    def api_version(self) -> str:
        """``describedObject.apiVersion`` as prometheus-adapter writes it: ``/v1`` for the core group."""
        return f"{self.group}/{self.version}"

    def list_path(self, namespace: str) -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if namespace and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.resource}"
        return f"{base}/{self.resource}"


class NoMatch(LookupError):
    """No resource of that name (``no matches for /, Resource=widgets``)."""


def _singular(res: Mapping[str, Any]) -> str:
    s = str(res.get("singularName") or "")
    # client-go guesses the singular from the kind when discovery leaves it empty
    return s or str(res.get("kind", "")).lower()


def resources_from_discovery(documents: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[ResourceInfo]:
    """``(group, version, APIResourceList)`` in discovery order -> resources in priority order.

    Subresources (``pods/status``) are skipped; a resource seen in an earlier (preferred) version of
    its group is not repeated.
    """
    out: list[ResourceInfo] = []
    seen: set[tuple[str, str]] = set()
    for group, version, doc in documents:
        for res in doc.get("resources") or ():
            name = str(res.get("name", ""))
            if not name or "/" in name or (group, name) in seen:
                continue
            seen.add((group, name))
            out.append(
                ResourceInfo(
                    group=group,
                    version=version,
                    resource=name.lower(),
                    singular=_singular(res).lower(),
                    kind=str(res.get("kind", "")),
                    namespaced=bool(res.get("namespaced", False)),
                )
            )
    return out


class RESTMapper:
    """Lookups over a priority-ordered resource list. Immutable: a refresh builds a new mapper."""

    def __init__(self, resources: Sequence[ResourceInfo]) -> None:
        self.resources = tuple(resources)
        self._by_name: dict[str, list[ResourceInfo]] = {}
        self._by_plural: dict[str, ResourceInfo] = {}
        self._exact: dict[GroupResource, ResourceInfo] = {}
        for r in self.resources:
            for n in {r.resource, r.singular}:
                if n:
                    self._by_name.setdefault(n, []).append(r)
            self._by_plural.setdefault(r.resource, r)
            self._exact.setdefault(r.group_resource, r)

    def __len__(self) -> int:
        return len(self.resources)

    def resource_for(self, gr: GroupResource) -> ResourceInfo:
        """``ResourceFor``: plural or singular name, case-insensitive, in the group if one is given."""
        exact = self._exact.get(gr)
        if exact is not None:
            return exact
        name = gr.resource.lower()
        for r in self._by_name.get(name, ()):
            if not gr.group or r.group == gr.group:
                return r
        raise NoMatch(f"no matches for {gr.group}/, Resource={gr.resource}")

    def singular(self, resource: str) -> str:
        """``ResourceSingularizer``: the singular of a plural resource name."""
        r = self._by_plural.get(resource.lower())
        if r is None:
            raise NoMatch(f"no singular of resource {resource!r} has been defined")
        return r.singular

    def normalized(self, gr: GroupResource) -> GroupResource:
        return self.resource_for(gr).group_resource


EMPTY_MAPPER = RESTMapper(())
