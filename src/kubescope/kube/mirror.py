"""A sink that keeps every object (:class:`Mirror`), and one-off complete lists (:func:`list_objects`):
for tests, tools and consumers that want the objects themselves (the exporters keep none)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from kubescope.errors import DecodeError
from kubescope.kube.client import KubeClient
from kubescope.model.meta import KubeList

T = TypeVar("T")


class Mirror(Generic[T]):
    """A sink keeping every object by uid: for tests and consumers that want the objects."""

    def __init__(self) -> None:
        self.objects: dict[str, T] = {}
        self.replaces = 0
        self._listed: set[str] | None = None

    def replace_begin(self) -> None:
        self._listed = set()

    def upsert(self, obj: T) -> None:
        uid: str = obj.metadata.uid  # type: ignore[attr-defined]
        self.objects[uid] = obj
        if self._listed is not None:
            self._listed.add(uid)

    def delete(self, obj: T) -> None:
        uid: str = obj.metadata.uid  # type: ignore[attr-defined]
        if uid in self.objects:
            del self.objects[uid]

    def replace_end(self) -> None:
        listed, self._listed = self._listed, None
        if listed is not None:
            for uid in [u for u in self.objects if u not in listed]:
                del self.objects[uid]
        self.replaces += 1

    def __len__(self) -> int:
        return len(self.objects)

    def versions(self) -> dict[str, str]:
        """uid -> resourceVersion of every object held."""
        return {uid: o.metadata.resource_version for uid, o in self.objects.items()}  # type: ignore[attr-defined]


async def list_objects(
    client: KubeClient,
    path: str,
    item_type: type[T],
    *,
    params: Mapping[str, str] | None = None,
    page_size: int = 500,
) -> tuple[list[T], str]:
    """A complete paginated LIST of ``path``: the objects and the list's resourceVersion.

    Strict (a malformed object raises :class:`DecodeError`); for one-off reads and tests.
    """
    item: Any = item_type
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(KubeList[item])
    base = dict(params or {})
    q = {**base, "limit": str(page_size)} if page_size else base
    out: list[T] = []
    while True:
        body = await client.get(path, q)
        try:
            page = decoder.decode(body)
        except msgspec.DecodeError as e:
            raise DecodeError(f"list {path}: {e}") from None
        del body
        out.extend(page.items)
        if not page.metadata.continue_:
            return out, page.metadata.resource_version
        q = {**base, "limit": str(page_size), "continue": page.metadata.continue_}
