"""What every aggregated API server needs, as k8s.io/apiserver provides it to Go servers.

* :mod:`.tls`: serving certificate (given, or self-signed into ``--cert-dir``) and the TLS context;
* :mod:`.authn`: front-proxy (requestheader), client-certificate and delegated TokenReview authentication;
* :mod:`.authz`: delegated SubjectAccessReview authorization with always-allow paths and groups;
* :mod:`.server`: the request pipeline (request info, max-in-flight, authn, authz, metrics) and listener;
* :mod:`.requestinfo`, :mod:`.selectors`, :mod:`.negotiation`, :mod:`.status`: request attributes,
  label/field selectors, ``Accept`` handling and ``Status`` error bodies;
* :mod:`.discovery`, :mod:`.health`: discovery documents and ``/healthz``, ``/livez``, ``/readyz``.
"""
