"""PATCH bodies as kube-apiserver applies them: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
strategic merge patch (lists of objects merged by their patch merge key) and server-side apply.

Strategic merge needs each list's merge key, which kube-apiserver reads from the Go types' struct
tags; :data:`MERGE_KEYS` holds them for the built-in fields kubectl patches in practice (containers
by ``name``, ports by ``containerPort``, env by ``name``, conditions by ``type``...). Other lists are
replaced, as for custom resources.
"""

from __future__ import annotations

import copy
from typing import Any

from kubescope.sim.errors import BadRequest, Conflict, Invalid

MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "envFrom": "",  # replaced
    "ports": "containerPort",  # "port" outside containers: see merge_key
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "volumes": "name",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "addresses": "type",
    "taints": "key",
    "subsets": "",
    "resourceClaims": "name",
}
SET_LISTS = frozenset({"finalizers"})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge_patch(target: Any, patch: Any, key: str = "", ctx: str = "") -> Any:
    """kubectl's strategic merge patch for the directives it sends (``$patch``, ``$retainKeys``,
    ``$setElementOrder``, ``$deleteFromPrimitiveList``)."""
    if isinstance(patch, dict):
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return None
        out = copy.deepcopy(target) if isinstance(target, dict) else {}
        retain = patch.get("$retainKeys")
        for k, v in patch.items():
            if k.startswith("$"):
                continue
            if k.startswith("$deleteFromPrimitiveList/"):
                continue
            if v is None:
                out.pop(k, None)
                continue
            if isinstance(v, list) and isinstance(out.get(k), list):
                out[k] = _merge_list(out[k], v, k, ctx)
            else:
                merged = strategic_merge_patch(out.get(k), v, k, ctx)
                if merged is None and isinstance(v, dict) and v.get("$patch") == "delete":
                    out.pop(k, None)
                else:
                    out[k] = merged
        for k, v in patch.items():
            if k.startswith("$deleteFromPrimitiveList/") and isinstance(v, list):
                field = k.split("/", 1)[1]
                if isinstance(out.get(field), list):
                    out[field] = [x for x in out[field] if x not in v]
        if isinstance(retain, list):
            out = {k: v for k, v in out.items() if k in retain}
        return out
    if isinstance(patch, list) and isinstance(target, list):
        return _merge_list(target, patch, key, ctx)
    return copy.deepcopy(patch)


def merge_key(key: str, ctx: str) -> str:
    """The patch merge key of list ``key`` inside the items of list ``ctx`` ("" at the top): the
    Go types tag ``ports`` by ``containerPort`` in containers but by ``port`` in a Service."""
    if key == "ports":
        return "containerPort" if ctx in CONTAINER_LISTS else "port"
    if key == "addresses" and ctx == "subsets":
        return ""
    return MERGE_KEYS.get(key, "")


CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})


def _merge_list(target: list[Any], patch: list[Any], key: str, ctx: str = "") -> list[Any]:
    if key in SET_LISTS:
        out = list(target)
        for x in patch:
            if x not in out:
                out.append(x)
        return out
    mk = merge_key(key, ctx)
    if not mk or not all(isinstance(x, dict) for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and x.get("$patch") == "replace")]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and x.get("$patch"))]
    out = [copy.deepcopy(x) for x in target]
    index = {x.get(mk): i for i, x in enumerate(out) if isinstance(x, dict)}
    for item in patch:
        k = item.get(mk)
        if item.get("$patch") == "delete":
            if k in index:
                out[index[k]] = None
            continue
        if k in index and out[index[k]] is not None:
            out[index[k]] = strategic_merge_patch(out[index[k]], item, ctx=key)
        else:
            index[k] = len(out)
            out.append({kk: copy.deepcopy(vv) for kk, vv in item.items() if not kk.startswith("$")})
    return [x for x in out if x is not None]


def json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902."""
    if not isinstance(ops, list):
        raise BadRequest("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BadRequest(f"invalid json patch operation: {op!r}")
        kind = op["op"]
        path = _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            doc = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = copy.deepcopy(_get(doc, src))
            if kind == "move":
                doc = _remove(doc, src)
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise Invalid(f"the json patch test operation failed at {op['path']}")
        else:
            raise BadRequest(f"unknown json patch operation {kind!r}")
    return doc


def _pointer(p: str) -> list[str]:
    if p == "":
        return []
    if not p.startswith("/"):
        raise BadRequest(f"invalid json pointer {p!r}")
    return [s.replace("~1", "/").replace("~0", "~") for s in p[1:].split("/")]


def _get(doc: Any, path: list[str]) -> Any:
    cur = doc
    for seg in path:
        if isinstance(cur, dict):
            if seg not in cur:
                raise Invalid(f"the json patch path /{'/'.join(path)} does not exist")
            cur = cur[seg]
        elif isinstance(cur, list):
            try:
                cur = cur[int(seg)]
            except (ValueError, IndexError):
                raise Invalid(f"the json patch path /{'/'.join(path)} does not exist") from None
        else:
            raise Invalid(f"the json patch path /{'/'.join(path)} does not exist")
    return cur


def _add(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(doc, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                parent.insert(int(last), value)
            except ValueError:
                raise Invalid(f"invalid array index {last!r}") from None
    else:
        raise Invalid(f"cannot add at /{'/'.join(path)}")
    return doc


def _remove(doc: Any, path: list[str]) -> Any:
    if not path:
        return None
    parent = _get(doc, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise Invalid(f"the json patch path /{'/'.join(path)} does not exist")
        del parent[last]
    elif isinstance(parent, list):
        try:
            del parent[int(last)]
        except (ValueError, IndexError):
            raise Invalid(f"the json patch path /{'/'.join(path)} does not exist") from None
    return doc


def apply_patch(kind: str, target: Any, body: Any) -> Any:
    """Dispatch on the Content-Type's patch kind; the result keeps the target's identity fields."""
    if kind == "merge":
        out = merge_patch(target, body)
    elif kind == "json":
        out = json_patch(target, body)
    elif kind in ("strategic", "apply"):
        if not isinstance(body, dict):
            raise BadRequest("the patch body must be a JSON object")
        out = strategic_merge_patch(target, body)
    else:
        raise BadRequest(f"unsupported patch type {kind}")
    if not isinstance(out, dict):
        raise BadRequest("the patch did not produce an object")
    tm = target.get("metadata") or {}
    om = out.setdefault("metadata", {})
    if om.get("name") and tm.get("name") and om["name"] != tm["name"]:
        raise Invalid("metadata.name: the name of the object cannot be changed by a patch")
    if om.get("uid") and tm.get("uid") and om["uid"] != tm["uid"]:
        raise Conflict("Precondition failed: UID in precondition differs from the object's UID")
    return out


PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}
