"""The text of a simulated kubelet's ``/metrics/resource``: a pure function of one sample.

The kubelet's resource collector (``pkg/kubelet/metrics/collectors``) as a v1.36 kubelet writes
it: families sorted by name, ``# HELP`` with the stability level, series sorted by label values,
float values in Go's shortest form, millisecond timestamps on every sample but
``container_start_time_seconds`` and ``resource_scrape_error``; the deprecated ``scrape_error`` is
hidden since 1.30 (deprecated in 1.29.0) and not written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubescope.model.gofmt import go_float

if TYPE_CHECKING:
    from kubescope.sim.kubelet.pods import NodeSample

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
"""What client_golang's promhttp answers a text-format scrape with (prometheus/common's FmtText
plus the name escaping scheme)."""

_HELP_TYPE = {
    "container_cpu_usage_seconds_total": (
        "STABLE",
        "Cumulative cpu time consumed by the container in core-seconds",
        "counter",
    ),
    "container_memory_working_set_bytes": ("STABLE", "Current working set of the container in bytes", "gauge"),
    "container_start_time_seconds": ("STABLE", "Start time of the container since unix epoch in seconds", "gauge"),
    "container_swap_limit_bytes": (
        "ALPHA",
        "Current amount of the container swap limit in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "container_swap_usage_bytes": (
        "ALPHA",
        "Current amount of the container swap usage in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "node_cpu_usage_seconds_total": ("STABLE", "Cumulative cpu time consumed by the node in core-seconds", "counter"),
    "node_memory_working_set_bytes": ("STABLE", "Current working set of the node in bytes", "gauge"),
    "node_swap_usage_bytes": (
        "ALPHA",
        "Current swap usage of the node in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "pod_cpu_usage_seconds_total": ("STABLE", "Cumulative cpu time consumed by the pod in core-seconds", "counter"),
    "pod_memory_working_set_bytes": ("STABLE", "Current working set of the pod in bytes", "gauge"),
    "pod_swap_usage_bytes": (
        "ALPHA",
        "Current amount of the pod swap usage in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    "resource_scrape_error": (
        "STABLE",
        "1 if there was an error while getting container metrics, 0 otherwise",
        "gauge",
    ),
}  # fmt: skip
FAMILIES = tuple(sorted(_HELP_TYPE))
HEADER = {name: f"# HELP {name} [{s}] {h}\n# TYPE {name} {t}\n" for name, (s, h, t) in _HELP_TYPE.items()}


def label_value(v: str) -> str:
    """The text format's escaping of a label value (names from the API never need it)."""
    if "\\" in v or '"' in v or "\n" in v:
        v = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return v


def float_text(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'g', -1, 64)``: ``repr`` gives the same shortest digits, and
    the same fixed layout between 1e-4 and 1e6 (Go switches to exponents outside that range)."""
    if 1e-4 <= v < 1e6:
        r = repr(v)
        return r[:-2] if r.endswith(".0") else r
    return go_float(v)


def bytes_text(v: int) -> str:
    """Go's shortest ``'g'`` of a byte count (exact up to 15 digits, which covers 999 TB)."""
    s = str(v)
    if v < 1_000_000 or len(s) > 15:
        return s if v < 1_000_000 else go_float(v)
    digits = s.rstrip("0")
    return f"{digits[0]}.{digits[1:]}e+{len(s) - 1:02d}" if len(digits) > 1 else f"{digits}e+{len(s) - 1:02d}"


def render(s: NodeSample) -> bytes:
    """The text of one sample, exactly as the kubelet's collector and promhttp write it."""
    out: list[str] = []
    add = out.append
    containers = s.containers
    if containers:
        add(HEADER["container_cpu_usage_seconds_total"])
        for c, cs in containers:
            add(f"container_cpu_usage_seconds_total{c.labels} {float_text(cs.cpu_ns / 1e9)} {cs.ts_ms}\n")
        add(HEADER["container_memory_working_set_bytes"])
        for c, cs in containers:
            add(f"container_memory_working_set_bytes{c.labels} {bytes_text(cs.memory)} {cs.ts_ms}\n")
        add(HEADER["container_start_time_seconds"])
        for c, _ in containers:
            add(f"container_start_time_seconds{c.labels} {c.start_text}\n")
        add(HEADER["container_swap_limit_bytes"])
        for c, cs in containers:
            add(f"container_swap_limit_bytes{c.labels} 0 {cs.ts_ms}\n")
        add(HEADER["container_swap_usage_bytes"])
        for c, cs in containers:
            add(f"container_swap_usage_bytes{c.labels} 0 {cs.ts_ms}\n")
    n = s.node
    add(HEADER["node_cpu_usage_seconds_total"])
    add(f"node_cpu_usage_seconds_total {float_text(n.cpu_ns / 1e9)} {n.ts_ms}\n")
    add(HEADER["node_memory_working_set_bytes"])
    add(f"node_memory_working_set_bytes {bytes_text(n.memory)} {n.ts_ms}\n")
    add(HEADER["node_swap_usage_bytes"])
    add(f"node_swap_usage_bytes 0 {n.ts_ms}\n")
    if s.pods:
        add(HEADER["pod_cpu_usage_seconds_total"])
        for p, ps in s.pods:
            add(f"pod_cpu_usage_seconds_total{p.labels} {float_text(ps.cpu_ns / 1e9)} {ps.ts_ms}\n")
        add(HEADER["pod_memory_working_set_bytes"])
        for p, ps in s.pods:
            add(f"pod_memory_working_set_bytes{p.labels} {bytes_text(ps.memory)} {ps.ts_ms}\n")
        add(HEADER["pod_swap_usage_bytes"])
        for p, ps in s.pods:
            add(f"pod_swap_usage_bytes{p.labels} 0 {ps.ts_ms}\n")
    add(HEADER["resource_scrape_error"])
    add("resource_scrape_error 0\n")
    return "".join(out).encode()
