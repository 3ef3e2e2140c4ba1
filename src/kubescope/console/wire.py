"""The fields of Kubernetes objects the console reads, as msgspec Structs (see :mod:`kubescope.model.meta`
for the conventions): only what a page shows, so a watch event of a pod decodes in C and leaves no
annotations, environment or volume lists behind.

:class:`Meta` is a slimmer :class:`~kubescope.model.meta.ObjectMeta` (no annotations, no
generation): at 30,000 pods the annotations alone would cost tens of MiB.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from kubescope.model.meta import Condition, OwnerReference, Wire


class Meta(Wire):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    creation_timestamp: dt.datetime | None = None
    deletion_timestamp: dt.datetime | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    owner_references: list[OwnerReference] = msgspec.field(default_factory=list)


class Resources(Wire):
    requests: dict[str, str] = msgspec.field(default_factory=dict)
    limits: dict[str, str] = msgspec.field(default_factory=dict)


class Container(Wire):
    name: str = ""
    image: str = ""
    resources: Resources = msgspec.field(default_factory=Resources)


class PodSpec(Wire):
    node_name: str = ""
    containers: list[Container] = msgspec.field(default_factory=list)
    init_containers: list[Container] = msgspec.field(default_factory=list)


class StateDetail(Wire):
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class ContainerState(Wire):
    waiting: StateDetail | None = None
    running: StateDetail | None = None
    terminated: StateDetail | None = None


class ContainerStatus(Wire):
    name: str = ""
    ready: bool = False
    restart_count: int = 0
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    last_state: ContainerState = msgspec.field(default_factory=ContainerState)


class PodStatus(Wire):
    phase: str = ""
    reason: str = ""
    start_time: dt.datetime | None = None
    conditions: list[Condition] = msgspec.field(default_factory=list)
    container_statuses: list[ContainerStatus] = msgspec.field(default_factory=list)


class Pod(Wire):
    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)


class NodeSpec(Wire):
    unschedulable: bool = False


class NodeInfo(Wire):
    kubelet_version: str = ""
    os_image: str = ""
    architecture: str = ""


class NodeStatus(Wire):
    capacity: dict[str, str] = msgspec.field(default_factory=dict)
    allocatable: dict[str, str] = msgspec.field(default_factory=dict)
    conditions: list[Condition] = msgspec.field(default_factory=list)
    node_info: NodeInfo = msgspec.field(default_factory=NodeInfo)


class Node(Wire):
    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)


class NamespaceStatus(Wire):
    phase: str = ""


class Namespace(Wire):
    metadata: Meta = msgspec.field(default_factory=Meta)
    status: NamespaceStatus = msgspec.field(default_factory=NamespaceStatus)


class TemplateSpec(Wire):
    spec: PodSpec = msgspec.field(default_factory=PodSpec)


class JobTemplateSpec(Wire):
    template: TemplateSpec = msgspec.field(default_factory=TemplateSpec)


class JobTemplate(Wire):
    spec: JobTemplateSpec = msgspec.field(default_factory=JobTemplateSpec)


class WorkloadSpec(Wire):
    replicas: int | None = None
    template: TemplateSpec = msgspec.field(default_factory=TemplateSpec)
    job_template: JobTemplate | None = None
    schedule: str = ""


class WorkloadStatus(Wire):
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    desired_number_scheduled: int = 0
    number_ready: int = 0
    active: int | list[Any] = 0
    """A Job's running pods (an int); a CronJob's running Jobs (a list of references)."""
    succeeded: int = 0
    failed: int = 0


class Workload(Wire):
    """Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob: the union of what is shown."""

    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: WorkloadSpec = msgspec.field(default_factory=WorkloadSpec)
    status: WorkloadStatus = msgspec.field(default_factory=WorkloadStatus)


class ScaleTarget(Wire):
    api_version: str = ""
    kind: str = ""
    name: str = ""


class HPASpec(Wire):
    scale_target_ref: ScaleTarget = msgspec.field(default_factory=ScaleTarget)
    min_replicas: int | None = None
    max_replicas: int = 0
    metrics: list[dict[str, Any]] = msgspec.field(default_factory=list)
    """autoscaling/v2 MetricSpec, kept as JSON (a handful per HPA; shown, never computed on)."""


class HPAStatus(Wire):
    current_replicas: int = 0
    desired_replicas: int = 0
    last_scale_time: dt.datetime | None = None
    current_metrics: list[dict[str, Any]] = msgspec.field(default_factory=list)
    conditions: list[Condition] = msgspec.field(default_factory=list)


class HPA(Wire):
    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: HPASpec = msgspec.field(default_factory=HPASpec)
    status: HPAStatus = msgspec.field(default_factory=HPAStatus)


class ServiceRef(Wire):
    name: str = ""
    namespace: str = ""


class APIServiceSpec(Wire):
    group: str = ""
    version: str = ""
    service: ServiceRef | None = None


class APIServiceStatus(Wire):
    conditions: list[Condition] = msgspec.field(default_factory=list)


class APIService(Wire):
    metadata: Meta = msgspec.field(default_factory=Meta)
    spec: APIServiceSpec = msgspec.field(default_factory=APIServiceSpec)
    status: APIServiceStatus = msgspec.field(default_factory=APIServiceStatus)


def condition(conditions: list[Condition], kind: str) -> Condition | None:
    for c in conditions:
        if c.type == kind:
            return c
    return None
