"""A chart asks its sources once per line, never once per row: a workload of 300 pods is one history
question per line (the workload path), whatever its size; the cluster's usage one question."""

from __future__ import annotations

from typing import Any

from kubescope.console.chartdata import ChartData
from kubescope.console.sources import Event

from .fixtures import filled, node, pod, workload


class CountingHistory:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.spans: list[tuple[int, int, int | None]] = []

    async def points(
        self, target: str, metric: str, start: int, end: int, step: int | None
    ) -> dict[str, Any]:
        self.asked.append((target, metric))
        self.spans.append((start, end, step))
        return {"metricPoints": [], "intervals": []}


class CountingEvents:
    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []

    async def find(
        self, namespace: str, selector: dict[str, str], since: int, limit: int = 500
    ) -> tuple[list[Event], str]:
        self.asked.append(selector)
        return [], ""


def data(pods: int) -> tuple[ChartData, CountingHistory, CountingEvents]:
    members = [pod("shop", f"web-7d9f-{i}", owner=("ReplicaSet", "web-7d9f")) for i in range(pods)]
    cluster, usage = filled(members, {}, [node("n1")])
    for kind, w in (("ReplicaSet", workload("ReplicaSet", "shop", "web-7d9f", owner=("Deployment", "web"))),
                    ("Deployment", workload("Deployment", "shop", "web"))):  # fmt: skip
        table = cluster.workloads[kind]
        table.replace_begin()
        table.upsert(w)
        table.replace_end()
    history, events = CountingHistory(), CountingEvents()
    return ChartData(cluster, usage, history, events), history, events  # type: ignore[arg-type]


async def test_a_workloads_chart_is_one_question_per_line_whatever_its_pods() -> None:
    for n in (1, 300):
        charts, history, _ = data(n)
        got = await charts.usage_chart(
            "workloads", ("shop", "deployments", "web"), {"metric": "cpu", "range": "14d"}
        )
        assert got["source"] == "history"
        assert history.asked == [
            ("/namespaces/shop/deployments/web", "cpu/usage_rate"),
            ("/namespaces/shop/deployments/web", "cpu/request"),
            ("/namespaces/shop/deployments/web", "cpu/limit"),
        ], n


async def test_the_14_day_chart_stays_within_the_5_minute_rollups_history_keeps() -> None:
    """History keeps 5-minute rollups for 14 days and refuses a 5-minute bucket before that: the
    chart's first bucket is a step after ``now - 14d``, so a history clock a second (or a minute)
    later than the console's still answers; 252 buckets of 80 minutes make the 14 days."""
    charts, history, _ = data(3)
    got = await charts.usage_chart(
        "workloads", ("shop", "deployments", "web"), {"metric": "cpu", "range": "14d"}
    )
    ((start, end, step),) = set(history.spans)
    assert step == 4800 and step % 300 == 0 and step % 3600 != 0  # answered from 5-minute rollups
    assert end - start == 14 * 86400 - step and (end - start) // step + 1 == 252
    assert got["end"] - got["start"] == 14 * 86400  # the chart still spans the whole range


async def test_the_cluster_chart_is_one_question() -> None:
    charts, history, _ = data(300)
    await charts.usage_chart("cluster", (), {"metric": "memory", "range": "7d"})
    assert history.asked == [("", "memory/usage")]
