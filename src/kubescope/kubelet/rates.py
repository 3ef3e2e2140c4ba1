"""CPU rates from two cumulative kubelet points, metrics-server's ``resourceUsage`` rule for rule.

A rate is an error (no value) when the start time went backwards or the cumulative CPU decreased
(a restarted container or a reset counter); otherwise ``uint64(float64(Δcpu) / window.Seconds())``
nano-cores over the real window between the two kubelet timestamps, and memory is the last working
set. Shared by resource-metrics' storage and history's kubelet recording.
"""

from __future__ import annotations

import math

import msgspec

from kubescope.kubelet.parser import MetricsPoint

_NS_PER_S = 1_000_000_000


class Usage(msgspec.Struct, frozen=True, gc=False):
    """A CPU rate and a working set over a window ending at ``ts``."""

    ts: int
    """End of the window (the last point's timestamp), Unix ns."""
    window: int
    """Length of the window, ns (the real distance between the two kubelet samples)."""
    cpu: int
    """Nano-cores."""
    mem: int
    """Bytes."""


class RateError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def resource_usage(last: MetricsPoint, prev: MetricsPoint) -> Usage:
    """metrics-server's ``resourceUsage``; raises :class:`RateError` where it returns an error."""
    if last.start < prev.start:
        raise RateError("start_time_decreased", "unexpected decrease in startTime of node/container")
    if last.cpu < prev.cpu:
        raise RateError("cpu_decreased", "unexpected decrease in cumulative CPU usage value")
    window = last.ts - prev.ts
    # time.Duration.Seconds(): whole seconds plus the remainder, each converted on its own
    sec, nsec = divmod(window, _NS_PER_S)
    seconds = float(sec) + float(nsec) / 1e9
    rate = float(last.cpu - prev.cpu) / seconds
    return Usage(last.ts, window, _uint64(rate), last.mem)


def _uint64(v: float) -> int:
    # window > 0 always (prev is strictly older); guard anyway against a non-finite rate
    if math.isnan(v) or v < 0:
        return 0
    if v >= 18446744073709551616.0:
        return (1 << 64) - 1
    return int(v)


CAPACITY_SLACK = 2.0
"""A rate above this many times its node's CPU capacity is refused: a counter that dropped and jumped
back without a restart gave 209.8 cores on a 4-CPU node (52x). Up to twice the capacity is served as
measured: sampling jitter and counters read apart from their timestamps give a little above 1x, and
the simulator, which overcommits nodes, reports up to 1.5x (5.9 cores on 4-CPU nodes, 5,000 nodes)."""


def above_capacity(cpu: int, capacity: int) -> RateError:
    return RateError(
        "cpu_above_capacity",
        f"CPU rate {cpu / 1e9:.3f} cores above the node's capacity of {capacity / 1e9:g} cores",
    )


def check_capacity(cpu: int, capacity: int) -> None:
    if capacity and cpu > capacity * CAPACITY_SLACK:
        raise above_capacity(cpu, capacity)
