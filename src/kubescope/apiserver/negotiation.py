"""``Accept`` header negotiation for API servers.

Clients ask for protobuf first (``application/vnd.kubernetes.protobuf, */*`` from client-go,
kubectl and the HPA controller); a JSON-only server must answer JSON then, never 406, so anything we
cannot produce falls back to plain JSON. Supported beyond plain JSON:

* ``application/vnd.kubernetes.protobuf`` by an endpoint that can write it (``protobuf=True``: the
  simulator's built-in kinds);
* ``application/json;as=Table;g=meta.k8s.io;v=v1`` (or ``v1beta1``): server-side printing, what
  ``kubectl get nodemetrics`` asks for;
* ``application/json;as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2`` (or ``v2beta1``):
  aggregated discovery on ``/apis``, what kube-apiserver's aggregator asks for first.

Clauses are tried by decreasing ``q`` (stable), as k8s' ``goautoneg`` orders them.
"""

from __future__ import annotations

from typing import NamedTuple

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"


class MediaType(NamedTuple):
    type: str
    params: dict[str, str]
    q: float


class Negotiated(NamedTuple):
    kind: str
    """``json``, ``protobuf``, ``table`` or ``discovery``."""
    version: str = ""
    """Table (``v1``/``v1beta1``) or aggregated discovery (``v2``/``v2beta1``) version."""

    @property
    def content_type(self) -> str:
        if self.kind == "table":
            return f"application/json;as=Table;v={self.version};g=meta.k8s.io"
        if self.kind == "discovery":
            return f"application/json;g=apidiscovery.k8s.io;v={self.version};as=APIGroupDiscoveryList"
        if self.kind == "protobuf":
            return PROTOBUF
        return JSON


PLAIN = Negotiated("json")


def parse_accept(header: str) -> list[MediaType]:
    out: list[MediaType] = []
    for raw in header.split(","):
        clause = raw.strip()
        if not clause:
            continue
        head, *rest = clause.split(";")
        params: dict[str, str] = {}
        q = 1.0
        for p in rest:
            k, _, v = p.strip().partition("=")
            k = k.strip().lower()
            v = v.strip().strip('"')
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
            elif k:
                params[k] = v
        out.append(MediaType(head.strip().lower(), params, q))
    out.sort(key=lambda m: -m.q)
    return out


def negotiate(
    header: str | None, *, table: bool = False, discovery: bool = False, protobuf: bool = False
) -> Negotiated:
    """Pick the answer's form. ``table``/``discovery``/``protobuf``: whether this endpoint can
    produce them."""
    if not header:
        return PLAIN
    for mt in parse_accept(header):
        if mt.q <= 0:
            continue
        as_ = mt.params.get("as", "")
        if protobuf and mt.type == PROTOBUF and not as_:
            return Negotiated("protobuf")
        if mt.type in ("application/json", "application/*", "*/*"):
            if not as_:
                return PLAIN
            g, v = mt.params.get("g", ""), mt.params.get("v", "")
            if table and as_ == "Table" and g == "meta.k8s.io" and v in ("v1", "v1beta1"):
                return Negotiated("table", v)
            if (
                discovery
                and as_ == "APIGroupDiscoveryList"
                and g == "apidiscovery.k8s.io"
                and v in ("v2", "v2beta1")
            ):
                return Negotiated("discovery", v)
    return PLAIN
