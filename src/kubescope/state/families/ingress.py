"""Ingress families (``kube_ingress_*``); identity labels ``namespace,ingress``.

``kube_ingress_path`` has two label layouts, chosen per path by its backend: a service backend
gives ``service_name,service_port``, a resource backend ``resource_api_group,resource_kind,
resource_name``. The ``kubernetes.io/ingress.class`` annotation wins over ``spec.ingressClassName``
and ``_default`` stands for neither.

Sample::

    kube_ingress_info{namespace="shop",ingress="web",ingressclass="nginx"} 1
    kube_ingress_path{namespace="shop",ingress="web",host="shop.example.com",path="/",path_type="Prefix",service_name="web",service_port="80"} 1
    kube_ingress_path{namespace="shop",ingress="web",host="shop.example.com",path="/static",path_type="",resource_api_group="k8s.example.com",resource_kind="StorageBucket",resource_name="static"} 1
    kube_ingress_tls{namespace="shop",ingress="web",tls_host="shop.example.com",secret="web-tls"} 1
"""

from __future__ import annotations

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    labels_family,
    resource_version_family,
)
from kubescope.state.text import esc

_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


class ServiceBackendPort(Wire):
    # a port given by name has number 0, which KSM writes as "0"
    number: int = 0


class ServiceBackend(Wire):
    name: str = ""
    port: ServiceBackendPort = msgspec.field(default_factory=ServiceBackendPort)


class ResourceBackend(Wire):
    api_group: str | None = None
    kind: str = ""
    name: str = ""


class Backend(Wire):
    service: ServiceBackend | None = None
    resource: ResourceBackend | None = None


class HTTPPath(Wire):
    path: str = ""
    path_type: str | None = None
    backend: Backend = msgspec.field(default_factory=Backend)


class HTTPRule(Wire):
    paths: list[HTTPPath] = msgspec.field(default_factory=list)


class Rule(Wire):
    host: str = ""
    http: HTTPRule | None = None


class TLS(Wire):
    hosts: list[str] = msgspec.field(default_factory=list)
    secret_name: str = ""


class IngressSpec(Wire):
    ingress_class_name: str | None = None
    rules: list[Rule] = msgspec.field(default_factory=list)
    tls: list[TLS] = msgspec.field(default_factory=list)


class Ingress(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: IngressSpec = msgspec.field(default_factory=IngressSpec)


def _identity(o: Ingress) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",ingress="{esc(m.name)}"'


def _info(o: Ingress, lp: str) -> str:
    cls = o.metadata.annotations.get(_CLASS_ANNOTATION)
    if cls is None:
        cls = o.spec.ingress_class_name
        if cls is None:
            cls = "_default"
    return f'{lp},ingressclass="{esc(cls)}"}} 1\n'


def _path(o: Ingress, lp: str) -> str:
    out = []
    for rule in o.spec.rules:
        if rule.http is None:
            continue
        host = esc(rule.host)
        for p in rule.http.paths:
            head = f'{lp},host="{host}",path="{esc(p.path)}",path_type="{esc(p.path_type or "")}"'
            svc = p.backend.service
            if svc is not None:
                out.append(f'{head},service_name="{esc(svc.name)}",service_port="{svc.port.number}"}} 1\n')
                continue
            res = p.backend.resource
            # The API requires one backend; KSM would crash on neither, we write nothing for it.
            if res is None:
                continue
            out.append(
                f'{head},resource_api_group="{esc(res.api_group or "")}",'
                f'resource_kind="{esc(res.kind)}",resource_name="{esc(res.name)}"}} 1\n'
            )
    return "".join(out)


def _tls(o: Ingress, lp: str) -> str:
    return "".join(
        [
            f'{lp},tls_host="{esc(host)}",secret="{esc(t.secret_name)}"}} 1\n'
            for t in o.spec.tls
            for host in t.hosts
        ]
    )


def families(opts: FamilyOptions) -> list[Family]:
    p = "kube_ingress"
    return [
        Family(f"{p}_info", "Information about ingress.", "gauge", "STABLE", _info),
        annotations_family(p, opts.annotations),
        labels_family(p, opts.labels),
        created_family(p),
        resource_version_family(p, help="Resource version representing a specific version of ingress."),
        Family(f"{p}_path", "Ingress host, paths and backend service information.", "gauge", "STABLE", _path),
        Family(f"{p}_tls", "Ingress TLS host and secret information.", "gauge", "STABLE", _tls),
    ]


RESOURCE = ResourceSpec(
    name="ingresses",
    group="networking.k8s.io",
    version="v1",
    kind="Ingress",
    namespaced=True,
    struct=Ingress,
    identity=_identity,
    families=families,
)
