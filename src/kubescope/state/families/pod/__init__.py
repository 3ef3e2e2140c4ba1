"""Pod families (``kube_pod_*``); identity labels ``namespace,pod,uid``.

Sample::

    kube_pod_info{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",host_ip="172.20.0.7",pod_ip="10.64.0.12",node="node-0001",created_by_kind="ReplicaSet",created_by_name="api-7d9f",priority_class="",host_network="false"} 1
    kube_pod_status_phase{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",phase="Running"} 1
    kube_pod_container_resource_requests{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api",node="node-0001",resource="cpu",unit="core"} 0.25
    kube_pod_container_status_restarts_total{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api"} 3

Pods are the hot path (tens of thousands, each re-rendered on every change), so:

* the :class:`Pod` Struct (:mod:`.types`) declares only the fields the families read;
* families that walk the same lists are written by one function in one pass: the container and
  init-container families (:mod:`.containers`) and the condition families
  (:mod:`.conditions`);
* every family declares the fields it reads (``reads``), so an update re-renders only the
  families whose fields changed when the store asks for that;
* quantity and timestamp texts are memoised (a cluster repeats the same few quantities, and one
  pod repeats the same few timestamps across its conditions and containers).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from math import floor

from kubescope.model.quantity import QuantityError, int_value, ksm_float
from kubescope.state.families.pod.conditions import CONDITIONS, DISRUPTION_REASONS, STATUS_REASONS
from kubescope.state.families.pod.containers import container_group
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
from kubescope.state.text import esc, gf, labels_text, map_to_prometheus_labels, unix_text

__all__ = ["DISRUPTION_REASONS", "RESOURCE", "STATUS_REASONS", "Pod", "families", "ip_family"]


def _identity(o: Pod) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",pod="{esc(m.name)}",uid="{esc(m.uid)}"'


def _completion_time(o: Pod, lp: str) -> str:
    last: float = 0
    for cs in o.status.container_statuses:
        t = cs.state.terminated
        if t is not None:
            f = -62135596800.0 if t.finished_at is None else float(floor(t.finished_at.timestamp()))
            if last == 0 or last < f:
                last = f
    return f"{lp}}} {gf(last)}\n" if last > 0 else ""


_GO_ZERO_DATETIME = datetime(1, 1, 1, tzinfo=UTC)


def _created(o: Pod, lp: str) -> str:
    t = o.metadata.creation_timestamp
    return "" if t is None or t == _GO_ZERO_DATETIME else f"{lp}}} {unix_text(t)}\n"


def _deletion_timestamp(o: Pod, lp: str) -> str:
    t = o.metadata.deletion_timestamp
    return "" if t is None or t == _GO_ZERO_DATETIME else f"{lp}}} {unix_text(t)}\n"


def _info(o: Pod, lp: str) -> str:
    kind = name = ""
    for r in o.metadata.owner_references:
        if r.controller:  # metav1.GetControllerOf: the first reference with controller=true
            kind, name = r.kind, r.name
            break
    s, sp = o.status, o.spec
    return (
        f'{lp},host_ip="{esc(s.host_ip)}",pod_ip="{esc(s.pod_ip)}",node="{esc(sp.node_name)}",'
        f'created_by_kind="{esc(kind)}",created_by_name="{esc(name)}",'
        f'priority_class="{esc(sp.priority_class_name)}",'
        f'host_network="{"true" if sp.host_network else "false"}"}} 1\n'
    )


_V4_IN_V6 = b"\x00" * 10 + b"\xff\xff"


def ip_family(ip: str) -> str | None:
    """``"4"`` or ``"6"`` as Go's ``netip.ParseAddr`` + ``Unmap`` classify ``ip``; None if invalid.

    Dotted quads must be exact (no leading zeros, which glibc's ``inet_pton`` also rejects); an
    IPv6 address may carry a non-empty zone (``fe80::1%eth0``); ``::ffff:1.2.3.4`` counts as IPv4.
    """
    try:
        socket.inet_pton(socket.AF_INET, ip)
        return "4"
    except OSError:
        pass
    addr, pct, zone = ip.partition("%")
    if pct and not zone:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, addr)
    except OSError:
        return None
    return "4" if packed[:12] == _V4_IN_V6 else "6"


def _ips(o: Pod, lp: str) -> str:
    out = []
    for p in o.status.pod_ips:
        fam = ip_family(p.ip)
        if fam is not None:
            out.append(f'{lp},ip="{esc(p.ip)}",ip_family="{fam}"}} 1\n')
    return "".join(out)


def _overhead_cpu(o: Pod, lp: str) -> str:
    oh = o.spec.overhead
    if not oh or "cpu" not in oh:
        return ""
    try:
        return f"{lp}}} {gf(ksm_float(oh['cpu']))}\n"
    except QuantityError:
        return ""


def _overhead_memory(o: Pod, lp: str) -> str:
    oh = o.spec.overhead
    if not oh or "memory" not in oh:
        return ""
    try:
        return f"{lp}}} {gf(int_value(oh['memory']))}\n"
    except QuantityError:
        return ""


def _resourceclaim_info(o: Pod, lp: str) -> str:
    claims = o.spec.resource_claims
    if not claims:
        return ""
    # template-generated claims get their object name from the kubelet, in status
    resolved = {
        s.name: s.resource_claim_name
        for s in o.status.resource_claim_statuses
        if s.resource_claim_name is not None
    }
    out = []
    for rc in claims:
        if rc.resource_claim_name is None and rc.resource_claim_template_name is None:
            continue  # references no claim (the API forbids it)
        rname = rc.resource_claim_name if rc.resource_claim_name is not None else resolved.get(rc.name, "")
        tname = rc.resource_claim_template_name or ""
        out.append(
            f'{lp},claim_name="{esc(rc.name)}",resourceclaim_name="{esc(rname)}",'
            f'resourceclaim_template_name="{esc(tname)}"}} 1\n'
        )
    return "".join(out)


def _restart_policy(o: Pod, lp: str) -> str:
    return f'{lp},type="{esc(o.spec.restart_policy)}"}} 1\n'


def _runtimeclass(o: Pod, lp: str) -> str:
    r = o.spec.runtime_class_name
    return "" if r is None else f'{lp},runtimeclass_name="{esc(r)}"}} 1\n'


def _claims(o: Pod, lp: str, readonly: bool) -> str:
    vols = o.spec.volumes
    if not vols:
        return ""
    out = []
    for v in vols:
        pvc = v.persistent_volume_claim
        if pvc is not None:
            val = (1 if pvc.read_only else 0) if readonly else 1
            out.append(
                f'{lp},volume="{esc(v.name)}",persistentvolumeclaim="{esc(pvc.claim_name)}",'
                f'ephemeral="false"}} {val}\n'
            )
        elif v.ephemeral is not None:
            # the claim an ephemeral volume gets: <pod>-<volume> (component-helpers' VolumeClaimName)
            claim = esc(f"{o.metadata.name}-{v.name}")
            out.append(
                f'{lp},volume="{esc(v.name)}",persistentvolumeclaim="{claim}",'
                f'ephemeral="true"}} {0 if readonly else 1}\n'
            )
    return "".join(out)


def _claims_info(o: Pod, lp: str) -> str:
    return _claims(o, lp, False)


def _claims_readonly(o: Pod, lp: str) -> str:
    return _claims(o, lp, True)


def _start_time(o: Pod, lp: str) -> str:
    st = o.status.start_time
    return "" if st is None else f"{lp}}} {unix_text(st)}\n"


def _stateset(label: str, states: tuple[str, ...]) -> Callable[[str, str], str]:
    """Every series of a state set, the current state valued 1 (an unknown state: all 0)."""
    tails = {cur: ["", *(f',{label}="{s}"}} {1 if s == cur else 0}\n' for s in states)] for cur in states}
    none = ["", *(f',{label}="{s}"}} 0\n' for s in states)]

    def lines(lp: str, current: str) -> str:
        # every line starts with lp: "" + lp + tail1 + lp + tail2 ...
        return lp.join(tails.get(current, none))

    return lines


_phase_lines = _stateset("phase", ("Pending", "Succeeded", "Failed", "Unknown", "Running"))
_qos_lines = _stateset("qos_class", ("BestEffort", "Burstable", "Guaranteed"))


def _phase(o: Pod, lp: str) -> str:
    ph = o.status.phase
    return _phase_lines(lp, ph) if ph else ""


def _qos(o: Pod, lp: str) -> str:
    q = o.status.qos_class
    return _qos_lines(lp, q) if q else ""


@lru_cache(maxsize=1024)
def _toleration_tail(key: str, operator: str, value: str, effect: str, seconds: str) -> str:
    # pods repeat the same few tolerations (not-ready/unreachable for 300s), hence the cache
    return (
        f',key="{esc(key)}",operator="{esc(operator)}",value="{esc(value)}",'
        f'effect="{esc(effect)}",toleration_seconds="{seconds}"}} 1\n'
    )


def _tolerations(o: Pod, lp: str) -> str:
    """One series per distinct toleration (tolerationSeconds compared by value, unset != 0)."""
    tols = o.spec.tolerations
    if not tols:
        return ""
    tails = []
    for t in tols:
        secs = "" if t.toleration_seconds is None else str(t.toleration_seconds)
        tail = _toleration_tail(t.key, t.operator, t.value, t.effect, secs)
        if tail not in tails:  # the tail holds every field of the identity
            tails.append(tail)
    return lp + lp.join(tails)


def _nodeselectors(o: Pod, lp: str) -> str:
    return f"{lp}{labels_text(map_to_prometheus_labels('nodeselector', o.spec.node_selector))}}} 1\n"


def _service_account(o: Pod, lp: str) -> str:
    return f'{lp},service_account="{esc(o.spec.service_account_name)}"}} 1\n'


def _scheduler(o: Pod, lp: str) -> str:
    return f'{lp},name="{esc(o.spec.scheduler_name)}"}} 1\n'


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
        F("completion_time", "Completion time in unix timestamp for a pod.", S, _completion_time, cs),
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
        F("created", "Unix creation timestamp", S, _created, "metadata.creation_timestamp"),
        F(
            "deletion_timestamp",
            "Unix deletion timestamp",
            A,
            _deletion_timestamp,
            "metadata.deletion_timestamp",
        ),
        F(
            "info",
            "Information about pod.",
            S,
            _info,
            "metadata.owner_references spec.node_name spec.priority_class_name spec.host_network "
            "status.host_ip status.pod_ip",
        ),
        F("ips", "Pod IP addresses", A, _ips, "status.pod_ips"),
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
            _overhead_cpu,
            "spec.overhead",
        ),
        F(
            "overhead_memory_bytes",
            "The pod overhead in regards to memory associated with running a pod.",
            A,
            _overhead_memory,
            "spec.overhead",
        ),
        owner_family("kube_pod", help="Information about the Pod's owner."),
        F(
            "resourceclaim_info",
            "Information about a DRA ResourceClaim referenced by a pod, one series per "
            "pod.spec.resourceClaims entry; claim_name is the pod-local reference and "
            "resourceclaim_name is the resolved ResourceClaim object name.",
            A,
            _resourceclaim_info,
            "spec.resource_claims status.resource_claim_statuses",
        ),
        F(
            "restart_policy",
            "Describes the restart policy in use by this pod.",
            S,
            _restart_policy,
            "spec.restart_policy",
        ),
        F(
            "runtimeclass_name_info",
            "The runtimeclass associated with the pod.",
            A,
            _runtimeclass,
            "spec.runtime_class_name",
        ),
        F(
            "spec_volumes_persistentvolumeclaims_info",
            "Information about persistentvolumeclaim and ephemeral volumes in a pod.",
            S,
            _claims_info,
            "spec.volumes metadata.name",
        ),
        F(
            "spec_volumes_persistentvolumeclaims_readonly",
            "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always "
            "report 0 since the ephemeral volume source does not support a read-only flag.",
            S,
            _claims_readonly,
            "spec.volumes metadata.name",
        ),
        F("start_time", "Start time in unix timestamp for a pod.", S, _start_time, "status.start_time"),
        F("status_phase", "The pods current phase.", S, _phase, "status.phase"),
        F("status_qos_class", "The pods current qosClass.", A, _qos, "status.qos_class"),
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
        F("tolerations", "Information about the pod tolerations", A, _tolerations, "spec.tolerations"),
        F(
            "nodeselectors",
            "Describes the Pod nodeSelectors.",
            A,
            _nodeselectors,
            "spec.node_selector",
            opt_in=True,
        ),
        F(
            "service_account",
            "The service account for a pod.",
            A,
            _service_account,
            "spec.service_account_name",
        ),
        F("scheduler", "The scheduler for a pod.", A, _scheduler, "spec.scheduler_name"),
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
