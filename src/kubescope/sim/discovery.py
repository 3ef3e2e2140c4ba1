"""Discovery documents, as kube-apiserver serves them: the legacy ones and aggregated discovery.

Legacy: ``/api`` (APIVersions), ``/apis`` (APIGroupList), ``/apis/<group>`` (APIGroup) and
``/api/v1``, ``/apis/<group>/<version>`` (APIResourceList with subresources as ``plural/sub``).

Aggregated (``apidiscovery.k8s.io/v2``, what kubectl asks for first with
``Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,...``): ``/api`` and
``/apis`` answer an APIGroupDiscoveryList holding every group, version and resource at once, so a
kubectl command needs two discovery requests instead of one per group-version. Aggregated
APIServices are included from their backend's resource list (read by the availability check);
until one was read, the version is listed with ``freshness: Stale``, as kube-aggregator does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubescope.sim.resources import Registry, ResourceType

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_SUBRESOURCES: dict[str, tuple[list[str], str, dict[str, str]]] = {
    "status": (["get", "patch", "update"], "", {}),
    "scale": (["get", "patch", "update"], "Scale", {"group": "autoscaling", "version": "v1"}),
    "log": (["get"], "Pod", {}),
    "exec": (["create", "get"], "PodExecOptions", {}),
    "attach": (["create", "get"], "PodAttachOptions", {}),
    "portforward": (["create", "get"], "PodPortForwardOptions", {}),
    "binding": (["create"], "Binding", {}),
    "eviction": (["create"], "Eviction", {"group": "policy", "version": "v1"}),
    "ephemeralcontainers": (["get", "patch", "update"], "Pod", {}),
    "resize": (["get", "patch", "update"], "Pod", {}),
    "token": (["create"], "TokenRequest", {"group": "authentication.k8s.io", "version": "v1"}),
    "approval": (["get", "patch", "update"], "", {}),
    "finalize": (["update"], "", {}),
}


def wants_aggregated(accept: str) -> bool:
    """Whether an Accept header asks for apidiscovery v2 before plain JSON (first match wins)."""
    for part in accept.split(","):
        p = part.replace(" ", "")
        if "as=APIGroupDiscoveryList" in p and "g=apidiscovery.k8s.io" in p:
            if "v=v2;" in p + ";":
                return True
            continue
        if p.startswith(("application/json", "*/*")):
            return False
    return False


def subresource(t: ResourceType, sub: str) -> tuple[list[str], str, dict[str, str]]:
    """Verbs, kind and (for other groups' kinds) group/version of a subresource."""
    if sub == "proxy":
        return ["create", "delete", "get", "patch", "update"], f"{t.kind}ProxyOptions", {}
    verbs, kind, extra = _SUBRESOURCES.get(sub, (["get"], "", {}))
    return verbs, kind or t.kind, extra


def group_versions(registry: Registry, aggregated: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """group -> served versions, preferred first (core group excluded)."""
    groups = registry.groups()
    for g, v in aggregated:
        vs = groups.setdefault(g, [])
        if v not in vs:
            vs.append(v)
    return groups


def group_doc(name: str, versions: list[str]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def group_list(groups: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [group_doc(g, vs) for g, vs in sorted(groups.items())],
    }


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    resources = []
    for t in sorted(types, key=lambda t: t.plural):
        r: dict[str, Any] = {
            "name": t.plural,
            "singularName": t.singular_name,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": list(t.verbs),
        }
        if t.short_names:
            r["shortNames"] = list(t.short_names)
        if t.categories:
            r["categories"] = list(t.categories)
        resources.append(r)
        for sub in t.subresources:
            verbs, kind, extra = subresource(t, sub)
            resources.append(
                {
                    "name": f"{t.plural}/{sub}",
                    "singularName": "",
                    "namespaced": t.namespaced,
                    **extra,
                    "kind": kind,
                    "verbs": verbs,
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _aggregated_resource(t: ResourceType) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resource": t.plural,
        "responseKind": {"group": "", "version": "", "kind": t.kind},
        "scope": "Namespaced" if t.namespaced else "Cluster",
        "singularResource": t.singular_name,
        "verbs": list(t.verbs),
    }
    if t.short_names:
        r["shortNames"] = list(t.short_names)
    if t.categories:
        r["categories"] = list(t.categories)
    subs = []
    for sub in t.subresources:
        verbs, kind, extra = subresource(t, sub)
        subs.append(
            {
                "subresource": sub,
                "responseKind": {
                    "group": extra.get("group", ""),
                    "version": extra.get("version", ""),
                    "kind": kind,
                },
                "verbs": verbs,
            }
        )
    if subs:
        r["subresources"] = subs
    return r


def _from_legacy(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A backend's APIResourceList entries in the aggregated shape."""
    out: dict[str, dict[str, Any]] = {}
    for r in resources:
        name = str(r.get("name", ""))
        if "/" in name:
            continue
        entry: dict[str, Any] = {
            "resource": name,
            "responseKind": {"group": "", "version": "", "kind": r.get("kind", "")},
            "scope": "Namespaced" if r.get("namespaced") else "Cluster",
            "singularResource": r.get("singularName", ""),
            "verbs": list(r.get("verbs") or []),
        }
        for k in ("shortNames", "categories"):
            if r.get(k):
                entry[k] = list(r[k])
        out[name] = entry
    for r in resources:
        parent, _, sub = str(r.get("name", "")).partition("/")
        if sub and parent in out:
            out[parent].setdefault("subresources", []).append(
                {
                    "subresource": sub,
                    "responseKind": {
                        "group": r.get("group", ""),
                        "version": r.get("version", ""),
                        "kind": r.get("kind", ""),
                    },
                    "verbs": list(r.get("verbs") or []),
                }
            )
    return list(out.values())


def aggregated(
    registry: Registry,
    *,
    core: bool,
    backends: dict[tuple[str, str], list[dict[str, Any]] | None],
) -> dict[str, Any]:
    """The APIGroupDiscoveryList of ``/api`` (``core=True``) or ``/apis``.

    ``backends``: aggregated group-versions with their last known resources (None: not read yet)."""
    items: list[dict[str, Any]] = []
    if core:
        types = registry.in_group_version("", "v1")
        items.append(
            {
                "metadata": {},
                "versions": [
                    {
                        "version": "v1",
                        "resources": [_aggregated_resource(t) for t in sorted(types, key=lambda t: t.plural)],
                        "freshness": "Current",
                    }
                ],
            }
        )
    else:
        groups = group_versions(registry, backends)
        for g, versions in sorted(groups.items()):
            vdocs = []
            for v in versions:
                types = registry.in_group_version(g, v)
                if types:
                    vdocs.append(
                        {
                            "version": v,
                            "resources": [
                                _aggregated_resource(t) for t in sorted(types, key=lambda t: t.plural)
                            ],
                            "freshness": "Current",
                        }
                    )
                else:
                    known = backends.get((g, v))
                    vdocs.append(
                        {
                            "version": v,
                            "resources": _from_legacy(known) if known is not None else [],
                            "freshness": "Current" if known is not None else "Stale",
                        }
                    )
            items.append({"metadata": {"name": g}, "versions": vdocs})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
