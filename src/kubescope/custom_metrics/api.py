"""The paths of custom.metrics.k8s.io and external.metrics.k8s.io, as custom-metrics-apiserver routes them.

``/apis/custom.metrics.k8s.io/{v1beta1,v1beta2}/``::

    {resource}/{name}/{metric}                        a cluster-scoped object (or * for all)
    namespaces/{ns}/{resource}/{name}/{metric}        a namespaced object (or *)
    namespaces/{ns}/metrics/{metric}                  the namespace itself

``/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}``.

Query parameters: ``labelSelector`` (objects for ``*``; the metric selector for external metrics) and
``metricLabelSelector`` (custom). ``*`` arrives percent-encoded (``%2A``) from the aggregator and
is decoded before routing. Discovery: ``/apis/<group>`` lists the preferred version only (v1beta2 for
custom metrics), as the library does; ``/apis/<group>/<version>`` is the registry's pre-encoded list.

:class:`MetricsAPI` maps ``(path, query)`` to ``(code, body, rule)`` with no HTTP library involved;
the server wires it to its listener.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from kubescope.apiserver import status
from kubescope.custom_metrics.registry import CUSTOM_GROUP, CUSTOM_VERSIONS, EXTERNAL_GROUP, EXTERNAL_VERSIONS
from kubescope.custom_metrics.resourcemetrics import GROUP as RESOURCE_GROUP
from kubescope.custom_metrics.resourcemetrics import VERSIONS as RESOURCE_VERSIONS
from kubescope.custom_metrics.resourcemetrics import ResourceMetrics
from kubescope.custom_metrics.service import CustomRequest, MetricsService

Answer = tuple[int, bytes]


def _group(name: str, versions: tuple[str, ...]) -> dict[str, object]:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


class MetricsAPI:
    def __init__(
        self,
        service: MetricsService,
        *,
        custom: bool = True,
        external: bool = True,
        resource: ResourceMetrics | None = None,
    ) -> None:
        self.service = service
        self.resource = resource
        self.groups: dict[str, tuple[str, ...]] = {}
        advertised: dict[str, tuple[str, ...]] = {}
        if custom:
            self.groups[CUSTOM_GROUP] = CUSTOM_VERSIONS
            advertised[CUSTOM_GROUP] = CUSTOM_VERSIONS[:1]  # the library advertises the first version only
        if external:
            self.groups[EXTERNAL_GROUP] = advertised[EXTERNAL_GROUP] = EXTERNAL_VERSIONS
        if resource is not None:
            self.groups[RESOURCE_GROUP] = advertised[RESOURCE_GROUP] = RESOURCE_VERSIONS
        self.group_list = msgspec.json.encode(
            {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [_group(g, v) for g, v in advertised.items()],
            }
        )
        self.group_docs = {
            g: msgspec.json.encode({"kind": "APIGroup", "apiVersion": "v1", **_group(g, v)})
            for g, v in advertised.items()
        }

    async def handle(self, path: str, query: Mapping[str, str]) -> tuple[Answer, str, str]:
        """``((code, body), group, rule)`` for a GET of ``path`` (already percent-decoded)."""
        parts = [p for p in path.split("/") if p]
        if parts == ["apis"]:
            return (200, self.group_list), "", ""
        if len(parts) < 2 or parts[0] != "apis" or parts[1] not in self.groups:
            return (404, b"404 page not found\n"), "", ""
        group = parts[1]
        if len(parts) == 2:
            return (200, self.group_docs[group]), group, ""
        version = parts[2]
        if version not in self.groups[group]:
            return (404, b"404 page not found\n"), group, ""
        rest = parts[3:]
        if group == RESOURCE_GROUP and self.resource is not None:
            return await self.resource.handle(version, rest, query), group, ""
        if not rest:
            doc = self.service.resource_list(group, version)
            return (200, doc or b""), group, ""
        if group == EXTERNAL_GROUP:
            if len(rest) == 3 and rest[0] == "namespaces":
                answer, rule = await self.service.external(rest[1], rest[2], query.get("labelSelector", ""))
                return answer, group, rule
            return status.path_not_found(), group, ""
        req = _custom_request(version, rest, query)
        if req is None:
            return status.path_not_found(), group, ""
        answer, rule = await self.service.custom(req)
        return answer, group, rule


def _custom_request(version: str, rest: list[str], query: Mapping[str, str]) -> CustomRequest | None:
    label = query.get("labelSelector", "")
    metric_label = query.get("metricLabelSelector", "")
    if len(rest) == 3:
        resource, name, metric = rest
        return CustomRequest(version, "", resource, name, metric, label, metric_label)
    if len(rest) == 4 and rest[0] == "namespaces" and rest[2] == "metrics":
        return CustomRequest(version, "", "namespaces", rest[1], rest[3], label, metric_label)
    if len(rest) == 5 and rest[0] == "namespaces":
        _, ns, resource, name, metric = rest
        return CustomRequest(version, ns, resource, name, metric, label, metric_label)
    return None
