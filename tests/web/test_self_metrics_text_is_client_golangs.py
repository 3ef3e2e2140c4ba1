"""Self metrics render as client_golang renders them (Go float form, label pairs sorted by name with
``le`` last, no ``_created``), from prometheus_client collectors and metric objects alike."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter
from prometheus_client import Histogram as PromHistogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kubescope import web


class Collector:
    def collect(self) -> Iterable[Metric]:
        g = GaugeMetricFamily("shard_ordinal", "Current shard.", labels=["shard_ordinal"])
        g.add_metric(["2"], 2)
        c = CounterMetricFamily("list", "Lists.\nPer resource.", labels=["result", "resource"])
        c.add_metric(["success", '*v1."Pod"'], 12)
        yield from (g, c)
        yield GaugeMetricFamily("big", "A large value.", value=1_234_567)


def test_text_matches_client_golang() -> None:
    m = web.SelfMetrics()
    m.register(Collector())
    Counter("requests", "Requests.", ["code"], registry=m.registry).labels("200").inc()
    h = PromHistogram("latency_seconds", "Latency.", ["handler"], buckets=(0.1, 1.0), registry=m.registry)
    h.labels("metrics").observe(0.5)
    fast = web.Histogram((0.1, 1.0))
    fast.observe(2.0)
    text = m.render().decode()
    assert (
        '# HELP shard_ordinal Current shard.\n# TYPE shard_ordinal gauge\nshard_ordinal{shard_ordinal="2"} 2\n'
        in text
    )
    assert (
        "# HELP list_total Lists.\\nPer resource.\n# TYPE list_total counter\n"
        'list_total{resource="*v1.\\"Pod\\"",result="success"} 12\n'
    ) in text
    assert "big 1.234567e+06\n" in text
    assert 'requests_total{code="200"} 1\n' in text
    assert 'latency_seconds_bucket{handler="metrics",le="0.1"} 0\n' in text
    assert 'latency_seconds_bucket{handler="metrics",le="1"} 1\n' in text
    assert 'latency_seconds_bucket{handler="metrics",le="+Inf"} 1\n' in text
    assert 'latency_seconds_sum{handler="metrics"} 0.5\nlatency_seconds_count{handler="metrics"} 1\n' in text
    assert "_created" not in text
    assert "process_resident_memory_bytes " in text
    fam = fast.family("fast_seconds", "Fast.")
    assert web.selfmetrics.render([fam]).decode() == (
        "# HELP fast_seconds Fast.\n# TYPE fast_seconds histogram\n"
        'fast_seconds_bucket{le="0.1"} 0\nfast_seconds_bucket{le="1"} 0\nfast_seconds_bucket{le="+Inf"} 1\n'
        "fast_seconds_sum 2\nfast_seconds_count 1\n"
    )
