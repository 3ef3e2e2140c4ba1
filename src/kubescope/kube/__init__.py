"""Kubernetes API access: configuration and credentials, the async client, the reflector.

* :mod:`kubescope.kube.config`: flags (``--kubeconfig``, ``--apiserver``, ``--context``),
  :class:`~kubescope.kube.config.KubeSettings`, the resolved
  :class:`~kubescope.kube.config.Connection` and its TLS context.
* :mod:`kubescope.kube.credentials`: kubeconfig / in-cluster loading through kubernetes_asyncio in
  a short-lived subprocess, and credential refresh (exec plugin expiry, token files, 401).
* :mod:`kubescope.kube.client`: :class:`~kubescope.kube.client.KubeClient` (aiohttp): ``get``,
  ``request``, ``stream``; errors mapped onto :mod:`kubescope.errors`.
* :mod:`kubescope.kube.reflector`: list + watch with client-go semantics into a
  :class:`~kubescope.kube.reflector.Sink`.
* :mod:`kubescope.kube.retry`: capped exponential backoff with jitter.

Nothing is imported here, so ``python -m kubescope.kube.credentials`` stays small and the
exporters import only what they use.
"""
