"""One module per Kubernetes resource, each declaring ``RESOURCE`` (see :mod:`..family`).

Family modules never import each other; shared pieces live in :mod:`kubescope.state.family`
and :mod:`kubescope.state.text`.
"""
