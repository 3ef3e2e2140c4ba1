"""OpenAPI v2 (``/openapi/v2``) and v3 (``/openapi/v3``, one document per group-version) of the Metrics API.

Definitions use Kubernetes' names (``io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics``, ...) with
``x-kubernetes-group-version-kind`` so kube-apiserver's aggregator can merge them into the cluster's
document and ``kubectl explain nodemetrics`` can find them; paths carry the ``x-kubernetes-action``
and ``operationId`` conventions of generated apiservers. Title: "Kubernetes metrics-server", as
metrics-server sets it. Built once at start-up; served with ``ETag`` so the aggregator's periodic
re-download is cheap.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from kubescope import __version__
from kubescope.resource.render import GROUP, VERSIONS

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def _pkg(version: str) -> str:
    return f"io.k8s.metrics.pkg.apis.metrics.{version}"


def _ref(name: str, v3: bool) -> dict[str, Any]:
    return {"$ref": ("#/components/schemas/" if v3 else "#/definitions/") + name}


def _wrap(ref: dict[str, Any], v3: bool, default: Any = None) -> dict[str, Any]:
    """v3 wraps a $ref that carries siblings in allOf."""
    if v3:
        out: dict[str, Any] = {"allOf": [ref]}
        if default is not None:
            out["default"] = default
        return out
    return ref


def definitions(version: str, v3: bool) -> dict[str, Any]:
    pkg = _pkg(version)

    def gvk(kind: str) -> list[dict[str, str]]:
        return [{"group": GROUP, "kind": kind, "version": version}]

    usage = {
        "description": "Resource usage: cpu in cores (nano-core precision), memory in bytes (working set).",
        "type": "object",
        "additionalProperties": _ref(QUANTITY, v3),
    }
    time_ref = _wrap(_ref(f"{META}.Time", v3), v3)
    defs: dict[str, Any] = {
        f"{pkg}.ContainerMetrics": {
            "description": "Resource usage of one container.",
            "type": "object",
            "required": ["name", "usage"],
            "properties": {
                "name": {
                    "description": "Container name (spec.containers[*].name).",
                    "type": "string",
                    "default": "",
                },
                "usage": usage,
            },
        },
        f"{pkg}.NodeMetrics": {
            "description": "Resource usage of a node: CPU as an average rate over the window, memory as the "
            "working set at the end of it.",
            "type": "object",
            "required": ["timestamp", "window", "usage"],
            "properties": {
                "apiVersion": {"description": "Versioned schema of this object.", "type": "string"},
                "kind": {"description": "REST resource this object represents.", "type": "string"},
                "metadata": _wrap(_ref(f"{META}.ObjectMeta", v3), v3, {}),
                "timestamp": time_ref,
                "window": _wrap(_ref(f"{META}.Duration", v3), v3),
                "usage": usage,
            },
            "x-kubernetes-group-version-kind": gvk("NodeMetrics"),
        },
        f"{pkg}.NodeMetricsList": {
            "description": "A list of NodeMetrics.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"description": "Versioned schema of this object.", "type": "string"},
                "kind": {"description": "REST resource this object represents.", "type": "string"},
                "metadata": _wrap(_ref(f"{META}.ListMeta", v3), v3, {}),
                "items": {
                    "description": "The nodes' metrics.",
                    "type": "array",
                    "items": _wrap(_ref(f"{pkg}.NodeMetrics", v3), v3, {}),
                },
            },
            "x-kubernetes-group-version-kind": gvk("NodeMetricsList"),
        },
        f"{pkg}.PodMetrics": {
            "description": "Resource usage of a pod's containers, over the window of the earliest one.",
            "type": "object",
            "required": ["timestamp", "window", "containers"],
            "properties": {
                "apiVersion": {"description": "Versioned schema of this object.", "type": "string"},
                "kind": {"description": "REST resource this object represents.", "type": "string"},
                "metadata": _wrap(_ref(f"{META}.ObjectMeta", v3), v3, {}),
                "timestamp": time_ref,
                "window": _wrap(_ref(f"{META}.Duration", v3), v3),
                "containers": {
                    "description": "Usage per container.",
                    "type": "array",
                    "items": _wrap(_ref(f"{pkg}.ContainerMetrics", v3), v3, {}),
                    "x-kubernetes-list-type": "atomic",
                },
            },
            "x-kubernetes-group-version-kind": gvk("PodMetrics"),
        },
        f"{pkg}.PodMetricsList": {
            "description": "A list of PodMetrics.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"description": "Versioned schema of this object.", "type": "string"},
                "kind": {"description": "REST resource this object represents.", "type": "string"},
                "metadata": _wrap(_ref(f"{META}.ListMeta", v3), v3, {}),
                "items": {
                    "description": "The pods' metrics.",
                    "type": "array",
                    "items": _wrap(_ref(f"{pkg}.PodMetrics", v3), v3, {}),
                },
            },
            "x-kubernetes-group-version-kind": gvk("PodMetricsList"),
        },
        f"{META}.Time": {
            "description": "RFC 3339 date and time, in UTC, at second precision.",
            "type": "string",
            "format": "date-time",
        },
        f"{META}.Duration": {
            "description": 'A Go duration string, e.g. "15.02s" or "1m0s".',
            "type": "string",
        },
        QUANTITY: {
            "description": 'A fixed-point number with an SI or binary suffix, e.g. "250m", "128974848", '
            '"129e6", "123Mi".',
            "type": "string",
        },
        f"{META}.ListMeta": {
            "description": "Metadata of a list.",
            "type": "object",
            "properties": {
                "continue": {"type": "string"},
                "remainingItemCount": {"type": "integer", "format": "int64"},
                "resourceVersion": {"type": "string"},
                "selfLink": {"type": "string"},
            },
        },
        f"{META}.ObjectMeta": {
            "description": "Metadata of an object: here the node's or pod's name, namespace and labels, and "
            "the time of the answer as creationTimestamp.",
            "type": "object",
            "properties": {
                "annotations": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
                "creationTimestamp": time_ref,
                "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
                "deletionTimestamp": time_ref,
                "generateName": {"type": "string"},
                "generation": {"type": "integer", "format": "int64"},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "resourceVersion": {"type": "string"},
                "selfLink": {"type": "string"},
                "uid": {"type": "string"},
            },
        },
    }
    return defs


_QUERY = (
    ("labelSelector", "A selector on the objects' labels. Defaults to everything."),
    ("fieldSelector", "A selector on metadata.name and metadata.namespace. Defaults to everything."),
)


def _params(v3: bool, namespaced: bool, named: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if named:
        out.append(_path_param("name", "name of the object", v3))
    if namespaced:
        out.append(_path_param("namespace", "object name and auth scope, such as for teams and projects", v3))
    if not named:
        for name, desc in _QUERY:
            p: dict[str, Any] = {"name": name, "in": "query", "description": desc, "uniqueItems": True}
            if v3:
                p["schema"] = {"type": "string", "uniqueItems": True}
            else:
                p["type"] = "string"
            out.append(p)
    return out


def _path_param(name: str, desc: str, v3: bool) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": "path", "description": desc, "required": True}
    if v3:
        p["schema"] = {"type": "string", "uniqueItems": True}
    else:
        p["type"] = "string"
        p["uniqueItems"] = True
    return p


def paths(version: str, v3: bool) -> dict[str, Any]:
    pkg = _pkg(version)
    vtag = version[0].upper() + version[1:]
    base = f"/apis/{GROUP}/{version}"
    out: dict[str, Any] = {}
    spec = (
        (f"{base}/nodes", "list", "NodeMetrics", "NodeMetricsList", False, False, "list", "NodeMetrics"),
        (f"{base}/nodes/{{name}}", "read", "NodeMetrics", "NodeMetrics", False, True, "get", "NodeMetrics"),
        (f"{base}/pods", "list", "PodMetrics", "PodMetricsList", False, False, "list",
         "PodMetricsForAllNamespaces"),
        (f"{base}/namespaces/{{namespace}}/pods", "list", "PodMetrics", "PodMetricsList", True, False, "list",
         "NamespacedPodMetrics"),
        (f"{base}/namespaces/{{namespace}}/pods/{{name}}", "read", "PodMetrics", "PodMetrics", True, True,
         "get",
         "NamespacedPodMetrics"),
    )  # fmt: skip
    for path, op, kind, schema, namespaced, named, action, op_suffix in spec:
        ok: dict[str, Any] = {"description": "OK"}
        if v3:
            ok["content"] = {
                ct: {"schema": _ref(f"{pkg}.{schema}", True)}
                for ct in ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
            }
        else:
            ok["schema"] = _ref(f"{pkg}.{schema}", False)
        get: dict[str, Any] = {
            "tags": [f"metrics_{version}"],
            "description": f"{op} {'objects of kind' if action == 'list' else 'the specified'} {kind}",
            "operationId": f"{op}Metrics{vtag}{op_suffix}",
            "responses": {"200": ok, "401": {"description": "Unauthorized"}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": GROUP, "kind": kind, "version": version},
        }
        if not v3:
            get["consumes"] = ["*/*"]
            get["produces"] = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
            get["schemes"] = ["https"]
        params = _params(v3, namespaced, named)
        item: dict[str, Any] = {"get": get}
        if params:
            item["parameters"] = params
        out[path] = item
    return out


class OpenAPI:
    """The encoded documents and their ETags."""

    def __init__(self) -> None:
        info = {"title": "Kubernetes metrics-server", "version": __version__}
        v2_paths: dict[str, Any] = {}
        v2_defs: dict[str, Any] = {}
        for v in VERSIONS:
            v2_paths.update(paths(v, False))
            v2_defs.update(definitions(v, False))
        v2 = {
            "swagger": "2.0",
            "info": info,
            "paths": dict(sorted(v2_paths.items())),
            "definitions": dict(sorted(v2_defs.items())),
        }
        self.v2 = msgspec.json.encode(v2)
        self.v2_etag = '"' + hashlib.sha512(self.v2).hexdigest().upper() + '"'
        self.v3: dict[str, bytes] = {}
        self.v3_hash: dict[str, str] = {}
        for v in VERSIONS:
            doc = {
                "openapi": "3.0.0",
                "info": info,
                "paths": paths(v, True),
                "components": {"schemas": dict(sorted(definitions(v, True).items()))},
            }
            body = msgspec.json.encode(doc)
            key = f"apis/{GROUP}/{v}"
            self.v3[key] = body
            self.v3_hash[key] = hashlib.sha512(body).hexdigest().upper()
        self.v3_index = msgspec.json.encode(
            {
                "paths": {
                    k: {"serverRelativeURL": f"/openapi/v3/{k}?hash={h}"}
                    for k, h in sorted(self.v3_hash.items())
                }
            }
        )
