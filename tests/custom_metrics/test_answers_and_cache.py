"""Answer bodies and quantities as prometheus-adapter writes them; the no-data rules; the answer cache
(TTL, coalescing, bounded stale answers, bounded size)."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest

from kubescope.custom_metrics.answers import (
    AnswerError,
    Sample,
    custom_items,
    encode_custom,
    encode_external,
    external_items,
    milli_quantity,
)
from kubescope.custom_metrics.cache import AnswerCache, BackendFailure
from kubescope.custom_metrics.mapper import ResourceInfo
from kubescope.custom_metrics.promclient import PrometheusError, decode_query

POD = ResourceInfo("", "v1", "pods", "pod", "Pod", True)
DATA = Path(__file__).parent.parent / "data" / "prometheus-adapter"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.016, "16m"), (0.022, "22m"), (0.1, "100m"), (1.0, "1"), (2.0, "2"), (1.5, "1500m"), (1500.0, "1500"),
        (1e6, "1M"), (10.5, "10500m"), (0.0004, "0"), (-0.25, "-250m"), (1.005, "1004m"), (123456.789, "123456789m"),
        (3e16, "30P"), (0.0, "0"),
    ],
)  # fmt: skip
def test_values_are_milli_quantities(value: float, text: str) -> None:
    assert milli_quantity(value) == text


def test_custom_list_matches_the_walkthrough_sample() -> None:
    sample = (DATA / "prometheus-adapter-walkthrough-metricvaluelist-v1beta1.verbatim.json.txt").read_text()
    assert '"value": "16m"' in sample and '"value": "22m"' in sample
    body = encode_custom("v1beta1", [("frontend-server-abcd-0123", 0.016), ("frontend-server-abcd-4567", 0.022)],
                         POD, "production", "http_requests_per_second", None, 1533663922.5)  # fmt: skip
    doc = json.loads(body)
    assert doc["kind"] == "MetricValueList" and doc["apiVersion"] == "custom.metrics.k8s.io/v1beta1"
    assert doc["metadata"] == {}
    assert [i["value"] for i in doc["items"]] == ["16m", "22m"]
    assert doc["items"][0] == {
        "describedObject": {
            "kind": "Pod",
            "namespace": "production",
            "name": "frontend-server-abcd-0123",
            "apiVersion": "/v1",
        },
        "metricName": "http_requests_per_second",
        "timestamp": "2018-08-07T17:45:22Z",
        "value": "16m",
        "selector": None,
    }
    v2 = json.loads(encode_custom("v1beta2", [("p", 1.0)], POD, "ns", "m", {"matchLabels": {"a": "b"}}, 0))
    assert v2["items"][0]["metric"] == {"name": "m", "selector": {"matchLabels": {"a": "b"}}}
    assert list(v2["items"][0]) == ["describedObject", "metric", "timestamp", "value"]


def test_objects_without_usable_values_are_left_out_unless_null_as_zero() -> None:
    values = {"a": 1.0, "b": math.nan, "c": math.inf}
    assert custom_items(values, ["a", "b", "c", "d"], null_as_zero=False) == [("a", 1.0)]
    assert custom_items(values, ["a", "b", "d"], null_as_zero=True) == [("a", 1.0), ("b", 0.0), ("d", 0.0)]


def _ext(samples: list[Sample], aggregation: str = "", null_as_zero: bool = False) -> list[Sample]:
    return external_items(samples, aggregation=aggregation, null_as_zero=null_as_zero, now=5.0, describe="m")


def test_external_semantics() -> None:
    one = Sample({"queue": "a"}, 3.0, 10.0)
    two = Sample({"queue": "b"}, 5.0, 11.0)
    assert _ext([one]) == [one]
    with pytest.raises(AnswerError) as e:
        _ext([])
    assert e.value.code == 404 and "no samples" in e.value.message
    with pytest.raises(AnswerError) as e:
        _ext([Sample({}, math.nan, 1.0)])
    assert e.value.code == 404 and "NaN" in e.value.message
    assert _ext([], null_as_zero=True) == [Sample({}, 0.0, 5.0)]
    with pytest.raises(AnswerError) as e:
        _ext([one, two])
    assert e.value.code == 500 and "2 series" in e.value.message
    assert _ext([one, two], "sum") == [Sample({}, 8.0, 11.0)]
    assert _ext([one, two], "avg")[0].value == 4.0
    assert _ext([one, two], "min")[0].value == 3.0
    assert _ext([one, two], "max")[0].value == 5.0
    assert _ext([one, two], "each") == [one, two]
    assert _ext([Sample({"q": "x", "s": "1"}, 1, 1), Sample({"q": "x", "s": "2"}, 2, 1)], "sum")[
        0
    ].labels == {"q": "x"}
    body = json.loads(encode_external("m", [one]))
    assert body == {
        "kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
        "items": [{"metricName": "m", "metricLabels": {"queue": "a"}, "timestamp": "1970-01-01T00:00:10Z", "value": "3"}],
    }  # fmt: skip


def test_query_results_decode_with_special_values() -> None:
    data = b'{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1.5,"NaN"]},{"metric":{},"value":[2,"+Inf"]}]}'
    kind, samples = decode_query(data)
    assert kind == "vector" and math.isnan(samples[0].value) and samples[1].value == math.inf
    assert decode_query(b'{"resultType":"scalar","result":[3,"7"]}') == ("scalar", [Sample({}, 7.0, 3.0)])
    assert decode_query(b'{"resultType":"matrix","result":[]}') == ("matrix", [])
    for bad in (
        b'{"resultType":"vector","result":[{"value":[1,"x"]}]}',
        b"[1]",
        b'{"resultType":"vector","result":[{}]}',
    ):
        with pytest.raises(PrometheusError):
            decode_query(bad)


# -- cache ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_cache_serves_hits_within_ttl_and_recomputes_after() -> None:
    clock = Clock()
    cache: AnswerCache[int] = AnswerCache(15, 30, clock=clock)
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return calls

    v, o = await cache.get("k", compute)
    assert (v, o.kind) == (1, "miss")
    clock.t += 14.9
    v, o = await cache.get("k", compute)
    assert (v, o.kind) == (1, "hit")
    clock.t += 0.2
    v, o = await cache.get("k", compute)
    assert (v, o.kind) == (2, "miss")


async def test_concurrent_identical_requests_share_one_computation() -> None:
    cache: AnswerCache[str] = AnswerCache(15, 30)
    started = 0
    gate = asyncio.Event()

    async def compute() -> str:
        nonlocal started
        started += 1
        await gate.wait()
        return "v"

    tasks = [asyncio.create_task(cache.get("k", compute)) for _ in range(50)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert started == 1
    assert {v for v, _ in results} == {"v"}
    assert sorted(o.kind for _, o in results).count("coalesced") == 49


async def test_backend_failures_get_stale_answers_up_to_the_bound() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(15, 30, clock=clock)
    fail = False

    async def compute() -> str:
        if fail:
            raise BackendFailure("prometheus down")
        return "good"

    await cache.get("k", compute)
    fail = True
    clock.t += 20
    v, o = await cache.get("k", compute)
    assert (v, o.kind, o.age) == ("good", "stale", 20)
    clock.t += 10.5
    with pytest.raises(BackendFailure):
        await cache.get("k", compute)
    # other errors are not covered by stale answers
    cache2: AnswerCache[str] = AnswerCache(15, 30, clock=clock)

    async def bug() -> str:
        raise ValueError("bug")

    with pytest.raises(ValueError):
        await cache2.get("k", bug)


async def test_a_waiter_cancelled_does_not_cancel_the_shared_computation() -> None:
    cache: AnswerCache[str] = AnswerCache(15, 30)
    gate = asyncio.Event()

    async def compute() -> str:
        await gate.wait()
        return "v"

    owner = asyncio.create_task(cache.get("k", compute))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cache.get("k", compute))
    await asyncio.sleep(0)
    waiter.cancel()
    gate.set()
    assert (await owner)[0] == "v"
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_cache_size_is_bounded() -> None:
    clock = Clock()
    cache: AnswerCache[int] = AnswerCache(15, 30, max_entries=100, clock=clock)
    for i in range(250):

        async def compute(i: int = i) -> int:
            return i

        await cache.get(i, compute)
        clock.t += 0.01
    assert len(cache) == 100
    clock.t += 31
    assert cache.sweep() == 100 and len(cache) == 0
