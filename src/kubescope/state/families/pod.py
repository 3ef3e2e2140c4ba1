"""Pod families (``kube_pod_*``); identity labels ``namespace,pod,uid``.

Sample::

    kube_pod_info{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",host_ip="172.20.0.7",pod_ip="10.64.0.12",node="node-0001",created_by_kind="ReplicaSet",created_by_name="api-7d9f",priority_class="",host_network="false"} 1
    kube_pod_status_phase{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",phase="Running"} 1
    kube_pod_container_resource_requests{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api",node="node-0001",resource="cpu",unit="core"} 0.25
    kube_pod_container_status_restarts_total{namespace="shop",pod="api-7d9f-x2x4q",uid="3f0c...",container="api"} 3

Pods are the hot path (tens of thousands, each re-rendered on every change), so:

* the :class:`Pod` Struct declares only the fields the families read;
* what several families share (each container status' escaped ``,container="x"`` fragment, the
  escaped node name) is computed once per object by :func:`_shared`, which remembers the last
  object it saw: the store renders all families of one object in a row;
* quantity and timestamp texts are memoised (a cluster repeats the same few quantities, and one
  pod repeats the same few timestamps across its conditions and containers).

Rendered objects must not be mutated afterwards (the store never does: every event decodes a new
object).
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from math import floor

import msgspec

from kubescope.model.meta import ObjectMeta, Wire
from kubescope.model.quantity import QuantityError, int_value, ksm_float
from kubescope.state.family import (
    Batch,
    BatchFn,
    Family,
    FamilyOptions,
    MetricType,
    RenderFn,
    ResourceSpec,
    Stability,
    annotations_family,
    labels_family,
    owner_family,
)
from kubescope.state.text import (
    esc,
    gf,
    is_extended_resource,
    labels_text,
    map_to_prometheus_labels,
    sanitize_label_name,
)

# -- wire types: only what the families read --------------------------------------------------


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


# -- texts shared by many families --------------------------------------------------------


_GO_ZERO_TIME = "-6.21355968e+10"
"""``float64(time.Time{}.Unix())`` as KSM prints it: a timestamp the API left unset."""


@lru_cache(maxsize=8192)
def _unix(d: datetime | None) -> str:
    """The sample text of a timestamp's unix seconds (Go ``Time.Unix()``, floored)."""
    if d is None:
        return _GO_ZERO_TIME
    v = floor(d.timestamp())
    if 1_000_000_000 <= v < 10_000_000_000:  # every date from 2001 to 2286: Go prints d.ddde+09
        s = str(v).rstrip("0")
        return f"{s[0]}.{s[1:]}e+09" if len(s) > 1 else f"{s}e+09"
    return gf(v)


def _resource_units(name: str) -> tuple[str, ...]:
    """Units KSM reports a container resource under (none: the resource is skipped).

    A name can get two series: ``hugepages-x.io/y`` is both a huge page and an extended
    resource in KSM's independent checks. ``pods`` is not a container resource.
    """
    if name == "cpu":
        return ("core",)
    if name in ("memory", "storage", "ephemeral-storage"):
        return ("byte",)
    units = []
    if name.startswith("hugepages-"):
        units.append("byte")
    if name.startswith("attachable-volumes-"):
        units.append("byte")
    if is_extended_resource(name):
        units.append("integer")
    return tuple(units)


@lru_cache(maxsize=4096)
def _resource_tails(name: str, quantity: str) -> tuple[str, ...]:
    """``resource="<name>",unit="<unit>"} <value>\\n`` for each unit, after ``resource="``.

    CPU is milli-precise (``convertValueToFloat64``); everything else is ``Quantity.Value()``.
    An invalid quantity yields no series.
    """
    units = _resource_units(name)
    if not units:
        return ()
    try:
        v = gf(ksm_float(quantity) if name == "cpu" else int_value(quantity))
    except QuantityError:
        return ()
    label = sanitize_label_name(name)
    return tuple(f'{label}",unit="{u}"}} {v}\n' for u in units)


class _Shared:
    """Per-object texts used by several families."""

    __slots__ = ("cs", "ics", "node")

    def __init__(self, o: Pod) -> None:
        # (status, ',container="<name>"') in API order
        self.cs = [(s, f',container="{esc(s.name)}"') for s in o.status.container_statuses]
        self.ics = [(s, f',container="{esc(s.name)}"') for s in o.status.init_container_statuses]
        self.node = esc(o.spec.node_name)


_last: list[tuple[object, _Shared | None]] = [(None, None)]
"""The last object :func:`_shared` saw and its texts (one slot, replaced atomically)."""


def _shared(o: Pod) -> _Shared:
    last = _last[0]
    if last[0] is o and last[1] is not None:
        return last[1]
    s = _Shared(o)
    # holding the object keeps its id from being reused while it is remembered
    _last[0] = (o, s)
    return s


def _identity(o: Pod) -> str:
    m = o.metadata
    return f'namespace="{esc(m.namespace)}",pod="{esc(m.name)}",uid="{esc(m.uid)}"'


# -- container families, made for containers (init=False) and init containers (init=True) --


def _container_families(init: bool) -> tuple[dict[str, RenderFn], BatchFn]:
    """Render functions keyed by family suffix, reading (init) container statuses and specs, and
    the function rendering them all at once (members in the dict's order)."""

    def statuses(o: Pod) -> list[tuple[ContainerStatus, str]]:
        s = _shared(o)
        return s.ics if init else s.cs

    def info(o: Pod, lp: str) -> str:
        specs = o.spec.init_containers if init else o.spec.containers
        sts = statuses(o)
        if not specs or not sts:
            return ""
        out = []
        for c in specs:
            for cs, f in sts:
                if cs.name != c.name:
                    continue
                rp = f',restart_policy="{esc(c.restart_policy or "")}"' if init else ""
                out.append(
                    f'{lp}{f},image_spec="{esc(c.image)}",image="{esc(cs.image)}",'
                    f'image_id="{esc(cs.image_id)}",container_id="{esc(cs.container_id)}"{rp}}} 1\n'
                )
        return "".join(out)

    def resources(limits: bool) -> RenderFn:
        def fn(o: Pod, lp: str) -> str:
            specs = o.spec.init_containers if init else o.spec.containers
            if not specs:
                return ""
            out = []
            node = None
            for c in specs:
                res = c.resources.limits if limits else c.resources.requests
                if not res:
                    continue
                if node is None:
                    node = _shared(o).node
                head = f'{lp},container="{esc(c.name)}",node="{node}",resource="'
                for name, q in res.items():
                    for tail in _resource_tails(name, q):
                        out.append(head + tail)
            return "".join(out)

        return fn

    def state_started(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        out = []
        for cs, f in sts:
            st = cs.state
            if st.running is not None:
                out.append(f"{lp}{f}}} {_unix(st.running.started_at)}\n")
            elif st.terminated is not None:
                out.append(f"{lp}{f}}} {_unix(st.terminated.started_at)}\n")
        return "".join(out)

    def last_terminated_reason(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join(
            [
                f'{lp}{f},reason="{esc(t.reason)}"}} 1\n'
                for cs, f in sts
                if (t := cs.last_state.terminated) is not None
            ]
        )

    def last_terminated_exitcode(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join(
            [f"{lp}{f}}} {gf(t.exit_code)}\n" for cs, f in sts if (t := cs.last_state.terminated) is not None]
        )

    def last_terminated_timestamp(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join(
            [
                f"{lp}{f}}} {_unix(t.finished_at)}\n"
                for cs, f in sts
                if (t := cs.last_state.terminated) is not None
            ]
        )

    def ready(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join([f"{lp}{f}}} {1 if cs.ready else 0}\n" for cs, f in sts])

    def restarts(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join([f"{lp}{f}}} {gf(cs.restart_count)}\n" for cs, f in sts])

    def running(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join([f"{lp}{f}}} {0 if cs.state.running is None else 1}\n" for cs, f in sts])

    def terminated(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join([f"{lp}{f}}} {0 if cs.state.terminated is None else 1}\n" for cs, f in sts])

    def terminated_reason(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join(
            [
                f'{lp}{f},reason="{esc(t.reason)}"}} 1\n'
                for cs, f in sts
                if (t := cs.state.terminated) is not None
            ]
        )

    def waiting(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join([f"{lp}{f}}} {0 if cs.state.waiting is None else 1}\n" for cs, f in sts])

    def waiting_reason(o: Pod, lp: str) -> str:
        sts = statuses(o)
        if not sts:
            return ""
        return "".join(
            [
                f'{lp}{f},reason="{esc(w.reason)}"}} 1\n'
                for cs, f in sts
                if (w := cs.state.waiting) is not None
            ]
        )

    def batch(o: Pod, lps: Sequence[str]) -> list[str]:
        """Every family below in one pass over the statuses (what each function above returns)."""
        (
            lp_info, lp_lim, lp_req, lp_started, lp_ltr, lp_lte, lp_ltt,
            lp_ready, lp_restarts, lp_running, lp_term, lp_termr, lp_wait, lp_waitr,
        ) = lps  # fmt: skip
        head = [info(o, lp_info), limits(o, lp_lim), requests(o, lp_req)]
        sts = statuses(o)
        if not sts:
            return head + [""] * 11
        started: list[str] = []
        ltr: list[str] = []
        lte: list[str] = []
        ltt: list[str] = []
        rdy: list[str] = []
        rst: list[str] = []
        run: list[str] = []
        trm: list[str] = []
        trr: list[str] = []
        wai: list[str] = []
        wrr: list[str] = []
        for cs, f in sts:
            st = cs.state
            r, t, w = st.running, st.terminated, st.waiting
            if r is not None:
                started.append(f"{lp_started}{f}}} {_unix(r.started_at)}\n")
            elif t is not None:
                started.append(f"{lp_started}{f}}} {_unix(t.started_at)}\n")
            lt = cs.last_state.terminated
            if lt is not None:
                ltr.append(f'{lp_ltr}{f},reason="{esc(lt.reason)}"}} 1\n')
                lte.append(f"{lp_lte}{f}}} {gf(lt.exit_code)}\n")
                ltt.append(f"{lp_ltt}{f}}} {_unix(lt.finished_at)}\n")
            rdy.append(f"{lp_ready}{f}}} {1 if cs.ready else 0}\n")
            rst.append(f"{lp_restarts}{f}}} {gf(cs.restart_count)}\n")
            run.append(f"{lp_running}{f}}} {0 if r is None else 1}\n")
            trm.append(f"{lp_term}{f}}} {0 if t is None else 1}\n")
            if t is not None:
                trr.append(f'{lp_termr}{f},reason="{esc(t.reason)}"}} 1\n')
            wai.append(f"{lp_wait}{f}}} {0 if w is None else 1}\n")
            if w is not None:
                wrr.append(f'{lp_waitr}{f},reason="{esc(w.reason)}"}} 1\n')
        j = "".join
        return [
            *head,
            j(started),
            j(ltr),
            j(lte),
            j(ltt),
            j(rdy),
            j(rst),
            j(run),
            j(trm),
            j(trr),
            j(wai),
            j(wrr),
        ]

    limits = resources(True)
    requests = resources(False)
    fns: dict[str, RenderFn] = {
        "info": info,
        "resource_limits": limits,
        "resource_requests": requests,
        "state_started": state_started,
        "status_last_terminated_reason": last_terminated_reason,
        "status_last_terminated_exitcode": last_terminated_exitcode,
        "status_last_terminated_timestamp": last_terminated_timestamp,
        "status_ready": ready,
        "status_restarts_total": restarts,
        "status_running": running,
        "status_terminated": terminated,
        "status_terminated_reason": terminated_reason,
        "status_waiting": waiting,
        "status_waiting_reason": waiting_reason,
    }
    return fns, batch


_C, _C_ALL = _container_families(False)
_I, _I_ALL = _container_families(True)
# -- pod families ----------------------------------------------------------------------------


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
    return "" if t is None or t == _GO_ZERO_DATETIME else f"{lp}}} {_unix(t)}\n"


def _deletion_timestamp(o: Pod, lp: str) -> str:
    t = o.metadata.deletion_timestamp
    return "" if t is None or t == _GO_ZERO_DATETIME else f"{lp}}} {_unix(t)}\n"


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
    return "" if st is None else f"{lp}}} {_unix(st)}\n"


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


def _condition_lines(lp: str, s: str) -> str:
    return (
        f'{lp},condition="true"}} {1 if s == "True" else 0}\n'
        f'{lp},condition="false"}} {1 if s == "False" else 0}\n'
        f'{lp},condition="unknown"}} {1 if s == "Unknown" else 0}\n'
    )


def _condition(ctype: str) -> RenderFn:
    """``condition="true|false|unknown"`` for each condition of this type."""

    def fn(o: Pod, lp: str) -> str:
        return "".join([_condition_lines(lp, c.status) for c in o.status.conditions if c.type == ctype])

    return fn


def _condition_time(ctype: str, status: str) -> RenderFn:
    """lastTransitionTime of each condition of this type with this status."""

    def fn(o: Pod, lp: str) -> str:
        return "".join(
            [
                f"{lp}}} {_unix(c.last_transition_time)}\n"
                for c in o.status.conditions
                if c.type == ctype and c.status == status
            ]
        )

    return fn


def _unschedulable(o: Pod, lp: str) -> str:
    return "".join(
        [f"{lp}}} 1\n" for c in o.status.conditions if c.type == "PodScheduled" and c.status == "False"]
    )


_READY = _condition("Ready")
_READY_TIME = _condition_time("Ready", "True")
_INITIALIZED_TIME = _condition_time("Initialized", "True")
_CONTAINERS_READY_TIME = _condition_time("ContainersReady", "True")
_SCHEDULED = _condition("PodScheduled")
_SCHEDULED_TIME = _condition_time("PodScheduled", "True")
_UNSCHEDULED_TIME = _condition_time("PodScheduled", "False")


def _conditions_all(o: Pod, lps: Sequence[str]) -> list[str]:
    """The families of :data:`_CONDITION_FAMILIES`, in that order, in one pass over the conditions."""
    lp_r, lp_rt, lp_it, lp_ct, lp_reason, lp_dis, lp_s, lp_st, lp_u, lp_ut = lps
    r: list[str] = []
    rt: list[str] = []
    it: list[str] = []
    ct: list[str] = []
    sc: list[str] = []
    st: list[str] = []
    un: list[str] = []
    ut: list[str] = []
    for c in o.status.conditions:
        ty, v = c.type, c.status
        if ty == "Ready":
            r.append(_condition_lines(lp_r, v))
            if v == "True":
                rt.append(f"{lp_rt}}} {_unix(c.last_transition_time)}\n")
        elif ty == "Initialized":
            if v == "True":
                it.append(f"{lp_it}}} {_unix(c.last_transition_time)}\n")
        elif ty == "ContainersReady":
            if v == "True":
                ct.append(f"{lp_ct}}} {_unix(c.last_transition_time)}\n")
        elif ty == "PodScheduled":
            sc.append(_condition_lines(lp_s, v))
            if v == "True":
                st.append(f"{lp_st}}} {_unix(c.last_transition_time)}\n")
            elif v == "False":
                un.append(f"{lp_u}}} 1\n")
                ut.append(f"{lp_ut}}} {_unix(c.last_transition_time)}\n")
    j = "".join
    return [
        j(r),
        j(rt),
        j(it),
        j(ct),
        _status_reason(o, lp_reason),
        _disruption_reason(o, lp_dis),
        j(sc),
        j(st),
        j(un),
        j(ut),
    ]


STATUS_REASONS = (
    "Evicted",
    "NodeAffinity",
    "NodeLost",
    "PreemptionByScheduler",
    "SchedulingGated",
    "Shutdown",
    "TerminationByKubelet",
    "UnexpectedAdmissionError",
)
_STATUS_REASON_SET = frozenset(STATUS_REASONS)
DISRUPTION_REASONS = frozenset(
    (
        "PreemptionByScheduler",
        "DeletionByTaintManager",
        "EvictionByEvictionAPI",
        "DeletionByPodGC",
        "TerminationByKubelet",
    )
)


def _status_reason(o: Pod, lp: str) -> str:
    """One series per known reason the pod carries anywhere, ``Other`` for an unknown status.reason.

    A reason counts when it is status.reason, a condition's reason or a current container
    termination reason (KSM's ``hasPodStatusReason``); only status.reason can yield ``Other``.
    """
    st = o.status
    found = set()
    if st.reason in _STATUS_REASON_SET:
        found.add(st.reason)
    for c in st.conditions:
        if c.reason in _STATUS_REASON_SET:
            found.add(c.reason)
    for cs in st.container_statuses:
        t = cs.state.terminated
        if t is not None and t.reason in _STATUS_REASON_SET:
            found.add(t.reason)
    out = [f'{lp},reason="{r}"}} 1\n' for r in STATUS_REASONS if r in found] if found else []
    if st.reason and st.reason not in _STATUS_REASON_SET:
        out.append(f'{lp},reason="Other"}} 1\n')
    return "".join(out)


def _disruption_reason(o: Pod, lp: str) -> str:
    return "".join(
        [
            f'{lp},reason="{c.reason if c.reason in DISRUPTION_REASONS else "Other"}"}} 1\n'
            for c in o.status.conditions
            if c.type == "DisruptionTarget"
        ]
    )


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


_CONDITION_FAMILIES: dict[str, RenderFn] = {
    "status_ready": _READY,
    "status_ready_time": _READY_TIME,
    "status_initialized_time": _INITIALIZED_TIME,
    "status_container_ready_time": _CONTAINERS_READY_TIME,
    "status_reason": _status_reason,
    "status_disruption_reason": _disruption_reason,
    "status_scheduled": _SCHEDULED,
    "status_scheduled_time": _SCHEDULED_TIME,
    "status_unschedulable": _unschedulable,
    "status_unscheduled_time": _UNSCHEDULED_TIME,
}
_BATCHES = {
    fn: (batch, i)
    for fns, batch in (
        (_C, Batch("pod_containers", len(_C), _C_ALL)),
        (_I, Batch("pod_init_containers", len(_I), _I_ALL)),
        (_CONDITION_FAMILIES, Batch("pod_conditions", len(_CONDITION_FAMILIES), _conditions_all)),
    )
    for i, fn in enumerate(fns.values())
}
"""Each container family's render function -> its batch and its index in it."""


def _batched(fams: list[Family]) -> list[Family]:
    out = []
    for fam in fams:
        b = _BATCHES.get(fam.fn)
        out.append(fam if b is None else dataclasses.replace(fam, batch=b[0], batch_index=b[1]))
    return out


def families(opts: FamilyOptions) -> list[Family]:
    def F(
        name: str,
        help: str,
        stability: Stability,
        fn: RenderFn,
        type: MetricType = "gauge",
        opt_in: bool = False,
    ) -> Family:
        return Family(f"kube_pod_{name}", help, type, stability, fn, opt_in=opt_in)

    S: Stability = "STABLE"
    A: Stability = "ALPHA"
    return _batched(
        [
            F("completion_time", "Completion time in unix timestamp for a pod.", S, _completion_time),
            F("container_info", "Information about a container in a pod.", S, _C["info"]),
            F(
                "container_resource_limits",
                "The number of requested limit resource by a container. It is recommended to use the "
                "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.",
                S,
                _C["resource_limits"],
            ),
            F(
                "container_resource_requests",
                "The number of requested request resource by a container. It is recommended to use the "
                "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.",
                S,
                _C["resource_requests"],
            ),
            F(
                "container_state_started",
                "Start time in unix timestamp for a pod container.",
                S,
                _C["state_started"],
            ),
            F(
                "container_status_last_terminated_reason",
                "Describes the last reason the container was in terminated state.",
                A,
                _C["status_last_terminated_reason"],
            ),
            F(
                "container_status_last_terminated_exitcode",
                "Describes the exit code for the last container in terminated state.",
                A,
                _C["status_last_terminated_exitcode"],
            ),
            F(
                "container_status_last_terminated_timestamp",
                "Last terminated time for a pod container in unix timestamp.",
                A,
                _C["status_last_terminated_timestamp"],
            ),
            F(
                "container_status_ready",
                "Describes whether the containers readiness check succeeded.",
                S,
                _C["status_ready"],
            ),
            F(
                "container_status_restarts_total",
                "The number of container restarts per container.",
                S,
                _C["status_restarts_total"],
                type="counter",
            ),
            F(
                "container_status_running",
                "Describes whether the container is currently in running state.",
                S,
                _C["status_running"],
            ),
            F(
                "container_status_terminated",
                "Describes whether the container is currently in terminated state.",
                S,
                _C["status_terminated"],
            ),
            F(
                "container_status_terminated_reason",
                "Describes the reason the container is currently in terminated state.",
                A,
                _C["status_terminated_reason"],
            ),
            F(
                "container_status_waiting",
                "Describes whether the container is currently in waiting state.",
                S,
                _C["status_waiting"],
            ),
            F(
                "container_status_waiting_reason",
                "Describes the reason the container is currently in waiting state.",
                S,
                _C["status_waiting_reason"],
            ),
            F("created", "Unix creation timestamp", S, _created),
            F("deletion_timestamp", "Unix deletion timestamp", A, _deletion_timestamp),
            F("info", "Information about pod.", S, _info),
            F("ips", "Pod IP addresses", A, _ips),
            F("init_container_info", "Information about an init container in a pod.", S, _I["info"]),
            F(
                "init_container_resource_limits",
                "The number of requested limit resource by an init container.",
                A,
                _I["resource_limits"],
            ),
            F(
                "init_container_resource_requests",
                "The number of requested request resource by an init container.",
                A,
                _I["resource_requests"],
            ),
            F(
                "init_container_state_started",
                "Start time in unix timestamp for a pod init container.",
                A,
                _I["state_started"],
            ),
            F(
                "init_container_status_last_terminated_reason",
                "Describes the last reason the init container was in terminated state.",
                A,
                _I["status_last_terminated_reason"],
            ),
            F(
                "init_container_status_last_terminated_exitcode",
                "Describes the exit code for the last init container in terminated state.",
                A,
                _I["status_last_terminated_exitcode"],
            ),
            F(
                "init_container_status_last_terminated_timestamp",
                "Last terminated time for a pod init container in unix timestamp.",
                A,
                _I["status_last_terminated_timestamp"],
            ),
            F(
                "init_container_status_ready",
                "Describes whether the init containers readiness check succeeded.",
                S,
                _I["status_ready"],
            ),
            F(
                "init_container_status_restarts_total",
                "The number of restarts for the init container.",
                S,
                _I["status_restarts_total"],
                type="counter",
            ),
            F(
                "init_container_status_running",
                "Describes whether the init container is currently in running state.",
                S,
                _I["status_running"],
            ),
            F(
                "init_container_status_terminated",
                "Describes whether the init container is currently in terminated state.",
                S,
                _I["status_terminated"],
            ),
            F(
                "init_container_status_terminated_reason",
                "Describes the reason the init container is currently in terminated state.",
                A,
                _I["status_terminated_reason"],
            ),
            F(
                "init_container_status_waiting",
                "Describes whether the init container is currently in waiting state.",
                S,
                _I["status_waiting"],
            ),
            F(
                "init_container_status_waiting_reason",
                "Describes the reason the init container is currently in waiting state.",
                A,
                _I["status_waiting_reason"],
            ),
            annotations_family("kube_pod", opts.annotations),
            labels_family("kube_pod", opts.labels),
            F(
                "overhead_cpu_cores",
                "The pod overhead in regards to cpu cores associated with running a pod.",
                A,
                _overhead_cpu,
            ),
            F(
                "overhead_memory_bytes",
                "The pod overhead in regards to memory associated with running a pod.",
                A,
                _overhead_memory,
            ),
            owner_family("kube_pod", help="Information about the Pod's owner."),
            F(
                "resourceclaim_info",
                "Information about a DRA ResourceClaim referenced by a pod, one series per "
                "pod.spec.resourceClaims entry; claim_name is the pod-local reference and "
                "resourceclaim_name is the resolved ResourceClaim object name.",
                A,
                _resourceclaim_info,
            ),
            F("restart_policy", "Describes the restart policy in use by this pod.", S, _restart_policy),
            F("runtimeclass_name_info", "The runtimeclass associated with the pod.", A, _runtimeclass),
            F(
                "spec_volumes_persistentvolumeclaims_info",
                "Information about persistentvolumeclaim and ephemeral volumes in a pod.",
                S,
                _claims_info,
            ),
            F(
                "spec_volumes_persistentvolumeclaims_readonly",
                "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always "
                "report 0 since the ephemeral volume source does not support a read-only flag.",
                S,
                _claims_readonly,
            ),
            F("start_time", "Start time in unix timestamp for a pod.", S, _start_time),
            F("status_phase", "The pods current phase.", S, _phase),
            F("status_qos_class", "The pods current qosClass.", A, _qos),
            F(
                "status_ready",
                "Describes whether the pod is ready to serve requests.",
                S,
                _READY,
            ),
            F(
                "status_ready_time",
                "Readiness achieved time in unix timestamp for a pod.",
                A,
                _READY_TIME,
            ),
            F(
                "status_initialized_time",
                "Initialized time in unix timestamp for a pod.",
                A,
                _INITIALIZED_TIME,
            ),
            F(
                "status_container_ready_time",
                "Readiness achieved time in unix timestamp for a pod containers.",
                A,
                _CONTAINERS_READY_TIME,
            ),
            F("status_reason", "The pod status reasons", A, _status_reason),
            F("status_disruption_reason", "The pod disruption condition reason", A, _disruption_reason),
            F(
                "status_scheduled",
                "Describes the status of the scheduling process for the pod.",
                S,
                _SCHEDULED,
            ),
            F(
                "status_scheduled_time",
                "Unix timestamp when pod moved into scheduled status",
                S,
                _SCHEDULED_TIME,
            ),
            F(
                "status_unschedulable",
                "Describes the unschedulable status for the pod.",
                S,
                _unschedulable,
            ),
            F(
                "status_unscheduled_time",
                "Unix timestamp when pod moved into unscheduled status",
                A,
                _UNSCHEDULED_TIME,
            ),
            F("tolerations", "Information about the pod tolerations", A, _tolerations),
            F("nodeselectors", "Describes the Pod nodeSelectors.", A, _nodeselectors, opt_in=True),
            F("service_account", "The service account for a pod.", A, _service_account),
            F("scheduler", "The scheduler for a pod.", A, _scheduler),
        ]
    )


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
