"""What every aggregated API server needs, as k8s.io/apiserver provides it to Go servers, built on
the serving core (:mod:`kubescope.web`).

* :mod:`.server`: :class:`~.server.AggregatedAPI`, everything below put together for a
  :class:`kubescope.web.Server` (the HTTPS listener with the pipeline, TLS with the delegated client
  CAs, ``/version``, tasks, checks and self metrics);
* :mod:`.options`: the generic apiserver's flags (secure serving, authentication, authorization);
* :mod:`.pipeline`: the request pipeline (request info, max-in-flight, authn, authz, request
  metrics) as a middleware of the core; :mod:`.metrics`: ``apiserver_request_*``;
* :mod:`.delegation`: delegated authentication set-up (the ``extension-apiserver-authentication``
  ConfigMap, review clients); :mod:`.authn`: front-proxy (requestheader), client-certificate and
  TokenReview authentication; :mod:`.authz`: SubjectAccessReview authorization with always-allow
  paths and groups;
* :mod:`.requestinfo`, :mod:`.selectors`, :mod:`.negotiation`, :mod:`.status`: request attributes,
  label/field selectors, ``Accept`` handling and ``Status`` error bodies; :mod:`.discovery`:
  discovery documents.

Serving TLS, health endpoints and self metrics are the core's (:mod:`kubescope.web.tls`,
:mod:`kubescope.web.health`, :mod:`kubescope.web.selfmetrics`).
"""
