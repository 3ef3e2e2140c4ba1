"""State metrics: kube-state-metrics compatible exposition of Kubernetes object state.

Data flows one way: reflector -> decode (slim Structs per family module) -> render (pure,
:mod:`.families`) -> compressed block store -> HTTP. Objects are never kept, only their text.
"""
