"""kubescope: Kubernetes instrumentation in one tool.

State metrics (kube-state-metrics compatible), resource metrics (metrics-server compatible)
and a Kubernetes-API-compatible cluster simulator, sharing one reflector and one HTTP stack.
"""

__version__ = "0.1.0"
