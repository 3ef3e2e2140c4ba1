"""What every handler of the simulator's API shares, and the value one resource request becomes.

:class:`ApiContext` holds the simulator's state as the HTTP layer sees it (the store, who may do
what, faults, the aggregation layer, counters). :class:`ResourceRequest` is a request for a resource
with its path parsed once (by :func:`~kubescope.apiserver.requestinfo.request_info`, as
k8s.io/apiserver's RequestInfoFactory does) and its served type looked up: the one argument of every
verb handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kubescope.apiserver.negotiation import Negotiated
from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.sim import features
from kubescope.sim.aggregation import Aggregator
from kubescope.sim.auth import AuthConfig, User
from kubescope.sim.defaults import ClusterIPs
from kubescope.sim.faults import Faults
from kubescope.sim.pki import ClusterPKI
from kubescope.sim.resources import ResourceType
from kubescope.sim.store import ObjectStore
from kubescope.web.selfmetrics import SelfMetrics

MIN_REQUEST_TIMEOUT = 1800.0
"""kube-apiserver's --min-request-timeout: watches without timeoutSeconds last 1-2x this."""


@dataclass
class Counters:
    """What ``GET /_sim/stats`` reports about the API."""

    requests: int = 0
    internal_errors: int = 0
    errors_injected: int = 0
    watches_opened: int = 0


@dataclass
class ApiContext:
    store: ObjectStore
    auth: AuthConfig
    faults: Faults
    pki: ClusterPKI | None
    aggregator: Aggregator
    cluster_ips: ClusterIPs
    bookmark_interval: float = 60.0
    require_auth: bool = True
    server_address: str = "127.0.0.1:6443"
    feature_gates: dict[str, bool] = field(default_factory=dict)
    """kube-apiserver feature gates set otherwise than their default (:mod:`kubescope.sim.features`)."""
    metrics: SelfMetrics = field(default_factory=SelfMetrics)
    """The server's self metrics, served on ``/metrics`` behind authorization."""
    counters: Counters = field(default_factory=Counters)

    @property
    def watch_list(self) -> bool:
        """kube-apiserver's WatchList feature (on by default since 1.34): ``sendInitialEvents``."""
        return features.enabled(self.feature_gates, "WatchList")


@dataclass(frozen=True, slots=True)
class ResourceRequest:
    """A request for a served resource: the HTTP request, who sent it and what it asks for."""

    http: web.Request
    user: User
    info: RequestInfo
    type: ResourceType
    media: Negotiated
    """The answer's form, from the ``Accept`` header."""

    @property
    def namespace(self) -> str:
        """The request's namespace; ``""`` for cluster-scoped types and all-namespace collections."""
        return self.info.namespace if self.type.namespaced else ""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def sub(self) -> str:
        return self.info.subresource

    @property
    def query(self) -> Any:
        return self.http.query
