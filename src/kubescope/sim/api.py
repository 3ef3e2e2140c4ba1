"""The simulator's HTTP API: kube-apiserver's REST surface over :class:`ObjectStore`.

One catch-all aiohttp handler parses the path the way k8s.io/apiserver's RequestInfo does, then:
health and version endpoints; authentication (bearer token or client certificate) and
authorization; injected faults; discovery (``/api``, ``/apis``, group and resource lists, OpenAPI
stubs); the aggregation layer (APIService backends, front-proxy headers); node proxy; TokenReview and
SubjectAccessReview; and the resource verbs (get, list with consistent pagination, watch with
bookmarks and 410s, create, update, patch, delete, deletecollection, status and scale subresources,
Table output). Errors are ``Status`` objects with kube-apiserver's codes, reasons and messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import yaml
from aiohttp import web

from kubescope.apiserver import status as st
from kubescope.apiserver.requestinfo import RequestInfo, request_info
from kubescope.apiserver.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from kubescope.errors import ConfigError
from kubescope.log import fields as log_fields
from kubescope.sim import discovery, tables
from kubescope.sim.aggregation import Aggregator
from kubescope.sim.auth import ANONYMOUS_USER, PUBLIC_PATHS, AuthConfig, User
from kubescope.sim.defaults import ClusterIPs, apply_defaults
from kubescope.sim.faults import Faults
from kubescope.sim.patch import PATCH_TYPES, apply_patch
from kubescope.sim.pki import ClusterPKI
from kubescope.sim.protobuf import ProtobufError, decode_object
from kubescope.sim.resources import ResourceType, from_crd
from kubescope.sim.store import (
    BadRequest,
    Expired,
    Invalid,
    MethodNotAllowed,
    NotFound,
    ObjectStore,
    SimError,
    TooLargeResourceVersion,
    Watcher,
    event_line,
    parse_resource_version,
)

logger = logging.getLogger(__name__)
_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()
JSON = "application/json"
KUBE_VERSION = {
    "major": "1",
    "minor": "36",
    "gitVersion": "v1.36.1-kubescope",
    "gitCommit": "kubescope-simulator",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "n/a",
    "compiler": "kubescope",
    "platform": "linux/amd64",
}
MIN_REQUEST_TIMEOUT = 1800.0
"""kube-apiserver's --min-request-timeout: watches without timeoutSeconds last 1-2x this."""


def _bool(v: str | None) -> bool:
    return (v or "").lower() in ("1", "true", "yes")


class SimAPI:
    def __init__(
        self,
        store: ObjectStore,
        auth: AuthConfig,
        faults: Faults,
        pki: ClusterPKI | None,
        *,
        bookmark_interval: float = 60.0,
        require_auth: bool = True,
        server_address: str = "127.0.0.1:6443",
    ) -> None:
        self.store = store
        self.auth = auth
        self.faults = faults
        self.pki = pki
        self.bookmark_interval = bookmark_interval
        self.require_auth = require_auth and pki is not None
        self.server_address = server_address
        self.requests = 0
        self.internal_errors = 0
        self.errors_injected = 0
        self.watches_opened = 0
        self.aggregator = Aggregator(store, pki, auth.admin_token)
        self.cluster_ips = ClusterIPs(
            lambda: (str((o.get("spec") or {}).get("clusterIP", "")) for o in store.iter_objects("services"))
        )
        self._ctl_hooks: dict[str, Callable[[], Awaitable[Any]]] = {}
        self._ctl_posts: dict[str, Callable[[Any], Awaitable[Any]]] = {}
        self._crd_sync()
        self.store.add_hook(CRDS, self._on_crd)

    # -- plumbing -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, app: web.Application) -> None:
        await self.aggregator.close()

    def add_control(
        self,
        name: str,
        fn: Callable[[], Awaitable[Any]],
        post: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        """Expose ``GET /_sim/<name>`` (admin only): the kubelet farm's truth, for example. With
        ``post``, ``POST /_sim/<name>`` hands it the JSON body and answers what it returns (a
        :class:`~kubescope.errors.ConfigError` is a 400)."""
        self._ctl_hooks[name] = fn
        if post is not None:
            self._ctl_posts[name] = post

    def _on_crd(self, typ: str, crd: dict[str, Any]) -> None:
        """Serve, re-serve or stop serving a CustomResourceDefinition's resource, and establish it."""
        spec = crd.get("spec") or {}
        group, plural = str(spec.get("group", "")), str((spec.get("names") or {}).get("plural", ""))
        reg = self.store.registry
        key = f"{plural}.{group}"
        if typ == "DELETED":
            t = reg.by_key.get(key)
            if t is not None:
                for ns, name in self.store.keys(key):
                    with contextlib.suppress(NotFound):
                        self.store.delete(key, ns, name)
            reg.remove_group_resource(group, plural)
            self.store.registry_version += 1
            return
        types = from_crd(crd)
        reg.remove_group_resource(group, plural)
        for t in types:
            reg.add(t)
        self.store.registry_version += 1
        if types and not any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (crd.get("status") or {}).get("conditions") or []
        ):
            self.store.modify(
                CRDS, "", crd["metadata"]["name"], lambda o: o.__setitem__("status", _crd_status(o))
            )

    def _crd_sync(self) -> None:
        for crd in self.store.iter_objects(CRDS):
            self._on_crd("ADDED", crd)

    @staticmethod
    def _respond(code: int, body: bytes, content_type: str = JSON) -> web.Response:
        return web.Response(
            status=code,
            body=body,
            headers={"Content-Type": content_type, "Cache-Control": "no-cache, private"},
        )

    def _error(self, e: SimError) -> web.Response:
        code, body = st.status(e.code, e.reason, e.message, e.details or None)
        if e.list_meta:
            doc = _dec.decode(body)
            doc["metadata"] = e.list_meta
            body = _enc.encode(doc)
        headers = {}
        if e.code == 429:
            headers["Retry-After"] = str(self.faults.retry_after)
        return web.Response(status=code, body=body, content_type=JSON, headers=headers)

    # -- the entry point ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        path = request.path
        try:
            if path in ("/healthz", "/livez", "/readyz") or path.startswith(
                ("/healthz/", "/livez/", "/readyz/")
            ):
                return web.Response(text="ok")
            user = self._authenticate(request)
            if user is None:
                code, body = st.unauthorized()
                return self._respond(code, body)
            if path.startswith("/_sim/"):
                return await self._control(request, user)
            if path in ("/version", "/version/"):
                return self._respond(200, _enc.encode(KUBE_VERSION))
            plain, legacy = _without_legacy_watch(path)
            info = request_info(
                request.method, plain, {**request.query, "watch": "true"} if legacy else request.query
            )
            allowed, reason = self.auth.authorize(user, info)
            if not allowed:
                code, body = st.forbidden(info, user.name, reason)
                return self._respond(code, body)
            fault = await self._inject_fault()
            if fault is not None:
                return fault
            return await self._route(request, user, info)
        except SimError as e:
            return self._error(e)
        except SelectorError as e:
            return self._error(BadRequest(str(e)))
        except (ValueError, msgspec.DecodeError, yaml.YAMLError) as e:
            return self._error(BadRequest(f"the request could not be decoded: {e}"))
        except ConfigError as e:
            return self._error(BadRequest(str(e)))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # a bug must not take the server down or leave the client with a bare 500
            self.internal_errors += 1
            logger.exception(
                "request failed",
                extra=log_fields(method=request.method, path=request.path, error=repr(e)[:200]),
            )
            return self._error(SimError(f"Internal error occurred: {type(e).__name__}: {e}"[:500]))

    def _authenticate(self, request: web.Request) -> User | None:
        if not self.require_auth:
            return User("kubescope-admin", ("system:masters", "system:authenticated"))
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return self.auth.authenticate_token(header[7:].strip())
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if peer:
            subject = dict(x[0] for x in peer.get("subject", ()))
            cn = subject.get("commonName", "")
            orgs = tuple(v for rdn in peer.get("subject", ()) for k, v in rdn if k == "organizationName")
            if cn:
                return User(cn, orgs).with_defaults()
        # without credentials only the public paths answer (kube-apiserver's anonymous user gets no
        # more than system:public-info-viewer); everything else is 401, not 403
        return ANONYMOUS_USER if request.path in PUBLIC_PATHS else None

    async def _inject_fault(self) -> web.Response | None:
        f = self.faults
        if f.roll(f.delay_fraction) and f.delay_seconds > 0:
            await asyncio.sleep(f.delay_seconds)
        if f.roll(f.error_fraction):
            self.errors_injected += 1
            if f.error_code == 429:
                raise _TooMany(
                    "Too many requests, please try again later.", {"retryAfterSeconds": f.retry_after}
                )
            raise _ServerError(f.error_code, "simulated failure (kubescope simulate fault injection)")
        return None

    # -- control --------------------------------------------------------------------------

    async def _control(self, request: web.Request, user: User) -> web.Response:
        if "system:masters" not in user.groups:
            info = RequestInfo(path=request.path, verb=request.method.lower())
            code, body = st.forbidden(info, user.name)
            return self._respond(code, body)
        name = request.path[len("/_sim/") :].strip("/")
        if name == "faults":
            if request.method == "POST":
                changes = await request.json()
                if not isinstance(changes, dict):
                    raise BadRequest("expected a JSON object of fault settings")
                self.faults.update(changes)
                if changes.get("drop_watches"):
                    self.store.close_watchers(DROPPED)
                if changes.get("malformed_event"):
                    for w in self.store.all_watchers():
                        w.push(_MALFORMED, b"")
            return self._respond(200, _enc.encode(self.faults.as_dict()))
        if name == "stats":
            counts = {r: self.store.count(r) for r in sorted(self.store.objects) if self.store.count(r)}
            return self._respond(
                200,
                _enc.encode(
                    {
                        "resourceVersion": self.store.resource_version,
                        "historyFloor": self.store.history_floor,
                        "objects": counts,
                        "watchers": self.store.watcher_count(),
                        "requests": self.requests,
                        "watchesOpened": self.watches_opened,
                        "errorsInjected": self.errors_injected,
                        "internalErrors": self.internal_errors,
                    }
                ),
            )
        hook = self._ctl_hooks.get(name)
        if hook is not None:
            post = self._ctl_posts.get(name)
            if request.method == "POST" and post is not None:
                return self._respond(200, _enc.encode(await post(await request.json())))
            return self._respond(200, _enc.encode(await hook()))
        raise NotFound(f"no simulator control endpoint {name!r}")

    # -- routing --------------------------------------------------------------------------

    async def _route(self, request: web.Request, user: User, info: RequestInfo) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        parts = [p for p in path.split("/") if p]
        if path in ("/api", "/apis"):
            return self._discovery(request, path)
        if parts and parts[0] == "openapi":
            return self._respond(200, _enc.encode(self._openapi(parts)))
        if not parts or parts[0] not in ("api", "apis"):
            code, body = st.path_not_found()
            return self._respond(code, body)
        if parts[0] == "apis":
            if len(parts) == 2:
                return self._respond(200, _enc.encode(self._group(parts[1])))
            if len(parts) >= 3:
                backend = self.aggregator.backend(parts[1], parts[2])
                if backend is not None:
                    return await self.aggregator.proxy(request, user, backend)
        group = "" if parts[0] == "api" else parts[1]
        version = parts[1] if parts[0] == "api" else (parts[2] if len(parts) > 2 else "")
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        if not rest:
            return self._respond(200, _enc.encode(self._resource_list(group, version)))
        legacy_watch = rest[0] == "watch" and len(rest) > 1 and request.method == "GET"
        if legacy_watch:
            # the deprecated /watch/ paths: the same as ?watch=true
            rest = rest[1:]
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace = rest[1]
            rest = rest[2:]
        plural = rest[0]
        t = self.store.registry.lookup(group, version, plural)
        if t is None:
            code, body = st.path_not_found()
            return self._respond(code, body)
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if plural == "namespaces" and not name and namespace:
            name, namespace = namespace, ""
        if t.key == "nodes" and sub == "proxy":
            return await self.aggregator.node_proxy(request, name, "/".join(rest[3:]))
        if t.create_only:
            return await self._review(request, t, user)
        if not t.namespaced:
            namespace = ""
        return await self._resource(request, t, version, namespace, name, sub, watch=legacy_watch)

    # -- discovery ------------------------------------------------------------------------

    def _group_versions(self) -> dict[str, list[str]]:
        return discovery.group_versions(
            self.store.registry, ((g, v) for g, v, _ in self.aggregator.services())
        )

    def _discovery(self, request: web.Request, path: str) -> web.Response:
        """``/api`` and ``/apis``: aggregated discovery when asked for first, else the legacy lists."""
        if discovery.wants_aggregated(request.headers.get("Accept", "")):
            backends = {
                (g, v): self.aggregator.discovery.get((g, v)) for g, v, _ in self.aggregator.services()
            }
            doc = discovery.aggregated(self.store.registry, core=path == "/api", backends=backends)
            return self._respond(200, _enc.encode(doc), discovery.AGGREGATED_V2)
        if path == "/api":
            versions = {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}
                ],
            }
            return self._respond(200, _enc.encode(versions))
        return self._respond(200, _enc.encode(discovery.group_list(self._group_versions())))

    def _group(self, name: str) -> dict[str, Any]:
        vs = self._group_versions().get(name)
        if not vs:
            raise NotFound("the server could not find the requested resource")
        return {"kind": "APIGroup", "apiVersion": "v1", **discovery.group_doc(name, vs)}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        doc = discovery.resource_list(self.store.registry, group, version)
        if doc is None:
            raise NotFound("the server could not find the requested resource")
        return doc

    # -- OpenAPI ----------------------------------------------------------------------------

    def _openapi(self, parts: list[str]) -> dict[str, Any]:
        """Enough OpenAPI for kubectl: v3 documents per group-version declaring every operation with
        its group-version-kind and the ``fieldValidation`` parameter, so kubectl validates on the
        server (``?fieldValidation=Strict``) instead of fetching protobuf schemas. No schemas."""
        if len(parts) > 1 and parts[1] == "v2":
            return {
                "swagger": "2.0",
                "info": {"title": "Kubernetes", "version": KUBE_VERSION["gitVersion"]},
                "paths": {},
                "definitions": {},
            }
        if len(parts) <= 2:
            gvs = {
                f"api/{t.version}" if not t.group else f"apis/{t.group}/{t.version}"
                for (g, v, _), t in self.store.registry.by_gvr.items()
            }
            return {
                "paths": {
                    gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash=kubescope{self.store.registry_version}"}
                    for gv in sorted(gvs)
                }
            }
        gv = "/".join(parts[2:])
        if gv.startswith("api/"):
            group, version = "", gv.split("/")[1]
        else:
            _, group, version = [*gv.split("/"), "", ""][:3]
        paths: dict[str, Any] = {}
        param = [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        ]
        for t in self.store.registry.in_group_version(group, version):
            gvk = {"group": t.group, "version": version, "kind": t.kind}
            base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
            coll = f"{base}/namespaces/{{namespace}}/{t.plural}" if t.namespaced else f"{base}/{t.plural}"
            op = {
                "x-kubernetes-group-version-kind": gvk,
                "parameters": param,
                "responses": {"200": {"description": "OK"}},
            }
            paths[coll] = {"post": op, "get": {**op, "parameters": []}}
            if not t.create_only:
                paths[coll + "/{name}"] = {
                    "get": {**op, "parameters": []},
                    "put": op,
                    "patch": op,
                    "delete": op,
                }
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": KUBE_VERSION["gitVersion"]},
            "paths": paths,
            "components": {"schemas": {}},
        }

    # -- TokenReview / SubjectAccessReview -------------------------------------------------

    async def _review(self, request: web.Request, t: ResourceType, user: User) -> web.Response:
        if request.method != "POST":
            raise MethodNotAllowed("the server does not allow this method on the requested resource")
        body = await request.json()
        spec = body.get("spec") or {} if isinstance(body, dict) else {}
        out: dict[str, Any] = {
            "kind": t.kind,
            "apiVersion": t.api_version,
            "metadata": {"creationTimestamp": None},
            "spec": spec,
        }
        if t.plural == "tokenreviews":
            u = self.auth.authenticate_token(str(spec.get("token", "")))
            if u is None:
                out["status"] = {"authenticated": False, "error": "invalid bearer token", "user": {}}
            else:
                out["status"] = {
                    "authenticated": True,
                    "user": {"username": u.name, "uid": u.uid, "groups": list(u.groups)},
                    "audiences": spec.get("audiences") or [],
                }
        else:
            if t.plural == "selfsubjectaccessreviews":
                subject = user
            else:
                subject = User(
                    str(spec.get("user", "")), tuple(spec.get("groups") or ()), str(spec.get("uid", ""))
                )
            ra = spec.get("resourceAttributes")
            na = spec.get("nonResourceAttributes")
            if ra:
                info = RequestInfo(
                    path="",
                    verb=str(ra.get("verb", "")),
                    is_resource_request=True,
                    group=str(ra.get("group", "")),
                    version=str(ra.get("version", "")),
                    namespace=str(ra.get("namespace", "")),
                    resource=str(ra.get("resource", "")),
                    subresource=str(ra.get("subresource", "")),
                    name=str(ra.get("name", "")),
                )
            else:
                info = RequestInfo(path=str((na or {}).get("path", "")), verb=str((na or {}).get("verb", "")))
            allowed, reason = self.auth.authorize(subject, info)
            out["status"] = {"allowed": allowed, **({"reason": reason} if reason else {})}
        return self._respond(201, _enc.encode(out))

    # -- resources ------------------------------------------------------------------------

    async def _resource(
        self,
        request: web.Request,
        t: ResourceType,
        version: str,
        ns: str,
        name: str,
        sub: str,
        *,
        watch: bool = False,
    ) -> web.StreamResponse:
        m = request.method
        q = request.query
        watch = watch or _bool(q.get("watch"))
        if sub and sub not in t.subresources:
            code, err = st.path_not_found()
            return self._respond(code, err)
        if sub and sub not in ("status", "scale"):
            return await self._connect(request, t, ns, name, sub)
        if m == "GET":
            if not name:
                if watch:
                    return await self._watch(request, t, ns, q)
                return await self._list(request, t, ns, q)
            if watch:
                return await self._watch(request, t, ns, q, name=name)
            obj = self.store.get(t.key, ns, name)
            if sub == "scale":
                obj = _scale(obj)
            return self._object_response(request, t, [obj], single=True)
        if m == "POST":
            if name:
                raise MethodNotAllowed("the server does not allow this method on the requested resource")
            body = await self._body(request)
            if ns and t.namespaced:
                meta_ns = body.setdefault("metadata", {}).setdefault("namespace", ns) or ns
                body["metadata"]["namespace"] = meta_ns
                if meta_ns != ns:
                    raise BadRequest(
                        "the namespace of the provided object does not match the namespace sent on the request"
                    )
                self._require_namespace(ns)
            self._default(t, body)
            if _dry_run(q):
                return self._respond(201, _enc.encode(body))
            created = self.store.create(t.key, body)
            return self._respond(201, _enc.encode(created))
        if m == "PUT":
            body = await self._body(request)
            meta = body.setdefault("metadata", {})
            meta.setdefault("name", name)
            if ns:
                meta.setdefault("namespace", ns)
            if sub == "scale":
                return self._respond(200, _enc.encode(self._set_scale(t, ns, name, body)))
            if not sub:
                self._default(t, body, ns=ns, name=name)
            updated = self.store.update(t.key, body, subresource=sub)
            return self._respond(200, _enc.encode(updated))
        if m == "PATCH":
            kind = PATCH_TYPES.get(request.content_type)
            if kind is None:
                raise _Unsupported(
                    f"the body of the request was in an unknown format - accepted media types include: {', '.join(PATCH_TYPES)}"
                )
            raw = await request.read()
            patch_body = yaml.safe_load(raw) if kind == "apply" else _dec.decode(raw)
            if sub == "scale":
                cur = _scale(self.store.get(t.key, ns, name))
                return self._respond(
                    200, _enc.encode(self._set_scale(t, ns, name, apply_patch(kind, cur, patch_body)))
                )
            try:
                current = self.store.get(t.key, ns, name)
            except NotFound:
                if kind != "apply":
                    raise
                patch_body.setdefault("metadata", {}).update(
                    {"name": name, **({"namespace": ns} if ns else {})}
                )
                self._default(t, patch_body)
                created = self.store.create(t.key, patch_body)
                return self._respond(201, _enc.encode(created))
            new = apply_patch(kind, current, patch_body)
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if isinstance(patch_body, dict) and (patch_body.get("metadata") or {}).get("resourceVersion"):
                new["metadata"]["resourceVersion"] = patch_body["metadata"]["resourceVersion"]
            updated = self.store.update(t.key, new, subresource=sub)
            return self._respond(200, _enc.encode(updated))
        if m == "DELETE":
            if not name:
                return await self._delete_collection(t, ns, q)
            opts = await self._delete_options(request)
            pre = opts.get("preconditions") or {}
            if _dry_run(q) or opts.get("dryRun"):
                return self._respond(200, _enc.encode(self.store.get(t.key, ns, name)))
            deleted = self.store.delete(
                t.key,
                ns,
                name,
                uid=str(pre.get("uid") or ""),
                resource_version=str(pre.get("resourceVersion") or ""),
            )
            if deleted["metadata"].get("deletionTimestamp") or t.key in RETURNS_DELETED_OBJECT:
                # still there (finalizers), or a kind whose registry answers with the object
                return self._respond(200, _enc.encode(deleted))
            details = {
                "name": name,
                "group": t.group,
                "kind": t.plural,
                "uid": deleted["metadata"].get("uid", ""),
            }
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {k: v for k, v in details.items() if v},
            }
            return self._respond(200, _enc.encode(body))
        raise MethodNotAllowed("the server does not allow this method on the requested resource")

    def _require_namespace(self, ns: str) -> None:
        if ("", ns) not in self.store.objects.get("namespaces", {}):
            raise NotFound(f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})

    def _default(self, t: ResourceType, obj: dict[str, Any], *, ns: str = "", name: str = "") -> None:
        """kube-apiserver's defaulting; an update keeps the stored cluster IP (it is immutable)."""
        if not isinstance(obj.get("metadata"), dict):
            return
        next_ip = self.cluster_ips.next
        if name and t.key == "services" and self.store.exists("services", ns, name):
            kept = str((self.store.get("services", ns, name).get("spec") or {}).get("clusterIP", ""))

            def next_ip() -> str:
                return kept

        apply_defaults(t.key, obj, next_ip)

    async def _connect(
        self, request: web.Request, t: ResourceType, ns: str, name: str, sub: str
    ) -> web.Response:
        """The subresources that are actions: logs, eviction, binding; the rest need containers."""
        m = request.method
        if t.key == "pods" and sub == "log" and m == "GET":
            pod = self.store.get("pods", ns, name)
            containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
            container = request.query.get("container") or (containers[0] if len(containers) == 1 else "")
            if not container:
                raise BadRequest(
                    f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
                )
            if container not in containers:
                raise BadRequest(f"container {container} is not valid for pod {name}")
            started = (pod.get("status") or {}).get("startTime") or pod["metadata"].get(
                "creationTimestamp", ""
            )
            text = f"{started} simulated container {container} of pod {ns}/{name} started\n"
            return web.Response(text=text, content_type="text/plain")
        if t.key == "pods" and sub == "eviction" and m == "POST":
            await self._body(request)
            self.store.delete("pods", ns, name)
            body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
            return self._respond(201, _enc.encode(body))
        if t.key == "pods" and sub == "binding" and m == "POST":
            binding = await self._body(request)
            node = str((binding.get("target") or {}).get("name", ""))
            if not node:
                raise Invalid(f'Binding "{name}" is invalid: target.name: Required value')
            self.store.modify(
                "pods", ns, name, lambda o: o.setdefault("spec", {}).__setitem__("nodeName", node)
            )
            body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
            return self._respond(201, _enc.encode(body))
        if t.key == "serviceaccounts" and sub == "token" and m == "POST":
            req = await self._body(request)
            self.store.get("serviceaccounts", ns, name)  # 404 for a missing account
            spec = req.get("spec") or {}
            seconds = int(spec.get("expirationSeconds") or 3600)
            if seconds < 600:
                raise Invalid(
                    f'TokenRequest.authentication.k8s.io "{name}" is invalid: spec.expirationSeconds: '
                    "Invalid value: may not specify a duration less than 10 minutes"
                )
            token, expiry = self.auth.issue_service_account_token(ns, name, seconds)
            out = {
                "kind": "TokenRequest",
                "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
                "spec": {**spec, "expirationSeconds": seconds},
                "status": {
                    "token": token,
                    "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry)),
                },
            }
            return self._respond(201, _enc.encode(out))
        raise BadRequest(
            f"the simulator runs no containers or kubelet streams: {t.plural}/{sub} is listed in discovery "
            "but not served"
        )

    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        raw = await request.read()
        if not raw.strip():
            return {}
        if "protobuf" in request.content_type:
            try:
                return decode_object(raw)
            except ProtobufError as e:
                raise _Unsupported(f"{UNSUPPORTED_BODY}; the protobuf body could not be read: {e}") from e
        body = _dec.decode(raw)
        if not isinstance(body, dict):
            raise BadRequest("the body of the request was in an unknown format")
        return body

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        ctype = request.content_type
        if "protobuf" in ctype:
            try:
                return decode_object(raw)
            except ProtobufError as e:
                raise _Unsupported(f"{UNSUPPORTED_BODY}; the protobuf body could not be read: {e}") from e
        if "yaml" in ctype:
            body = yaml.safe_load(raw)
        else:
            body = _dec.decode(raw)
        if not isinstance(body, dict):
            raise BadRequest("the body of the request was in an unknown format")
        return body

    def _set_scale(self, t: ResourceType, ns: str, name: str, scale: dict[str, Any]) -> dict[str, Any]:
        replicas = int((scale.get("spec") or {}).get("replicas", 0))

        def fn(o: dict[str, Any]) -> None:
            o.setdefault("spec", {})["replicas"] = replicas

        return _scale(self.store.modify(t.key, ns, name, fn))

    async def _delete_collection(self, t: ResourceType, ns: str, q: Any) -> web.Response:
        labels, flds = self._selectors(t, q)
        n = 0
        for e in self.store.matching(t.key, ns, labels, flds):
            meta = _dec.decode(e.raw)["metadata"]
            with contextlib.suppress(NotFound):
                self.store.delete(t.key, meta.get("namespace", ""), meta["name"])
                n += 1
        return self._respond(
            200,
            _enc.encode(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {"kind": t.plural},
                }
            ),
        )

    def _selectors(self, t: ResourceType, q: Any) -> tuple[LabelSelector | None, FieldSelector | None]:
        labels = parse_label_selector(q.get("labelSelector", "")) if q.get("labelSelector") else None
        flds = None
        if q.get("fieldSelector"):
            flds = parse_field_selector(q["fieldSelector"])
            supported = t.field_getters()
            for term in flds.terms:
                if term.field not in supported:
                    raise BadRequest(f"field label not supported: {term.field}")
        return labels, flds

    def _wants_table(self, request: web.Request) -> bool:
        accept = request.headers.get("Accept", "")
        return "as=Table" in accept and "g=meta.k8s.io" in accept

    def _object_response(
        self,
        request: web.Request,
        t: ResourceType,
        objs: list[dict[str, Any]],
        *,
        single: bool,
        list_meta: dict[str, Any] | None = None,
    ) -> web.Response:
        if self._wants_table(request):
            tbl = tables.table(
                t, objs, list_meta=list_meta, include=request.query.get("includeObject", "Metadata")
            )
            return self._respond(200, _enc.encode(tbl))
        if single:
            return self._respond(200, _enc.encode(objs[0]))
        raise AssertionError("lists are streamed by _list")

    async def _list(self, request: web.Request, t: ResourceType, ns: str, q: Any) -> web.StreamResponse:
        labels, flds = self._selectors(t, q)
        rv_q = q.get("resourceVersion", "")
        if rv_q not in ("", "0"):
            wanted = parse_resource_version(rv_q)
            # kube-apiserver waits up to 3 s for its cache to reach a version newer than it has
            if wanted > self.store.resource_version:
                await self.store.wait_for_rv(wanted, 3.0)
        page = self.store.list_page(
            t.key,
            ns,
            labels=labels,
            fields=flds,
            limit=_int_param(q, "limit"),
            token=q.get("continue", ""),
            resource_version=rv_q,
            match=q.get("resourceVersionMatch", ""),
        )
        meta: dict[str, Any] = {"resourceVersion": str(page.rv)}
        if page.continue_token:
            meta["continue"] = page.continue_token
        if page.remaining is not None:
            meta["remainingItemCount"] = page.remaining
        if self._wants_table(request):
            objs = [_dec.decode(r) for r in page.items]
            tbl = tables.table(
                t, objs, list_meta=meta, include=request.query.get("includeObject", "Metadata")
            )
            return self._respond(200, _enc.encode(tbl))
        head = (
            b'{"kind":"'
            + t.kind.encode()
            + b'List","apiVersion":"'
            + t.api_version.encode()
            + b'","metadata":'
            + _enc.encode(meta)
            + b',"items":['
        )
        resp = web.StreamResponse(
            status=200, headers={"Content-Type": JSON, "Cache-Control": "no-cache, private"}
        )
        await resp.prepare(request)
        try:
            await resp.write(head)
            buf: list[bytes] = []
            size = 0
            for j, raw in enumerate(page.items):
                if j:
                    buf.append(b",")
                buf.append(raw)
                size += len(raw)
                if size >= 1 << 20:
                    await resp.write(b"".join(buf))
                    buf, size = [], 0
            buf.append(b"]}")
            await resp.write(b"".join(buf))
            await resp.write_eof()
        except ConnectionResetError:
            pass  # the client went away mid-list
        return resp

    async def _watch(
        self, request: web.Request, t: ResourceType, ns: str, q: Any, name: str = ""
    ) -> web.StreamResponse:
        labels, flds = self._selectors(t, q)
        if name:
            extra = parse_field_selector(f"metadata.name={name}")
            flds = extra if flds is None else FieldSelector(flds.terms + extra.terms)
        rv_q = q.get("resourceVersion", "")
        bookmarks = _bool(q.get("allowWatchBookmarks"))
        initial_q = q.get("sendInitialEvents")
        initial = _bool(initial_q)
        if initial_q is not None and q.get("resourceVersionMatch") != "NotOlderThan":
            raise Invalid(
                'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents '
                "is forbidden for watch unless resourceVersionMatch is set to NotOlderThan"
            )
        if initial and not bookmarks:
            raise Invalid(
                'ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Forbidden: '
                "allowWatchBookmarks must be set to true when sendInitialEvents is set to true"
            )
        since = parse_resource_version(rv_q) if rv_q else 0
        timeout = _float_param(q, "timeoutSeconds") or MIN_REQUEST_TIMEOUT * (1 + random.random())
        table = self._wants_table(request)
        self.watches_opened += 1
        if since > self.store.resource_version:
            await self.store.wait_for_rv(since, 3.0)
        resp = web.StreamResponse(
            status=200, headers={"Content-Type": JSON, "Cache-Control": "no-cache, private"}
        )
        await resp.prepare(request)
        if self.faults.take_gone():
            self.errors_injected += 1
            await resp.write(_gone_line(since or self.store.resource_version, self.store.resource_version))
            await resp.write_eof()
            return resp
        if since > self.store.resource_version:
            await resp.write(_error_line(TooLargeResourceVersion(since, self.store.resource_version)))
            await resp.write_eof()
            return resp
        w = Watcher(t.key, ns, labels, flds)
        if since == 0 or initial:
            # "Get State and Start at Most Recent" (or WatchList): synthetic ADDED events for what exists now
            for e in self.store.matching(t.key, ns, labels, flds):
                w.queue.append(("ADDED", e.raw, b""))
            if initial:
                w.queue.append((_INITIAL_END, str(self.store.resource_version).encode(), b""))
        else:
            history = self.store.history_since(since)
            if history is None:
                await resp.write(_gone_line(since, self.store.history_floor))
                await resp.write_eof()
                return resp
            for ev in history:
                if ev.res == t.key:
                    w.offer(ev)
        self.store.add_watcher(w)
        try:
            await self._stream(request, resp, t, w, timeout, bookmarks, table)
        except ConnectionResetError:
            return resp  # the client went away: nothing left to tell it
        finally:
            self.store.remove_watcher(w)
        if w.closed and w.close_reason == DROPPED:
            # an abrupt drop: no clean end of the chunked body
            if request.transport is not None:
                request.transport.close()
            return resp
        with contextlib.suppress(ConnectionResetError):
            await resp.write_eof()
        return resp

    async def _stream(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        t: ResourceType,
        w: Watcher,
        timeout: float,
        bookmarks: bool,
        table: bool,
    ) -> None:
        include = request.query.get("includeObject", "Metadata")
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.bookmark_interval
        first_table = True
        while True:
            if w.queue:
                lines = []
                size = 0
                # bounded writes: a watch from "0" over 150,000 pods must not become one 500 MB join
                while w.queue and size < WRITE_CHUNK:
                    typ, raw, line = w.queue.popleft()
                    size += len(raw)
                    if typ == _MALFORMED:
                        lines.append(b'{"type":"MODIFIED","object":{"metadata":\n')
                    elif typ == _INITIAL_END:
                        lines.append(self._bookmark(t, raw.decode(), initial_end=True))
                    elif table:
                        tbl = tables.table(t, [_dec.decode(raw)], columns=first_table, include=include)
                        first_table = False
                        lines.append(event_line(typ, _enc.encode(tbl)))
                    else:
                        lines.append(line or event_line(typ, raw))
                await resp.write(b"".join(lines))
                # events queued while that write waited are sent before anything else
                continue
            if w.closed:
                return
            now = time.monotonic()
            if now >= deadline:
                return
            if bookmarks and now >= next_bookmark:
                # the queue is empty: every change up to the store's version has been sent or filtered
                await resp.write(self._bookmark(t, str(self.store.resource_version)))
                next_bookmark = now + self.bookmark_interval
                continue
            wait = min(deadline, next_bookmark if bookmarks else deadline) - now
            w.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(w.wake.wait(), max(0.0, wait))

    def _bookmark(self, t: ResourceType, rv: str, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": rv, "creationTimestamp": None}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return event_line(
            "BOOKMARK", _enc.encode({"kind": t.kind, "apiVersion": t.api_version, "metadata": meta})
        )


def _error_line(e: SimError) -> bytes:
    _, body = st.status(e.code, e.reason, e.message, e.details or None)
    return b'{"type":"ERROR","object":' + body + b"}\n"


def _gone_line(rv: int, oldest: int) -> bytes:
    """The watch cache's answer to a watch from a compacted version (an in-stream ERROR, HTTP 200)."""
    return _error_line(Expired(f"too old resource version: {rv} ({oldest})"))


def _int_param(q: Any, name: str) -> int:
    v = q.get(name) or "0"
    try:
        return int(v)
    except ValueError:
        raise BadRequest(
            f'{name}: Invalid value: "{v}": strconv.ParseInt: parsing "{v}": invalid syntax'
        ) from None


def _float_param(q: Any, name: str) -> float:
    return float(_int_param(q, name))


CRDS = "customresourcedefinitions.apiextensions.k8s.io"


def _crd_status(crd: dict[str, Any]) -> dict[str, Any]:
    """What the apiextensions controllers write: names accepted, established, stored versions."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    spec = crd.get("spec") or {}
    stored = [str(v.get("name")) for v in spec.get("versions") or [] if v.get("storage")]
    return {
        "acceptedNames": spec.get("names") or {},
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
        "storedVersions": stored,
    }


def _without_legacy_watch(path: str) -> tuple[str, bool]:
    """``/api/v1/watch/...`` and ``/apis/<g>/<v>/watch/...`` as the path without ``watch``."""
    parts = path.split("/")
    at = 3 if path.startswith("/api/") else 4
    if len(parts) > at + 1 and parts[at] == "watch" and parts[1] in ("api", "apis"):
        return "/".join(parts[:at] + parts[at + 1 :]), True
    return path, False


def _dry_run(q: Any) -> bool:
    return bool(q.get("dryRun") == "All")


RETURNS_DELETED_OBJECT = frozenset(
    {
        "pods",
        "serviceaccounts",
        "namespaces",
        "storageclasses.storage.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
    }
)
"""Registries built with ``ReturnDeletedObject``: a DELETE answers with the object, not a Status."""

UNSUPPORTED_BODY = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json, application/yaml, application/vnd.kubernetes.protobuf"
)

WRITE_CHUNK = 1 << 20
"""Bytes of event lines joined per write to a watch stream."""

_MALFORMED = "_malformed"
_INITIAL_END = "_initial_end"
DROPPED = "dropped by fault injection"


def _scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    sel = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(sel.items())),
        },
    }


class _TooMany(SimError):
    code, reason = 429, "TooManyRequests"


class _Unsupported(SimError):
    code, reason = 415, "UnsupportedMediaType"


class _ServerError(SimError):
    reason = "InternalError"

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Internal error occurred: {message}")
        self.code = code
        if code != 500:
            self.reason = "ServiceUnavailable"
