"""The serving core every kubescope server is built on (named ``web`` to stay clear of the stdlib's
``http``).

A server is a declaration the core runs::

    from kubescope import web

    server = web.Server(
        "history",
        listeners=[
            web.Listener(
                "api", routes=[web.get("/api/v1/series", handler)],
                host=opts.host, port=opts.port, port_flag="--port",
                tls=opts.tls.context(),               # or a WebConfig, or None for plain HTTP
                middlewares=[...],                    # authn/authz hooks (e.g. the apiserver pipeline)
                health=("healthz", "livez", "readyz"), metrics=True,
            ),
        ],
        tasks=[web.Task("compactor", compactor.run)],            # RESTART (default) or FATAL
        checks=[web.HealthCheck("db", db.check, ("readyz",))],   # () -> str | None, or async
        collectors=[my_collector],                               # collect() -> metric families
        shutdown_delay=opts.shutdown_delay,
        on_stop=[client.close],
    )
    return await server.serve()       # start, run until SIGTERM, stop gracefully

What the core gives every server:

* listeners (:mod:`.listeners`): bind first (a taken port exits 2 naming the flag), plain HTTP or
  TLS from apiserver-style flags (:class:`TLSOptions`) or a Prometheus web-config file
  (:class:`WebConfig`: TLS, basic auth, headers, rate limit), serving certificates reloaded when
  their files change; many sockets per application (``RunningListener.add_socket``; a listener
  declared with ``bind=False`` serves only those, e.g. one per simulated kubelet);
* health endpoints in kube style (:mod:`.health`): ``/healthz``, ``/livez``, ``/readyz`` with named
  checks, ``?verbose``, ``?exclude=``, ``/readyz/<check>``; ``ping``, ``log``, the supervisor's
  ``task/<name>`` and ``shutdown`` are built in;
* a supervisor (:mod:`.supervisor`): tasks restarted with capped backoff or failing liveness,
  every death one log line and a counted self metric; tasks added and removed at run time
  (``server.supervisor.start(Task(...))`` / ``await server.supervisor.stop(name)``);
* self metrics (:mod:`.selfmetrics`): one registry per server, process metrics, task and
  aborted-response counters built in, text as client_golang writes it;
* :func:`stream_response`: large bodies with backpressure, no copies, aborted clients counted
  and logged as one debug line;
* one graceful shutdown (:mod:`.server`), and :func:`run` (uvloop);
* command-line flag groups (:mod:`.flags`) so every server gets the same serving and TLS flags,
  defaults and validation.

Flags: ``web.flags.add_listen_flags(group, host_flag=..., port_flag=..., host=..., port=..., what=...)``
for each listener, ``web.flags.add_tls_flags(group)`` + ``web.flags.tls_options(args)`` for TLS,
``web.flags.add_shutdown_flags(group)``. A command's ``run`` may raise ConfigError (exit 2).

An aggregated API server adds :class:`kubescope.apiserver.server.AggregatedAPI` on top (the generic
apiserver's flags, delegated authn/authz, the request pipeline as middleware, ``/version``); see
``docs/architecture.md`` for both kinds of server. ``web`` imports only ``model``, ``log`` and
``errors`` from kubescope.
"""

from aiohttp.web import Request, Response, StreamResponse, delete, get, patch, post, put, route

from kubescope.web.health import KSM, KUBE, HealthChecks, Style
from kubescope.web.listeners import Listener, RunningListener
from kubescope.web.middleware import authorizer_middleware
from kubescope.web.selfmetrics import Histogram, SelfMetrics
from kubescope.web.server import HealthCheck, Server, run
from kubescope.web.streaming import stream_response
from kubescope.web.supervisor import FATAL, RESTART, Policy, Supervisor, Task
from kubescope.web.tls import TLSOptions
from kubescope.web.webconfig import WebConfig, load_web_config

__all__ = [
    "FATAL",
    "KSM",
    "KUBE",
    "RESTART",
    "HealthCheck",
    "HealthChecks",
    "Histogram",
    "Listener",
    "Policy",
    "Request",
    "Response",
    "RunningListener",
    "SelfMetrics",
    "Server",
    "StreamResponse",
    "Style",
    "Supervisor",
    "TLSOptions",
    "Task",
    "WebConfig",
    "authorizer_middleware",
    "delete",
    "get",
    "load_web_config",
    "patch",
    "post",
    "put",
    "route",
    "run",
    "stream_response",
]
