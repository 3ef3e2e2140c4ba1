"""Pod families (``kube_pod_*``); identity labels ``namespace,pod,uid``.

Sample::

    kube_pod_info{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",host_ip="172.20.0.7",pod_ip="10.64.0.12",node="node-0001",created_by_kind="ReplicaSet",created_by_name="api-7d9f",priority_class="",host_network="false"} 1
    kube_pod_status_phase{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",phase="Running"} 1
    kube_pod_container_resource_requests{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api",node="node-0001",resource="cpu",unit="core"} 0.25

Pods are the hot path (tens of thousands, re-rendered on every change), so per-object work shared by
many families (escaped container names, the node name) is computed once: the store renders every
family of one object in a row, and :func:`_prep` memoises on the object's identity.
"""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, ksm_float
from kubescope.model.quantity import int_value as q_value
from kubescope.state.family import (
    Family,
    FamilyOptions,
    ResourceSpec,
    annotations_family,
    created_family,
    deletion_timestamp_family,
    labels_family,
    owner_family,
)
from kubescope.state.text import (
    esc,
    gf,
    labels_text,
    map_to_prometheus_labels,
    resource_unit,
    sanitize_label_name,
)

GO_ZERO_UNIX = -62135596800
"""``time.Time{}.Unix()``: what Go reports for a timestamp the API left unset."""


def _t(d: datetime | None) -> int:
    return GO_ZERO_UNIX if d is None else int(d.timestamp() // 1)


# -- wire types ----------------------------------------------------------------------------


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


class Volume(Wire):
    name: str = ""
    persistent_volume_claim: PVCSource | None = None
    ephemeral: dict[str, Any] | None = None


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
    containers: list[Container] = msgspec.field(default_factory=list)
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


# -- per-object preparation, shared by the families -----------------------------------------


class _Prep:
    __slots__ = ("cs", "ics", "node")

    def __init__(self, o: Pod) -> None:
        # (status, ',container="name"') pairs, statuses in API order
        self.cs = [(s, f',container="{esc(s.name)}"') for s in o.status.container_statuses]
        self.ics = [(s, f',container="{esc(s.name)}"') for s in o.status.init_container_statuses]
        self.node = esc(o.spec.node_name)


_last: list[Any] = [None, None]


def _prep(o: Pod) -> _Prep:
    if _last[0] is o:
        p: _Prep = _last[1]
        return p
    p = _Prep(o)
    # keep a reference to the object so its id cannot be reused while cached
    _last[0] = o
    _last[1] = p
    return p


def _identity(o: Pod) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",pod="{esc(m.name)}",uid="{esc(m.uid)}"'


# -- container families (generic over containers / init containers) ------------------------


def _info(o: Pod, lp: str, init: bool) -> str:
    specs = o.spec.init_containers if init else o.spec.containers
    statuses = o.status.init_container_statuses if init else o.status.container_statuses
    out = []
    for c in specs:
        rp = f',restart_policy="{esc(c.restart_policy or "")}"' if init else ""
        for cs in statuses:
            if cs.name != c.name:
                continue
            out.append(
                f'{lp},container="{esc(cs.name)}",image_spec="{esc(c.image)}",image="{esc(cs.image)}",'
                f'image_id="{esc(cs.image_id)}",container_id="{esc(cs.container_id)}"{rp}}} 1\n'
            )
    return "".join(out)


def _resources(o: Pod, lp: str, init: bool, limits: bool) -> str:
    out = []
    node = _prep(o).node
    for c in o.spec.init_containers if init else o.spec.containers:
        res = c.resources.limits if limits else c.resources.requests
        if not res:
            continue
        cfrag = f'{lp},container="{esc(c.name)}",node="{node}",resource="'
        for name, val in res.items():
            unit = resource_unit(name)
            if unit is None or name == "pods":
                continue
            try:
                v: float | int = ksm_float(val) if name == "cpu" else q_value(val)
            except QuantityError:
                continue
            out.append(f'{cfrag}{sanitize_label_name(name)}",unit="{unit}"}} {gf(v)}\n')
    return "".join(out)


def _statuses(o: Pod, init: bool) -> list[tuple[ContainerStatus, str]]:
    p = _prep(o)
    return p.ics if init else p.cs


def _state_started(o: Pod, lp: str, init: bool) -> str:
    out = []
    for cs, f in _statuses(o, init):
        st = cs.state
        if st.running is not None:
            out.append(f"{lp}{f}}} {gf(_t(st.running.started_at))}\n")
        elif st.terminated is not None:
            out.append(f"{lp}{f}}} {gf(_t(st.terminated.started_at))}\n")
    return "".join(out)


def _last_terminated_reason(o: Pod, lp: str, init: bool) -> str:
    return "".join(
        [
            f'{lp}{f},reason="{esc(cs.last_state.terminated.reason)}"}} 1\n'
            for cs, f in _statuses(o, init)
            if cs.last_state.terminated is not None
        ]
    )


def _last_terminated_exitcode(o: Pod, lp: str, init: bool) -> str:
    return "".join(
        [
            f"{lp}{f}}} {gf(cs.last_state.terminated.exit_code)}\n"
            for cs, f in _statuses(o, init)
            if cs.last_state.terminated is not None
        ]
    )


def _last_terminated_timestamp(o: Pod, lp: str, init: bool) -> str:
    return "".join(
        [
            f"{lp}{f}}} {gf(_t(cs.last_state.terminated.finished_at))}\n"
            for cs, f in _statuses(o, init)
            if cs.last_state.terminated is not None
        ]
    )


def _ready(o: Pod, lp: str, init: bool) -> str:
    return "".join([f"{lp}{f}}} {1 if cs.ready else 0}\n" for cs, f in _statuses(o, init)])


def _restarts(o: Pod, lp: str, init: bool) -> str:
    return "".join([f"{lp}{f}}} {gf(cs.restart_count)}\n" for cs, f in _statuses(o, init)])


def _running(o: Pod, lp: str, init: bool) -> str:
    return "".join([f"{lp}{f}}} {0 if cs.state.running is None else 1}\n" for cs, f in _statuses(o, init)])


def _terminated(o: Pod, lp: str, init: bool) -> str:
    return "".join([f"{lp}{f}}} {0 if cs.state.terminated is None else 1}\n" for cs, f in _statuses(o, init)])


def _terminated_reason(o: Pod, lp: str, init: bool) -> str:
    return "".join(
        [
            f'{lp}{f},reason="{esc(cs.state.terminated.reason)}"}} 1\n'
            for cs, f in _statuses(o, init)
            if cs.state.terminated is not None
        ]
    )


def _waiting(o: Pod, lp: str, init: bool) -> str:
    return "".join([f"{lp}{f}}} {0 if cs.state.waiting is None else 1}\n" for cs, f in _statuses(o, init)])


def _waiting_reason(o: Pod, lp: str, init: bool) -> str:
    return "".join(
        [
            f'{lp}{f},reason="{esc(cs.state.waiting.reason)}"}} 1\n'
            for cs, f in _statuses(o, init)
            if cs.state.waiting is not None
        ]
    )


# -- pod families --------------------------------------------------------------------------


def _completion_time(o: Pod, lp: str) -> str:
    last = 0
    for cs in o.status.container_statuses:
        t = cs.state.terminated
        if t is not None:
            f = _t(t.finished_at)
            if last == 0 or last < f:
                last = f
    return f"{lp}}} {gf(last)}\n" if last > 0 else ""


def _pod_info(o: Pod, lp: str) -> str:
    kind = name = ""
    for r in o.metadata.owner_references:
        if r.controller:
            kind, name = r.kind, r.name
            break
    s, sp = o.status, o.spec
    return (
        f'{lp},host_ip="{esc(s.host_ip)}",pod_ip="{esc(s.pod_ip)}",node="{_prep(o).node}",'
        f'created_by_kind="{esc(kind)}",created_by_name="{esc(name)}",'
        f'priority_class="{esc(sp.priority_class_name)}",host_network="{"true" if sp.host_network else "false"}"}} 1\n'
    )


def _ip_family(ip: str) -> str | None:
    """ "4" or "6" as Go's netip.ParseAddr + Unmap would say; None when it is not an address."""
    try:
        socket.inet_pton(socket.AF_INET, ip)
        return "4"
    except OSError:
        pass
    addr = ip.partition("%")[0]  # netip accepts a zone
    try:
        packed = socket.inet_pton(socket.AF_INET6, addr)
    except OSError:
        return None
    return "4" if packed[:12] == b"\x00" * 10 + b"\xff\xff" else "6"


def _ips(o: Pod, lp: str) -> str:
    out = []
    for ip in o.status.pod_ips:
        fam = _ip_family(ip.ip)
        if fam is not None:
            out.append(f'{lp},ip="{esc(ip.ip)}",ip_family="{fam}"}} 1\n')
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
        return f"{lp}}} {gf(q_value(oh['memory']))}\n"
    except QuantityError:
        return ""


def _resourceclaim_info(o: Pod, lp: str) -> str:
    claims = o.spec.resource_claims
    if not claims:
        return ""
    resolved = {
        s.name: s.resource_claim_name
        for s in o.status.resource_claim_statuses
        if s.resource_claim_name is not None
    }
    out = []
    for rc in claims:
        if rc.resource_claim_name is None and rc.resource_claim_template_name is None:
            continue
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


def _pvc_lines(o: Pod, lp: str, readonly: bool) -> str:
    out = []
    for v in o.spec.volumes:
        if v.persistent_volume_claim is not None:
            val = (1 if v.persistent_volume_claim.read_only else 0) if readonly else 1
            out.append(
                f'{lp},volume="{esc(v.name)}",persistentvolumeclaim="{esc(v.persistent_volume_claim.claim_name)}",'
                f'ephemeral="false"}} {val}\n'
            )
        elif v.ephemeral is not None:
            claim = f"{o.metadata.name}-{v.name}"
            out.append(
                f'{lp},volume="{esc(v.name)}",persistentvolumeclaim="{esc(claim)}",ephemeral="true"}} {0 if readonly else 1}\n'
            )
    return "".join(out)


def _start_time(o: Pod, lp: str) -> str:
    st = o.status.start_time
    return "" if st is None else f"{lp}}} {gf(_t(st))}\n"


_PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")
_QOS = ("BestEffort", "Burstable", "Guaranteed")


def _phase(o: Pod, lp: str) -> str:
    ph = o.status.phase
    if not ph:
        return ""
    return "".join([f'{lp},phase="{p}"}} {1 if p == ph else 0}\n' for p in _PHASES])


def _qos(o: Pod, lp: str) -> str:
    q = o.status.qos_class
    if not q:
        return ""
    return "".join([f'{lp},qos_class="{c}"}} {1 if c == q else 0}\n' for c in _QOS])


def _condition_triplets(o: Pod, lp: str, ctype: str) -> str:
    out = []
    for c in o.status.conditions:
        if c.type == ctype:
            s = c.status
            out.append(
                f'{lp},condition="true"}} {1 if s == "True" else 0}\n'
                f'{lp},condition="false"}} {1 if s == "False" else 0}\n'
                f'{lp},condition="unknown"}} {1 if s == "Unknown" else 0}\n'
            )
    return "".join(out)


def _condition_time(o: Pod, lp: str, ctype: str, status: str) -> str:
    return "".join(
        [
            f"{lp}}} {gf(_t(c.last_transition_time))}\n"
            for c in o.status.conditions
            if c.type == ctype and c.status == status
        ]
    )


_STATUS_REASONS = (
    "Evicted",
    "NodeAffinity",
    "NodeLost",
    "PreemptionByScheduler",
    "SchedulingGated",
    "Shutdown",
    "TerminationByKubelet",
    "UnexpectedAdmissionError",
)
_DISRUPTION_REASONS = (
    "PreemptionByScheduler",
    "DeletionByTaintManager",
    "EvictionByEvictionAPI",
    "DeletionByPodGC",
    "TerminationByKubelet",
)


def _status_reason(o: Pod, lp: str) -> str:
    st = o.status
    present = {st.reason}
    present.update(c.reason for c in st.conditions if c.reason)
    present.update(
        cs.state.terminated.reason for cs in st.container_statuses if cs.state.terminated is not None
    )
    out = [f'{lp},reason="{r}"}} 1\n' for r in _STATUS_REASONS if r in present]
    if st.reason and st.reason not in _STATUS_REASONS:
        out.append(f'{lp},reason="Other"}} 1\n')
    return "".join(out)


def _disruption_reason(o: Pod, lp: str) -> str:
    out = []
    for c in o.status.conditions:
        if c.type != "DisruptionTarget":
            continue
        r = c.reason if c.reason in _DISRUPTION_REASONS else "Other"
        out.append(f'{lp},reason="{r}"}} 1\n')
    return "".join(out)


def _unschedulable(o: Pod, lp: str) -> str:
    return "".join(
        [f"{lp}}} 1\n" for c in o.status.conditions if c.type == "PodScheduled" and c.status == "False"]
    )


def _tolerations(o: Pod, lp: str) -> str:
    seen = set()
    out = []
    for t in o.spec.tolerations:
        secs = "" if t.toleration_seconds is None else str(t.toleration_seconds)
        key = (t.key, t.operator, t.value, t.effect, secs)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            f'{lp},key="{esc(t.key)}",operator="{esc(t.operator)}",value="{esc(t.value)}",'
            f'effect="{esc(t.effect)}",toleration_seconds="{secs}"}} 1\n'
        )
    return "".join(out)


def _nodeselectors(o: Pod, lp: str) -> str:
    return f"{lp}{labels_text(map_to_prometheus_labels('nodeselector', o.spec.node_selector))}}} 1\n"


def _service_account(o: Pod, lp: str) -> str:
    return f'{lp},service_account="{esc(o.spec.service_account_name)}"}} 1\n'


def _scheduler(o: Pod, lp: str) -> str:
    return f'{lp},name="{esc(o.spec.scheduler_name)}"}} 1\n'


def _c(fn: Any, init: bool, *extra: Any) -> Any:
    if extra:
        (x,) = extra
        return lambda o, lp: fn(o, lp, init, x)
    if init:
        return lambda o, lp: fn(o, lp, True)
    return lambda o, lp: fn(o, lp, False)


def families(opts: FamilyOptions) -> list[Family]:
    def F(name: str, help: str, stability: str, fn: Any, type: str = "gauge", opt_in: bool = False) -> Family:
        return Family(f"kube_pod_{name}", help, type, stability, fn, opt_in=opt_in)  # type: ignore[arg-type]

    return [
        F("completion_time", "Completion time in unix timestamp for a pod.", "STABLE", _completion_time),
        F("container_info", "Information about a container in a pod.", "STABLE", _c(_info, False)),
        F(
            "container_resource_limits",
            "The number of requested limit resource by a container. It is recommended to use the "
            "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.",
            "STABLE",
            _c(_resources, False, True),
        ),
        F(
            "container_resource_requests",
            "The number of requested request resource by a container. It is recommended to use the "
            "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.",
            "STABLE",
            _c(_resources, False, False),
        ),
        F(
            "container_state_started",
            "Start time in unix timestamp for a pod container.",
            "STABLE",
            _c(_state_started, False),
        ),
        F(
            "container_status_last_terminated_reason",
            "Describes the last reason the container was in terminated state.",
            "ALPHA",
            _c(_last_terminated_reason, False),
        ),
        F(
            "container_status_last_terminated_exitcode",
            "Describes the exit code for the last container in terminated state.",
            "ALPHA",
            _c(_last_terminated_exitcode, False),
        ),
        F(
            "container_status_last_terminated_timestamp",
            "Last terminated time for a pod container in unix timestamp.",
            "ALPHA",
            _c(_last_terminated_timestamp, False),
        ),
        F(
            "container_status_ready",
            "Describes whether the containers readiness check succeeded.",
            "STABLE",
            _c(_ready, False),
        ),
        F(
            "container_status_restarts_total",
            "The number of container restarts per container.",
            "STABLE",
            _c(_restarts, False),
            type="counter",
        ),
        F(
            "container_status_running",
            "Describes whether the container is currently in running state.",
            "STABLE",
            _c(_running, False),
        ),
        F(
            "container_status_terminated",
            "Describes whether the container is currently in terminated state.",
            "STABLE",
            _c(_terminated, False),
        ),
        F(
            "container_status_terminated_reason",
            "Describes the reason the container is currently in terminated state.",
            "ALPHA",
            _c(_terminated_reason, False),
        ),
        F(
            "container_status_waiting",
            "Describes whether the container is currently in waiting state.",
            "STABLE",
            _c(_waiting, False),
        ),
        F(
            "container_status_waiting_reason",
            "Describes the reason the container is currently in waiting state.",
            "STABLE",
            _c(_waiting_reason, False),
        ),
        created_family("kube_pod"),
        deletion_timestamp_family("kube_pod"),
        F("info", "Information about pod.", "STABLE", _pod_info),
        F("ips", "Pod IP addresses", "ALPHA", _ips),
        F("init_container_info", "Information about an init container in a pod.", "STABLE", _c(_info, True)),
        F(
            "init_container_resource_limits",
            "The number of requested limit resource by an init container.",
            "ALPHA",
            _c(_resources, True, True),
        ),
        F(
            "init_container_resource_requests",
            "The number of requested request resource by an init container.",
            "ALPHA",
            _c(_resources, True, False),
        ),
        F(
            "init_container_state_started",
            "Start time in unix timestamp for a pod init container.",
            "ALPHA",
            _c(_state_started, True),
        ),
        F(
            "init_container_status_last_terminated_reason",
            "Describes the last reason the init container was in terminated state.",
            "ALPHA",
            _c(_last_terminated_reason, True),
        ),
        F(
            "init_container_status_last_terminated_exitcode",
            "Describes the exit code for the last init container in terminated state.",
            "ALPHA",
            _c(_last_terminated_exitcode, True),
        ),
        F(
            "init_container_status_last_terminated_timestamp",
            "Last terminated time for a pod init container in unix timestamp.",
            "ALPHA",
            _c(_last_terminated_timestamp, True),
        ),
        F(
            "init_container_status_ready",
            "Describes whether the init containers readiness check succeeded.",
            "STABLE",
            _c(_ready, True),
        ),
        F(
            "init_container_status_restarts_total",
            "The number of restarts for the init container.",
            "STABLE",
            _c(_restarts, True),
            type="counter",
        ),
        F(
            "init_container_status_running",
            "Describes whether the init container is currently in running state.",
            "STABLE",
            _c(_running, True),
        ),
        F(
            "init_container_status_terminated",
            "Describes whether the init container is currently in terminated state.",
            "STABLE",
            _c(_terminated, True),
        ),
        F(
            "init_container_status_terminated_reason",
            "Describes the reason the init container is currently in terminated state.",
            "ALPHA",
            _c(_terminated_reason, True),
        ),
        F(
            "init_container_status_waiting",
            "Describes whether the init container is currently in waiting state.",
            "STABLE",
            _c(_waiting, True),
        ),
        F(
            "init_container_status_waiting_reason",
            "Describes the reason the init container is currently in waiting state.",
            "ALPHA",
            _c(_waiting_reason, True),
        ),
        annotations_family("kube_pod", opts.annotations),
        labels_family("kube_pod", opts.labels),
        F(
            "overhead_cpu_cores",
            "The pod overhead in regards to cpu cores associated with running a pod.",
            "ALPHA",
            _overhead_cpu,
        ),
        F(
            "overhead_memory_bytes",
            "The pod overhead in regards to memory associated with running a pod.",
            "ALPHA",
            _overhead_memory,
        ),
        owner_family("kube_pod", help="Information about the Pod's owner."),
        F(
            "resourceclaim_info",
            "Information about a DRA ResourceClaim referenced by a pod, one series per pod.spec.resourceClaims "
            "entry; claim_name is the pod-local reference and resourceclaim_name is the resolved ResourceClaim "
            "object name.",
            "ALPHA",
            _resourceclaim_info,
        ),
        F("restart_policy", "Describes the restart policy in use by this pod.", "STABLE", _restart_policy),
        F("runtimeclass_name_info", "The runtimeclass associated with the pod.", "ALPHA", _runtimeclass),
        F(
            "spec_volumes_persistentvolumeclaims_info",
            "Information about persistentvolumeclaim and ephemeral volumes in a pod.",
            "STABLE",
            lambda o, lp: _pvc_lines(o, lp, False),
        ),
        F(
            "spec_volumes_persistentvolumeclaims_readonly",
            "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always report 0 "
            "since the ephemeral volume source does not support a read-only flag.",
            "STABLE",
            lambda o, lp: _pvc_lines(o, lp, True),
        ),
        F("start_time", "Start time in unix timestamp for a pod.", "STABLE", _start_time),
        F("status_phase", "The pods current phase.", "STABLE", _phase),
        F("status_qos_class", "The pods current qosClass.", "ALPHA", _qos),
        F(
            "status_ready",
            "Describes whether the pod is ready to serve requests.",
            "STABLE",
            lambda o, lp: _condition_triplets(o, lp, "Ready"),
        ),
        F(
            "status_ready_time",
            "Readiness achieved time in unix timestamp for a pod.",
            "ALPHA",
            lambda o, lp: _condition_time(o, lp, "Ready", "True"),
        ),
        F(
            "status_initialized_time",
            "Initialized time in unix timestamp for a pod.",
            "ALPHA",
            lambda o, lp: _condition_time(o, lp, "Initialized", "True"),
        ),
        F(
            "status_container_ready_time",
            "Readiness achieved time in unix timestamp for a pod containers.",
            "ALPHA",
            lambda o, lp: _condition_time(o, lp, "ContainersReady", "True"),
        ),
        F("status_reason", "The pod status reasons", "ALPHA", _status_reason),
        F("status_disruption_reason", "The pod disruption condition reason", "ALPHA", _disruption_reason),
        F(
            "status_scheduled",
            "Describes the status of the scheduling process for the pod.",
            "STABLE",
            lambda o, lp: _condition_triplets(o, lp, "PodScheduled"),
        ),
        F(
            "status_scheduled_time",
            "Unix timestamp when pod moved into scheduled status",
            "STABLE",
            lambda o, lp: _condition_time(o, lp, "PodScheduled", "True"),
        ),
        F(
            "status_unschedulable",
            "Describes the unschedulable status for the pod.",
            "STABLE",
            _unschedulable,
        ),
        F(
            "status_unscheduled_time",
            "Unix timestamp when pod moved into unscheduled status",
            "ALPHA",
            lambda o, lp: _condition_time(o, lp, "PodScheduled", "False"),
        ),
        F("tolerations", "Information about the pod tolerations", "ALPHA", _tolerations),
        F("nodeselectors", "Describes the Pod nodeSelectors.", "ALPHA", _nodeselectors, opt_in=True),
        F("service_account", "The service account for a pod.", "ALPHA", _service_account),
        F("scheduler", "The scheduler for a pod.", "ALPHA", _scheduler),
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
