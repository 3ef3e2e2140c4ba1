"""Events: the components' recorders (:mod:`.recorder`), the ground truth of what they emitted
(:mod:`.truth`), and their expiry (:mod:`.ttl`, kube-apiserver's ``--event-ttl``)."""

from kubescope.sim.control.events.recorder import EventRecorder, Reporter, ref, reference
from kubescope.sim.control.events.truth import Emission, Truth

__all__ = ["Emission", "EventRecorder", "Reporter", "Truth", "ref", "reference"]
