"""LISTs of the simulator's object store as etcd and kube-apiserver answer them: a snapshot at the
first page, later pages from it, continue tokens, ``resourceVersionMatch=Exact`` from the history.

:class:`Lists` reads the store's tables and history (:class:`ListSource`) and never writes them;
the snapshots, pages and tokens themselves are :mod:`kubescope.sim.pages`'.
"""

from __future__ import annotations

import bisect
import time
from typing import Protocol

from kubescope.apiserver.selectors import FieldSelector, LabelSelector
from kubescope.sim.entries import Entry
from kubescope.sim.errors import BadRequest, Expired, TooLargeResourceVersion, parse_resource_version
from kubescope.sim.pages import (
    INCONSISTENT_CONTINUE,
    Page,
    Snapshot,
    Snapshots,
    decode_continue,
    encode_continue,
    read_page,
    start_key,
)
from kubescope.sim.watchcache import WatchCache


class ListSource(Protocol):
    """What a LIST reads of the store (:class:`~kubescope.sim.store.ObjectStore`)."""

    objects: dict[str, dict[tuple[str, str], Entry]]
    resource_version: int
    snapshots: Snapshots
    watch: WatchCache

    def sorted_keys(self, res: str) -> list[tuple[str, str]]: ...

    def triggered(self, res: str, flds: FieldSelector | None) -> set[tuple[str, str]] | None: ...


class Lists:
    """The LISTs of one store."""

    def __init__(self, store: ListSource) -> None:
        self.store = store

    def snapshot(
        self,
        res: str,
        namespace: str,
        start: tuple[str, str] | None = None,
        narrowed: set[tuple[str, str]] | None = None,
    ) -> tuple[str, Snapshot]:
        """Freeze the entries of ``res`` (sorted by namespace/name, from ``start`` on) for a paginated list."""
        self.store.snapshots.expire()
        table = self.store.objects.get(res, {})
        if narrowed is not None:
            picked = sorted(
                k for k in narrowed if (not namespace or k[0] == namespace) and (start is None or k > start)
            )
            snap = Snapshot(
                self.store.resource_version, picked, {k: table[k] for k in picked}, time.monotonic()
            )
            return self.store.snapshots.keep(snap), snap
        keys = self.store.sorted_keys(res)
        lo, hi = 0, len(keys)
        if namespace:
            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
        if start is not None:
            lo = max(lo, bisect.bisect_right(keys, start))
        snap = Snapshot(self.store.resource_version, keys[lo:hi], dict(table), time.monotonic())
        return self.store.snapshots.keep(snap), snap

    def list_page(
        self,
        res: str,
        namespace: str,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        limit: int = 0,
        token: str = "",
        resource_version: str = "",
        match: str = "",
    ) -> Page:
        """A LIST as etcd + kube-apiserver answer it.

        Every page of a paginated list reflects the resourceVersion of its first page (the snapshot
        taken then); a continue token whose snapshot is gone gets 410 Expired carrying a token
        that continues at the latest state, as kube-apiserver does after etcd compaction.
        ``resourceVersionMatch=Exact`` is served from the history when the version is still in it.
        """
        if limit < 0:
            raise BadRequest("limit must be non-negative")
        # the ListOptions rules (resourceVersionMatch with a version, not with continue...) are the
        # API's: kubescope.sim.validation answers them with kube-apiserver's 422
        if token and resource_version not in ("", "0"):
            raise BadRequest("specifying resource version is not allowed when using continue")
        rv_n = parse_resource_version(resource_version) if resource_version else 0
        if rv_n > self.store.resource_version:
            raise TooLargeResourceVersion(rv_n, self.store.resource_version)
        if token:
            c = decode_continue(token)
            start = start_key(str(c.get("start", "")))
            if c.get("rv") == -1:
                sid, snap = self.snapshot(res, namespace, start, self.store.triggered(res, fields))
                offset = 0
            else:
                found = self.store.snapshots.get(str(c.get("sid", "")))
                if found is None or found.rv != c.get("rv"):
                    raise Expired(
                        INCONSISTENT_CONTINUE,
                        list_meta={"continue": encode_continue(-1, "", 0, start or ("", ""))},
                    )
                sid, snap, offset = str(c["sid"]), found, int(c.get("off", 0))
        elif match == "Exact" and rv_n != self.store.resource_version:
            sid, snap = self._snapshot_at(res, namespace, rv_n)
            offset = 0
        else:
            sid, snap = self.snapshot(res, namespace, narrowed=self.store.triggered(res, fields))
            offset = 0
        page = read_page(snap, sid, offset, labels, fields, limit)
        if not page.continue_token:
            self.store.snapshots.pop(sid)
        return page

    def _snapshot_at(self, res: str, namespace: str, rv: int) -> tuple[str, Snapshot]:
        """The entries of ``res`` as they were at ``rv``, rebuilt by undoing later history."""
        if rv < self.store.watch.floor:
            raise Expired(f"too old resource version: {rv} ({self.store.watch.floor})")
        state = dict(self.store.objects.get(res, {}))
        for ev in reversed(self.store.watch.history):
            if ev.rv <= rv:
                break
            if ev.res != res:
                continue
            if ev.old is None:
                state.pop(ev.key, None)
            else:
                state[ev.key] = ev.old
        keys = sorted(k for k in state if not namespace or k[0] == namespace)
        snap = Snapshot(rv, keys, state, time.monotonic())
        return self.store.snapshots.keep(snap), snap
