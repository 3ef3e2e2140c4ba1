"""Chunks and rollups decode to exactly what was encoded; corrupt bytes are an error, not garbage."""

from __future__ import annotations

import numpy as np
import pytest

from kubescope.errors import DecodeError
from kubescope.history import codec, rollup, sketch


@pytest.mark.parametrize("n", [1, 2, 3, 60, 1000])
def test_raw_chunks_round_trip(n: int) -> None:
    rng = np.random.default_rng(n)
    ts = 1_760_000_000 + np.cumsum(rng.integers(1, 120, n))
    for values in (
        rng.integers(0, 10**6, n),
        rng.integers(0, 2**40, n) // 4096 * 4096,
        np.full(n, 7),
        np.array([(-1) ** k * 2**62 for k in range(n)]) // 2,
    ):
        blob = codec.encode_raw(ts, values)
        got_ts, got_v = codec.decode_raw(blob)
        assert got_ts.tolist() == ts.tolist()
        assert got_v.tolist() == values.tolist()


def test_regular_series_compress_to_a_few_bytes_per_sample() -> None:
    ts = 1_760_000_000 + 60 * np.arange(120)
    memory = (100 << 20) + 4096 * np.cumsum(np.random.default_rng(1).integers(-3, 4, 120))
    assert len(codec.encode_raw(ts, memory)) < 120


def test_corrupt_chunks_raise_decode_errors() -> None:
    blob = codec.encode_raw(np.arange(10) * 60, np.arange(10))
    for bad in (blob[:5], blob[:-3] + b"xyz", b"\x09" + blob[1:], b""):
        with pytest.raises(DecodeError):
            codec.decode_raw(bad)
    with pytest.raises(DecodeError):
        rollup.decode(b"\x05\x00\x00\x00abcde", 1, 300)


def test_rollups_merge_exactly_into_coarser_buckets() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    sid = rng.integers(1, 20, n)
    ts = 1_760_000_000 + rng.integers(0, 86400, n)
    v = rng.integers(0, 10**7, n)
    fine = rollup.from_samples(sid, ts, v, 300)
    # split in two parts, as two compaction windows would hold them, then merged
    half = fine.start < 1_760_040_000
    parts = [fine.take(half, fine.sk_start < 1_760_040_000), fine.take(~half, fine.sk_start >= 1_760_040_000)]
    for width in (3600, 86400):
        direct = rollup.from_samples(sid, ts, v, width)
        merged = rollup.merge(parts, width)
        for name in (
            "sid",
            "start",
            "count",
            "total",
            "low",
            "high",
            "sk_sid",
            "sk_start",
            "sk_idx",
            "sk_count",
        ):
            assert getattr(merged, name).tolist() == getattr(direct, name).tolist(), name


def test_rollup_chunks_round_trip() -> None:
    rng = np.random.default_rng(4)
    ts = 1_760_000_000 + np.sort(rng.integers(0, 3600, 200))
    v = rng.integers(0, 10**6, 200)
    r = rollup.from_samples(np.full(200, 9), ts, v, 300)
    d = rollup.decode(rollup.encode(r), 9, 300)
    many = rollup.decode_many(rollup.encode_many(r), 300)
    for got in (d, many):
        for name in (
            "sid",
            "start",
            "count",
            "total",
            "low",
            "high",
            "sk_sid",
            "sk_start",
            "sk_idx",
            "sk_count",
        ):
            assert getattr(got, name).tolist() == getattr(r, name).tolist(), name


def test_sketch_quantiles_are_within_alpha_of_exact_ranks() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(10, 1, 20000).astype(np.int64) + 1
    idx = sketch.index(values)
    u, counts = np.unique(idx, return_counts=True)
    for q in (0.5, 0.9, 0.95, 0.99):
        (got,) = sketch.quantiles_from_counts(u, counts, [q])
        exact = np.sort(values)[int(q * (values.size - 1))]
        assert got is not None
        assert abs(got - exact) <= sketch.ALPHA * exact + 1e-9
    groups = sketch.grouped_quantiles(np.zeros(u.size, np.int64), u, counts, 1, [0.5, 0.99])
    assert groups[0].tolist() == sketch.quantiles_from_counts(u, counts, [0.5, 0.99])
