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
