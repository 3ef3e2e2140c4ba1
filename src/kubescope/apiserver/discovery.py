"""Discovery documents of an aggregated API server, pre-encoded once.

* ``/apis``: ``APIGroupList`` (or, when asked, the aggregated ``APIGroupDiscoveryList`` of
  ``apidiscovery.k8s.io/v2`` or ``v2beta1`` that kube-apiserver's aggregator requests first);
* ``/apis/<group>``: ``APIGroup``;
* ``/apis/<group>/<version>``: ``APIResourceList``.

Versions are listed preferred first, resources sorted by name, as k8s.io/apiserver does. The
aggregator's availability check reads ``/apis/<group>/<version>``: it must always answer at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec


@dataclass(frozen=True)
class APIResource:
    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ("get", "list")
    singular_name: str = ""


@dataclass(frozen=True)
class APIGroupSpec:
    name: str
    versions: tuple[str, ...]
    """Preferred first."""
    resources: tuple[APIResource, ...]


class Discovery:
    """The encoded documents of one group."""

    def __init__(self, group: APIGroupSpec) -> None:
        self.group = group
        self.group_list = msgspec.json.encode(
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group_body()]}
        )
        self.group_doc = msgspec.json.encode({"kind": "APIGroup", "apiVersion": "v1", **self._group_body()})
        self.resource_lists = {v: msgspec.json.encode(self._resource_list(v)) for v in group.versions}
        self.aggregated = {v: msgspec.json.encode(self._aggregated(v)) for v in ("v2", "v2beta1")}

    def _group_body(self) -> dict[str, Any]:
        g = self.group
        versions = [{"groupVersion": f"{g.name}/{v}", "version": v} for v in g.versions]
        return {"name": g.name, "versions": versions, "preferredVersion": versions[0]}

    def _resources(self) -> Sequence[APIResource]:
        return sorted(self.group.resources, key=lambda r: r.name)

    def _resource_list(self, version: str) -> dict[str, Any]:
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{self.group.name}/{version}",
            "resources": [
                {
                    "name": r.name,
                    "singularName": r.singular_name,
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": list(r.verbs),
                }
                for r in self._resources()
            ],
        }

    def _aggregated(self, api_version: str) -> dict[str, Any]:
        g = self.group
        versions = []
        for v in g.versions:
            versions.append(
                {
                    "version": v,
                    "resources": [
                        {
                            "resource": r.name,
                            "responseKind": {"group": g.name, "version": v, "kind": r.kind},
                            "scope": "Namespaced" if r.namespaced else "Cluster",
                            "singularResource": r.singular_name,
                            "verbs": list(r.verbs),
                        }
                        for r in self._resources()
                    ],
                    "freshness": "Current",
                }
            )
        return {
            "kind": "APIGroupDiscoveryList",
            "apiVersion": f"apidiscovery.k8s.io/{api_version}",
            "metadata": {},
            "items": [{"metadata": {"name": g.name, "creationTimestamp": None}, "versions": versions}],
        }
