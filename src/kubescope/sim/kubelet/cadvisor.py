"""The simulated kubelets' ``/metrics/cadvisor``: the cAdvisor series Prometheus scrapes from a
kubelet (``job="kubelet", metrics_path="/metrics/cadvisor"`` in kube-prometheus), from the same
samples as ``/metrics/resource``.

What a kubelet's cAdvisor collector writes for the two families every consumer reads (VPA's
Prometheus history provider, kube-prometheus' recording rules, KRR, Headlamp, OpenCost):
``container_cpu_usage_seconds_total`` (with ``cpu="total"``) and
``container_memory_working_set_bytes``, one series per cgroup with the labels the kubelet gives
(``containerPrometheusLabelsFunc``: ``container``, ``id``, ``image``, ``name``, ``namespace``,
``pod``; written in name order):

* the root cgroup ``id="/"``: the node (every label but ``id`` empty);
* each pod's cgroup ``id="/kubepods[/burstable|/besteffort]/pod<uid>"``: ``pod`` and
  ``namespace`` set, ``container``, ``image`` and ``name`` empty;
* each container ``id="<pod cgroup>/<container id>"``: all six, ``name`` the container id,
  ``image`` from the pod spec (``image!=""`` is how queries pick containers).

Values have the kubelet's millisecond timestamps; families are sorted by name, series by labels,
as client_golang writes them. Other cAdvisor families (file systems, network, throttling) are not
simulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubescope.model.gofmt import go_float

if TYPE_CHECKING:
    from kubescope.sim.kubelet.pods import NodeSample

_HEADER = {
    "container_cpu_usage_seconds_total": (
        "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n"
        "# TYPE container_cpu_usage_seconds_total counter\n"
    ),
    "container_memory_working_set_bytes": (
        "# HELP container_memory_working_set_bytes Current working set in bytes.\n"
        "# TYPE container_memory_working_set_bytes gauge\n"
    ),
}


def _esc(v: str) -> str:
    if "\\" in v or '"' in v or "\n" in v:
        v = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return v


def render(s: NodeSample) -> bytes:
    """One node's ``/metrics/cadvisor`` text at a sample."""
    rows: list[tuple[tuple[str, str, str, str, str, str], int, int, int]] = []
    n = s.node
    rows.append((("", "/", "", "", "", ""), n.cpu_ns, n.memory, n.ts_ms))
    for pod, ps in s.pods:
        rows.append((("", pod.cgroup, "", "", pod.namespace, pod.name), ps.cpu_ns, ps.memory, ps.ts_ms))
    for c, cs in s.containers:
        pod = c.pod
        rows.append(
            (
                (c.name, f"{pod.cgroup}/{c.cid}", c.image, c.cid, pod.namespace, pod.name),
                cs.cpu_ns,
                cs.memory,
                cs.ts_ms,
            )
        )
    rows.sort(key=lambda r: r[0])
    out = [_HEADER["container_cpu_usage_seconds_total"]]
    for (container, cid, image, name, ns, pod_name), cpu, _, ts in rows:
        out.append(
            f'container_cpu_usage_seconds_total{{container="{_esc(container)}",cpu="total",id="{_esc(cid)}",'
            f'image="{_esc(image)}",name="{_esc(name)}",namespace="{_esc(ns)}",pod="{_esc(pod_name)}"}} '
            f"{go_float(cpu / 1e9)} {ts}\n"
        )
    out.append(_HEADER["container_memory_working_set_bytes"])
    for (container, cid, image, name, ns, pod_name), _, mem, ts in rows:
        out.append(
            f'container_memory_working_set_bytes{{container="{_esc(container)}",id="{_esc(cid)}",'
            f'image="{_esc(image)}",name="{_esc(name)}",namespace="{_esc(ns)}",pod="{_esc(pod_name)}"}} '
            f"{go_float(float(mem))} {ts}\n"
        )
    return "".join(out).encode()
