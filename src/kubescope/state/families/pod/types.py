"""The pod wire types: only the fields the pod families read, so decoding skips the rest in C.

The pod is the hot path of state metrics (tens of thousands, each re-rendered on every change).
Rendered objects are never mutated afterwards (every event decodes a new one).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from kubescope.model.meta import ObjectMeta, Wire


class Resources(Wire):
    limits: dict[str, str] = msgspec.field(default_factory=dict)
    requests: dict[str, str] = msgspec.field(default_factory=dict)


class Container(Wire):
    name: str = ""
    image: str = ""
    resources: Resources = msgspec.field(default_factory=Resources)
    restart_policy: str | None = None


class PVCSource(Wire):
    claim_name: str = ""
    read_only: bool = False


class Present(Wire):
    """A field whose presence is all that matters; its content is skipped by the decoder."""


class Volume(Wire):
    name: str = ""
    persistent_volume_claim: PVCSource | None = None
    ephemeral: Present | None = None


class Toleration(Wire):
    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    toleration_seconds: int | None = None


class PodResourceClaim(Wire):
    name: str = ""
    resource_claim_name: str | None = None
    resource_claim_template_name: str | None = None


class PodSpec(Wire):
    node_name: str = ""
    # the one list Go serialises as null when empty (no omitempty)
    containers: list[Container] | None = None
    init_containers: list[Container] = msgspec.field(default_factory=list)
    restart_policy: str = ""
    runtime_class_name: str | None = None
    volumes: list[Volume] = msgspec.field(default_factory=list)
    tolerations: list[Toleration] = msgspec.field(default_factory=list)
    node_selector: dict[str, str] = msgspec.field(default_factory=dict)
    service_account_name: str = ""
    scheduler_name: str = ""
    priority_class_name: str = ""
    host_network: bool = False
    overhead: dict[str, str] | None = None
    resource_claims: list[PodResourceClaim] = msgspec.field(default_factory=list)


class StateRunning(Wire):
    started_at: datetime | None = None


class StateTerminated(Wire):
    exit_code: int = 0
    reason: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None


class StateWaiting(Wire):
    reason: str = ""


class ContainerState(Wire):
    running: StateRunning | None = None
    terminated: StateTerminated | None = None
    waiting: StateWaiting | None = None


class ContainerStatus(Wire):
    name: str = ""
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    last_state: ContainerState = msgspec.field(default_factory=ContainerState)
    ready: bool = False
    restart_count: int = 0
    image: str = ""
    image_id: str = msgspec.field(default="", name="imageID")
    container_id: str = msgspec.field(default="", name="containerID")


class PodIP(Wire):
    ip: str = ""


class PodCondition(Wire):
    type: str = ""
    status: str = ""
    reason: str = ""
    last_transition_time: datetime | None = None


class ResourceClaimStatus(Wire):
    name: str = ""
    resource_claim_name: str | None = None


class PodStatus(Wire):
    phase: str = ""
    reason: str = ""
    conditions: list[PodCondition] = msgspec.field(default_factory=list)
    pod_ip: str = msgspec.field(default="", name="podIP")
    pod_ips: list[PodIP] = msgspec.field(default_factory=list, name="podIPs")
    host_ip: str = msgspec.field(default="", name="hostIP")
    start_time: datetime | None = None
    qos_class: str = msgspec.field(default="", name="qosClass")
    container_statuses: list[ContainerStatus] = msgspec.field(default_factory=list)
    init_container_statuses: list[ContainerStatus] = msgspec.field(default_factory=list)
    resource_claim_statuses: list[ResourceClaimStatus] = msgspec.field(default_factory=list)


class Pod(Wire):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)
