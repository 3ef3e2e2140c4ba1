"""LIST semantics of the store: consistent pages, continue tokens, resourceVersion matching."""

from __future__ import annotations

import msgspec
import pytest

from kubescope.apiserver.selectors import parse_field_selector, parse_label_selector
from kubescope.sim.errors import BadRequest, Expired, TooLargeResourceVersion
from kubescope.sim.pages import INCONSISTENT_CONTINUE, decode_continue
from kubescope.sim.store import ObjectStore
from tests.sim.conftest import configmap, pod


def names(page_items: list[bytes]) -> list[str]:
    return [msgspec.json.decode(r)["metadata"]["name"] for r in page_items]


def filled(n: int = 10) -> ObjectStore:
    s = ObjectStore()
    for i in range(n):
        s.create("configmaps", configmap(f"cm-{i:02d}", "a" if i % 2 else "b"))
    return s


def test_pages_all_reflect_the_first_pages_version() -> None:
    s = filled()
    first = s.list_page("configmaps", "", limit=4)
    assert names(first.items) == ["cm-01", "cm-03", "cm-05", "cm-07"]
    assert first.remaining == 6
    # changes after the first page are not seen by the rest of the list
    s.delete("configmaps", "a", "cm-09")
    s.create("configmaps", configmap("cm-99", "a"))
    s.modify("configmaps", "b", "cm-00", lambda o: o["data"].update(x="y"))
    second = s.list_page("configmaps", "", limit=4, token=first.continue_token)
    third = s.list_page("configmaps", "", limit=4, token=second.continue_token)
    assert names(second.items) == ["cm-09", "cm-00", "cm-02", "cm-04"]
    assert names(third.items) == ["cm-06", "cm-08"]
    assert second.rv == third.rv == first.rv
    assert third.continue_token == "" and third.remaining is None
    assert second.remaining == 2


def test_token_has_kube_apiservers_fields() -> None:
    s = filled()
    tok = decode_continue(s.list_page("configmaps", "", limit=3).continue_token)
    assert tok["v"] == "meta.k8s.io/v1"
    assert tok["rv"] == s.resource_version
    assert tok["start"] == "a/cm-05\x00"


def test_expired_continue_is_410_with_a_token_that_continues_at_the_latest_state() -> None:
    s = filled()
    first = s.list_page("configmaps", "", limit=3)
    s.snapshots.clear()  # what the 5-minute expiry (etcd compaction) does
    s.create("configmaps", configmap("cm-04a", "b"))
    with pytest.raises(Expired) as e:
        s.list_page("configmaps", "", limit=3, token=first.continue_token)
    assert e.value.code == 410
    assert e.value.message == INCONSISTENT_CONTINUE
    fresh = e.value.list_meta["continue"]
    assert decode_continue(fresh)["rv"] == -1
    rest = s.list_page("configmaps", "", limit=100, token=fresh)
    assert names(rest.items) == ["cm-07", "cm-09", "cm-00", "cm-02", "cm-04", "cm-04a", "cm-06", "cm-08"]
    assert rest.rv == s.resource_version


def test_selectors_filter_pages_and_hide_the_remaining_count() -> None:
    s = ObjectStore()
    for i in range(8):
        s.create("pods", pod(f"p{i}", labels={"app": "web" if i % 3 else "db"}, node=f"n{i % 2}"))
    labels = parse_label_selector("app=web")
    fields = parse_field_selector("spec.nodeName=n1")
    p1 = s.list_page("pods", "", labels=labels, fields=fields, limit=2)
    assert names(p1.items) == ["p1", "p5"]
    assert p1.remaining is None and p1.continue_token
    p2 = s.list_page("pods", "", labels=labels, fields=fields, limit=2, token=p1.continue_token)
    assert names(p2.items) == ["p7"] and not p2.continue_token


def test_last_full_page_without_more_matches_has_no_continue() -> None:
    s = ObjectStore()
    for i in range(4):
        s.create("pods", pod(f"p{i}", labels={"keep": "yes" if i < 2 else "no"}))
    page = s.list_page("pods", "", labels=parse_label_selector("keep=yes"), limit=2)
    assert names(page.items) == ["p0", "p1"] and page.continue_token == ""


def test_namespace_lists_only_that_namespace() -> None:
    s = filled()
    assert names(s.list_page("configmaps", "a").items) == ["cm-01", "cm-03", "cm-05", "cm-07", "cm-09"]


def test_exact_version_is_rebuilt_from_the_history() -> None:
    s = filled(4)
    then = s.resource_version
    s.delete("configmaps", "b", "cm-00")
    s.modify("configmaps", "a", "cm-01", lambda o: o["data"].update(k="v"))
    s.create("configmaps", configmap("cm-new", "a"))
    page = s.list_page("configmaps", "", resource_version=str(then), match="Exact")
    assert page.rv == then
    assert names(page.items) == ["cm-01", "cm-03", "cm-00", "cm-02"]
    cm01 = msgspec.json.decode(page.items[0])
    assert "k" not in cm01.get("data", {})


def test_exact_version_older_than_the_history_is_410() -> None:
    s = ObjectStore(history=2)
    for i in range(5):
        s.create("configmaps", configmap(f"c{i}"))
    with pytest.raises(Expired, match=r"^too old resource version: 2 \(4\)$"):
        s.list_page("configmaps", "", resource_version="2", match="Exact")


def test_too_large_version_is_a_504_timeout() -> None:
    s = filled(1)
    with pytest.raises(TooLargeResourceVersion) as e:
        s.list_page("configmaps", "", resource_version=str(s.resource_version + 5))
    assert e.value.code == 504 and e.value.reason == "Timeout"
    assert (
        e.value.message
        == f"Too large resource version: {s.resource_version + 5}, current: {s.resource_version}"
    )
    assert e.value.details["causes"][0]["reason"] == "ResourceVersionTooLarge"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"resource_version": "abc"}, 'resourceVersion: Invalid value: "abc"'),
        (
            {"token": "x", "resource_version": "5"},
            "specifying resource version is not allowed when using continue",
        ),
        ({"token": "!!!"}, "continue key is not valid"),
        ({"limit": -1}, "limit must be non-negative"),
    ],
)
def test_bad_list_options_are_400(kw: dict[str, object], message: str) -> None:
    s = filled(1)
    with pytest.raises(BadRequest, match=message.replace("(", r"\(")):
        s.list_page("configmaps", "", **kw)  # type: ignore[arg-type]
