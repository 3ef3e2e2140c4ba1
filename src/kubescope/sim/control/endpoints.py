"""The EndpointSlice and Endpoints controllers: a Service's slice and Endpoints list the pods its
selector matches that have an IP, each with its readiness.

In the EndpointSlice a terminating pod stays, ``ready: false``, ``serving`` as its readiness,
``terminating: true``; in the Endpoints it is left out (``publishNotReadyAddresses`` aside), and
not-ready pods are ``notReadyAddresses``. A finished pod is in neither. One slice holds every
endpoint (the generated Services have one; further slices are emptied); a Service that has no
slice or Endpoints yet gets them, with its target ports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubescope.sim.control.cache import NodeCache, PodCache
from kubescope.sim.control.runtime import LISTED, Controller, ControlPlane, Key
from kubescope.sim.objects import network
from kubescope.sim.objects.meta import object_meta, owner_ref, rfc3339

Obj = dict[str, Any]
SLICES = "endpointslices.discovery.k8s.io"
SERVICE_NAME = "kubernetes.io/service-name"


@dataclass(slots=True)
class ServiceRecord:
    ns: str
    name: str
    uid: str
    selector: tuple[tuple[str, str], ...]
    ports: list[Obj]
    publish_not_ready: bool
    order: int
    slices: list[str] = field(default_factory=list)
    endpoints: bool = False
    pods: dict[Key, None] = field(default_factory=dict)


class EndpointsController(Controller):
    name = "endpoints"
    watches = ("services", SLICES, "endpoints")

    def __init__(self, plane: ControlPlane, pods: PodCache, nodes: NodeCache) -> None:
        super().__init__(plane)
        self.pods = pods
        self.nodes = nodes
        self.services: dict[Key, ServiceRecord] = {}
        self._by_label: dict[tuple[str, str, str], list[ServiceRecord]] = {}
        """Services by (namespace, key, value) of their selector's first pair: a pod's candidates are
        found through its labels (scanning a namespace's Services per pod is too slow at scale)."""
        self._pod_services: dict[Key, tuple[Key, ...]] = {}
        self._pod_view: dict[Key, tuple[str, bool, bool, str, bool]] = {}
        self._orphan_slices: dict[Key, list[str]] = {}
        self._orphan_endpoints: set[Key] = set()
        self._order = 0
        plane.watch("pods", self._observe_pod)

    # -- observing ----------------------------------------------------------------------------

    def observe(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if res == "services":
            self._observe_service(typ, key, obj)
        elif res == SLICES:
            svc_key = (key[0], (meta.get("labels") or {}).get(SERVICE_NAME, ""))
            svc = self.services.get(svc_key)
            names = svc.slices if svc is not None else self._orphan_slices.setdefault(svc_key, [])
            if typ == "DELETED":
                if key[1] in names:
                    names.remove(key[1])
            elif key[1] not in names:
                names.append(key[1])
        elif res == "endpoints":
            svc = self.services.get(key)
            if svc is not None:
                svc.endpoints = typ != "DELETED"
            elif typ == "DELETED":
                self._orphan_endpoints.discard(key)
            else:
                self._orphan_endpoints.add(key)

    def _observe_service(self, typ: str, key: Key, obj: Obj) -> None:
        old = self.services.pop(key, None)
        if old is not None and old.selector:
            self._by_label[(old.ns, *old.selector[0])].remove(old)
        spec = obj.get("spec") or {}
        selector = tuple(sorted((spec.get("selector") or {}).items()))
        if typ == "DELETED" or not selector:
            return
        ports = [
            {
                "name": p.get("name", ""),
                "port": p["targetPort"] if isinstance(p.get("targetPort"), int) else p.get("port"),
                "protocol": p.get("protocol", "TCP"),
            }
            for p in spec.get("ports") or ()
        ]
        svc = ServiceRecord(
            key[0],
            key[1],
            obj["metadata"].get("uid", ""),
            selector,
            ports,
            bool(spec.get("publishNotReadyAddresses")),
            old.order if old is not None else self._order,
            old.slices if old is not None else self._orphan_slices.pop(key, []),
            old.endpoints if old is not None else key in self._orphan_endpoints,
            old.pods if old is not None else {},
        )
        self._orphan_endpoints.discard(key)
        self._order += 1
        self.services[key] = svc
        self._by_label.setdefault((key[0], *selector[0]), []).append(svc)
        if old is None or old.selector != selector:
            # the pods it selects: a scan of the namespace, once per Service change
            svc.pods = {}
            for pkey, services in self._pod_services.items():
                if pkey[0] == key[0] and key in services:
                    svc.pods[pkey] = None
            if typ != LISTED:
                for pkey in list(self._pod_services):
                    if pkey[0] == key[0]:
                        self._reselect(pkey)
        if typ != LISTED:
            self.queue.add(key)

    def _selecting(self, ns: str, labels: dict[str, str]) -> tuple[Key, ...]:
        found: list[ServiceRecord] = []
        for k, v in labels.items():
            for s in self._by_label.get((ns, k, v), ()):
                if all(labels.get(sk) == sv for sk, sv in s.selector):
                    found.append(s)
        if len(found) > 1:
            found.sort(key=lambda s: s.order)
        return tuple((s.ns, s.name) for s in found)

    def _observe_pod(self, typ: str, res: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        before = self._pod_services.get(key, ())
        p = self.pods.get(key) if typ != "DELETED" else None
        if p is None:
            self._pod_services.pop(key, None)
            self._pod_view.pop(key, None)
            after: tuple[Key, ...] = ()
            changed = True
        else:
            after = self._selecting(key[0], meta.get("labels") or {})
            view = (p.ip, p.ready, p.deleting, p.node, p.finished)
            changed = self._pod_view.get(key) != view or before != after
            self._pod_view[key] = view
            self._pod_services[key] = after
        for s in before:
            if s not in after and s in self.services:
                self.services[s].pods.pop(key, None)
        for s in after:
            self.services[s].pods[key] = None
        if changed and typ != LISTED:
            for s in dict.fromkeys(before + after):
                if s in self.services:
                    self.queue.add(s)

    def _reselect(self, pkey: Key) -> None:
        """A Service's selector changed: recompute what selects this pod (labels from the store)."""
        try:
            labels = self.store.get("pods", *pkey)["metadata"].get("labels") or {}
        except Exception:
            return
        self._pod_services[pkey] = self._selecting(pkey[0], labels)
        for s in self._pod_services[pkey]:
            self.services[s].pods[pkey] = None

    # -- syncing ------------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        svc = self.services.get(key)
        if svc is None:
            return
        live = []
        for pkey in svc.pods:
            p = self.pods.get(pkey)
            if p is not None and p.ip and not p.finished:
                live.append(p)
        live.sort(key=lambda p: p.name)
        eps = []
        ready: list[Obj] = []
        not_ready: list[Obj] = []
        for p in live:
            node = self.nodes.get(p.node)
            ref = network.pod_ref(p.ns, p.name, p.uid)
            eps.append(
                network.slice_endpoint(
                    p.ip,
                    ref,
                    p.node,
                    node.zone if node is not None else "",
                    ready=p.ready and not p.deleting,
                    serving=p.ready,
                    terminating=p.deleting,
                )
            )
            if p.deleting and not svc.publish_not_ready:
                continue
            (ready if p.ready or svc.publish_not_ready else not_ready).append(
                network.address(p.ip, p.node, dict(ref))
            )
        self._write_slices(svc, eps)
        self._write_endpoints(svc, ready, not_ready)

    def _write_slices(self, svc: ServiceRecord, eps: list[Obj]) -> None:
        if not svc.slices:
            name = f"{svc.name}-{self.names.suffix()}"
            self.create(
                SLICES,
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": object_meta(
                        name,
                        svc.ns,
                        uid=self.names.uid(),
                        created=rfc3339(self.now()),
                        labels={
                            SERVICE_NAME: svc.name,
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                        },
                        owner=owner_ref("v1", "Service", svc.name, svc.uid),
                        generate_name=f"{svc.name}-",
                    ),
                    "addressType": "IPv4",
                    "endpoints": eps,
                    "ports": [dict(p) for p in svc.ports] or [dict(p) for p in network.DEFAULT_PORTS],
                },
            )
            return
        for i, name in enumerate(list(svc.slices)):
            self.modify(SLICES, (svc.ns, name), _set_endpoints(eps if i == 0 else []))

    def _write_endpoints(self, svc: ServiceRecord, ready: list[Obj], not_ready: list[Obj]) -> None:
        if not svc.endpoints:
            self.create(
                "endpoints",
                {
                    "apiVersion": "v1",
                    "kind": "Endpoints",
                    "metadata": object_meta(
                        svc.name, svc.ns, uid=self.names.uid(), created=rfc3339(self.now())
                    ),
                    "subsets": network.subsets(ready, not_ready, [dict(p) for p in svc.ports] or None),
                },
            )
            return

        def fill(o: Obj) -> None:
            subsets = o.get("subsets") or []
            o["subsets"] = network.subsets(ready, not_ready, subsets[0].get("ports") if subsets else None)

        self.modify("endpoints", (svc.ns, svc.name), fill)


def _set_endpoints(eps: list[Obj]) -> Callable[[Obj], None]:
    def put(o: Obj) -> None:
        o["endpoints"] = eps

    return put
