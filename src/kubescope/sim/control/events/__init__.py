"""Events: the components' recorders (:mod:`.recorder`), the ground truth of what they emitted
(:mod:`.truth`), and their expiry (:mod:`.ttl`, kube-apiserver's ``--event-ttl``)."""

from kubescope.sim.control.events.recorder import EventRecorder, Reporter
from kubescope.sim.control.events.truth import Emission, Truth
from kubescope.sim.objects.events import ref, reference

__all__ = ["Emission", "EventRecorder", "Reporter", "Truth", "ref", "reference"]
