"""Pod families (``kube_pod_*``); identity labels ``namespace,pod,uid``.

Sample::

    kube_pod_info{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",host_ip="172.20.0.7",pod_ip="10.64.0.12",node="node-0001",created_by_kind="ReplicaSet",created_by_name="api-7d9f",priority_class="",host_network="false"} 1
    kube_pod_status_phase{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",phase="Running"} 1
    kube_pod_container_resource_requests{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api",node="node-0001",resource="cpu",unit="core"} 0.25
    kube_pod_container_status_restarts_total{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api"} 3

Pods are the hot path (tens of thousands, each re-rendered on every change), so:

* the :class:`Pod` Struct (:mod:`.types`) declares only the fields the families read;
* this module declares the families (name, help, stability, the fields each reads) and which
  function writes each: one of its own (:mod:`.single`) or a member of a group;
* families that walk the same lists are written by one function in one pass: the container and
  init-container families (:mod:`.containers`) and the condition families
  (:mod:`.conditions`);
* every family declares the fields it reads (``reads``), so an update re-renders only the
  families whose fields changed when the store asks for that;
* quantity and timestamp texts are memoised (a cluster repeats the same few quantities, and one
  pod repeats the same few timestamps across its conditions and containers).
"""

from __future__ import annotations

from kubescope.state.families.pod import single
from kubescope.state.families.pod.conditions import CONDITIONS, DISRUPTION_REASONS, STATUS_REASONS
from kubescope.state.families.pod.containers import container_group
from kubescope.state.families.pod.single import ip_family
from kubescope.state.families.pod.types import Pod
from kubescope.state.family import (
    Family,
    FamilyOptions,
    Member,
    MetricType,
    RenderFn,
    ResourceSpec,
    Stability,
    annotations_family,
    labels_family,
    owner_family,
)
from kubescope.state.text import esc

__all__ = ["DISRUPTION_REASONS", "RESOURCE", "STATUS_REASONS", "Pod", "families", "ip_family"]


def _identity(o: Pod) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",pod="{esc(m.name)}",uid="{esc(m.uid)}"'


CONTAINERS = container_group(init=False)
INIT_CONTAINERS = container_group(init=True)


def families(opts: FamilyOptions) -> list[Family]:
    def F(
        name: str,
        help: str,
        stability: Stability,
        fn: RenderFn | Member,
        reads: str,
        type: MetricType = "gauge",
        opt_in: bool = False,
    ) -> Family:
        """A family named ``kube_pod_<name>`` reading the fields named in ``reads`` (space-separated)."""
        return Family(
            f"kube_pod_{name}", help, type, stability, fn, opt_in=opt_in, reads=frozenset(reads.split())
        )

    S: Stability = "STABLE"
    A: Stability = "ALPHA"
    C, I = CONTAINERS.member, INIT_CONTAINERS.member  # noqa: E741
    cs = "status.container_statuses"
    cspec = "spec.containers"
    res = "spec.containers spec.node_name"
    ics = "status.init_container_statuses"
    ispec = "spec.init_containers"
    ires = "spec.init_containers spec.node_name"
    cond = CONDITIONS.member
    conds = "status.conditions"
    return [
        F("completion_time", "Completion time in unix timestamp for a pod.", S, single.completion_time, cs),
        F("container_info", "Information about a container in a pod.", S, C("info"), f"{cspec} {cs}"),
        F(
            "container_resource_limits",
            "The number of requested limit resource by a container. It is recommended to use the "
            "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.",
            S,
            C("resource_limits"),
            res,
        ),
        F(
            "container_resource_requests",
            "The number of requested request resource by a container. It is recommended to use the "
            "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.",
            S,
            C("resource_requests"),
            res,
        ),
        F(
            "container_state_started",
            "Start time in unix timestamp for a pod container.",
            S,
            C("state_started"),
            cs,
        ),
        F(
            "container_status_last_terminated_reason",
            "Describes the last reason the container was in terminated state.",
            A,
            C("status_last_terminated_reason"),
            cs,
        ),
        F(
            "container_status_last_terminated_exitcode",
            "Describes the exit code for the last container in terminated state.",
            A,
            C("status_last_terminated_exitcode"),
            cs,
        ),
        F(
            "container_status_last_terminated_timestamp",
            "Last terminated time for a pod container in unix timestamp.",
            A,
            C("status_last_terminated_timestamp"),
            cs,
        ),
        F(
            "container_status_ready",
            "Describes whether the containers readiness check succeeded.",
            S,
            C("status_ready"),
            cs,
        ),
        F(
            "container_status_restarts_total",
            "The number of container restarts per container.",
            S,
            C("status_restarts_total"),
            cs,
            type="counter",
        ),
        F(
            "container_status_running",
            "Describes whether the container is currently in running state.",
            S,
            C("status_running"),
            cs,
        ),
        F(
            "container_status_terminated",
            "Describes whether the container is currently in terminated state.",
            S,
            C("status_terminated"),
            cs,
        ),
        F(
            "container_status_terminated_reason",
            "Describes the reason the container is currently in terminated state.",
            A,
            C("status_terminated_reason"),
            cs,
        ),
        F(
            "container_status_waiting",
            "Describes whether the container is currently in waiting state.",
            S,
            C("status_waiting"),
            cs,
        ),
        F(
            "container_status_waiting_reason",
            "Describes the reason the container is currently in waiting state.",
            S,
            C("status_waiting_reason"),
            cs,
        ),
        F("created", "Unix creation timestamp", S, single.created, "metadata.creation_timestamp"),
        F(
            "deletion_timestamp",
            "Unix deletion timestamp",
            A,
            single.deletion_timestamp,
            "metadata.deletion_timestamp",
        ),
        F(
            "info",
            "Information about pod.",
            S,
            single.info,
            "metadata.owner_references spec.node_name spec.priority_class_name spec.host_network "
            "status.host_ip status.pod_ip",
        ),
        F("ips", "Pod IP addresses", A, single.ips, "status.pod_ips"),
        F(
            "init_container_info",
            "Information about an init container in a pod.",
            S,
            I("info"),
            f"{ispec} {ics}",
        ),
        F(
            "init_container_resource_limits",
            "The number of requested limit resource by an init container.",
            A,
            I("resource_limits"),
            ires,
        ),
        F(
            "init_container_resource_requests",
            "The number of requested request resource by an init container.",
            A,
            I("resource_requests"),
            ires,
        ),
        F(
            "init_container_state_started",
            "Start time in unix timestamp for a pod init container.",
            A,
            I("state_started"),
            ics,
        ),
        F(
            "init_container_status_last_terminated_reason",
            "Describes the last reason the init container was in terminated state.",
            A,
            I("status_last_terminated_reason"),
            ics,
        ),
        F(
            "init_container_status_last_terminated_exitcode",
            "Describes the exit code for the last init container in terminated state.",
            A,
            I("status_last_terminated_exitcode"),
            ics,
        ),
        F(
            "init_container_status_last_terminated_timestamp",
            "Last terminated time for a pod init container in unix timestamp.",
            A,
            I("status_last_terminated_timestamp"),
            ics,
        ),
        F(
            "init_container_status_ready",
            "Describes whether the init containers readiness check succeeded.",
            S,
            I("status_ready"),
            ics,
        ),
        F(
            "init_container_status_restarts_total",
            "The number of restarts for the init container.",
            S,
            I("status_restarts_total"),
            ics,
            type="counter",
        ),
        F(
            "init_container_status_running",
            "Describes whether the init container is currently in running state.",
            S,
            I("status_running"),
            ics,
        ),
        F(
            "init_container_status_terminated",
            "Describes whether the init container is currently in terminated state.",
            S,
            I("status_terminated"),
            ics,
        ),
        F(
            "init_container_status_terminated_reason",
            "Describes the reason the init container is currently in terminated state.",
            A,
            I("status_terminated_reason"),
            ics,
        ),
        F(
            "init_container_status_waiting",
            "Describes whether the init container is currently in waiting state.",
            S,
            I("status_waiting"),
            ics,
        ),
        F(
            "init_container_status_waiting_reason",
            "Describes the reason the init container is currently in waiting state.",
            A,
            I("status_waiting_reason"),
            ics,
        ),
        annotations_family("kube_pod", opts.annotations),
        labels_family("kube_pod", opts.labels),
        F(
            "overhead_cpu_cores",
            "The pod overhead in regards to cpu cores associated with running a pod.",
            A,
            single.overhead_cpu,
            "spec.overhead",
        ),
        F(
            "overhead_memory_bytes",
            "The pod overhead in regards to memory associated with running a pod.",
            A,
            single.overhead_memory,
            "spec.overhead",
        ),
        owner_family("kube_pod", help="Information about the Pod's owner."),
        F(
            "resourceclaim_info",
            "Information about a DRA ResourceClaim referenced by a pod, one series per "
            "pod.spec.resourceClaims entry; claim_name is the pod-local reference and "
            "resourceclaim_name is the resolved ResourceClaim object name.",
            A,
            single.resourceclaim_info,
            "spec.resource_claims status.resource_claim_statuses",
        ),
        F(
            "restart_policy",
            "Describes the restart policy in use by this pod.",
            S,
            single.restart_policy,
            "spec.restart_policy",
        ),
        F(
            "runtimeclass_name_info",
            "The runtimeclass associated with the pod.",
            A,
            single.runtimeclass,
            "spec.runtime_class_name",
        ),
        F(
            "spec_volumes_persistentvolumeclaims_info",
            "Information about persistentvolumeclaim and ephemeral volumes in a pod.",
            S,
            single.claims_info,
            "spec.volumes metadata.name",
        ),
        F(
            "spec_volumes_persistentvolumeclaims_readonly",
            "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always "
            "report 0 since the ephemeral volume source does not support a read-only flag.",
            S,
            single.claims_readonly,
            "spec.volumes metadata.name",
        ),
        F("start_time", "Start time in unix timestamp for a pod.", S, single.start_time, "status.start_time"),
        F("status_phase", "The pods current phase.", S, single.phase, "status.phase"),
        F("status_qos_class", "The pods current qosClass.", A, single.qos, "status.qos_class"),
        F(
            "status_ready",
            "Describes whether the pod is ready to serve requests.",
            S,
            cond("status_ready"),
            conds,
        ),
        F(
            "status_ready_time",
            "Readiness achieved time in unix timestamp for a pod.",
            A,
            cond("status_ready_time"),
            conds,
        ),
        F(
            "status_initialized_time",
            "Initialized time in unix timestamp for a pod.",
            A,
            cond("status_initialized_time"),
            conds,
        ),
        F(
            "status_container_ready_time",
            "Readiness achieved time in unix timestamp for a pod containers.",
            A,
            cond("status_container_ready_time"),
            conds,
        ),
        F(
            "status_reason",
            "The pod status reasons",
            A,
            cond("status_reason"),
            f"status.reason {conds} {cs}",
        ),
        F(
            "status_disruption_reason",
            "The pod disruption condition reason",
            A,
            cond("status_disruption_reason"),
            conds,
        ),
        F(
            "status_scheduled",
            "Describes the status of the scheduling process for the pod.",
            S,
            cond("status_scheduled"),
            conds,
        ),
        F(
            "status_scheduled_time",
            "Unix timestamp when pod moved into scheduled status",
            S,
            cond("status_scheduled_time"),
            conds,
        ),
        F(
            "status_unschedulable",
            "Describes the unschedulable status for the pod.",
            S,
            cond("status_unschedulable"),
            conds,
        ),
        F(
            "status_unscheduled_time",
            "Unix timestamp when pod moved into unscheduled status",
            A,
            cond("status_unscheduled_time"),
            conds,
        ),
        F("tolerations", "Information about the pod tolerations", A, single.tolerations, "spec.tolerations"),
        F(
            "nodeselectors",
            "Describes the Pod nodeSelectors.",
            A,
            single.nodeselectors,
            "spec.node_selector",
            opt_in=True,
        ),
        F(
            "service_account",
            "The service account for a pod.",
            A,
            single.service_account,
            "spec.service_account_name",
        ),
        F("scheduler", "The scheduler for a pod.", A, single.scheduler, "spec.scheduler_name"),
    ]


RESOURCE = ResourceSpec(
    name="pods",
    group="",
    version="v1",
    kind="Pod",
    namespaced=True,
    struct=Pod,
    identity=_identity,
    families=families,
)
