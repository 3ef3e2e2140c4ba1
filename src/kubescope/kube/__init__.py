"""Kubernetes API access: configuration and credentials, the async client, the reflector.

* :mod:`kubescope.kube.config`: flags (``--kubeconfig``, ``--apiserver``, ``--context``),
  :class:`~kubescope.kube.config.KubeSettings`, the resolved
  :class:`~kubescope.kube.config.Connection` and its TLS context.
* :mod:`kubescope.kube.credentials`: kubeconfig / in-cluster loading through kubernetes_asyncio in
  a short-lived subprocess, and credential refresh (exec plugin expiry, token files, 401).
* :mod:`kubescope.kube.client`: :class:`~kubescope.kube.client.KubeClient` (aiohttp): ``get``,
  ``request``, ``body``, ``stream``; errors mapped onto :mod:`kubescope.errors`.
* :mod:`kubescope.kube.reflector`: watch-list or list, then watch, with client-go semantics into a
  :class:`~kubescope.kube.sink.Sink`: its parts :mod:`kubescope.kube.relist` (a (re)list handed to
  the sink), :mod:`kubescope.kube.watchlines` (watch lines decoded into sink calls) and
  :mod:`kubescope.kube.reflectorlog` (its log lines, failures of single items);
  :mod:`kubescope.kube.listing` (a LIST, page by page) and
  :mod:`kubescope.kube.liststream` (a list body decoded object by object as it arrives);
  :mod:`kubescope.kube.events` (watch lines that are not plain events);
  :mod:`kubescope.kube.sink` (the sink protocol, options and stats, :class:`Mirror`).
* :mod:`kubescope.kube.retry`: capped exponential backoff with jitter.

Nothing is imported here, so ``python -m kubescope.kube.credentials`` stays small and the
exporters import only what they use.
"""
