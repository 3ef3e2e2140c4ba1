"""Freed heap pages go back to the OS after enough churn, rate-limited, and when work stops."""

from __future__ import annotations

import platform

import pytest

from kubescope import memory


def test_release_works_on_glibc() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    assert memory.release_free_memory() is True


def test_trims_after_threshold_then_waits_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: calls.append(1) or True)
    t = memory.Trimmer(threshold=100, min_interval=3600)
    t.note(60)
    assert calls == []
    t.note(60)  # 120 >= 100: first trim
    assert calls == [1] and t.churned == 0 and t.trims == 1
    t.note(500)  # over the threshold again, but within the interval
    assert calls == [1] and t.churned == 500
    t.idle()  # work stopped: trim what was churned, whatever the interval
    assert calls == [1, 1] and t.churned == 0
    t.idle()  # nothing new: nothing to do
    assert calls == [1, 1]
