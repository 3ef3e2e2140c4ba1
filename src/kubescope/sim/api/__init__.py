"""The simulator's HTTP API (kube-apiserver's REST surface), routed per verb: see :mod:`.app`."""

from kubescope.sim.api.app import SimAPI

__all__ = ["SimAPI"]
