"""Node conditions as kubelets report them and as the node lifecycle controller marks a lost node,
and the taints that go with it."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

HEALTHY: dict[str, tuple[str, str, str]] = {
    "NetworkUnavailable": ("False", "RouteCreated", "RouteController created a route"),
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}
"""A healthy node's conditions, in the order kubelets write them: type -> (status, reason, message)."""

LOST = ("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
"""What the node lifecycle controller writes into the conditions a silent kubelet owns (all but
``NetworkUnavailable``, which the route controller or the network plugin sets)."""

UNREACHABLE = "node.kubernetes.io/unreachable"


def condition(typ: str, heartbeat: str, transition: str, state: tuple[str, str, str] | None = None) -> Obj:
    status, reason, message = state or HEALTHY[typ]
    return {
        "type": typ,
        "status": status,
        "lastHeartbeatTime": heartbeat,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    }


def kubelet_owned(typ: str) -> bool:
    """Whether the kubelet posts this condition (the lifecycle controller marks it Unknown when the
    kubelet goes silent)."""
    return typ != "NetworkUnavailable"


def unreachable_taints(at: str) -> list[Obj]:
    return [
        {"key": UNREACHABLE, "effect": "NoSchedule"},
        {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": at},
    ]
