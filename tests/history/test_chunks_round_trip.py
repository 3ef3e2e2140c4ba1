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


def test_summaries_decoded_together_are_each_decoded_in_turn() -> None:
    """codec.decode_joined (a block's days at once) equals decoding each blob and concatenating,
    whatever the widths, divisors and difference orders of each blob's columns."""
    rng = np.random.default_rng(5)
    blobs, parts = [], []
    for k, scale in enumerate([10, 10**3, 10**6, 10**12, 2**40, 1, 10**9]):
        n = [0, 1, 57, 300, 5, 2, 40][k]
        ts = 1_760_000_000 + k * 86400 + np.sort(rng.integers(0, 86400, n))
        sid = rng.integers(1, 300, n)
        r = rollup.from_samples(sid, ts, rng.integers(0, scale, n) * (4096 if k % 2 else 1), 3600)
        blobs.append(rollup.encode_many(r))
        parts.append(rollup.decode_many(blobs[-1], 3600))
    joined = rollup.decode_many_joined(blobs, 3600)
    skipped = rollup.decode_many_joined(blobs, 3600, skip=rollup.TOTALS_ONLY)
    for name in ("sid", "start", "count", "total", "low", "high", "sk_sid", "sk_start", "sk_idx", "sk_count"):
        want = np.concatenate([getattr(p, name) for p in parts]).tolist()
        assert getattr(joined, name).tolist() == want, name
        assert getattr(skipped, name).tolist() == ([] if name in rollup.TOTALS_ONLY else want), name
    assert len(rollup.decode_many_joined([], 3600)) == 0
    # raw chunks: divisors, second differences
    raw = [
        codec.encode_raw(np.arange(n) * 60 + 7, (100 << 20) + 4096 * np.arange(n) ** 2) for n in (1, 30, 9)
    ]
    raw += [codec.encode_raw(np.arange(5) * 15, np.array([3, 1, 4, 1, 5]))]
    (ts, vals), each = codec.decode_joined(raw, (2,))[0], [codec.decode_raw(b) for b in raw]
    assert ts.tolist() == np.concatenate([e[0] for e in each]).tolist()
    assert vals.tolist() == np.concatenate([e[1] for e in each]).tolist()
    for bad in (
        [blobs[2][:-3] + b"xyz"],
        [blobs[2], b""],
        [blobs[3], b"\x09" + blobs[3][1:]],
        [blobs[2][:9]],
    ):
        with pytest.raises(DecodeError):
            rollup.decode_many_joined(bad, 3600)


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
