"""The simulator's proxies: kube-aggregator (APIService backends) and the node proxy to kubelets.

**Aggregation.** An APIService with ``spec.service`` takes over ``/apis/<group>/<version>``. As with
kube-apiserver's ``--enable-aggregator-routing``, the Service is resolved to one ready endpoint
through its Endpoints (or EndpointSlices); the request goes there over HTTPS with the front-proxy
client certificate (CN ``front-proxy-client``, signed by the separate front-proxy CA), the caller's
``Authorization`` header removed and its identity in ``X-Remote-User``, one ``X-Remote-Group`` per
group and ``X-Remote-Extra-<key>``. The backend's certificate is checked against ``spec.caBundle``
unless ``spec.insecureSkipTLSVerify``. The answer streams back as it comes (watches included).

The availability controller's part: :meth:`Aggregator.check` probes ``/apis/<group>/<version>`` of
each backend and sets the APIService's ``Available`` condition with kube-aggregator's reasons
(``Passed``, ``ServiceNotFound``, ``EndpointsNotFound``, ``FailedDiscoveryCheck``, ``Local``).

**Node proxy.** ``/api/v1/nodes/<name>/proxy/<path>`` goes to the node's kubelet at its
``InternalIP`` and ``status.daemonEndpoints.kubeletEndpoint.Port``, over HTTPS when the simulator
runs TLS (presenting the apiserver-kubelet-client certificate, O=system:masters, as kubeadm sets it
up, plus the admin bearer token for kubelets that check tokens), else plain HTTP.
"""

from __future__ import annotations

import base64
import logging
import random
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from kubescope.log import fields
from kubescope.sim.auth import User
from kubescope.sim.errors import NotFound, SimError
from kubescope.sim.pki import ClusterPKI
from kubescope.sim.store import ObjectStore

logger = logging.getLogger(__name__)

APISERVICES = "apiservices.apiregistration.k8s.io"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)


class ServiceUnavailable(SimError):
    code, reason = 503, "ServiceUnavailable"


class Aggregator:
    """APIService routing and availability, and the node proxy; owns one client session."""

    def __init__(self, store: ObjectStore, pki: ClusterPKI | None, admin_token: str) -> None:
        self.store = store
        self.pki = pki
        self.admin_token = admin_token
        self._client: aiohttp.ClientSession | None = None
        self._ctx_cache: dict[tuple[bytes | None, bool], ssl.SSLContext] = {}
        self.proxied = 0
        self.discovery: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """The backends' resource lists from the last successful probe, for aggregated discovery."""

    def client(self) -> aiohttp.ClientSession:
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
                auto_decompress=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    # -- routing table -----------------------------------------------------------------------

    def services(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``(group, version, apiservice)`` for every APIService backed by a Service."""
        out = []
        for o in self.store.iter_objects(APISERVICES):
            spec = o.get("spec") or {}
            if spec.get("service") and spec.get("group") and spec.get("version"):
                out.append((str(spec["group"]), str(spec["version"]), o))
        return out

    def backend(self, group: str, version: str) -> dict[str, Any] | None:
        # APIService names are "<version>.<group>", so this is one lookup, not a scan
        name = f"{version}.{group}"
        if not self.store.exists(APISERVICES, "", name):
            return None
        o = self.store.get(APISERVICES, "", name)
        spec = o.get("spec") or {}
        if spec.get("service") and spec.get("group") == group and spec.get("version") == version:
            return o
        return None

    def resolve_service(self, svc: Mapping[str, Any]) -> tuple[str, int] | None:
        """One ready endpoint of a Service, via its Endpoints or EndpointSlices (aggregator routing)."""
        found = self._resolve(svc)
        return (str(found[0]), found[1]) if isinstance(found[1], int) else None

    def _resolve(self, svc: Mapping[str, Any]) -> tuple[str, int] | tuple[str, str]:
        """An endpoint, or ``(reason, message)`` as the availability controller words the failure."""
        ns, name = str(svc.get("namespace", "")), str(svc.get("name", ""))
        port = int(svc.get("port") or 443)
        try:
            service = self.store.get("services", ns, name)
        except SimError:
            return "ServiceNotFound", f'service/{name} in "{ns}" is not present'
        target: Any = None
        for p in (service.get("spec") or {}).get("ports") or []:
            if int(p.get("port", 0)) == port:
                target = p.get("targetPort", port)
                port_name = p.get("name", "")
                break
        else:
            if (service.get("spec") or {}).get("type") != "ExternalName":
                return "ServicePortError", f'service/{name} in "{ns}" is not listening on port {port}'
            port_name = ""
        if self.store.exists("endpoints", ns, name):
            ep = self.store.get("endpoints", ns, name)
            for subset in ep.get("subsets") or []:
                addrs = subset.get("addresses") or []
                for p in subset.get("ports") or []:
                    if addrs and (p.get("name", "") == port_name or p.get("port") == target):
                        return str(random.choice(addrs)["ip"]), int(p["port"])
        for es in self.store.iter_objects("endpointslices.discovery.k8s.io"):
            meta = es.get("metadata") or {}
            if (
                meta.get("namespace") != ns
                or (meta.get("labels") or {}).get("kubernetes.io/service-name") != name
            ):
                continue
            ready = [
                e
                for e in es.get("endpoints") or []
                if (e.get("conditions") or {}).get("ready", True) is not False
            ]
            for p in es.get("ports") or []:
                if ready and (p.get("name", "") == port_name or p.get("port") == target):
                    return str(ready[0]["addresses"][0]), int(p["port"])
        return "EndpointsNotFound", f'cannot find endpoints for service/{name} in "{ns}"'

    def _context(self, spec: Mapping[str, Any]) -> ssl.SSLContext:
        if self.pki is None:
            raise ServiceUnavailable("the simulator runs without TLS: it has no front-proxy certificate")
        ca = base64.b64decode(spec["caBundle"]) if spec.get("caBundle") else None
        key = (ca, bool(spec.get("insecureSkipTLSVerify")))
        ctx = self._ctx_cache.get(key)
        if ctx is None:
            ctx = self.pki.front_proxy_client_context(ca, key[1])
            self._ctx_cache[key] = ctx
        return ctx

    # -- proxying ------------------------------------------------------------------------------

    async def proxy(self, request: web.Request, user: User, apisvc: Mapping[str, Any]) -> web.StreamResponse:
        spec = apisvc.get("spec") or {}
        found = self._resolve(spec.get("service") or {})
        if not isinstance(found[1], int):
            raise ServiceUnavailable("service unavailable")
        host, port = str(found[0]), found[1]
        ctx = self._context(spec)
        headers: list[tuple[str, str]] = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP
            and k.lower() != "authorization"
            and not k.lower().startswith("x-remote-")
        ]
        headers.append(("X-Remote-User", user.name))
        headers += [("X-Remote-Group", g) for g in user.groups]
        for k, vs in user.extra.items():
            headers += [(f"X-Remote-Extra-{urllib.parse.quote(k.lower(), safe='')}", v) for v in vs]
        if request.remote:
            headers.append(("X-Forwarded-For", request.remote))
        body = await request.read() if request.can_read_body else None
        url = f"https://{host}:{port}{request.path_qs}"
        self.proxied += 1
        try:
            async with self.client().request(
                request.method, url, data=body or None, headers=headers, ssl=ctx, allow_redirects=False
            ) as resp:
                return await _relay(request, resp)
        except (aiohttp.ClientError, OSError, ssl.SSLError) as e:
            logger.warning(
                "aggregated API backend failed", extra=fields(target=f"{host}:{port}", error=str(e))
            )
            raise ServiceUnavailable(f"error trying to reach service: {e}") from e

    async def node_proxy(self, request: web.Request, node: str, sub: str) -> web.StreamResponse:
        n = self.store.get("nodes", "", node)
        status = n.get("status") or {}
        addrs = status.get("addresses") or []
        addr = next((a.get("address") for a in addrs if a.get("type") == "InternalIP"), None)
        addr = addr or next((a.get("address") for a in addrs if a.get("type") == "Hostname"), None)
        port = int(((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 10250)
        if not addr:
            raise ServiceUnavailable(f"no preferred addresses found; known addresses: {addrs}")
        scheme = "https" if self.pki is not None else "http"
        url = f"{scheme}://{addr}:{port}/{sub}"
        if request.query_string:
            url += "?" + request.query_string
        ctx: ssl.SSLContext | bool = self.pki.kubelet_client_context() if self.pki is not None else False
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        for k in ("Accept", "Accept-Encoding", "Content-Type"):
            if k in request.headers:
                headers[k] = request.headers[k]
        body = await request.read() if request.can_read_body else None
        self.proxied += 1
        try:
            async with self.client().request(
                request.method,
                url,
                headers=headers,
                data=body or None,
                ssl=ctx,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60),
                allow_redirects=False,
            ) as resp:
                return await _relay(request, resp)
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise ServiceUnavailable(f"error trying to reach service: {e}") from e

    # -- availability --------------------------------------------------------------------------

    async def check(self) -> None:
        """kube-aggregator's availability controller, one pass over every APIService."""
        for o in self.store.iter_objects(APISERVICES):
            spec = o.get("spec") or {}
            if not spec.get("service"):
                cond = _cond("True", "Local", "Local APIServices are always available")
            else:
                found = self._resolve(spec["service"])
                if isinstance(found[1], int):
                    cond = await self._probe((str(found[0]), found[1]), spec)
                else:
                    cond = _cond("False", str(found[0]), str(found[1]))
            conds = list((o.get("status") or {}).get("conditions") or [])
            old: dict[str, Any] = next((c for c in conds if c.get("type") == "Available"), {})
            if (old.get("status"), old.get("reason"), old.get("message")) == (
                cond["status"],
                cond["reason"],
                cond["message"],
            ):
                continue
            cond["lastTransitionTime"] = (
                old.get("lastTransitionTime")
                if old.get("status") == cond["status"] and old.get("lastTransitionTime")
                else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            )
            name = o["metadata"]["name"]

            def set_available(obj: dict[str, Any], cond: dict[str, Any] = cond) -> None:
                st = obj.setdefault("status", {})
                st["conditions"] = [c for c in st.get("conditions") or [] if c.get("type") != "Available"]
                st["conditions"].append(cond)

            try:
                self.store.modify(APISERVICES, "", name, set_available)
            except NotFound:
                continue  # deleted while we probed

    def _remember_discovery(self, group: str, version: str, body: bytes) -> None:
        resources = _decode_resources(body)
        if resources is not None:
            self.discovery[(group, version)] = resources

    async def _probe(self, target: tuple[str, int], spec: Mapping[str, Any]) -> dict[str, Any]:
        path = f"/apis/{spec['group']}/{spec['version']}"
        url = f"https://{target[0]}:{target[1]}{path}"
        headers = [("X-Remote-User", "system:kube-aggregator"), ("X-Remote-Group", "system:masters")]
        try:
            async with self.client().get(
                url, headers=headers, ssl=self._context(spec), timeout=aiohttp.ClientTimeout(total=5)
            ) as r:
                body = await r.read()
                if 200 <= r.status < 300:
                    self._remember_discovery(str(spec["group"]), str(spec["version"]), body)
                    return _cond("True", "Passed", "all checks passed")
                problem = f"bad status from {url}: {r.status}"
        except (TimeoutError, aiohttp.ClientError, OSError, ssl.SSLError, SimError) as e:
            problem = str(e) or type(e).__name__
        return _cond("False", "FailedDiscoveryCheck", f"failing or missing response from {url}: {problem}")


def _decode_resources(body: bytes) -> list[dict[str, Any]] | None:
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    res = doc.get("resources") if isinstance(doc, dict) else None
    return [r for r in res if isinstance(r, dict)] if isinstance(res, list) else None


def _cond(status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": "Available", "status": status, "reason": reason, "message": message}


async def _relay(request: web.Request, resp: aiohttp.ClientResponse) -> web.StreamResponse:
    """Stream an upstream answer back: status, end-to-end headers, body as it arrives."""
    out = web.StreamResponse(status=resp.status, reason=resp.reason)
    for k, v in resp.headers.items():
        if k.lower() not in HOP_BY_HOP:
            out.headers.add(k, v)
    await out.prepare(request)
    async for chunk in resp.content.iter_any():
        await out.write(chunk)
    await out.write_eof()
    return out
