"""A generated cluster starts with the Events its components wrote within the last hour about the
pods that exist (kube-apiserver's ``--event-ttl``): kube's reasons and messages, the scheduler's
through the events.k8s.io recorder, the kubelet's from the pod's node, each container's
``fieldPath``, repeats counted on one Event."""

from __future__ import annotations

import collections
import re
from typing import Any

from kubescope.model.timefmt import parse_time
from kubescope.sim.scenario import ScenarioConfig, generate

Obj = dict[str, Any]
START = 1_800_000_000.0


def cluster() -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = collections.defaultdict(list)
    for res, obj in generate(ScenarioConfig(seed=4, nodes=20, pods_per_node=30, start=START)):
        out[res].append(obj)
    return out


def last_write(e: Obj) -> float:
    t = (e.get("series") or {}).get("lastObservedTime") or e.get("lastTimestamp") or e.get("eventTime")
    return parse_time(str(t))


def test_events_are_about_pods_that_exist_and_say_what_kube_says() -> None:
    c = cluster()
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in c["pods"]}
    events = c["events"]
    assert len(events) > 30
    reasons = collections.Counter(e["reason"] for e in events)
    assert {"Scheduled", "Pulled", "Created", "Started", "BackOff", "FailedScheduling"} <= set(reasons)
    names = set()
    for e in events:
        about = e["involvedObject"]
        pod = pods[(about["namespace"], about["name"])]
        assert about["uid"] == pod["metadata"]["uid"] and e["metadata"]["namespace"] == about["namespace"]
        assert e["metadata"]["name"].startswith(about["name"] + ".")
        names.add((e["metadata"]["namespace"], e["metadata"]["name"]))
        assert START - 3600 <= last_write(e) <= START  # still within the TTL
        if e["reason"] in ("Scheduled", "FailedScheduling"):
            assert e["reportingComponent"] == "default-scheduler" and e["source"] == {}
            assert e["eventTime"] and e["firstTimestamp"] is None
            assert e["action"] == ("Binding" if e["reason"] == "Scheduled" else "Scheduling")
            if e["reason"] == "Scheduled":
                assert (
                    e["message"]
                    == f"Successfully assigned {about['namespace']}/{about['name']} to {pod['spec']['nodeName']}"
                )
            else:
                assert not pod["spec"].get("nodeName") and e["series"]["count"] >= 1
            continue
        assert e["source"] == {"component": "kubelet", "host": pod["spec"]["nodeName"]}
        assert e["count"] >= 1 and e["firstTimestamp"] <= e["lastTimestamp"]
        m = re.fullmatch(r"spec\.(initContainers|containers)\{(.+)\}", about["fieldPath"])
        assert m, about
        container = next(x for x in pod["spec"][m.group(1)] if x["name"] == m.group(2))
        expected = {
            "Pulled": (f'Container image "{container["image"]}" already present on machine',
                       f'Successfully pulled image "{container["image"]}" in '),
            "Pulling": (f'Pulling image "{container["image"]}"',),
            "Created": (f"Created container: {container['name']}",),
            "Started": (f"Started container {container['name']}",),
            "Unhealthy": ("Readiness probe failed: HTTP probe failed with statuscode: 503",),
            "Failed": ("Error: ImagePullBackOff",),
        }.get(e["reason"])  # fmt: skip
        if e["reason"] == "BackOff":
            expected = (
                f"Back-off restarting failed container {container['name']} in pod "
                f"{about['name']}_{about['namespace']}({about['uid']})",
                f'Back-off pulling image "{container["image"]}"',
            )
        assert expected is not None and e["message"].startswith(expected), e
    assert len(names) == len(events)  # one name each
    # every pod scheduled within the hour was told so, once
    recent = {
        (p["metadata"]["namespace"], p["metadata"]["name"])
        for p in c["pods"]
        if p["spec"].get("nodeName") and parse_time(p["metadata"]["creationTimestamp"]) >= START - 3600
    }
    told = [
        (e["involvedObject"]["namespace"], e["involvedObject"]["name"])
        for e in events
        if e["reason"] == "Scheduled"
    ]
    assert recent and sorted(told) == sorted(recent)


def test_a_crash_loop_is_counted_on_one_event_per_reason() -> None:
    c = cluster()
    looping = [
        p for p in c["pods"]
        if any((s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
               for s in p["status"].get("containerStatuses") or ())
    ]  # fmt: skip
    assert looping
    for p in looping:
        mine = [e for e in c["events"] if e["involvedObject"]["name"] == p["metadata"]["name"]]
        by_reason = collections.Counter(e["reason"] for e in mine if e["reason"] in ("BackOff", "Started"))
        assert by_reason == {"BackOff": 1, "Started": 1}
        back_off = next(e for e in mine if e["reason"] == "BackOff")
        assert back_off["type"] == "Warning" and back_off["count"] > 1
