"""Answers of the history API, checked against the simulator's own samples (computed here with
numpy, not through the store): points, exact and sketch percentiles, sums over workloads, gaps,
recommendations and idle workloads, and every bad request a clear 400."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kubescope.history.api import HistoryAPI
from kubescope.history.query import Engine
from kubescope.history.request import BadRequest
from kubescope.history.store import DAY
from kubescope.model.timefmt import parse_time
from tests.history.fleetstore import RES, Truth, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[HistoryAPI, Truth, int]:
    path = tmp_path_factory.mktemp("h") / "h.db"
    now_guess = 1_760_000_000 - 1_760_000_000 % DAY + 13 * 3600 + 17
    store, truth, now = build(path, gap=(now_guess - 5 * 3600, now_guess - 4 * 3600 - 1800))
    engine = Engine(store, resolution=RES, clock=lambda: now)
    return HistoryAPI(engine), truth, now


def ask(api: HistoryAPI, path: str, **query: str) -> dict:  # type: ignore[type-arg]
    code, body, _ = api.answer(path, query)
    assert code == 200
    return json.loads(body)  # type: ignore[no-any-return]


def _a_pod(truth: Truth, kind: str = "Deployment", alive_at: int = 0) -> tuple[str, str, str, str]:
    for p in truth.fleet.pods:
        if (
            p.owner_kind == kind
            and p.start <= alive_at - 6 * 3600
            and p.end > alive_at
            and truth.fleet.idle.sum() >= 0
        ):
            return p.namespace, p.name, p.uid, p.owner_name
    raise AssertionError("no pod")


def test_pod_points_are_the_means_of_its_samples(world: tuple[HistoryAPI, Truth, int]) -> None:
    api, truth, now = world
    ns, name, uid, _ = _a_pod(truth, alive_at=now)
    got = ask(
        api,
        f"namespaces/{ns}/pods/{name}/metrics/cpu/usage_rate",
        start=str(now - 3 * 3600),
        end=str(now),
        step="5m",
    )
    ts, cpu = truth.pod_cpu(uid)
    m = (ts >= now - 3 * 3600) & (ts <= now)
    ts, cpu = ts[m], cpu[m]
    expected = {}
    for b in np.unique(ts - ts % 300).tolist():
        expected[b] = round(cpu[(ts - ts % 300) == b].mean()) / 1000
    points = {int(parse_time(p["timestamp"])): p["value"] for p in got["metricPoints"]}
    assert points.keys() == expected.keys()
    for t, v in expected.items():
        assert points[t] == pytest.approx(v, abs=0.0011)
    assert got["unit"] == "millicores" and got["series"][0]["uid"] == uid
    # by UID: the same answer
    by_uid = ask(
        api, f"pod-id/{uid}/metrics/cpu/usage_rate", start=str(now - 3 * 3600), end=str(now), step="5m"
    )
    assert by_uid["metricPoints"] == got["metricPoints"]


def test_percentiles_are_exact_over_raw_samples_and_within_1pct_over_rollups(
    world: tuple[HistoryAPI, Truth, int],
) -> None:
    api, truth, now = world
    ns, name, uid, _ = _a_pod(truth, "DaemonSet", alive_at=now)
    t, cpu, _mem = truth.container(uid, "c0")
    start = now - now % DAY - 2 * DAY  # two closed days (rollups) and the open day (raw)
    got = ask(
        api,
        f"namespaces/{ns}/pods/{name}/containers/c0/metrics-aggregated/p95,max,count,median/cpu/usage_rate",
        start=str(start),
        end=str(now),
        bucket="6h",
    )
    for b in got["buckets"]:
        b0 = int(parse_time(b["timestamp"]))
        m = (t >= b0) & (t < b0 + 6 * 3600)
        assert b["count"] == int(m.sum())
        assert b["maximum"] == pytest.approx(cpu[m].max() / 1000, abs=0.001)
        p95 = np.quantile(cpu[m], 0.95) / 1000
        if b0 >= now - now % DAY:
            assert b["percentiles"]["95"] == pytest.approx(p95, abs=0.001)  # raw: exact
        else:
            assert b["percentiles"]["95"] == pytest.approx(p95, rel=0.025)  # sketch: 1 % plus rank
    assert {s["resolution"] for s in got["sources"]} == {"1h", "raw"}


def test_gaps_are_gaps(world: tuple[HistoryAPI, Truth, int]) -> None:
    api, truth, now = world
    gap = (now - 5 * 3600, now - 4 * 3600 - 1800)
    ns, name, _, _ = _a_pod(truth, "DaemonSet", alive_at=now)
    got = ask(
        api, f"namespaces/{ns}/pods/{name}/metrics/memory/usage", start=str(now - 8 * 3600), end=str(now)
    )
    stamps = [int(parse_time(p["timestamp"])) for p in got["metricPoints"]]
    assert not [s for s in stamps if gap[0] <= s < gap[1]]
    ivs = [(int(parse_time(i["start"])), int(parse_time(i["end"]))) for i in got["intervals"]]
    assert len(ivs) == 2 and ivs[0][1] < gap[0] and ivs[1][0] >= gap[1]
    agg = ask(
        api,
        f"namespaces/{ns}/pods/{name}/metrics-aggregated/avg/memory/usage",
        start=str(now - 8 * 3600 - now % 1800),
        end=str(now),
        bucket="30m",
    )
    starts = [int(parse_time(b["timestamp"])) for b in agg["buckets"]]
    assert gap[0] - gap[0] % 1800 not in starts or gap[0] % 1800


def test_a_workload_is_the_sum_of_its_pods_across_rollouts(world: tuple[HistoryAPI, Truth, int]) -> None:
    api, truth, now = world
    ns, _, _, owner = _a_pod(truth, "Deployment", alive_at=now)
    start, end = now - 2 * DAY - (now - 2 * DAY) % 3600, now
    got = ask(
        api,
        f"namespaces/{ns}/deployments/{owner}/metrics-aggregated/max,avg/cpu/usage_rate",
        start=str(start),
        end=str(end),
        bucket="1h",
    )
    uids = {
        p.uid for p in truth.fleet.pods if p.owner_name == owner and p.end > start + RES and p.start <= end
    }
    assert len({s["uid"] for s in got["series"]}) == len(uids) > 2  # rollouts: more pods than replicas
    conts = [k for k, p in enumerate(truth.fleet.pod_of.tolist()) if truth.fleet.pods[p].owner_name == owner]
    m = np.isin(truth.idx, conts) & (truth.t >= start) & (truth.t <= end)
    per_minute: dict[int, int] = {}
    for t, v in zip(truth.t[m].tolist(), truth.cpu[m].tolist(), strict=True):
        per_minute[t] = per_minute.get(t, 0) + v
    today = now - now % DAY
    for b in got["buckets"]:
        b0 = int(parse_time(b["timestamp"]))
        if b0 < today:
            continue  # closed days: sums of hourly means (checked for the average below)
        vals = np.array([v for t, v in per_minute.items() if b0 <= t < b0 + 3600])
        assert b["maximum"] == pytest.approx(vals.max() / 1000, abs=0.002)
        assert b["average"] == pytest.approx(vals.mean() / 1000, abs=0.002)
    closed = [b for b in got["buckets"] if int(parse_time(b["timestamp"])) < today]
    assert closed
    for b in closed:
        b0 = int(parse_time(b["timestamp"]))
        vals = np.array([v for t, v in per_minute.items() if b0 <= t < b0 + 3600])
        # a minute at a rollout's hand-over has no sample: 59 of 60 (the rollup cannot tell)
        assert b["average"] == pytest.approx(vals.mean() / 1000, rel=0.02)


def test_pod_list_answers_each_pod_in_one_request(world: tuple[HistoryAPI, Truth, int]) -> None:
    api, truth, now = world
    alive = [p for p in truth.fleet.pods if p.namespace == truth.fleet.pods[0].namespace and p.end > now]
    names = [*[p.name for p in alive][:3], "no-such-pod"]
    got = ask(
        api,
        f"namespaces/{alive[0].namespace}/pod-list/{','.join(names)}/metrics/cpu/usage_rate",
        start=str(now - 3600),
        end=str(now),
        step="1m",
    )
    assert [i["name"] for i in got["items"]] == names
    assert all(i["metricPoints"] for i in got["items"][:-1]) and got["items"][-1]["metricPoints"] == []
    one = ask(
        api,
        f"namespaces/{alive[0].namespace}/pods/{names[1]}/metrics/cpu/usage_rate",
        start=str(now - 3600),
        end=str(now),
        step="1m",
    )
    assert got["items"][1]["metricPoints"] == one["metricPoints"]


def test_recommendations_follow_the_percentiles_of_the_samples(world: tuple[HistoryAPI, Truth, int]) -> None:
    api, truth, _now = world
    got = ask(api, "recommendations", window="2d")
    item = next(i for i in got["items"] if i["kind"] == "Deployment")
    owner = item["name"]
    conts = [k for k, p in enumerate(truth.fleet.pod_of.tolist())
             if truth.fleet.pods[p].owner_name == owner and truth.fleet.names[k] == "c0"]  # fmt: skip
    start = int(parse_time(item["window"]["start"]))
    m = np.isin(truth.idx, conts) & (truth.t >= start)
    rec = item["status"]["recommendation"]["containerRecommendations"][0]
    p90 = np.quantile(truth.cpu[m], 0.9) * 1.15 / 1000
    got_cpu = int(rec["target"]["cpu"].rstrip("m"))
    assert got_cpu == pytest.approx(p90, rel=0.03, abs=1)
    peak = truth.mem[m | (np.isin(truth.idx, conts) & (truth.t >= start))].max() * 1.15
    mem = rec["target"]["memory"]
    assert mem.endswith("Ki")
    assert int(mem[:-2]) * 1024 == pytest.approx(peak, rel=0.001)
    assert item["containers"][0]["samples"]["cpu"] == int(m.sum())


def test_idle_workloads_are_found(world: tuple[HistoryAPI, Truth, int]) -> None:
    api, truth, now = world
    got = ask(api, "idle", duration="2d", cpuThreshold="5")
    start = now - 2 * DAY
    expected = set()
    for owner in {p.owner_name for p in truth.fleet.pods}:
        pods = [p for p in truth.fleet.pods if p.owner_name == owner]
        if min(p.start for p in pods) > start:
            continue
        peak = max(
            (
                cpu[ts >= start].max()
                for ts, cpu in (truth.pod_cpu(p.uid) for p in pods)
                if (ts >= start).any()
            ),
            default=0,
        )
        if peak < 5000:  # micro-cores
            expected.add(owner)
    assert expected  # the fleet has idle workloads
    assert {i["name"] for i in got["items"]} == expected


@pytest.mark.parametrize(
    ("path", "query", "says"),
    [
        ("namespaces/a/pods/b/metrics/cpu/nope", {}, "unknown metric"),
        ("namespaces/a/pods/b/metrics/cpu/usage_rate", {"start": "200", "end": "100"}, "reversed"),
        (
            "namespaces/a/pods/b/metrics/cpu/usage_rate",
            {"start": "0", "end": "1760000000", "step": "1s"},
            "more than",
        ),
        ("namespaces/a/pods/b/metrics-aggregated/p95/cpu/usage_rate", {"bucket": "five"}, "not a duration"),
        ("namespaces/a/pods/b/metrics-aggregated/p42/cpu/usage_rate", {}, "unknown aggregation"),
        ("namespaces/a/pods/b/metrics/cpu/usage_rate", {"start": "yesterday"}, "not a time"),
        ("nodes/n/metrics/cpu/request", {}, "not kept"),
        ("namespaces/a/pods/b/metrics/cpu/usage_rate", {"start": "now-10d"}, "raw samples are kept"),
        (
            "namespaces/a/pods/b/metrics-aggregated/max/cpu/usage_rate",
            {"start": "now-30d", "bucket": "5m"},
            "5-minute",
        ),
        ("namespaces/a/pods/b/frobnicate", {}, "unknown path segment"),
        ("recommendations", {"cpuPercentile": "200"}, "out of range"),
    ],
)
def test_bad_requests_are_400_with_the_fix(
    world: tuple[HistoryAPI, Truth, int], path: str, query: dict[str, str], says: str
) -> None:
    api, _, _ = world
    with pytest.raises(BadRequest, match=says):
        api.answer(path, query)
