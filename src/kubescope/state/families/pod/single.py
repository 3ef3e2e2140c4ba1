"""The pod families that each have a function of their own (``kube_pod_info``, ``_status_phase``,
``_tolerations``...): pure functions of a :class:`~.types.Pod` and its identity labels ``lp``.

The families that walk the same lists are written in groups instead, one pass each: containers and
init containers (:mod:`.containers`), conditions (:mod:`.conditions`). :mod:`kubescope.state.families.pod`
declares every family, which function writes it and which fields it reads.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from math import floor

from kubescope.model.quantity import QuantityError, int_value, ksm_float
from kubescope.state.families.pod.types import Pod
from kubescope.state.text import esc, gf, labels_text, map_to_prometheus_labels, unix_text


def completion_time(o: Pod, lp: str) -> str:
    last: float = 0
    for cs in o.status.container_statuses:
        t = cs.state.terminated
        if t is not None:
            f = -62135596800.0 if t.finished_at is None else float(floor(t.finished_at.timestamp()))
            if last == 0 or last < f:
                last = f
    return f"{lp}}} {gf(last)}\n" if last > 0 else ""


_GO_ZERO_DATETIME = datetime(1, 1, 1, tzinfo=UTC)


def created(o: Pod, lp: str) -> str:
    t = o.metadata.creation_timestamp
    return "" if t is None or t == _GO_ZERO_DATETIME else f"{lp}}} {unix_text(t)}\n"


def deletion_timestamp(o: Pod, lp: str) -> str:
    t = o.metadata.deletion_timestamp
    return "" if t is None or t == _GO_ZERO_DATETIME else f"{lp}}} {unix_text(t)}\n"


def info(o: Pod, lp: str) -> str:
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


def ips(o: Pod, lp: str) -> str:
    out = []
    for p in o.status.pod_ips:
        fam = ip_family(p.ip)
        if fam is not None:
            out.append(f'{lp},ip="{esc(p.ip)}",ip_family="{fam}"}} 1\n')
    return "".join(out)


def overhead_cpu(o: Pod, lp: str) -> str:
    oh = o.spec.overhead
    if not oh or "cpu" not in oh:
        return ""
    try:
        return f"{lp}}} {gf(ksm_float(oh['cpu']))}\n"
    except QuantityError:
        return ""


def overhead_memory(o: Pod, lp: str) -> str:
    oh = o.spec.overhead
    if not oh or "memory" not in oh:
        return ""
    try:
        return f"{lp}}} {gf(int_value(oh['memory']))}\n"
    except QuantityError:
        return ""


def resourceclaim_info(o: Pod, lp: str) -> str:
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


def restart_policy(o: Pod, lp: str) -> str:
    return f'{lp},type="{esc(o.spec.restart_policy)}"}} 1\n'


def runtimeclass(o: Pod, lp: str) -> str:
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


def claims_info(o: Pod, lp: str) -> str:
    return _claims(o, lp, False)


def claims_readonly(o: Pod, lp: str) -> str:
    return _claims(o, lp, True)


def start_time(o: Pod, lp: str) -> str:
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


def phase(o: Pod, lp: str) -> str:
    ph = o.status.phase
    return _phase_lines(lp, ph) if ph else ""


def qos(o: Pod, lp: str) -> str:
    q = o.status.qos_class
    return _qos_lines(lp, q) if q else ""


@lru_cache(maxsize=1024)
def _toleration_tail(key: str, operator: str, value: str, effect: str, seconds: str) -> str:
    # pods repeat the same few tolerations (not-ready/unreachable for 300s), hence the cache
    return (
        f',key="{esc(key)}",operator="{esc(operator)}",value="{esc(value)}",'
        f'effect="{esc(effect)}",toleration_seconds="{seconds}"}} 1\n'
    )


def tolerations(o: Pod, lp: str) -> str:
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


def nodeselectors(o: Pod, lp: str) -> str:
    return f"{lp}{labels_text(map_to_prometheus_labels('nodeselector', o.spec.node_selector))}}} 1\n"


def service_account(o: Pod, lp: str) -> str:
    return f'{lp},service_account="{esc(o.spec.service_account_name)}"}} 1\n'


def scheduler(o: Pod, lp: str) -> str:
    return f'{lp},name="{esc(o.spec.scheduler_name)}"}} 1\n'
