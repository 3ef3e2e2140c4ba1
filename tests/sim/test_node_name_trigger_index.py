"""Pods by spec.nodeName: lists and watches selecting one node touch only that node's pods
(kube-apiserver's trigger index), with the same answers as a full scan."""

from __future__ import annotations

import msgspec
import pytest

from kubescope.apiserver.selectors import parse_field_selector, parse_label_selector
from kubescope.sim import pages
from kubescope.sim.store import ObjectStore
from kubescope.sim.watchcache import Watcher
from tests.sim.conftest import pod


def names(items: list[bytes]) -> list[str]:
    return [msgspec.json.decode(r)["metadata"]["name"] for r in items]


def test_lists_by_node_match_a_full_scan() -> None:
    s = ObjectStore()
    for i in range(40):
        s.create("pods", pod(f"p{i:02d}", f"ns{i % 3}", labels={"k": str(i % 2)}, node=f"n{i % 4}"))
    s.modify("pods", "ns0", "p00", lambda o: o["spec"].update(nodeName="n3"))
    s.delete("pods", "ns1", "p01")
    for sel in (
        "spec.nodeName=n1",
        "spec.nodeName=n3,status.phase=Running",
        "spec.nodeName!=n1",
        "spec.nodeName=",
    ):
        fields = parse_field_selector(sel)
        for ns in ("", "ns2"):
            got = names(s.list_page("pods", ns, fields=fields).items)
            want = sorted(
                (o["metadata"]["namespace"], o["metadata"]["name"])
                for o in s.iter_objects("pods")
                if fields.matches({"spec.nodeName": o["spec"].get("nodeName", ""), "status.phase": "Running"})
                and (not ns or o["metadata"]["namespace"] == ns)
            )
            assert got == [n for _, n in want], (sel, ns)
    labelled = s.list_page(
        "pods", "", fields=parse_field_selector("spec.nodeName=n3"), labels=parse_label_selector("k=1")
    )
    assert sorted(names(labelled.items)) == [f"p{i:02d}" for i in range(3, 40, 4)]
    paged = s.list_page("pods", "", fields=parse_field_selector("spec.nodeName=n2"), limit=3)
    rest = s.list_page(
        "pods", "", fields=parse_field_selector("spec.nodeName=n2"), limit=100, token=paged.continue_token
    )
    assert len(paged.items) + len(rest.items) == 10


def test_node_watchers_see_pods_arrive_and_leave() -> None:
    s = ObjectStore()
    w1 = Watcher("pods", "", None, parse_field_selector("spec.nodeName=n1"))
    w2 = Watcher("pods", "", None, parse_field_selector("spec.nodeName=n2"))
    everyone = Watcher("pods", "", None, None)
    for w in (w1, w2, everyone):
        s.add_watcher(w)
    s.create("pods", pod("p", node=""))
    s.modify("pods", "default", "p", lambda o: o["spec"].update(nodeName="n1"))
    s.modify("pods", "default", "p", lambda o: o["spec"].update(nodeName="n2"))
    s.delete("pods", "default", "p")
    assert [t for t, _, _ in w1.queue] == ["ADDED", "DELETED"]
    assert [t for t, _, _ in w2.queue] == ["ADDED", "DELETED"]
    assert [t for t, _, _ in everyone.queue] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
    assert s.watcher_count() == 3
    for w in (w1, w2, everyone):
        s.remove_watcher(w)
    assert s.watcher_count() == 0 and s.all_watchers() == []


def test_a_node_list_does_not_scan_every_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    s = ObjectStore()
    s.bulk_create(("pods", pod(f"p{i:05d}", f"ns{i % 50}", node=f"n{i % 500}")) for i in range(30_000))
    # the pods the list looks at: only that node's 60 (counted, not timed: a loaded machine is slow)
    looked_at: list[object] = []
    matches = pages.selected

    def counting(e: object, *args: object) -> bool:
        looked_at.append(e)
        return bool(matches(e, *args))  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "selected", counting)
    page = s.list_page("pods", "", fields=parse_field_selector("spec.nodeName=n7"))
    assert len(page.items) == 60
    assert len(looked_at) == 60
    looked_at.clear()
    assert len(s.list_page("pods", "", fields=parse_field_selector("spec.schedulerName=x")).items) == 0
    assert len(looked_at) == 30_000  # a field without an index scans them all: what was counted
