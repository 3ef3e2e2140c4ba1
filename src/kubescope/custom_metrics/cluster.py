"""What the adapter asks the Kubernetes API: discovery (for the REST mapper) and object names.

* :func:`load_mapper` reads ``/api/v1``, ``/apis`` and each group's versions (preferred first),
  concurrently, into a :class:`~kubescope.custom_metrics.mapper.RESTMapper`. The ``*.metrics.k8s.io`` groups
  are skipped: they are aggregated APIs (this adapter among them) whose resources are metrics, not
  objects; a group whose discovery fails (an unavailable APIService) is left out, not fatal.
* :func:`object_lister` lists the names of the objects a ``*`` request's label selector matches,
  page by page (``limit``/``continue``), decoding only ``metadata.name`` - what
  ``helpers.ListObjectNames`` does in the original.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from kubescope.custom_metrics.mapper import ResourceInfo, RESTMapper, resources_from_discovery
from kubescope.custom_metrics.resourcemetrics import MetaLister, Obj
from kubescope.custom_metrics.service import ObjectLister
from kubescope.errors import KubeError
from kubescope.kube.client import KubeClient
from kubescope.log import fields

logger = logging.getLogger(__name__)

PAGE = 500


class _Meta(msgspec.Struct):
    name: str = ""


class _Item(msgspec.Struct):
    metadata: _Meta = msgspec.field(default_factory=_Meta)


class _ListMeta(msgspec.Struct):
    # the wire name is "continue", a Python keyword
    cont: str = msgspec.field(default="", name="continue")


class _List(msgspec.Struct):
    items: list[_Item] | None = None
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


_decode_list = msgspec.json.Decoder(_List)


async def _list_all(client: KubeClient, path: str, params: dict[str, str], decoder: Any) -> list[Any]:
    """Every item of a list, page by page (``limit``/``continue``); decode errors are KubeErrors."""
    items: list[Any] = []
    cont = ""
    while True:
        page_params = {"limit": str(PAGE), **params}
        if cont:
            page_params["continue"] = cont
        try:
            page = decoder.decode(await client.get(path, page_params))
        except msgspec.DecodeError as e:
            raise KubeError(f"GET {path}: undecodable list: {e}") from None
        items.extend(page.items or ())
        cont = page.metadata.cont
        if not cont:
            return items


def _selectors(label_selector: str, field_selector: str = "") -> dict[str, str]:
    out = {}
    if label_selector:
        out["labelSelector"] = label_selector
    if field_selector:
        out["fieldSelector"] = field_selector
    return out


def object_lister(client: KubeClient) -> ObjectLister:
    async def list_names(info: ResourceInfo, namespace: str, label_selector: str) -> list[str]:
        items = await _list_all(client, info.list_path(namespace), _selectors(label_selector), _decode_list)
        return [i.metadata.name for i in items if i.metadata.name]

    return list_names


async def _get_json(client: KubeClient, path: str) -> Any:
    return msgspec.json.decode(await client.get(path))


async def load_mapper(client: KubeClient, *, concurrency: int = 8) -> RESTMapper:
    """The cluster's resources in discovery priority order."""
    core = await _get_json(client, "/api/v1")
    groups_doc = await _get_json(client, "/apis")
    wanted: list[tuple[str, str]] = []
    for g in groups_doc.get("groups") or ():
        name = str(g.get("name", ""))
        if not name or name.endswith("metrics.k8s.io"):
            continue
        preferred = str((g.get("preferredVersion") or {}).get("version", ""))
        versions = [str(v.get("version", "")) for v in g.get("versions") or ()]
        for v in [preferred, *[v for v in versions if v != preferred]]:
            if v:
                wanted.append((name, v))
    sem = asyncio.Semaphore(concurrency)

    async def fetch(group: str, version: str) -> tuple[str, str, Any] | None:
        async with sem:
            try:
                return group, version, await _get_json(client, f"/apis/{group}/{version}")
            except (KubeError, msgspec.DecodeError) as e:
                logger.info(
                    "group left out of the REST mapper",
                    extra=fields(group=f"{group}/{version}", error=str(e)),
                )
                return None

    docs = await asyncio.gather(*(fetch(g, v) for g, v in wanted))
    return RESTMapper(resources_from_discovery([("", "v1", core), *(d for d in docs if d is not None)]))


class _MetaFull(msgspec.Struct):
    name: str = ""
    namespace: str = ""
    labels: dict[str, str] | None = None


class _ItemFull(msgspec.Struct):
    metadata: _MetaFull = msgspec.field(default_factory=_MetaFull)


class _ListFull(msgspec.Struct):
    items: list[_ItemFull] | None = None
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)


_decode_full = msgspec.json.Decoder(_ListFull)


def metadata_lister(client: KubeClient) -> MetaLister:
    """``(resource, namespace, labelSelector, fieldSelector) -> [(namespace, name, labels)]`` for the
    pods and nodes of ``metrics.k8s.io`` requests."""

    async def list_meta(resource: str, namespace: str, label_selector: str, field_selector: str) -> list[Obj]:
        path = f"/api/v1/namespaces/{namespace}/{resource}" if namespace else f"/api/v1/{resource}"
        items = await _list_all(client, path, _selectors(label_selector, field_selector), _decode_full)
        return [(i.metadata.namespace, i.metadata.name, i.metadata.labels or {}) for i in items]

    return list_meta
