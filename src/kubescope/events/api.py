"""The merged view as an aggregated API group: ``events.kubescope.io/v1``, resource ``events``, the
events.k8s.io/v1 Event schema.

* ``GET /apis/events.kubescope.io/v1/events`` and ``…/namespaces/NS/events``: an ``EventList``
  (or a Table when asked, as ``kubectl get`` does), live and archived merged
  (:mod:`.merge`), oldest first; ``fieldSelector``, ``since``, ``until``, ``limit``, ``continue``
  (:mod:`.selection`);
* ``GET …/namespaces/NS/events/NAME``: one Event (the live version if newer);
* discovery documents; ``watch`` is refused (405): the archive is for history, watch the API
  server for what happens now.

The live side is one LIST of core/v1 events from the API server per request (with the selector
translated to core/v1's field names, then filtered again here); when it fails the archive alone
answers and nothing is marked expired.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from kubescope.apiserver import status
from kubescope.apiserver.discovery import APIGroupSpec, APIResource, Discovery
from kubescope.apiserver.negotiation import negotiate
from kubescope.errors import DecodeError, KubeError
from kubescope.events import query
from kubescope.events.merge import merge
from kubescope.events.model import BadEvent, CoreEvent, Record, to_record
from kubescope.events.render import GROUP, VERSION, event_json, table
from kubescope.events.selection import BadQuery, Query, encode_continue, parse_query
from kubescope.events.store import EventStore, StoreUnavailable
from kubescope.kube.client import KubeClient
from kubescope.log import fields
from kubescope.model.meta import KubeList

logger = logging.getLogger(__name__)

SPEC = APIGroupSpec(
    GROUP, (VERSION,), (APIResource("events", "Event", True, ("get", "list"), singular_name="event"),)
)
_CORE_FIELDS = {
    "regarding.kind": "involvedObject.kind", "regarding.name": "involvedObject.name",
    "regarding.uid": "involvedObject.uid", "regarding.namespace": "involvedObject.namespace",
    "reason": "reason", "type": "type", "reportingController": "reportingComponent",
    "metadata.name": "metadata.name", "metadata.namespace": "metadata.namespace",
}  # fmt: skip
_live_decoder = msgspec.json.Decoder(KubeList[CoreEvent])
_JSON = "application/json"
Observe = Callable[[str, int, float], None]
Pending = Callable[[], list[Record]]


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


class EventsAPI:
    def __init__(
        self,
        store: EventStore,
        client: KubeClient | None,
        *,
        observe: Observe | None = None,
        pending: Pending | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.observe = observe
        self.pending = pending
        """The recorders' received, uncommitted events (read in the event loop, as they change)."""
        self.discovery = Discovery(SPEC)
        self.live_failures = 0

    # -- the live side -------------------------------------------------------------------------------

    async def live(self, q: Query) -> list[Record] | None:
        """Every live event matching ``q``, or None when the API server cannot be asked."""
        if self.client is None:
            return None
        sel = ",".join(
            f"{_CORE_FIELDS[t.field]}{'=' if t.equal else '!='}{_escape(t.value)}" for t in q.terms
        )
        path = f"/api/v1/namespaces/{q.namespace}/events" if q.namespace else "/api/v1/events"
        params = {"fieldSelector": sel} if sel else {}
        try:
            body = await self.client.get(path, params)
            items = _live_decoder.decode(body).items
        except (KubeError, DecodeError, msgspec.DecodeError) as e:
            self.live_failures += 1
            logger.warning(
                "cannot list live events; answering from the archive alone", extra=fields(error=str(e))
            )
            return None
        out = []
        for ev in items:
            try:
                r = to_record(ev)
            except BadEvent:
                continue
            if q.matches(r):
                out.append(r)
        return out

    def _pending(self, q: Query) -> list[Record]:
        if self.pending is None:
            return []
        return [r for r in self.pending() if q.matches(r)]

    # -- handlers ------------------------------------------------------------------------------------

    async def list_events(self, request: web.Request) -> web.StreamResponse:
        return await self._timed("list", request, self._list)

    async def get_event(self, request: web.Request) -> web.StreamResponse:
        return await self._timed("get", request, self._get)

    async def _timed(
        self, kind: str, request: web.Request, fn: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        t0 = time.perf_counter()
        try:
            if request.query.get("watch") in ("1", "true"):
                resp: web.StreamResponse = _status(
                    status.status(405, "MethodNotAllowed", "watch is not supported: the archive is history; "
                                  "watch events.k8s.io/v1 on the API server for what happens now")
                )  # fmt: skip
            else:
                resp = await fn(request)
        except BadQuery as e:
            resp = _status(status.bad_request(str(e)))
        except StoreUnavailable as e:
            resp = _status(status.status(503, "ServiceUnavailable", f"the archive is unavailable: {e}"))
        if self.observe is not None:
            self.observe(kind, resp.status, time.perf_counter() - t0)
        return resp

    async def _list(self, request: web.Request) -> web.StreamResponse:
        ns = request.match_info.get("namespace", "")
        q = parse_query(request.query, ns, time.time())
        # in this order: the API server's events, then what the recorders hold uncommitted, then the
        # archive. An event deleted before the live LIST was received (its watch event precedes the
        # deletion) before the pending snapshot, so it is pending or committed before the archive
        # is read: it shows, expired. Read concurrently, the live side could drop it before the
        # archive side held it, and the answer missed it for a flush interval.
        live = await self.live(q)
        pending = self._pending(q)
        archived = await asyncio.to_thread(query.search, self.store, q, q.limit)
        items, nxt = merge(
            archived,
            live,
            after=q.after,
            limit=q.limit,
            archive_full=bool(q.limit) and len(archived) >= q.limit,
            pending=pending,
        )
        meta: dict[str, Any] = {"resourceVersion": ""}
        if nxt is not None:
            meta["continue"] = encode_continue(q, *nxt)
        accept = negotiate(request.headers.get("Accept"), table=True)
        if accept.kind == "table":
            body = table(items, meta, request.query.get("includeObject", "Metadata"))
            return _json(body, accept.content_type)
        out = {
            "kind": "EventList", "apiVersion": f"{GROUP}/{VERSION}", "metadata": meta,
            "items": [event_json(r, expired=expired) for r, expired in items],
        }  # fmt: skip
        return _json(out)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        ns = request.match_info["namespace"]
        name = request.match_info["name"]
        from kubescope.apiserver.selectors import FieldTerm

        one = Query(namespace=ns, terms=(FieldTerm("metadata.name", name, True),))
        live = await self.live(one)  # then pending, then the archive: see _list
        pending = self._pending(one)
        archived = await asyncio.to_thread(query.get, self.store, ns, name)
        for r in pending:
            if archived is None or r.rv > archived.rv:
                archived = r
        found: Record | None = live[0] if live else None
        if archived is not None and (found is None or archived.rv >= found.rv):
            expired = live is not None and found is None
            found = archived
        else:
            expired = False
        if found is None:
            return _status(status.not_found(GROUP, "events", name))
        accept = negotiate(request.headers.get("Accept"), table=True)
        if accept.kind == "table":
            return _json(table([(found, expired)], {"resourceVersion": ""}), accept.content_type)
        return _json(event_json(found, expired=expired))

    # -- discovery -----------------------------------------------------------------------------------

    async def apis(self, request: web.Request) -> web.Response:
        accept = negotiate(request.headers.get("Accept"), discovery=True)
        if accept.kind == "discovery":
            return web.Response(
                body=self.discovery.aggregated[accept.version], headers={"Content-Type": accept.content_type}
            )
        return web.Response(body=self.discovery.group_list, headers={"Content-Type": _JSON})

    async def group(self, request: web.Request) -> web.Response:
        return web.Response(body=self.discovery.group_doc, headers={"Content-Type": _JSON})

    async def resources(self, request: web.Request) -> web.Response:
        return web.Response(body=self.discovery.resource_lists[VERSION], headers={"Content-Type": _JSON})

    def routes(self) -> list[web.RouteDef]:
        base = f"/apis/{GROUP}/{VERSION}"
        return [
            web.get("/apis", self.apis),
            web.get(f"/apis/{GROUP}", self.group),
            web.get(base, self.resources),
            web.get(f"{base}/events", self.list_events),
            web.get(f"{base}/namespaces/{{namespace}}/events", self.list_events),
            web.get(f"{base}/namespaces/{{namespace}}/events/{{name}}", self.get_event),
        ]


def _json(body: Any, content_type: str = _JSON) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), headers={"Content-Type": content_type})


def _status(answer: tuple[int, bytes]) -> web.Response:
    return web.Response(status=answer[0], body=answer[1], headers={"Content-Type": _JSON})
