"""A simulated node's CPU accounting: what its cgroups count, capped as a real node caps it.

A real node cannot use more CPU than it has: the kernel's CFS shares the CPUs among the cgroups
that want them, and a container with a CPU limit is throttled at it (its CFS quota). The usage
model (:mod:`kubescope.sim.usage`) says what each container *wants* (its demand: a closed-form
cumulative); this module turns demand into what the counters report, one housekeeping interval at
a time, per node:

1. each running container's demand over the interval, capped at its CPU limit times the interval;
2. plus each pod's sandbox and the node's own system share;
3. if the sum is more than the node's CPUs times the interval, every part is scaled by the same
   factor (CFS with equal weights: the simplest faithful picture of a saturated node), so the
   node's counter never grows faster than its capacity and every pod's and container's share stays
   in proportion to what it wanted.

Counters are what was *served*, accumulated per container instance (a restart starts from zero,
its pod keeps counting), per pod (its containers, ended instances and sandbox) and per node (its
system share, its pods, and the pods that left). A node's counter is the sum of what its parts
reported, so node >= sum of pods >= sum of containers at every sample, and every counter only
grows. Rates read between any two samples are at most the node's capacity (and a container's limit).

The state moves forward one evaluated tick at a time (``Kubelets.sample`` keeps the last few
samples of each node); a node nobody asked for a while is stepped over the whole gap at once (its
average rate over the gap is capped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubescope.sim.kubelet.pods import Container, Node, Pod


def step(node: Node, t_k: float, span: float | None) -> list[tuple[Pod, list[Container]]]:
    """Account every part of ``node`` at tick time ``t_k`` (each pod at its own offset before it).

    ``span``: seconds since the node's previous evaluated tick (None: the first). Returns the pods
    sampled and their containers sampled (started by their sample time)."""
    pods, containers = node.layout or ([], [])
    by_pod: dict[int, list[Container]] = {id(p): [] for p in pods}
    for c in containers:
        by_pod.setdefault(id(c.pod), []).append(c)
    todo: list[tuple[Container, float, float]] = []  # container, new demand, increment
    sandboxes: list[tuple[Pod, float]] = []
    sampled: list[tuple[Pod, list[Container]]] = []
    total = 0.0
    for pod in pods:
        ts = t_k - pod.offset
        if pod.started > ts:
            continue
        before = ts - span if span is not None else None
        mine = []
        for c in by_pod.get(id(pod), ()):
            if c.started > ts:
                continue
            demand = c.demand.at(ts)
            if c.acct_t < 0:  # first sight: what it used before the interval is taken as served
                if before is None:
                    base = demand
                elif c.started < before:
                    base = c.demand.at(before)
                else:
                    base = 0.0
                c.served = c.last_demand = base
                c.acct_t = max(c.started, before if before is not None else ts)
            inc = max(0.0, demand - c.last_demand)
            limit = c.resources[1]
            if limit:
                inc = min(inc, limit * max(0.0, ts - c.acct_t))
            todo.append((c, demand, inc))
            total += inc
            mine.append(c)
        if pod.acct_t < 0:
            pod.sandbox_served = pod.sandbox.cpu * max(
                0.0, (before if before is not None else ts) - pod.started
            )
            pod.acct_t = max(pod.started, before if before is not None else ts)
        sb = pod.sandbox.cpu * max(0.0, ts - pod.acct_t)
        sandboxes.append((pod, sb))
        total += sb
        sampled.append((pod, mine))
    ts_node = t_k - node.offset
    if node.acct_t < 0:
        node.system_served = node.model.cpu.integral(node.boot, ts_node)
        node.acct_t = ts_node
    system = node.model.cpu.integral(node.acct_t, ts_node)
    total += system
    allowed = node.cpus * span if span is not None else total
    f = min(1.0, allowed / total) if total > 0 else 1.0
    for c, demand, inc in todo:
        c.served += f * inc
        c.last_demand = demand
        c.acct_t = t_k - c.pod.offset
    for pod, sb in sandboxes:
        pod.sandbox_served += f * sb
        pod.acct_t = t_k - pod.offset
    node.system_served += f * system
    node.acct_t = ts_node
    return sampled


def pod_counter(pod: Pod) -> float:
    """The pod cgroup's counter: its running containers, its ended instances, its sandbox."""
    return pod.retired + pod.sandbox_served + sum(c.served for c in pod.running.values() if c.acct_t >= 0)


def retire_container(c: Container) -> None:
    """A container instance ended (or restarted): its pod keeps what it counted."""
    if c.acct_t >= 0:
        c.pod.retired += c.served


def retire_pod(node: Node, pod: Pod) -> None:
    """A pod left the node: the node keeps what the pod last reported."""
    node.retired += pod.reported
