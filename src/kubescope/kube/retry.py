"""Capped exponential backoff with jitter, as client-go's reflector uses between failed lists/watches.

The policy is a value (:class:`RetryPolicy`) passed to whoever retries; :class:`Backoff` is the
small state machine that turns it into delays. Defaults are client-go's
(``wait.NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0)``): the first retry waits
0.8-1.6 s, each further one doubles, capped at 30 s before jitter (so delays settle in [30, 60) s,
about 0.02 requests/s against an unhealthy API server), and the sequence starts over once no
backoff was needed for 2 minutes. A server's ``Retry-After`` is honoured as a floor.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts after a failure."""

    initial: float = 0.8
    """Seconds before the first retry (before jitter)."""
    maximum: float = 30.0
    """Cap on the un-jittered delay, seconds."""
    factor: float = 2.0
    """Growth of the delay per consecutive failure."""
    jitter: float = 1.0
    """A delay ``d`` becomes ``d + random() * jitter * d`` so many clients don't retry in step."""
    reset_after: float = 120.0
    """Start again from ``initial`` when the previous backoff is older than this, seconds."""
    max_retry_after: float = 300.0
    """Upper bound on a server's ``Retry-After`` we agree to wait, seconds."""

    def __post_init__(self) -> None:
        if self.initial < 0 or self.maximum < self.initial or self.factor < 1 or self.jitter < 0:
            raise ValueError(
                f"invalid retry policy {self}: need 0 <= initial <= maximum, factor >= 1, jitter >= 0"
            )


class Backoff:
    """The delays of one retrying loop. Not thread-safe (one event loop)."""

    __slots__ = ("_clock", "_current", "_last", "_rng", "policy")

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._rng = rng
        self._clock = clock
        self._current = 0.0
        self._last: float | None = None

    def next_delay(self, retry_after: float | None = None) -> float:
        """The seconds to wait before the next attempt; call once per failure."""
        p = self.policy
        now = self._clock()
        if self._last is None or now - self._last > p.reset_after or self._current == 0.0:
            self._current = p.initial
        else:
            self._current = min(self._current * p.factor, p.maximum)
        self._last = now
        delay = self._current + self._rng() * p.jitter * self._current
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(retry_after, p.max_retry_after))
        return delay

    def reset(self) -> None:
        """Forget past failures: the next delay is ``initial`` again."""
        self._current = 0.0
        self._last = None
