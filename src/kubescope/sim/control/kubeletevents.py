"""What the kubelets say about pods, as events (each node's kubelet its own recorder: component
``kubelet``, instance the node's name), with kubelet's reasons and messages:

* a container starting: ``Pulling`` and ``Pulled`` (``Successfully pulled image "nginx:1.27" in
  1.2s (1.2s including waiting). Image size: 67108864 bytes.``) the first time the node runs the
  image or when the pull policy is ``Always``, else ``Pulled`` (``Container image "nginx:1.27"
  already present on machine``); then ``Created`` (``Created container: app``), ``Started``
  (``Started container app``); init containers first;
* a container waiting out its crash-loop back-off: ``BackOff`` (``Back-off restarting failed
  container app in pod web-1_shop(uid)``), Warning, at the crash and at every resync (1 min) while
  it waits;
* a failing readiness probe: ``Unhealthy`` (``Readiness probe failed: HTTP probe failed with
  statuscode: 503``), Warning, at every probe period (10 s);
* a pod stopping: ``Killing`` (``Stopping container app``) per running container.

Each about the pod, with the container's ``fieldPath`` (``spec.containers{app}``).
"""

from __future__ import annotations

from typing import Any

from kubescope.model.gofmt import go_duration
from kubescope.sim.control.cache import PodRecord
from kubescope.sim.control.runtime import Controller, Key
from kubescope.sim.objects import events as ev
from kubescope.sim.objects.names import Names

Obj = dict[str, Any]
PROBE_PERIOD = 10.0
"""``readinessProbe.periodSeconds``' default."""
RESYNC = 60.0
"""How often a kubelet syncs a pod with nothing new (``--sync-frequency``)."""


class KubeletEvents:
    """The events of the kubelets of a cluster, for :class:`~.podagent.PodAgent`."""

    def __init__(self, agent: Controller, seed: int) -> None:
        self.agent = agent
        self.names = Names(f"{seed}/kubelet-events")
        self.images: dict[str, set[str]] = {}
        """Images each node has pulled."""
        self.pods: dict[Key, tuple[str, ...]] = {}
        """Each started pod's container images, in ``spec.containers`` order."""

    def seen(self, node: str, pod: Obj) -> None:
        """A pod found on ``node`` at start: its images are there."""
        have = self.images.setdefault(node, set())
        for c in _containers(pod.get("spec") or {}):
            have.add(str(c.get("image", "")))
        self._remember(pod)

    def _remember(self, pod: Obj) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        key = (meta.get("namespace", ""), meta["name"])
        self.pods[key] = tuple(str(c.get("image", "")) for c in spec.get("containers") or ())

    def gone(self, key: Key) -> None:
        self.pods.pop(key, None)

    def _emit(self, p: PodRecord, typ: str, reason: str, note: str, path: str) -> None:
        self.agent.recorder("kubelet", p.node).emit(
            ev.ref("Pod", "v1", p.ns, p.name, p.uid, field_path=path), typ, reason, note
        )

    def started(self, p: PodRecord, pod: Obj) -> None:
        """Every container of a pod that starts: pulled (or present), created, started."""
        spec = pod.get("spec") or {}
        have = self.images.setdefault(p.node, set())
        for kind, c in _containers(spec, with_kind=True):
            name, image = str(c.get("name", "")), str(c.get("image", ""))
            path = ev.container_path(kind, name)
            if c.get("imagePullPolicy") == "Always" or image not in have:
                self._emit(p, "Normal", "Pulling", ev.pulling(image), path)
                took = go_duration(int((0.3 + 4.0 * self.names.rng.random()) * 1e9))
                size = int((20 + 400 * self.names.rng.random()) * (1 << 20))
                self._emit(p, "Normal", "Pulled", ev.pulled(image, took, size), path)
                have.add(image)
            else:
                self._emit(p, "Normal", "Pulled", ev.present(image), path)
            self._emit(p, "Normal", "Created", ev.created(name), path)
            self._emit(p, "Normal", "Started", ev.started(name), path)
        self._remember(pod)

    def restarted(self, p: PodRecord, container: int) -> None:
        """A container started again (after it died, or its back-off): its image is there."""
        name = p.containers[container] if container < len(p.containers) else ""
        images = self.pods.get(p.key, ())
        image = images[container] if container < len(images) else ""
        path = ev.container_path("containers", name)
        self._emit(p, "Normal", "Pulled", ev.present(image), path)
        self._emit(p, "Normal", "Created", ev.created(name), path)
        self._emit(p, "Normal", "Started", ev.started(name), path)

    def backoff(self, p: PodRecord, container: int) -> None:
        name = p.containers[container] if container < len(p.containers) else ""
        path = ev.container_path("containers", name)
        self._emit(p, "Warning", "BackOff", ev.back_off(name, p.name, p.ns, p.uid), path)

    def unhealthy(self, p: PodRecord) -> None:
        name = p.containers[0] if p.containers else ""
        self._emit(p, "Warning", "Unhealthy", ev.READINESS_FAILED, ev.container_path("containers", name))

    def killing(self, p: PodRecord) -> None:
        for name in p.containers:
            self._emit(p, "Normal", "Killing", ev.killing(name), ev.container_path("containers", name))


def _containers(spec: Obj, *, with_kind: bool = False) -> list[Any]:
    out: list[Any] = []
    for kind in ("initContainers", "containers"):
        for c in spec.get(kind) or ():
            out.append((kind, c) if with_kind else c)
    return out
