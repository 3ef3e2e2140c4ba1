"""Backoff delays: client-go's 0.8 s doubling to a 30 s cap, jitter, reset, Retry-After floor."""

from __future__ import annotations

import pytest

from kubescope.kube.retry import Backoff, RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_doubles_up_to_the_cap_then_jitters_within_one_delay() -> None:
    clock = Clock()
    lo = Backoff(rng=lambda: 0.0, clock=clock)
    hi = Backoff(rng=lambda: 0.999, clock=clock)
    lows = [lo.next_delay() for _ in range(8)]
    highs = [hi.next_delay() for _ in range(8)]
    assert lows == pytest.approx([0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0])
    assert highs == pytest.approx([d * 1.999 for d in lows])


def test_resets_after_a_quiet_period() -> None:
    clock = Clock()
    b = Backoff(rng=lambda: 0.0, clock=clock)
    assert [b.next_delay() for _ in range(3)] == pytest.approx([0.8, 1.6, 3.2])
    clock.t += 121
    assert b.next_delay() == pytest.approx(0.8)
    b.next_delay()
    b.reset()
    assert b.next_delay() == pytest.approx(0.8)


def test_retry_after_is_a_floor_with_a_ceiling() -> None:
    b = Backoff(RetryPolicy(max_retry_after=60), rng=lambda: 0.0, clock=Clock())
    assert b.next_delay(retry_after=5) == 5
    assert b.next_delay(retry_after=0.1) == pytest.approx(1.6)
    assert b.next_delay(retry_after=3600) == 60


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError, match="invalid retry policy"):
        RetryPolicy(initial=5, maximum=1)
