"""The machines under the kubelets: what happens to containers and kubelets that the API does not
see until a kubelet reports it. The world (churn) makes these things happen; the kubelets
(:mod:`.podagent`, :mod:`.nodeagent`) are told, as a kubelet learns from its container runtime,
and write what follows.

* a container process dies (:meth:`Machines.crash`): restarted;
* a container is broken: it dies every time it starts (:meth:`Machines.break_container`) until it
  is fixed (:meth:`Machines.fix`): CrashLoopBackOff;
* a readiness probe fails until it passes again (:meth:`Machines.probe`);
* a pod's work is done: its containers exit (:meth:`Machines.finish`), as a Job's do;
* a kubelet dies or comes back (:meth:`Machines.kubelet`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Crash:
    container: int
    """Index in ``spec.containers``."""
    exit_code: int
    reason: str


class Machines:
    def __init__(self) -> None:
        self.crashes: dict[Key, list[Crash]] = {}
        """One-off container deaths a kubelet has not reported yet."""
        self.broken: dict[Key, Crash] = {}
        """Pods with a container that dies at every start, and how it dies."""
        self.failing: dict[Key, None] = {}
        """Pods whose readiness probe fails."""
        self.finished: dict[Key, int] = {}
        """Pods whose work is done, with their containers' exit code."""
        self.dead: dict[str, None] = {}
        """Nodes whose kubelet does not run."""
        self._pod_listeners: list[Callable[[Key], None]] = []
        self._node_listeners: list[Callable[[str], None]] = []

    def on_pod(self, fn: Callable[[Key], None]) -> None:
        self._pod_listeners.append(fn)

    def on_node(self, fn: Callable[[str], None]) -> None:
        self._node_listeners.append(fn)

    def _pod(self, key: Key) -> None:
        for fn in self._pod_listeners:
            fn(key)

    def crash(self, pod: Key, container: int, exit_code: int, reason: str) -> None:
        self.crashes.setdefault(pod, []).append(Crash(container, exit_code, reason))
        self._pod(pod)

    def break_container(self, pod: Key, container: int, exit_code: int, reason: str) -> None:
        self.broken[pod] = Crash(container, exit_code, reason)
        self._pod(pod)

    def fix(self, pod: Key) -> None:
        if self.broken.pop(pod, None) is not None:
            self._pod(pod)

    def probe(self, pod: Key, failing: bool) -> None:
        if failing:
            self.failing[pod] = None
        else:
            self.failing.pop(pod, None)
        self._pod(pod)

    def finish(self, pod: Key, exit_code: int = 0) -> None:
        self.finished[pod] = exit_code
        self._pod(pod)

    def kubelet(self, node: str, alive: bool) -> None:
        if alive:
            self.dead.pop(node, None)
        else:
            self.dead[node] = None
        for fn in self._node_listeners:
            fn(node)

    def forget(self, pod: Key) -> None:
        """The pod is gone: nothing of it remains to happen."""
        self.crashes.pop(pod, None)
        self.broken.pop(pod, None)
        self.failing.pop(pod, None)
        self.finished.pop(pod, None)
