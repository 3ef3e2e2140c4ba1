"""The history questions in PromQL, over the kubelets' cAdvisor series (pure: strings and arrays in,
answers out; the HTTP side is :mod:`kubescope.history.promsource`).

The series are the two every Prometheus-based consumer reads (VPA's Prometheus history provider,
kube-prometheus' recording rules, KRR): ``container_cpu_usage_seconds_total`` and
``container_memory_working_set_bytes``, one series per cgroup with the kubelet's labels
(``container``, ``id``, ``image``, ``name``, ``namespace``, ``pod``) plus what the scrape adds: a
selector (default kube-prometheus' ``job="kubelet",metrics_path="/metrics/cadvisor"``) and the
node's name under a label (default ``node``, as the Prometheus operator adds it).

* a node is its root cgroup (``id="/"``), the cluster the sum of the nodes;
* a pod is the sum of its containers (``container!="",container!="POD"``, as kube-prometheus'
  ``node_namespace_pod_container:*`` rules), a container one of them; a pod by UID is found in its
  cgroup path (``id=~".*pod<uid>.*"``, dashes or the systemd driver's underscores);
* a workload is its pods by the names its controller gives them (a Deployment's
  ``<name>-<template hash>-<5>``, a StatefulSet's ``<name>-<ordinal>``, a CronJob's
  ``<name>-<schedule time>-<5>``...), so pods deleted by rollouts still count;
* CPU is ``rate(...[rate window])`` in millicores, memory the working set in bytes.

A *line* is one of these expressions. Points with a step are ``avg_over_time((line)[step:resolution])``
evaluated at each bucket's end, so a point is the mean of the line's values at the resolution's
grid inside the bucket ``[t, t + step)``, as the embedded store's points are the mean of its
samples; aggregations are the same with ``min_over_time``, ``max_over_time``, ``count_over_time``
and ``quantile_over_time``. Prometheus keeps no owners or requests: those come from the server's
pod watch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubescope.history.request import BadRequest, Target

CPU = "container_cpu_usage_seconds_total"
MEMORY = "container_memory_working_set_bytes"
KUBE_PROMETHEUS_SELECTOR = 'job="kubelet",metrics_path="/metrics/cadvisor"'

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_CONTAINER = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_UID = re.compile(r"^[0-9a-fA-F-]{8,64}$")

HASH = "[a-z0-9]"
"""A generated name part: apimachinery's ``rand.String`` alphabet is ``bcdfghjklmnpqrstvwxz2456789``,
but older pod-template-hashes were decimal and other tools write hex; no dash, so ``web-<hash>-<5>``
is never a pod of a Deployment ``web-api``."""
POD_NAMES = {
    "Deployment": "-" + HASH + "{1,10}-" + HASH + "{5}",
    "ReplicaSet": "-" + HASH + "{5}",
    "DaemonSet": "-" + HASH + "{5}",
    "Job": "-" + HASH + "{5}",
    "StatefulSet": "-[0-9]+",
    "CronJob": "-[0-9]+-" + HASH + "{5}",
    "ReplicationController": "-" + HASH + "{5}",
}
"""The names a controller gives its pods, after the workload's name."""


@dataclass(frozen=True)
class PromQLSettings:
    selector: str = KUBE_PROMETHEUS_SELECTOR
    """Label matchers every query carries (``""`` for none)."""
    node_label: str = "node"
    resolution: int = 60
    """The grid of subqueries and of raw points, in seconds."""
    rate_window: int = 0
    """``rate()`` window in seconds; 0: twice the resolution (two scrapes at least)."""

    @property
    def window(self) -> int:
        return self.rate_window or 2 * self.resolution


def quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def regex_escape(value: str) -> str:
    """RE2 metacharacters escaped (names are checked first, so this is belt and braces)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", value)


def _check(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
        raise BadRequest(f"{what} {value!r} is not a valid Kubernetes name")
    return value


def workload_pods(kind: str, name: str) -> str:
    """The regex of the pod names of workload ``kind/name``."""
    return regex_escape(name) + POD_NAMES[kind]


def matchers(s: PromQLSettings, target: Target) -> list[str]:
    """The label matchers selecting ``target``'s series (containers for pods and workloads)."""
    out = [s.selector] if s.selector else []
    if target.scope in ("cluster", "node"):
        out.append('id="/"')
        if target.scope == "node":
            out.append(f"{s.node_label}={quote(_check(target.names[0], _NAME, 'node'))}")
        return out
    out += ['container!=""', 'container!="POD"']
    if target.container:
        out.append(f"container={quote(_check(target.container, _CONTAINER, 'container'))}")
    if target.namespace:
        out.append(f"namespace={quote(_check(target.namespace, _NAME, 'namespace'))}")
    if target.scope == "pod":
        names = [regex_escape(_check(n, _NAME, "pod")) for n in target.names]
        out.append(f"pod=~{quote('|'.join(names))}")
    elif target.scope == "pod-id":
        uids = [_check(u, _UID, "pod UID") for u in target.names]
        alts = "|".join(f"{u}|{u.replace('-', '_')}" for u in uids)
        out.append(f"id=~{quote('.*pod(' + alts + ')([./].*)?')}")
    elif target.scope == "workload":
        out.append(
            f"pod=~{quote(workload_pods(target.owner_kind, _check(target.names[0], _NAME, 'workload')))}"
        )
    return out


def by_labels(target: Target) -> str:
    """What one item of the answer is: pods of a ``pod-list`` by name, of a ``pod-id-list`` by the UID
    taken from the cgroup path, everything else one line."""
    if not target.listed:
        return ""
    return "pod" if target.scope == "pod" else "uid"


def line(s: PromQLSettings, target: Target, metric: str) -> str:
    """The target's line: millicores or bytes at each evaluation time (one series per listed item)."""
    sel = ",".join(matchers(s, target))
    inner = f"rate({CPU}{{{sel}}}[{s.window}s]) * 1000" if metric == "cpu" else f"{MEMORY}{{{sel}}}"
    by = by_labels(target)
    if by == "uid":
        inner = f'label_replace({inner}, "uid", "$1", "id", ".*pod([0-9a-fA-F_-]{{36}}).*")'
        return f"sum by (uid) ({inner})"
    if by:
        return f"sum by ({by}) ({inner})"
    return f"sum({inner})"


OVER_TIME = {
    "average": "avg_over_time({e}[{w}s:{r}s])",
    "minimum": "min_over_time({e}[{w}s:{r}s])",
    "maximum": "max_over_time({e}[{w}s:{r}s])",
    "count": "count_over_time({e}[{w}s:{r}s])",
    "median": "quantile_over_time(0.5, {e}[{w}s:{r}s])",
    "50": "quantile_over_time(0.5, {e}[{w}s:{r}s])",
    "90": "quantile_over_time(0.9, {e}[{w}s:{r}s])",
    "95": "quantile_over_time(0.95, {e}[{w}s:{r}s])",
    "99": "quantile_over_time(0.99, {e}[{w}s:{r}s])",
}
"""A bucket field over ``width`` seconds of a line sampled every ``resolution`` seconds."""


def over_time(field: str, expr: str, width: int, resolution: int) -> str:
    return OVER_TIME[field].format(e=f"({expr})", w=width, r=resolution)


def _all_containers(s: PromQLSettings, namespace: str) -> str:
    sel = [s.selector] if s.selector else []
    sel += ['container!=""', 'container!="POD"']
    if namespace:
        sel.append(f"namespace={quote(_check(namespace, _NAME, 'namespace'))}")
    return ",".join(sel)


_PER_CONTAINER = "namespace, pod, container"


def containers(s: PromQLSettings, namespace: str, metric: str) -> str:
    """Every container's line (recommendations): CPU rates or working sets, one series each."""
    sel = _all_containers(s, namespace)
    if metric == "cpu":
        return f"sum by ({_PER_CONTAINER}) (rate({CPU}{{{sel}}}[{s.window}s]) * 1000)"
    return f"sum by ({_PER_CONTAINER}) ({MEMORY}{{{sel}}})"


def container_peaks(s: PromQLSettings, namespace: str, window: int) -> str:
    """Every container's highest working set over ``window`` seconds, from the raw samples."""
    sel = _all_containers(s, namespace)
    return f"max by ({_PER_CONTAINER}) (max_over_time({MEMORY}{{{sel}}}[{window}s]))"


def pods_cpu(s: PromQLSettings, namespace: str) -> str:
    """Every pod's CPU line (idle workloads)."""
    return f"sum by (namespace, pod) (rate({CPU}{{{_all_containers(s, namespace)}}}[{s.window}s]) * 1000)"


class WorkloadMatcher:
    """Pod name -> the workload it belongs to, among the workloads known (one regex per namespace)."""

    def __init__(self, workloads: list[tuple[str, str, str]]) -> None:
        by_ns: dict[str, list[tuple[str, str]]] = {}
        for ns, kind, name in workloads:
            if kind in POD_NAMES:
                by_ns.setdefault(ns, []).append((kind, name))
        self._res: dict[str, tuple[re.Pattern[str], list[tuple[str, str]]]] = {}
        for ns, items in by_ns.items():
            # longest names first: "web-api-<hash>-<5>" is web-api's, not a Deployment "web"'s
            items.sort(key=lambda kn: -len(kn[1]))
            alts = "|".join(f"({workload_pods(k, n)})" for k, n in items)
            self._res[ns] = (re.compile(f"^(?:{alts})$"), items)

    def __call__(self, namespace: str, pod: str) -> tuple[str, str] | None:
        got = self._res.get(namespace)
        if got is None:
            return None
        m = got[0].match(pod)
        if m is None:
            return None
        return got[1][m.lastindex - 1] if m.lastindex else None
