"""What an aggregated API server adds to a :class:`kubescope.web.Server`, in one object.

:class:`AggregatedAPI` takes the parsed :mod:`.options` (the generic apiserver's flags) and the
server's Kubernetes client, and provides:

* :meth:`~AggregatedAPI.listener`: the HTTPS listener (``--bind-address``/``--secure-port``) with
  the request pipeline (request info, max-in-flight, delegated authentication and authorization,
  request metrics) as its middleware, kube-style ``/healthz``, ``/livez``, ``/readyz``, self
  metrics on ``/metrics`` (authorized like any non-resource path) and ``/version``;
* :meth:`~AggregatedAPI.prepare`: reads the authentication configuration and builds the TLS
  context (given certificate or self-signed into ``--cert-dir``, trusting the client CAs); call it
  after :meth:`web.Server.bind` and before :meth:`web.Server.start`;
* :meth:`~AggregatedAPI.tasks`, :meth:`~AggregatedAPI.checks`, :meth:`~AggregatedAPI.collectors`
  to declare with the server, and :meth:`~AggregatedAPI.close` for its stop hooks.

See the :mod:`kubescope.web` package docstring for a whole server built this way.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from aiohttp import web as aioweb

from kubescope import __version__, web
from kubescope.apiserver.delegation import DelegatedAuth
from kubescope.apiserver.metrics import RequestMetrics
from kubescope.apiserver.options import APIServerOptions
from kubescope.apiserver.pipeline import Pipeline
from kubescope.kube.client import KubeClient


def version_document() -> bytes:
    """``/version`` as the generic apiserver answers it (kubescope's version)."""
    major, minor, *_ = [*__version__.split("."), "0", "0"][:3]
    return msgspec.json.encode(
        {
            "major": major,
            "minor": minor,
            "gitVersion": f"v{__version__}",
            "gitCommit": "",
            "gitTreeState": "",
            "buildDate": "",
            "goVersion": "",
            "compiler": "cpython",
            "platform": "linux/amd64",
        }
    )


class AggregatedAPI:
    """See the module docstring."""

    def __init__(
        self,
        options: APIServerOptions,
        client: KubeClient | None,
        *,
        metric_prefix: str = "kubescope_apiserver",
    ) -> None:
        self.options = options
        self.auth = DelegatedAuth(options.auth, client, metric_prefix=metric_prefix)
        self.requests = RequestMetrics()
        self.pipeline = Pipeline(
            self.auth.authenticator,
            self.auth.authorizer,
            observe=self.requests.observe,
            max_inflight=options.serving.max_requests_inflight,
        )
        self._listener: web.Listener | None = None

    def listener(
        self,
        routes: Sequence[aioweb.AbstractRouteDef],
        *,
        name: str = "https",
        client_max_size: int = 1 << 20,
    ) -> web.Listener:
        """The HTTPS listener serving ``routes`` behind the pipeline (its TLS is set by :meth:`prepare`)."""
        s = self.options.serving
        body = version_document()

        async def version(request: aioweb.Request) -> aioweb.Response:
            return aioweb.Response(body=body, headers={"Content-Type": "application/json"})

        self._listener = web.Listener(
            name,
            routes=[*routes, web.get("/version", version)],
            host=s.bind_address,
            port=s.secure_port,
            host_flag="--bind-address",
            port_flag="--secure-port",
            middlewares=[self.pipeline.middleware()],
            health=("healthz", "livez", "readyz"),
            metrics=True,
            client_max_size=client_max_size,
        )
        return self._listener

    async def prepare(self) -> None:
        """Read the authentication configuration (the ConfigMap, or the flags) and build the TLS context."""
        cfg = await self.auth.load()
        ctx = self.options.serving.tls.context(cfg.all_ca_pem)
        self.auth.ssl_context = ctx
        if self._listener is not None:
            self._listener.tls = ctx

    def tasks(self) -> list[web.Task]:
        return self.auth.tasks()

    def checks(self) -> list[web.HealthCheck]:
        # a post-start hook: the max-in-flight filter is part of the pipeline, so it runs as soon as
        # the server serves, which a probe reaching this check proves
        return [web.HealthCheck("poststarthook/max-in-flight-filter", lambda: None)]

    def collectors(self) -> list[object]:
        return [self.requests, self.auth]

    async def close(self) -> None:
        await self.auth.close()
